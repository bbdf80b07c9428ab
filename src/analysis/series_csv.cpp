#include "src/analysis/series_csv.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

constexpr std::array time_names{"ts", "time", "timestamp", "date", "datetime"};
constexpr std::array device_names{"device_id", "device"};

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

/// The cells of one CSV line (RFC 4180 quoting: "a ""b""" is `a "b"`), trimmed.
std::vector<std::string> split_cells(std::string_view line) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
            cells.back() += '"';
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            cells.emplace_back();
        } else {
            cells.back() += c;
        }
    }
    for (auto& cell : cells) cell = std::string(trimmed(cell));
    return cells;
}

std::optional<double> parse_number(std::string_view s) {
    s = trimmed(s);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}

/// A cell that reads as a time written as text (not a bare number).
bool is_text_time(std::string_view cell) {
    return !parse_number(cell) && parse_time_cell(cell).has_value();
}

struct raw_row {
    int line;
    std::vector<std::string> cells;
};

[[noreturn]] void fail(const std::string& origin, int line, const std::string& key,
                       const std::string& message) {
    throw config_error({origin, line, 0}, key, message);
}

/// The index of the time column in `header` (see the file brief), judged on the first row.
std::size_t find_time_column(const std::vector<std::string>& header, const raw_row& first,
                             const std::string& origin, const std::string& wanted) {
    if (!wanted.empty()) {
        const auto it = std::find(header.begin(), header.end(), wanted);
        if (it != header.end()) return static_cast<std::size_t>(it - header.begin());
        const std::string hint = closest_match(wanted, header);
        fail(origin, 1, "--time-column",
             fmt::format("no column \"{}\" in the header{}", wanted,
                         hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
    }
    for (std::size_t c = 0; c < header.size(); ++c)
        if (std::find(time_names.begin(), time_names.end(), lower(header[c])) != time_names.end())
            return c;
    for (std::size_t c = 0; c < header.size() && c < first.cells.size(); ++c)
        if (parse_time_cell(first.cells[c])) return c;
    fail(origin, 1, "",
         fmt::format("no time column: none is named ts, time, timestamp, date or datetime, and "
                     "no cell of line {} reads as a time (use --time-column)",
                     first.line));
}

std::vector<raw_row> split_rows(std::string_view text) {
    std::vector<raw_row> rows;
    int line = 0;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        const std::string_view l = text.substr(0, eol);
        ++line;
        if (!trimmed(l).empty()) rows.push_back({line, split_cells(l)});
        if (eol == std::string_view::npos) break;
        text.remove_prefix(eol + 1);
    }
    return rows;
}

/// Fills the value columns of `t` from `rows` (all but the time and device columns).
void read_values(series_table& t, const std::vector<std::string>& header,
                 const std::vector<raw_row>& rows, std::size_t time_col,
                 std::optional<std::size_t> device_col) {
    for (std::size_t c = 0; c < header.size(); ++c) {
        if (c == time_col || c == device_col) continue;
        series_column col{header[c], {}, 0, {}};
        bool numeric_so_far = true; // until the first non-empty cell says otherwise
        bool seen_value = false;
        for (const auto& r : rows) {
            const std::string& cell = r.cells[c];
            if (cell.empty()) {
                col.values.push_back(std::numeric_limits<double>::quiet_NaN());
                continue;
            }
            const auto v = parse_number(cell);
            if (!v && seen_value && numeric_so_far)
                fail(t.origin, r.line, header[c],
                     fmt::format("\"{}\" is not a number (column \"{}\" holds numbers above)",
                                 cell.substr(0, 40), header[c]));
            if (!v && col.text_line == 0) {
                numeric_so_far = false;
                col.text_line = r.line;
                col.text_cell = cell.substr(0, 40);
            }
            seen_value = true;
            col.values.push_back(v.value_or(std::numeric_limits<double>::quiet_NaN()));
        }
        t.columns.push_back(std::move(col));
    }
}

} // namespace

std::optional<sim_time> parse_time_cell(std::string_view cell) {
    cell = trimmed(cell);
    if (const auto v = parse_number(cell)) {
        // Unix seconds from 1973 to 5138, milliseconds from 1973 on: a bare number outside
        // both is a value, not a time.
        if (*v >= 1e8 && *v < 1e11) return static_cast<sim_time>(std::llround(*v * 1000));
        if (*v >= 1e11 && *v < 1e14) return static_cast<sim_time>(std::llround(*v));
        return std::nullopt;
    }
    if (const auto t = parse_timestamp(cell)) return t;
    if (cell.size() >= 19) return parse_timestamp(std::string(cell) + "Z"); // no zone: UTC
    return std::nullopt;
}

sim_duration series_table::cadence() const {
    if (times.size() < 2) return 0;
    std::vector<sim_duration> gaps(times.size() - 1);
    for (std::size_t i = 1; i < times.size(); ++i) gaps[i - 1] = times[i] - times[i - 1];
    const auto mid = gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2);
    std::nth_element(gaps.begin(), mid, gaps.end());
    return *mid;
}

std::vector<std::string> series_table::column_names() const {
    std::vector<std::string> names;
    for (const auto& c : columns) names.push_back(c.name);
    return names;
}

const series_column* series_table::find(std::string_view name) const {
    for (const auto& c : columns)
        if (c.name == name) return &c;
    return nullptr;
}

series_table parse_series_csv(std::string_view text, const std::string& origin,
                              const std::string& time_column) {
    std::vector<raw_row> rows = split_rows(text);
    if (rows.empty()) fail(origin, 1, "", "empty file: expected a header row and data rows");
    const std::vector<std::string> header = rows.front().cells;
    const int header_line = rows.front().line;
    for (const auto& cell : header)
        if (parse_number(cell) || is_text_time(cell))
            fail(origin, header_line, "",
                 fmt::format("no header row: the first line holds data (\"{}\"), not column "
                             "names",
                             cell.substr(0, 40)));
    rows.erase(rows.begin());
    if (rows.size() < 2)
        fail(origin, rows.empty() ? header_line : rows.front().line, "",
             fmt::format("{} data row(s): a series needs at least two", rows.size()));
    for (const auto& r : rows)
        if (r.cells.size() != header.size())
            fail(origin, r.line, "",
                 fmt::format("{} cells where the header has {}", r.cells.size(), header.size()));

    series_table t;
    t.origin = origin;
    const std::size_t time_col = find_time_column(header, rows.front(), origin, time_column);
    t.time_column = header[time_col];
    std::optional<std::size_t> device_col;
    for (std::size_t c = 0; c < header.size(); ++c)
        if (c != time_col && !device_col &&
            std::find(device_names.begin(), device_names.end(), lower(header[c])) !=
                device_names.end())
            device_col = c;
    if (device_col) { // synthfeed's CSV interleaves devices: keep the first one's rows
        const std::string first = rows.front().cells[*device_col];
        std::erase_if(rows, [&](const raw_row& r) { return r.cells[*device_col] != first; });
    }
    for (const auto& r : rows) {
        const auto ts = parse_time_cell(r.cells[time_col]);
        if (!ts)
            fail(origin, r.line, t.time_column,
                 fmt::format("\"{}\" is not a time (RFC 3339, YYYY-MM-DD HH:MM:SS, or Unix "
                             "seconds or milliseconds)",
                             r.cells[time_col].substr(0, 40)));
        if (!t.times.empty() && *ts <= t.times.back())
            fail(origin, r.line, t.time_column,
                 fmt::format("{} time {}: times must increase (line {} has {})",
                             *ts == t.times.back() ? "duplicate" : "unsorted",
                             r.cells[time_col].substr(0, 40), t.lines.back(),
                             format_timestamp(t.times.back())));
        t.times.push_back(*ts);
        t.lines.push_back(r.line);
    }
    if (t.times.size() < 2)
        fail(origin, t.lines.front(), "", "one data row: a series needs at least two");
    read_values(t, header, rows, time_col, device_col);
    return t;
}

series_table read_series_csv(const std::string& path, const std::string& time_column) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error({path, 0, 0}, "", "cannot open for reading");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_series_csv(text.str(), path, time_column);
}

series numeric_series(const series_table& t, const std::string& name) {
    const series_column* col = t.find(name);
    if (!col) {
        const std::vector<std::string> names = t.column_names();
        const std::string hint = closest_match(name, names);
        throw config_error({t.origin, 1, 0}, name,
                           fmt::format("no such value column{} (columns: {})",
                                       hint.empty() ? "" : " (did you mean \"" + hint + "\"?)",
                                       fmt::join(names, ", ")));
    }
    if (col->text_line != 0)
        fail(t.origin, col->text_line, name,
             fmt::format("\"{}\" is not a number: column \"{}\" must be numeric", col->text_cell,
                         name));
    series s{name, {}, {}};
    for (std::size_t i = 0; i < t.times.size(); ++i)
        if (!std::isnan(col->values[i])) {
            s.times.push_back(t.times[i]);
            s.values.push_back(col->values[i]);
        }
    if (s.values.size() < 2)
        fail(t.origin, t.lines.front(), name,
             fmt::format("{} value(s): a series needs at least two", s.values.size()));
    return s;
}

std::optional<std::string> default_value_column(const series_table& t,
                                                const std::string& preferred) {
    if (!preferred.empty() && t.find(preferred)) return preferred;
    std::vector<std::string> numeric, all;
    for (const auto& c : t.columns) {
        if (c.name == "seq") continue;
        all.push_back(c.name);
        if (c.text_line == 0) numeric.push_back(c.name);
    }
    if (numeric.size() == 1) return numeric.front();
    // A lone text column is still the one meant: reading it names its first non-number.
    if (all.size() == 1) return all.front();
    return std::nullopt;
}

} // namespace synthfeed
