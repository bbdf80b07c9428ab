// latency_histogram: HdrHistogram-style log-linear buckets. Quantiles are checked against an
// exact computation over the same observations (sorted), within the layout's 1/128.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "src/core/latency_histogram.hpp"

using synthfeed::latency_histogram;

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGapsOrOverlaps) {
    for (std::size_t i = 0; i + 1 < latency_histogram::bucket_count; ++i) {
        const std::uint64_t high = latency_histogram::highest_in(i);
        ASSERT_EQ(latency_histogram::index_of(high), i) << i;
        ASSERT_EQ(latency_histogram::index_of(high + 1), i + 1) << i;
        // Each bucket is at most 1/128 of its values wide.
        const std::uint64_t low = i == 0 ? 0 : latency_histogram::highest_in(i - 1) + 1;
        ASSERT_LE(static_cast<double>(high - low), std::max(1.0, static_cast<double>(low) / 128))
            << i;
    }
}

TEST(LatencyHistogram, QuantilesMatchAnExactComputationWithinOneBucket) {
    std::mt19937_64 rng(7);
    // Log-uniform from 10 µs to 60 s, as latencies spread over decades.
    std::uniform_real_distribution<double> exponent(std::log(1e-5), std::log(60.0));
    latency_histogram h;
    std::vector<double> seen;
    for (int i = 0; i < 200'000; ++i) {
        const double v = std::round(std::exp(exponent(rng)) * 1e6) / 1e6; // whole µs
        h.observe(v);
        seen.push_back(v);
    }
    std::sort(seen.begin(), seen.end());
    for (const double q : {0.5, 0.9, 0.95, 0.99, 0.999, 0.9999}) {
        const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(seen.size())));
        const double exact = seen[rank - 1];
        EXPECT_GE(h.quantile(q), exact) << q; // the bucket's highest value: never below
        EXPECT_LE(h.quantile(q), exact * (1 + 1.0 / 128) + 1e-6) << q;
    }
    EXPECT_DOUBLE_EQ(h.max_seconds(), seen.back());
    EXPECT_DOUBLE_EQ(h.quantile(1.0), seen.back());
    EXPECT_EQ(h.count(), seen.size());
}

TEST(LatencyHistogram, EmptyAndRepeatedObservations) {
    latency_histogram h;
    EXPECT_EQ(h.quantile(0.5), 0);
    EXPECT_EQ(h.count(), 0u);
    h.observe_n(0.002, 99);
    h.observe(20);
    EXPECT_EQ(h.count(), 100u);
    EXPECT_NEAR(h.quantile(0.5), 0.002, 0.002 / 128);
    EXPECT_NEAR(h.quantile(0.99), 0.002, 0.002 / 128); // the outlier is past the 99th rank
    EXPECT_DOUBLE_EQ(h.quantile(0.999), 20);
    EXPECT_NEAR(h.sum_seconds(), 99 * 0.002 + 20, 1e-9);
}

TEST(LatencyHistogram, PrometheusBoundsCountWhatLiesBelowThem) {
    latency_histogram h;
    h.observe(0.0004); // below 0.5 ms
    h.observe(0.003);  // below 5 ms
    h.observe(100);    // past 60 s: +Inf only
    const auto c = h.cumulative_at_bounds();
    EXPECT_EQ(c[0], 1u); // ≤ 0.5 ms
    EXPECT_EQ(c[2], 1u); // ≤ 2.5 ms
    EXPECT_EQ(c[3], 2u); // ≤ 5 ms
    EXPECT_EQ(c[latency_histogram::bounds.size() - 1], 2u);
    EXPECT_EQ(c.back(), 3u);
}
