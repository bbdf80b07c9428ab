// src/score: point-wise, range-based (Tatbul et al. 2018) and NAB figures on cases small
// enough to compute by hand; the arithmetic is in the comments.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "src/score/nab_score.hpp"
#include "src/score/point_metrics.hpp"
#include "src/score/range_metrics.hpp"

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

} // namespace
} // namespace synthfeed
