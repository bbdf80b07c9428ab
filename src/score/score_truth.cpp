#include "src/score/score_truth.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <tuple>

#include <nlohmann/json.hpp>

#include "src/core/errors.hpp"

namespace synthfeed {

void input_error(const std::string& path, std::size_t line, std::string key, std::string message) {
    throw config_error({path, static_cast<int>(line), 0}, std::move(key), std::move(message));
}

std::string read_line_file_error(const std::string& path) {
    return "cannot open for reading: " + std::string(std::strerror(errno)) +
           (path.empty() ? " (no path given)" : "");
}

void split_csv(std::string_view line, std::vector<std::string>& cells) {
    cells.clear();
    std::string cell;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cell.push_back('"');
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cell.push_back(c);
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            cells.push_back(std::move(cell));
            cell.clear();
        } else {
            cell.push_back(c);
        }
    }
    cells.push_back(std::move(cell));
}

namespace {

using json = nlohmann::json;

json parse_line(std::string_view line, const std::string& path, std::size_t number) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) input_error(path, number, "", "not a JSON object");
    return j;
}

const json& member(const json& j, const char* key, const std::string& path, std::size_t number) {
    const auto it = j.find(key);
    if (it == j.end()) input_error(path, number, key, "missing");
    return *it;
}

std::string string_member(const json& j, const char* key, const std::string& path,
                          std::size_t number) {
    const json& v = member(j, key, path, number);
    if (!v.is_string()) input_error(path, number, key, "expected a string");
    return v.get<std::string>();
}

} // namespace

std::optional<double> finite_number(std::string_view text) noexcept {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}

sim_time time_cell(std::string_view text, const char* key, const std::string& path,
                   std::size_t number) {
    const auto t = parse_timestamp(text);
    if (!t)
        input_error(path, number, key,
                    "expected an RFC 3339 time, got \"" + std::string(text.substr(0, 40)) + "\"");
    return *t;
}

std::uint64_t seq_cell(std::string_view text, const std::string& path, std::size_t number) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        input_error(path, number, "seq",
                    "expected a whole number, got \"" + std::string(text.substr(0, 40)) + "\"");
    return v;
}

truth_episode parse_episode(std::string_view line, const std::string& path, std::size_t n) {
    const json j = parse_line(line, path, n);
    truth_episode e;
    e.id = string_member(j, "episode", path, n);
    e.device_id = string_member(j, "device_id", path, n);
    e.group = string_member(j, "group", path, n);
    const std::string kind = string_member(j, "kind", path, n);
    const auto k = parse_anomaly_kind(kind);
    if (!k)
        input_error(path, n, "kind",
                    "unknown kind \"" + kind.substr(0, 40) +
                        "\" (kinds: " + names_of(anomaly_kinds) + ")");
    e.kind = *k;
    e.start = time_cell(string_member(j, "start", path, n), "start", path, n);
    const json& end = member(j, "end", path, n);
    if (end.is_null())
        e.end = max_event_time;
    else if (end.is_string())
        e.end = time_cell(end.get<std::string>(), "end", path, n);
    else
        input_error(path, n, "end", "expected an RFC 3339 time or null");
    return e;
}

std::optional<label_line> label_parser::parse(std::string_view line, std::size_t n) {
    if (n == 1 && line.substr(0, 10) == "device_id,") {
        static constexpr std::array<std::string_view, 5> names{"device_id", "seq", "ts", "episodes",
                                                               "emitted"};
        csv_ = true;
        split_csv(line, cells_);
        for (std::size_t i = 0; i < cells_.size(); ++i)
            for (std::size_t c = 0; c < names.size(); ++c)
                if (cells_[i] == names[c]) column_[c] = static_cast<int>(i);
        for (std::size_t c = 0; c + 1 < names.size(); ++c) // emitted is optional
            if (column_[c] < 0)
                input_error(path_, n, std::string(names[c]), "missing from the CSV header");
        return std::nullopt;
    }
    if (csv_) return csv_label(line, n);
    const json j = parse_line(line, path_, n);
    label_line l;
    l.device_id = string_member(j, "device_id", path_, n);
    const json& seq = member(j, "seq", path_, n);
    if (!seq.is_number_unsigned()) input_error(path_, n, "seq", "expected a whole number");
    l.seq = seq.get<std::uint64_t>();
    l.ts = time_cell(string_member(j, "ts", path_, n), "ts", path_, n);
    if (const auto e = j.find("emitted"); e != j.end()) {
        if (!e->is_boolean()) input_error(path_, n, "emitted", "expected true or false");
        l.emitted = e->get<bool>();
    }
    const json& episodes = member(j, "episodes", path_, n);
    if (!episodes.is_array()) input_error(path_, n, "episodes", "expected an array");
    for (const json& id : episodes) {
        if (!id.is_string()) input_error(path_, n, "episodes", "expected episode ids");
        l.episodes.push_back(id.get<std::string>());
    }
    return l;
}

label_line label_parser::csv_label(std::string_view line, std::size_t n) {
    split_csv(line, cells_);
    const auto cell = [&](int c) -> const std::string& {
        if (static_cast<std::size_t>(c) >= cells_.size())
            input_error(path_, n, "", "fewer cells than the header");
        return cells_[static_cast<std::size_t>(c)];
    };
    label_line l;
    l.seq = seq_cell(cell(column_[1]), path_, n);
    l.ts = time_cell(cell(column_[2]), "ts", path_, n);
    if (column_[4] >= 0) {
        const std::string& e = cell(column_[4]);
        if (e != "0" && e != "1") input_error(path_, n, "emitted", "expected 0 or 1");
        l.emitted = e == "1";
    }
    l.device_id = cell(column_[0]);
    std::string_view ids = cell(column_[3]);
    while (!ids.empty()) {
        const auto bar = std::min(ids.find('|'), ids.size());
        l.episodes.emplace_back(ids.substr(0, bar));
        ids.remove_prefix(std::min(bar + 1, ids.size()));
    }
    return l;
}

bool truth_builder::add_episode(truth_episode e) {
    if (!episode_index_.emplace(e.id, t_.episodes.size()).second) return false;
    t_.episodes.push_back(std::move(e));
    return true;
}

bool truth_builder::knows_episodes(const label_line& l) const {
    return std::all_of(l.episodes.begin(), l.episodes.end(),
                       [&](const std::string& id) { return episode_index_.contains(id); });
}

void truth_builder::add_label(const label_line& l, const std::string& path, std::size_t n) {
    const auto [it, added] = t_.device_index.emplace(l.device_id, t_.devices.size());
    if (added) t_.devices.push_back({l.device_id, "", {}});
    truth_tick tick{l.seq, l.ts, l.emitted, static_cast<std::uint32_t>(t_.tick_episodes.size()), 0};
    for (const std::string& id : l.episodes) {
        const auto e = episode_index_.find(id);
        if (e == episode_index_.end())
            input_error(path, n, "episodes",
                        "episode \"" + id.substr(0, 60) + "\" is not in the episode file");
        t_.tick_episodes.push_back(e->second);
        ++tick.episode_count;
    }
    t_.devices[it->second].ticks.push_back(tick);
}

truth_set truth_builder::finish() && {
    // Episodes in (start, id) order, and the ticks' episode indices renumbered to match.
    std::vector<std::uint32_t> order(t_.episodes.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        const truth_episode &x = t_.episodes[a], &y = t_.episodes[b];
        return std::tie(x.start, x.id) < std::tie(y.start, y.id);
    });
    std::vector<std::uint32_t> renumbered(order.size());
    std::vector<truth_episode> episodes;
    episodes.reserve(order.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) {
        renumbered[order[i]] = i;
        episodes.push_back(std::move(t_.episodes[order[i]]));
    }
    t_.episodes = std::move(episodes);
    for (std::uint32_t& e : t_.tick_episodes) e = renumbered[e];

    std::sort(t_.devices.begin(), t_.devices.end(),
              [](const truth_device& a, const truth_device& b) { return a.id < b.id; });
    t_.device_index.clear();
    for (std::uint32_t d = 0; d < t_.devices.size(); ++d) {
        t_.device_index.emplace(t_.devices[d].id, d);
        std::stable_sort(t_.devices[d].ticks.begin(), t_.devices[d].ticks.end(),
                         [](const truth_tick& a, const truth_tick& b) { return a.seq < b.seq; });
    }
    for (const truth_episode& e : t_.episodes) {
        const auto it = t_.device_index.find(e.device_id);
        if (it != t_.device_index.end() && t_.devices[it->second].group.empty())
            t_.devices[it->second].group = e.group;
    }
    return std::move(t_);
}

truth_set read_truth(const std::string& labels_path, const std::string& episodes_path) {
    truth_builder b;
    for_each_line(episodes_path, [&](std::string_view line, std::size_t n) {
        truth_episode e = parse_episode(line, episodes_path, n);
        const std::string id = e.id;
        if (!b.add_episode(std::move(e)))
            input_error(episodes_path, n, "episode", "\"" + id + "\" appears twice");
    });
    label_parser labels(labels_path);
    std::size_t label_lines = 0;
    for_each_line(labels_path, [&](std::string_view line, std::size_t n) {
        if (const auto l = labels.parse(line, n)) b.add_label(*l, labels_path, n), ++label_lines;
    });
    if (label_lines == 0)
        input_error(labels_path, 0, "", "holds no label line: nothing to score against");
    truth_set t = std::move(b).finish();
    // A tick labelled twice would be scored twice: refused, naming the second line. Found on
    // the sorted ticks, so the common case costs no lookup per line.
    for (const truth_device& d : t.devices)
        for (std::size_t i = 1; i < d.ticks.size(); ++i)
            if (d.ticks[i].seq == d.ticks[i - 1].seq) {
                label_parser again(labels_path);
                std::size_t seen = 0;
                for_each_line(labels_path, [&](std::string_view line, std::size_t n) {
                    const auto l = again.parse(line, n);
                    if (l && l->device_id == d.id && l->seq == d.ticks[i].seq && ++seen == 2)
                        input_error(labels_path, n, "seq",
                                    "a second label for device \"" + d.id.substr(0, 60) +
                                        "\" seq " + std::to_string(l->seq));
                });
            }
    return t;
}

bool anomalous(const truth_set& truth, const truth_tick& t, const class_selection& classes) {
    for (const std::uint32_t* e = truth.episodes_begin(t); e != truth.episodes_end(t); ++e)
        if (classes[static_cast<std::size_t>(truth.episodes[*e].label_class())]) return true;
    return false;
}

} // namespace synthfeed
