// `synthfeed fit`: a profile fitted to what `synthfeed run` generated from a known profile
// gives back its parameters (each within the tolerance stated beside it), loads with
// `validate` and runs; NAB series with their windows fit and validate; bad input exits 2
// naming file:line and the column or flag.
#include <cmath>
#include <sstream>

#include <gtest/gtest.h>

#include "src/config/profile_loader.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed::testing;

namespace synthfeed {
namespace {

// 60 days at 5 min: a level, a daily cosine peaking at 14:00, an AR(1) (reversion 0.1, sigma
// 0.6 a tick), white noise 0.5, a 0.01 sensor grid, and spikes of +15..25 once a day.
const std::string known_profile = R"(name = "known"
seed = 3
start = "2026-01-05T00:00:00Z"
[[group]]
name = "s"
count = 1
interval = "5m"
phase = "aligned"
[[group.field]]
name = "value"
resolution = 0.01
signal = { kind = "sum", components = [
  { kind = "constant", value = 50 },
  { kind = "seasonal", mean = 0, components = [{ amplitude = 6, period = "1d", peak = "14:00" }] },
  { kind = "ou", mean = 0, sigma = 0.6, reversion = 0.1 },
] }
noise = { kind = "gaussian", stddev = 0.5 }
[[group.anomaly]]
kind = "spike"
field = "value"
rate = "1/day"
duration = "0s"
magnitude = [15, 25]
)";

constexpr double days = 60;

/// The sample standard deviation of a piecewise-linear quantile function (the distribution
/// an `ou` marginal samples), by its quantiles at equal steps of probability.
double quantile_sd(const std::vector<double>& q, const std::vector<double>& p) {
    // Uniform mixture of the segments [q_i, q_{i+1}], each weighted by its probability (even
    // steps when `p` is empty): mean and second moment in closed form.
    double m1 = 0, m2 = 0;
    for (std::size_t i = 0; i + 1 < q.size(); ++i) {
        const double w = p.empty() ? 1.0 / static_cast<double>(q.size() - 1) : p[i + 1] - p[i];
        const double a = q[i], b = q[i + 1];
        m1 += w * (a + b) / 2;
        m2 += w * (a * a + a * b + b * b) / 3;
    }
    return std::sqrt(std::max(0.0, m2 - m1 * m1));
}

/// The series and its labels as one CSV: ts,value,is_anomaly.
std::string joined_csv(const std::string& messages, const std::string& labels) {
    const auto m = lines(messages), l = lines(labels);
    EXPECT_EQ(m.size(), l.size());
    std::string out = "ts,value,is_anomaly\n";
    for (std::size_t i = 1; i < m.size() && i < l.size(); ++i) {
        // messages: device_id,seq,ts,value; labels: device_id,seq,ts,is_anomaly,...
        std::vector<std::string> mc, lc;
        std::stringstream ms(m[i]), ls(l[i]);
        for (std::string c; std::getline(ms, c, ',');) mc.push_back(c);
        for (std::string c; std::getline(ls, c, ',');) lc.push_back(c);
        out += mc[2] + "," + mc[3] + "," + lc[3] + "\n";
    }
    return out;
}

profile load(const std::filesystem::path& path) {
    return load_profile(path.string(), {}, [](const std::string&) { return std::nullopt; });
}

TEST(Fit, RecoversTheParametersOfAProfileSynthfeedRan) {
    const auto dir = temp_dir("fit-known");
    write_file(dir / "known.toml", known_profile);
    const auto run = run_synthfeed(
        "run " + (dir / "known.toml").string() +
        " --duration 60d --progress off --format csv --sink file:" + (dir / "m.csv").string() +
        " --labels file:" + (dir / "l.csv").string() +
        " --labels-format csv --episodes file:" + (dir / "e.jsonl").string());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    write_file(dir / "series.csv", joined_csv(read_file(dir / "m.csv"), read_file(dir / "l.csv")));
    const std::size_t spikes = lines(read_file(dir / "e.jsonl")).size();
    ASSERT_GT(spikes, 40u); // Poisson(60): the profile ran as written
    ASSERT_LT(spikes, 80u);

    const auto fit = run_synthfeed("fit " + (dir / "series.csv").string() + " --out " +
                                   (dir / "fitted.toml").string() + " --seed 9");
    ASSERT_EQ(fit.exit_code, 0) << fit.err;
    EXPECT_NE(fit.err.find("fit: wrote " + (dir / "fitted.toml").string()), std::string::npos)
        << fit.err;
    EXPECT_NE(fit.err.find("17280 points"), std::string::npos) << fit.err;

    const profile p = load(dir / "fitted.toml");
    EXPECT_EQ(p.seed, 9u);
    ASSERT_EQ(p.groups.size(), 1u);
    const group_spec& g = p.groups[0];
    EXPECT_EQ(g.interval, 5 * 60'000);
    EXPECT_EQ(g.jitter, 0);
    ASSERT_EQ(g.fields.size(), 1u);
    const field_spec& f = g.fields[0];
    EXPECT_DOUBLE_EQ(f.resolution, 0.01); // the sensor grid
    EXPECT_FALSE(f.integer);
    ASSERT_EQ(f.signal.kind, signal_kind::sum);

    const periodic_component* daily = nullptr;
    const signal_spec* ou = nullptr;
    double level = 0;
    for (const signal_spec& part : f.signal.parts) {
        if (part.kind == signal_kind::constant) level += part.level.lo;
        if (part.kind == signal_kind::seasonal) {
            level += part.level.lo;
            for (const auto& c : part.components)
                if (c.period == ms_per_day) daily = &c;
        }
        if (part.kind == signal_kind::ou) ou = &part;
    }
    EXPECT_NEAR(level, 50, 0.5); // ±1 %
    ASSERT_NE(daily, nullptr) << read_file(dir / "fitted.toml");
    EXPECT_NEAR(daily->amplitude.lo, 6, 0.3); // ±5 %
    const sim_duration peak_error = std::abs(daily->peak - 14 * ms_per_hour);
    EXPECT_LE(std::min(peak_error, ms_per_day - peak_error), 10 * 60'000); // ±10 min
    ASSERT_NE(ou, nullptr) << read_file(dir / "fitted.toml");
    // One latent process for the residual: an AR(1) holding `share` of its variance, the rest
    // white, mapped through the residual's quantiles (sd: the residual's).
    ASSERT_EQ(ou->reversions.size(), 1u) << read_file(dir / "fitted.toml");
    EXPECT_NEAR(ou->reversions[0], 0.1, 0.02); // ±20 %
    ASSERT_FALSE(ou->marginal.empty());
    const double phi = 1 - ou->reversions[0], share = ou->shares[0];
    const double sd = quantile_sd(ou->marginal, ou->marginal_probabilities);
    EXPECT_NEAR(sd * std::sqrt(share) * std::sqrt(1 - phi * phi), 0.6, 0.09); // sigma ±15 %
    EXPECT_NEAR(sd * std::sqrt(1 - share), 0.5, 0.15); // ±30 %: white beside a strong AR(1)

    // The spikes: rate as realised (episodes over 60 days), magnitude within the drawn range
    // ± the normal model's error at the spike.
    ASSERT_EQ(g.anomalies.size(), 1u) << read_file(dir / "fitted.toml");
    const anomaly_spec& a = g.anomalies[0];
    EXPECT_EQ(a.kind, anomaly_kind::spike);
    EXPECT_NEAR(a.rate_per_ms * ms_per_day, static_cast<double>(spikes) / days, 0.05);
    EXPECT_GE(a.magnitude.lo, 15 - 4);
    EXPECT_LE(a.magnitude.hi, 25 + 4);
    EXPECT_EQ(a.direction, anomaly_direction::up);

    const auto validate = run_synthfeed("validate " + (dir / "fitted.toml").string());
    EXPECT_EQ(validate.exit_code, 0) << validate.err;
    const auto again = run_synthfeed("run " + (dir / "fitted.toml").string() +
                                     " --duration 1d --progress off --sink null:");
    EXPECT_EQ(again.exit_code, 0) << again.err;
    std::filesystem::remove_all(dir);
}

TEST(Fit, IntegerSeriesGetIntAndABoundAtZero) {
    const auto dir = temp_dir("fit-int");
    std::string csv = "timestamp,count\n";
    for (int i = 0; i < 500; ++i)
        csv += "2026-01-01 " + std::to_string(10 + i / 60) + ":" + (i % 60 < 10 ? "0" : "") +
               std::to_string(i % 60) + ":00," + std::to_string((i * 7919) % 13) + "\n";
    write_file(dir / "c.csv", csv);
    const auto r =
        run_synthfeed("fit " + (dir / "c.csv").string() + " --out " + (dir / "c.toml").string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string toml = read_file(dir / "c.toml");
    EXPECT_NE(toml.find("type = \"int\""), std::string::npos) << toml;
    EXPECT_NE(toml.find("min = 0"), std::string::npos) << toml;
    EXPECT_EQ(run_synthfeed("validate " + (dir / "c.toml").string()).exit_code, 0);
    std::filesystem::remove_all(dir);
}

TEST(Fit, NabSeriesWithItsWindowsFitsAndValidates) {
    const auto dir = temp_dir("fit-nab");
    const std::string series = source_path("tests/data/nab_exchange-3_cpc_results.csv");
    // NAB names the file realAdExchange/exchange-3_cpc_results.csv; ours has another base name.
    write_file(
        dir / "windows.json",
        R"({"realAdExchange/nab_exchange-3_cpc_results.csv": [["2011-07-13 09:15:01.000000", "2011-07-15 11:15:01.000000"], ["2011-07-19 09:15:01.000000", "2011-07-21 11:15:01.000000"]]})");
    const auto r =
        run_synthfeed("fit " + series + " --labels " + (dir / "windows.json").string() + " --out " +
                      (dir / "nab.toml").string() + " --train-fraction 0.8 --name ad-cpc");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string toml = read_file(dir / "nab.toml");
    EXPECT_NE(toml.find("name = \"ad-cpc\""), std::string::npos);
    EXPECT_NE(toml.find("labelled window(s)"), std::string::npos) << toml;
    EXPECT_NE(toml.find("--train-fraction 0.8"), std::string::npos) << toml;
    const auto v = run_synthfeed("validate " + (dir / "nab.toml").string());
    EXPECT_EQ(v.exit_code, 0) << v.err << toml;

    // A windows file without this series: a warning, and a fit without anomalies.
    write_file(dir / "other.json", R"({"realTweets/Twitter_volume_AAPL.csv": []})");
    const auto w = run_synthfeed("fit " + series + " --labels " + (dir / "other.json").string() +
                                 " --out " + (dir / "plain.toml").string());
    EXPECT_EQ(w.exit_code, 0) << w.err;
    EXPECT_NE(w.err.find("warning: "), std::string::npos) << w.err;
    EXPECT_NE(w.err.find("names no window"), std::string::npos) << w.err;
    std::filesystem::remove_all(dir);
}

TEST(Fit, BadInputExitsTwoNamingFileLineAndColumn) {
    const auto dir = temp_dir("fit-bad");
    const auto out = " --out " + (dir / "o.toml").string();
    auto expect_error = [&](const std::string& args, const std::string& needle) {
        const auto r = run_synthfeed("fit " + args + out);
        EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
        EXPECT_NE(r.err.find(needle), std::string::npos) << args << "\n" << r.err;
    };
    std::string good = "ts,v,w\n";
    for (int i = 0; i < 40; ++i)
        good += std::to_string(1767225600 + 60 * i) + "," + std::to_string(i % 7) + ",1\n";
    write_file(dir / "good.csv", good);
    write_file(dir / "text.csv", "ts,v\n1767225600,1\n1767225660,2\n1767225720,abc\n");
    write_file(dir / "nan.csv", "ts,v\n1767225600,1\n1767225660,inf\n1767225720,3\n");
    write_file(dir / "short.csv", "ts,v\n1767225600,1\n1767225660,2\n1767225720,3\n");
    write_file(dir / "dup.csv", "ts,v\n1767225600,1\n1767225600,2\n1767225720,3\n");
    write_file(dir / "bad.json", "{\n \"good.csv\": [[\"2026-01-01\",\n}");
    write_file(dir / "badlabel.csv", "ts,v,is_anomaly\n1767225600,1,0\n1767225660,2,7\n");
    write_file(dir / "old.csv", "date,v\n1958-03-29,1\n1958-04-05,2\n");

    const std::string d = dir.string() + "/";
    expect_error(d + "text.csv", d + "text.csv:4: v: \"abc\" is not a number");
    expect_error(d + "nan.csv", d + "nan.csv:3: v: \"inf\" is not a number");
    expect_error(d + "short.csv", "fit needs at least 24");
    expect_error(d + "dup.csv", d + "dup.csv:3: ts: duplicate time");
    expect_error(d + "good.csv --column x", "x: no such value column");
    expect_error(d + "good.csv --train-fraction 0", "--train-fraction: must be in (0, 1]");
    expect_error(d + "good.csv --train-fraction 1.5", "--train-fraction");
    expect_error(d + "good.csv --labels " + d + "bad.json", d + "bad.json:3: ");
    expect_error(d + "good.csv --labels nothing-here", "--labels");
    expect_error(d + "badlabel.csv", d + "badlabel.csv:3: is_anomaly: 7 is not 0 or 1");
    expect_error(d + "missing.csv", d + "missing.csv: cannot open");
    expect_error(d + "old.csv", d + "old.csv:2: date: the series starts before 1970");
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace synthfeed
