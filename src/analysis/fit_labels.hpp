#pragma once
/// Anomaly labels for `synthfeed fit --labels`: which rows of a series table are anomalous,
/// read from NAB's `combined_windows.json` or from a 0/1 column (`is_anomaly`, the
/// GutenTAG/TimeEval convention) of the series itself.

#include <string>
#include <vector>

#include "src/analysis/series_csv.hpp"

namespace synthfeed {

/// The column name `fit` takes as labels without being told.
inline constexpr const char* default_label_column = "is_anomaly";

/// A flag per row of the table, and where it came from.
struct row_labels {
    std::vector<bool> rows;  ///< one per row of the table (empty: no labels)
    std::size_t windows = 0; ///< windows (JSON) or runs of 1s (column)
    std::string source;      ///< "FILE (key K)" or "column C"
    std::string warning;     ///< set when the file names no window for this series
};

/// NAB windows: `path` holds a JSON object mapping series file names to lists of [start,
/// end] time strings (inclusive; "2014-02-19 10:50:00.000000" or any form parse_time_cell
/// reads). The series is the key equal to `series_path`'s base name or a suffix of it
/// ("realTweets/Twitter_volume_AAPL.csv"); the first key that ends the path wins, else the
/// first with the same base name. No such key, or an empty list: no labels and a warning.
/// Throws config_error at file:line for unreadable or malformed JSON, a value that is not a
/// list of two-string lists, or a string that is not a time.
row_labels read_window_labels(const std::string& path, const std::string& series_path,
                              const series_table& t);

/// A column of 0s and 1s (an empty cell is 0). Throws config_error at file:line naming the
/// column for any other value, or a text column.
row_labels column_labels(const series_table& t, const std::string& column);

} // namespace synthfeed
