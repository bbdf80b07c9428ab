// src/score: point-wise, range-based (Tatbul et al. 2018) and NAB figures on cases small
// enough to compute by hand; the arithmetic is in the comments.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "src/core/errors.hpp"
#include "src/score/nab_score.hpp"
#include "src/score/point_metrics.hpp"
#include "src/score/range_metrics.hpp"
#include "src/score/score_report.hpp"

namespace synthfeed {
namespace {

std::vector<std::uint8_t> bits(std::initializer_list<int> v) {
    std::vector<std::uint8_t> out;
    for (int b : v) out.push_back(b != 0);
    return out;
}

TEST(PointMetrics, CountsAndRatios) {
    // actual    0 1 1 0 1 0
    // predicted 0 1 0 1 1 0   -> tp 2 (rows 1, 4), fp 1 (row 3), fn 1 (row 2), tn 2
    const auto actual = bits({0, 1, 1, 0, 1, 0});
    const auto predicted = bits({0, 1, 0, 1, 1, 0});
    const confusion c = count_confusion(actual, predicted);
    EXPECT_EQ(c.tp, 2u);
    EXPECT_EQ(c.fp, 1u);
    EXPECT_EQ(c.fn, 1u);
    EXPECT_EQ(c.tn, 2u);
    EXPECT_DOUBLE_EQ(c.precision(), 2.0 / 3); // 2 / (2 + 1)
    EXPECT_DOUBLE_EQ(c.recall(), 2.0 / 3);    // 2 / (2 + 1)
    EXPECT_DOUBLE_EQ(c.f1(), 2.0 / 3);        // 2PR/(P+R) with P = R
    EXPECT_EQ(confusion{}.precision(), 0.0);  // nothing predicted
}

TEST(PointMetrics, SweepFindsTheBestF1AndAveragePrecision) {
    // scores (truth): 0.9 (1), 0.8 (0), 0.7 (1), 0.1 (0), none (1): 3 positives.
    // >= 0.9: tp 1 fp 0: P 1,   R 1/3, F1 0.5
    // >= 0.8: tp 1 fp 1: P 1/2, R 1/3, F1 0.4
    // >= 0.7: tp 2 fp 1: P 2/3, R 2/3, F1 2/3   <- best
    // >= 0.1: tp 2 fp 2: P 1/2, R 2/3, F1 4/7
    // AP = (1/3 - 0) * 1 + 0 * 1/2 + (2/3 - 1/3) * 2/3 + 0 * 1/2 = 1/3 + 2/9 = 5/9
    std::vector<scored_point> points{
        {0.1, false}, {0.9, true}, {NAN, true}, {0.7, true}, {0.8, false}};
    const sweep_result r = sweep_thresholds(points);
    ASSERT_TRUE(r.best_threshold.has_value());
    EXPECT_DOUBLE_EQ(*r.best_threshold, 0.7);
    EXPECT_DOUBLE_EQ(r.best_f1, 2.0 / 3);
    EXPECT_DOUBLE_EQ(r.auc_pr, 5.0 / 9);
    EXPECT_EQ(r.thresholds, 4u);
}

/// real [2,5] and [10,11]; predicted [4,7], [11,11], [20,20].
struct RangeCase : ::testing::Test {
    std::vector<index_range> real{{2, 5}, {10, 11}};
    std::vector<index_range> predicted{{4, 7}, {11, 11}, {20, 20}};
};

TEST_F(RangeCase, FlatOneAlphaZero) {
    // Recall: [2,5] meets [4,7] on 4..5: 2 of 4 = 0.5; [10,11] meets [11,11]: 1 of 2 = 0.5.
    //   Recall_T = (0.5 + 0.5) / 2 = 0.5
    // Precision: [4,7] meets [2,5] on 4..5: 2/4 = 0.5; [11,11]: 1/1; [20,20]: 0.
    //   Precision_T = 1.5 / 3 = 0.5
    const range_sums s = range_rewards(real, predicted, {});
    EXPECT_DOUBLE_EQ(s.recall(), 0.5);
    EXPECT_DOUBLE_EQ(s.precision(), 0.5);
    EXPECT_DOUBLE_EQ(s.f1(), 0.5);
    EXPECT_EQ(s.real_ranges, 2u);
    EXPECT_EQ(s.predicted_ranges, 3u);
}

TEST_F(RangeCase, ExistenceRewardWeighsRecallOnly) {
    // alpha 0.5: each real range 0.5 * 1 (it is found) + 0.5 * 0.5 = 0.75. Precision keeps
    // alpha = 0 (the paper's choice): still 0.5.
    const range_sums s =
        range_rewards(real, predicted, {0.5, range_cardinality::one, range_bias::flat});
    EXPECT_DOUBLE_EQ(s.recall(), 0.75);
    EXPECT_DOUBLE_EQ(s.precision(), 0.5);
}

TEST_F(RangeCase, PositionalBiases) {
    // [2,5] (L 4), overlap at positions k = 3, 4; [10,11] (L 2), overlap at k = 2.
    // front  delta = L-k+1: [2,5] 4 3 2 1 -> (2+1)/10 = 0.3;   [10,11] 2 1 -> 1/3
    // back   delta = k:     [2,5] 1 2 3 4 -> (3+4)/10 = 0.7;   [10,11] 1 2 -> 2/3
    // middle k <= L/2 ? k : L-k+1: [2,5] 1 2 2 1 -> 3/6 = 0.5; [10,11] 1 1 -> 1/2
    auto recall = [&](range_bias b) {
        return range_rewards(real, predicted, {0, range_cardinality::one, b}).recall();
    };
    EXPECT_DOUBLE_EQ(recall(range_bias::front), (0.3 + 1.0 / 3) / 2);
    EXPECT_DOUBLE_EQ(recall(range_bias::back), (0.7 + 2.0 / 3) / 2);
    EXPECT_DOUBLE_EQ(recall(range_bias::middle), 0.5);
}

TEST(RangeMetrics, ReciprocalCardinalityDividesBySplits) {
    // [0,9] meets [1,2] (2 of 10) and [5,5] (1 of 10): overlap sum 0.3; two predicted ranges
    // touch it, so `reciprocal` multiplies by 1/2: 0.15; `one` keeps 0.3.
    const std::vector<index_range> real{{0, 9}}, predicted{{1, 2}, {5, 5}};
    EXPECT_DOUBLE_EQ(range_rewards(real, predicted, {}).recall(), 0.3);
    EXPECT_DOUBLE_EQ(
        range_rewards(real, predicted, {0, range_cardinality::reciprocal, range_bias::flat})
            .recall(),
        0.15);
}

TEST(RangeMetrics, RunsOfTrueAreRanges) {
    std::vector<index_range> out;
    const auto b = bits({1, 1, 0, 1, 0, 0, 1});
    append_ranges(b, out);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].first, 0u);
    EXPECT_EQ(out[0].last, 1u);
    EXPECT_EQ(out[1].first, 3u);
    EXPECT_EQ(out[2].last, 6u);
}

/// S(y) = 2 / (1 + e^(5y)) - 1.
double S(double y) {
    return 2.0 / (1.0 + std::exp(5.0 * y)) - 1.0;
}

/// 100 rows, one episode of 5 messages from row 40: share = max(1, floor(100 / (10 * 1))) =
/// 10 rows, so the window is rows 40..49 (width 10). Standard profile: tp 1, fp 0.11, fn 1;
/// null = -1, perfect = 1, normalised = 100 * (raw + 1) / 2.
struct NabCase : ::testing::Test {
    std::vector<index_range> windows;
    std::vector<std::uint8_t> storage = std::vector<std::uint8_t>(100, 0);
    void SetUp() override {
        const std::vector<episode_rows> episodes{{40, 5}};
        windows = nab_windows(episodes, 100);
    }
    nab_sums score() { return nab_device(windows, storage, nab_profiles[0]); }
};

TEST_F(NabCase, WindowFollowsNabsShare) {
    ASSERT_EQ(windows.size(), 1u);
    EXPECT_EQ(windows[0].first, 40u);
    EXPECT_EQ(windows[0].last, 49u);
    EXPECT_NEAR(S(-1.0), 0.98661429815, 1e-10); // NAB's docstring: 0.98661
}

TEST_F(NabCase, EarlyDetectionScoresFull) {
    // Row 40: position -(49 - 40 + 1)/10 = -1: reward 1 * S(-1)/S(-1) = 1; raw 1 -> 100.
    storage[40] = 1;
    const nab_sums s = score();
    EXPECT_DOUBLE_EQ(s.raw, 1.0);
    EXPECT_DOUBLE_EQ(*s.normalised(), 100.0);
    EXPECT_EQ(s.detected_windows, 1u);
}

TEST_F(NabCase, LateDetectionScoresLess) {
    // Row 49: position -(49 - 49 + 1)/10 = -0.1: S(-0.1) = 2/(1 + e^-0.5) - 1 = 0.244919;
    // reward 0.244919 / 0.986614 = 0.248242; normalised 100 * 1.248242 / 2 = 62.41.
    storage[49] = 1;
    const nab_sums s = score();
    EXPECT_NEAR(s.raw, S(-0.1) / S(-1.0), 1e-12);
    EXPECT_NEAR(s.raw, 0.248242, 1e-6);
    EXPECT_NEAR(*s.normalised(), 62.4121, 1e-3);
}

TEST_F(NabCase, OnlyTheEarliestDetectionOfAWindowCounts) {
    // Rows 42 and 45: the window keeps the larger (earlier) reward, S(-0.8)/S(-1).
    storage[42] = storage[45] = 1;
    EXPECT_NEAR(score().raw, S(-0.8) / S(-1.0), 1e-12);
}

TEST_F(NabCase, FalsePositiveFarFromAnyWindowAndAMissedWindow) {
    // Row 10, before any window: 0.11 * S(3) = -0.11; the window is missed: -1.
    // raw -1.11; normalised 100 * (-1.11 + 1) / 2 = -5.5.
    storage[10] = 1;
    const nab_sums s = score();
    EXPECT_NEAR(s.raw, -1.11, 1e-12);
    EXPECT_NEAR(*s.normalised(), -5.5, 1e-9);
    EXPECT_EQ(s.detected_windows, 0u);
}

TEST_F(NabCase, FalsePositiveAfterAWindowFadesWithDistance) {
    // Row 60 after the window (last row 49, width 10): position (60 - 49)/(10 - 1) = 11/9;
    // reward 0.11 * S(11/9) = 0.11 * -0.99557 = -0.109513; with the missed window: -1.109513.
    storage[60] = 1;
    EXPECT_NEAR(score().raw, -1.0 + 0.11 * S(11.0 / 9), 1e-12);
    EXPECT_NEAR(score().raw, -1.109513, 1e-6);
}

TEST_F(NabCase, NoDetectionIsTheNullDetector) {
    const nab_sums s = score();
    EXPECT_DOUBLE_EQ(s.raw, -1.0);
    EXPECT_DOUBLE_EQ(*s.normalised(), 0.0);
}

TEST(Nab, OverlappingWindowsMerge) {
    // 200 rows, two episodes: share = floor(200 / 20) = 10; [50, 59] and [55, 64] merge.
    const std::vector<episode_rows> episodes{{50, 3}, {55, 1}};
    const auto w = nab_windows(episodes, 200);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].first, 50u);
    EXPECT_EQ(w[0].last, 64u);
}

TEST(Nab, SweepPicksTheBestThreshold) {
    // Window rows 40..49 of 100; scores: row 40 -> 0.5 (reward 1), row 10 -> 0.9 (reward
    // -0.11). Thresholds: none predicted -1; >= 0.9: -1.11; >= 0.5: 1 - 0.11 = 0.89 (best).
    const std::vector<episode_rows> episodes{{40, 5}};
    const auto windows = nab_windows(episodes, 100);
    std::vector<double> scores(100, NAN);
    scores[40] = 0.5;
    scores[10] = 0.9;
    std::vector<nab_point> points;
    append_nab_points(windows, scores, nab_profiles[0], 0, points);
    const nab_best best = nab_sweep(points, windows.size(), nab_profiles[0]);
    ASSERT_TRUE(best.threshold.has_value());
    EXPECT_DOUBLE_EQ(*best.threshold, 0.5);
    EXPECT_NEAR(best.sums.raw, 0.89, 1e-12);
}

/// Two devices of 10 ticks, 1 s apart from 2026-01-01T00:00:00Z. d-0 has a level shift on
/// seq 3..5 (group g) and a dropout that silences seq 7; d-1 has no episode.
class ScoreFiles : public ::testing::Test {
  protected:
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("synthfeed_score_test_" + std::to_string(::getpid()));
    std::string labels, episodes, detections;

    static std::string ts(int seconds) {
        return "2026-01-01T00:00:0" + std::to_string(seconds) + ".000Z";
    }
    void SetUp() override {
        std::filesystem::create_directories(dir);
        labels = (dir / "labels.jsonl").string();
        episodes = (dir / "episodes.jsonl").string();
        detections = (dir / "detections.jsonl").string();
        std::ofstream e(episodes);
        e << R"({"episode":"d-0:0:0","device_id":"d-0","group":"g","field":"v","kind":"level_shift","class":"value","start":")"
          << ts(3) << R"(","end":")" << ts(6) << R"(","magnitude":1.0})"
          << "\n"
          << R"({"episode":"d-0:1:0","device_id":"d-0","group":"g","field":null,"kind":"dropout","class":"value","start":")"
          << ts(7) << R"(","end":")" << ts(8) << R"(","magnitude":1.0})"
          << "\n";
        std::ofstream l(labels);
        for (int d = 0; d < 2; ++d)
            for (int seq = 0; seq < 10; ++seq) {
                std::string eps = "[]";
                if (d == 0 && seq >= 3 && seq <= 5) eps = R"(["d-0:0:0"])";
                if (d == 0 && seq == 7) eps = R"(["d-0:1:0"])";
                l << R"({"device_id":"d-)" << d << R"(","seq":)" << seq << R"(,"ts":")" << ts(seq)
                  << R"(","label":"x","episode":null,"episodes":)" << eps << R"(,"emitted":)"
                  << (d == 0 && seq == 7 ? "false" : "true") << "}\n";
            }
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    void write_detections(const std::string& text) { std::ofstream(detections) << text; }
};

TEST_F(ScoreFiles, JoinsScoresAndTimesEpisodes) {
    // seq 4 by seq (inside the shift), seq 8 by ts (the first message after the dropout), a
    // false alarm on d-1, a row of an unknown device and one on the silenced tick.
    write_detections(R"({"device_id":"d-0","seq":4,"is_anomaly":1}
{"device_id":"d-0","ts":"2026-01-01T00:00:08.000Z","is_anomaly":true}
{"device_id":"d-1","seq":2,"is_anomaly":1}
{"device_id":"ghost","seq":0,"is_anomaly":1}
{"device_id":"d-0","seq":7,"is_anomaly":1}
)");
    const truth_set truth = read_truth(labels, episodes);
    const detection_set det = read_detections(detections, truth);
    EXPECT_EQ(det.unknown_device_rows, 1u);
    EXPECT_EQ(det.silenced_rows, 1u);
    const score_report r = score_detections(truth, det, {});
    // d-0 rows (emitted): seq 0-6, 8, 9; anomalous seq 3-5; predicted seq 4 and 8.
    // tp 1 (seq 4), fn 2 (seq 3, 5), fp 2 (d-0 seq 8, d-1 seq 2), tn 5 + 9 = 14.
    EXPECT_EQ(r.overall.point.tp, 1u);
    EXPECT_EQ(r.overall.point.fn, 2u);
    EXPECT_EQ(r.overall.point.fp, 2u);
    EXPECT_EQ(r.overall.point.tn, 14u);
    EXPECT_EQ(r.silenced_ticks, 1u);
    // Episodes: the shift from 3 s, found at seq 4 (4 s): 1 s; the dropout from 7 s, found at
    // seq 8 (8 s), inside its NAB window (share max(1, floor(9 / 20)) = 1 row: row 7 alone).
    ASSERT_EQ(r.overall.delay.detected, 2u);
    EXPECT_DOUBLE_EQ(*r.overall.delay.percentile(0.5), 1.0);
    EXPECT_DOUBLE_EQ(*r.overall.delay.max(), 1.0);
    // NAB standard: window rows 3..5 hit at row 4: S(-(5 - 4 + 1)/3) / S(-1); window row 7 hit
    // on its first row: 1; d-1's detection precedes any window of its device: -0.11.
    // null = -2, perfect = 2.
    const double raw = S(-2.0 / 3) / S(-1.0) + 1.0 - 0.11;
    EXPECT_NEAR(r.overall.nab[0].raw, raw, 1e-12);
    EXPECT_NEAR(*r.overall.nab[0].normalised(), 100 * (raw + 2) / 4, 1e-9);
    // d-1's detection touches no anomaly and no window: one false alarm in 2 x 9 s of devices.
    EXPECT_EQ(r.overall.false_alarms, 1u);
    EXPECT_NEAR(r.overall.false_alarms_per_device_day(), 1 / (18.0 / 86400), 1e-6);
    EXPECT_EQ(r.groups.at("g").point.tp, 1u);
    EXPECT_EQ(r.groups.at("(no episodes)").point.fp, 1u);
    // The shift's own range [3,5] against [4,4]: recall 1/3.
    const recall_block& shift = r.kinds.at("level_shift");
    EXPECT_EQ(shift.messages, 3u);
    EXPECT_EQ(shift.detected_messages, 1u);
    EXPECT_DOUBLE_EQ(shift.range_recall_sum / static_cast<double>(shift.real_ranges), 1.0 / 3);
    EXPECT_EQ(r.kinds.at("dropout").delay.detected, 1u);
}

TEST_F(ScoreFiles, CsvDetectionsAndScoresSweep) {
    write_detections("device_id,seq,score\nd-0,3,0.9\nd-0,4,0.8\nd-0,5,0.2\nd-1,1,0.5\n");
    const truth_set truth = read_truth(labels, episodes);
    const score_report r = score_detections(truth, read_detections(detections, truth), {});
    // >= 0.9: P 1, R 1/3, F1 0.5; >= 0.8: P 1, R 2/3, F1 0.8 (best); >= 0.5: P 2/3, R 2/3;
    // >= 0.2: P 3/4, R 1, F1 6/7 = 0.857 (best). AP = 1/3 + 1/3 + 0 + (1/3)(3/4) = 0.9167.
    ASSERT_TRUE(r.sweep.has_value());
    EXPECT_DOUBLE_EQ(*r.sweep->best_threshold, 0.2);
    EXPECT_DOUBLE_EQ(r.sweep->best_f1, 6.0 / 7);
    EXPECT_DOUBLE_EQ(r.sweep->auc_pr, 2.0 / 3 + 0.25);
    EXPECT_EQ(r.overall.point.tp, 3u);
}

TEST_F(ScoreFiles, RowsThatJoinNothingAreCountedNotFatal) {
    // Scored: seq 4 (0.9). Counted: a score that is not a number (NaN, empty, a JSON null), a
    // ts an hour before the truth's first label and one past its last, an unknown device, a
    // ts inside the span that no message has.
    write_detections("device_id,ts,score\n"
                     "d-0,2026-01-01T00:00:04.000Z,0.9\n"
                     "d-0,2026-01-01T00:00:03.000Z,NaN\n"
                     "d-0,2026-01-01T00:00:05.000Z,\n"
                     "d-0,2025-12-31T23:00:00.000Z,0.5\n"
                     "d-1,2026-01-01T00:00:09.001Z,0.5\n"
                     "ghost,2026-01-01T00:00:01.000Z,0.5\n"
                     "d-1,2026-01-01T00:00:04.500Z,0.5\n");
    const truth_set truth = read_truth(labels, episodes);
    const detection_set det = read_detections(detections, truth);
    EXPECT_EQ(det.rows, 7u);
    EXPECT_EQ(det.unparsable_score_rows, 2u);
    EXPECT_EQ(det.outside_span_rows, 2u);
    EXPECT_EQ(det.unknown_device_rows, 1u);
    EXPECT_EQ(det.unmatched_rows, 1u);
    ASSERT_EQ(det.warnings.size(), 5u); // the first five
    EXPECT_NE(det.warnings[0].find(detections + ":3: score is not a finite number"),
              std::string::npos)
        << det.warnings[0];
    EXPECT_NE(det.warnings[2].find(":5: ts 2025-12-31T23:00:00.000Z is outside the truth's span "
                                   "(2026-01-01T00:00:00.000Z to 2026-01-01T00:00:09.000Z)"),
              std::string::npos)
        << det.warnings[2];
    write_detections("{\"device_id\":\"d-0\",\"seq\":4,\"score\":null}\n");
    EXPECT_EQ(read_detections(detections, truth).unparsable_score_rows, 1u);
    const score_report r = score_detections(truth, det, {});
    EXPECT_EQ(r.overall.point.tp, 1u);
    EXPECT_EQ(r.unparsable_score_rows, 2u);
    EXPECT_EQ(r.outside_span_rows, 2u);
}

TEST_F(ScoreFiles, MalformedLinesNameFileLineAndKey) {
    const truth_set truth = read_truth(labels, episodes);
    auto error_of = [&](const std::string& text) -> std::string {
        write_detections(text);
        try {
            read_detections(detections, truth);
        } catch (const config_error& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_NE(error_of("{\"device_id\":\"d-0\",\"seq\":1,\"is_anomaly\":1}\n{\"device_id\"\n")
                  .find(detections + ":2"),
              std::string::npos);
    EXPECT_NE(error_of("device_id,seq,colour\nd-0,1,red\n").find(detections + ":1: colour"),
              std::string::npos);
    EXPECT_NE(error_of("device_id,seq,score,is_anomaly\nd-0,1,0.5,1\n").find("is_anomaly"),
              std::string::npos);
}

TEST_F(ScoreFiles, UnusableTruthIsRefusedNamingTheFile) {
    auto error_of = [&](const std::string& label_path) -> std::string {
        try {
            read_truth(label_path, episodes);
        } catch (const config_error& e) {
            return e.what();
        }
        return "";
    };
    // A tick labelled twice would be scored twice: the second line is named.
    {
        std::ofstream l(labels, std::ios::app);
        l << R"({"device_id":"d-1","seq":4,"ts":")" << ts(4)
          << R"(","label":"x","episode":null,"episodes":[],"emitted":true})"
          << "\n";
    }
    EXPECT_NE(error_of(labels).find(labels + ":21: seq: a second label for device \"d-1\" seq 4"),
              std::string::npos)
        << error_of(labels);
    // No label at all, and a directory: nothing to score against.
    std::ofstream(dir / "empty.jsonl").flush();
    EXPECT_NE(error_of((dir / "empty.jsonl").string()).find("holds no label line"),
              std::string::npos);
    EXPECT_NE(error_of(dir.string()).find("is a directory"), std::string::npos);
}

} // namespace
} // namespace synthfeed
