#pragma once
/// Pass/fail criteria on a run's figures, as k6 thresholds: `--threshold 'p99<200ms'`,
/// `'delivered_ratio>=0.999'`, `'lag_max<2s'`, `'rate>=0.98*target'`, each optionally
/// followed by `,abort_on_fail` (stop the run, drained as by SIGTERM, as soon as a figure that
/// can only get worse crosses it). Evaluated at the end; a failed one makes the run exit 99.
///
/// Grammar: METRIC OP VALUE, OP one of < <= > >= == !=. VALUE is a number; times take a unit
/// (us, ms, s, m), ratios may be written as percentages (99.9%), rates may be FACTOR*target
/// (the schedule's mean target over the run). The metrics are the rows of threshold_metrics.
/// Errors: config_error naming --threshold and the expression, at start-up only.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/telemetry/run_stats.hpp"

namespace synthfeed {

enum class threshold_unit : std::uint8_t { time, ratio, count, rate, mb_rate };

/// The figures a threshold reads, from the final summary or, for abort_on_fail, live.
struct threshold_inputs {
    latency_summary latency; ///< the data sink's
    std::uint64_t generated = 0, delivered = 0, failed = 0, dropped = 0, in_doubt = 0;
    std::uint64_t shortfall = 0;
    double lag_max = 0, lag_at_end = 0; ///< seconds
    double rate = 0;                    ///< msg/s over the time spent sending
    double target = 0;                  ///< the schedule's mean msg/s; 0 when not paced
    double mb_rate = 0;                 ///< MB/s
};

struct threshold_metric_row {
    std::string_view name;
    threshold_unit unit;
    bool live;        ///< can only get worse during a run: abort_on_fail may watch it
    bool on_delivery; ///< judges losses: the all-delivered exit rule gives way to it
    double (*read)(const threshold_inputs&);
    std::string_view summary;
};

/// Every metric a threshold can name (`synthfeed list` and --help print this table).
extern const std::array<threshold_metric_row, 15> threshold_metrics;

enum class threshold_op : std::uint8_t {
    less,
    less_equal,
    greater,
    greater_equal,
    equal,
    not_equal
};

struct threshold {
    std::string expression;
    const threshold_metric_row* metric = nullptr;
    threshold_op op = threshold_op::less;
    double value = 0;                ///< seconds, ratio, count, msg/s or MB/s
    bool relative_to_target = false; ///< value is a factor of threshold_inputs::target
    bool abort_on_fail = false;
};

/// A criterion as written, METRIC OP VALUE[, OPTION], split but not checked against any metric
/// table: run's (parse_threshold) and `synthfeed score`'s share this grammar.
struct threshold_parts {
    std::string metric;
    threshold_op op = threshold_op::less;
    std::string value;  ///< as written, unit and all
    std::string option; ///< empty when none
};

/// Splits `text`; none when it is not of that form.
std::optional<threshold_parts> split_threshold(std::string_view text);

/// Whether `value OP bound` holds.
bool threshold_holds(threshold_op op, double value, double bound) noexcept;

/// Parses one --threshold. Throws config_error for anything it cannot read.
threshold parse_threshold(std::string_view text);

/// Verdict of `t` on `in`.
threshold_verdict evaluate(const threshold& t, const threshold_inputs& in);

/// The end-of-run figures of `s`.
threshold_inputs inputs_of(const run_summary& s);

} // namespace synthfeed
