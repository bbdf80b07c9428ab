#include "src/score/point_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace synthfeed {

double confusion::precision() const noexcept {
    return tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0;
}
double confusion::recall() const noexcept {
    return tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0;
}
double confusion::f1() const noexcept {
    return f1_of(precision(), recall());
}
confusion& confusion::operator+=(const confusion& o) noexcept {
    tp += o.tp;
    fp += o.fp;
    fn += o.fn;
    tn += o.tn;
    return *this;
}

double f1_of(double precision, double recall) noexcept {
    return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

confusion count_confusion(std::span<const std::uint8_t> actual,
                          std::span<const std::uint8_t> predicted) noexcept {
    confusion c;
    for (std::size_t i = 0; i < actual.size(); ++i) {
        if (actual[i])
            ++(predicted[i] ? c.tp : c.fn);
        else
            ++(predicted[i] ? c.fp : c.tn);
    }
    return c;
}

sweep_result sweep_thresholds(std::vector<scored_point>& points) {
    sweep_result r;
    std::uint64_t positives = 0;
    for (const auto& p : points) positives += p.actual;
    // Scored points first, highest score first; unscored ones are never predicted.
    const auto scored_end = std::partition(
        points.begin(), points.end(), [](const scored_point& p) { return !std::isnan(p.score); });
    std::sort(points.begin(), scored_end,
              [](const scored_point& a, const scored_point& b) { return a.score > b.score; });
    std::uint64_t tp = 0, fp = 0;
    double previous_recall = 0;
    for (auto it = points.begin(); it != scored_end;) {
        const double threshold = it->score;
        for (; it != scored_end && it->score == threshold; ++it) ++(it->actual ? tp : fp);
        ++r.thresholds;
        const double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
        const double recall =
            positives ? static_cast<double>(tp) / static_cast<double>(positives) : 0.0;
        r.auc_pr += (recall - previous_recall) * precision;
        previous_recall = recall;
        const double f1 = f1_of(precision, recall);
        if (!r.best_threshold || f1 > r.best_f1) {
            r.best_threshold = threshold;
            r.best_f1 = f1;
            r.best_precision = precision;
            r.best_recall = recall;
        }
    }
    return r;
}

} // namespace synthfeed
