// `synthfeed fit`'s numerics on a synthetic series: a daily and weekly rhythm, an AR(1) and
// whole values, at 5 min (100,000 points: 347 days; every candidate rhythm, the table and
// the cycle search run). Target: at most 1 s per 100,000 points.
#include <benchmark/benchmark.h>

#include <cmath>
#include <numbers>
#include <random>

#include "src/analysis/fit_series.hpp"

namespace {

using namespace synthfeed;

void BM_fit_field(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    constexpr sim_time start = 1'767'225'600'000;
    constexpr sim_duration cadence = 5 * 60'000;
    std::mt19937_64 rng(1);
    std::normal_distribution<double> normal(0, 1);
    std::vector<sim_time> t(n);
    std::vector<double> y(n);
    double x = 0;
    for (std::size_t i = 0; i < n; ++i) {
        t[i] = start + static_cast<sim_time>(i) * cadence;
        const double day = static_cast<double>(t[i] % ms_per_day) / ms_per_day;
        const double week = static_cast<double>(t[i] % (7 * ms_per_day)) / (7 * ms_per_day);
        x = 0.95 * x + 3 * normal(rng);
        y[i] = std::round(100 + 20 * std::cos(2 * std::numbers::pi * day) +
                          10 * std::cos(2 * std::numbers::pi * week) + x);
    }
    const fit_timing timing = fit_cadence(t);
    for (auto _ : state) benchmark::DoNotOptimize(fit_field("x", t, y, {}, timing));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_fit_field)->Arg(10'000)->Arg(100'000)->Arg(300'000)->Unit(benchmark::kMillisecond);

} // namespace
