// End-to-end behaviour of `synthfeed run`, through the real binary: determinism across threads
// and shards, the label join, count prefixes, summaries, formats and write failures.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "src/core/errors.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;
using json = nlohmann::json;

namespace {

const std::string cold_chain = source_path("profiles/cold_chain.toml");
const std::string golden_profile = source_path("tests/golden/golden.toml");

std::vector<std::string> sorted_lines(const std::string& text) {
    auto l = lines(text);
    std::sort(l.begin(), l.end());
    return l;
}

} // namespace

TEST(Run, SameSeedGivesIdenticalBytesForAnyThreadCount) {
    const std::string flags = "--duration 6m --start 2026-01-01T00:00:00Z";
    const auto one = run_to_files(cold_chain, flags + " --threads 1", "t1");
    const auto two = run_to_files(cold_chain, flags + " --threads 2", "t2");
    const auto three = run_to_files(cold_chain, flags + " --threads 3", "t3");
    ASSERT_EQ(one.exit_code, 0);
    ASSERT_GT(one.data.size(), 40'000'000u); // several engine windows
    ASSERT_FALSE(one.episodes.empty());
    EXPECT_TRUE(one.data == two.data && one.data == three.data);
    EXPECT_TRUE(one.labels == two.labels && one.labels == three.labels);
    EXPECT_EQ(one.episodes, two.episodes);
    EXPECT_EQ(one.episodes, three.episodes);
    const auto other_seed = run_to_files(cold_chain, flags + " --seed 43", "seed");
    EXPECT_NE(other_seed.data, one.data);
}

TEST(Run, ShardsUnionToTheWholeRun) {
    const std::string flags = "--duration 3m --start 2026-01-01T00:00:00Z";
    const auto whole = run_to_files(cold_chain, flags, "whole");
    const auto s0 = run_to_files(cold_chain, flags + " --shard 0/2 --threads 1", "s0");
    const auto s1 = run_to_files(cold_chain, flags + " --shard 1/2 --threads 2", "s1");
    ASSERT_EQ(whole.exit_code, 0);
    auto merged = sorted_lines(s0.data + s1.data);
    EXPECT_EQ(merged, sorted_lines(whole.data));
    EXPECT_EQ(sorted_lines(s0.labels + s1.labels), sorted_lines(whole.labels));
    EXPECT_EQ(sorted_lines(s0.episodes + s1.episodes), sorted_lines(whole.episodes));
    // A shard holds only its devices: index ≡ I (mod N).
    for (const auto& line : lines(s0.data)) {
        const int index = std::stoi(json::parse(line)["device_id"].get<std::string>().substr(7));
        ASSERT_EQ(index % 2, 0) << line;
    }
}

TEST(Run, CountCutsTheSameCanonicalPrefix) {
    const std::string flags = "--start 2026-01-01T00:00:00Z";
    const auto small1 = run_to_files(cold_chain, flags + " --count 5000 --threads 1", "c1");
    const auto small2 = run_to_files(cold_chain, flags + " --count 5000 --threads 2", "c2");
    const auto large = run_to_files(cold_chain, flags + " --count 20000 --threads 2", "c3");
    EXPECT_EQ(lines(small1.data).size(), 5000u);
    EXPECT_EQ(small1.data, small2.data);
    EXPECT_EQ(large.data.substr(0, small1.data.size()), small1.data);
    EXPECT_EQ(small1.labels, small2.labels);
    // Canonical order: event time, then device index.
    std::string previous;
    for (const auto& line : lines(small1.data)) {
        const std::string ts = json::parse(line)["ts"];
        ASSERT_LE(previous, ts);
        previous = ts;
    }
}

TEST(Run, EveryMessageJoinsItsLabelAndEveryLabelItsEpisode) {
    const auto o = run_to_files(golden_profile, "--duration 30m", "join");
    ASSERT_EQ(o.exit_code, 0);
    std::map<std::string, json> episodes;
    for (const auto& line : lines(o.episodes)) {
        auto e = json::parse(line);
        for (const char* key : {"episode", "device_id", "field", "kind", "start", "end"})
            ASSERT_TRUE(e.contains(key)) << line;
        episodes[e["episode"]] = e;
    }
    std::map<std::pair<std::string, std::uint64_t>, json> labels;
    std::map<std::string, std::uint64_t> next_seq;
    std::set<std::string> kinds_seen;
    for (const auto& line : lines(o.labels)) {
        auto l = json::parse(line);
        const std::string device = l["device_id"];
        const std::uint64_t seq = l["seq"];
        ASSERT_EQ(seq, next_seq[device]++) << "label seq gap: " << line;
        for (const auto& id : l["episodes"]) {
            ASSERT_TRUE(episodes.contains(id)) << "label names unknown episode: " << line;
            const json& e = episodes[id];
            ASSERT_EQ(e["device_id"], device);
            ASSERT_LE(e["start"].get<std::string>(), l["ts"].get<std::string>()) << line;
            ASSERT_LT(l["ts"].get<std::string>(), e["end"].get<std::string>()) << line;
            kinds_seen.insert(e["kind"]);
        }
        ASSERT_EQ(l["label"] == "normal", l["episodes"].empty());
        labels[{device, seq}] = l;
    }
    std::size_t messages = 0;
    for (const auto& line : lines(o.data)) {
        auto m = json::parse(line);
        auto it = labels.find({m["device_id"], m["seq"]});
        ASSERT_NE(it, labels.end()) << "message without label: " << line;
        ASSERT_EQ(it->second["ts"], m["ts"]);
        ASSERT_TRUE(it->second["emitted"].get<bool>());
        it->second["joined"] = true;
        ++messages;
    }
    std::size_t silenced = 0;
    for (const auto& [key, l] : labels) {
        if (l.contains("joined")) continue;
        ASSERT_FALSE(l["emitted"].get<bool>()) << "emitted label without message: " << l.dump();
        ASSERT_NE(l["label"].get<std::string>().find("dropout"), std::string::npos);
        ++silenced;
    }
    EXPECT_GT(silenced, 0u);
    EXPECT_EQ(kinds_seen.size(), 7u); // every anomaly kind appeared
    const auto summary = json::parse(o.summary);
    EXPECT_EQ(summary["messages_generated"], messages);
    EXPECT_EQ(summary["messages_delivered"], messages);
    EXPECT_EQ(summary["messages_failed"], 0);
    EXPECT_EQ(summary["messages_suppressed_by_dropout"], silenced);
    EXPECT_EQ(summary["anomaly_episodes"], episodes.size());
    for (const char* key : {"messages_dropped", "elapsed_seconds", "messages_per_second"})
        EXPECT_TRUE(summary.contains(key)) << key;
}

TEST(Run, LabelInPayloadAndCsvFormats) {
    const auto r = run_synthfeed("run " + golden_profile +
                                 " --count 400 --label-in-payload --progress off --sink stdout:");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::size_t anomalous = 0;
    for (const auto& line : lines(r.out)) {
        auto m = json::parse(line);
        ASSERT_TRUE(m.contains("label") && m.contains("episode"));
        anomalous += m["label"] != "normal";
    }
    EXPECT_GT(anomalous, 0u);
    const auto csv =
        run_synthfeed("run " + golden_profile + " --count 3 --format csv --progress off");
    const auto rows = lines(csv.out);
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0], "device_id,seq,ts,seasonal,walk,ou,wave,saw,sine,sched,meter,const");
    const auto labels_csv = run_to_files(golden_profile, "--count 50 --labels-format csv", "lcsv");
    EXPECT_EQ(lines(labels_csv.labels)[0],
              "device_id,seq,ts,is_anomaly,label,episodes,emitted,faults");
}

TEST(Run, EnvironmentTwinsSetFlags) {
    const auto r = run_synthfeed("run " + golden_profile + " --progress off",
                                 "SYNTHFEED_COUNT=7 SYNTHFEED_FORMAT=csv");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(lines(r.out).size(), 8u); // header + 7
}

TEST(Run, WriteFailuresAreCountedAndExitOne) {
    const auto dir = temp_dir("full");
    const auto r =
        run_synthfeed("run " + golden_profile +
                      " --count 100000 --progress off --sink file:/dev/full --summary-json " +
                      (dir / "s.json").string());
    EXPECT_FALSE(r.crashed);
    EXPECT_EQ(r.exit_code, 1);
    const auto s = json::parse(read_file(dir / "s.json"));
    EXPECT_EQ(s["messages_generated"], 100000);
    EXPECT_EQ(s["messages_failed"], 100000);
    EXPECT_EQ(s["messages_delivered"], 0);
    std::filesystem::remove_all(dir);
}

TEST(Run, LivePacingDeliversTheSameMessagesAsBackfill) {
    // 20 s of simulated time at 20x takes about a second of wall time; the messages must be
    // exactly those of an unpaced run (no timing is asserted). Paced by a rate, windows are
    // sized by the target rate instead: the stream must not notice either.
    const std::string flags = "--duration 20s --start 2026-01-01T00:00:00Z";
    const auto unpaced = run_to_files(golden_profile, flags + " --speed max", "unpaced");
    for (const std::string pace : {"--speed 20x", "--rate 200000"}) {
        const auto paced = run_to_files(golden_profile, flags + " " + pace, "paced");
        ASSERT_EQ(paced.exit_code, 0) << pace;
        EXPECT_EQ(paced.data, unpaced.data) << pace;
        EXPECT_EQ(paced.labels, unpaced.labels) << pace;
    }
}

TEST(Run, SigtermDrainsAndReportsEverythingGenerated) {
    const auto dir = temp_dir("sigterm");
    const std::string data = (dir / "data").string(), summary = (dir / "s.json").string();
    // A live, unbounded run; SIGTERM once it has written something.
    const std::string cmd = std::string(SYNTHFEED_BINARY) + " run " + cold_chain +
                            " --speed 1x --progress off --sink file:" + data + " --summary-json " +
                            summary + " 2>/dev/null & pid=$!; for i in $(seq 1 100); do [ -s " +
                            data + " ] && break; sleep 0.1; done; kill -TERM $pid; wait $pid";
    const int status = std::system(("bash -c '" + cmd + "'").c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    const auto s = json::parse(read_file(summary));
    EXPECT_TRUE(s["interrupted"].get<bool>());
    EXPECT_GT(s["messages_generated"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(s["messages_generated"], s["messages_delivered"]);
    EXPECT_EQ(lines(read_file(data)).size(), s["messages_generated"].get<std::size_t>());
    std::filesystem::remove_all(dir);
}

TEST(Run, RateWithRunForEmitsExactlyTheScheduledCount) {
    // Integer accounting: 20,000 msg/s for 1.5 s is 30,000 messages, not "about" that.
    const auto dir = temp_dir("rate");
    const auto r =
        run_synthfeed("run " + cold_chain +
                      " --rate 20000 --run-for 1500ms --progress off --sink null: --summary-json " +
                      (dir / "s.json").string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto s = json::parse(read_file(dir / "s.json"));
    EXPECT_EQ(s["messages_generated"], 30000);
    EXPECT_EQ(s["messages_delivered"], 30000);
    EXPECT_TRUE(s.contains("max_schedule_lag_seconds"));
    std::filesystem::remove_all(dir);
}

namespace synthfeed {
namespace {

TEST(CommandLine, AMistypedCommandIsNamedWithTheCommands) {
    const auto r = testing::run_synthfeed("valdate profiles/cold_chain.toml");
    EXPECT_EQ(r.exit_code, exit_usage);
    EXPECT_NE(r.err.find("unknown command \"valdate\" (did you mean \"validate\"? commands: run, "
                         "validate, verify, list, preview, compare, fit, score, completion)"),
              std::string::npos)
        << r.err;
    const auto far = testing::run_synthfeed("frobnicate");
    EXPECT_EQ(far.exit_code, exit_usage);
    EXPECT_NE(far.err.find("unknown command \"frobnicate\" (commands:"), std::string::npos)
        << far.err;
}

TEST(CommandLine, GlobalFlagsWorkAfterTheSubcommand) {
    // --log-level belongs to the app; after `run` it falls through to it (the README lists it
    // among run's flags). warn silences the info lines a run logs.
    const std::string profile = testing::source_path("tests/golden/golden.toml");
    const auto quiet =
        testing::run_synthfeed("run " + profile + " --count 5 --sink null: --log-level warn");
    EXPECT_EQ(quiet.exit_code, exit_ok) << quiet.err;
    EXPECT_EQ(quiet.err.find("info:"), std::string::npos) << quiet.err;
    const auto chatty = testing::run_synthfeed("run " + profile + " --count 5 --sink null:");
    EXPECT_NE(chatty.err.find("info:"), std::string::npos) << chatty.err;
    const auto bad = testing::run_synthfeed("run " + profile + " --count 5 --log-level loud");
    EXPECT_EQ(bad.exit_code, exit_usage);
    EXPECT_NE(bad.err.find("--log-level"), std::string::npos) << bad.err;
}

TEST(CommandLine, LogLinesStartWithAnRfc3339UtcTimestamp) {
    const auto r = testing::run_synthfeed(
        "run " + testing::source_path("tests/golden/golden.toml") + " --count 5 --sink null:");
    ASSERT_EQ(r.exit_code, exit_ok) << r.err;
    const std::regex stamped(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: )");
    int info_lines = 0;
    for (const auto& line : testing::lines(r.err)) {
        if (line.find(" info: ") == std::string::npos) continue;
        ++info_lines;
        EXPECT_TRUE(std::regex_search(line, stamped)) << line;
    }
    EXPECT_GT(info_lines, 0) << r.err;
}

} // namespace
} // namespace synthfeed
