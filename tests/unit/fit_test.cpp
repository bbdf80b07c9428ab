// `synthfeed fit`'s numerics: known parameters recovered from series synthesised here with a
// seeded std::mt19937_64, each within the tolerance stated beside its assertion; the
// building blocks (quantiles, resolution, ACF exponentials, jitter) and the TOML writer's
// formats; the labels readers and their errors.

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>

#include <gtest/gtest.h>

#include "src/analysis/fit_labels.hpp"
#include "src/analysis/fit_profile.hpp"
#include "src/analysis/fit_series.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

constexpr sim_time start = 1'767'225'600'000; // 2026-01-01T00:00:00Z, a Thursday
constexpr sim_duration minute = 60'000;
constexpr double two_pi = 2 * std::numbers::pi;

struct synthetic {
    std::vector<sim_time> t;
    std::vector<double> y;
    std::vector<bool> labels;
};

/// `n` points every `cadence` from `start`, each f(t, rng).
template <class F>
synthetic make(std::size_t n, sim_duration cadence, F f, std::uint64_t seed = 42) {
    std::mt19937_64 rng(seed);
    synthetic s;
    for (std::size_t i = 0; i < n; ++i) {
        const sim_time t = start + static_cast<sim_time>(i) * cadence;
        s.t.push_back(t);
        s.y.push_back(f(t, rng));
    }
    return s;
}

field_fit fit(const synthetic& s) {
    return fit_field("x", s.t, s.y, s.labels, fit_cadence(s.t));
}

/// An AR(1) x ← φx + σ·N(0,1), started from its stationary law.
struct ar1 {
    double phi, sigma, x;
    std::normal_distribution<double> n{0, 1};
    ar1(double phi_, double sigma_, std::mt19937_64& rng) : phi(phi_), sigma(sigma_), x(0) {
        x = n(rng) * sigma / std::sqrt(1 - phi * phi);
    }
    double next(std::mt19937_64& rng) { return x = phi * x + sigma * n(rng); }
};

const fit_component* find_component(const field_fit& f, sim_duration period) {
    for (const auto& c : f.rhythm.components)
        if (c.period == period) return &c;
    return nullptr;
}

/// |a - b| on a circle of `period` ms.
sim_duration circular_distance(sim_duration a, sim_duration b, sim_duration period) {
    const sim_duration d = std::abs(a - b) % period;
    return std::min(d, period - d);
}

TEST(FitSeries, DailyCosineAmplitudeAndPeak) {
    // 20 days at 5 min: 50 + 8·cos(2π(t - 14:00)/1d) + N(0, 1).
    std::normal_distribution<double> noise(0, 1);
    const auto s = make(20 * 288, 5 * minute, [&](sim_time t, std::mt19937_64& rng) {
        return 50 +
               8 * std::cos(two_pi * static_cast<double>((t - 14 * ms_per_hour) % ms_per_day) /
                            ms_per_day) +
               noise(rng);
    });
    const field_fit f = fit(s);
    ASSERT_EQ(f.rhythm.kind, rhythm_kind::harmonics) << f.rhythm.chosen;
    const fit_component* daily = find_component(f, ms_per_day);
    ASSERT_NE(daily, nullptr);
    EXPECT_NEAR(daily->amplitude, 8, 0.1);                                               // ±1.3 %
    EXPECT_LE(circular_distance(daily->peak, 14 * ms_per_hour, ms_per_day), 5 * minute); // ±5 min
    EXPECT_NEAR(f.trend.level, 50, 0.1);
    EXPECT_FALSE(f.trend.written);
    for (const auto& c : f.rhythm.components) {
        if (c.period != ms_per_day) {
            EXPECT_LT(c.amplitude, 0.2) << c.source; // no spurious harmonics of note
        }
    }
}

TEST(FitSeries, NonCalendarCyclePeriodAndAmplitude) {
    // 10 days at 1 min: 3·cos(2πt/13m) + N(0, 1).
    std::normal_distribution<double> noise(0, 1);
    const auto s = make(10 * 1440, minute, [&](sim_time t, std::mt19937_64& rng) {
        return 3 * std::cos(two_pi * static_cast<double>(t % (13 * minute)) / (13 * minute)) +
               noise(rng);
    });
    const field_fit f = fit(s);
    ASSERT_TRUE(f.cycle.found) << f.cycle.peak_ratio << " " << f.cycle.variance_share;
    EXPECT_NEAR(static_cast<double>(f.cycle.component.period), 13 * minute, 100); // ±0.1 s
    EXPECT_NEAR(f.cycle.component.amplitude, 3, 0.1);                             // ±3 %
    // The phase: the fitted cosine follows the true one over the series within 10 % of the
    // amplitude (the peak is an offset from the epoch, so it is checked through the values).
    const fit_component& c = f.cycle.component;
    for (std::size_t i = 0; i < s.t.size(); i += 997) {
        const sim_time t = s.t[i];
        const double fitted =
            c.amplitude *
            std::cos(two_pi * static_cast<double>(((t - c.peak) % c.period + c.period) % c.period) /
                     static_cast<double>(c.period));
        const double truth =
            3 * std::cos(two_pi * static_cast<double>(t % (13 * minute)) / (13 * minute));
        EXPECT_NEAR(fitted, truth, 0.3) << "at point " << i;
    }
}

TEST(FitSeries, Ar1PhiAndInnovationSigma) {
    // 20,000 points at 1 min of x ← 0.9x + 0.5·N(0, 1) around 10.
    std::mt19937_64 seed_rng(7);
    ar1 process(0.9, 0.5, seed_rng);
    const auto s = make(20'000, minute,
                        [&](sim_time, std::mt19937_64& rng) { return 10 + process.next(rng); });
    const field_fit f = fit(s);
    ASSERT_EQ(f.residual.ou.size(), 1u);
    EXPECT_NEAR(f.residual.ou[0].phi, 0.9, 0.015);          // reversion 0.1 ± 0.015
    EXPECT_NEAR(f.residual.ou[0].innovation_sd, 0.5, 0.03); // ±6 %
    EXPECT_LT(f.residual.noise_share, 0.03);                // no white noise to speak of
    EXPECT_EQ(f.rhythm.kind, rhythm_kind::none);
    EXPECT_NEAR(f.trend.level, 10, 0.2);
}

TEST(FitSeries, WhiteNoiseScaleBesideAnOuPart) {
    // x ← 0.95x + 0.3·N(0, 1) (stationary sd 0.96) plus white N(0, 0.5²): a fifth of the
    // residual variance is white.
    std::mt19937_64 seed_rng(11);
    ar1 process(0.95, 0.3, seed_rng);
    std::normal_distribution<double> white(0, 0.5);
    const auto s = make(40'000, minute, [&](sim_time, std::mt19937_64& rng) {
        return process.next(rng) + white(rng);
    });
    const field_fit f = fit(s);
    EXPECT_NEAR(f.residual.noise_sd, 0.5, 0.06); // ±12 %
    ASSERT_FALSE(f.residual.ou.empty());
    EXPECT_NEAR(f.residual.ou.back().phi, 0.95, 0.015);
    EXPECT_NEAR(f.residual.ou.back().innovation_sd, 0.3, 0.04); // ±13 %
}

TEST(FitSeries, TwoOuPartsFastAndSlow) {
    // Equal variance in a fast (φ = 0.5) and a slow (φ = 0.995) AR(1).
    std::mt19937_64 seed_rng(5);
    ar1 fast(0.5, std::sqrt(1 - 0.25), seed_rng),
        slow(0.995, std::sqrt(1 - 0.995 * 0.995), seed_rng);
    const auto s = make(60'000, minute, [&](sim_time, std::mt19937_64& rng) {
        return fast.next(rng) + slow.next(rng);
    });
    const field_fit f = fit(s);
    ASSERT_EQ(f.residual.ou.size(), 2u) << f.residual.rmse_one << " " << f.residual.rmse_two;
    EXPECT_NEAR(f.residual.ou[0].phi, 0.5, 0.1);
    EXPECT_NEAR(f.residual.ou[1].phi, 0.995, 0.004);
    EXPECT_NEAR(f.residual.ou[0].share, 0.5, 0.15);
    EXPECT_NEAR(f.residual.ou[1].share, 0.5, 0.15);
}

TEST(FitSeries, LinearTrendIsRecoveredAndOnlyWrittenWhenThere) {
    // 30 days hourly: 10 + 0.5/day + N(0, 1); then the same without the trend.
    std::normal_distribution<double> noise(0, 1);
    const auto with = make(30 * 24, ms_per_hour, [&](sim_time t, std::mt19937_64& rng) {
        return 10 + 0.5 * static_cast<double>(t - start) / ms_per_day + noise(rng);
    });
    const field_fit f = fit(with);
    EXPECT_TRUE(f.trend.written);
    EXPECT_NEAR(f.trend.per_day, 0.5, 0.01); // ±2 %
    EXPECT_NEAR(f.trend.level, 10, 0.2);
    const auto without =
        make(30 * 24, ms_per_hour, [&](sim_time, std::mt19937_64& rng) { return 10 + noise(rng); });
    EXPECT_FALSE(fit(without).trend.written);
}

TEST(FitSeries, SkewedMarginalKeepsItsQuantiles) {
    // i.i.d. exponential(1) values, q(p) = -ln(1 - p). A tail that long (the 99.9 % quantile
    // 5.6 interquartile ranges above the median) makes the whole signal a Gaussian copula: the
    // values' own quantiles, denser in the tails.
    std::exponential_distribution<double> e(1);
    const auto s = make(20'000, minute, [&](sim_time, std::mt19937_64& rng) { return e(rng); });
    const field_fit f = fit(s);
    ASSERT_TRUE(f.copula);
    const auto& q = f.marginal;
    const auto& probabilities = f.marginal_probabilities;
    ASSERT_EQ(q.size(), probabilities.size());
    EXPECT_EQ(probabilities.front(), 0.0);
    EXPECT_EQ(probabilities.back(), 1.0);
    auto at = [&](double p) {
        const auto i = static_cast<std::size_t>(
            std::find_if(probabilities.begin(), probabilities.end(),
                         [p](double x) { return std::abs(x - p) < 1e-12; }) -
            probabilities.begin());
        EXPECT_LT(i, q.size()) << p;
        return i < q.size() ? q[i] : 0.0;
    };
    for (double p : {0.05, 0.25, 0.5, 0.75, 0.95})
        EXPECT_NEAR(at(p), -std::log(1 - p), 0.06) << "p = " << p; // ±0.06 (sd 1)
    EXPECT_NEAR(at(0.999), -std::log(0.001), 0.6);                 // the far tail, on a denser grid
    EXPECT_GT(at(0.99) - at(0.5), 3 * (at(0.5) - at(0.01)));       // the long right tail is kept
    EXPECT_EQ(f.quantisation.min, 0.0);                            // never negative
    // The latent residual is white: no correlated part.
    EXPECT_NEAR(f.residual.lag1, 0, 0.03);
}

TEST(FitSeries, QuantisationStepAndIntegers) {
    EXPECT_DOUBLE_EQ(value_resolution({0.01, 0.07, 0.12, 1.5, 2.03}), 0.01);
    EXPECT_DOUBLE_EQ(value_resolution({1.5, 2.0, 3.5, 10.0}), 0.5);
    EXPECT_DOUBLE_EQ(value_resolution({3, 7, 12, 100}), 1);
    EXPECT_DOUBLE_EQ(value_resolution({0.2, 0.6, 1.0, 1.4}), 0.2);
    EXPECT_EQ(value_resolution({0.123456789012, 0.52398413, 0.98713}), 0);

    std::normal_distribution<double> noise(0, 3);
    const auto ints = make(
        2000, minute, [&](sim_time, std::mt19937_64& rng) { return std::round(100 + noise(rng)); });
    const field_fit f = fit(ints);
    EXPECT_TRUE(f.quantisation.integer);
    EXPECT_EQ(f.quantisation.resolution, 1);
    EXPECT_EQ(f.quantisation.precision, 0);
    const auto cents = make(2000, minute, [&](sim_time, std::mt19937_64& rng) {
        return std::round(100 * (5 + noise(rng))) / 100;
    });
    const field_fit g = fit(cents);
    EXPECT_FALSE(g.quantisation.integer);
    EXPECT_DOUBLE_EQ(g.quantisation.resolution, 0.01);
    EXPECT_EQ(g.quantisation.precision, 2);
}

TEST(FitSeries, CadenceJitterAndGaps) {
    // 1 min ± 20 s uniform jitter: j = median|Δt - c| / (2 - √2).
    std::mt19937_64 rng(3);
    std::uniform_int_distribution<sim_duration> offset(-20'000, 20'000);
    std::vector<sim_time> t;
    for (int i = 0; i < 20'000; ++i) t.push_back(start + i * minute + offset(rng));
    const fit_timing j = fit_cadence(t);
    EXPECT_EQ(j.cadence, minute);
    EXPECT_NEAR(static_cast<double>(j.jitter), 20'000, 1'000); // ±5 %
    EXPECT_EQ(j.gaps, 0u);

    std::vector<sim_time> regular;
    for (int i = 0; i < 100; ++i)
        regular.push_back(start + i * 5 * minute + (i >= 50 ? ms_per_hour : 0));
    const fit_timing r = fit_cadence(regular);
    EXPECT_EQ(r.cadence, 5 * minute);
    EXPECT_EQ(r.jitter, 0);
    EXPECT_EQ(r.gaps, 1u);
    EXPECT_EQ(r.longest_gap, ms_per_hour + 5 * minute);

    std::vector<sim_time> wild; // intervals spread more than the cap allows
    for (int i = 0; i < 100; ++i) wild.push_back(start + i * 10'000 + (i % 2) * 4'900);
    EXPECT_LT(fit_cadence(wild).jitter * 2, fit_cadence(wild).cadence);
}

TEST(FitSeries, HourOfWeekTableBeatsHarmonicsForOfficeHours) {
    // 8 weeks at 10 min: 20 during weekday office hours (Mon-Fri 09-17 UTC), else 5, plus a
    // little AR(1) noise. Harmonics cannot draw the steps; the table can.
    std::mt19937_64 seed_rng(13);
    ar1 process(0.5, 0.5, seed_rng);
    const auto s = make(8 * 7 * 144, 10 * minute, [&](sim_time t, std::mt19937_64& rng) {
        const sim_duration in_week = (t - 4 * ms_per_day) % (7 * ms_per_day);
        const auto day = in_week / ms_per_day, hour = in_week % ms_per_day / ms_per_hour;
        return (day < 5 && hour >= 9 && hour < 17 ? 20.0 : 5.0) + process.next(rng);
    });
    const field_fit f = fit(s);
    ASSERT_EQ(f.rhythm.kind, rhythm_kind::week_table) << f.rhythm.chosen;
    ASSERT_EQ(f.rhythm.week_table.size(), 168u);
    const double level = f.trend.level;
    EXPECT_NEAR(level + f.rhythm.week_table[10], 20, 0.5);         // Monday 10:00-11:00
    EXPECT_NEAR(level + f.rhythm.week_table[5 * 24 + 10], 5, 0.5); // Saturday 10:00
}

TEST(FitSeries, LevelRegimeIsFoundAndTakenOut) {
    // 20 days at 5 min of AR(1) (φ 0.8, sd 1) with the level up by 4 for days 8-10.
    std::mt19937_64 seed_rng(17);
    ar1 process(0.8, 0.6, seed_rng);
    const auto s = make(20 * 288, 5 * minute, [&](sim_time t, std::mt19937_64& rng) {
        const double day = static_cast<double>(t - start) / ms_per_day;
        return process.next(rng) + (day >= 8 && day < 10 ? 4.0 : 0.0);
    });
    const field_fit f = fit(s);
    ASSERT_EQ(f.regimes.size(), 1u) << f.rhythm.chosen;
    EXPECT_TRUE(f.regimes[0].level);
    EXPECT_EQ(f.regimes[0].count, 1u);
    EXPECT_NEAR(f.regimes[0].shift_lo, 4, 1); // ±1 sd: the baseline itself wanders (AR(1))
    EXPECT_NEAR(static_cast<double>(f.regimes[0].duration_lo), 2 * ms_per_day, 0.1 * ms_per_day);
    EXPECT_NEAR(f.residual.sd, 1, 0.1); // the shift is not left in the residual
    // and plain AR(1) data has none
    ar1 calm(0.8, 0.6, seed_rng);
    const auto quiet =
        make(20 * 288, 5 * minute, [&](sim_time, std::mt19937_64& rng) { return calm.next(rng); });
    EXPECT_TRUE(fit(quiet).regimes.empty());
}

TEST(FitSeries, LabelledSpikesAndShiftsGiveAnomalyRows) {
    // 20 days at 5 min of AR(1) noise (sd ≈ 1). Every 2 days a spike of +20..+30 on one
    // point (10 spikes: 0.5/day); every 4 days, 1 day later, a 2 h level shift of -15 (5).
    std::mt19937_64 seed_rng(19);
    ar1 process(0.7, 0.7, seed_rng);
    std::uniform_real_distribution<double> spike_size(20, 30);
    synthetic s = make(20 * 288, 5 * minute,
                       [&](sim_time, std::mt19937_64& rng) { return 100 + process.next(rng); });
    s.labels.assign(s.y.size(), false);
    std::vector<double> sizes;
    for (int k = 0; k < 10; ++k) {
        const std::size_t at = static_cast<std::size_t>(k) * 576 + 100;
        sizes.push_back(spike_size(seed_rng));
        s.y[at] += sizes.back();
        for (std::size_t i = at - 3; i <= at + 3; ++i) s.labels[i] = true; // a window around it
    }
    for (int k = 0; k < 5; ++k) {
        const std::size_t at = static_cast<std::size_t>(k) * 1152 + 400;
        for (std::size_t i = at; i < at + 24; ++i) s.y[i] -= 15, s.labels[i] = true;
        for (std::size_t i = at - 4; i < at + 28; ++i) s.labels[i] = true;
    }
    const field_fit f = fit(s);
    EXPECT_EQ(f.windows, 15u);
    ASSERT_EQ(f.anomalies.size(), 2u);
    const fit_anomaly& spikes = f.anomalies[0];
    EXPECT_EQ(spikes.kind, "spike");
    EXPECT_EQ(spikes.count, 10u);
    EXPECT_NEAR(spikes.rate_per_day, 0.5, 0.01);
    EXPECT_EQ(spikes.direction, "up");
    const auto [lo, hi] = std::minmax_element(sizes.begin(), sizes.end());
    EXPECT_NEAR(spikes.magnitude_lo, *lo, 2.5); // ± the normal model's noise at that point
    EXPECT_NEAR(spikes.magnitude_hi, *hi, 2.5);
    const fit_anomaly& shifts = f.anomalies[1];
    EXPECT_EQ(shifts.kind, "level_shift");
    EXPECT_EQ(shifts.count, 5u);
    EXPECT_NEAR(shifts.rate_per_day, 0.25, 0.01);
    EXPECT_EQ(shifts.direction, "down");
    EXPECT_NEAR(shifts.magnitude_lo, 15, 2); // ± 2 sd of the noise over the shift
    EXPECT_NEAR(shifts.magnitude_hi, 15, 2);
    EXPECT_NEAR(static_cast<double>(shifts.duration_hi), 2 * ms_per_hour, 20 * minute);
    EXPECT_NEAR(f.trend.level, 100, 0.3); // the labelled rows stayed out of the level
}

TEST(FitSeries, SampleQuantilesAndNormalScores) {
    EXPECT_EQ(sample_quantiles({4, 1, 3, 2, 5}, 5), (std::vector<double>{1, 2, 3, 4, 5}));
    EXPECT_EQ(sample_quantiles({1, 2}, 3), (std::vector<double>{1, 1.5, 2}));
    const auto z = normal_scores({10, 30, 20, 20});
    EXPECT_NEAR(z[0], -1.1503, 1e-3); // Φ⁻¹(0.5/4)
    EXPECT_DOUBLE_EQ(z[2], z[3]);     // ties share the average rank
    EXPECT_NEAR(z[2], 0, 1e-12);
}

TEST(FitSeries, AcfExponentialsRecoverKnownParts) {
    std::vector<std::size_t> lags;
    std::vector<double> one, two;
    for (std::size_t k = 1; k <= 200; ++k) {
        lags.push_back(k);
        one.push_back(0.8 * std::pow(0.9, static_cast<double>(k)));
        two.push_back(0.4 * std::pow(0.6, static_cast<double>(k)) +
                      0.5 * std::pow(0.99, static_cast<double>(k)));
    }
    const exponential_fit a = fit_acf_exponentials(lags, one, 1);
    EXPECT_NEAR(a.parts[0].first, 0.8, 1e-3);
    EXPECT_NEAR(a.parts[0].second, 0.9, 1e-4);
    const exponential_fit b = fit_acf_exponentials(lags, two, 2);
    ASSERT_EQ(b.parts.size(), 2u);
    EXPECT_NEAR(b.parts[0].first, 0.4, 0.01);
    EXPECT_NEAR(b.parts[0].second, 0.6, 0.01);
    EXPECT_NEAR(b.parts[1].first, 0.5, 0.01);
    EXPECT_NEAR(b.parts[1].second, 0.99, 1e-3);
}

TEST(FitProfile, Formats) {
    EXPECT_EQ(fit_duration(0), "0s");
    EXPECT_EQ(fit_duration(5 * minute), "5m");
    EXPECT_EQ(fit_duration(ms_per_day + 2 * ms_per_hour + 30 * minute + 250), "1d2h30m250ms");
    EXPECT_EQ(fit_peak(14 * ms_per_hour + 30 * minute, ms_per_day), "14:30");
    // 4 days after the epoch (a Thursday) is a Monday.
    EXPECT_EQ(fit_peak(4 * ms_per_day + 9 * ms_per_hour, 7 * ms_per_day), "Mon 09:00");
    EXPECT_EQ(fit_peak(0, 7 * ms_per_day), "Thu 00:00");
    EXPECT_EQ(fit_peak(7 * ms_per_day - 10'000, 7 * ms_per_day), "Thu 00:00"); // rounds around
    EXPECT_EQ(fit_peak(2 * ms_per_hour, 12 * ms_per_hour), "2h");
    EXPECT_EQ(fit_peak(171 * ms_per_day + 6 * ms_per_hour, ms_per_year), "day 172 06:00");
    EXPECT_EQ(fit_rate(2), "2/day");
    EXPECT_EQ(fit_rate(0.1), "0.7/week");
    EXPECT_EQ(profile_field_name("value"), "value");
    EXPECT_EQ(profile_field_name("temp (°C)"), "temp____C_");
    EXPECT_EQ(profile_field_name("ts"), "value_ts");
    EXPECT_EQ(profile_group_name("Twitter volume AAPL"), "Twitter_volume_AAPL");
}

TEST(FitLabels, NabWindowsMatchByBaseNameOrPathSuffix) {
    const auto dir = std::filesystem::temp_directory_path() / "synthfeed-fit-labels";
    std::filesystem::create_directories(dir);
    const auto json = dir / "windows.json";
    std::ofstream(json) << R"({
  "realTweets/a.csv": [["2026-01-01 00:10:00.000000", "2026-01-01 00:20:00.000000"]],
  "other/b.csv": []
})";
    const auto t =
        parse_series_csv("timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:10:00,2\n"
                         "2026-01-01 00:15:00,3\n2026-01-01 00:20:00,4\n2026-01-01 00:25:00,5\n",
                         "a.csv");
    const row_labels by_suffix = read_window_labels(json.string(), "data/realTweets/a.csv", t);
    EXPECT_EQ(by_suffix.rows, (std::vector<bool>{false, true, true, true, false}));
    EXPECT_EQ(by_suffix.windows, 1u);
    const row_labels by_base = read_window_labels(json.string(), "elsewhere/a.csv", t);
    EXPECT_EQ(by_base.rows, by_suffix.rows);
    const row_labels none = read_window_labels(json.string(), "c.csv", t);
    EXPECT_TRUE(none.rows.empty());
    EXPECT_NE(none.warning.find("names no window"), std::string::npos);
    EXPECT_TRUE(read_window_labels(json.string(), "x/b.csv", t).rows.empty());

    std::ofstream(dir / "bad.json") << "{\n  \"a.csv\": [[\"2026-01-01\", \n}";
    try {
        read_window_labels((dir / "bad.json").string(), "a.csv", t);
        ADD_FAILURE() << "malformed JSON was accepted";
    } catch (const config_error& e) {
        EXPECT_EQ(e.where().line, 3) << e.what();
    }
    std::ofstream(dir / "shape.json") << "{\n  \"a.csv\": [\"2026-01-01\"]\n}";
    EXPECT_THROW(read_window_labels((dir / "shape.json").string(), "a.csv", t), config_error);
    std::filesystem::remove_all(dir);
}

TEST(FitLabels, IsAnomalyColumn) {
    const auto t = parse_series_csv("ts,v,is_anomaly\n1767225600,1,0\n1767225660,2,1\n"
                                    "1767225720,3,1\n1767225780,4,0\n1767225840,5,1\n",
                                    "l.csv");
    const row_labels l = column_labels(t, "is_anomaly");
    EXPECT_EQ(l.rows, (std::vector<bool>{false, true, true, false, true}));
    EXPECT_EQ(l.windows, 2u);
    const auto bad = parse_series_csv("ts,v,is_anomaly\n1767225600,1,0\n1767225660,2,2\n", "b.csv");
    try {
        column_labels(bad, "is_anomaly");
        ADD_FAILURE() << "a label of 2 was accepted";
    } catch (const config_error& e) {
        EXPECT_EQ(e.where().line, 3);
        EXPECT_EQ(e.key(), "is_anomaly");
    }
}

} // namespace
} // namespace synthfeed
