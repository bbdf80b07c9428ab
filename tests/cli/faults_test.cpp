// Transport and data-quality faults, end to end through the binary with the shipped
// ingestion-torture profile (fixed seed): each fault does what its label claims.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "src/core/time.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;
using json = nlohmann::json;

namespace {

const std::string torture_profile = source_path("profiles/ingestion_torture.toml");

using message_key = std::pair<std::string, std::uint64_t>; // (device_id, seq)

/// One run of the torture profile, parsed: data lines in arrival order, labels, episodes.
struct torture_run {
    std::vector<std::string> raw;            ///< data lines as sent
    std::vector<std::optional<json>> parsed; ///< nullopt: not valid JSON
    std::map<message_key, json> labels;
    std::map<std::string, json> episodes;                     ///< by episode id
    std::map<message_key, std::vector<std::size_t>> arrivals; ///< positions of parseable copies

    /// The kinds of the faults on a tick.
    std::set<std::string> faults(const message_key& k) const {
        std::set<std::string> out;
        for (const auto& f : labels.at(k)["faults"]) out.insert(f.get<std::string>());
        return out;
    }
    /// The live episodes of `kind` on a tick.
    std::vector<const json*> live(const message_key& k, const std::string& kind) const {
        std::vector<const json*> out;
        for (const auto& id : labels.at(k)["episodes"]) {
            const json& e = episodes.at(id.get<std::string>());
            if (e["kind"] == kind) out.push_back(&e);
        }
        return out;
    }
};

message_key key_of(const json& j) {
    return {j["device_id"].get<std::string>(), j["seq"].get<std::uint64_t>()};
}

sim_time time_of(const json& ts) {
    return *parse_timestamp(ts.get<std::string>());
}

const torture_run& torture() {
    static const torture_run run = [] {
        const auto o = run_to_files(torture_profile, "--duration 20m --threads 2", "torture");
        EXPECT_EQ(o.exit_code, 0);
        torture_run r;
        r.raw = lines(o.data);
        for (std::size_t i = 0; i < r.raw.size(); ++i) {
            json j = json::parse(r.raw[i], nullptr, false);
            if (j.is_discarded()) {
                r.parsed.emplace_back();
                continue;
            }
            r.arrivals[key_of(j)].push_back(i);
            r.parsed.emplace_back(std::move(j));
        }
        for (const auto& line : lines(o.labels)) {
            json j = json::parse(line);
            r.labels.emplace(key_of(j), std::move(j));
        }
        for (const auto& line : lines(o.episodes)) {
            json j = json::parse(line);
            r.episodes.emplace(j["episode"].get<std::string>(), std::move(j));
        }
        return r;
    }();
    return run;
}

/// Ticks whose label lists the fault.
std::vector<message_key> ticks_with(const std::string& fault) {
    std::vector<message_key> out;
    for (const auto& [k, label] : torture().labels)
        for (const auto& f : label["faults"])
            if (f == fault) out.push_back(k);
    return out;
}

} // namespace

TEST(Faults, EveryKindOccursAndIsATransportEpisode) {
    std::map<std::string, int> by_kind;
    for (const auto& [id, e] : torture().episodes) {
        EXPECT_EQ(e["class"], "transport") << id;
        ++by_kind[e["kind"].get<std::string>()];
    }
    for (const char* kind : {"duplicate", "out_of_order", "late", "dropped", "malformed",
                             "clock_skew", "schema_drift"})
        EXPECT_GT(by_kind[kind], 0) << kind;
    // Transport faults are their own label class: they never make a tick anomalous.
    for (const auto& [k, label] : torture().labels) ASSERT_EQ(label["label"], "normal");
}

TEST(Faults, DuplicatesShareDeviceSeqAndPayloadAndNothingElseRepeats) {
    const auto& run = torture();
    const auto duplicated = ticks_with("duplicate");
    ASSERT_GT(duplicated.size(), 500u);
    std::size_t checked = 0;
    for (const auto& k : duplicated) {
        // Copies of a cut payload do not parse; a dropped tick sends neither copy.
        if (run.faults(k).count("malformed") || run.faults(k).count("dropped")) continue;
        const auto& at = run.arrivals.at(k);
        ASSERT_EQ(at.size(), 2u) << k.first << " " << k.second;
        EXPECT_EQ(run.raw[at[0]], run.raw[at[1]]);
        ++checked;
    }
    EXPECT_GT(checked, 500u);
    for (const auto& [k, at] : run.arrivals) {
        if (at.size() > 1) {
            ASSERT_TRUE(run.faults(k).count("duplicate")) << k.first << " " << k.second;
        }
    }
}

TEST(Faults, OutOfOrderMessagesArriveAfterTheDevicesNextMessage) {
    const auto& run = torture();
    std::size_t checked = 0;
    for (const auto& k : ticks_with("out_of_order")) {
        const message_key next{k.first, k.second + 1};
        if (!run.arrivals.count(k) || !run.arrivals.count(next) || !run.faults(next).empty())
            continue; // the next message was itself faulted (or the run ended)
        EXPECT_LT(run.arrivals.at(next).front(), run.arrivals.at(k).front())
            << k.first << " " << k.second;
        EXPECT_LT(time_of(run.labels.at(k)["ts"]), time_of(run.labels.at(next)["ts"]));
        ++checked;
    }
    EXPECT_GT(checked, 500u);
}

TEST(Faults, LateMessagesArriveTheirDelayAfterTheirEventTime) {
    const auto& run = torture();
    // The newest true event time seen before each arrival: the fleet's clock when it arrived
    // (500 devices each send every second, so it is within a second of the arrival time).
    std::vector<sim_time> newest_before(run.parsed.size() + 1, 0);
    for (std::size_t i = 0; i < run.parsed.size(); ++i) {
        newest_before[i + 1] = newest_before[i];
        if (run.parsed[i])
            newest_before[i + 1] =
                std::max(newest_before[i], time_of(run.labels.at(key_of(*run.parsed[i]))["ts"]));
    }
    const sim_time run_end = time_of(json("2026-01-01T00:20:00Z"));
    std::size_t checked = 0;
    for (const auto& k : ticks_with("late")) {
        if (!run.arrivals.count(k)) continue;
        const auto late = run.live(k, "late");
        ASSERT_EQ(late.size(), 1u);
        const sim_time ts = time_of(run.labels.at(k)["ts"]);
        const auto delay = static_cast<sim_duration>((*late[0])["magnitude"].get<double>());
        EXPECT_GE(delay, 5 * 60'000);
        const sim_time arrived = newest_before[run.arrivals.at(k).front()];
        // Held back its delay (or until the run's end, where held messages are flushed).
        EXPECT_GE(arrived, std::min(ts + delay, run_end) - 1000) << k.first << " " << k.second;
        EXPECT_LE(arrived, ts + delay);
        ++checked;
    }
    EXPECT_GT(checked, 20u);
}

TEST(Faults, DroppedTicksAreLabelledSilentAndNeverSent) {
    const auto& run = torture();
    const auto dropped = ticks_with("dropped");
    ASSERT_GT(dropped.size(), 100u);
    for (const auto& k : dropped) {
        EXPECT_FALSE(run.labels.at(k)["emitted"].get<bool>());
        EXPECT_FALSE(run.arrivals.count(k));
    }
}

TEST(Faults, MalformedPayloadsFailToParseAndOnlyThey) {
    const auto& run = torture();
    std::size_t expected_bad = 0;
    for (const auto& k : ticks_with("malformed")) {
        if (!run.labels.at(k)["emitted"].get<bool>()) continue;
        EXPECT_FALSE(run.arrivals.count(k)) << k.first << " " << k.second;
        expected_bad += run.faults(k).count("duplicate") ? 2 : 1;
    }
    const auto bad = std::count_if(run.parsed.begin(), run.parsed.end(),
                                   [](const auto& p) { return !p.has_value(); });
    EXPECT_GT(expected_bad, 50u);
    EXPECT_EQ(static_cast<std::size_t>(bad), expected_bad);
}

TEST(Faults, ClockSkewShiftsThePayloadTimeByItsMagnitude) {
    const auto& run = torture();
    std::size_t skewed = 0;
    for (const auto& p : run.parsed) {
        if (!p) continue;
        const message_key k = key_of(*p);
        sim_duration skew = 0;
        for (const json* e : run.live(k, "clock_skew"))
            skew += static_cast<sim_duration>((*e)["magnitude"].get<double>());
        ASSERT_EQ(time_of((*p)["ts"]) - time_of(run.labels.at(k)["ts"]), skew)
            << k.first << " " << k.second;
        skewed += skew != 0;
    }
    EXPECT_GT(skewed, 100u);
}

TEST(Faults, SchemaDriftRenamesOrRetypesExactlyTheLabelledMessages) {
    const auto& run = torture();
    std::size_t renamed = 0, retyped = 0;
    for (const auto& p : run.parsed) {
        if (!p) continue;
        const message_key k = key_of(*p);
        bool rename = false, retype = false;
        for (const json* e : run.live(k, "schema_drift")) {
            rename |= (*e)["field"] == "voltage_v";
            retype |= (*e)["field"] == "power_w";
        }
        ASSERT_EQ(p->contains("voltage_v_v2"), rename);
        ASSERT_EQ(p->contains("voltage_v"), !rename);
        ASSERT_EQ((*p)["power_w"].is_string(), retype);
        renamed += rename, retyped += retype;
    }
    EXPECT_GT(renamed, 100u);
    EXPECT_GT(retyped, 100u);
}

TEST(Faults, DelayedMessagesKeepTheStreamIdenticalAcrossThreadsAndFormats) {
    const std::string flags = "--duration 20m";
    const auto one = run_to_files(torture_profile, flags + " --threads 1", "tt1");
    const auto three = run_to_files(torture_profile, flags + " --threads 3", "tt3");
    EXPECT_TRUE(one.data == three.data);
    EXPECT_TRUE(one.labels == three.labels);
    EXPECT_EQ(one.episodes, three.episodes);
    // The CSV label format carries the faults too.
    const auto csv = run_to_files(torture_profile, "--duration 2m --labels-format csv", "tcsv");
    const auto rows = lines(csv.labels);
    ASSERT_FALSE(rows.empty());
    EXPECT_TRUE(rows[0].ends_with(",emitted,faults"));
    EXPECT_TRUE(std::any_of(rows.begin(), rows.end(),
                            [](const std::string& r) { return r.ends_with(",duplicate"); }));
}
