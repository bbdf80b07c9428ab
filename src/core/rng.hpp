#pragma once
/// Counter-based randomness: every draw is a pure function of (seed, stream, counter), so any
/// device, field and tick can be regenerated on any thread in any order with the same result.

#include <cmath>
#include <cstdint>
#include <numbers>

namespace synthfeed {

/// splitmix64's finaliser: a bijective 64-bit mixer with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/// A keyed stream: hash(key, counter) gives independent 64-bit words.
struct rng_stream {
    std::uint64_t key = 0;

    /// Derives a sub-stream, e.g. seed → device → field → purpose.
    constexpr rng_stream child(std::uint64_t id) const noexcept {
        return {mix64(key ^ mix64(id + 0x9e3779b97f4a7c15ULL))};
    }
    constexpr std::uint64_t bits(std::uint64_t counter) const noexcept {
        return mix64(key + counter * 0x9e3779b97f4a7c15ULL);
    }
    /// Uniform in [0, 1).
    double uniform(std::uint64_t counter) const noexcept {
        return static_cast<double>(bits(counter) >> 11) * 0x1.0p-53;
    }
    /// Standard normal by Box–Muller on the two 32-bit halves of one word.
    double normal(std::uint64_t counter) const noexcept {
        const std::uint64_t b = bits(counter);
        const double u1 = (static_cast<double>(b >> 32) + 0.5) * 0x1.0p-32;
        const double u2 = static_cast<double>(b & 0xffffffffULL) * 0x1.0p-32;
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }
    /// Exponential with mean 1.
    double exponential(std::uint64_t counter) const noexcept {
        return -std::log1p(-uniform(counter));
    }
    /// Laplace with scale 1.
    double laplace(std::uint64_t counter) const noexcept {
        const double u = uniform(counter) - 0.5;
        const double magnitude = -std::log1p(-2.0 * std::abs(u));
        return u < 0 ? -magnitude : magnitude;
    }
    /// Student's t with df degrees of freedom (Bailey's polar method; rejection uses
    /// sub-counters so the draw stays a pure function of counter).
    double student_t(std::uint64_t counter, double df) const noexcept {
        const rng_stream tries = child(counter);
        for (std::uint64_t i = 0;; i += 2) {
            const double u = 2.0 * tries.uniform(i) - 1.0;
            const double v = 2.0 * tries.uniform(i + 1) - 1.0;
            const double w = u * u + v * v;
            if (w > 0.0 && w < 1.0) return u * std::sqrt(df * (std::pow(w, -2.0 / df) - 1.0) / w);
        }
    }
};

} // namespace synthfeed
