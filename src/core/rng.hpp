#pragma once
/// Counter-based randomness: every draw is a pure function of (seed, stream, counter), so any
/// device, field and tick can be regenerated on any thread in any order with the same result.

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
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

namespace detail {
/// Natural logarithm of y in (0, 1]: the classic argument reduction to [√2/2, √2) and a
/// 14th-degree minimax series in s = f / (2 + f) (Sun's fdlibm e_log.c method, error below
/// one ulp). Inline and only + − × ÷, so it is cheaper than a libm call and gives the same
/// bits on every platform. y = 0 gives -inf.
inline double log_unit_interval(double y) noexcept {
    if (!(y > 0)) return -std::numeric_limits<double>::infinity();
    constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    constexpr double lg1 = 6.666666666666735130e-01, lg2 = 3.999999999940941908e-01,
                     lg3 = 2.857142874366239149e-01, lg4 = 2.222219843214978396e-01,
                     lg5 = 1.818357216161805012e-01, lg6 = 1.531383769920937332e-01,
                     lg7 = 1.479819860511658591e-01;
    std::uint64_t bits = 0;
    std::memcpy(&bits, &y, sizeof bits);
    int exponent = 0;
    if (bits < (std::uint64_t{1} << 52)) { // subnormal: scale into the normal range first
        y *= 0x1.0p54;
        std::memcpy(&bits, &y, sizeof bits);
        exponent = -54;
    }
    exponent += static_cast<int>(bits >> 52) - 1023;
    bits = (bits & ((std::uint64_t{1} << 52) - 1)) | (std::uint64_t{1023} << 52);
    double m = 0;
    std::memcpy(&m, &bits, sizeof m); // in [1, 2)
    if (m > std::numbers::sqrt2) {
        m *= 0.5;
        ++exponent;
    }
    const double f = m - 1, k = exponent;
    const double s = f / (2 + f), z = s * s, w = z * z;
    const double r = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7))) + w * (lg2 + w * (lg4 + w * lg6));
    const double half_f2 = 0.5 * f * f;
    return k * ln2_hi - ((half_f2 - (s * (half_f2 + r) + k * ln2_lo)) - f);
}
} // namespace detail

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
    /// Standard normal by the ziggurat method: one hash on the fast path (~99% of draws);
    /// the rare rejections draw from a sub-stream, so the result stays a pure function.
    double normal(std::uint64_t counter) const noexcept;
    /// Exponential with mean 1.
    double exponential(std::uint64_t counter) const noexcept {
        return -detail::log_unit_interval(1 - uniform(counter)); // 1 - u is exact
    }
    /// Laplace with scale 1: a random sign on an exponential drawn by the ziggurat method
    /// (one hash and no logarithm on the fast path, ~98.9 % of draws).
    double laplace(std::uint64_t counter) const noexcept;
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

namespace detail {
/// Marsaglia & Tsang's ziggurat tables: per layer, the acceptance bound k, the scale w from
/// integer to value, and the density f at the layer's edge.
template <std::size_t Layers>
struct ziggurat_tables {
    std::array<std::uint32_t, Layers> k;
    std::array<double, Layers> w;
    std::array<double, Layers> f;
};
/// 128 layers for the standard normal.
extern const ziggurat_tables<128> ziggurat;
double normal_slow_path(const rng_stream& s, std::uint64_t counter, std::int32_t hz,
                        unsigned layer) noexcept;

/// 256 layers for the exponential with mean 1.
extern const ziggurat_tables<256> exponential_ziggurat;
double exponential_slow_path(const rng_stream& s, std::uint64_t counter, std::uint32_t jz,
                             unsigned layer) noexcept;
} // namespace detail

inline double rng_stream::laplace(std::uint64_t counter) const noexcept {
    const std::uint64_t b = bits(counter);
    // Layer from bits 0-7, sign from bit 8, magnitude from the high 32 bits.
    const auto layer = static_cast<unsigned>(b & 255);
    const auto jz = static_cast<std::uint32_t>(b >> 32);
    const double magnitude = jz < detail::exponential_ziggurat.k[layer]
                                 ? jz * detail::exponential_ziggurat.w[layer]
                                 : detail::exponential_slow_path(*this, counter, jz, layer);
    return (b >> 8) & 1 ? -magnitude : magnitude;
}

inline double rng_stream::normal(std::uint64_t counter) const noexcept {
    const std::uint64_t b = bits(counter);
    // Layer from the low bits, signed magnitude from the high bits: no bit serves twice.
    const auto layer = static_cast<unsigned>(b & 127);
    const auto hz = static_cast<std::int32_t>(static_cast<std::uint32_t>(b >> 32));
    const std::uint32_t magnitude =
        hz < 0 ? 0u - static_cast<std::uint32_t>(hz) : static_cast<std::uint32_t>(hz);
    if (magnitude < detail::ziggurat.k[layer]) return hz * detail::ziggurat.w[layer];
    return detail::normal_slow_path(*this, counter, hz, layer);
}

/// Rounds to the nearest integer (ties to even) for |x| < 2^51 with two additions: no libm
/// call on baseline x86-64, and the same bits everywhere. Larger values are returned as is.
inline double round_even(double x) noexcept {
    constexpr double shifter = 0x1.8p52;
    if (!(std::abs(x) < 0x1.0p51)) return x;
    return (x + shifter) - shifter; // IEEE rules forbid folding this without -ffast-math
}

/// cos(2π·turns) with a polynomial after quadrant reduction: faster than libm's cos and
/// bit-identical on every platform (only + and ×). Absolute error below 1e-12. Only the
/// polynomial the quadrant needs is evaluated (a periodic signal stays in one quadrant for
/// a quarter period, so the branch predicts well), in Estrin's form: pairs of terms are
/// independent, so the chain of dependent multiplications is 4 long instead of 7.
inline double cos_turns(double turns) noexcept {
    const double q = round_even(turns * 4);
    const double theta = (turns - q * 0.25) * (2 * std::numbers::pi); // in [-π/4, π/4]
    const double t2 = theta * theta;
    const double t4 = t2 * t2;
    const double t8 = t4 * t4;
    const auto quadrant = static_cast<long>(q) & 3;
    if ((quadrant & 1) == 0) {
        const double low = (1 + t2 * (-1.0 / 2)) + t4 * (1.0 / 24 + t2 * (-1.0 / 720));
        const double high = (1.0 / 40320 + t2 * (-1.0 / 3628800)) + t4 * (1.0 / 479001600);
        const double c = low + t8 * high;
        return quadrant == 0 ? c : -c;
    }
    const double low = (1 + t2 * (-1.0 / 6)) + t4 * (1.0 / 120 + t2 * (-1.0 / 5040));
    const double high = (1.0 / 362880 + t2 * (-1.0 / 39916800)) + t4 * (1.0 / 6227020800);
    const double s = theta * (low + t8 * high);
    return quadrant == 1 ? -s : s;
}

/// sin(2π·turns), see cos_turns.
inline double sin_turns(double turns) noexcept {
    return cos_turns(turns - 0.25);
}

} // namespace synthfeed
