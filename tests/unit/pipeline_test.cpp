// pipeline: producers generate windows ahead of the emitter into their own slots; checked with
// fake producers that stamp each batch with the window and producer (no timing).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "src/engine/pipeline.hpp"

using namespace synthfeed;
using engine_detail::message_entry;
using engine_detail::pipeline;
using engine_detail::pipeline_depth;
using engine_detail::window_batch;
using engine_detail::window_producer;

namespace {

struct generate_call {
    std::int64_t window;
    sim_time from, until;
    bool last;
    bool operator==(const generate_call&) const = default;
};

/// Stamps each batch with one entry: order = window, payload_offset = producer id. Its calls
/// are read only once the pipeline has joined its threads.
class stamping_producer final : public window_producer {
  public:
    explicit stamping_producer(std::uint32_t id) : id_(id) {}

    void generate(std::int64_t window, sim_time from, sim_time until, bool last,
                  window_batch& out) override {
        out.clear();
        message_entry e{};
        e.order = static_cast<std::uint64_t>(window);
        e.payload_offset = id_;
        out.messages.push_back(e);
        calls.push_back({window, from, until, last});
    }

    std::vector<generate_call> calls;

  private:
    std::uint32_t id_;
};

struct producers {
    explicit producers(std::size_t n) {
        for (std::uint32_t i = 0; i < n; ++i) {
            owned.push_back(std::make_unique<stamping_producer>(i));
            pointers.push_back(owned.back().get());
        }
    }
    std::vector<std::unique_ptr<stamping_producer>> owned;
    std::vector<window_producer*> pointers;
};

/// The window and producer a batch was stamped with.
std::int64_t window_of(const window_batch* b) {
    return static_cast<std::int64_t>(b->messages.at(0).order);
}
std::uint32_t producer_of(const window_batch* b) {
    return b->messages.at(0).payload_offset;
}

} // namespace

TEST(Pipeline, WindowBoundsClipToTheEnd) {
    producers p(1);
    const pipeline pipe(p.pointers, 1000, 100, 1350);
    EXPECT_EQ(pipe.window_start(0), 1000);
    EXPECT_EQ(pipe.window_end(0), 1100);
    EXPECT_EQ(pipe.window_start(3), 1300);
    EXPECT_EQ(pipe.window_end(3), 1350); // the run's end, not a whole window
    EXPECT_FALSE(pipe.past_end(3));
    EXPECT_TRUE(pipe.past_end(4));
}

TEST(Pipeline, EveryProducerFillsEveryWindowInOrder) {
    producers p(3);
    std::int64_t requested = 0;
    {
        pipeline pipe(p.pointers, 1000, 100, 1350);
        requested = static_cast<std::int64_t>(pipeline_depth) - 1;
        pipe.request(requested);
        for (std::int64_t w = 0; !pipe.past_end(w); ++w) {
            const std::vector<window_batch*> batches = pipe.wait(w);
            ASSERT_EQ(batches.size(), 3u);
            for (std::uint32_t i = 0; i < 3; ++i) {
                EXPECT_EQ(producer_of(batches[i]), i) << "window " << w;
                EXPECT_EQ(window_of(batches[i]), w) << "producer " << i;
            }
            const std::int64_t next = w + static_cast<std::int64_t>(pipeline_depth);
            if (!pipe.past_end(next)) pipe.request(requested = next);
        }
    }
    const std::vector<generate_call> expected{{0, 1000, 1100, false},
                                              {1, 1100, 1200, false},
                                              {2, 1200, 1300, false},
                                              {3, 1300, 1350, true}};
    for (const auto& producer : p.owned) EXPECT_EQ(producer->calls, expected);
    EXPECT_EQ(requested, 3);
}

TEST(Pipeline, ASlotKeepsItsWindowUntilTheWindowDepthLaterIsRequested) {
    static_assert(pipeline_depth == 2, "the slots below alternate between two windows");
    producers p(2);
    {
        pipeline pipe(p.pointers, 0, 10, 1000);
        pipe.request(1);
        const std::vector<window_batch*> first = pipe.wait(0);
        const std::vector<window_batch*> second = pipe.wait(1);
        for (std::size_t i = 0; i < 2; ++i) {
            EXPECT_NE(first[i], second[i]);
            EXPECT_EQ(window_of(first[i]), 0); // still window 0: window 2 was not requested
            EXPECT_EQ(window_of(second[i]), 1);
        }
        pipe.request(2);
        const std::vector<window_batch*> third = pipe.wait(2);
        for (std::size_t i = 0; i < 2; ++i) {
            EXPECT_EQ(third[i], first[i]); // the slot of window 0, reused
            EXPECT_EQ(window_of(third[i]), 2);
            EXPECT_EQ(window_of(second[i]), 1); // window 1's slot untouched
        }
    }
    for (const auto& producer : p.owned) {
        ASSERT_EQ(producer->calls.size(), 3u); // nothing beyond what was requested
        EXPECT_EQ(producer->calls.back().window, 2);
    }
}

TEST(Pipeline, NothingIsGeneratedBeforeARequestAndTheDestructorJoins) {
    producers p(2);
    { const pipeline pipe(p.pointers, 0, 10, 100); }
    for (const auto& producer : p.owned) EXPECT_TRUE(producer->calls.empty());

    producers q(2);
    {
        pipeline pipe(q.pointers, 0, 10, 100);
        pipe.request(0);
        (void)pipe.wait(0);
    }
    for (const auto& producer : q.owned)
        EXPECT_EQ(producer->calls, (std::vector<generate_call>{{0, 0, 10, false}}));
}
