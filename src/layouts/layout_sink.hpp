#pragma once
/// `--labels DIR --labels-format timeeval|nab`: the label stream's sink for the benchmark
/// layouts. It takes the label records of the run (a layout_row per tick, in the order the
/// emitter sends them: the cut of --count and a stop hold for it as for a label file), keeps
/// them in a layout_store, and writes the directory when the run drains, after the last
/// message. It implements the connector interface to sit where the label sink sits; unlike a
/// connector it knows devices and episodes, so it lives with the truth writers, not in
/// connectors/.
///
/// Bounds, checked before the run (config_error at --labels, exit 2): a layout holds the run
/// in memory until the end, so the run must be bounded (--count or --duration), its shard at
/// most max_layout_devices devices and about max_layout_rows messages (the fleet's nominal
/// rate over --duration, or --count); DIR must be a path (not a URI) naming a new or empty
/// directory. A fleet of event sensors or cards sends a random number of messages: rows past
/// layout_row_cap are refused and counted as failed labels (exit 1), never written.
///
/// Counting: a record is delivered when the layout holding it is written, failed when it was
/// refused or the writing failed (an I/O error, logged). The drain writes whatever the
/// deadline: local files, written once.
///
/// Concurrency: send/poll/drain on the emitter's thread, as every sink.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "connectors/connector.hpp"
#include "src/config/profile.hpp"
#include "src/labels/label_encoder.hpp"

namespace synthfeed {

inline constexpr std::uint64_t max_layout_devices = 10'000;
inline constexpr std::uint64_t max_layout_rows = 10'000'000;
/// Rows kept at most: the limit plus a tenth, for random arrivals above their expectation.
inline constexpr std::uint64_t layout_row_cap = max_layout_rows + max_layout_rows / 10;

/// What bounds the run, as `run` was given it.
struct layout_run {
    std::optional<std::uint64_t> count;   ///< --count
    std::optional<sim_duration> duration; ///< --duration
    std::uint32_t shard_index = 0, shard_count = 1;
};

/// Checks the bounds and DIR (creating it), and returns the sink. `format` is a layout
/// (writes_layout). Throws config_error at "--labels".
std::unique_ptr<connector> open_label_layout(const std::string& dir, label_format format,
                                             const profile& p, const layout_run& run);

} // namespace synthfeed
