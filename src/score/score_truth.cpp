#include "src/score/score_truth.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

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

namespace {

class truth_reader {
  public:
    truth_reader(truth_set& t, std::string path) : t_(t), path_(std::move(path)) {}

    void read_episodes() {
        for_each_line(path_, [&](std::string_view line, std::size_t n) {
            const json j = parse_line(line, path_, n);
            truth_episode e;
            e.id = string_member(j, "episode", path_, n);
            e.device_id = string_member(j, "device_id", path_, n);
            e.group = string_member(j, "group", path_, n);
            const std::string kind = string_member(j, "kind", path_, n);
            const auto k = parse_anomaly_kind(kind);
            if (!k)
                input_error(path_, n, "kind",
                            "unknown kind \"" + kind.substr(0, 40) +
                                "\" (kinds: " + names_of(anomaly_kinds) + ")");
            e.kind = *k;
            e.start = time_cell(string_member(j, "start", path_, n), "start", path_, n);
            const json& end = member(j, "end", path_, n);
            if (end.is_null())
                e.end = max_event_time;
            else if (end.is_string())
                e.end = time_cell(end.get<std::string>(), "end", path_, n);
            else
                input_error(path_, n, "end", "expected an RFC 3339 time or null");
            if (!episode_index_.emplace(e.id, t_.episodes.size()).second)
                input_error(path_, n, "episode", "\"" + e.id + "\" appears twice");
            t_.episodes.push_back(std::move(e));
        });
    }

    void read_labels(const std::string& path) {
        path_ = path;
        bool csv = false;
        std::vector<std::string> cells;
        std::array<int, 4> column{-1, -1, -1, -1}; // device_id, seq, ts, episodes
        int emitted_column = -1;
        for_each_line(path_, [&](std::string_view line, std::size_t n) {
            if (n == 1 && line.substr(0, 10) == "device_id,") {
                csv = true;
                split_csv(line, cells);
                for (std::size_t i = 0; i < cells.size(); ++i) {
                    static constexpr std::array<std::string_view, 4> names{"device_id", "seq", "ts",
                                                                           "episodes"};
                    for (std::size_t c = 0; c < names.size(); ++c)
                        if (cells[i] == names[c]) column[c] = static_cast<int>(i);
                    if (cells[i] == "emitted") emitted_column = static_cast<int>(i);
                }
                for (std::size_t c = 0; c < column.size(); ++c)
                    if (column[c] < 0)
                        input_error(path_, n, std::array{"device_id", "seq", "ts", "episodes"}[c],
                                    "missing from the CSV header");
                return;
            }
            if (csv)
                csv_label(line, n, cells, column, emitted_column);
            else
                json_label(line, n);
        });
        for (auto& d : t_.devices) {
            std::stable_sort(
                d.ticks.begin(), d.ticks.end(),
                [](const truth_tick& a, const truth_tick& b) { return a.seq < b.seq; });
        }
        for (const truth_episode& e : t_.episodes) {
            const auto it = t_.device_index.find(e.device_id);
            if (it != t_.device_index.end() && t_.devices[it->second].group.empty())
                t_.devices[it->second].group = e.group;
        }
    }

  private:
    truth_tick& add_tick(const std::string& device, std::uint64_t seq, sim_time ts, bool emitted) {
        auto [it, added] = t_.device_index.emplace(device, t_.devices.size());
        if (added) t_.devices.push_back({device, "", {}});
        auto& ticks = t_.devices[it->second].ticks;
        ticks.push_back({seq, ts, emitted, static_cast<std::uint32_t>(t_.tick_episodes.size()), 0});
        return ticks.back();
    }

    void add_episode(truth_tick& tick, std::string_view id, std::size_t n) {
        const auto it = episode_index_.find(std::string(id));
        if (it == episode_index_.end())
            input_error(path_, n, "episodes",
                        "episode \"" + std::string(id.substr(0, 60)) +
                            "\" is not in the episode file");
        t_.tick_episodes.push_back(it->second);
        ++tick.episode_count;
    }

    void json_label(std::string_view line, std::size_t n) {
        const json j = parse_line(line, path_, n);
        const std::string device = string_member(j, "device_id", path_, n);
        const json& seq = member(j, "seq", path_, n);
        if (!seq.is_number_unsigned()) input_error(path_, n, "seq", "expected a whole number");
        const sim_time ts = time_cell(string_member(j, "ts", path_, n), "ts", path_, n);
        bool emitted = true;
        if (const auto e = j.find("emitted"); e != j.end()) {
            if (!e->is_boolean()) input_error(path_, n, "emitted", "expected true or false");
            emitted = e->get<bool>();
        }
        truth_tick& tick = add_tick(device, seq.get<std::uint64_t>(), ts, emitted);
        const json& episodes = member(j, "episodes", path_, n);
        if (!episodes.is_array()) input_error(path_, n, "episodes", "expected an array");
        for (const json& id : episodes) {
            if (!id.is_string()) input_error(path_, n, "episodes", "expected episode ids");
            add_episode(tick, id.get<std::string>(), n);
        }
    }

    void csv_label(std::string_view line, std::size_t n, std::vector<std::string>& cells,
                   const std::array<int, 4>& column, int emitted_column) {
        split_csv(line, cells);
        const auto cell = [&](int c) -> const std::string& {
            if (static_cast<std::size_t>(c) >= cells.size())
                input_error(path_, n, "", "fewer cells than the header");
            return cells[static_cast<std::size_t>(c)];
        };
        const std::uint64_t seq = seq_cell(cell(column[1]), path_, n);
        const sim_time ts = time_cell(cell(column[2]), "ts", path_, n);
        bool emitted = true;
        if (emitted_column >= 0) {
            const std::string& e = cell(emitted_column);
            if (e != "0" && e != "1") input_error(path_, n, "emitted", "expected 0 or 1");
            emitted = e == "1";
        }
        truth_tick& tick = add_tick(cell(column[0]), seq, ts, emitted);
        std::string_view ids = cell(column[3]);
        while (!ids.empty()) {
            const auto bar = std::min(ids.find('|'), ids.size());
            add_episode(tick, ids.substr(0, bar), n);
            ids.remove_prefix(std::min(bar + 1, ids.size()));
        }
    }

    truth_set& t_;
    std::string path_;
    std::unordered_map<std::string, std::uint32_t> episode_index_;
};

} // namespace

truth_set read_truth(const std::string& labels_path, const std::string& episodes_path) {
    truth_set t;
    truth_reader r(t, episodes_path);
    r.read_episodes();
    r.read_labels(labels_path);
    return t;
}

bool anomalous(const truth_set& truth, const truth_tick& t, const class_selection& classes) {
    for (const std::uint32_t* e = truth.episodes_begin(t); e != truth.episodes_end(t); ++e)
        if (classes[static_cast<std::size_t>(truth.episodes[*e].label_class())]) return true;
    return false;
}

} // namespace synthfeed
