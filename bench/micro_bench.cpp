// Google Benchmark suite for the hot path: RNG, generators, encoders, sorting.
// Run: ./build/release/bench/synthfeed_bench (see bench/README.md for recorded figures).
#include <benchmark/benchmark.h>

#include <algorithm>

#include "devices/group_model.hpp"
#include "src/config/profile_loader.hpp"
#include "src/core/byte_buffer.hpp"
#include "src/core/rng.hpp"
#include "src/encode/message_encoder.hpp"
#include "src/engine/radix_sort.hpp"
#include "src/labels/label_encoder.hpp"

using namespace synthfeed;

namespace {

const profile& cold_chain() {
    static const profile p = load_profile(SYNTHFEED_SOURCE_DIR "/profiles/cold_chain.toml");
    return p;
}

/// Counts ticks; keeps the last one so encoders have realistic input.
struct counting_output {
    std::uint64_t ticks = 0;
    std::uint64_t episodes = 0;
    void on_tick(const tick_view&) noexcept { ++ticks; }
    void on_episode(const episode_view&) noexcept { ++episodes; }
};

struct captured_tick {
    std::vector<double> values;
    tick_view view() const { return {0, 7, 12345, 1'767'225'600'123, true, values, {}, nullptr}; }
};

} // namespace

static void BM_rng_uniform(benchmark::State& state) {
    const rng_stream s{42};
    std::uint64_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(s.uniform(i++));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_rng_uniform);

static void BM_rng_normal_ziggurat(benchmark::State& state) {
    const rng_stream s{42};
    std::uint64_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(s.normal(i++));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_rng_normal_ziggurat);

static void BM_cos_turns(benchmark::State& state) {
    double x = 0.1234;
    for (auto _ : state) {
        benchmark::DoNotOptimize(cos_turns(x));
        x += 1e-7;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_cos_turns);

static void BM_libm_cos(benchmark::State& state) {
    double x = 0.1234;
    for (auto _ : state) {
        benchmark::DoNotOptimize(std::cos(2 * M_PI * x));
        x += 1e-7;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_libm_cos);

/// Generation only (3 fields, 4 anomaly specs): one item = one device tick.
static void BM_generate_cold_chain_ticks(benchmark::State& state) {
    const profile& p = cold_chain();
    const device_directory ids(p);
    group_model model(p, 0, 0, 1'767'225'600'000);
    std::vector<std::uint32_t> locals(p.groups[0].count);
    for (std::uint32_t i = 0; i < locals.size(); ++i) locals[i] = i;
    device_block block = model.make_block(locals);
    counting_output out;
    sim_time until = 1'767'225'600'000;
    for (auto _ : state) {
        until += 10'000; // ten seconds: ~20,000 ticks a round
        for (std::size_t i = 0; i < locals.size(); ++i) model.advance(block, i, until, out);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(out.ticks));
    state.counters["state_bytes_per_device"] = static_cast<double>(
        block.bytes_per_device(p.groups[0].fields.size(), p.groups[0].anomalies.size()));
}
BENCHMARK(BM_generate_cold_chain_ticks)->Unit(benchmark::kMillisecond);

/// Encodes one cold-chain tick per iteration with any encoder of the (out, tick, id, ts) shape.
template <class Encoder>
static void encode_bench(benchmark::State& state, const Encoder& enc) {
    captured_tick t{{4.3, 85.2, 2.21}};
    byte_buffer out;
    timestamp_formatter ts;
    const tick_view view = t.view();
    for (auto _ : state) {
        out.clear();
        enc.encode(out, view, "reefer-00007", ts);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(out.size()));
}
static void BM_encode_json(benchmark::State& s) {
    encode_bench(s, message_encoder(cold_chain(), payload_format::json, false));
}
static void BM_encode_csv(benchmark::State& s) {
    encode_bench(s, message_encoder(cold_chain(), payload_format::csv, false));
}
static void BM_encode_influx(benchmark::State& s) {
    encode_bench(s, message_encoder(cold_chain(), payload_format::influx, false));
}
static void BM_encode_label_jsonl(benchmark::State& s) {
    encode_bench(s, label_encoder(cold_chain(), label_format::jsonl));
}
BENCHMARK(BM_encode_json);
BENCHMARK(BM_encode_csv);
BENCHMARK(BM_encode_influx);
BENCHMARK(BM_encode_label_jsonl);

static void BM_write_fixed(benchmark::State& state) {
    char buf[40];
    double v = 12.3456;
    for (auto _ : state) {
        benchmark::DoNotOptimize(write_fixed(buf, v, 3));
        v += 0.001;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_write_fixed);

static void BM_to_chars_fixed(benchmark::State& state) {
    char buf[40];
    double v = 12.3456;
    for (auto _ : state) {
        benchmark::DoNotOptimize(std::to_chars(buf, buf + 40, v, std::chars_format::fixed, 3).ptr);
        v += 0.001;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_to_chars_fixed);

/// A window's worth of packed keys (64k messages, 2,000 devices, 32 s).
static std::vector<std::uint64_t> window_keys() {
    const rng_stream s{9};
    std::vector<std::uint64_t> keys;
    for (std::uint64_t i = 0; i < 65536; ++i)
        keys.push_back(((s.bits(i) % 32768) << 28) | ((s.bits(i + 1) % 2000) << 17) | i);
    return keys;
}

static void BM_sort_window_radix(benchmark::State& state) {
    const auto original = window_keys();
    std::vector<std::uint64_t> keys, scratch;
    for (auto _ : state) {
        keys = original;
        radix_sort(keys, scratch, 43);
        benchmark::DoNotOptimize(keys.data());
    }
    state.SetItemsProcessed(state.iterations() * 65536);
}
BENCHMARK(BM_sort_window_radix)->Unit(benchmark::kMicrosecond);

static void BM_sort_window_std(benchmark::State& state) {
    const auto original = window_keys();
    std::vector<std::uint64_t> keys;
    for (auto _ : state) {
        keys = original;
        std::sort(keys.begin(), keys.end());
        benchmark::DoNotOptimize(keys.data());
    }
    state.SetItemsProcessed(state.iterations() * 65536);
}
BENCHMARK(BM_sort_window_std)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
