#pragma once
/// `synthfeed score`'s figures: a detector's output against the truth, overall, per device
/// group, per label class and per episode kind, as a text table and as JSON.
///
/// Messages are the emitted ticks of each device in seq order (ticks a dropout silenced have
/// no message and are not scored point- or range-wise). A message is anomalous when it carries
/// an episode of a selected class. Per group: every figure. Per class and per kind: the
/// recall-side figures only (point and range recall, episodes detected, delays), as a
/// detection names no kind and so has no precision of its own.

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src/score/nab_score.hpp"
#include "src/score/point_metrics.hpp"
#include "src/score/range_metrics.hpp"
#include "src/score/score_detections.hpp"
#include "src/score/score_truth.hpp"

namespace synthfeed {

struct score_options {
    class_selection classes = labelled_classes;
    range_options range;
    /// Predict `value >= threshold`. Unset: 0.5 for is_anomaly rows, and for scores the
    /// threshold of the best point-wise F1 (the sweep).
    std::optional<double> threshold;
};

/// Detection delay over episodes: the time from an episode's start to the first detected
/// message at or after it, within the episode's messages or its NAB window, whichever ends
/// later. Percentiles are nearest-rank (the smallest delay with at least q of them at or below).
struct delay_stats {
    std::uint64_t episodes = 0, detected = 0;
    std::vector<double> seconds; ///< of each detected episode
    std::uint64_t missed() const noexcept { return episodes - detected; }
    std::optional<double> percentile(double q) const;
    std::optional<double> max() const;
};

/// Every figure of a slice of devices (all of them, or one group).
struct score_block {
    std::uint64_t devices = 0, messages = 0;
    confusion point;
    range_sums range;
    std::array<nab_sums, nab_profiles.size()> nab;
    delay_stats delay;
    /// Predicted ranges that touch no anomalous message and no NAB window.
    std::uint64_t false_alarms = 0;
    double device_days = 0; ///< sum of each device's span from first to last tick
    double false_alarms_per_device_day() const noexcept {
        return device_days > 0 ? static_cast<double>(false_alarms) / device_days : 0.0;
    }
};

/// The recall-side figures of one class or kind.
struct recall_block {
    std::uint64_t messages = 0, detected_messages = 0;
    double range_recall_sum = 0;
    std::uint64_t real_ranges = 0;
    delay_stats delay;
};

struct score_report {
    score_options options;
    detection_mode mode = detection_mode::binary;
    double threshold = 0.5;                 ///< the operating threshold
    const char* threshold_source = "given"; ///< "given", "is_anomaly" or "best_f1"
    std::optional<sweep_result> sweep;
    std::array<nab_best, nab_profiles.size()> nab_optimised{}; ///< with the sweep only
    score_block overall;
    std::map<std::string, score_block> groups;
    std::map<std::string, recall_block> classes, kinds;
    std::uint64_t silenced_ticks = 0, scored_episodes = 0;
    std::uint64_t detection_rows = 0, unknown_device_rows = 0, unparsable_score_rows = 0,
                  outside_span_rows = 0, unmatched_rows = 0, silenced_rows = 0, repeated_rows = 0;
};

/// Scores `d` against `t`.
score_report score_detections(const truth_set& t, const detection_set& d, const score_options& o);

/// The report as JSON (every figure; keys in README "Scoring a detector"), with `inputs`
/// naming the files.
std::string report_json(const score_report& r, const std::map<std::string, std::string>& inputs);

/// The readable table.
void print_report(const score_report& r, std::FILE* out);

/// The figures a --threshold expression may name (f1, range_f1, nab_standard, …), overall.
const std::vector<std::string>& report_metric_names();
/// The value of `name` in `r`, or none when the report has no value for it (e.g. no episode).
std::optional<double> report_metric(const score_report& r, std::string_view name);

} // namespace synthfeed
