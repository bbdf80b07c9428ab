#include "src/analysis/synthetic_series.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "devices/group_model.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

/// Collects the emitted values of one field of the device being advanced.
struct field_collector {
    std::size_t field;
    std::size_t limit;
    series out;

    void on_tick(const tick_view& t) {
        if (!t.emitted || out.values.size() >= limit) return;
        out.times.push_back(t.ts);
        out.values.push_back(t.values[field]);
    }
    void on_episode(const episode_view&) {}
};

std::string did_you_mean(const std::string& given, const std::vector<std::string>& names) {
    const std::string hint = closest_match(given, names);
    return hint.empty() ? "" : " (did you mean \"" + hint + "\"?)";
}

/// The field to read from a JSON line's numeric members when none is requested.
std::string default_json_field(const nlohmann::json& first, const std::string& real_column,
                               const std::string& origin) {
    std::vector<std::string> numeric;
    for (const auto& [key, value] : first.items())
        if (value.is_number() && key != "seq") numeric.push_back(key);
    if (std::find(numeric.begin(), numeric.end(), real_column) != numeric.end()) return real_column;
    if (numeric.size() == 1) return numeric.front();
    throw config_error(
        {origin, 1, 0}, "--field",
        fmt::format("choose the field to compare (numeric fields: {})", fmt::join(numeric, ", ")));
}

series read_json_lines(const std::string& text, const std::string& origin,
                       const std::string& requested, const std::string& real_column) {
    series s;
    std::istringstream in(text);
    std::string device;
    int line_number = 0;
    for (std::string line; std::getline(in, line);) {
        ++line_number;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
        if (!message.is_object())
            throw config_error({origin, line_number, 0}, "", "not a JSON object");
        if (s.name.empty())
            s.name =
                requested.empty() ? default_json_field(message, real_column, origin) : requested;
        const std::string id = message.value("device_id", std::string());
        if (device.empty()) device = id;
        if (id != device) continue;
        const auto ts = message.find("ts");
        const auto t = ts != message.end() && ts->is_string()
                           ? parse_time_cell(ts->get<std::string>())
                           : std::nullopt;
        if (!t) throw config_error({origin, line_number, 0}, "ts", "missing or not a time");
        const auto value = message.find(s.name);
        if (value == message.end() || !value->is_number()) continue; // a gap (or a fault)
        s.times.push_back(*t);
        s.values.push_back(value->get<double>());
    }
    if (s.values.size() < 2)
        throw config_error(
            {origin, 1, 0}, s.name,
            fmt::format("{} value(s) of the field: a series needs at least two", s.values.size()));
    return s;
}

} // namespace

profile_field choose_profile_field(const profile& p, const std::string& requested,
                                   const std::string& real_column) {
    std::vector<profile_field> fields;
    std::vector<std::string> names;
    for (std::uint32_t g = 0; g < p.groups.size(); ++g) {
        if (p.groups[g].transactions) continue;
        for (std::size_t f = 0; f < p.groups[g].fields.size(); ++f)
            if (p.groups[g].fields[f].format == field_format::number) {
                fields.push_back({g, f, p.groups[g].fields[f].name});
                names.push_back(fields.back().name);
            }
    }
    const std::string& wanted = requested.empty() ? real_column : requested;
    for (const auto& f : fields)
        if (f.name == wanted) return f;
    if (requested.empty() && fields.size() == 1) return fields.front();
    if (!requested.empty())
        throw config_error({"--field", 0, 0}, requested,
                           fmt::format("no numeric field of that name in {}{} (fields: {})", p.path,
                                       did_you_mean(requested, names), fmt::join(names, ", ")));
    throw config_error({"--field", 0, 0}, "",
                       fmt::format("choose the field of {} to compare (numeric fields: {})", p.path,
                                   fmt::join(names, ", ")));
}

series generate_profile_series(profile p, const profile_field& where, std::uint64_t seed,
                               sim_time start, sim_duration cadence, std::size_t count) {
    p.seed = seed;
    p.groups[where.group].interval = cadence;
    std::uint64_t first_global = 0; // the global index of the group's device 0
    for (std::uint32_t g = 0; g < where.group; ++g) first_global += p.groups[g].count;
    const group_model model(p, where.group, first_global, start);
    device_block block = model.make_block({0});
    field_collector out{where.field, count, {where.name, {}, {}}};
    const auto span = static_cast<sim_duration>(count) * cadence;
    model.advance(block, 0, start + span, out);
    return out.out;
}

series read_synthetic_file(const std::string& path, const std::string& requested,
                           const std::string& real_column) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error({path, 0, 0}, "", "cannot open for reading");
    std::ostringstream text;
    text << in.rdbuf();
    const std::string content = text.str();
    const auto first = content.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && content[first] == '{')
        return read_json_lines(content, path, requested, real_column);
    const series_table table = parse_series_csv(content, path);
    const std::string name =
        requested.empty() ? default_value_column(table, real_column).value_or("") : requested;
    if (name.empty()) {
        const std::vector<std::string> names = table.column_names();
        throw config_error(
            {path, 1, 0}, "--field",
            fmt::format("choose the column to compare (columns: {})", fmt::join(names, ", ")));
    }
    return numeric_series(table, name);
}

} // namespace synthfeed
