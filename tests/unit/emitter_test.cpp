// emitter: merged messages to recording sinks; the count cut, delivery states that add up,
// backpressure retried, abandonment after a stop, episode lines after their label.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "src/engine/emitter.hpp"
#include "tests/test_support.hpp"
#include "tests/unit/engine_batches.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;
using engine_detail::deliver;
using engine_detail::delivery;
using engine_detail::drain_clock;
using engine_detail::emitter;
using engine_detail::emitter_setup;
using engine_detail::episode_entry;
using engine_detail::message_entry;
using engine_detail::order_key;
using engine_detail::pacer;
using engine_detail::window_batch;
using steady = std::chrono::steady_clock;

namespace {

/// A sink that keeps what it accepts. It answers queue_full `full_before_each` times before
/// accepting each message, or, once `full_after` messages are in, for good (setting `stop_on_full`
/// the first time, as a signal would).
class recording_connector final : public connector {
  public:
    send_result send(const record& r) noexcept override {
        ++sends;
        if (accepted.size() >= full_after) {
            if (stop_on_full) stop_on_full->store(true);
            return send_result::queue_full;
        }
        if (full_seen < full_before_each) {
            ++full_seen;
            return send_result::queue_full;
        }
        full_seen = 0;
        accepted.emplace_back(r.payload);
        keys.emplace_back(r.key);
        groups.emplace_back(r.group);
        std::string h;
        for (const record_header& header : r.headers)
            h += std::string(header.name) + "=" + std::string(header.value) + ";";
        headers.push_back(h);
        count_delivered(1, r.payload.size());
        return send_result::accepted;
    }
    void poll(std::chrono::milliseconds) noexcept override { ++polls; }
    std::uint64_t drain(deadline) noexcept override {
        ++drains;
        return 0;
    }
    health check() const override { return {}; }
    std::string_view name() const noexcept override { return "recording"; }

    int full_before_each = 0;
    std::size_t full_after = SIZE_MAX;
    std::atomic<bool>* stop_on_full = nullptr;

    std::vector<std::string> accepted, keys, groups, headers;
    int sends = 0, polls = 0, drains = 0;

  private:
    int full_seen = 0; ///< queue_full answers to the message being offered
};

/// One message of a test window: event time offset, device, and what kind of entry it is.
struct message_spec {
    sim_duration offset;
    std::uint64_t device;
    bool emitted = true;
    bool copy = false;
};

/// A sorted batch as a worker leaves it. Payloads read "p<offset>/<device>", label lines
/// "l<offset>/<device>"; headers seq "<offset>", label "L", no episode, faults "F" for copies.
window_batch batch_of(const std::vector<message_spec>& specs) {
    window_batch b;
    for (const message_spec& s : specs) {
        const std::string tag = std::to_string(s.offset) + "/" + std::to_string(s.device);
        message_entry e{};
        e.order = order_key(s.offset, s.device);
        e.emitted = s.emitted ? 1 : 0;
        e.copy = s.copy ? 1 : 0;
        e.payload_offset = static_cast<std::uint32_t>(b.payloads.size());
        b.payloads.append("p" + tag);
        e.payload_length = static_cast<std::uint32_t>(b.payloads.size() - e.payload_offset);
        e.label_offset = static_cast<std::uint32_t>(b.label_lines.size());
        b.label_lines.append("l" + tag);
        e.label_length = static_cast<std::uint32_t>(b.label_lines.size() - e.label_offset);
        e.header_offset = static_cast<std::uint32_t>(b.header_text.size());
        const std::string seq = std::to_string(s.offset);
        b.header_text.append(seq + "L" + (s.copy ? "F" : ""));
        e.seq_length = static_cast<std::uint16_t>(seq.size());
        e.label_text_length = 1;
        e.faults_length = s.copy ? 1 : 0;
        b.messages.push_back(e);
    }
    end_batch(b);
    return b;
}

/// An episode of `device` whose first label is due at `label_due`; its line reads "e<name>".
void add_episode(window_batch& b, sim_time label_due, std::uint64_t device,
                 const std::string& name) {
    episode_entry e{};
    e.first_ts = label_due;
    e.device = device;
    e.label_due = label_due;
    e.end = label_due + 1;
    e.offset = static_cast<std::uint32_t>(b.episode_lines.size());
    b.episode_lines.append("e" + name);
    e.length = static_cast<std::uint32_t>(b.episode_lines.size() - e.offset);
    b.episodes.push_back(e);
}

class Emitter : public ::testing::Test {
  protected:
    static constexpr sim_time start = test_start;

    const profile plan = profile_from(one_field_profile("signal = { kind = \"constant\" }", "", 8));
    const device_directory ids{plan};
    recording_connector data, labels, episodes;
    run_stats stats;
    std::atomic<bool> stop{false};
    drain_clock drain{stop, steady::time_point::max(), std::chrono::milliseconds(0), nullptr};
    pacer pace{start, 0, load_spec{}}; // as fast as possible: never waits

    emitter_setup setup(std::uint64_t count = UINT64_MAX) {
        emitter_setup s;
        s.plan = &plan;
        s.ids = &ids;
        s.sinks = {&data, &labels, &episodes};
        s.sim_start = start;
        s.limits.count = count;
        s.wall_start = steady::now();
        return s;
    }

    /// Sends one window made of these batches (window [start, start + 1000) unless told).
    static void emit(emitter& out, std::vector<window_batch>& batches, bool last = true,
                     sim_time from = start) {
        std::vector<window_batch*> pointers;
        for (window_batch& b : batches) pointers.push_back(&b);
        out.emit_window(pointers, from, from + 1000, last);
    }

    std::string id(std::uint64_t device) const { return std::string(ids.id(device)); }
};

} // namespace

TEST_F(Emitter, SendsMessagesAndLabelsInCanonicalOrder) {
    emitter out(setup(), stats, pace, drain);
    std::vector<window_batch> batches =
        batches_of(batch_of({{0, 0}, {5, 2}, {5, 4}}), batch_of({{3, 1}, {5, 3}, {9, 1}}));
    emit(out, batches);
    EXPECT_FALSE(out.finished());
    EXPECT_EQ(data.accepted,
              (std::vector<std::string>{"p0/0", "p3/1", "p5/2", "p5/3", "p5/4", "p9/1"}));
    EXPECT_EQ(labels.accepted,
              (std::vector<std::string>{"l0/0", "l3/1", "l5/2", "l5/3", "l5/4", "l9/1"}));
    EXPECT_EQ(data.keys[1], id(1));
    EXPECT_EQ(data.groups[1], "g");
    EXPECT_EQ(data.headers[0], ""); // no --label-headers
    EXPECT_EQ(stats.generated.load(), 6u);
    EXPECT_EQ(stats.sim_clock.load(), start + 9);

    const run_summary s = out.drain_and_summarise(false);
    EXPECT_EQ(s.generated, 6u);
    EXPECT_EQ(s.delivered, 6u);
    EXPECT_EQ(s.labels, 6u);
    EXPECT_EQ(s.failed, 0u);
    EXPECT_EQ(s.sim_start, start);
    EXPECT_EQ(s.sim_end, start + 9);
    EXPECT_EQ(s.exit_code(), 0);
    EXPECT_EQ(data.drains, 1);
    EXPECT_EQ(labels.drains, 1);
    EXPECT_EQ(episodes.drains, 1);
}

TEST_F(Emitter, CountCutsTheCanonicalPrefix) {
    emitter out(setup(2), stats, pace, drain);
    // In canonical order: 0/0, 1/1, 2/2 (silenced), 3/3, 4/0.
    std::vector<window_batch> batches =
        batches_of(batch_of({{0, 0}, {2, 2, false}, {4, 0}}), batch_of({{1, 1}, {3, 3}}));
    emit(out, batches, false);
    EXPECT_TRUE(out.finished());
    EXPECT_EQ(data.accepted, (std::vector<std::string>{"p0/0", "p1/1"}));
    // A silenced tick before the next message is still labelled: the cut falls at a message.
    EXPECT_EQ(labels.accepted, (std::vector<std::string>{"l0/0", "l1/1", "l2/2"}));
    const run_summary s = out.drain_and_summarise(false);
    EXPECT_EQ(s.generated, 2u);
    EXPECT_EQ(s.suppressed, 1u);
    EXPECT_EQ(s.labels, 3u);
    EXPECT_EQ(s.sim_end, start + 2);
}

TEST_F(Emitter, ACountReachedAtAWindowEndFinishesTheRun) {
    emitter out(setup(3), stats, pace, drain);
    std::vector<window_batch> batches = batches_of(batch_of({{0, 0}, {1, 1}, {2, 2}}));
    emit(out, batches, false);
    EXPECT_TRUE(out.finished());
    EXPECT_EQ(data.accepted.size(), 3u);
}

TEST_F(Emitter, DeliveryStatesAddUp) {
    emitter out(setup(), stats, pace, drain);
    // Silenced ticks are labelled but not sent; a duplicate's copy is sent but not labelled.
    std::vector<window_batch> batches =
        batches_of(batch_of({{0, 0}, {1, 2, false}, {4, 0, true, true}, {6, 4, false}}),
                   batch_of({{2, 1}, {4, 3}, {7, 3, true, true}}));
    emit(out, batches);
    EXPECT_EQ(data.accepted, (std::vector<std::string>{"p0/0", "p2/1", "p4/0", "p4/3", "p7/3"}));
    EXPECT_EQ(labels.accepted, (std::vector<std::string>{"l0/0", "l1/2", "l2/1", "l4/3", "l6/4"}));
    const run_summary s = out.drain_and_summarise(false);
    EXPECT_EQ(s.generated + s.suppressed, 7u); // every entry is one or the other
    EXPECT_EQ(s.suppressed, 2u);
    EXPECT_EQ(s.labels, 5u); // every entry but the copies
    EXPECT_EQ(s.delivered + s.failed + s.dropped, s.generated);
    EXPECT_EQ(s.exit_code(), 0);
}

TEST_F(Emitter, LabelHeadersGoWithEachMessage) {
    emitter_setup with_headers = setup();
    with_headers.label_headers = true;
    emitter out(with_headers, stats, pace, drain);
    std::vector<window_batch> batches = batches_of(batch_of({{3, 0}, {8, 0, true, true}}));
    emit(out, batches);
    ASSERT_EQ(data.headers.size(), 2u);
    EXPECT_EQ(data.headers[0], "seq=3;label=L;episode=;"); // no faults header without faults
    EXPECT_EQ(data.headers[1], "seq=8;label=L;episode=;faults=F;");
    EXPECT_EQ(labels.headers[0], ""); // truth lines carry none
}

TEST_F(Emitter, AFullQueueIsRetriedNotDropped) {
    data.full_before_each = 3;
    emitter out(setup(), stats, pace, drain);
    std::vector<window_batch> batches = batches_of(batch_of({{0, 0}, {2, 2}}), batch_of({{1, 1}}));
    emit(out, batches);
    EXPECT_EQ(data.accepted, (std::vector<std::string>{"p0/0", "p1/1", "p2/2"}));
    EXPECT_EQ(data.sends, 12); // each message: three times full, then taken
    EXPECT_GE(data.polls, 9);  // polled before every retry
    const run_summary s = out.drain_and_summarise(false);
    EXPECT_EQ(s.delivered, 3u);
    EXPECT_EQ(s.failed, 0u);
}

TEST_F(Emitter, ASinkStillFullAfterAStopIsGivenUpOnAndCounted) {
    data.full_after = 1; // takes one message, then stays full; the stop comes meanwhile
    data.stop_on_full = &stop;
    emitter out(setup(), stats, pace, drain);
    std::vector<window_batch> batches =
        batches_of(batch_of({{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}}));
    emit(out, batches);
    EXPECT_EQ(data.accepted.size(), 1u);
    const run_summary s = out.drain_and_summarise(true);
    EXPECT_TRUE(s.interrupted);
    EXPECT_EQ(s.generated, 5u);
    EXPECT_EQ(s.delivered, 1u);
    EXPECT_EQ(s.failed, 4u); // abandoned at the drain deadline: counted, not lost silently
    EXPECT_EQ(s.delivered + s.failed, s.generated);
    EXPECT_EQ(s.exit_code(), 1);
}

TEST_F(Emitter, EpisodeLinesWaitForTheWindowOfTheirLabel) {
    emitter out(setup(), stats, pace, drain);
    std::vector<window_batch> first = batches_of(batch_of({{0, 0}}), batch_of({{1, 1}}));
    add_episode(first[1], start + 700, 1, "B");
    add_episode(first[0], start + 1200, 0, "late"); // its label is due in the next window
    add_episode(first[0], start + 300, 0, "A");
    emit(out, first, false);
    EXPECT_EQ(episodes.accepted, (std::vector<std::string>{"eA", "eB"}));
    EXPECT_EQ(episodes.keys, (std::vector<std::string>{id(0), id(1)}));
    EXPECT_EQ(stats.episodes.load(), 2u);

    std::vector<window_batch> second = batches_of(batch_of({{500, 0}}));
    add_episode(second[0], start + 1100, 2, "C");
    emit(out, second, true, start + 1000);
    EXPECT_EQ(episodes.accepted, (std::vector<std::string>{"eA", "eB", "eC", "elate"}));
    const run_summary s = out.drain_and_summarise(false);
    EXPECT_EQ(s.episodes, 4u);
    EXPECT_EQ(s.episodes_by_kind[0], 4u);
}

TEST_F(Emitter, ACutKeepsOnlyEpisodesWhoseLabelWentOut) {
    emitter out(setup(2), stats, pace, drain);
    std::vector<window_batch> batches =
        batches_of(batch_of({{0, 0}, {5, 2}, {9, 0}}), batch_of({{5, 1}}));
    add_episode(batches[0], start + 5, 1, "before-cut"); // (5, 1) was sent
    add_episode(batches[0], start + 5, 2, "at-cut");     // (5, 2) is where the cut fell
    add_episode(batches[1], start + 9, 0, "after-cut");
    emit(out, batches, false);
    EXPECT_TRUE(out.finished());
    EXPECT_EQ(data.accepted, (std::vector<std::string>{"p0/0", "p5/1"}));
    EXPECT_EQ(episodes.accepted, (std::vector<std::string>{"ebefore-cut"}));
}

/// deliver() on its own, with a recording sink and a drain clock without grace.
class Deliver : public ::testing::Test {
  protected:
    delivery send(std::string_view payload) {
        return deliver(sink, record{"k", payload, "k", "g", {}}, drain, waiting);
    }

    recording_connector sink;
    std::atomic<bool> stop{false};
    drain_clock drain{stop, steady::time_point::max(), std::chrono::milliseconds(0), nullptr};
    int waited = 0;
    const engine_detail::waiting_fn waiting = [this] { ++waited; };
};

TEST_F(Deliver, RetriesAFullSinkUntilItTakesTheMessage) {
    EXPECT_EQ(send("first"), delivery::handed_over);
    EXPECT_EQ(sink.sends, 1);
    EXPECT_EQ(waited, 0);

    sink.full_after = 1;       // full from now on ...
    sink.stop_on_full = &stop; // ... and that makes the run stop: given up at the deadline
    EXPECT_EQ(send("second"), delivery::abandoned);
    EXPECT_EQ(sink.accepted, (std::vector<std::string>{"first"}));
}

TEST_F(Deliver, PollsAndWaitsBetweenRetries) {
    sink.full_before_each = 2; // full twice before it takes each message
    EXPECT_EQ(send("a"), delivery::handed_over);
    EXPECT_EQ(send("b"), delivery::handed_over);
    EXPECT_EQ(sink.accepted, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(sink.sends, 6); // each: two full answers, then taken
    EXPECT_EQ(sink.polls, 4); // one poll and one wait before every retry
    EXPECT_EQ(waited, 4);
}
