#include "src/layouts/nab_layout.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "src/score/nab_score.hpp"

namespace synthfeed {
namespace {

using json = nlohmann::json;

/// "YYYY-MM-DD HH:MM:SS" and `digits` (0, 3 or 6) of the fraction of a second.
std::string nab_time(sim_time t, int digits) {
    char rfc[timestamp_length]; // YYYY-MM-DDTHH:MM:SS.mmmZ
    format_timestamp(t, rfc);
    std::string out(rfc, 19);
    out[10] = ' ';
    if (digits > 0) out.append(rfc + 19, 4);
    if (digits > 3) out.append("000");
    return out;
}

/// As pandas prints a Timestamp: the fraction only when there is one, in microseconds.
std::string label_time(sim_time t) {
    return nab_time(t, t % 1000 == 0 ? 0 : 6);
}

/// The episodes of field `f` (a group field index) in row terms.
std::vector<episode_rows> field_episodes(const device_series& d, std::size_t f) {
    std::vector<episode_rows> out;
    for (const episode_span& e : d.episodes)
        if (e.id.field < 0 || static_cast<std::size_t>(e.id.field) == f)
            out.push_back({d.row_at_or_after(e.first_seq), static_cast<std::size_t>(e.messages)});
    return out;
}

std::string data_csv(const device_series& d, const layout_group& g, std::size_t column) {
    const bool whole_seconds = std::all_of(d.rows.begin(), d.rows.end(),
                                           [](const series_row& r) { return r.ts % 1000 == 0; });
    std::string out = "timestamp,value\n";
    const std::size_t width = g.fields.size();
    for (std::size_t r = 0; r < d.rows.size(); ++r) {
        out += nab_time(d.rows[r].ts, whole_seconds ? 0 : 3);
        out.push_back(',');
        append_layout_value(out, d.values[r * width + column], g.decimals[column]);
        out.push_back('\n');
    }
    return out;
}

} // namespace

std::string write_nab_layout(const layout_store& store, const std::filesystem::path& dir) {
    json labels = json::object(), windows = json::object();
    for (const device_series& d : store.devices()) {
        const layout_group& g = store.group(d.group);
        if (d.rows.empty()) continue;
        for (std::size_t c = 0; c < g.fields.size(); ++c) {
            const std::string name = file_name_part(g.name) + "/" + file_name_part(d.id) + "." +
                                     file_name_part(g.field_names[c]) + ".csv";
            if (std::string problem = write_text_file(dir / "data" / name, data_csv(d, g, c));
                !problem.empty())
                return problem;
            const std::vector<episode_rows> episodes = field_episodes(d, g.fields[c]);
            std::vector<std::size_t> onsets;
            for (const episode_rows& e : episodes)
                if (e.first < d.rows.size()) onsets.push_back(e.first);
            std::sort(onsets.begin(), onsets.end());
            onsets.erase(std::unique(onsets.begin(), onsets.end()), onsets.end());
            json& file_labels = labels[name] = json::array();
            for (std::size_t row : onsets) file_labels.push_back(label_time(d.rows[row].ts));
            json& file_windows = windows[name] = json::array();
            for (const index_range& w : nab_windows(episodes, d.rows.size()))
                file_windows.push_back(
                    {nab_time(d.rows[w.first].ts, 6), nab_time(d.rows[w.last].ts, 6)});
        }
    }
    if (std::string problem =
            write_text_file(dir / "labels" / "combined_labels.json", labels.dump(4) + "\n");
        !problem.empty())
        return problem;
    return write_text_file(dir / "labels" / "combined_windows.json", windows.dump(4) + "\n");
}

} // namespace synthfeed
