// Statistical checks of every signal, noise and drift kind with fixed seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "src/core/rng.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;

namespace {

collection one_field(const std::string& lines, sim_duration span = 20'000'000, int count = 1,
                     const std::string& interval = "1s") {
    return generate(profile_from(one_field_profile(lines, "", count, interval)), span);
}

} // namespace

TEST(Rng, DrawsHaveTheRightMoments) {
    const rng_stream s{12345};
    std::vector<double> u, n, l;
    for (std::uint64_t i = 0; i < 200'000; ++i) {
        u.push_back(s.uniform(i));
        n.push_back(s.normal(i));
        l.push_back(s.laplace(i));
    }
    EXPECT_NEAR(mean(u), 0.5, 0.005);
    EXPECT_NEAR(stddev(u), std::sqrt(1.0 / 12), 0.005);
    EXPECT_NEAR(mean(n), 0.0, 0.01);
    EXPECT_NEAR(stddev(n), 1.0, 0.01);
    EXPECT_NEAR(stddev(l), std::sqrt(2.0), 0.02);
    EXPECT_EQ(s.bits(77), (rng_stream{12345}.bits(77))); // pure function of key and counter
    EXPECT_NE(s.child(1).bits(0), s.child(2).bits(0));
}

TEST(Rng, LaplaceMagnitudeIsExponentialAcrossTheZiggurat) {
    // Kolmogorov-Smirnov distance of |x| from Exp(1), symmetric signs, and the tail beyond
    // the ziggurat's base strip (r = 7.697) at its probability e^-r.
    const rng_stream s{99};
    constexpr std::size_t n = 1'000'000;
    std::vector<double> magnitudes;
    std::size_t negative = 0, tail = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        const double x = s.laplace(i);
        negative += x < 0;
        tail += std::abs(x) > 7.697117470131487;
        magnitudes.push_back(std::abs(x));
    }
    std::sort(magnitudes.begin(), magnitudes.end());
    double distance = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double cdf = -std::expm1(-magnitudes[i]);
        distance = std::max({distance, std::abs(cdf - static_cast<double>(i) / n),
                             std::abs(cdf - static_cast<double>(i + 1) / n)});
    }
    EXPECT_LT(distance, 1.63 / std::sqrt(static_cast<double>(n))); // KS at the 1 % level
    EXPECT_NEAR(static_cast<double>(negative) / n, 0.5, 0.002);
    EXPECT_NEAR(static_cast<double>(tail), n * std::exp(-7.697117470131487), 70); // ~453
    EXPECT_GT(magnitudes.back(), 9.0);
}

TEST(Rng, StudentTHasHeavierTailsThanNormal) {
    const rng_stream s{5};
    int t_tail = 0, normal_tail = 0;
    std::vector<double> t;
    for (std::uint64_t i = 0; i < 100'000; ++i) {
        const double x = s.student_t(i, 3);
        t.push_back(x);
        t_tail += std::abs(x) > 4;
        normal_tail += std::abs(s.normal(i)) > 4;
    }
    EXPECT_NEAR(mean(t), 0.0, 0.03);
    EXPECT_NEAR(stddev(t), std::sqrt(3.0), 0.15); // var = df / (df - 2)
    EXPECT_GT(t_tail, 20 * std::max(normal_tail, 1));
}

TEST(Signal, ConstantWithGaussianNoise) {
    auto c = one_field("signal = { kind = \"constant\", value = 10.0 }\nnoise = { kind = "
                       "\"gaussian\", stddev = 2.0 }");
    const auto x = c.field(0);
    ASSERT_EQ(x.size(), 20'000u);
    EXPECT_NEAR(mean(x), 10.0, 0.05);
    EXPECT_NEAR(stddev(x), 2.0, 0.05);
}

TEST(Signal, UniformAndLaplaceNoiseScale) {
    auto u = one_field("signal = { kind = \"constant\", value = 0.0 }\nnoise = { kind = "
                       "\"uniform\", amplitude = 3.0 }");
    const auto ux = u.field(0);
    EXPECT_NEAR(stddev(ux), 3.0 / std::sqrt(3.0), 0.05);
    EXPECT_LE(*std::max_element(ux.begin(), ux.end()), 3.0);
    auto l = one_field("signal = { kind = \"constant\", value = 0.0 }\nnoise = { kind = "
                       "\"laplace\", scale = 1.5 }");
    EXPECT_NEAR(stddev(l.field(0)), 1.5 * std::sqrt(2.0), 0.1);
}

TEST(Signal, SeasonalValuesAtKnownTimes) {
    auto c = generate(
        profile_from(
            "name = \"t\"\n[[group]]\nname = \"g\"\nphase = \"aligned\"\ninterval = \"1h\"\n"
            "[[group.field]]\nname = \"x\"\nprecision = 6\n"
            "signal = { kind = \"seasonal\", mean = 20.0, components = [ { amplitude = 5.0, period "
            "= \"24h\", peak = \"14h\" }, { amplitude = 1.0, period = \"7d\" } ] }"),
        ms_per_day);
    ASSERT_EQ(c.ticks.size(), 24u);
    // At 14:00 the daily component peaks; the weekly one adds cos(2π·(days since epoch)/7).
    const double days = static_cast<double>(test_start + 14 * 3'600'000) / ms_per_day;
    const double weekly = std::cos(2 * M_PI * std::fmod(days, 7.0) / 7.0);
    EXPECT_NEAR(c.ticks[14].values[0], 25.0 + weekly, 1e-6);
    EXPECT_NEAR(c.ticks[2].values[0], 15.0 + std::cos(2 * M_PI * std::fmod(days - 0.5, 7.0) / 7.0),
                1e-6);
}

TEST(Signal, SineSquareSawtoothShapes) {
    auto sine =
        one_field("signal = { kind = \"sine\", mean = 0.0, amplitude = 2.0, period = \"100s\" }",
                  100'000'000);
    EXPECT_NEAR(mean(sine.field(0)), 0.0, 0.01);
    EXPECT_NEAR(stddev(sine.field(0)), 2.0 / std::sqrt(2.0), 0.01);
    auto square = one_field("signal = { kind = \"square\", mean = 1.0, amplitude = 1.0, period = "
                            "\"100s\", duty = 0.25 }",
                            100'000'000);
    const auto sq = square.field(0);
    const auto high = std::count(sq.begin(), sq.end(), 2.0);
    EXPECT_EQ(high + std::count(sq.begin(), sq.end(), 0.0), static_cast<long>(sq.size()));
    EXPECT_NEAR(static_cast<double>(high) / static_cast<double>(sq.size()), 0.25, 0.01);
    auto saw = one_field(
        "signal = { kind = \"sawtooth\", mean = 0.0, amplitude = 1.0, period = \"1000s\" }",
        1'000'000);
    const auto sw = saw.field(0);
    EXPECT_NEAR(stddev(sw), 1.0 / std::sqrt(3.0), 0.01); // uniform on [-1, 1]
}

TEST(Signal, RandomWalkVarianceGrowsAndStaysInBounds) {
    // Unbounded walk: after n steps of stddev s, the spread across devices is s·√n.
    auto c =
        one_field("signal = { kind = \"random_walk\", start = 0.0, step = 1.0 }", 400'000, 400);
    std::vector<double> final_values;
    for (const auto& t : c.ticks)
        if (t.seq == 399) final_values.push_back(t.values[0]);
    ASSERT_EQ(final_values.size(), 400u);
    EXPECT_NEAR(stddev(final_values), std::sqrt(399.0), 2.5);
    auto bounded = one_field(
        "signal = { kind = \"random_walk\", start = 50.0, step = 5.0, min = 0.0, max = 100.0 }");
    const auto b = bounded.field(0);
    EXPECT_GE(*std::min_element(b.begin(), b.end()), 0.0);
    EXPECT_LE(*std::max_element(b.begin(), b.end()), 100.0);
}

TEST(Signal, OrnsteinUhlenbeckRevertsToItsMean) {
    // AR(1) with phi = 1 - reversion: stationary stddev = sigma / sqrt(1 - phi²).
    auto c = one_field("signal = { kind = \"ou\", mean = 5.0, reversion = 0.2, sigma = 1.0 }",
                       50'000'000);
    const auto x = c.field(0);
    EXPECT_NEAR(mean(x), 5.0, 0.1);
    EXPECT_NEAR(stddev(x), 1.0 / std::sqrt(1 - 0.8 * 0.8), 0.05);
}

TEST(Signal, ScheduleStepsAndInterpolates) {
    const std::string pts = "points = [[\"00:00\", 10.0], [\"12:00\", 20.0]]";
    auto step = one_field("signal = { kind = \"schedule\", " + pts + " }", ms_per_day, 1, "1h");
    auto linear =
        one_field("signal = { kind = \"schedule\", interpolate = \"linear\", " + pts + " }",
                  ms_per_day, 1, "1h");
    // Device phase is random within the hour; compare by the hour each tick falls in.
    for (std::size_t i = 0; i < step.ticks.size(); ++i) {
        const double hours =
            static_cast<double>((step.ticks[i].ts - test_start) % ms_per_day) / 3.6e6;
        EXPECT_DOUBLE_EQ(step.ticks[i].values[0], hours < 12 ? 10.0 : 20.0);
        const double expect = hours < 12 ? 10 + 10 * hours / 12 : 20 - 10 * (hours - 12) / 12;
        EXPECT_NEAR(linear.ticks[i].values[0], expect, 1e-3);
    }
}

TEST(Signal, CounterIsMonotonicWithTheRightRate) {
    auto c = one_field("type = \"int\"\nsignal = { kind = \"counter\", start = 100.0, rate = 2.0, "
                       "rate_noise = 0.5 }",
                       10'000'000);
    const auto x = c.field(0);
    for (std::size_t i = 1; i < x.size(); ++i) ASSERT_GE(x[i], x[i - 1]);
    EXPECT_NEAR(x.back() - x.front(), 2.0 * 9'999, 2.0 * 9'999 * 0.02);
}

TEST(Drift, LinearExponentialAndRandomWalk) {
    auto lin = one_field("signal = { kind = \"constant\", value = 0.0 }\ndrift = { kind = "
                         "\"linear\", per_day = 2.0 }",
                         2 * ms_per_day, 1, "1h");
    EXPECT_NEAR(slope(lin.field(0)), 2.0 / 24, 1e-6);
    auto exp = one_field("signal = { kind = \"constant\", value = 0.0 }\ndrift = { kind = "
                         "\"exponential\", scale = 1.0, tau = \"1d\" }",
                         2 * ms_per_day, 1, "1h");
    const auto& last = exp.ticks.back();
    EXPECT_NEAR(last.values[0], std::expm1(static_cast<double>(last.ts - test_start) / ms_per_day),
                1e-3);
    auto rw = one_field("signal = { kind = \"constant\", value = 0.0 }\ndrift = { kind = "
                        "\"random_walk\", step = 0.5 }",
                        100'000, 400);
    std::vector<double> ends;
    for (const auto& t : rw.ticks)
        if (t.seq == 99) ends.push_back(t.values[0]);
    EXPECT_NEAR(stddev(ends), 0.5 * std::sqrt(99.0), 0.6);
}

TEST(Field, QuantisationClampingAndPerDeviceSpread) {
    auto c = one_field("resolution = 0.5\nmin = -1.0\nmax = 1.0\nsignal = { kind = \"constant\", "
                       "value = [-3.0, 3.0] }\nnoise = { kind = \"gaussian\", stddev = 0.3 }",
                       100'000, 50);
    std::map<std::uint64_t, double> first;
    for (const auto& t : c.ticks) {
        const double v = t.values[0];
        ASSERT_GE(v, -1.0);
        ASSERT_LE(v, 1.0);
        ASSERT_DOUBLE_EQ(v * 2, std::round(v * 2));
        first.emplace(t.device, v);
    }
    std::set<double> distinct;
    for (auto& [d, v] : first) distinct.insert(v);
    EXPECT_GT(distinct.size(), 2u); // devices got different levels
}

TEST(Signal, SpecsBuiltOutsideTheLoaderGiveTheSameValues) {
    // The loader stores 1/period and 1/resolution for the hot path; a spec built without them
    // must still give the same values (plain % and a computed inverse). A square wave would
    // stick at its low level if the phase were not reduced.
    for (const char* signal :
         {"kind = \"seasonal\", mean = 4.0, amplitude = 3.0, period = \"7m\", peak = \"2m\"",
          "kind = \"square\", mean = 4.0, amplitude = 3.0, duty = 0.3, period = \"7m\", phase = "
          "\"2m\""}) {
        const profile p = profile_from(
            one_field_profile("resolution = 0.1\nsignal = { " + std::string(signal) + " }"));
        const field_spec& loaded = p.groups[0].fields[0];
        field_spec bare = loaded;
        for (auto& c : bare.signal.components) c.inverse_period = 0;
        bare.inverse_resolution = 0;
        field_state a = init_field(loaded, rng_stream{7}), b = init_field(bare, rng_stream{7});
        std::set<double> seen;
        for (std::uint64_t tick = 0; tick < 5'000; ++tick) {
            const sim_time ts = 1'767'225'600'000 + static_cast<sim_time>(tick) * 997;
            const double x =
                finish_field_value(loaded, next_field_value(loaded, a, tick, ts, 0, 1000, {}));
            const double y =
                finish_field_value(bare, next_field_value(bare, b, tick, ts, 0, 1000, {}));
            ASSERT_EQ(x, y) << signal << " tick " << tick;
            seen.insert(x);
        }
        EXPECT_GT(seen.size(), 1u) << signal;
    }
}
