// `synthfeed compare`: the fidelity report of a real CSV series against a profile or a file
// synthfeed wrote. Two runs of one profile and seed are at distance 0; the real series' own
// reference is reported; JSON has its documented keys; the HTML is one self-contained page;
// every malformed CSV exits 2 naming its line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

using namespace synthfeed::testing;
using json = nlohmann::json;

namespace {

const std::string ad_profile = R"(name = "ad"
seed = 7
start = "2026-01-01T00:00:00Z"
[[group]]
name = "ads"
count = 2
id = "ad-{index}"
interval = "1m"
[[group.field]]
name = "value"
precision = 4
signal = { kind = "seasonal", mean = 0.1, amplitude = 0.03, period = "24h", peak = "14h" }
noise = { kind = "gaussian", stddev = 0.01 }
)";

const std::string nab = source_path("tests/data/nab_exchange-3_cpc_results.csv");

/// A profile run to `name` in `dir` in `format`.
std::string run_to(const std::filesystem::path& dir, const std::string& name,
                   const std::string& format) {
    const auto path = dir / name;
    const auto r = run_synthfeed("run " + (dir / "ad.toml").string() +
                                 " --duration 1d --progress off --format " + format +
                                 " --sink file:" + path.string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path.string();
}

json compare_json(const std::string& args, const std::filesystem::path& dir) {
    const auto r = run_synthfeed("compare " + args + " --json " + (dir / "r.json").string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(read_file(dir / "r.json"), nullptr, false);
}

TEST(Compare, TwoRunsOfOneProfileAndSeedAreAtDistanceZero) {
    const auto dir = temp_dir("compare-same");
    write_file(dir / "ad.toml", ad_profile);
    const std::string a = run_to(dir, "a.csv", "csv"), b = run_to(dir, "b.csv", "csv");
    const std::string c = run_to(dir, "c.jsonl", "json");
    for (const std::string& synthetic : {b, c}) {
        const json j = compare_json(a + " " + synthetic, dir);
        ASSERT_TRUE(j.is_object());
        EXPECT_EQ(j["real"]["points"], 1440);
        EXPECT_EQ(j["synthetic"]["kind"], "file");
        for (const auto& [name, metric] : j["metrics"].items())
            EXPECT_EQ(metric["median"], 0.0) << name << " of " << synthetic;
    }
    std::filesystem::remove_all(dir);
}

TEST(Compare, ProfileAgainstNabSeriesReportsSeedsAndReference) {
    const auto dir = temp_dir("compare-nab");
    write_file(dir / "ad.toml", ad_profile);
    const auto r =
        run_synthfeed("compare " + nab + " " + (dir / "ad.toml").string() + " --seeds 3 --json " +
                      (dir / "r.json").string() + " --html " + (dir / "r.html").string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("reference: real 1st half vs 2nd half"), std::string::npos) << r.out;
    const json j = json::parse(read_file(dir / "r.json"), nullptr, false);
    ASSERT_TRUE(j.is_object());
    for (const char* key : {"path", "column", "points", "cadence_ms", "start", "end"})
        EXPECT_TRUE(j["real"].contains(key)) << key;
    for (const char* key : {"source", "kind", "field", "seeds", "points"})
        EXPECT_TRUE(j["synthetic"].contains(key)) << key;
    EXPECT_EQ(j["real"]["cadence_ms"], 3'600'000);
    EXPECT_EQ(j["synthetic"]["seeds"], json({7, 8, 9}));
    EXPECT_EQ(j["synthetic"]["points"], json({1538, 1538, 1538})); // real length, real cadence
    EXPECT_EQ(j["acf_lags"], 48);
    for (const char* name : {"ks", "ks_standardised", "acf_rmse", "spectral_l1", "mean_diff",
                             "std_diff", "lag1_diff"}) {
        ASSERT_TRUE(j["metrics"].contains(name)) << name;
        EXPECT_EQ(j["metrics"][name]["per_seed"].size(), 3u) << name;
        EXPECT_TRUE(j["metrics"][name]["reference"].is_number()) << name;
    }
    EXPECT_GT(j["metrics"]["ks"]["reference"].get<double>(), 0.0);

    const std::string html = read_file(dir / "r.html");
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_EQ(html.find("http:"), std::string::npos); // self-contained: no URL, no script
    EXPECT_EQ(html.find("https:"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find(" src="), std::string::npos);
    std::size_t plots = 0;
    for (auto at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1))
        ++plots;
    EXPECT_EQ(plots, 4u); // series, QQ, ACF, periodogram
    std::filesystem::remove_all(dir);
}

TEST(Compare, AFieldTheProfileLacksIsAUsageError) {
    const auto dir = temp_dir("compare-field");
    write_file(dir / "ad.toml", ad_profile);
    const auto r =
        run_synthfeed("compare " + nab + " " + (dir / "ad.toml").string() + " --field valeu");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("did you mean \"value\""), std::string::npos) << r.err;
    std::filesystem::remove_all(dir);
}

struct bad_csv {
    const char* name;
    const char* text;
    const char* located; ///< what stderr must hold: file:line and the column, if any
};

void PrintTo(const bad_csv& c, std::ostream* os) {
    *os << c.name;
}

class CompareBadCsv : public ::testing::TestWithParam<bad_csv> {};

TEST_P(CompareBadCsv, ExitsTwoNamingTheLine) {
    const auto dir = temp_dir("compare-bad");
    write_file(dir / "ad.toml", ad_profile);
    write_file(dir / "bad.csv", GetParam().text);
    const auto r =
        run_synthfeed("compare " + (dir / "bad.csv").string() + " " + (dir / "ad.toml").string());
    EXPECT_FALSE(r.crashed);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("bad.csv:" + std::string(GetParam().located)), std::string::npos) << r.err;
    std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, CompareBadCsv,
    ::testing::Values(
        bad_csv{"empty", "", "1: empty file"},
        bad_csv{"no_header", "2015-02-26 21:42:53,104\n2015-02-26 21:47:53,100\n",
                "1: no header row"},
        bad_csv{"no_time_column", "a,value\nx,1\ny,2\n", "1: no time column"},
        bad_csv{"non_numeric", "timestamp,value\n2015-02-26 21:42:53,1\n2015-02-26 21:47:53,x\n",
                "3: value: \"x\" is not a number"},
        bad_csv{"text_column", "timestamp,value\n2015-02-26 21:42:53,a\n2015-02-26 21:47:53,b\n",
                "2: value: \"a\" is not a number"},
        bad_csv{"unsorted", "timestamp,value\n2015-02-26 21:47:53,1\n2015-02-26 21:42:53,2\n",
                "3: timestamp: unsorted"},
        bad_csv{"duplicate", "timestamp,value\n2015-02-26 21:42:53,1\n2015-02-26 21:42:53,2\n",
                "3: timestamp: duplicate"},
        bad_csv{"single_row", "timestamp,value\n2015-02-26 21:42:53,1\n", "2: 1 data row(s)"},
        bad_csv{"ragged", "timestamp,value\n2015-02-26 21:42:53,1\n2015-02-26 21:47:53\n",
                "3: 1 cells"}),
    [](const ::testing::TestParamInfo<bad_csv>& info) { return std::string(info.param.name); });

} // namespace
