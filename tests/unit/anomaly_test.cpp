// Each anomaly kind does what its label claims, at the rate its profile asks for.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "src/core/errors.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;

namespace {

using episode_key = std::tuple<std::uint64_t, std::uint32_t, std::uint32_t>; // device, anomaly, n

/// Checks that every tick carries exactly the episodes whose window holds its event time.
void expect_labels_match_windows(const collection& c) {
    std::map<episode_key, episode_view> by_key;
    for (const auto& e : c.episodes) by_key.emplace(episode_key{e.device, e.anomaly, e.episode}, e);
    std::map<std::uint64_t, std::vector<const episode_view*>> by_device;
    for (const auto& [k, e] : by_key) by_device[e.device].push_back(&e);
    for (const auto& t : c.ticks) {
        std::set<std::pair<std::uint32_t, std::uint32_t>> expected, got;
        for (const episode_view* e : by_device[t.device])
            if (e->start <= t.ts && t.ts < e->end) expected.insert({e->anomaly, e->episode});
        for (const auto& r : t.episodes) got.insert({r.anomaly, r.episode});
        ASSERT_EQ(got, expected) << "device " << t.device << " seq " << t.seq;
    }
}

collection run_anomaly(const std::string& anomaly, int devices = 20,
                       sim_duration span = 5 * ms_per_day,
                       const std::string& field = "signal = { kind = \"constant\", value = 10.0 }",
                       const std::string& interval = "1m") {
    return generate(
        profile_from(one_field_profile(field, "[[group.anomaly]]\n" + anomaly, devices, interval)),
        span);
}

/// Ticks grouped by whether any episode is live.
std::pair<std::vector<double>, std::vector<double>> split(const collection& c) {
    std::vector<double> normal, anomalous;
    for (const auto& t : c.ticks)
        if (t.emitted) (t.episodes.empty() ? normal : anomalous).push_back(t.values[0]);
    return {normal, anomalous};
}

} // namespace

TEST(Anomaly, SpikeRateAndSingleTickEffect) {
    // 200 devices × 10 days × 2/day = 4000 expected spikes (Poisson: ±3σ ≈ ±190).
    auto c = run_anomaly("kind = \"spike\"\nfield = \"x\"\nrate = \"2/day\"\nmagnitude = 5.0", 200,
                         10 * ms_per_day);
    EXPECT_NEAR(static_cast<double>(c.episodes.size()), 4000.0, 250.0);
    auto [normal, anomalous] = split(c);
    EXPECT_EQ(anomalous.size(), c.episodes.size()); // one tick per spike
    for (double v : anomalous) EXPECT_DOUBLE_EQ(v, 15.0);
    for (double v : normal) ASSERT_DOUBLE_EQ(v, 10.0);
    for (const auto& e : c.episodes) EXPECT_EQ(e.end - e.start, 1);
    expect_labels_match_windows(c);
}

TEST(Anomaly, LevelShiftWindowAndDuration) {
    auto c = run_anomaly("kind = \"level_shift\"\nfield = \"x\"\nrate = \"1/day\"\nmagnitude = "
                         "[2.0, 4.0]\nduration = \"1h..3h\"");
    ASSERT_GT(c.episodes.size(), 40u);
    for (const auto& e : c.episodes) {
        EXPECT_GE(e.end - e.start, 3'600'000);
        EXPECT_LE(e.end - e.start, 3 * 3'600'000);
        EXPECT_GE(e.magnitude, 2.0);
        EXPECT_LE(e.magnitude, 4.0);
    }
    // Episodes per device: span / (mean gap + mean duration) = 5d / (1d + 2h) ≈ 4.6.
    EXPECT_NEAR(static_cast<double>(c.episodes.size()) / 20.0, 5.0 / (1 + 2.0 / 24), 1.0);
    std::map<std::pair<std::uint64_t, std::uint32_t>, double> magnitude;
    for (const auto& e : c.episodes) magnitude[{e.device, e.episode}] = e.magnitude;
    for (const auto& t : c.ticks) {
        if (t.episodes.empty()) continue;
        const double m = magnitude[{t.device, t.episodes[0].episode}];
        ASSERT_NEAR(t.values[0], 10.0 + m, 1e-9);
    }
    expect_labels_match_windows(c);
}

TEST(Anomaly, TrendRampsToItsMagnitude) {
    auto c = run_anomaly(
        "kind = \"trend\"\nfield = \"x\"\nrate = \"1/day\"\nmagnitude = 6.0\nduration = \"10h\"");
    std::map<std::pair<std::uint64_t, std::uint32_t>, const episode_view*> episodes;
    for (const auto& e : c.episodes) episodes[{e.device, e.episode}] = &e;
    ASSERT_FALSE(episodes.empty());
    for (const auto& t : c.ticks) {
        if (t.episodes.empty()) continue;
        const episode_view* e = episodes[{t.device, t.episodes[0].episode}];
        const double expected = 10.0 + 6.0 * static_cast<double>(t.ts - e->start) /
                                           static_cast<double>(e->end - e->start);
        ASSERT_NEAR(t.values[0], expected, 1e-9);
    }
    expect_labels_match_windows(c);
}

TEST(Anomaly, VarianceChangeMultipliesNoise) {
    auto c = run_anomaly(
        "kind = \"variance\"\nfield = \"x\"\nrate = \"1/day\"\nmagnitude = 4.0\nduration = \"6h\"",
        20, 10 * ms_per_day,
        "signal = { kind = \"constant\", value = 0.0 }\nnoise = { kind = \"gaussian\", stddev = "
        "1.0 }");
    auto [normal, anomalous] = split(c);
    ASSERT_GT(anomalous.size(), 1000u);
    EXPECT_NEAR(stddev(normal), 1.0, 0.03);
    EXPECT_NEAR(stddev(anomalous), 4.0, 0.15);
    expect_labels_match_windows(c);
}

TEST(Anomaly, StuckAtFreezesTheFirstValue) {
    auto c =
        run_anomaly("kind = \"stuck_at\"\nfield = \"x\"\nrate = \"1/day\"\nduration = \"2h\"", 10,
                    5 * ms_per_day, "signal = { kind = \"random_walk\", start = 0.0, step = 1.0 }");
    std::map<std::pair<std::uint64_t, std::uint32_t>, double> frozen;
    std::size_t checked = 0;
    for (const auto& t : c.ticks) {
        if (t.episodes.empty()) continue;
        auto [it, first] = frozen.emplace(std::pair{t.device, t.episodes[0].episode}, t.values[0]);
        if (first) continue;
        ASSERT_DOUBLE_EQ(t.values[0], it->second);
        ++checked;
    }
    EXPECT_GT(checked, 1000u);
    // Outside episodes the walk moves at every tick.
    auto [normal, anomalous] = split(c);
    EXPECT_GT(stddev(normal), 1.0);
    expect_labels_match_windows(c);
}

TEST(Anomaly, DropoutSilencesMessagesButKeepsSequence) {
    auto c = run_anomaly("kind = \"dropout\"\nrate = \"1/day\"\nduration = \"30m..2h\"");
    std::size_t silenced = 0;
    std::map<std::uint64_t, std::uint64_t> next_seq;
    for (const auto& t : c.ticks) {
        EXPECT_EQ(t.emitted, t.episodes.empty());
        silenced += !t.emitted;
        ASSERT_EQ(t.seq, next_seq[t.device]++); // every seq exists in the truth, dropped or not
    }
    EXPECT_GT(silenced, 500u);
    expect_labels_match_windows(c);
}

TEST(Anomaly, FrequencyChangeSpeedsUpPeriodicSignals) {
    auto c = run_anomaly(
        "kind = \"frequency\"\nfield = \"x\"\nrate = \"1/day\"\nmagnitude = 3.0\nduration = \"4h\"",
        5, 5 * ms_per_day,
        "signal = { kind = \"sine\", mean = 0.0, amplitude = 1.0, period = \"1h\" }");
    std::map<std::pair<std::uint64_t, std::uint32_t>, const episode_view*> episodes;
    for (const auto& e : c.episodes) episodes[{e.device, e.episode}] = &e;
    ASSERT_FALSE(episodes.empty());
    for (const auto& t : c.ticks) {
        sim_time effective = t.ts;
        if (!t.episodes.empty()) {
            const episode_view* e = episodes[{t.device, t.episodes[0].episode}];
            effective = e->start + (t.ts - e->start) * 3;
        }
        const double x = static_cast<double>(effective % 3'600'000) / 3.6e6;
        ASSERT_NEAR(t.values[0], std::sin(2 * M_PI * x), 1e-5);
    }
    expect_labels_match_windows(c);
}

TEST(Anomaly, ExplicitWindowsHitOnlyTheNamedDevices) {
    auto c = run_anomaly("kind = \"level_shift\"\nfield = \"x\"\nmagnitude = 1.0\n"
                         "windows = [ { start = \"1h\", end = \"2h\", devices = [\"d-3\"] }, { "
                         "start = \"2026-01-01T05:00:00Z\", end = \"2026-01-01T06:00:00Z\" } ]",
                         5, ms_per_day);
    std::map<std::uint64_t, int> per_device;
    for (const auto& e : c.episodes) ++per_device[e.device];
    EXPECT_EQ(per_device[3], 2);
    for (std::uint64_t d : {0, 1, 2, 4}) EXPECT_EQ(per_device[d], 1);
    for (const auto& e : c.episodes) {
        if (e.device == 3 && e.episode == 0)
            EXPECT_EQ(e.start, test_start + 3'600'000);
        else
            EXPECT_EQ(e.start, test_start + 5 * 3'600'000);
    }
    expect_labels_match_windows(c);
}

TEST(Anomaly, WindowDevicesAreFoundByIdInAGroupOfAHundredMillion) {
    // The ids are read back from the template, not looked up by walking the group, so a
    // missing id in the largest group fails at once (a fuzzer found the walk's timeout).
    const auto profile_with = [](const std::string& id_template, const std::string& devices) {
        return "name = \"p\"\n[[group]]\nname = \"g\"\ncount = 100000000\nid = \"" + id_template +
               "\"\n[[group.field]]\nname = \"x\"\nsignal = { kind = \"constant\", value = 1 "
               "}\n[[group.anomaly]]\nkind = \"dropout\"\nwindows = [ { start = \"1h\", end = "
               "\"2h\", devices = [" +
               devices + "] } ]\n";
    };
    const auto indexes = [&](const std::string& id_template, const std::string& devices) {
        return profile_from(profile_with(id_template, devices))
            .groups[0]
            .anomalies[0]
            .windows[0]
            .devices;
    };
    using v = std::vector<std::uint32_t>;
    EXPECT_EQ(indexes("{group}-{index}", R"("g-99999999", "g-0", "g-12")"), (v{0, 12, 99999999}));
    EXPECT_EQ(indexes("s{index:08}-{group}", R"("s00000255-g")"), (v{255}));
    EXPECT_EQ(indexes("{group}{index:x}", R"("gff", "gabc")"), (v{255, 0xabc}));
    EXPECT_EQ(indexes("b{index:b}", R"("b101")"), (v{5}));
    for (const char* missing : {R"("g-100000000")", R"("g-01")", R"("h-1")", R"("g-")"})
        EXPECT_THROW(profile_from(profile_with("{group}-{index}", missing)), config_error)
            << missing;
    EXPECT_THROW(profile_from(profile_with("s{index:08}-{group}", R"("s255-g")")), config_error);
}

TEST(Anomaly, DirectionControlsTheSign) {
    auto down = run_anomaly(
        "kind = \"spike\"\nfield = \"x\"\nrate = \"5/day\"\nmagnitude = 2.0\ndirection = \"down\"");
    for (const auto& e : down.episodes) EXPECT_LT(e.magnitude, 0);
    auto both = run_anomaly(
        "kind = \"spike\"\nfield = \"x\"\nrate = \"5/day\"\nmagnitude = 2.0\ndirection = \"both\"");
    int negative = 0;
    for (const auto& e : both.episodes) negative += e.magnitude < 0;
    EXPECT_NEAR(static_cast<double>(negative) / static_cast<double>(both.episodes.size()), 0.5,
                0.1);
}

TEST(Anomaly, OverlappingEpisodesKeepBothIdentities) {
    const std::string text =
        one_field_profile("signal = { kind = \"constant\", value = 0.0 }",
                          "[[group.anomaly]]\nkind = \"level_shift\"\nfield = \"x\"\nmagnitude = "
                          "1.0\nwindows = [ { start = \"1h\", end = \"3h\" } ]\n"
                          "[[group.anomaly]]\nkind = \"trend\"\nfield = \"x\"\nmagnitude = "
                          "10.0\nwindows = [ { start = \"2h\", end = \"4h\" } ]\n",
                          1, "1m");
    auto c = generate(profile_from(text), ms_per_day);
    std::size_t both = 0;
    for (const auto& t : c.ticks)
        if (t.episodes.size() == 2) {
            ++both;
            EXPECT_EQ(t.episodes[0].anomaly, 0u);
            EXPECT_EQ(t.episodes[1].anomaly, 1u);
            EXPECT_GT(t.values[0], 1.0); // both effects applied
        }
    EXPECT_EQ(both, 60u);
    expect_labels_match_windows(c);
}
