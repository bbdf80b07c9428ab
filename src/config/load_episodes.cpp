#include "src/config/profile_sections.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "src/config/profile_loader.hpp"

namespace synthfeed::profile_sections {
namespace {

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

/// The index of device `id` in group `g`, or nullopt. Inverts format_device_id instead of
/// walking the group (up to 10^8 ids): an index adds only a run of digits or hex letters to an
/// id (see id_template_problem), so every such run of at most 64 characters is read in each
/// base a template can use, and a candidate below the group's count is kept when it formats
/// back to `id`.
std::optional<std::uint64_t> device_index(const group_spec& g, std::string_view id) {
    const std::string last = format_device_id(g.id_template, g.name, g.count - 1);
    if (id.size() > last.size()) return std::nullopt; // ids grow with their index
    for (std::size_t start = 0; start < id.size(); ++start) {
        for (std::size_t end = start + 1; end <= std::min(id.size(), start + 64); ++end) {
            if (!std::isxdigit(static_cast<unsigned char>(id[end - 1]))) break;
            for (int base : {10, 16, 8, 2}) {
                std::uint64_t index = 0;
                const auto [ptr, ec] =
                    std::from_chars(id.data() + start, id.data() + end, index, base);
                if (ec != std::errc{} || ptr != id.data() + end || index >= g.count) continue;
                if (format_device_id(g.id_template, g.name, index) == id) return index;
            }
        }
    }
    // A template without {index} (count 1) adds no run of digits.
    if (g.count == 1 && id == last) return 0;
    return std::nullopt;
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
            for (const auto& d : *devices) {
                const auto id = d.value<std::string>();
                if (!id) w.fail_at(d, "devices", "device ids are strings");
                const auto index = device_index(g, *id);
                if (!index)
                    w.fail_at(d, "devices",
                              "no device \"" + *id + "\" in group \"" + g.name + "\"");
                win.devices.push_back(static_cast<std::uint32_t>(*index));
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

/// Reads `kind`, one of the kinds written in [[group.<table>]], into `a`; returns its row.
const anomaly_kind_row& read_episode_kind(toml_reader& r, anomaly_spec& a, std::string_view table) {
    const anomaly_kind_row& row = anomaly_kinds[r.kind("kind", anomaly_kinds, written_in(table))];
    a.kind = row.kind;
    return row;
}

/// The kind (of [[group.<table>]]) and the field of an episode table, read into `a`; with the
/// row and how messages name the episode ("spike anomaly").
struct episode_head {
    const anomaly_kind_row& row;
    std::string what;
};
episode_head read_episode_head(toml_reader& r, const group_spec& g, anomaly_spec& a,
                               std::string_view table) {
    const anomaly_kind_row& row = read_episode_kind(r, a, table);
    std::string what = std::string(row.name) + " " + std::string(table);
    a.field = read_target_field(r, g, what, row.target != episode_target::message);
    return {row, std::move(what)};
}

/// The parameter that sizes a fault, each kind under its own key (the row's `keys`); the
/// others keep the row's default magnitude (malformed: the share of the payload kept).
void read_fault_magnitude(toml_reader& r, const group_spec& g, anomaly_spec& a) {
    const auto interval = static_cast<double>(g.interval);
    if (a.kind == anomaly_kind::duplicate) { // when the copy arrives after the original
        a.magnitude = read_duration_spread(r, "delay", "0s..1s");
    } else if (a.kind == anomaly_kind::out_of_order) { // past the device's next message or two
        // Past the device's next message even with full jitter on both.
        a.magnitude =
            r.has("delay")
                ? read_duration_spread(r, "delay", "")
                : spread_param{interval + 2 * static_cast<double>(g.jitter) + 1, 3 * interval};
        if (a.magnitude.lo <= 0) r.fail("delay", "must be longer than 0");
    } else if (a.kind == anomaly_kind::late) {
        if (!r.has("delay")) r.fail("delay", "is required for a late fault (e.g. \"10m..2h\")");
        a.magnitude = read_duration_spread(r, "delay", "");
        if (a.magnitude.lo <= 0) r.fail("delay", "must be longer than 0");
    } else if (a.kind == anomaly_kind::clock_skew) {
        if (!r.has("skew"))
            r.fail("skew", "is required for a clock_skew fault (e.g. \"30s..10m\")");
        a.magnitude = read_duration_spread(r, "skew", "");
        a.direction = read_direction(r);
    } else if (a.kind == anomaly_kind::schema_drift) {
        const double change = r.choice("change", {"rename", "type"}, "rename") == "rename"
                                  ? static_cast<double>(schema_change::rename)
                                  : static_cast<double>(schema_change::retype);
        a.magnitude = {change, change};
    }
}

} // namespace

anomaly_spec read_anomaly(toml_reader& r, const group_spec& g) {
    anomaly_spec a;
    const auto [row, what] = read_episode_head(r, g, a, "anomaly");
    if (a.field >= 0 &&
        g.fields[static_cast<std::size_t>(a.field)].format != field_format::number &&
        !row.on_states)
        r.fail("field", "\"" + g.fields[static_cast<std::size_t>(a.field)].name +
                            "\" is a state machine: only " +
                            names_where(anomaly_kinds, [](const auto& k) { return k.on_states; }) +
                            " applies to it");
    a.magnitude = r.spread("magnitude", {row.magnitude_lo, row.magnitude_hi});
    for (double m : {a.magnitude.lo, a.magnitude.hi})
        if (const std::string problem = magnitude_problem(a.kind, m); !problem.empty())
            r.fail("magnitude", problem);
    a.direction = read_direction(r);
    read_schedule(r, g, a, what, row.zero_length);
    r.reject_unknown_keys();
    return a;
}

/// A [[group.fault]]: a transport or data-quality fault. Per-message kinds take a probability
/// (Poisson arrivals of one-tick episodes at that rate per message); clock_skew and
/// schema_drift last a while, scheduled like anomalies.
anomaly_spec read_fault(toml_reader& r, const group_spec& g) {
    anomaly_spec a;
    const auto [row, what] = read_episode_head(r, g, a, "fault");
    a.magnitude = {row.magnitude_lo, row.magnitude_hi};
    read_fault_magnitude(r, g, a);
    if (!row.per_message) {
        read_schedule(r, g, a, what, row.zero_length);
    } else if (const double p = r.number("probability", 0); p > 0 && p <= 1) {
        a.rate_per_ms = p / static_cast<double>(g.interval);
    } else {
        r.fail("probability", "is required: the share of messages affected, in (0, 1]");
    }
    r.reject_unknown_keys();
    return a;
}

/// A [[group.fraud]] typology of a transaction feed: an episode per card (or, for
/// compromised_merchant, per merchant compromise) whose transactions it shapes and labels.
anomaly_spec read_fraud(toml_reader& r, const group_spec& g) {
    anomaly_spec a;
    const anomaly_kind_row& row = read_episode_kind(r, a, "fraud");
    const std::string what = std::string(row.name) + " fraud";
    // magnitude: how much faster a card transacts (card_testing: transactions per hour) or
    // how much more it spends. Rates multiply a card's arrivals, and a window of generation
    // holds every arrival: the row's bound keeps one card's episode within memory.
    a.magnitude = r.spread("magnitude", {row.magnitude_lo, row.magnitude_hi});
    require_positive(r, "magnitude", a.magnitude);
    if (a.magnitude.hi > row.max_magnitude)
        r.fail("magnitude",
               "must be at most " + fmt::format("{:g}", row.max_magnitude) + " for " +
                   std::string(row.name) +
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

namespace {

/// What a drift and a regime share: a numeric `field` and a noise `scale` (0 < scale <= 1000).
anomaly_spec read_field_change(toml_reader& r, const group_spec& g, anomaly_kind kind,
                               const char* what) {
    anomaly_spec a;
    a.kind = kind;
    a.field = read_target_field(r, g, what, true);
    if (g.fields[static_cast<std::size_t>(a.field)].format != field_format::number)
        r.fail("field", std::string(what) + " applies to numeric fields");
    a.noise_scale = r.number("scale", 1);
    if (!(a.noise_scale > 0) || a.noise_scale > max_factor_magnitude)
        r.fail("scale", "must be greater than 0 and at most 1000");
    return a;
}

} // namespace

/// A [[group.drift]]: the group's distribution changes for good (or until `end`), abruptly
/// or over `ramp`. Labelled as drift episodes (class "drift"), not as anomalies.
anomaly_spec read_concept_drift(toml_reader& r, const group_spec& g) {
    anomaly_spec a = read_field_change(r, g, anomaly_kind::concept_drift, "concept drift");
    const double shift = r.number("shift", 0);
    a.magnitude = {shift, shift};
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

/// A [[group.regime]]: normal behaviour the field switches into at random times (rate) or in
/// windows, and out of after `duration`: its level shifted by `shift` (drawn per episode), its
/// noise and stochastic parts scaled by `scale`, its periodic parts' amplitude by `cycle`.
/// Recorded as episodes of class "regime"; a tick's label stays normal.
anomaly_spec read_regime(toml_reader& r, const group_spec& g) {
    anomaly_spec a = read_field_change(r, g, anomaly_kind::regime, "regime");
    a.magnitude = r.spread("shift", {0, 0});
    a.cycle_scale = r.number("cycle", 1);
    if (!(a.cycle_scale >= 0) || a.cycle_scale > max_factor_magnitude)
        r.fail("cycle", "must be between 0 and 1000");
    if (a.magnitude.lo == 0 && a.magnitude.hi == 0 && a.noise_scale == 1 && a.cycle_scale == 1)
        r.fail("shift", "a regime needs a shift, a scale or a cycle");
    read_schedule(r, g, a, "regime", false);
    r.reject_unknown_keys();
    return a;
}

} // namespace synthfeed::profile_sections
