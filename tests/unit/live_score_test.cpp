// src/score/live_score: the join of `score --follow`. Lines arrive in any order across the
// label, episode and detection streams; what has arrived is scored on demand, and the end's
// score equals the offline score of the same lines in files.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "src/score/live_score.hpp"
#include "src/score/score_report.hpp"

namespace synthfeed {
namespace {

using namespace std::chrono_literals;
using clock_point = live_scorer::clock::time_point;

/// "2026-01-01T00:MM:SS.000Z" for 0 <= seconds < 3600.
std::string ts(int seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "2026-01-01T00:%02d:%02d.000Z", seconds / 60, seconds % 60);
    return text;
}

std::string label(const std::string& device, int seq, const std::string& episodes = "[]",
                  bool emitted = true) {
    return R"({"device_id":")" + device + R"(","seq":)" + std::to_string(seq) + R"(,"ts":")" +
           ts(seq) + R"(","label":"x","episode":null,"episodes":)" + episodes + R"(,"emitted":)" +
           (emitted ? "true" : "false") + "}";
}

std::string episode(const std::string& id, const std::string& device, const char* kind, int start,
                    int end) {
    return R"({"episode":")" + id + R"(","device_id":")" + device +
           R"(","group":"g","field":"v","kind":")" + kind + R"(","class":"value","start":")" +
           ts(start) + R"(","end":")" + ts(end) + R"(","magnitude":1.0})";
}

std::string alert(const std::string& device, int seq) {
    return R"({"device_id":")" + device + R"(","seq":)" + std::to_string(seq) +
           R"(,"is_anomaly":1})";
}

class LiveScore : public ::testing::Test {
  protected:
    live_scorer scorer{{"kafka://b/labels", "kafka://b/episodes", "kafka://b/alerts"}};
    clock_point t0 = live_scorer::clock::now();

    void add_ok(live_stream s, const std::string& line, clock_point at) {
        const auto refused = scorer.add(s, line, at);
        EXPECT_FALSE(refused.has_value()) << *refused;
    }
    /// d-0 with a spike on seq 4, ten ticks, at `at`.
    void add_truth(clock_point at) {
        add_ok(live_stream::episodes, episode("d-0:0:0", "d-0", "spike", 4, 5), at);
        for (int seq = 0; seq < 10; ++seq)
            add_ok(live_stream::labels, label("d-0", seq, seq == 4 ? R"(["d-0:0:0"])" : "[]"), at);
    }
    score_report score(const live_snapshot& s) {
        return score_detections(s.truth, s.detections, {});
    }
};

TEST_F(LiveScore, AlertBeforeItsLabelJoinsOnceTheLabelComes) {
    add_ok(live_stream::detections, alert("d-0", 4), t0);
    const live_snapshot before = scorer.snapshot();
    EXPECT_EQ(before.detections.unknown_device_rows, 1u); // no truth yet
    add_truth(t0 + 1s);
    const score_report r = score(scorer.snapshot());
    EXPECT_EQ(r.overall.point.tp, 1u);
    EXPECT_EQ(r.overall.point.fp, 0u);
    EXPECT_EQ(r.unknown_device_rows, 0u);
    EXPECT_EQ(r.overall.delay.detected, 1u);
}

TEST_F(LiveScore, AlertAfterItsLabelCountsOnceTheLabelHasSettled) {
    add_truth(t0);
    // 5 s later the alert has not come: with a 30 s --max-delay the labels are not counted
    // yet, so the spike is not a miss.
    live_snapshot early = scorer.snapshot(t0 + 5s - 30s);
    EXPECT_EQ(early.unsettled_labels, 10u);
    EXPECT_EQ(score(early).overall.messages, 0u);
    add_ok(live_stream::detections, alert("d-0", 4), t0 + 20s); // late, within --max-delay
    const live_snapshot settled = scorer.snapshot(t0 + 31s - 30s);
    EXPECT_EQ(settled.unsettled_labels, 0u);
    const score_report r = score(settled);
    EXPECT_EQ(r.overall.messages, 10u);
    EXPECT_EQ(r.overall.point.tp, 1u);
    EXPECT_EQ(r.overall.point.fn, 0u);
}

TEST_F(LiveScore, AlertOfAnUnknownDeviceIsCounted) {
    add_truth(t0);
    add_ok(live_stream::detections, alert("ghost", 1), t0);
    add_ok(live_stream::detections, alert("d-0", 99), t0); // no such seq
    const live_snapshot s = scorer.snapshot();
    EXPECT_EQ(s.detections.rows, 2u);
    EXPECT_EQ(s.detections.unknown_device_rows, 1u);
    EXPECT_EQ(s.detections.unmatched_rows, 1u);
    ASSERT_FALSE(s.detections.warnings.empty());
    EXPECT_NE(s.detections.warnings[0].find("kafka://b/alerts:1: device \"ghost\""),
              std::string::npos);
    EXPECT_EQ(score(s).overall.point.fp, 0u);
}

TEST_F(LiveScore, LabelWaitsForItsEpisode) {
    add_ok(live_stream::labels, label("d-0", 0, R"(["d-0:0:0"])"), t0);
    EXPECT_EQ(scorer.snapshot().waiting_labels, 1u);
    add_ok(live_stream::episodes, episode("d-0:0:0", "d-0", "spike", 0, 1), t0);
    const live_snapshot s = scorer.snapshot();
    EXPECT_EQ(s.waiting_labels, 0u);
    EXPECT_EQ(score(s).overall.point.fn, 1u);
}

TEST_F(LiveScore, BadLinesAreCountedAndSkipped) {
    add_truth(t0);
    // A first line that is neither JSON nor a CSV header does not make the rest CSV.
    const auto not_a_row = scorer.add(live_stream::detections, "this is not a detection", t0);
    ASSERT_TRUE(not_a_row.has_value());
    EXPECT_NE(not_a_row->find("kafka://b/alerts:1: this is not a detection: unknown column"),
              std::string::npos)
        << *not_a_row;
    const auto unparsable = scorer.add(live_stream::detections, "{\"device_id\":", t0);
    ASSERT_TRUE(unparsable.has_value());
    EXPECT_NE(unparsable->find("kafka://b/alerts:2: not a JSON object"), std::string::npos)
        << *unparsable;
    const auto no_value = scorer.add(live_stream::detections, R"({"device_id":"d-0","seq":1})", t0);
    ASSERT_TRUE(no_value.has_value());
    EXPECT_NE(no_value->find("is_anomaly"), std::string::npos) << *no_value;
    const auto mixed =
        scorer.add(live_stream::detections, R"({"device_id":"d-0","seq":2,"score":0.5})", t0);
    EXPECT_FALSE(mixed.has_value()); // the first good row sets the mode: score
    const auto other_mode = scorer.add(live_stream::detections, alert("d-0", 4), t0);
    ASSERT_TRUE(other_mode.has_value());
    EXPECT_NE(other_mode->find("rows mix is_anomaly and score"), std::string::npos);
    const auto repeated =
        scorer.add(live_stream::episodes, episode("d-0:0:0", "d-0", "spike", 4, 5), t0);
    ASSERT_TRUE(repeated.has_value());
    EXPECT_NE(repeated->find("appears twice"), std::string::npos);
    EXPECT_TRUE(scorer.add(live_stream::labels, R"({"device_id":"d-0","ts":"x"})", t0));
    EXPECT_TRUE(scorer.add(live_stream::labels, "", t0));

    EXPECT_EQ(scorer.counts(live_stream::detections).lines, 5u);
    EXPECT_EQ(scorer.counts(live_stream::detections).bad, 4u);
    EXPECT_EQ(scorer.counts(live_stream::episodes).bad, 1u);
    EXPECT_EQ(scorer.counts(live_stream::labels).bad, 2u);
    const live_snapshot s = scorer.snapshot(); // the good lines still score
    EXPECT_EQ(s.detections.rows, 1u);
    EXPECT_EQ(score(s).overall.messages, 10u);
}

/// Random truth and detections of five devices, as lines; scored offline from files and live
/// from the same lines arriving interleaved, shuffled across devices and streams.
class LiveEqualsOffline : public ::testing::TestWithParam<bool> {
  protected:
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("synthfeed_live_score_test_" + std::to_string(::getpid()));
    std::vector<std::string> labels, episodes, detections;

    void SetUp() override {
        std::filesystem::create_directories(dir);
        std::mt19937 rng(17);
        const auto chance = [&rng](double p) {
            return std::uniform_real_distribution<double>(0, 1)(rng) < p;
        };
        const bool scores = GetParam();
        for (int d = 0; d < 5; ++d) {
            const std::string device = "dev-" + std::to_string(d);
            std::vector<std::vector<std::string>> live(200);
            for (int e = 0; e < 3; ++e) {
                const int start = static_cast<int>(rng() % 190);
                const int length = 1 + static_cast<int>(rng() % 8);
                const std::string id = device + ":0:" + std::to_string(e);
                episodes.push_back(
                    episode(id, device, e % 2 ? "level_shift" : "spike", start, start + length));
                for (int s = start; s < start + length; ++s) live[s].push_back(id);
            }
            for (int seq = 0; seq < 200; ++seq) {
                std::string ids = "[";
                for (const auto& id : live[seq]) ids += (ids.size() > 1 ? ",\"" : "\"") + id + "\"";
                labels.push_back(label(device, seq, ids + "]", seq != 150));
                const bool hit = !live[seq].empty() ? chance(0.7) : chance(0.05);
                if (scores) {
                    if (seq != 150 && chance(0.8)) // 150 is silenced
                        detections.push_back(R"({"device_id":")" + device + R"(","seq":)" +
                                             std::to_string(seq) + R"(,"score":)" +
                                             std::to_string((hit ? 0.5 : 0.0) +
                                                            static_cast<double>(rng() % 50) / 100) +
                                             "}");
                } else if (hit) {
                    detections.push_back(seq % 2 ? alert(device, seq)
                                                 : R"({"device_id":")" + device + R"(","ts":")" +
                                                       ts(seq) + R"(","is_anomaly":true})");
                    if (chance(0.1)) detections.push_back(alert(device, seq)); // repeated
                }
            }
        }
        for (const auto& [device, seq] : {std::pair{"ghost", 3}, std::pair{"dev-1", 150}})
            detections.push_back(scores
                                     ? R"({"device_id":")" + std::string(device) + R"(","seq":)" +
                                           std::to_string(seq) + R"(,"score":0.9})"
                                     : alert(device, seq)); // unknown; a silenced tick
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    std::string write(const char* name, const std::vector<std::string>& lines) {
        const std::string path = (dir / name).string();
        std::ofstream out(path);
        for (const auto& l : lines) out << l << "\n";
        return path;
    }
};

TEST_P(LiveEqualsOffline, FinalScoreEqualsTheFilesScore) {
    const truth_set truth =
        read_truth(write("labels.jsonl", labels), write("episodes.jsonl", episodes));
    const detection_set offline_detections =
        read_detections(write("detections.jsonl", detections), truth);
    const std::map<std::string, std::string> inputs{{"truth", "t"}};
    const std::string offline =
        report_json(score_detections(truth, offline_detections, {}), inputs);

    // Live: every line once, shuffled across streams, devices and even seqs (truth_builder
    // sorts each device's ticks by seq, as a Kafka partition would have kept them anyway).
    std::vector<std::pair<live_stream, std::string>> arrivals;
    for (const auto& l : labels) arrivals.emplace_back(live_stream::labels, l);
    for (const auto& l : episodes) arrivals.emplace_back(live_stream::episodes, l);
    for (const auto& l : detections) arrivals.emplace_back(live_stream::detections, l);
    std::mt19937 rng(5);
    std::shuffle(arrivals.begin(), arrivals.end(), rng);
    live_scorer scorer({"l", "e", "d"});
    live_scorer::clock::time_point at = live_scorer::clock::now();
    std::size_t scored_midway = 0;
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
        const auto refused = scorer.add(arrivals[i].first, arrivals[i].second, at += 1ms);
        ASSERT_FALSE(refused.has_value()) << *refused;
        if (i == arrivals.size() / 2) { // a live refresh midway changes nothing at the end
            live_snapshot mid = scorer.snapshot(at - 100ms);
            scored_midway = score_detections(mid.truth, mid.detections, {}).overall.messages;
        }
    }
    EXPECT_GT(scored_midway, 0u);
    const live_snapshot end = scorer.snapshot();
    EXPECT_EQ(end.waiting_labels, 0u);
    EXPECT_EQ(end.detections.unknown_device_rows, 1u);
    EXPECT_EQ(end.detections.silenced_rows, 1u);
    const std::string live = report_json(score_detections(end.truth, end.detections, {}), inputs);
    EXPECT_EQ(live, offline);
}

INSTANTIATE_TEST_SUITE_P(Modes, LiveEqualsOffline, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "scores" : "is_anomaly"; });

} // namespace
} // namespace synthfeed
