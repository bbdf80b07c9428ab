// The profile language for real signals end to end: a sum with an empirical marginal, noise
// relative to the level, and regimes, through `synthfeed run` with labels and episodes.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

using namespace synthfeed::testing;
using json = nlohmann::json;

namespace {

const std::string real_signal_profile = R"(name = "servers"
seed = 5
start = "2026-01-05T00:00:00Z"
[[group]]
name = "srv"
count = 3
interval = "1m"
  [[group.field]]
  name = "cpu"
  min = 0.0
  signal = { kind = "sum", components = [
    { kind = "seasonal", mean = 35.0, components = [
        { amplitude = 12.0, period = "1d", peak = "14:30" },
        { amplitude = 4.0, period = "7d", peak = "Wed 12:00" } ] },
    { kind = "ou", reversion = 0.05, marginal = { quantiles = [-8.0, -3.1, -0.4, 1.9, 6.5, 21.0] } },
  ] }
  noise = { kind = "gaussian", stddev = 0.2, relative = 0.01 }
  [[group.regime]]
  field = "cpu"
  rate = "1/day"
  duration = "2h..6h"
  shift = [10.0, 20.0]
  scale = 2.0
  [[group.anomaly]]
  kind = "spike"
  field = "cpu"
  rate = "2/day"
  magnitude = 30.0
)";

} // namespace

TEST(RealSignalsCli, RegimesAreRecordedAsEpisodesButNeverLabelled) {
    const auto dir = temp_dir("regimes");
    write_file(dir / "p.toml", real_signal_profile);
    const auto o =
        run_to_files((dir / "p.toml").string(), "--duration 4d --speed max", "regimes-run");
    ASSERT_EQ(o.exit_code, 0);
    std::map<std::string, json> episodes;
    for (const auto& line : lines(o.episodes)) {
        const json e = json::parse(line);
        episodes[e["episode"].get<std::string>()] = e;
    }
    std::set<std::string> classes;
    for (const auto& [id, e] : episodes) classes.insert(e["class"].get<std::string>());
    EXPECT_EQ(classes, (std::set<std::string>{"value", "regime"}));
    std::size_t in_regime = 0, spikes = 0;
    for (const auto& line : lines(o.labels)) {
        const json l = json::parse(line);
        bool regime = false, spike = false;
        for (const auto& id : l["episodes"]) {
            const std::string kind = episodes.at(id.get<std::string>())["kind"];
            regime |= kind == "regime";
            spike |= kind == "spike";
        }
        in_regime += regime;
        spikes += spike;
        // A regime is normal behaviour: only the spike makes a label.
        EXPECT_EQ(l["label"], spike ? "spike" : "normal") << line;
        if (!spike) {
            EXPECT_TRUE(l["episode"].is_null()) << line;
        }
    }
    EXPECT_GT(in_regime, 100u);
    EXPECT_GT(spikes, 0u);
    std::filesystem::remove_all(dir);
}

TEST(RealSignalsCli, ASumWithAMarginalIsTheSameStreamAtAnyThreadCount) {
    const auto dir = temp_dir("sum-threads");
    write_file(dir / "p.toml", real_signal_profile);
    EXPECT_EQ(run_synthfeed("validate " + (dir / "p.toml").string()).exit_code, 0);
    const auto one = run_to_files((dir / "p.toml").string(), "--duration 1d --threads 1", "t1");
    const auto two = run_to_files((dir / "p.toml").string(), "--duration 1d --threads 2", "t2");
    ASSERT_EQ(one.exit_code, 0);
    EXPECT_FALSE(one.data.empty());
    EXPECT_EQ(one.data, two.data);
    EXPECT_EQ(one.labels, two.labels);
    EXPECT_EQ(one.episodes, two.episodes);
    std::filesystem::remove_all(dir);
}
