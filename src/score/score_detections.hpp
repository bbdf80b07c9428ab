#pragma once
/// A detector's output read for scoring: JSONL objects or CSV rows (with a header) holding
/// `device_id`, `seq` or `ts` (RFC 3339), and `is_anomaly` (0/1, true/false) or a numeric
/// `score`. A row joins the truth on (device_id, seq), or on (device_id, ts) to the message of
/// that device whose label ts is exactly that millisecond (the lowest seq when several are).
///
/// Rows that join nothing are counted and warned about, never scored: a device the truth lacks,
/// a ts outside the truth's span (its first to its last label), a seq or ts no message has, a
/// tick silenced by a dropout; so is a row whose `score` is not a finite number (a detector's
/// NaN while it warms up, an empty cell). Messages without a row are not anomalous. A message
/// with several rows takes the highest value (any 1 wins).
/// Errors: config_error (exit 2) at `file:line` naming the key, for a malformed line, an
/// unknown column or key, a missing key, a value of the wrong type, or rows mixing
/// is_anomaly and score.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/score/score_truth.hpp"

namespace synthfeed {

enum class detection_mode { binary, score };

struct detection_set {
    detection_mode mode = detection_mode::binary;
    /// Per truth device, per tick (the indices of truth_device::ticks): the row's value (1/0,
    /// or the score), NaN when no row names the tick.
    std::vector<std::vector<double>> values;
    std::uint64_t rows = 0;
    std::uint64_t unknown_device_rows = 0;   ///< device_id not in the truth
    std::uint64_t unparsable_score_rows = 0; ///< a score that is not a finite number
    std::uint64_t outside_span_rows = 0;     ///< a ts before or after every label of the truth
    std::uint64_t unmatched_rows = 0;        ///< no message with that seq / exact ts
    std::uint64_t silenced_rows = 0;         ///< names a tick that sent no message
    std::uint64_t repeated_rows = 0;         ///< a second row for one message
    std::vector<std::string> warnings;       ///< the first few, as "file:line: …"
};

/// The value of a row whose `score` is not a finite number: counted, not scored.
inline constexpr double unparsable_score = std::numeric_limits<double>::quiet_NaN();

/// One row as read, before the join: seq or ts (at least one), a value and its mode.
struct detection_row {
    std::string device_id;
    std::optional<std::uint64_t> seq;
    std::optional<sim_time> ts;
    double value = 0; ///< unparsable_score (NaN) for a score that is not a finite number
    detection_mode mode = detection_mode::binary;
};

/// Parses detection rows one at a time: JSONL when the first line starts with '{', else CSV
/// whose first line is the header. Not thread-safe.
class detection_parser {
  public:
    explicit detection_parser(std::string path) : path_(std::move(path)) {}

    /// The row on `line` (1-based `number`), or none for the CSV header. Throws config_error at
    /// `path:number` naming the key for a malformed line, an unknown column or key, a missing
    /// key, a value of the wrong type, or a row whose mode (is_anomaly or score) differs from
    /// the rows parsed before it.
    std::optional<detection_row> parse(std::string_view line, std::size_t number);

  private:
    enum class format { unknown, jsonl, csv };
    std::string path_;
    format format_ = format::unknown;
    std::vector<std::string> header_, cells_;
    std::optional<detection_mode> mode_;
};

/// Joins parsed rows to `truth`, counting and warning about rows that join nothing. Holds a
/// reference to `truth`, which must outlive it.
class detection_joiner {
  public:
    /// `path` names the source in warnings ("path:number: …").
    detection_joiner(const truth_set& truth, std::string path);
    void add(const detection_row& row, std::size_t number);
    detection_set finish() && { return std::move(out_); }

  private:
    void warn(std::size_t number, const std::string& what);
    /// The tick of device `d` whose label ts is `ts`, the lowest seq of equals.
    std::optional<std::size_t> tick_at(std::size_t d, sim_time ts);

    const truth_set& truth_;
    detection_set out_;
    std::string path_;
    std::vector<std::vector<std::pair<sim_time, std::size_t>>> by_ts_;
    std::pair<sim_time, sim_time> span_{INT64_MAX, INT64_MIN}; ///< the truth's first, last ts
};

/// Reads `path` (JSONL when the first line starts with '{', else CSV with a header).
detection_set read_detections(const std::string& path, const truth_set& truth);

} // namespace synthfeed
