#include "src/config/profile_loader.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/args.h>
#include <fmt/format.h>

#include "src/config/profile_sections.hpp"
#include "src/config/toml_reader.hpp"
#include "src/core/text_escape.hpp"

namespace synthfeed {
namespace profile_sections {
void require_non_negative(toml_reader& r, std::string_view key, spread_param p) {
    if (p.lo < 0) r.fail(key, "must not be negative (got " + fmt::format("{}", p.lo) + ")");
}

void require_positive(toml_reader& r, std::string_view key, spread_param p) {
    if (p.lo <= 0) r.fail(key, "must be greater than 0 (got " + fmt::format("{}", p.lo) + ")");
}

sim_duration positive_duration(toml_reader& r, std::string_view key, sim_duration fallback) {
    const sim_duration d = r.duration(key, fallback);
    if (d <= 0) r.fail(key, "must be longer than 0");
    return d;
}

std::string_view first_key(std::string_view keys) noexcept {
    return keys.substr(0, keys.find(' '));
}

} // namespace profile_sections

namespace {

using namespace profile_sections;

constexpr std::size_t max_groups_per_profile = 65'535;

/// Flattens a [kafka] or [mqtt] table: `"linger.ms" = 10` and dotted keys (`linger.ms = 10`) alike.
void read_passthrough(const toml::table& table, const std::string& prefix, const std::string& file,
                      const std::string& table_name, std::vector<passthrough_property>& out) {
    for (auto&& [k, v] : table) {
        const std::string name =
            prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
        if (auto nested = v.as_table()) {
            read_passthrough(*nested, name, file, table_name, out);
            continue;
        }
        passthrough_property p{name, "", static_cast<int>(k.source().begin.line),
                               static_cast<int>(k.source().begin.column)}; // at the key
        if (auto s = v.as_string())
            p.value = s->get();
        else if (auto i = v.as_integer())
            p.value = std::to_string(i->get());
        else if (auto f = v.as_floating_point())
            p.value = fmt::format("{}", f->get());
        else if (auto b = v.as_boolean())
            p.value = b->get() ? "true" : "false";
        else
            throw config_error({file, p.line, p.column}, table_name + "." + name,
                               "options are strings, numbers or booleans");
        out.push_back(std::move(p));
    }
}

double positive_rate(toml_reader& r, std::string_view key) {
    const auto v = r.optional_number(key);
    if (!v) r.fail(key, "is required (messages per second)");
    if (!(*v > 0) || *v > max_target_rate)
        r.fail(key, "must be greater than 0 and at most " + fmt::format("{:g}", max_target_rate) +
                        " (messages per second)");
    return *v;
}

/// `stages = [{ duration = "30s", target = 1000 }, …]`: k6's stages, checked as --stage is.
std::vector<load_stage> read_stages(toml_reader& r) {
    std::vector<toml_reader> tables = r.tables("stages");
    std::vector<load_stage> stages;
    for (auto& t : tables) {
        if (!t.has("duration")) t.fail("duration", "is required (\"0s\" jumps to the target)");
        const auto target = t.optional_number("target");
        if (!target) t.fail("target", "is required (messages per second)");
        stages.push_back({t.duration("duration", 0), *target});
        t.reject_unknown_keys();
    }
    if (const auto problem = find_stage_problem(stages)) {
        if (problem->index < tables.size()) tables[problem->index].fail("target", problem->message);
        r.fail("stages", problem->message);
    }
    return stages;
}

load_spec read_load(toml_reader& r) {
    load_spec l;
    l.shape = r.kind(
        "shape", load_shapes, [](const auto& row) { return row.kind != load_shape::none; },
        to_string(load_shape::constant));
    switch (l.shape) {
    case load_shape::none:
        break;
    case load_shape::constant:
        l.rate = positive_rate(r, "rate");
        break;
    case load_shape::ramp:
        l.from = r.number("from", 0);
        if (l.from < 0) r.fail("from", "must not be negative");
        l.to = positive_rate(r, "to");
        l.over = positive_duration(r, "over", 60'000);
        break;
    case load_shape::step: {
        const toml::array* steps = r.array("rates");
        if (!steps || steps->empty())
            r.fail("rates", "a step shape needs rates = [1000, 5000, ...]");
        for (const auto& v : *steps) {
            const auto rate = v.value<double>();
            if (!rate || *rate <= 0) r.fail_at(v, "rates", "each rate is a number greater than 0");
            l.steps.push_back(*rate);
        }
        l.every = positive_duration(r, "every", 60'000);
        break;
    }
    case load_shape::spike:
        l.rate = positive_rate(r, "base");
        l.peak = positive_rate(r, "peak");
        l.at = r.duration("at", 30'000);
        l.lasting = positive_duration(r, "for", 10'000);
        break;
    case load_shape::cycle:
        l.rate = positive_rate(r, "mean");
        l.amplitude = r.number("amplitude", 0);
        if (l.amplitude < 0 || l.amplitude > l.rate)
            r.fail("amplitude", "must be between 0 and mean");
        l.period = positive_duration(r, "period", 60'000);
        break;
    case load_shape::stages:
        l.stages = read_stages(r);
        break;
    }
    r.reject_unknown_keys();
    return l;
}

} // namespace

std::optional<load_stage> parse_stage(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto duration = parse_duration(text.substr(0, colon));
    const std::string_view rate = text.substr(colon + 1);
    double target = 0;
    const auto [end, ec] = std::from_chars(rate.data(), rate.data() + rate.size(), target);
    if (!duration || rate.empty() || ec != std::errc{} || end != rate.data() + rate.size())
        return std::nullopt;
    return load_stage{*duration, target};
}

std::optional<stage_problem> find_stage_problem(const std::vector<load_stage>& stages) {
    if (stages.empty())
        return stage_problem{0, "a stages shape needs at least one stage (a duration and a "
                                "target rate)"};
    if (stages.size() > max_load_stages)
        return stage_problem{stages.size(), fmt::format("at most {} stages ({} given)",
                                                        max_load_stages, stages.size())};
    for (std::size_t i = 0; i < stages.size(); ++i)
        if (!(stages[i].target >= 0 && stages[i].target <= max_target_rate))
            return stage_problem{i, fmt::format("the target must be from 0 to {:g} messages per "
                                                "second",
                                                max_target_rate)};
    if (stages.back().target == 0)
        return stage_problem{stages.size() - 1,
                             "the last stage's target holds once the stages are over, so it must "
                             "be greater than 0 (end the run with --run-for, --duration or "
                             "--count)"};
    return std::nullopt;
}

std::string format_device_id(const std::string& id_template, const std::string& group,
                             std::uint64_t index) {
    return fmt::format(fmt::runtime(id_template), fmt::arg("index", index),
                       fmt::arg("group", group));
}

std::optional<std::pair<std::size_t, std::size_t>>
sort_windows(std::vector<anomaly_window>& windows) {
    std::vector<std::size_t> order(windows.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        return windows[x].start < windows[y].start;
    });
    auto share_a_device = [](const anomaly_window& x, const anomaly_window& y) {
        if (x.devices.empty() || y.devices.empty()) return true;
        std::vector<std::uint32_t> both;
        std::set_intersection(x.devices.begin(), x.devices.end(), y.devices.begin(),
                              y.devices.end(), std::back_inserter(both));
        return !both.empty();
    };
    for (std::size_t j = 1; j < order.size(); ++j)
        for (std::size_t i = 0; i < j; ++i)
            if (windows[order[j]].start < windows[order[i]].end &&
                share_a_device(windows[order[i]], windows[order[j]]))
                return std::pair{order[i], order[j]};
    std::vector<anomaly_window> sorted;
    sorted.reserve(windows.size());
    for (std::size_t i : order) sorted.push_back(std::move(windows[i]));
    windows = std::move(sorted);
    return std::nullopt;
}

double default_magnitude(anomaly_kind kind) noexcept {
    return anomaly_kinds[kind].magnitude_lo;
}

std::string magnitude_problem(anomaly_kind kind, double magnitude) {
    if (!std::isfinite(magnitude)) return "must be a finite number";
    const anomaly_kind_row& row = anomaly_kinds[kind];
    if (!row.factor) return "";
    if (!(magnitude > 0) || magnitude > row.max_magnitude)
        return fmt::format("must be greater than 0 and at most {:g} for {} (a factor; got {:g})",
                           row.max_magnitude, row.name, magnitude);
    return "";
}

std::vector<std::string> boundary_device_ids(const profile& p) {
    std::vector<std::string> ids;
    for (const auto& g : p.groups) {
        ids.push_back(format_device_id(g.id_template, g.name, 0));
        if (g.count > 1) ids.push_back(format_device_id(g.id_template, g.name, g.count - 1));
    }
    return ids;
}

std::string renamed_field_name(const group_spec& g, std::size_t field) {
    const std::string& name = g.fields[field].name;
    for (int version = 2;; ++version) {
        std::string candidate = name + "_v" + std::to_string(version);
        bool taken = false;
        for (const auto& f : g.fields) taken |= f.name == candidate;
        if (!taken) return candidate;
    }
}

profile parse_profile(std::string_view raw, const std::string& origin,
                      connector_table_names_t connector_tables, const env_lookup& lookup,
                      const group_counts& counts) {
    const std::string text = interpolate_env(raw, origin, lookup);
    toml::table root;
    try {
        root = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        throw config_error({origin, static_cast<int>(e.source().begin.line),
                            static_cast<int>(e.source().begin.column)},
                           "", std::string(e.description()));
    }
    toml_reader r(root, origin, "");
    profile p;
    p.path = origin;
    p.name = r.string("name");
    p.description = r.optional_string("description").value_or("");
    p.seed = static_cast<std::uint64_t>(r.integer("seed", 0, 0, INT64_MAX));
    if (auto start = r.optional_string("start")) {
        p.start = parse_timestamp(*start);
        if (!p.start) r.fail("start", "expected an RFC 3339 time such as \"2026-01-01T00:00:00Z\"");
        if (*p.start < 0 || *p.start >= max_event_time)
            r.fail("start", "must be between 1970-01-01T00:00:00Z and " +
                                format_timestamp(max_event_time) +
                                " (line protocol counts signed 64-bit nanoseconds from 1970)");
    }
    auto groups = r.tables("group");
    if (groups.empty()) r.fail("group", "a profile needs at least one [[group]]");
    for (auto& g : groups) {
        p.groups.push_back(read_group(g, p.groups, counts));
        for (std::size_t i = 0; i + 1 < p.groups.size(); ++i)
            if (p.groups[i].name == p.groups.back().name)
                g.fail("name", "duplicate group name \"" + p.groups.back().name + "\"");
    }
    // The engine packs a device index in 32 bits and a group index in 16.
    if (p.device_count() > max_devices_per_profile)
        r.fail("group", "the groups hold " + std::to_string(p.device_count()) +
                            " devices in all; at most " + std::to_string(max_devices_per_profile) +
                            " are supported");
    if (p.groups.size() > max_groups_per_profile)
        r.fail("group",
               "at most " + std::to_string(max_groups_per_profile) + " groups are supported");
    if (auto load = r.table("load")) p.load = read_load(*load);
    for (const std::string_view table : connector_tables)
        if (r.table(table)) {
            p.connectors.push_back({std::string(table), {}});
            read_passthrough(*root.get(table)->as_table(), "", origin, std::string(table),
                             p.connectors.back().properties);
        }
    r.reject_unknown_keys();
    return p;
}

profile load_profile(const std::string& path, connector_table_names_t connector_tables,
                     const env_lookup& lookup, const group_counts& counts) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error({path, 0, 0}, "", "cannot open profile");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_profile(text.str(), path, connector_tables, lookup, counts);
}

class_selection flag_classes(const char* flag, std::span<const std::string> names) {
    class_selection classes{};
    for (const std::string& name : names) {
        const auto c = parse_anomaly_class(name);
        if (!c) {
            std::string list;
            for (const auto n : anomaly_class_names)
                list.append(list.empty() ? "" : ", ").append(n);
            throw config_error({flag, 0, 0}, "",
                               "expected one of " + list + ", got \"" + name.substr(0, 40) + "\"");
        }
        classes[static_cast<std::size_t>(*c)] = true;
    }
    return classes;
}

std::size_t remove_episode_classes(profile& p, const class_selection& classes) noexcept {
    std::size_t marked = 0;
    for (group_spec& g : p.groups)
        for (anomaly_spec& a : g.anomalies)
            if (classes[static_cast<std::size_t>(class_of(a.kind))]) a.removed = true, ++marked;
    return marked;
}

} // namespace synthfeed
