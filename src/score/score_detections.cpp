#include "src/score/score_detections.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

namespace synthfeed {
namespace {

using json = nlohmann::json;
constexpr std::size_t max_warnings = 5;

/// The keys of one row as read, any of them possibly missing.
struct row_fields {
    std::string device_id;
    std::optional<std::uint64_t> seq;
    std::optional<sim_time> ts;
    std::optional<double> value;
    std::optional<detection_mode> mode;
};

double flag_of(std::string_view text, const std::string& path, std::size_t n) {
    if (text == "1" || text == "true") return 1;
    if (text == "0" || text == "false") return 0;
    input_error(path, n, "is_anomaly",
                "expected 0, 1, true or false, got \"" + std::string(text.substr(0, 40)) + "\"");
}

/// Sets one key of `row` from its text (CSV cells, and JSON values written as text).
void set_key(row_fields& row, std::string_view key, std::string_view text, const std::string& path,
             std::size_t n) {
    if (key == "device_id") {
        row.device_id = std::string(text);
    } else if (key == "seq") {
        row.seq = seq_cell(text, path, n);
    } else if (key == "ts") {
        row.ts = time_cell(text, "ts", path, n);
    } else if (key == "is_anomaly") {
        if (row.mode) input_error(path, n, "is_anomaly", "give is_anomaly or score, not both");
        row.value = flag_of(text, path, n);
        row.mode = detection_mode::binary;
    } else if (key == "score") {
        if (row.mode) input_error(path, n, "score", "give is_anomaly or score, not both");
        row.value = finite_number(text).value_or(unparsable_score);
        row.mode = detection_mode::score;
    }
}

constexpr std::array<std::string_view, 5> known_keys{"device_id", "seq", "ts", "is_anomaly",
                                                     "score"};

void check_key(std::string_view key, const std::string& path, std::size_t n) {
    if (std::find(known_keys.begin(), known_keys.end(), key) == known_keys.end())
        input_error(path, n, std::string(key),
                    "unknown column (columns: device_id, seq or ts, is_anomaly or score)");
}

row_fields json_row(std::string_view line, const std::string& path, std::size_t n) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) input_error(path, n, "", "not a JSON object");
    row_fields row;
    for (const auto& [key, v] : j.items()) {
        check_key(key, path, n);
        if ((key == "is_anomaly" || key == "score") && row.mode)
            input_error(path, n, key, "give is_anomaly or score, not both");
        if (key == "device_id" || key == "ts") {
            if (!v.is_string()) input_error(path, n, key, "expected a string");
            set_key(row, key, v.get<std::string>(), path, n);
        } else if (key == "seq") {
            if (!v.is_number_unsigned()) input_error(path, n, key, "expected a whole number");
            row.seq = v.get<std::uint64_t>();
        } else if (key == "is_anomaly") {
            if (v.is_boolean())
                row.value = v.get<bool>() ? 1 : 0;
            else if (v.is_number_integer() &&
                     (v.get<std::int64_t>() == 0 || v.get<std::int64_t>() == 1))
                row.value = static_cast<double>(v.get<std::int64_t>());
            else
                input_error(path, n, key, "expected 0, 1, true or false");
            row.mode = detection_mode::binary;
        } else { // score: a finite number, else counted as unparsable (null, "NaN")
            const bool finite = v.is_number() && std::isfinite(v.get<double>());
            row.value = finite ? v.get<double>() : unparsable_score;
            row.mode = detection_mode::score;
        }
    }
    return row;
}

} // namespace

std::optional<detection_row> detection_parser::parse(std::string_view line, std::size_t n) {
    if (format_ == format::unknown) {
        if (line.front() != '{') { // the CSV header; a bad one leaves the format open
            split_csv(line, header_);
            for (const auto& key : header_) check_key(key, path_, n);
            format_ = format::csv;
            return std::nullopt;
        }
        format_ = format::jsonl;
    }
    row_fields row;
    if (format_ == format::csv) {
        split_csv(line, cells_);
        if (cells_.size() != header_.size())
            input_error(path_, n, "",
                        "expected " + std::to_string(header_.size()) + " cells, got " +
                            std::to_string(cells_.size()));
        for (std::size_t i = 0; i < cells_.size(); ++i)
            set_key(row, header_[i], cells_[i], path_, n);
    } else {
        row = json_row(line, path_, n);
    }
    if (row.device_id.empty()) input_error(path_, n, "device_id", "missing");
    if (!row.seq && !row.ts) input_error(path_, n, "seq", "missing: give seq or ts");
    if (!row.value) input_error(path_, n, "is_anomaly", "missing: give is_anomaly or score");
    if (!mode_)
        mode_ = row.mode;
    else if (*mode_ != *row.mode)
        input_error(path_, n, *row.mode == detection_mode::score ? "score" : "is_anomaly",
                    "rows mix is_anomaly and score");
    return detection_row{std::move(row.device_id), row.seq, row.ts, *row.value, *row.mode};
}

detection_joiner::detection_joiner(const truth_set& truth, std::string path)
    : truth_(truth), path_(std::move(path)) {
    out_.values.resize(truth.devices.size());
    for (std::size_t d = 0; d < truth.devices.size(); ++d)
        out_.values[d].assign(truth.devices[d].ticks.size(),
                              std::numeric_limits<double>::quiet_NaN());
    by_ts_.resize(truth.devices.size());
    for (const truth_device& d : truth.devices)
        for (const truth_tick& t : d.ticks)
            span_ = {std::min(span_.first, t.ts), std::max(span_.second, t.ts)};
}

void detection_joiner::warn(std::size_t n, const std::string& what) {
    if (out_.warnings.size() < max_warnings)
        out_.warnings.push_back(path_ + ":" + std::to_string(n) + ": " + what);
}

std::optional<std::size_t> detection_joiner::tick_at(std::size_t d, sim_time ts) {
    auto& index = by_ts_[d];
    if (index.empty()) {
        const auto& ticks = truth_.devices[d].ticks;
        for (std::size_t i = 0; i < ticks.size(); ++i)
            if (ticks[i].emitted) index.emplace_back(ticks[i].ts, i);
        std::stable_sort(index.begin(), index.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    const auto it = std::lower_bound(index.begin(), index.end(), ts,
                                     [](const auto& e, sim_time t) { return e.first < t; });
    if (it == index.end() || it->first != ts) return std::nullopt;
    return it->second;
}

void detection_joiner::add(const detection_row& row, std::size_t n) {
    if (out_.rows++ == 0) out_.mode = row.mode;
    if (std::isnan(row.value)) {
        ++out_.unparsable_score_rows;
        warn(n, "score is not a finite number");
        return;
    }
    const auto d = truth_.device_index.find(row.device_id);
    if (d == truth_.device_index.end()) {
        ++out_.unknown_device_rows;
        warn(n, "device \"" + row.device_id.substr(0, 60) + "\" is not in the truth");
        return;
    }
    if (!row.seq && (*row.ts < span_.first || *row.ts > span_.second)) {
        ++out_.outside_span_rows;
        warn(n, "ts " + format_timestamp(*row.ts) + " is outside the truth's span (" +
                    format_timestamp(span_.first) + " to " + format_timestamp(span_.second) + ")");
        return;
    }
    const auto& ticks = truth_.devices[d->second].ticks;
    std::optional<std::size_t> tick;
    if (row.seq) {
        const auto it =
            std::lower_bound(ticks.begin(), ticks.end(), *row.seq,
                             [](const truth_tick& t, std::uint64_t s) { return t.seq < s; });
        if (it != ticks.end() && it->seq == *row.seq)
            tick = static_cast<std::size_t>(it - ticks.begin());
    } else {
        tick = tick_at(d->second, *row.ts);
    }
    if (!tick) {
        ++out_.unmatched_rows;
        warn(n, "no message of \"" + row.device_id.substr(0, 60) + "\" has this " +
                    (row.seq ? "seq" : "ts"));
        return;
    }
    if (!ticks[*tick].emitted) {
        ++out_.silenced_rows;
        warn(n, "names a tick that sent no message (a dropout)");
        return;
    }
    double& slot = out_.values[d->second][*tick];
    if (std::isnan(slot)) {
        slot = row.value;
    } else {
        ++out_.repeated_rows;
        slot = std::max(slot, row.value);
    }
}

detection_set read_detections(const std::string& path, const truth_set& truth) {
    detection_parser parser(path);
    detection_joiner joiner(truth, path);
    for_each_line(path, [&](std::string_view line, std::size_t n) {
        if (const auto row = parser.parse(line, n)) joiner.add(*row, n);
    });
    return std::move(joiner).finish();
}

} // namespace synthfeed
