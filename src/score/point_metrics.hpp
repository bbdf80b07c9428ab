#pragma once
/// Point-wise precision, recall and F1 over messages, and the threshold sweep of a scored
/// detector: the best F1 and the area under the precision-recall curve.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace synthfeed {

/// Counts of a binary detector against binary truth.
struct confusion {
    std::uint64_t tp = 0, fp = 0, fn = 0, tn = 0;

    /// tp / (tp + fp); 0 when nothing was predicted.
    double precision() const noexcept;
    /// tp / (tp + fn); 0 when nothing is anomalous.
    double recall() const noexcept;
    /// 2PR / (P + R), the harmonic mean; 0 when P + R = 0.
    double f1() const noexcept;
    confusion& operator+=(const confusion& o) noexcept;
};

/// F1 of a precision and a recall: 2PR / (P + R), 0 when both are 0.
double f1_of(double precision, double recall) noexcept;

/// The confusion of `predicted` against `actual` (same length).
confusion count_confusion(std::span<const std::uint8_t> actual,
                          std::span<const std::uint8_t> predicted) noexcept;

/// One scored message for the sweep: its score (NaN: no row, never predicted) and its truth.
struct scored_point {
    double score;
    bool actual;
};

/// The result of sweeping the threshold over every distinct score, predicting
/// `score >= threshold`.
struct sweep_result {
    /// The highest threshold that reaches the best F1; none when no message has a score.
    std::optional<double> best_threshold;
    double best_f1 = 0;
    double best_precision = 0, best_recall = 0;
    /// Average precision, AP = sum over thresholds t_k in decreasing order of
    /// (R_k - R_{k-1}) * P_k with R_0 = 0: the step ("no interpolation") area under the
    /// precision-recall curve, as scikit-learn's average_precision_score. Messages without a
    /// score never count as predicted, so recall may stop short of 1.
    double auc_pr = 0;
    std::size_t thresholds = 0; ///< distinct scores swept
};

/// Sweeps `points` (reordered in place). O(n log n).
sweep_result sweep_thresholds(std::vector<scored_point>& points);

} // namespace synthfeed
