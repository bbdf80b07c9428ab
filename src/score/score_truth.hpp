#pragma once
/// synthfeed's ground truth read back for scoring: the label file `run --labels` writes (JSONL,
/// or CSV with `--labels-format csv`) and the episode file of `run --episodes` (JSONL). The
/// formats are those of src/labels/label_encoder.hpp (README, "Ground truth").
///
/// Errors: config_error (exit 2) at `file:line` naming the key, for a file that cannot be
/// read, a malformed line, a missing or ill-typed key, or a label naming an episode the
/// episode file lacks. Reading is the only place that throws; scoring works on these arrays.

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/config/kinds.hpp"
#include "src/core/time.hpp"

namespace synthfeed {

/// One episode line: what it was and when (`start <= ts < end` for its messages).
struct truth_episode {
    std::string id;
    std::string device_id;
    std::string group;
    anomaly_kind kind = anomaly_kind::spike;
    sim_time start = 0;
    sim_time end = 0; ///< max_event_time for an open-ended drift ("end":null)

    anomaly_class label_class() const noexcept { return class_of(kind); }
};

/// One label line: a tick of a device. `emitted` is false for a tick silenced by a dropout
/// (or a dropped fault): no message exists for it, so point and range figures skip it.
struct truth_tick {
    std::uint64_t seq = 0;
    sim_time ts = 0;
    bool emitted = true;
    std::uint32_t first_episode = 0; ///< into truth_set::tick_episodes
    std::uint32_t episode_count = 0;
};

/// One device's ticks in seq order, and its group (from its episodes, or `--profile`).
struct truth_device {
    std::string id;
    std::string group; ///< empty until known
    std::vector<truth_tick> ticks;
};

/// Everything read from the two files.
struct truth_set {
    std::vector<truth_episode> episodes;
    std::vector<truth_device> devices;        ///< in id order
    std::vector<std::uint32_t> tick_episodes; ///< episode indices, sliced by truth_tick
    std::unordered_map<std::string, std::uint32_t> device_index;

    /// The episodes live on `t` (indices into `episodes`).
    const std::uint32_t* episodes_begin(const truth_tick& t) const noexcept {
        return tick_episodes.data() + t.first_episode;
    }
    const std::uint32_t* episodes_end(const truth_tick& t) const noexcept {
        return episodes_begin(t) + t.episode_count;
    }
};

/// Throws config_error (exit 2) located at `path:line`, naming `key`.
[[noreturn]] void input_error(const std::string& path, std::size_t line, std::string key,
                              std::string message);

/// A finite decimal number (from_chars' general format), or none.
std::optional<double> finite_number(std::string_view text) noexcept;

/// A whole number (seq) or an RFC 3339 time in a cell; config_error at path:line naming `key`.
std::uint64_t seq_cell(std::string_view text, const std::string& path, std::size_t line);
sim_time time_cell(std::string_view text, const char* key, const std::string& path,
                   std::size_t line);

/// Splits one CSV line (RFC 4180: quoted cells, doubled quotes) into `cells`.
void split_csv(std::string_view line, std::vector<std::string>& cells);

/// Reads a text file line by line (a trailing '\r' removed), calling `f(line, number)` for each
/// line that is not empty. Fails with config_error when the file cannot be opened.
template <class F>
void for_each_line(const std::string& path, F f);

/// One label line as read, before its episode ids are resolved.
struct label_line {
    std::string device_id;
    std::uint64_t seq = 0;
    sim_time ts = 0;
    bool emitted = true;
    std::vector<std::string> episodes; ///< ids, as the line lists them
};

/// Parses label lines one at a time: JSONL objects, or CSV when the first line (number 1) is
/// the CSV header, which sets the columns and yields no label. Not thread-safe.
class label_parser {
  public:
    explicit label_parser(std::string path) : path_(std::move(path)) {}

    /// The label on `line` (1-based `number`), or none for the CSV header. Throws config_error
    /// at `path:number` naming the key for a malformed line or a missing or ill-typed key.
    std::optional<label_line> parse(std::string_view line, std::size_t number);

  private:
    label_line csv_label(std::string_view line, std::size_t number);

    std::string path_;
    bool csv_ = false;
    std::vector<std::string> cells_;
    std::array<int, 5> column_{-1, -1, -1, -1, -1}; ///< device_id, seq, ts, episodes, emitted
};

/// Parses one episode line (JSONL). Throws config_error at `path:number` naming the key.
truth_episode parse_episode(std::string_view line, const std::string& path, std::size_t number);

/// Assembles a truth_set from parsed episodes and labels: episodes first, then the labels
/// that name them. The result does not depend on the order of lines across devices, nor on
/// that of episodes: finish() puts devices in id order and episodes in (start, id) order.
class truth_builder {
  public:
    /// Adds `e`; false (and nothing added) when an episode with its id was added before.
    bool add_episode(truth_episode e);
    /// Whether every episode `l` names has been added.
    bool knows_episodes(const label_line& l) const;
    /// Adds the tick of `l`. Throws config_error at `path:number` (key "episodes") when it
    /// names an episode not added.
    void add_label(const label_line& l, const std::string& path, std::size_t number);
    /// The set: each device's ticks sorted by seq, devices by id, episodes by (start, id); a
    /// device's group is that of its episodes.
    truth_set finish() &&;

  private:
    truth_set t_;
    std::unordered_map<std::string, std::uint32_t> episode_index_;
};

/// Reads the label file (JSONL, or CSV when its first line is the CSV header) and the episode
/// file, as truth_builder assembles them.
truth_set read_truth(const std::string& labels_path, const std::string& episodes_path);

/// Whether `t` carries an episode of a selected class.
bool anomalous(const truth_set& truth, const truth_tick& t, const class_selection& classes);

std::string read_line_file_error(const std::string& path);

template <class F>
void for_each_line(const std::string& path, F f) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) input_error(path, 0, "", "is a directory");
    std::ifstream in(path);
    if (!in) input_error(path, 0, "", read_line_file_error(path));
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        f(std::string_view(line), number);
    }
}

} // namespace synthfeed
