#pragma once
/// Latencies in a log-linear histogram, HdrHistogram's layout (G. Tene, hdrhistogram.org):
/// values in whole microseconds, exact below 256 µs, then 128 linear sub-buckets per power of
/// two, so any quantile it reports is within 1/128 (0.8 %) of the true value; the range ends
/// at 2^36 µs (19 h), where larger values are counted. Quantiles are the highest value of the
/// bucket that holds the rank, as HdrHistogram's getValueAtPercentile answers, never above
/// the exact maximum. Debian 12 packages HdrHistogram for Java and Go only, hence this one.
///
/// Concurrency: observations are relaxed atomic adds, safe from any thread; readers get a
/// snapshot that may lag a little behind concurrent writers.

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace synthfeed {

class latency_histogram {
  public:
    static constexpr unsigned sub_bits = 7; ///< 2^7 = 128 sub-buckets per power of two
    static constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;
    static constexpr unsigned range_bits = 36; ///< values up to 2^36 - 1 µs
    static constexpr std::size_t bucket_count = (range_bits - sub_bits + 1) * sub_count;
    /// Prometheus bucket bounds (seconds) for /metrics.
    static constexpr std::array<double, 16> bounds{
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    /// Bucket of a value in µs.
    static constexpr std::size_t index_of(std::uint64_t micros) noexcept {
        micros = std::min(micros, (std::uint64_t{1} << range_bits) - 1);
        if (micros < 2 * sub_count) return static_cast<std::size_t>(micros);
        const unsigned shift = static_cast<unsigned>(std::bit_width(micros)) - 1 - sub_bits;
        return static_cast<std::size_t>((shift + 1) * sub_count + (micros >> shift) - sub_count);
    }
    /// The highest value (µs) that lands in bucket `i`.
    static constexpr std::uint64_t highest_in(std::size_t i) noexcept {
        if (i < 2 * sub_count) return i;
        const auto shift = static_cast<unsigned>(i / sub_count - 1);
        const std::uint64_t low = (i % sub_count + sub_count) << shift;
        return low + (std::uint64_t{1} << shift) - 1;
    }

    void observe(double seconds) noexcept { observe_n(seconds, 1); }
    /// Counts `n` observations of the same latency.
    void observe_n(double seconds, std::uint64_t n) noexcept {
        if (n == 0) return;
        const auto micros = static_cast<std::uint64_t>(std::llround(std::max(0.0, seconds) * 1e6));
        buckets_[index_of(micros)].fetch_add(n, std::memory_order_relaxed);
        sum_micros_.fetch_add(micros * n, std::memory_order_relaxed);
        for (auto m = max_micros_.load(std::memory_order_relaxed);
             micros > m &&
             !max_micros_.compare_exchange_weak(m, micros, std::memory_order_relaxed);) {
        }
    }

    std::uint64_t count() const noexcept {
        std::uint64_t n = 0;
        for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
        return n;
    }
    double sum_seconds() const noexcept {
        return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
    }
    double max_seconds() const noexcept {
        return static_cast<double>(max_micros_.load(std::memory_order_relaxed)) / 1e6;
    }
    /// The q-quantile (0 < q <= 1) in seconds; 0 without observations.
    double quantile(double q) const noexcept {
        std::array<std::uint64_t, bucket_count> counts; // one snapshot for total and walk
        std::uint64_t total = 0;
        for (std::size_t i = 0; i < bucket_count; ++i)
            total += counts[i] = buckets_[i].load(std::memory_order_relaxed);
        if (total == 0) return 0;
        const auto rank = std::max<std::uint64_t>(
            1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total))));
        std::uint64_t seen = 0;
        std::size_t i = 0;
        for (; i + 1 < bucket_count && (seen += counts[i]) < rank; ++i) {
        }
        return static_cast<double>(std::min(highest_in(i), max_micros_.load())) / 1e6;
    }
    /// Observations at or below each of `bounds` (cumulative; a value in the bucket that
    /// straddles a bound counts below it, an error under 0.8 % of the bound), then the total.
    std::array<std::uint64_t, bounds.size() + 1> cumulative_at_bounds() const noexcept {
        std::array<std::uint64_t, bounds.size() + 1> out{};
        std::uint64_t running = 0;
        std::size_t i = 0;
        for (std::size_t b = 0; b < bounds.size(); ++b) {
            const std::size_t last = index_of(static_cast<std::uint64_t>(bounds[b] * 1e6));
            for (; i <= last; ++i) running += buckets_[i].load(std::memory_order_relaxed);
            out[b] = running;
        }
        for (; i < bucket_count; ++i) running += buckets_[i].load(std::memory_order_relaxed);
        out[bounds.size()] = running;
        return out;
    }

  private:
    std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
    std::atomic<std::uint64_t> sum_micros_{0};
    std::atomic<std::uint64_t> max_micros_{0};
};

} // namespace synthfeed
