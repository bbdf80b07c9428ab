// window_merge: the k-way merge of the workers' sorted batches, checked against std::merge
// and std::sort of the same inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "src/engine/window_merge.hpp"
#include "tests/unit/engine_batches.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;
using engine_detail::message_entry;
using engine_detail::order_key;
using engine_detail::window_batch;
using engine_detail::window_merge;

namespace {

/// One merged entry: its key, the batch it came from and its place in that batch.
struct taken {
    std::uint64_t order;
    std::size_t batch;
    std::uint32_t position;
    bool operator==(const taken&) const = default;
};

void PrintTo(const taken& t, std::ostream* os) {
    *os << "{t=" << (t.order >> 32) << " dev=" << (t.order & 0xffff'ffff) << " batch=" << t.batch
        << " #" << t.position << "}";
}

/// A batch as a worker leaves it: entries with these (time offset, device) keys, sorted, then
/// the end_of_batch sentinel. payload_offset holds each entry's position in the batch.
window_batch batch_of(std::vector<std::pair<sim_duration, std::uint64_t>> keys) {
    window_batch b;
    for (const auto& [offset, device] : keys) {
        message_entry e{};
        e.order = order_key(offset, device);
        e.payload_offset = static_cast<std::uint32_t>(b.messages.size());
        b.messages.push_back(e);
    }
    std::stable_sort(
        b.messages.begin(), b.messages.end(),
        [](const message_entry& x, const message_entry& y) { return x.order < y.order; });
    end_batch(b);
    return b;
}

/// The entries of batch `index`, without the sentinel.
std::vector<taken> entries_of(const std::vector<window_batch>& batches, std::size_t index) {
    std::vector<taken> out;
    const auto& m = batches[index].messages;
    for (std::size_t i = 0; i + 1 < m.size(); ++i)
        out.push_back({m[i].order, index, m[i].payload_offset});
    return out;
}

/// Everything window_merge yields, in order.
std::vector<taken> merge_all(std::vector<window_batch>& batches) {
    std::vector<window_batch*> pointers;
    for (window_batch& b : batches) pointers.push_back(&b);
    window_merge merge(pointers);
    std::vector<taken> out;
    const window_batch* from = nullptr;
    while (const message_entry* e = merge.next(from))
        out.push_back(
            {e->order, static_cast<std::size_t>(from - batches.data()), e->payload_offset});
    return out;
}

bool by_key(const taken& a, const taken& b) {
    return a.order < b.order;
}

/// The reference for any number of batches: all entries sorted by key, equal keys by batch,
/// then by their place in it (a stable merge).
std::vector<taken> sorted_reference(const std::vector<window_batch>& batches) {
    std::vector<taken> all;
    for (std::size_t b = 0; b < batches.size(); ++b) {
        const auto part = entries_of(batches, b);
        all.insert(all.end(), part.begin(), part.end());
    }
    std::sort(all.begin(), all.end(), [](const taken& a, const taken& b) {
        return std::tie(a.order, a.batch, a.position) < std::tie(b.order, b.batch, b.position);
    });
    return all;
}

/// Random keys for worker `w` of `workers`: devices dealt round-robin as the engine does, times
/// from a small range so that many share a millisecond.
std::vector<std::pair<sim_duration, std::uint64_t>>
random_keys(std::mt19937_64& rng, std::size_t n, std::size_t w, std::size_t workers) {
    std::uniform_int_distribution<sim_duration> time(0, 40);
    std::uniform_int_distribution<std::uint64_t> slot(0, 30);
    std::vector<std::pair<sim_duration, std::uint64_t>> keys;
    for (std::size_t i = 0; i < n; ++i) keys.push_back({time(rng), slot(rng) * workers + w});
    return keys;
}

} // namespace

TEST(WindowMerge, OneBatchComesOutAsSorted) {
    std::vector<window_batch> batches = batches_of(batch_of({{7, 2}, {3, 9}, {3, 1}, {0, 5}}));
    const auto merged = merge_all(batches);
    EXPECT_EQ(merged, entries_of(batches, 0));
    EXPECT_EQ(merged, sorted_reference(batches));
    ASSERT_EQ(merged.size(), 4u);
    EXPECT_EQ(merged.front().order, order_key(0, 5));
    EXPECT_EQ(merged.back().order, order_key(7, 2));
}

TEST(WindowMerge, TwoBatchesMatchStdMerge) {
    std::mt19937_64 rng(14);
    for (int round = 0; round < 200; ++round) {
        std::uniform_int_distribution<std::size_t> size(0, 60);
        std::vector<window_batch> batches = batches_of(batch_of(random_keys(rng, size(rng), 0, 2)),
                                                       batch_of(random_keys(rng, size(rng), 1, 2)));
        const auto a = entries_of(batches, 0), b = entries_of(batches, 1);
        std::vector<taken> expected;
        std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(expected), by_key);
        ASSERT_EQ(merge_all(batches), expected) << "round " << round;
    }
}

TEST(WindowMerge, ThreeBatchesMatchStdSort) {
    std::mt19937_64 rng(15);
    for (int round = 0; round < 200; ++round) {
        std::uniform_int_distribution<std::size_t> size(0, 60);
        std::vector<window_batch> batches;
        for (std::size_t w = 0; w < 3; ++w)
            batches.push_back(batch_of(random_keys(rng, size(rng), w, 3)));
        ASSERT_EQ(merge_all(batches), sorted_reference(batches)) << "round " << round;
    }
}

TEST(WindowMerge, TiesOnTimeGoByDeviceIndex) {
    // Every entry at 5 ms but one: devices interleave across batches; time still comes first.
    std::vector<window_batch> two =
        batches_of(batch_of({{5, 3}, {5, 8}, {4, 9}}), batch_of({{5, 1}, {5, 4}}));
    std::vector<std::uint64_t> devices;
    for (const taken& t : merge_all(two)) devices.push_back(t.order & 0xffff'ffff);
    EXPECT_EQ(devices, (std::vector<std::uint64_t>{9, 1, 3, 4, 8}));

    std::vector<window_batch> three =
        batches_of(batch_of({{5, 6}}), batch_of({{5, 2}, {6, 0}}), batch_of({{5, 4}, {5, 0}}));
    devices.clear();
    for (const taken& t : merge_all(three)) devices.push_back(t.order & 0xffff'ffff);
    EXPECT_EQ(devices, (std::vector<std::uint64_t>{0, 2, 4, 6, 0}));
}

TEST(WindowMerge, EqualKeysKeepBatchThenPositionOrder) {
    // A device's delayed message and its fresh one due in the same millisecond share a key.
    std::vector<window_batch> two =
        batches_of(batch_of({{5, 2}, {5, 2}}), batch_of({{5, 1}, {5, 3}}));
    const auto merged = merge_all(two);
    EXPECT_EQ(merged, sorted_reference(two));
    ASSERT_EQ(merged.size(), 4u);
    EXPECT_EQ(merged[1], (taken{order_key(5, 2), 0, 0}));
    EXPECT_EQ(merged[2], (taken{order_key(5, 2), 0, 1}));

    // Across batches too (one device never spans workers, but the merge stays stable).
    for (std::size_t n : {2u, 3u}) {
        std::vector<window_batch> same;
        for (std::size_t b = 0; b < n; ++b) same.push_back(batch_of({{5, 7}}));
        EXPECT_EQ(merge_all(same), sorted_reference(same)) << n << " batches";
    }
}

TEST(WindowMerge, EmptyBatches) {
    std::vector<window_batch> one = batches_of(batch_of({}));
    EXPECT_TRUE(merge_all(one).empty());

    std::vector<window_batch> two_empty = batches_of(batch_of({}), batch_of({}));
    EXPECT_TRUE(merge_all(two_empty).empty());

    for (std::size_t empty = 0; empty < 2; ++empty) {
        std::vector<window_batch> two =
            batches_of(batch_of({{1, 0}, {2, 2}}), batch_of({{1, 1}, {3, 3}}));
        two[empty] = batch_of({});
        EXPECT_EQ(merge_all(two), entries_of(two, 1 - empty)) << "empty batch " << empty;
    }
    for (std::size_t empty = 0; empty < 3; ++empty) {
        std::vector<window_batch> three = batches_of(
            batch_of({{1, 0}, {4, 3}}), batch_of({{1, 1}, {2, 4}}), batch_of({{0, 2}, {9, 5}}));
        three[empty] = batch_of({});
        EXPECT_EQ(merge_all(three), sorted_reference(three)) << "empty batch " << empty;
    }
    std::vector<window_batch> three_empty = batches_of(batch_of({}), batch_of({}), batch_of({}));
    EXPECT_TRUE(merge_all(three_empty).empty());
}

TEST(WindowMerge, StaysAtTheSentinelsOnceAllAreExhausted) {
    for (std::size_t n : {1u, 2u, 3u}) {
        // The last entries of all batches share a time: they run out together.
        std::vector<window_batch> batches;
        for (std::size_t w = 0; w < n; ++w) batches.push_back(batch_of({{1, w}, {8, w + n}}));
        std::vector<window_batch*> pointers;
        for (window_batch& b : batches) pointers.push_back(&b);
        window_merge merge(pointers);
        const window_batch* from = nullptr;
        std::size_t taken_count = 0;
        while (merge.next(from)) ++taken_count;
        EXPECT_EQ(taken_count, 2 * n);
        const window_batch* last = from;
        for (int again = 0; again < 3; ++again) {
            EXPECT_EQ(merge.next(from), nullptr) << n << " batches, call " << again;
            EXPECT_EQ(from, last); // untouched once exhausted
        }
    }
}
