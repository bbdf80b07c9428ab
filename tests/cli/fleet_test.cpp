// Fleet-level structure, end to end through the binary: state machines and the fields that
// follow them, a latent driver shared by a group, gateway outages cascading to their devices
// with the root cause recorded, and a labelled concept drift.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "src/core/time.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;
using json = nlohmann::json;

namespace {

// Small enough to parse quickly, long enough for outages, dwell times and the drift.
const std::string fleet_profile = R"(
name = "fleet"
seed = 5
start = "2026-01-05T00:00:00Z"

[[group]]
name = "gateways"
count = 2
id = "gw-{index}"
interval = "30s"
  [[group.field]]
  name = "rssi"
  signal = { kind = "constant", value = -70.0 }
  [[group.anomaly]]
  kind = "dropout"
  rate = "3/day"
  duration = "10m..30m"

[[group]]
name = "presses"
count = 6
id = "press-{index}"
interval = "5s"
parent = "gateways"
  [group.driver]
  daily_amplitude = 4.0
  stddev = 1.5
  every = "3h"
  [[group.field]]
  name = "state"
  signal = { kind = "states", states = ["idle", "running", "fault"], dwell = ["5m..30m", "30m..3h", "2m..20m"], next = [[0, 0.9, 0.1], [0.8, 0, 0.2], [1, 0, 0]] }
  [[group.field]]
  name = "current_a"
  precision = 3
  signal = { kind = "derived", from = "state", table = [0.8, 14.0, 2.5] }
  noise = { kind = "gaussian", stddev = 0.3 }
  [[group.field]]
  name = "power_kw"
  precision = 3
  signal = { kind = "derived", from = "current_a", scale = 0.55 }
  noise = { kind = "gaussian", stddev = 0.05 }
  [[group.field]]
  name = "vibration"
  precision = 3
  signal = { kind = "derived", from = "state", table = [0.3, 4.5, 9.0] }
  noise = { kind = "gaussian", stddev = 0.4 }
  [[group.field]]
  name = "temp"
  precision = 3
  signal = { kind = "derived", from = "state", table = [24.0, 48.0, 58.0] }
  driver = 1.0
  [[group.drift]]
  field = "vibration"
  shift = 1.5
  scale = 1.4
  start = "2d"
  ramp = "6h"
)";

const std::map<std::string, int> state_index{{"idle", 0}, {"running", 1}, {"fault", 2}};

struct fleet_run {
    std::map<std::string, std::vector<json>> messages; ///< by device, in seq order
    std::map<std::string, std::vector<json>> labels;   ///< by device, in seq order
    std::vector<json> episodes;
};

const fleet_run& fleet() {
    static const fleet_run run = [] {
        const auto dir = temp_dir("fleet-profile");
        write_file(dir / "fleet.toml", fleet_profile);
        const auto o = run_to_files((dir / "fleet.toml").string(), "--duration 4d", "fleet");
        EXPECT_EQ(o.exit_code, 0);
        fleet_run r;
        for (const auto& line : lines(o.data)) {
            json m = json::parse(line);
            r.messages[m["device_id"].get<std::string>()].push_back(std::move(m));
        }
        for (const auto& line : lines(o.labels)) {
            json l = json::parse(line);
            r.labels[l["device_id"].get<std::string>()].push_back(std::move(l));
        }
        for (const auto& line : lines(o.episodes)) r.episodes.push_back(json::parse(line));
        std::filesystem::remove_all(dir);
        return r;
    }();
    return run;
}

sim_time time_of(const json& ts) {
    return *parse_timestamp(ts.get<std::string>());
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
    const double ma = mean(a), mb = mean(b);
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma),
            sbb += (b[i] - mb) * (b[i] - mb);
    return sab / std::sqrt(saa * sbb);
}

} // namespace

TEST(Fleet, StateMachinesMoveOnlyAlongTheirEdgesAndDwellAsConfigured) {
    const std::set<std::pair<int, int>> edges{{0, 1}, {0, 2}, {1, 0}, {1, 2}, {2, 0}};
    const std::vector<std::pair<sim_duration, sim_duration>> dwell{
        {5 * 60'000, 30 * 60'000}, {30 * 60'000, 3 * 3'600'000}, {2 * 60'000, 20 * 60'000}};
    std::size_t transitions = 0, segments = 0;
    for (const auto& [device, labels] : fleet().labels) {
        if (!device.starts_with("press")) continue;
        int state = -1;
        sim_time since = 0;
        std::uint64_t last_seq = 0;
        for (const json& m : fleet().messages.at(device)) {
            const int s = state_index.at(m["state"].get<std::string>());
            const sim_time ts = time_of(m["ts"]);
            const std::uint64_t seq = m["seq"];
            if (state >= 0 && seq != last_seq + 1) state = -1; // a dropout hid some ticks
            last_seq = seq;
            if (state >= 0 && s != state) {
                ASSERT_TRUE(edges.count({state, s})) << device << " " << state << "->" << s;
                ++transitions;
                if (since > 0) { // a whole dwell, seen to within a tick or a dropout
                    const sim_duration d = ts - since;
                    EXPECT_GE(d, dwell[state].first - 10'000) << device;
                    EXPECT_LE(d, dwell[state].second + 31 * 60'000) << device;
                    ++segments;
                }
                since = ts;
            }
            if (state < 0) since = 0; // the first segment started before the run
            state = s;
        }
    }
    EXPECT_GT(transitions, 100u);
    EXPECT_GT(segments, 100u);
}

TEST(Fleet, FieldsFollowTheStateAndEachOther) {
    std::map<int, std::vector<double>> current_by_state;
    std::size_t checked = 0;
    for (const auto& [device, messages] : fleet().messages) {
        if (!device.starts_with("press")) continue;
        for (const json& m : messages) {
            const double current = m["current_a"];
            current_by_state[state_index.at(m["state"].get<std::string>())].push_back(current);
            // power = 0.55 x current, give or take its own noise (5 sigma).
            ASSERT_NEAR(m["power_kw"].get<double>(), 0.55 * current, 0.25);
            ++checked;
        }
    }
    EXPECT_NEAR(mean(current_by_state[0]), 0.8, 0.05);
    EXPECT_NEAR(mean(current_by_state[1]), 14.0, 0.05);
    EXPECT_NEAR(mean(current_by_state[2]), 2.5, 0.05);
    EXPECT_GT(checked, 100'000u);
}

TEST(Fleet, ASharedDriverCorrelatesTheDevicesOfAGroup) {
    // temp = table[state] + driver: what is left after the state is the hall's temperature,
    // the same for every press. Hourly means of two presses must move together.
    const std::vector<double> table{24.0, 48.0, 58.0};
    auto hourly = [&](const std::string& device) {
        std::map<sim_time, std::pair<double, int>> sums;
        for (const json& m : fleet().messages.at(device)) {
            auto& [sum, n] = sums[time_of(m["ts"]) / 3'600'000];
            sum += m["temp"].get<double>() - table[state_index.at(m["state"].get<std::string>())];
            ++n;
        }
        return sums;
    };
    const auto a = hourly("press-0"), b = hourly("press-5");
    std::vector<double> xs, ys;
    for (const auto& [hour, s] : a)
        if (b.count(hour))
            xs.push_back(s.first / s.second), ys.push_back(b.at(hour).first / b.at(hour).second);
    ASSERT_GT(xs.size(), 80u);
    EXPECT_GT(correlation(xs, ys), 0.95);
    EXPECT_GT(stddev(xs), 1.0); // and it does move
}

TEST(Fleet, AGatewayOutageSilencesItsDevicesAndIsTheirRootCause) {
    std::map<std::string, const json*> gateway_outages;
    std::map<std::string, std::vector<const json*>> caused; // gateway episode -> press episodes
    for (const json& e : fleet().episodes) {
        if (e["group"] == "gateways") gateway_outages[e["episode"].get<std::string>()] = &e;
        if (e.contains("cause")) caused[e["cause"].get<std::string>()].push_back(&e);
    }
    ASSERT_GE(gateway_outages.size(), 4u);
    std::size_t silenced = 0;
    for (const auto& [id, outage] : gateway_outages) {
        // press-0..2 sit behind gw-0, press-3..5 behind gw-1: all three go down together.
        const int gateway = (*outage)["device_id"] == "gw-0" ? 0 : 1;
        std::set<std::string> children;
        for (const json* e : caused[id]) {
            EXPECT_EQ((*e)["kind"], "dropout");
            EXPECT_EQ((*e)["start"], (*outage)["start"]);
            EXPECT_EQ((*e)["end"], (*outage)["end"]);
            children.insert((*e)["device_id"].get<std::string>());
        }
        std::set<std::string> expected;
        for (int p = 3 * gateway; p < 3 * gateway + 3; ++p)
            expected.insert("press-" + std::to_string(p));
        EXPECT_EQ(children, expected) << id;
        const sim_time start = time_of((*outage)["start"]), end = time_of((*outage)["end"]);
        for (const std::string& child : expected)
            for (const json& l : fleet().labels.at(child)) {
                const sim_time ts = time_of(l["ts"]);
                if (ts < start || ts >= end) continue;
                ASSERT_FALSE(l["emitted"].get<bool>()) << child;
                EXPECT_EQ(l["label"], "dropout");
                ++silenced;
            }
    }
    EXPECT_GT(silenced, 100u);
}

TEST(Fleet, ConceptDriftShiftsTheDistributionForGoodAndIsLabelledAsDrift) {
    const sim_time drift_start = time_of(json("2026-01-07T00:00:00Z"));
    const sim_time settled = drift_start + 6 * 3'600'000;
    std::vector<double> before, after;
    std::size_t labelled = 0;
    std::set<std::string> drift_episodes;
    for (const json& e : fleet().episodes)
        if (e["kind"] == "concept_drift") drift_episodes.insert(e["episode"].get<std::string>());
    ASSERT_EQ(drift_episodes.size(), 6u); // one per press
    for (const auto& [device, labels] : fleet().labels) {
        if (!device.starts_with("press")) continue;
        std::map<std::uint64_t, const json*> by_seq;
        for (const json& l : labels) by_seq[l["seq"].get<std::uint64_t>()] = &l;
        for (const json& m : fleet().messages.at(device)) {
            const json& l = *by_seq.at(m["seq"].get<std::uint64_t>());
            const sim_time ts = time_of(m["ts"]);
            bool in_drift = false;
            for (const auto& id : l["episodes"])
                in_drift |= drift_episodes.count(id.get<std::string>()) > 0;
            ASSERT_EQ(in_drift, ts >= drift_start) << device << " " << m["seq"];
            if (l["label"] != "normal" || m["state"] != "running") continue; // drift is no anomaly
            if (ts < drift_start) before.push_back(m["vibration"]);
            if (ts >= settled) after.push_back(m["vibration"]);
            labelled += in_drift;
        }
    }
    ASSERT_GT(before.size(), 10'000u);
    ASSERT_GT(after.size(), 10'000u);
    EXPECT_NEAR(mean(after) - mean(before), 1.5, 0.05);
    EXPECT_NEAR(stddev(after) / stddev(before), 1.4, 0.05);
    EXPECT_GT(labelled, 10'000u);
    for (const json& e : fleet().episodes)
        if (e["kind"] == "concept_drift") {
            EXPECT_EQ(e["class"], "drift");
            EXPECT_TRUE(e["end"].is_null());
        }
}

TEST(Fleet, EventSensorsArriveAsAPoissonProcessWithADailyAndWeeklyRhythm) {
    // The shipped building_events profile, one week from Monday 2026-01-05.
    const auto o =
        run_to_files(source_path("profiles/building_events.toml"), "--duration 7d", "events");
    ASSERT_EQ(o.exit_code, 0);
    std::map<std::string, std::map<std::uint64_t, std::string>> doors; // by seq: dedups copies
    std::map<std::string, double> count;
    std::vector<double> door_by_hour(24), door_by_day(7);
    for (const auto& line : lines(o.data)) {
        const json m = json::parse(line);
        const std::string id = m["device_id"];
        const std::string kind = id.substr(0, id.find('-'));
        ++count[kind];
        if (kind != "door") continue;
        doors[id][m["seq"].get<std::uint64_t>()] = m["door"];
        const sim_time ts = time_of(m["ts"]);
        ++door_by_hour[static_cast<std::size_t>(ts % ms_per_day / 3'600'000)];
        ++door_by_day[static_cast<std::size_t>((ts - time_of(json("2026-01-05T00:00:00Z"))) /
                                               ms_per_day)];
    }
    // Mean rates as configured (duplicates add half a percent to the doors).
    EXPECT_NEAR(count["door"] / 300 / 7, 40 * 1.005, 1.0);
    EXPECT_NEAR(count["pir"] / 500 / 7, 150, 2.0);
    // Doors peak around 09:00 and are nearly idle at 21:00; weekends are quiet.
    EXPECT_GT(door_by_hour[9], 8 * door_by_hour[21]);
    EXPECT_GT(door_by_day[2], 3 * door_by_day[5]); // a Wednesday against a Saturday
    // Each door alternates closed/open, event by event.
    for (const auto& [id, by_seq] : doors) {
        std::string last;
        for (const auto& [seq, state] : by_seq) {
            ASSERT_NE(state, last) << id << " " << seq;
            last = state;
        }
    }
}
