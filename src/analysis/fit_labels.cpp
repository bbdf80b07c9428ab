#include "src/analysis/fit_labels.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

using json = nlohmann::json;

/// The 1-based line of byte `offset` in `text`.
int line_at(const std::string& text, std::size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + static_cast<int>(std::count(
                   text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

/// The line where key `key` is written (its first quoted occurrence), else 1.
int line_of_key(const std::string& text, const std::string& key) {
    const auto at = text.find('"' + key + '"');
    return at == std::string::npos ? 1 : line_at(text, at);
}

bool ends_with_path(const std::string& path, const std::string& suffix) {
    if (suffix.empty() || suffix.size() > path.size()) return false;
    if (path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
    return path.size() == suffix.size() || path[path.size() - suffix.size() - 1] == '/';
}

} // namespace

row_labels read_window_labels(const std::string& path, const std::string& series_path,
                              const series_table& t) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error({path, 0, 0}, "--labels", "cannot open for reading");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        const std::size_t at = e.byte > 0 ? e.byte - 1 : 0;
        std::string what = e.what();
        if (const auto colon = what.find("parse error"); colon != std::string::npos)
            what = what.substr(colon);
        throw config_error({path, line_at(text, at), 0}, "", "malformed JSON (" + what + ")");
    }
    if (!doc.is_object())
        throw config_error({path, 1, 0}, "",
                           "expected a JSON object mapping series file names to lists of "
                           "[start, end] windows");

    const std::string base = std::filesystem::path(series_path).filename().string();
    std::string chosen;
    for (const auto& item : doc.items())
        if (ends_with_path(series_path, item.key())) {
            chosen = item.key();
            break;
        }
    if (chosen.empty())
        for (const auto& item : doc.items())
            if (std::filesystem::path(item.key()).filename().string() == base) {
                chosen = item.key();
                break;
            }
    row_labels out;
    out.source = path;
    if (chosen.empty()) {
        out.warning =
            fmt::format("{} names no window for {} (no key ends with {})", path, series_path, base);
        return out;
    }
    out.source = fmt::format("{} (key \"{}\")", path, chosen);
    const json& windows = doc[chosen];
    const int key_line = line_of_key(text, chosen);
    if (!windows.is_array())
        throw config_error({path, key_line, 0}, chosen, "expected a list of [start, end] windows");
    out.rows.assign(t.times.size(), false);
    for (const json& w : windows) {
        if (!w.is_array() || w.size() != 2 || !w[0].is_string() || !w[1].is_string())
            throw config_error({path, key_line, 0}, chosen,
                               "each window is a list of two time strings [start, end], got " +
                                   w.dump().substr(0, 60));
        const auto a = parse_time_cell(w[0].get<std::string>());
        const auto b = parse_time_cell(w[1].get<std::string>());
        if (!a || !b)
            throw config_error({path, line_of_key(text, (!a ? w[0] : w[1]).get<std::string>()), 0},
                               chosen,
                               fmt::format("\"{}\" is not a time",
                                           (!a ? w[0] : w[1]).get<std::string>().substr(0, 40)));
        if (*b < *a)
            throw config_error({path, line_of_key(text, w[1].get<std::string>()), 0}, chosen,
                               "a window ends before it starts");
        ++out.windows;
        const auto first = std::lower_bound(t.times.begin(), t.times.end(), *a);
        const auto last = std::upper_bound(t.times.begin(), t.times.end(), *b);
        for (auto it = first; it < last; ++it)
            out.rows[static_cast<std::size_t>(it - t.times.begin())] = true;
    }
    if (out.windows == 0) {
        out.warning =
            fmt::format("{} lists no window for {} (key \"{}\")", path, series_path, chosen);
        out.rows.clear();
    }
    return out;
}

row_labels column_labels(const series_table& t, const std::string& column) {
    const series_column* c = t.find(column);
    if (!c) throw config_error({t.origin, 1, 0}, column, "no such column");
    if (c->text_line != 0)
        throw config_error(
            {t.origin, c->text_line, 0}, column,
            fmt::format("\"{}\" is not 0 or 1: a label column holds 0s and 1s", c->text_cell));
    row_labels out;
    out.source = "column " + column;
    out.rows.assign(t.times.size(), false);
    bool previous = false;
    for (std::size_t i = 0; i < c->values.size(); ++i) {
        const double v = c->values[i];
        if (!std::isnan(v) && v != 0 && v != 1)
            throw config_error({t.origin, t.lines[i], 0}, column,
                               fmt::format("{} is not 0 or 1: a label column holds 0s and 1s", v));
        out.rows[i] = v == 1;
        if (out.rows[i] && !previous) ++out.windows;
        previous = out.rows[i];
    }
    return out;
}

} // namespace synthfeed
