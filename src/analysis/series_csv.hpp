#pragma once
/// Time series read from CSV with a header row, for `synthfeed compare` (and `fit`).
///
/// The time column is the one named by the caller, else the first named ts, time, timestamp,
/// date or datetime (any case), else the first whose first cell parses as a time. Times may be
/// RFC 3339 / ISO 8601 with or without a zone (none: UTC), "YYYY-MM-DD HH:MM:SS" (as NAB
/// writes them), or Unix seconds (1e8..1e11) or milliseconds (1e11..1e14). They must strictly
/// increase; gaps and an irregular cadence are allowed. Every other column whose first
/// non-empty cell is a number is a value column; an empty cell is a gap (NaN). A column named
/// device_id or device (synthfeed's own CSV) keeps only the rows of its first device.
/// Every problem is a config_error at file:line naming the column: no header, no time
/// column, a non-numeric value, unsorted or duplicate times, fewer than two rows, an empty file.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/time.hpp"

namespace synthfeed {

/// One value column: a value per row of the table, NaN where the cell was empty.
struct series_column {
    std::string name;
    std::vector<double> values;
    /// The first line whose cell is not a number (0: all are): such a column is text, named
    /// in the error when asked for.
    int text_line = 0;
    std::string text_cell;
};

/// A CSV file read as times and value columns, rows in file order.
struct series_table {
    std::string origin;                 ///< the file path, for error messages
    std::string time_column;            ///< the column the times came from
    std::vector<sim_time> times;        ///< ms since the epoch, strictly increasing
    std::vector<int> lines;             ///< the file line of each row (1-based)
    std::vector<series_column> columns; ///< every column but the time (and device) column

    /// The median interval between consecutive rows (ms), the series' cadence.
    sim_duration cadence() const;
    /// The value columns' names, in file order.
    std::vector<std::string> column_names() const;
    /// The column named `name`, or nullptr.
    const series_column* find(std::string_view name) const;
};

/// One numeric column of a table without its gaps: the values and their times.
struct series {
    std::string name;
    std::vector<sim_time> times;
    std::vector<double> values;
};

/// Parses CSV text; `origin` names it in errors; `time_column` overrides auto-detection.
/// Throws config_error (see the file brief).
series_table parse_series_csv(std::string_view text, const std::string& origin,
                              const std::string& time_column = "");

/// Reads and parses the file at `path`; throws config_error when it cannot be read.
series_table read_series_csv(const std::string& path, const std::string& time_column = "");

/// A time cell as ms since the epoch (the forms of the file brief), or nullopt.
std::optional<sim_time> parse_time_cell(std::string_view cell);

/// The column `name` of `t` as a series without its empty cells. Throws config_error naming
/// the column when it is missing (with "did you mean"), text (at its first non-number), or has
/// fewer than two values.
series numeric_series(const series_table& t, const std::string& name);

/// The value column to use when none is named: `preferred` if the table has it, else the only
/// numeric column other than synthfeed's `seq`, else the only column at all (text: reading it
/// names the line); nullopt when there are several or none.
std::optional<std::string> default_value_column(const series_table& t,
                                                const std::string& preferred);

} // namespace synthfeed
