#include "src/config/profile_loader.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/args.h>
#include <fmt/format.h>

#include "connectors/connector_registry.hpp"
#include "src/config/toml_reader.hpp"
#include "src/core/text_escape.hpp"

namespace synthfeed {
namespace {

constexpr std::int64_t max_devices_per_group = 100'000'000;
constexpr std::uint64_t max_devices_per_profile = 1'000'000'000;
constexpr std::size_t max_groups_per_profile = 65'535;
/// Keys every message carries, and "time", which InfluxDB refuses as a field key.
constexpr const char* reserved_field_names[] = {"device_id", "seq",   "ts",  "label",
                                                "episode",   "group", "time"};

/// Why an id template cannot be used, or empty. Only `{group}`, `{index}` and `{index:SPEC}`
/// with a zero-padded width and an integer base (`{index:05}`, `{index:x}`) are allowed, so an
/// index adds only digits and hex letters to an id: the first and last ids of a group then
/// hold every character any of its ids can hold (see boundary_device_ids).
std::string id_template_problem(std::string_view t) {
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '}') {
            if (i + 1 < t.size() && t[i + 1] == '}') {
                ++i;
                continue;
            }
            return "a lone '}' (write '}}' for a brace)";
        }
        if (t[i] != '{') continue;
        if (i + 1 < t.size() && t[i + 1] == '{') {
            ++i;
            continue;
        }
        const auto close = t.find('}', i);
        if (close == std::string_view::npos)
            return "a '{' without its '}' (write '{{' for a brace)";
        const std::string_view field = t.substr(i + 1, close - i - 1);
        i = close;
        if (field == "group" || field == "index") continue;
        if (field.starts_with("index:")) {
            std::string_view spec = field.substr(6);
            if (!spec.empty() &&
                std::string_view("dxXob").find(spec.back()) != std::string_view::npos)
                spec.remove_suffix(1);
            if (spec.size() <= 2 && spec.find_first_not_of("0123456789") == std::string_view::npos)
                continue;
        }
        const std::string shown(field.substr(0, 40));
        return "unknown placeholder {" + shown + (field.size() > 40 ? "…" : "") +
               "} (use {index}, {index:05}, {index:x} and {group})";
    }
    return "";
}

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

/// "HH:MM[:SS]" within a day, or a duration string.
sim_duration parse_offset(toml_reader& r, const toml::node& node, std::string_view key) {
    auto s = node.value<std::string>();
    if (!s) r.fail_at(node, key, "a schedule time is a string such as \"07:30\" or \"1d7h\"");
    unsigned h = 0, m = 0, sec = 0;
    char extra = 0;
    const int n = std::sscanf(s->c_str(), "%2u:%2u:%2u%c", &h, &m, &sec, &extra);
    if ((n == 2 || n == 3) && h < 24 && m < 60 && sec < 60)
        return (static_cast<sim_duration>(h) * 3600 + m * 60 + sec) * ms_per_second;
    if (auto d = parse_duration(*s)) return *d;
    r.fail_at(node, key, "invalid schedule time \"" + *s + "\"");
}

periodic_component read_component(toml_reader& r, std::string_view peak_key) {
    periodic_component c;
    c.amplitude = r.spread("amplitude", {1, 1});
    c.period = positive_duration(r, "period", ms_per_day);
    c.inverse_period = 1 / static_cast<double>(c.period);
    c.peak = r.duration(peak_key, 0);
    return c;
}

/// A state machine: states, how long each lasts, and the odds of each next state.
void read_states(toml_reader& r, signal_spec& s) {
    s.kind = signal_kind::states;
    const toml::array* names = r.array("states");
    if (!names || names->size() < 2) r.fail("states", "a state machine needs at least two states");
    for (const auto& n : *names) {
        const auto name = n.value<std::string>();
        if (!name || name->empty()) r.fail_at(n, "states", "state names are non-empty strings");
        if (find_control_character(*name) != std::string::npos)
            r.fail_at(n, "states", control_character_message);
        for (const auto& earlier : s.state_names)
            if (earlier == *name)
                r.fail_at(n, "states",
                          "duplicate state \"" + *name + "\": a reader could not tell them apart");
        s.state_names.push_back(*name);
    }
    const std::size_t n = s.state_names.size();
    const toml::array* dwell = r.array("dwell");
    if (!dwell || dwell->size() != n)
        r.fail("dwell", "one duration range per state (e.g. [\"10m..1h\", \"2h..6h\"])");
    for (const auto& d : *dwell) {
        const auto text = d.value<std::string>();
        const auto range = text ? parse_duration_range(*text) : std::nullopt;
        if (!range || range->first <= 0)
            r.fail_at(d, "dwell", "each dwell is a positive duration or range (\"5m..30m\")");
        s.dwell.push_back(*range);
    }
    const toml::array* next = r.array("next");
    if (!next || next->size() != n)
        r.fail("next", "one row of odds per state: next = [[0, 0.9, 0.1], ...]");
    for (const auto& row : *next) {
        const toml::array* odds = row.as_array();
        if (!odds || odds->size() != n) r.fail_at(row, "next", "each row has one weight per state");
        std::vector<double> cumulative;
        double sum = 0;
        for (const auto& w : *odds) {
            const auto x = w.value<double>();
            if (!x || *x < 0) r.fail_at(w, "next", "weights are numbers >= 0");
            sum += *x;
            cumulative.push_back(sum);
        }
        if (sum <= 0) r.fail_at(row, "next", "each state needs somewhere to go");
        for (double& c : cumulative) c /= sum;
        s.next_state.push_back(std::move(cumulative));
    }
}

signal_spec read_signal(toml_reader& r) {
    signal_spec s;
    const std::string kind =
        r.choice("kind",
                 {"constant", "seasonal", "sine", "square", "sawtooth", "random_walk", "ou",
                  "schedule", "counter", "states", "derived"},
                 "");
    if (kind == "constant") {
        s.kind = signal_kind::constant;
        s.level = r.spread("value", {0, 0});
    } else if (kind == "seasonal") {
        s.kind = signal_kind::seasonal;
        s.level = r.spread("mean", {0, 0});
        auto parts = r.tables("components");
        if (parts.empty()) {
            s.components.push_back(read_component(r, "peak"));
        } else {
            if (r.has("amplitude") || r.has("period"))
                r.fail("components", "use either amplitude/period or components, not both");
            for (auto& p : parts) {
                s.components.push_back(read_component(p, "peak"));
                p.reject_unknown_keys();
            }
        }
    } else if (kind == "sine" || kind == "square" || kind == "sawtooth") {
        s.kind = kind == "sine"     ? signal_kind::sine
                 : kind == "square" ? signal_kind::square
                                    : signal_kind::sawtooth;
        s.level = r.spread("mean", {0, 0});
        s.components.push_back(read_component(r, "phase"));
        if (s.kind == signal_kind::square) {
            s.duty = r.number("duty", 0.5);
            if (s.duty <= 0 || s.duty >= 1) r.fail("duty", "must be between 0 and 1 (exclusive)");
        }
    } else if (kind == "random_walk") {
        s.kind = signal_kind::random_walk;
        s.level = r.spread("start", {0, 0});
        s.step = r.spread("step", {1, 1});
        require_non_negative(r, "step", s.step);
        s.min = r.optional_number("min");
        s.max = r.optional_number("max");
        if (s.min && s.max && *s.min >= *s.max) r.fail("max", "must be greater than min");
        if ((s.min && s.level.lo < *s.min) || (s.max && s.level.hi > *s.max))
            r.fail("start", "must lie within [min, max]");
    } else if (kind == "ou") {
        s.kind = signal_kind::ou;
        s.level = r.spread("mean", {0, 0});
        s.step = r.spread("sigma", {1, 1});
        require_non_negative(r, "sigma", s.step);
        s.reversion = r.number("reversion", 0.1);
        if (s.reversion <= 0 || s.reversion > 1) r.fail("reversion", "must be in (0, 1]");
    } else if (kind == "schedule") {
        s.kind = signal_kind::schedule;
        s.schedule_period = positive_duration(r, "period", ms_per_day);
        s.interpolate = r.choice("interpolate", {"step", "linear"}, "step") == "linear";
        const toml::array* points = r.array("points");
        if (!points || points->empty())
            r.fail("points", "a schedule needs points = [[\"07:00\", 21.0], ...]");
        for (const auto& p : *points) {
            const toml::array* pair = p.as_array();
            if (!pair || pair->size() != 2 || !(pair->get(1)->is_number()))
                r.fail_at(p, "points", "each point is [\"HH:MM\", value]");
            schedule_point sp;
            sp.offset = parse_offset(r, *pair->get(0), "points");
            sp.value = pair->get(1)->value<double>().value_or(0);
            if (sp.offset >= s.schedule_period)
                r.fail_at(p, "points", "point lies outside the schedule period");
            if (!s.points.empty() && sp.offset <= s.points.back().offset)
                r.fail_at(p, "points", "points must be in increasing time order");
            s.points.push_back(sp);
        }
    } else if (kind == "states") {
        read_states(r, s);
    } else if (kind == "derived") {
        s.kind = signal_kind::derived;
        s.from_name = r.string("from"); // resolved against earlier fields by read_group
        if (const toml::array* table = r.array("table")) {
            for (const auto& v : *table) {
                const auto x = v.value<double>();
                if (!x) r.fail_at(v, "table", "values are numbers, one per state of `from`");
                s.table.push_back(*x);
            }
            if (r.has("scale") || r.has("offset"))
                r.fail("table", "use either table (per state) or scale/offset, not both");
        } else {
            s.scale = r.number("scale", 1);
            s.offset = r.number("offset", 0);
        }
    } else {
        s.kind = signal_kind::counter;
        s.level = r.spread("start", {0, 0});
        s.rate = r.spread("rate", {1, 1});
        require_non_negative(r, "rate", s.rate);
        s.rate_noise = r.number("rate_noise", 0);
        if (s.rate_noise < 0) r.fail("rate_noise", "must not be negative");
    }
    r.reject_unknown_keys();
    return s;
}

noise_spec read_noise(toml_reader& r) {
    noise_spec n;
    const std::string kind =
        r.choice("kind", {"none", "gaussian", "uniform", "laplace", "student_t"}, "");
    const char* scale_key = "scale";
    if (kind == "gaussian")
        n.kind = noise_kind::gaussian, scale_key = "stddev";
    else if (kind == "uniform")
        n.kind = noise_kind::uniform, scale_key = "amplitude";
    else if (kind == "laplace")
        n.kind = noise_kind::laplace;
    else if (kind == "student_t")
        n.kind = noise_kind::student_t;
    if (n.kind != noise_kind::none) {
        n.scale = r.spread(scale_key, {1, 1});
        require_non_negative(r, scale_key, n.scale);
    }
    if (n.kind == noise_kind::student_t) {
        n.df = r.number("df", 3);
        if (n.df <= 0) r.fail("df", "must be greater than 0");
    }
    r.reject_unknown_keys();
    return n;
}

drift_spec read_drift(toml_reader& r) {
    drift_spec d;
    const std::string kind = r.choice("kind", {"none", "linear", "exponential", "random_walk"}, "");
    if (kind == "linear") {
        d.kind = drift_kind::linear;
        d.amount = r.spread("per_day", {0, 0});
    } else if (kind == "exponential") {
        d.kind = drift_kind::exponential;
        d.amount = r.spread("scale", {1, 1});
        d.tau = positive_duration(r, "tau", 30 * ms_per_day);
    } else if (kind == "random_walk") {
        d.kind = drift_kind::random_walk;
        d.amount = r.spread("step", {0, 0});
        require_non_negative(r, "step", d.amount);
    }
    r.reject_unknown_keys();
    return d;
}

int decimals_for(double resolution) {
    for (int p = 0; p <= 9; ++p) {
        const double scaled = resolution * std::pow(10.0, p);
        if (std::abs(scaled - std::round(scaled)) < 1e-9 * std::max(1.0, scaled)) return p;
    }
    return 9;
}

field_spec read_field(toml_reader& r) {
    field_spec f;
    f.name = r.string("name");
    if (f.name.empty()) r.fail("name", "must not be empty");
    for (char c : f.name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
            r.fail("name", "may hold only letters, digits, '_', '-' and '.'");
    for (const char* reserved : reserved_field_names)
        if (f.name == reserved)
            r.fail("name", "\"" + f.name + "\" is reserved for message metadata");
    if (f.name.front() == '_')
        r.fail("name", "must not start with '_' (InfluxDB reserves such names)");
    f.integer = r.choice("type", {"float", "int"}, "float") == "int";
    f.resolution = r.number("resolution", 0);
    if (f.resolution < 0) r.fail("resolution", "must not be negative");
    if (f.resolution > 0) f.inverse_resolution = 1 / f.resolution;
    const int default_precision = f.integer ? 0 : f.resolution > 0 ? decimals_for(f.resolution) : 3;
    f.precision = static_cast<int>(r.integer("precision", default_precision, 0, 9));
    if (f.integer) f.precision = 0;
    f.min = r.optional_number("min");
    f.max = r.optional_number("max");
    if (f.min && f.max && *f.min >= *f.max) r.fail("max", "must be greater than min");
    auto signal = r.table("signal");
    if (!signal) r.fail("signal", "is required (e.g. signal = { kind = \"constant\", value = 1 })");
    f.signal = read_signal(*signal);
    if (auto noise = r.table("noise")) f.noise = read_noise(*noise);
    if (auto drift = r.table("drift")) f.drift = read_drift(*drift);
    f.driver = r.number("driver", 0);
    if (f.signal.kind == signal_kind::states) {
        for (const char* key : {"noise", "drift", "driver", "min", "max", "resolution"})
            if (r.has(key)) r.fail(key, "a state machine field takes no " + std::string(key));
        f.format = field_format::text;
        f.text = f.signal.state_names;
        f.integer = true;
        f.precision = 0;
    }
    r.reject_unknown_keys();
    return f;
}

sim_time read_window_time(toml_reader& r, std::string_view key, bool& relative) {
    const std::string text = r.string(key);
    if (auto t = parse_timestamp(text)) {
        relative = false;
        return *t;
    }
    if (auto d = parse_duration(text)) {
        relative = true;
        return *d;
    }
    r.fail(key, "expected an RFC 3339 time (\"2026-01-01T06:00:00Z\") or an offset from the run "
                "start (\"6h\"), got \"" +
                    text + "\"");
}

/// The field an episode targets ("field" key), or -1 when `allowed` is false.
int read_target_field(toml_reader& r, const group_spec& g, const std::string& kind, bool allowed) {
    auto field = r.optional_string("field");
    if (!allowed) {
        if (field) r.fail("field", "a " + kind + " affects the whole message; it takes no field");
        return -1;
    }
    if (!field) r.fail("field", "is required for a " + kind);
    for (std::size_t i = 0; i < g.fields.size(); ++i)
        if (g.fields[i].name == *field) return static_cast<int>(i);
    r.fail("field", "no field \"" + *field + "\" in group \"" + g.name + "\"");
}

anomaly_direction read_direction(toml_reader& r) {
    const std::string d = r.choice("direction", {"up", "down", "both"}, "up");
    return d == "up"     ? anomaly_direction::up
           : d == "down" ? anomaly_direction::down
                         : anomaly_direction::both;
}

/// A "2s" or "1s..5s" key as a spread of milliseconds.
spread_param read_duration_spread(toml_reader& r, std::string_view key, std::string_view fallback) {
    const std::string text = r.optional_string(key).value_or(std::string(fallback));
    auto range = parse_duration_range(text);
    if (!range)
        r.fail(key, "invalid duration or range \"" + text + "\" (e.g. \"2s\" or \"1s..5s\")");
    return {static_cast<double>(range->first), static_cast<double>(range->second)};
}

/// When episodes happen: duration plus a Poisson rate or explicit windows.
void read_schedule(toml_reader& r, const group_spec& g, anomaly_spec& a, const std::string& kind,
                   bool zero_length) {
    if (auto d = r.optional_string("duration")) {
        auto range = parse_duration_range(*d);
        if (!range)
            r.fail("duration", "invalid duration or range \"" + *d + "\" (e.g. \"20m..2h\")");
        a.duration_lo = range->first, a.duration_hi = range->second;
    } else if (!zero_length && !r.has("windows")) {
        r.fail("duration", "is required for a " + kind + " scheduled by rate");
    }
    if (!zero_length && a.duration_hi == 0 && !r.has("windows") && r.has("duration"))
        r.fail("duration", "must be longer than 0 for a " + kind);

    if (auto rate = r.optional_string("rate")) {
        auto per_ms = parse_rate(*rate);
        if (!per_ms) r.fail("rate", "invalid rate \"" + *rate + "\" (e.g. \"0.5/day\", \"2/h\")");
        if (*per_ms <= 0) r.fail("rate", "must be greater than 0");
        // A tick is in at most one episode of a spec: episodes far denser than ticks would all
        // be walked between two ticks (a rate of 1e6/s on a daily sensor: 8.6e10 of them).
        if (*per_ms * static_cast<double>(g.interval) > 10)
            r.fail("rate", "at most 10 episodes per " + format_duration(g.interval) +
                               " (the group's interval)");
        a.rate_per_ms = *per_ms;
    }
    auto windows = r.tables("windows");
    if (a.rate_per_ms == 0 && windows.empty())
        r.fail("rate", "an anomaly needs a rate (\"0.5/day\") or explicit windows");
    if (a.rate_per_ms > 0 && !windows.empty())
        r.fail("windows", "use either rate or windows, not both");
    for (auto& w : windows) {
        anomaly_window win;
        bool start_relative = false, end_relative = false;
        win.start = read_window_time(w, "start", start_relative);
        win.end = read_window_time(w, "end", end_relative);
        if (start_relative != end_relative)
            w.fail("end", "start and end must both be times or both be offsets");
        win.relative = start_relative;
        if (win.end <= win.start) w.fail("end", "must be after start");
        if (const toml::array* devices = w.array("devices")) {
            // One pass over the group's ids, stopping once every listed one is found (a
            // group may hold 10^8 devices; a table of all their ids per window would not do).
            std::unordered_map<std::string, std::uint32_t> wanted;
            for (const auto& d : *devices) {
                auto id = d.value<std::string>();
                if (!id) w.fail_at(d, "devices", "device ids are strings");
                wanted.emplace(*id, UINT32_MAX);
            }
            std::size_t found = 0;
            for (std::uint64_t i = 0; i < g.count && found < wanted.size(); ++i) {
                auto it = wanted.find(format_device_id(g.id_template, g.name, i));
                if (it != wanted.end() && it->second == UINT32_MAX)
                    it->second = static_cast<std::uint32_t>(i), ++found;
            }
            for (const auto& d : *devices) {
                const std::uint32_t index = wanted[*d.value<std::string>()];
                if (index == UINT32_MAX)
                    w.fail_at(d, "devices",
                              "no device \"" + *d.value<std::string>() + "\" in group \"" + g.name +
                                  "\"");
                win.devices.push_back(index);
            }
            std::sort(win.devices.begin(), win.devices.end()); // searched by bisection
        }
        w.reject_unknown_keys();
        a.windows.push_back(std::move(win));
    }
    // Offsets and times can only be ordered against each other once the run start is known
    // (group_model sorts them then); windows of one kind are sorted and checked here, where
    // an overlap can be shown at its line.
    bool one_kind = true;
    for (const auto& w : a.windows) one_kind &= w.relative == a.windows.front().relative;
    if (!one_kind) return;
    if (const auto overlap = sort_windows(a.windows))
        windows[overlap->second].fail("start", "overlaps windows[" +
                                                   std::to_string(overlap->first) +
                                                   "]: " + std::string(window_overlap_reason));
}

anomaly_spec read_anomaly(toml_reader& r, const group_spec& g) {
    anomaly_spec a;
    const std::string kind = r.choice(
        "kind", {"spike", "level_shift", "trend", "variance", "stuck_at", "dropout", "frequency"},
        "");
    a.kind = *parse_anomaly_kind(kind);
    a.field = read_target_field(r, g, kind + " anomaly", a.kind != anomaly_kind::dropout);
    if (a.field >= 0 &&
        g.fields[static_cast<std::size_t>(a.field)].format != field_format::number &&
        a.kind != anomaly_kind::stuck_at)
        r.fail("field", "\"" + g.fields[static_cast<std::size_t>(a.field)].name +
                            "\" is a state machine: only stuck_at applies to it");
    const double fallback = default_magnitude(a.kind);
    a.magnitude = r.spread("magnitude", {fallback, fallback});
    for (double m : {a.magnitude.lo, a.magnitude.hi})
        if (const std::string problem = magnitude_problem(a.kind, m); !problem.empty())
            r.fail("magnitude", problem);
    a.direction = read_direction(r);
    read_schedule(r, g, a, kind + " anomaly", a.kind == anomaly_kind::spike);
    r.reject_unknown_keys();
    return a;
}

/// A [[group.fault]]: a transport or data-quality fault. Per-message kinds take a probability
/// (Poisson arrivals of one-tick episodes at that rate per message); clock_skew and
/// schema_drift last a while, scheduled like anomalies.
anomaly_spec read_fault(toml_reader& r, const group_spec& g) {
    anomaly_spec a;
    const std::string kind = r.choice(
        "kind",
        {"duplicate", "out_of_order", "late", "dropped", "malformed", "clock_skew", "schema_drift"},
        "");
    a.kind = *parse_anomaly_kind(kind);
    const std::string what = kind + " fault";
    a.field = read_target_field(r, g, what, a.kind == anomaly_kind::schema_drift);
    const auto interval = static_cast<double>(g.interval);
    switch (a.kind) {
    case anomaly_kind::duplicate: // when the copy arrives after the original
        a.magnitude = read_duration_spread(r, "delay", "0s..1s");
        break;
    case anomaly_kind::out_of_order: // held back past the device's next message or two
        // Past the device's next message even with full jitter on both.
        a.magnitude =
            r.has("delay")
                ? read_duration_spread(r, "delay", "")
                : spread_param{interval + 2 * static_cast<double>(g.jitter) + 1, 3 * interval};
        if (a.magnitude.lo <= 0) r.fail("delay", "must be longer than 0");
        break;
    case anomaly_kind::late:
        if (!r.has("delay")) r.fail("delay", "is required for a late fault (e.g. \"10m..2h\")");
        a.magnitude = read_duration_spread(r, "delay", "");
        if (a.magnitude.lo <= 0) r.fail("delay", "must be longer than 0");
        break;
    case anomaly_kind::malformed: // the fraction of the payload kept
        a.magnitude = {0.1, 0.9};
        break;
    case anomaly_kind::clock_skew:
        if (!r.has("skew"))
            r.fail("skew", "is required for a clock_skew fault (e.g. \"30s..10m\")");
        a.magnitude = read_duration_spread(r, "skew", "");
        a.direction = read_direction(r);
        break;
    case anomaly_kind::schema_drift: {
        const double change = r.choice("change", {"rename", "type"}, "rename") == "rename"
                                  ? static_cast<double>(schema_change::rename)
                                  : static_cast<double>(schema_change::retype);
        a.magnitude = {change, change};
        break;
    }
    default:
        break;
    }
    if (a.kind == anomaly_kind::clock_skew || a.kind == anomaly_kind::schema_drift) {
        read_schedule(r, g, a, what, false);
    } else {
        const double p = r.number("probability", 0);
        if (!(p > 0 && p <= 1))
            r.fail("probability", "is required: the share of messages affected, in (0, 1]");
        a.rate_per_ms = p / interval;
    }
    r.reject_unknown_keys();
    return a;
}

/// Poisson arrival keys (rate per device, daily_peak, daily_amplitude, weekend).
arrival_spec read_arrivals(toml_reader& r, const std::string& default_rate) {
    arrival_spec a;
    const std::string rate = r.optional_string("rate").value_or(default_rate);
    if (rate.empty()) r.fail("rate", "is required: arrivals per device (e.g. \"20/day\")");
    const auto per_ms = parse_rate(rate);
    if (!per_ms || *per_ms <= 0)
        r.fail("rate", "invalid rate \"" + rate + "\" (per device, e.g. \"4/day\")");
    a.rate_per_ms = *per_ms;
    a.daily_peak = r.duration("daily_peak", 13 * ms_per_hour);
    a.daily_amplitude = r.number("daily_amplitude", 0.6);
    if (a.daily_amplitude < 0 || a.daily_amplitude > 1)
        r.fail("daily_amplitude", "must be between 0 and 1");
    a.weekend = r.number("weekend", 1.2);
    // Arrivals are drawn by thinning against the peak intensity: a factor beyond 100 would
    // make nearly every candidate a rejection (and 1e308 an infinite peak).
    if (!(a.weekend > 0 && a.weekend <= 100))
        r.fail("weekend", "must be greater than 0 and at most 100");
    return a;
}

/// The mean gap between a device's arrivals stands in for a sensor's interval (window sizing,
/// nominal rates).
sim_duration mean_gap(const arrival_spec& a) {
    return std::max<sim_duration>(1, static_cast<sim_duration>(1 / a.rate_per_ms));
}

/// Categories a transaction feed uses when the profile names none (shares sum to 1; amounts
/// are lognormal: median and sigma of log-amount).
std::vector<transaction_category> default_categories() {
    return {{"grocery", "5411", 0.30, 32.0, 0.6, 0.05},
            {"restaurants", "5812", 0.18, 24.0, 0.5, 0.10},
            {"fuel", "5541", 0.12, 55.0, 0.3, 0.0},
            {"online_retail", "5999", 0.20, 45.0, 0.8, 1.0},
            {"electronics", "5732", 0.05, 180.0, 0.9, 0.50},
            {"travel", "4722", 0.05, 320.0, 0.7, 0.70},
            {"pharmacy", "5912", 0.10, 18.0, 0.5, 0.05}};
}

transaction_category read_category(toml_reader& r) {
    transaction_category c;
    c.name = r.string("name");
    if (c.name.empty()) r.fail("name", "must not be empty");
    c.mcc = r.optional_string("mcc").value_or("0000");
    c.share = r.number("share", 0);
    if (!(c.share > 0)) r.fail("share", "must be greater than 0");
    c.median_amount = r.number("median_amount", 0);
    if (!(c.median_amount > 0)) r.fail("median_amount", "must be greater than 0");
    c.amount_sigma = r.number("amount_sigma", 0.5);
    if (c.amount_sigma < 0) r.fail("amount_sigma", "must not be negative");
    c.ecommerce = r.number("ecommerce", 0);
    if (c.ecommerce < 0 || c.ecommerce > 1) r.fail("ecommerce", "must be between 0 and 1");
    r.reject_unknown_keys();
    return c;
}

/// The [group.transactions] table; also fixes the group's fields (see transaction_field).
transaction_spec read_transactions(toml_reader& r, group_spec& g) {
    transaction_spec t;
    t.arrivals = read_arrivals(r, "4/day");
    t.currency = r.optional_string("currency").value_or("EUR");
    // Each merchant's id is a table entry built here: a million is 20-odd MB.
    t.merchants = static_cast<std::uint32_t>(r.integer("merchants", 1000, 1, 1'000'000));
    t.towns = static_cast<std::uint32_t>(r.integer("towns", 50, 2, 100'000));
    if (t.towns > t.merchants) r.fail("towns", "must not exceed merchants (each town has one)");
    const std::string merchant_id =
        r.optional_string("merchant_id").value_or("merchant-{index:05}");
    const spread_param lat = r.spread("latitude", {43.0, 51.0});
    const spread_param lon = r.spread("longitude", {-1.5, 7.5});
    if (lat.lo < -90 || lat.hi > 90) r.fail("latitude", "must be within -90..90");
    if (lon.lo < -180 || lon.hi > 180) r.fail("longitude", "must be within -180..180");
    t.lat_lo = lat.lo, t.lat_hi = lat.hi, t.lon_lo = lon.lo, t.lon_hi = lon.hi;
    for (auto& c : r.tables("category")) {
        t.categories.push_back(read_category(c));
        for (std::size_t i = 0; i + 1 < t.categories.size(); ++i)
            if (t.categories[i].name == t.categories.back().name)
                c.fail("name", "duplicate category \"" + t.categories.back().name + "\"");
    }
    if (t.categories.empty()) t.categories = default_categories();
    r.reject_unknown_keys();

    // The message layout: fixed fields, text ones indexing tables built here once.
    auto text_field = [](std::string name, std::vector<std::string> values) {
        field_spec f;
        f.name = std::move(name);
        f.format = field_format::text;
        f.text = std::move(values);
        return f;
    };
    auto number_field = [](std::string name, int precision) {
        field_spec f;
        f.name = std::move(name);
        f.precision = precision;
        return f;
    };
    std::vector<std::string> merchants, categories, mccs;
    if (const std::string problem = id_template_problem(merchant_id); !problem.empty())
        r.fail("merchant_id", "invalid id template: " + problem);
    for (std::uint32_t m = 0; m < t.merchants; ++m)
        merchants.push_back(format_device_id(merchant_id, g.name, m));
    for (const auto& c : t.categories) categories.push_back(c.name), mccs.push_back(c.mcc);
    g.fields.resize(tx_field_count);
    g.fields[tx_amount] = number_field("amount", 2);
    g.fields[tx_currency] = text_field("currency", {t.currency});
    g.fields[tx_merchant] = text_field("merchant_id", std::move(merchants));
    g.fields[tx_category] = text_field("category", std::move(categories));
    g.fields[tx_mcc] = text_field("mcc", std::move(mccs));
    g.fields[tx_channel] = text_field("channel", {"pos", "ecom"});
    g.fields[tx_lat] = number_field("lat", 4);
    g.fields[tx_lon] = number_field("lon", 4);
    g.fields[tx_device] = field_spec{};
    g.fields[tx_device].name = "device_fingerprint";
    g.fields[tx_device].format = field_format::hex;
    g.fields[tx_device].hex_prefix = "fp-";
    g.interval = mean_gap(t.arrivals);
    return t;
}

/// A [[group.fraud]] typology of a transaction feed: an episode per card (or, for
/// compromised_merchant, per merchant compromise) whose transactions it shapes and labels.
anomaly_spec read_fraud(toml_reader& r, const group_spec& g) {
    anomaly_spec a;
    const std::string kind = r.choice("kind",
                                      {"card_testing", "account_takeover", "velocity_burst",
                                       "impossible_travel", "compromised_merchant"},
                                      "");
    a.kind = *parse_anomaly_kind(kind);
    const std::string what = kind + " fraud";
    // magnitude: how much faster a card transacts (card_testing: transactions per hour) or
    // how much more it spends; defaults per typology.
    const spread_param default_magnitude =
        a.kind == anomaly_kind::card_testing       ? spread_param{30, 120}
        : a.kind == anomaly_kind::account_takeover ? spread_param{5, 20}
        : a.kind == anomaly_kind::velocity_burst   ? spread_param{10, 40}
                                                   : spread_param{1, 1};
    a.magnitude = r.spread("magnitude", default_magnitude);
    require_positive(r, "magnitude", a.magnitude);
    // Rates multiply a card's arrivals, and a window of generation holds every arrival: a
    // bound keeps one card's episode within memory (card_testing: one attempt a second).
    const double max_magnitude = a.kind == anomaly_kind::card_testing     ? 3600
                                 : a.kind == anomaly_kind::velocity_burst ? 1000
                                                                          : 1e6;
    if (a.magnitude.hi > max_magnitude)
        r.fail("magnitude",
               "must be at most " + fmt::format("{:g}", max_magnitude) + " for " + kind +
                   (a.kind == anomaly_kind::card_testing ? " (attempts per hour)" : ""));
    if (a.kind == anomaly_kind::compromised_merchant) {
        const std::string rate = r.optional_string("rate").value_or("");
        const auto per_ms = parse_rate(rate);
        if (!per_ms || *per_ms <= 0)
            r.fail("rate", "is required: merchant compromises per group (e.g. \"2/week\")");
        a.events_per_ms = *per_ms;
        a.event_length = r.duration("window", 2 * ms_per_day);
        if (a.event_length <= 0) r.fail("window", "must be longer than 0");
        a.participation = r.number("cards", 0.01);
        if (!(a.participation > 0 && a.participation <= 1))
            r.fail("cards", "the share of cards caught, in (0, 1]");
        // Each compromise catches a share of the cards, drawn for the run's first year
        // (group_model::draw_compromises): bound the card visits that table holds.
        const double visits = a.events_per_ms * 366.0 * static_cast<double>(ms_per_day) *
                              a.participation * static_cast<double>(g.count);
        const double compromises = a.events_per_ms * 366.0 * static_cast<double>(ms_per_day);
        if (compromises > 1e6)
            r.fail("rate",
                   fmt::format("{:.3g} compromises a year; at most 1e6 are drawn", compromises));
        if (visits > 1e7)
            r.fail("rate", fmt::format("with cards = {} of {} cards, {:.3g} card visits a year; at "
                                       "most 1e7 are drawn (lower rate or cards)",
                                       a.participation, g.count, visits));
        const spread_param d = read_duration_spread(r, "duration", "1h..6h");
        if (d.lo <= 0) r.fail("duration", "must be longer than 0");
        if (d.hi > static_cast<double>(a.event_length))
            r.fail("duration", "must fit in the compromise window");
        a.duration_lo = static_cast<sim_duration>(d.lo),
        a.duration_hi = static_cast<sim_duration>(d.hi);
    } else {
        read_schedule(r, g, a, what, false);
    }
    r.reject_unknown_keys();
    return a;
}

/// A [[group.drift]]: the group's distribution changes for good (or until `end`), abruptly
/// or over `ramp`. Labelled as drift episodes (class "drift"), not as anomalies.
anomaly_spec read_concept_drift(toml_reader& r, const group_spec& g) {
    anomaly_spec a;
    a.kind = anomaly_kind::concept_drift;
    a.field = read_target_field(r, g, "concept drift", true);
    if (g.fields[static_cast<std::size_t>(a.field)].format != field_format::number)
        r.fail("field", "concept drift applies to numeric fields");
    const double shift = r.number("shift", 0);
    a.magnitude = {shift, shift};
    a.noise_scale = r.number("scale", 1);
    if (!(a.noise_scale > 0)) r.fail("scale", "must be greater than 0");
    if (shift == 0 && a.noise_scale == 1) r.fail("shift", "a drift needs a shift or a scale");
    a.ramp = r.duration("ramp", 0);
    anomaly_window w;
    bool end_relative = false;
    w.start = read_window_time(r, "start", w.relative);
    w.end = r.has("end") ? read_window_time(r, "end", end_relative) : w.start + open_ended;
    if (r.has("end") && end_relative != w.relative)
        r.fail("end", "start and end must both be times or both be offsets");
    if (w.end <= w.start) r.fail("end", "must be after start");
    a.windows.push_back(w);
    r.reject_unknown_keys();
    return a;
}

driver_spec read_driver(toml_reader& r) {
    driver_spec d;
    d.daily_amplitude = r.number("daily_amplitude", 0);
    d.daily_peak = r.duration("daily_peak", 15 * ms_per_hour);
    d.stddev = r.number("stddev", 1);
    if (d.stddev < 0) r.fail("stddev", "must not be negative");
    d.every = positive_duration(r, "every", 2 * ms_per_hour);
    r.reject_unknown_keys();
    return d;
}

group_spec read_group(toml_reader& r, const std::vector<group_spec>& earlier) {
    group_spec g;
    g.name = r.string("name");
    if (g.name.empty()) r.fail("name", "must not be empty");
    g.count = static_cast<std::uint64_t>(r.integer("count", 1, 1, max_devices_per_group));
    if (g.name.front() == '_')
        r.fail("name", "must not start with '_' (InfluxDB reserves such names)");
    if (g.name.front() == '#')
        r.fail("name", "must not start with '#' (a line-protocol line starting with it is a "
                       "comment)");
    if (g.name.find('\\') != std::string::npos)
        r.fail("name", "a backslash is not allowed in a group name (line protocol cannot carry "
                       "one in a measurement)");
    g.id_template = r.optional_string("id").value_or("{group}-{index}");
    if (const std::string problem = id_template_problem(g.id_template); !problem.empty())
        r.fail("id", "invalid id template: " + problem);
    // The first and last ids hold every character any id of the group can (an index adds
    // digits and hex letters only), and the longest one.
    for (std::uint64_t index : {std::uint64_t{0}, g.count - 1}) {
        const std::string id = format_device_id(g.id_template, g.name, index);
        for (char c : id)
            if (!is_device_id_char(c))
                r.fail(r.has("id") ? "id" : "name",
                       "device id \"" + id.substr(0, 80) + (id.size() > 80 ? "…" : "") +
                           "\" holds '" + std::string(1, c) + "': ids keep to " +
                           std::string(device_id_alphabet) +
                           ", which JSON, CSV, line protocol, topics and keys carry unescaped" +
                           (r.has("id") ? "" : " (set id, the default is \"{group}-{index}\")"));
    }
    if (g.count > 1 &&
        format_device_id(g.id_template, g.name, 0) == format_device_id(g.id_template, g.name, 1))
        r.fail("id", "the id template must contain {index} when count > 1");
    if (r.choice("model", {"sensors", "transactions"}, "sensors") == "transactions") {
        for (const char* key : {"field", "anomaly", "interval", "jitter", "phase"})
            if (r.has(key))
                r.fail(key, "a transaction group derives its fields and cadence from "
                            "[group.transactions]; it takes no " +
                                std::string(key));
        auto t = r.table("transactions");
        if (!t) r.fail("transactions", "a transaction group needs a [group.transactions] table");
        g.transactions = read_transactions(*t, g);
        for (auto& f : r.tables("fraud")) g.anomalies.push_back(read_fraud(f, g));
        for (auto& f : r.tables("fault")) g.anomalies.push_back(read_fault(f, g));
        r.reject_unknown_keys();
        return g;
    }
    if (r.has("fraud"))
        r.fail("fraud", "fraud typologies need a transaction group (model = \"transactions\")");
    if (auto arrivals = r.table("arrivals")) {
        // Event sensors (doors, motion, alarms): events at Poisson times with a daily rhythm.
        for (const char* key : {"interval", "jitter", "phase"})
            if (r.has(key))
                r.fail(key, "a group with [group.arrivals] has no fixed " + std::string(key));
        g.arrivals = read_arrivals(*arrivals, "");
        arrivals->reject_unknown_keys();
        g.interval = mean_gap(*g.arrivals);
    } else {
        g.interval = positive_duration(r, "interval", ms_per_second);
    }
    g.jitter = r.duration("jitter", 0);
    if (2 * g.jitter >= g.interval)
        r.fail("jitter",
               "must be less than half the interval so each device's messages stay in order");
    g.random_phase = r.choice("phase", {"random", "aligned"}, "random") == "random";
    auto fields = r.tables("field");
    if (fields.empty()) r.fail("field", "a group needs at least one [[group.field]]");
    for (auto& f : fields) {
        g.fields.push_back(read_field(f));
        for (std::size_t i = 0; i + 1 < g.fields.size(); ++i)
            if (g.fields[i].name == g.fields.back().name)
                f.fail("name", "duplicate field name \"" + g.fields.back().name + "\"");
    }
    for (std::size_t i = 0; i < g.fields.size(); ++i) {
        signal_spec& s = g.fields[i].signal;
        if (s.kind != signal_kind::derived) continue;
        for (std::size_t j = 0; j < i; ++j)
            if (g.fields[j].name == s.from_name) s.from = static_cast<int>(j);
        if (s.from < 0)
            fields[i].fail("signal", "derived from \"" + s.from_name +
                                         "\": no earlier field of that name in the group");
        const field_spec& source = g.fields[static_cast<std::size_t>(s.from)];
        if (!s.table.empty() && s.table.size() != source.signal.state_names.size())
            fields[i].fail("signal",
                           "a table needs one value per state of \"" + s.from_name + "\"");
        if (s.table.empty() && source.format != field_format::number)
            fields[i].fail("signal", "derive from a state field with a table of values per state");
    }
    if (auto d = r.table("driver")) g.driver = read_driver(*d);
    for (const auto& f : g.fields)
        if (f.driver != 0 && !g.driver)
            r.fail("driver", "field \"" + f.name +
                                 "\" loads on a driver the group lacks: add [group.driver]");
    for (auto& a : r.tables("anomaly")) g.anomalies.push_back(read_anomaly(a, g));
    for (auto& f : r.tables("fault")) g.anomalies.push_back(read_fault(f, g));
    for (auto& d : r.tables("drift")) g.anomalies.push_back(read_concept_drift(d, g));
    if (auto parent = r.optional_string("parent")) {
        // Gateways: the parent group's dropouts silence their children too (a cascade).
        for (std::size_t i = 0; i < earlier.size(); ++i)
            if (earlier[i].name == *parent) g.parent = static_cast<int>(i);
        if (g.parent < 0)
            r.fail("parent", "no earlier group \"" + *parent + "\" (define gateways first)");
        const auto& gateways = earlier[static_cast<std::size_t>(g.parent)].anomalies;
        for (std::size_t a = 0; a < gateways.size(); ++a) {
            if (gateways[a].kind != anomaly_kind::dropout) continue;
            anomaly_spec cascade = gateways[a];
            cascade.cause_group = g.parent;
            cascade.cause_anomaly = static_cast<std::uint32_t>(a);
            g.anomalies.push_back(std::move(cascade));
        }
    }
    r.reject_unknown_keys();
    return g;
}

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

load_spec read_load(toml_reader& r) {
    load_spec l;
    const std::string shape =
        r.choice("shape", {"constant", "ramp", "step", "spike", "cycle"}, "constant");
    if (shape == "constant") {
        l.shape = load_shape::constant;
        l.rate = positive_rate(r, "rate");
    } else if (shape == "ramp") {
        l.shape = load_shape::ramp;
        l.from = r.number("from", 0);
        if (l.from < 0) r.fail("from", "must not be negative");
        l.to = positive_rate(r, "to");
        l.over = positive_duration(r, "over", 60'000);
    } else if (shape == "step") {
        l.shape = load_shape::step;
        const toml::array* steps = r.array("rates");
        if (!steps || steps->empty())
            r.fail("rates", "a step shape needs rates = [1000, 5000, ...]");
        for (const auto& v : *steps) {
            const auto rate = v.value<double>();
            if (!rate || *rate <= 0) r.fail_at(v, "rates", "each rate is a number greater than 0");
            l.steps.push_back(*rate);
        }
        l.every = positive_duration(r, "every", 60'000);
    } else if (shape == "spike") {
        l.shape = load_shape::spike;
        l.rate = positive_rate(r, "base");
        l.peak = positive_rate(r, "peak");
        l.at = r.duration("at", 30'000);
        l.lasting = positive_duration(r, "for", 10'000);
    } else {
        l.shape = load_shape::cycle;
        l.rate = positive_rate(r, "mean");
        l.amplitude = r.number("amplitude", 0);
        if (l.amplitude < 0 || l.amplitude > l.rate)
            r.fail("amplitude", "must be between 0 and mean");
        l.period = positive_duration(r, "period", 60'000);
    }
    r.reject_unknown_keys();
    return l;
}

} // namespace

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
    return kind == anomaly_kind::variance ? 3.0 : kind == anomaly_kind::frequency ? 2.0 : 1.0;
}

std::string magnitude_problem(anomaly_kind kind, double magnitude) {
    if (!std::isfinite(magnitude)) return "must be a finite number";
    if (kind != anomaly_kind::variance && kind != anomaly_kind::frequency) return "";
    if (!(magnitude > 0) || magnitude > max_factor_magnitude)
        return fmt::format("must be greater than 0 and at most {:g} for {} (a factor; got {:g})",
                           max_factor_magnitude, to_string(kind), magnitude);
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

profile parse_profile(std::string_view raw, const std::string& origin, const env_lookup& lookup) {
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
        p.groups.push_back(read_group(g, p.groups));
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
    for (const std::string_view table : connector_table_names())
        if (r.table(table)) {
            p.connectors.push_back({std::string(table), {}});
            read_passthrough(*root.get(table)->as_table(), "", origin, std::string(table),
                             p.connectors.back().properties);
        }
    r.reject_unknown_keys();
    return p;
}

profile load_profile(const std::string& path, const env_lookup& lookup) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error({path, 0, 0}, "", "cannot open profile");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_profile(text.str(), path, lookup);
}

const char* to_string(signal_kind k) noexcept {
    constexpr const char* names[] = {"constant", "seasonal",    "sine",   "square",
                                     "sawtooth", "random_walk", "ou",     "schedule",
                                     "counter",  "states",      "derived"};
    return names[static_cast<int>(k)];
}
const char* to_string(noise_kind k) noexcept {
    constexpr const char* names[] = {"none", "gaussian", "uniform", "laplace", "student_t"};
    return names[static_cast<int>(k)];
}
const char* to_string(drift_kind k) noexcept {
    constexpr const char* names[] = {"none", "linear", "exponential", "random_walk"};
    return names[static_cast<int>(k)];
}
std::optional<anomaly_kind> parse_anomaly_kind(std::string_view name) noexcept {
    for (std::size_t k = 0; k < anomaly_kind_count; ++k)
        if (name == to_string(static_cast<anomaly_kind>(k))) return static_cast<anomaly_kind>(k);
    return std::nullopt;
}

const char* to_string(anomaly_kind k) noexcept {
    constexpr const char* names[] = {"spike",
                                     "level_shift",
                                     "trend",
                                     "variance",
                                     "stuck_at",
                                     "dropout",
                                     "frequency",
                                     "duplicate",
                                     "out_of_order",
                                     "late",
                                     "dropped",
                                     "malformed",
                                     "clock_skew",
                                     "schema_drift",
                                     "card_testing",
                                     "account_takeover",
                                     "velocity_burst",
                                     "impossible_travel",
                                     "compromised_merchant",
                                     "concept_drift"};
    static_assert(std::size(names) == anomaly_kind_count);
    return names[static_cast<int>(k)];
}

const char* to_string(anomaly_class c) noexcept {
    constexpr const char* names[] = {"value", "transport", "fraud", "drift"};
    return names[static_cast<int>(c)];
}

} // namespace synthfeed
