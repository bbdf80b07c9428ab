#include "src/core/rng.hpp"

namespace synthfeed::detail {
namespace {

constexpr double tail_start = 3.442619855899;      // r: where the tail begins
constexpr double layer_area = 9.91256303526217e-3; // v: area of each layer
constexpr double scale_31 = 2147483648.0;          // 2^31

ziggurat_tables<128> build() noexcept {
    ziggurat_tables<128> t{};
    double dn = tail_start, tn = dn;
    const double q = layer_area / std::exp(-0.5 * dn * dn);
    t.k[0] = static_cast<std::uint32_t>((dn / q) * scale_31);
    t.k[1] = 0;
    t.w[0] = q / scale_31;
    t.w[127] = dn / scale_31;
    t.f[0] = 1.0;
    t.f[127] = std::exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; --i) {
        dn = std::sqrt(-2.0 * std::log(layer_area / dn + std::exp(-0.5 * dn * dn)));
        t.k[static_cast<std::size_t>(i + 1)] = static_cast<std::uint32_t>((dn / tn) * scale_31);
        tn = dn;
        t.f[static_cast<std::size_t>(i)] = std::exp(-0.5 * dn * dn);
        t.w[static_cast<std::size_t>(i)] = dn / scale_31;
    }
    return t;
}

constexpr double exponential_tail_start = 7.697117470131487;    // r
constexpr double exponential_layer_area = 3.949659822581572e-3; // v
constexpr double scale_32 = 4294967296.0;                       // 2^32

ziggurat_tables<256> build_exponential() noexcept {
    ziggurat_tables<256> t{};
    double de = exponential_tail_start, te = de;
    const double q = exponential_layer_area / std::exp(-de);
    t.k[0] = static_cast<std::uint32_t>((de / q) * scale_32);
    t.k[1] = 0;
    t.w[0] = q / scale_32;
    t.w[255] = de / scale_32;
    t.f[0] = 1.0;
    t.f[255] = std::exp(-de);
    for (int i = 254; i >= 1; --i) {
        de = -std::log(exponential_layer_area / de + std::exp(-de));
        t.k[static_cast<std::size_t>(i + 1)] = static_cast<std::uint32_t>((de / te) * scale_32);
        te = de;
        t.f[static_cast<std::size_t>(i)] = std::exp(-de);
        t.w[static_cast<std::size_t>(i)] = de / scale_32;
    }
    return t;
}

} // namespace

const ziggurat_tables<128> ziggurat = build();
const ziggurat_tables<256> exponential_ziggurat = build_exponential();

double normal_slow_path(const rng_stream& s, std::uint64_t counter, std::int32_t hz,
                        unsigned layer) noexcept {
    const rng_stream retry = s.child(counter ^ 0x5a5a5a5a5a5a5a5aULL);
    std::uint64_t draw = 0;
    for (;;) {
        const double x = hz * ziggurat.w[layer];
        if (layer == 0) { // the tail beyond r: Marsaglia's exponential method
            double tx = 0, ty = 0;
            do {
                tx = -std::log1p(-retry.uniform(draw++)) / tail_start;
                ty = -std::log1p(-retry.uniform(draw++));
            } while (ty + ty < tx * tx);
            return hz > 0 ? tail_start + tx : -tail_start - tx;
        }
        if (ziggurat.f[layer] +
                retry.uniform(draw++) * (ziggurat.f[layer - 1] - ziggurat.f[layer]) <
            std::exp(-0.5 * x * x))
            return x;
        const std::uint64_t b = retry.bits(draw++);
        layer = static_cast<unsigned>(b & 127);
        hz = static_cast<std::int32_t>(static_cast<std::uint32_t>(b >> 32));
        const std::uint32_t magnitude =
            hz < 0 ? 0u - static_cast<std::uint32_t>(hz) : static_cast<std::uint32_t>(hz);
        if (magnitude < ziggurat.k[layer]) return hz * ziggurat.w[layer];
    }
}

double exponential_slow_path(const rng_stream& s, std::uint64_t counter, std::uint32_t jz,
                             unsigned layer) noexcept {
    const auto& z = exponential_ziggurat;
    const rng_stream retry = s.child(counter ^ 0xa5a5a5a5a5a5a5a5ULL);
    std::uint64_t draw = 0;
    for (;;) {
        if (layer == 0) // beyond r the exponential is memoryless: r + a fresh draw
            return exponential_tail_start - log_unit_interval(1 - retry.uniform(draw++));
        const double x = jz * z.w[layer];
        if (z.f[layer] + retry.uniform(draw++) * (z.f[layer - 1] - z.f[layer]) < std::exp(-x))
            return x;
        const std::uint64_t b = retry.bits(draw++);
        layer = static_cast<unsigned>(b & 255);
        jz = static_cast<std::uint32_t>(b >> 32);
        if (jz < z.k[layer]) return jz * z.w[layer];
    }
}

} // namespace synthfeed::detail
