// The profile language for real signals: sums of parts, empirical marginals (a quantile map),
// noise relative to the level and by hour, calendar times, and regimes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "src/config/profile_loader.hpp"
#include "src/core/errors.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;

namespace {

/// One device on the interval grid from test_start (phase aligned), field `x` from `lines`;
/// `extra` follows the field (episode tables).
collection one_field(const std::string& lines, sim_duration span, const std::string& interval,
                     const std::string& extra = "") {
    return generate(profile_from("name = \"t\"\nseed = 99\n[[group]]\nname = \"g\"\nid = "
                                 "\"d-{index}\"\nphase = \"aligned\"\ninterval = \"" +
                                 interval + "\"\n[[group.field]]\nname = \"x\"\n" + lines + "\n" +
                                 extra),
                    span);
}

/// Pearson correlation of x[i] and x[i + 1].
double lag1(const std::vector<double>& x) {
    const double m = mean(x);
    double num = 0, den = 0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i) num += (x[i] - m) * (x[i + 1] - m);
    for (double v : x) den += (v - m) * (v - m);
    return num / den;
}

/// The CDF of the piecewise-linear distribution through quantiles at 0, 1/n, ..., 1.
double quantile_cdf(const std::vector<double>& q, double x) {
    if (x <= q.front()) return 0;
    if (x >= q.back()) return 1;
    const auto it = std::upper_bound(q.begin(), q.end(), x);
    const auto i = static_cast<std::size_t>(it - q.begin()) - 1;
    const double n = static_cast<double>(q.size() - 1);
    return (static_cast<double>(i) + (x - q[i]) / (q[i + 1] - q[i])) / n;
}

std::string toml_array(const std::vector<double>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i)
        out += std::string(i ? ", " : "") + fmt::format("{:.10g}", v[i]);
    return out + "]";
}

std::string load_error(const std::string& lines, const std::string& extra = "") {
    try {
        profile_from(one_field_profile(lines, extra));
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST(RealSignals, TheQuantileMapReproducesTheMarginalAndKeepsTheCorrelation) {
    // A skewed marginal: 20·exp(0.3·Z), 101 quantiles (the ends at the 0.05 % tails).
    std::vector<double> q;
    for (int i = 0; i <= 100; ++i) {
        const double p = std::clamp(i / 100.0, 0.0005, 0.9995);
        // Φ⁻¹(p) by bisection on erfc: exact enough for a test's marginal.
        double lo = -6, hi = 6;
        for (int k = 0; k < 80; ++k) {
            const double mid = (lo + hi) / 2;
            (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
        }
        q.push_back(20 * std::exp(0.3 * lo));
    }
    const auto c = one_field("signal = { kind = \"ou\", reversion = 0.2, marginal = "
                             "{ quantiles = " +
                                 toml_array(q) + " } }",
                             100'000'000, "1s");
    auto x = c.field(0);
    ASSERT_EQ(x.size(), 100'000u);
    // Lag-1 correlation: the AR(1)'s 1 − reversion = 0.8, kept within 0.02 by the map.
    EXPECT_NEAR(lag1(x), 0.8, 0.02);
    std::sort(x.begin(), x.end());
    double ks = 0;
    const double n = static_cast<double>(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double f = quantile_cdf(q, x[i]);
        ks = std::max({ks, std::abs(f - static_cast<double>(i) / n),
                       std::abs(f - static_cast<double>(i + 1) / n)});
    }
    EXPECT_LE(ks, 0.02);
    EXPECT_GE(x.front(), q.front());
    EXPECT_LE(x.back(), q.back());
}

TEST(RealSignals, AMarginalOuWithTwoTimeScalesHasTheirMixedCorrelation) {
    // Latent z = √0.6·z₁ + √0.3·z₂ + √0.1·ε with φ₁ = 0.99, φ₂ = 0.5: ρ(k) = 0.6·0.99^k +
    // 0.3·0.5^k. Mapped through a normal's quantiles (near the identity), the values keep it.
    std::vector<double> q;
    for (int i = 0; i <= 200; ++i) {
        const double p = std::clamp(i / 200.0, 0.0005, 0.9995);
        double lo = -6, hi = 6;
        for (int k = 0; k < 80; ++k) {
            const double mid = (lo + hi) / 2;
            (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
        }
        q.push_back(lo);
    }
    const auto c = one_field("signal = { kind = \"ou\", reversion = [0.01, 0.5], shares = [0.6, "
                             "0.3], marginal = { quantiles = " +
                                 toml_array(q) + " } }",
                             200'000'000, "1s");
    const auto x = c.field(0);
    const double m = mean(x);
    auto lag = [&](std::size_t k) {
        double num = 0, den = 0;
        for (std::size_t i = 0; i + k < x.size(); ++i) num += (x[i] - m) * (x[i + k] - m);
        for (double v : x) den += (v - m) * (v - m);
        return num / den;
    };
    EXPECT_NEAR(lag(1), 0.6 * 0.99 + 0.3 * 0.5, 0.03);
    EXPECT_NEAR(lag(10), 0.6 * std::pow(0.99, 10) + 0.3 * std::pow(0.5, 10), 0.05);
    EXPECT_NEAR(stddev(x), 1.0, 0.05);
    EXPECT_NE(load_error("signal = { kind = \"ou\", reversion = [0.01, 0.5], shares = [0.8, 0.3], "
                         "marginal = { quantiles = [0.0, 1.0] } }")
                  .find("must not add up to more than 1"),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"ou\", reversion = [0.01], shares = [0.8] }")
                  .find("shares need a marginal"),
              std::string::npos);
}

TEST(RealSignals, ASumAddsItsParts) {
    const std::string seasonal =
        "{ kind = \"seasonal\", mean = 10.0, amplitude = 2.0, period = \"1d\", peak = \"14:00\" }";
    const auto alone = one_field("signal = " + seasonal, 2 * ms_per_day, "10m");
    const auto sum = one_field("signal = { kind = \"sum\", components = [ " + seasonal +
                                   ", { kind = \"constant\", value = 5.0 } ] }",
                               2 * ms_per_day, "10m");
    ASSERT_EQ(alone.ticks.size(), sum.ticks.size());
    for (std::size_t i = 0; i < sum.ticks.size(); ++i) {
        EXPECT_EQ(alone.ticks[i].ts, sum.ticks[i].ts);
        EXPECT_NEAR(sum.ticks[i].values[0] - alone.ticks[i].values[0], 5.0, 1e-9);
    }
    // Two ou parts: their stationary variances add (σ²/(1 − φ²) each).
    const auto two =
        one_field("signal = { kind = \"sum\", components = [ { kind = \"ou\", mean "
                  "= 1.0, sigma = 1.0, reversion = 0.5 }, { kind = \"ou\", mean = 2.0, sigma = "
                  "0.1, reversion = 0.01 } ] }",
                  100'000'000, "1s");
    const auto x = two.field(0);
    const double expected = 1 / (1 - 0.25) + 0.01 / (1 - 0.99 * 0.99);
    EXPECT_NEAR(mean(x), 3.0, 0.1);
    EXPECT_NEAR(stddev(x) * stddev(x), expected, 0.15 * expected);
    // The slow part makes the correlation at lag 50 far above the fast part's 0.5^50.
    EXPECT_GT(lag1(x), 0.5);
}

TEST(RealSignals, CalendarPeaksFallOnTheirWeekdayAndDayOfTheYear) {
    // test_start, 2026-01-01, is a Thursday: Monday 09:00 is 4 days and 9 hours later.
    const auto weekly = one_field("signal = { kind = \"seasonal\", mean = 0.0, amplitude = 1.0, "
                                  "period = \"7d\", peak = \"Mon 09:00\" }",
                                  7 * ms_per_day, "1h");
    const auto x = weekly.field(0);
    const auto top = static_cast<std::size_t>(std::max_element(x.begin(), x.end()) - x.begin());
    EXPECT_EQ(weekly.ticks[top].ts, test_start + 4 * ms_per_day + 9 * 3'600'000);
    EXPECT_NEAR(x[top], 1.0, 1e-9);
    // Day 172 of the year with the Gregorian mean year: within a day of 2026-06-21 (day 172).
    const auto yearly = one_field("signal = { kind = \"seasonal\", mean = 0.0, amplitude = 1.0, "
                                  "period = \"1y\", peak = \"day 172\" }",
                                  365 * ms_per_day, "1h");
    const auto y = yearly.field(0);
    const auto peak = static_cast<std::size_t>(std::max_element(y.begin(), y.end()) - y.begin());
    const double day_of_year =
        static_cast<double>(yearly.ticks[peak].ts - test_start) / ms_per_day + 1;
    EXPECT_NEAR(day_of_year, 172, 1.0);
    // A weekly schedule written from Monday: Saturday and Sunday at the weekend level.
    const auto schedule = one_field(
        "signal = { kind = \"schedule\", period = \"7d\", points = [[\"Mon 00:00\", 1.0], "
        "[\"Mon 08:00\", 5.0], [\"Fri 18:00\", 1.0], [\"Sat 00:00\", 2.0]] }",
        7 * ms_per_day, "1h");
    for (const auto& t : schedule.ticks) {
        // Days since Monday 00:00 (test_start is Thursday: +3).
        const sim_duration since_monday = (t.ts - test_start + 3 * ms_per_day) % (7 * ms_per_day);
        const auto day = since_monday / ms_per_day, hour = since_monday % ms_per_day / 3'600'000;
        const double expect = day >= 5                 ? 2.0
                              : day == 4 && hour >= 18 ? 1.0
                              : day == 0 && hour < 8   ? 1.0
                                                       : 5.0;
        EXPECT_EQ(t.values[0], expect) << "day " << day << " hour " << hour;
    }
}

TEST(RealSignals, NoiseGrowsWithTheLevelAndFollowsTheHour) {
    const auto relative = one_field("signal = { kind = \"constant\", value = 100.0 "
                                    "}\nnoise = { kind = \"gaussian\", stddev = 0.0, relative = "
                                    "0.05 }",
                                    20'000'000, "1s");
    EXPECT_NEAR(stddev(relative.field(0)), 5.0, 0.1);
    std::string hourly = "[";
    for (int h = 0; h < 24; ++h) hourly += h == 12 ? "3.0, " : "0.0, ";
    hourly.resize(hourly.size() - 2);
    hourly += "]";
    const auto by_hour = one_field("signal = { kind = \"constant\", value = 0.0 "
                                   "}\nnoise = { kind = \"gaussian\", stddev = 1.0, hourly = " +
                                       hourly + " }",
                                   ms_per_day, "10s");
    std::vector<double> noon;
    for (const auto& t : by_hour.ticks) {
        const auto hour = (t.ts % ms_per_day) / 3'600'000;
        if (hour == 12)
            noon.push_back(t.values[0]);
        else
            EXPECT_EQ(t.values[0], 0.0);
    }
    ASSERT_EQ(noon.size(), 360u);
    EXPECT_NEAR(stddev(noon), 3.0, 0.3);
}

TEST(RealSignals, RegimesShiftScaleAndStayOutOfTheLabel) {
    const auto c = one_field(
        "signal = { kind = \"sum\", components = [ { kind = \"sine\", mean = 0.0, "
        "amplitude = 1.0, period = \"1h\" }, { kind = \"constant\", value = 0.0 } ] }\nnoise = { "
        "kind = \"gaussian\", stddev = 1.0 }",
        20 * ms_per_day, "1m",
        "[[group.regime]]\nfield = \"x\"\nrate = \"1/day\"\nduration = \"3h..6h\"\nshift = "
        "[8.0, 12.0]\nscale = 3.0\ncycle = 0.0\n");
    ASSERT_FALSE(c.episodes.empty());
    for (const auto& e : c.episodes) {
        EXPECT_GE(e.magnitude, 8.0);
        EXPECT_LE(e.magnitude, 12.0);
    }
    std::vector<double> inside, outside;
    for (const auto& t : c.ticks) {
        // Inside a regime, the sine's cycle is gone (cycle = 0) and the level shifted.
        (t.episodes.empty() ? outside : inside).push_back(t.values[0]);
    }
    ASSERT_GT(inside.size(), 500u);
    EXPECT_NEAR(mean(outside), 0.0, 0.1);
    EXPECT_NEAR(stddev(outside), std::sqrt(1 + 0.5), 0.1); // noise + a unit sine
    EXPECT_NEAR(mean(inside), 10.0, 1.0);
    EXPECT_GT(stddev(inside), 3.0); // noise × 3, plus the spread of shifts
}

TEST(RealSignals, BadLanguageIsRefusedWithTheKey) {
    EXPECT_NE(load_error("signal = { kind = \"seasonal\", period = \"1d\", peak = \"Mon 09:00\" }")
                  .find("signal.peak: a weekday needs a period of whole weeks"),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"seasonal\", period = \"1d\", peak = \"Mon 9h\" }")
                  .find("signal.peak: invalid time \"Mon 9h\""),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"seasonal\", period = \"7d\", peak = \"day 40\" }")
                  .find("a day of the year needs a period of a year"),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"ou\", reversion = 0.1, marginal = { quantiles = "
                         "[1.0, 3.0, 2.0] } }")
                  .find("signal.marginal.quantiles: quantiles must not decrease"),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"ou\", mean = 1.0, marginal = { quantiles = [1.0, "
                         "2.0] } }")
                  .find("signal.mean: with a marginal"),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"sum\", components = [ { kind = \"counter\" } ] }")
                  .find("components[0].kind: unknown value \"counter\""),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"sum\", components = [ { kind = \"ou\" }, { kind = "
                         "\"ou\" }, { kind = \"random_walk\" } ] }")
                  .find("at most two ou or random_walk parts"),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"sum\", components = [ { kind = \"ou\" }, { kind = "
                         "\"ou\" } ] }\ndrift = { kind = \"random_walk\", step = 0.1 }")
                  .find("drift: a random_walk drift needs a state slot"),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"constant\" }\nnoise = { kind = \"gaussian\", hourly "
                         "= [1.0, 2.0] }")
                  .find("noise.hourly: one factor per UTC hour"),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"schedule\", period = \"7d\", points = [[\"Mon "
                         "00:00\", 1.0], [\"12:00\", 2.0]] }")
                  .find("write every point with a weekday"),
              std::string::npos);
    EXPECT_NE(load_error("signal = { kind = \"constant\" }",
                         "[[group.regime]]\nfield = \"x\"\nrate = \"1/day\"\nduration = \"1h\"\n")
                  .find("a regime needs a shift, a scale or a cycle"),
              std::string::npos);
}

TEST(RealSignals, CalendarOffsetsParse) {
    const auto mon = parse_calendar_offset("Mon 09:00");
    ASSERT_TRUE(mon);
    EXPECT_EQ(mon->since_epoch, 4 * ms_per_day + 9 * 3'600'000);
    EXPECT_EQ(mon->within_written, 9 * 3'600'000);
    EXPECT_EQ(parse_calendar_offset("Sun 23:59:59")->within_written,
              7 * ms_per_day - ms_per_second);
    EXPECT_EQ(parse_calendar_offset("Thu 00:00")->since_epoch, 0);
    EXPECT_EQ(parse_calendar_offset("7:30")->since_epoch, 7 * 3'600'000 + 30 * 60'000);
    EXPECT_EQ(parse_calendar_offset("day 1")->since_epoch, 0);
    EXPECT_EQ(parse_calendar_offset("day 172 06:00")->since_epoch,
              171 * ms_per_day + 6 * 3'600'000);
    EXPECT_EQ(parse_calendar_offset("15h")->since_epoch, 15 * 3'600'000);
    for (const char* bad : {"Mon", "Mon 25:00", "day 0", "day 367", "day x", "24:00", "12:60",
                            "mon 09:00", "day 12 9"})
        EXPECT_FALSE(parse_calendar_offset(bad)) << bad;
}
