// The run contract a CI job relies on, through the real binary: thresholds and their exit
// codes (k6's 99), a summary that says what reproduces the run with its secrets masked, and
// --run-for as a hard limit with the shortfall reported.
#include <gtest/gtest.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "src/core/errors.hpp"
#include "src/telemetry/thresholds.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;
using json = nlohmann::json;

namespace {

const std::string golden_profile = source_path("tests/golden/golden.toml");
const std::string factory_line = source_path("profiles/factory_line.toml");

/// A threshold on `m` that any run meets (every figure is at least 0), or that none does.
std::string always(const threshold_metric_row& m, bool pass) {
    const std::string unit = m.unit == threshold_unit::time ? "s" : "";
    return std::string(m.name) + (pass ? ">=0" : "<0") + unit;
}

struct judged {
    int exit_code;
    json summary;
    std::string err;
};

/// `synthfeed run ARGS` with a JSON summary: its exit code, summary (null when none) and stderr.
judged summarized(const std::string& args) {
    const auto dir = temp_dir("contract");
    const auto r = run_synthfeed("run " + args + " --summary-json " + (dir / "s.json").string());
    json s =
        std::filesystem::exists(dir / "s.json") ? json::parse(read_file(dir / "s.json")) : json();
    std::filesystem::remove_all(dir);
    return {r.exit_code, s, r.err};
}

/// A short paced run (so that rate has a target) with `flags`.
judged run_with(const std::string& flags, const std::string& sink = "null:") {
    return summarized(golden_profile + " --rate 2000 --run-for 500ms --progress off --sink " +
                      sink + " " + flags);
}

std::string quoted(const std::string& expression) {
    return "--threshold '" + expression + "'";
}

} // namespace

TEST(Thresholds, EveryMetricPassesAndFailsOnPurpose) {
    // Table-driven over threshold_metrics, so a metric added later is covered too.
    std::string passing, failing;
    for (const auto& m : threshold_metrics) {
        passing += quoted(always(m, true)) + " ";
        failing += quoted(always(m, false)) + " ";
    }
    const judged pass = run_with(passing);
    ASSERT_EQ(pass.exit_code, 0) << pass.err;
    ASSERT_EQ(pass.summary["thresholds"].size(), threshold_metrics.size());
    for (const auto& t : pass.summary["thresholds"]) EXPECT_TRUE(t["passed"].get<bool>()) << t;
    EXPECT_EQ(pass.summary["exit_code"], 0);

    const judged fail = run_with(failing);
    ASSERT_EQ(fail.exit_code, 99) << fail.err;
    ASSERT_EQ(fail.summary["thresholds"].size(), threshold_metrics.size());
    for (const auto& t : fail.summary["thresholds"]) EXPECT_FALSE(t["passed"].get<bool>()) << t;
    EXPECT_EQ(fail.summary["exit_code"], 99);
    for (const auto& m : threshold_metrics)
        EXPECT_NE(fail.err.find("threshold  " + always(m, false)), std::string::npos) << m.name;
    EXPECT_NE(fail.err.find("FAIL"), std::string::npos);
}

TEST(Thresholds, TheyJudgeRealFigures) {
    // 2000 msg/s for 0.5 s: exactly 1000 messages, none lost, at the target rate.
    const judged met = run_with(quoted("messages==1000") + " " + quoted("shortfall==0") + " " +
                                quoted("rate>=0.95*target") + " " + quoted("failed<1"));
    EXPECT_EQ(met.exit_code, 0) << met.err;
    // A target nothing reaches: the run falls behind, and says by how much.
    const judged behind =
        summarized(factory_line + " --rate 1e9 --run-for 1s --progress off " +
                   "--sink null: " + quoted("rate>=0.98*target") + " " + quoted("lag_max<100ms"));
    EXPECT_EQ(behind.exit_code, 99) << behind.err;
    EXPECT_GT(behind.summary["shortfall"].get<double>(), 0);
    EXPECT_FALSE(behind.summary["thresholds"][0]["passed"].get<bool>());
    EXPECT_FALSE(behind.summary["thresholds"][1]["passed"].get<bool>());
    EXPECT_NE(behind.err.find("behind its schedule"), std::string::npos) << behind.err;
}

TEST(Thresholds, DeliveryThresholdsReplaceTheAllDeliveredRule) {
    // /dev/full fails every write: exit 1 by default, 99 when a delivery threshold fails, 0
    // when the user's delivery threshold accepts the losses.
    const judged lost = run_with("", "file:/dev/full");
    EXPECT_EQ(lost.exit_code, 1) << lost.err;
    const judged strict = run_with(quoted("delivered_ratio>=0.999"), "file:/dev/full");
    EXPECT_EQ(strict.exit_code, 99) << strict.err;
    const judged tolerant = run_with(quoted("delivered_ratio>=0"), "file:/dev/full");
    EXPECT_EQ(tolerant.exit_code, 0) << tolerant.err;
    EXPECT_GT(tolerant.summary["messages_failed"].get<int>(), 0);
    // A latency threshold says nothing about losses: the default rule still holds.
    const judged latency_only = run_with(quoted("p99<10s"), "file:/dev/full");
    EXPECT_EQ(latency_only.exit_code, 1) << latency_only.err;
}

TEST(Thresholds, AbortOnFailStopsTheRunAtOnce) {
    const judged r = summarized(golden_profile +
                                " --rate 1000 --run-for 60s --progress off --grace 1s "
                                "--sink file:/dev/full " +
                                quoted("failed<1,abort_on_fail"));
    EXPECT_EQ(r.exit_code, 99) << r.err;
    EXPECT_LT(r.summary["elapsed_seconds"].get<double>(), 30); // not the 60 s asked for
    EXPECT_NE(r.err.find("threshold failed<1,abort_on_fail crossed"), std::string::npos) << r.err;
    EXPECT_NE(
        r.summary["control_events"].back()["what"].get<std::string>().find("stopped: threshold"),
        std::string::npos);
}

TEST(Thresholds, BadExpressionsAreUsageErrors) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"p99<200", "give a unit"},
        {"lagmax<2s", "did you mean \"lag_max\""},
        {"p99 200ms", "expected METRIC OP VALUE"},
        {"rate>=fast", "is not a number"},
        {"shortfall<1,abort_on_fail", "only known at the end"},
        {"failed<1,abort_now", "the one option is abort_on_fail"},
    };
    for (const auto& [expression, says] : cases) {
        const auto r = run_synthfeed("run " + golden_profile +
                                     " --count 5 --sink null: " + quoted(expression));
        EXPECT_EQ(r.exit_code, exit_usage) << expression;
        EXPECT_NE(r.err.find("--threshold"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(says), std::string::npos) << expression << ": " << r.err;
    }
    // A target exists only for a paced run.
    const auto unpaced =
        run_synthfeed("run " + golden_profile +
                      " --count 5 --speed max --sink null: " + quoted("rate>=0.9*target"));
    EXPECT_EQ(unpaced.exit_code, exit_usage);
    EXPECT_NE(unpaced.err.find("no target rate"), std::string::npos) << unpaced.err;
}

TEST(Summary, SaysWhatReproducesTheRunWithSecretsMasked) {
    const judged r =
        summarized(golden_profile + " --count 20 --progress off --sink kafka://embedded/t "
                                    "-X sasl.password=hunter2 -X linger.ms=5");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json& s = r.summary;
    EXPECT_EQ(s.dump().find("hunter2"), std::string::npos);
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos);
    for (const char* key :
         {"synthfeed_version", "command_line", "profile", "profile_path", "profile_sha256", "seed",
          "started", "fleet", "load", "reproducible", "sinks", "control_events", "thresholds",
          "shortfall", "max_schedule_lag_seconds", "messages_in_doubt", "megabytes_per_second"})
        EXPECT_TRUE(s.contains(key)) << key;
    EXPECT_NE(s["synthfeed_version"].get<std::string>().find("commit "), std::string::npos);
    const auto command = s["command_line"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(command.begin(), command.end(), "sasl.password=***"), command.end());
    EXPECT_NE(std::find(command.begin(), command.end(), "linger.ms=5"), command.end());
    EXPECT_TRUE(s["reproducible"].get<bool>());
    EXPECT_EQ(s["sinks"][0]["uri"], "kafka://embedded/t");
    EXPECT_EQ(s["sinks"][0]["latency_seconds"]["count"], 20);
    // The digest is the profile file's own, as sha256sum computes it.
    FILE* pipe = ::popen(("sha256sum " + golden_profile).c_str(), "r");
    char digest[65] = {};
    ASSERT_EQ(std::fread(digest, 1, 64, pipe), 64u);
    ::pclose(pipe);
    EXPECT_EQ(s["profile_sha256"], std::string(digest));
}

TEST(RunFor, IsAHardLimitAndTheShortfallIsReported) {
    // Far above what this machine generates: the run stops at 2 s (plus start and drain),
    // reports what it did not send and warns.
    const judged r = summarized(factory_line +
                                " --rate 1e9 --run-for 2s --grace 2s --progress off --sink null:");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LT(r.summary["elapsed_seconds"].get<double>(), 2 + 2 + 1);
    EXPECT_GT(r.summary["shortfall"].get<double>(), 0);
    EXPECT_FALSE(r.summary["shortfall_estimated"].get<bool>());
    EXPECT_GT(r.summary["schedule_lag_at_end_seconds"].get<double>(), 0.5);
    EXPECT_NE(r.err.find("warning: the run ended"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("draining (--run-for reached)"), std::string::npos) << r.err;
}
