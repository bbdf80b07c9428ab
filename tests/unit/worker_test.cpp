// worker: a window's batch as the emitter expects it (sorted, ended, inside the window), held-back
// messages placed by due time, and the same messages whatever the window boundaries or the
// number of workers.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "src/engine/window_merge.hpp"
#include "src/engine/worker.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;
using engine_detail::end_of_batch;
using engine_detail::message_entry;
using engine_detail::window_batch;
using engine_detail::window_merge;
using engine_detail::worker;

namespace {

/// Twelve devices a second, with faults that send messages after their event time: within the
/// window (out_of_order), windows later (late, 20-40 s) and twice (duplicate).
const profile& faulty_profile() {
    static const profile p = profile_from(one_field_profile(
        "signal = { kind = \"ou\", mean = 20.0, reversion = 0.1, sigma = 0.5 }",
        "[[group.fault]]\nkind = \"out_of_order\"\nprobability = 0.05\n"
        "[[group.fault]]\nkind = \"late\"\nprobability = 0.05\ndelay = \"20s..40s\"\n"
        "[[group.fault]]\nkind = \"duplicate\"\nprobability = 0.05\n"
        "delay = \"0s..5s\"\n",
        12, "1s"));
    return p;
}

/// One sent message: absolute due time, device, payload and label line.
struct sent {
    sim_time due;
    std::uint64_t device;
    std::string payload, label;
    auto operator<=>(const sent&) const = default;
};

/// Workers over `faulty` with their encoders, run window by window as the pipeline would.
class worker_rig {
  public:
    explicit worker_rig(unsigned workers)
        : faulty(faulty_profile()), ids_(faulty),
          messages_(faulty, payload_format::json, false, &injections_),
          labels_(faulty, label_format::jsonl, &injections_) {
        for (std::uint32_t g = 0; g < faulty.groups.size(); ++g)
            models_.emplace_back(faulty, g, ids_.first_of_group(g), test_start);
        const engine_detail::shared_encoders enc{&ids_,   &messages_, &labels_,    nullptr,
                                                 nullptr, &faulty,    &injections_};
        auto shard = engine_detail::assign_devices(faulty, ids_, workers, 0, 1);
        for (auto& locals : shard.locals)
            workers_.push_back(worker::make(enc, models_, std::move(locals)));
        batches_.resize(workers);
    }

    /// Generates window `w` of `length` ms in every worker; returns the batches.
    std::vector<window_batch*> generate(std::int64_t w, sim_duration length, bool last) {
        std::vector<window_batch*> out;
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            workers_[i]->generate(w, test_start + w * length, test_start + (w + 1) * length, last,
                                  batches_[i]);
            out.push_back(&batches_[i]);
        }
        return out;
    }

  private:
    const profile& faulty;
    device_directory ids_;
    injection_board injections_;
    message_encoder messages_;
    label_encoder labels_;
    std::vector<group_model> models_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::vector<window_batch> batches_;
};

/// What the emitter would send from these batches, merged, with absolute due times.
std::vector<sent> merged(const std::vector<window_batch*>& batches, sim_time window_start) {
    std::vector<sent> out;
    window_merge merge(batches);
    const window_batch* from = nullptr;
    while (const message_entry* m = merge.next(from))
        out.push_back({window_start + static_cast<sim_time>(m->order >> 32), m->order & 0xffff'ffff,
                       std::string(from->payloads.view(m->payload_offset, m->payload_length)),
                       std::string(from->label_lines.view(m->label_offset, m->label_length))});
    return out;
}

/// Everything a run of `windows` windows of `length` ms sends, window after window.
std::vector<sent> run(unsigned workers, int windows, sim_duration length) {
    worker_rig rig(workers);
    std::vector<sent> all;
    for (int w = 0; w < windows; ++w) {
        const auto part =
            merged(rig.generate(w, length, w + 1 == windows), test_start + w * length);
        all.insert(all.end(), part.begin(), part.end());
    }
    return all;
}

} // namespace

TEST(Worker, BatchesAreSortedEndedAndInsideTheirWindow) {
    worker_rig rig(1);
    std::size_t entries = 0;
    for (std::int64_t w = 0; w < 12; ++w) {
        const window_batch& b = *rig.generate(w, 10'000, w == 11)[0];
        ASSERT_FALSE(b.messages.empty());
        EXPECT_EQ(b.messages.back().order, end_of_batch) << "window " << w;
        for (std::size_t i = 0; i + 1 < b.messages.size(); ++i) {
            EXPECT_LT(b.messages[i].order >> 32, 10'000u) << "window " << w;
            if (i > 0) {
                EXPECT_LE(b.messages[i - 1].order, b.messages[i].order) << "window " << w;
            }
        }
        entries += b.messages.size() - 1;
    }
    // 12 devices, one tick a second, for 120 s; duplicates add copies, nothing is lost.
    EXPECT_GT(entries, 12u * 120u);
}

TEST(Worker, HeldBackMessagesWaitForTheirWindowOrTheRunsEnd) {
    worker_rig held(1), last(1);
    const std::size_t kept = held.generate(0, 10'000, false)[0]->messages.size();
    const window_batch& at_end = *last.generate(0, 10'000, true)[0];
    // Late messages (20-40 s) are due after this window: the last window sends them at its end.
    EXPECT_GT(at_end.messages.size(), kept);
    const std::uint64_t end_offset = 9'999;
    std::size_t at_last_ms = 0;
    for (const message_entry& m : at_end.messages)
        if (m.order != end_of_batch && (m.order >> 32) == end_offset) ++at_last_ms;
    EXPECT_GE(at_last_ms, at_end.messages.size() - kept);
}

TEST(Worker, WindowBoundariesDoNotChangeWhatIsSent) {
    // One 2-minute window against twelve of 10 s: the same messages at the same due times.
    const std::vector<sent> one = run(1, 1, 120'000), twelve = run(1, 12, 10'000);
    ASSERT_EQ(one.size(), twelve.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        ASSERT_EQ(one[i].due, twelve[i].due) << i;
        ASSERT_EQ(one[i].device, twelve[i].device) << i;
    }
    // Equal (due, device) keys may hold different messages in either order.
    std::vector<sent> a = one, b = twelve;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    EXPECT_EQ(a, b);
}

TEST(Worker, AnyNumberOfWorkersMergesToTheSameMessages) {
    const std::vector<sent> single = run(1, 12, 10'000);
    EXPECT_EQ(run(2, 12, 10'000), single);
    EXPECT_EQ(run(3, 12, 10'000), single);
}
