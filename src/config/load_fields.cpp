#include "src/config/profile_sections.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "src/core/text_escape.hpp"

namespace synthfeed::profile_sections {
namespace {

/// Keys every message carries, and "time", which InfluxDB refuses as a field key.
constexpr const char* reserved_field_names[] = {"device_id", "seq",   "ts",  "label",
                                                "episode",   "group", "time"};

/// A time within `period` as a profile writes it (see parse_calendar_offset): weekdays only in
/// a period of whole weeks, days of the year only in a period of a year or more.
calendar_offset read_calendar_offset(toml_reader& r, const toml::node& node, std::string_view key,
                                     sim_duration period) {
    const auto s = node.value<std::string>();
    if (!s)
        r.fail_at(node, key,
                  "a time is a string such as \"14:30\", \"Mon 09:00\", \"day 172\" or \"15h\"");
    const auto c = parse_calendar_offset(*s);
    if (!c)
        r.fail_at(node, key,
                  "invalid time \"" + *s +
                      "\" (examples: \"14:30\", \"Mon 09:00\", \"day 172\", \"15h\")");
    if (c->written == calendar_offset::form::weekday && period % (7 * ms_per_day) != 0)
        r.fail_at(node, key, "a weekday needs a period of whole weeks (period = \"7d\")");
    if (c->written == calendar_offset::form::day_of_year && period < 365 * ms_per_day)
        r.fail_at(node, key, "a day of the year needs a period of a year (period = \"1y\")");
    return *c;
}

periodic_component read_component(toml_reader& r, std::string_view peak_key) {
    periodic_component c;
    c.amplitude = r.spread("amplitude", {1, 1});
    c.period = positive_duration(r, "period", ms_per_day);
    c.inverse_period = 1 / static_cast<double>(c.period);
    if (r.has(peak_key)) {
        c.peak = read_calendar_offset(r, *r.node(peak_key), peak_key, c.period).since_epoch;
    }
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

/// A schedule signal's points: ["HH:MM", value] pairs in increasing time order. With weekdays
/// ("Mon 09:00") the week starts on Monday as written; the points are then stored from the
/// epoch's Thursday, as the model reads them.
void read_schedule_points(toml_reader& r, signal_spec& s) {
    s.schedule_period = positive_duration(r, "period", ms_per_day);
    s.interpolate = r.choice("interpolate", {"step", "linear"}, "step") == "linear";
    const toml::array* points = r.array("points");
    if (!points || points->empty())
        r.fail("points", "a schedule needs points = [[\"07:00\", 21.0], ...]");
    int weekday_points = 0;
    sim_duration previous = -1;
    for (const auto& p : *points) {
        const toml::array* pair = p.as_array();
        if (!pair || pair->size() != 2 || !(pair->get(1)->is_number()))
            r.fail_at(p, "points", "each point is [\"HH:MM\", value]");
        const calendar_offset at =
            read_calendar_offset(r, *pair->get(0), "points", s.schedule_period);
        const bool weekday = at.written == calendar_offset::form::weekday;
        weekday_points += weekday;
        if (weekday_points != 0 && weekday_points != static_cast<int>(s.points.size()) + 1)
            r.fail_at(p, "points", "write every point with a weekday (\"Mon 09:00\"), or none");
        schedule_point sp;
        sp.offset = weekday ? at.since_epoch : at.within_written;
        sp.value = pair->get(1)->value<double>().value_or(0);
        if (at.within_written >= s.schedule_period)
            r.fail_at(p, "points", "point lies outside the schedule period");
        if (at.within_written <= previous)
            r.fail_at(p, "points", "points must be in increasing time order");
        previous = at.within_written;
        s.points.push_back(sp);
    }
    if (weekday_points > 0)
        std::sort(
            s.points.begin(), s.points.end(),
            [](const schedule_point& a, const schedule_point& b) { return a.offset < b.offset; });
}

/// A derived signal: a table per state of `from`, or scale and offset.
void read_derived(toml_reader& r, signal_spec& s) {
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
}

/// A level (default 0) and a non-negative scale (default 1): a walk's start and step, an OU
/// process's mean and sigma, a counter's start and rate.
void read_level_and_scale(toml_reader& r, std::string_view level_key, spread_param& level,
                          std::string_view scale_key, spread_param& scale) {
    level = r.spread(level_key, {0, 0});
    scale = r.spread(scale_key, {1, 1});
    require_non_negative(r, scale_key, scale);
}

/// An ou part's empirical marginal: { quantiles = [q0, ..., qn] }, non-decreasing, with
/// `probabilities` (0 = p0 < ... < pn = 1) when not evenly spaced.
std::vector<double> read_marginal(toml_reader& r, std::vector<double>& probabilities) {
    auto m = r.table("marginal");
    if (!m) return {};
    const toml::array* q = m->array("quantiles");
    if (!q || q->size() < 2)
        m->fail("quantiles", "a marginal needs quantiles = [q0, ..., qn] (at least two, at "
                             "probabilities 0, 1/n, ..., 1)");
    std::vector<double> out;
    for (const auto& v : *q) {
        const auto x = v.value<double>();
        if (!x || !std::isfinite(*x)) m->fail_at(v, "quantiles", "quantiles are finite numbers");
        if (!out.empty() && *x < out.back())
            m->fail_at(v, "quantiles", "quantiles must not decrease");
        out.push_back(*x);
    }
    if (const toml::array* p = m->array("probabilities")) {
        if (p->size() != out.size()) m->fail("probabilities", "one probability per quantile");
        for (const auto& v : *p) {
            const auto x = v.value<double>();
            if (!x || !(*x >= 0 && *x <= 1))
                m->fail_at(v, "probabilities", "probabilities are numbers in [0, 1]");
            if (!probabilities.empty() && !(*x > probabilities.back()))
                m->fail_at(v, "probabilities", "probabilities must increase");
            probabilities.push_back(*x);
        }
        if (probabilities.front() != 0 || probabilities.back() != 1)
            m->fail("probabilities", "the first probability is 0 and the last 1");
    }
    m->reject_unknown_keys();
    return out;
}

/// A marginal ou's time scales: reversion = [r1, r2] with shares = [c1, c2] of the latent
/// variance (the rest is white).
void read_time_scales(toml_reader& r, signal_spec& s) {
    if (s.marginal.empty())
        r.fail("shares", "shares need a marginal: the latent AR(1)s are mapped through it");
    const toml::array* shares = r.array("shares");
    const toml::array* reversions = r.array("reversion");
    if (!shares || !reversions || shares->size() != reversions->size() || shares->empty() ||
        shares->size() > 2)
        r.fail("shares", "with shares, reversion is a list of the same length (one or two): "
                         "reversion = [0.01, 0.5], shares = [0.6, 0.3]");
    double total = 0;
    for (std::size_t i = 0; i < shares->size(); ++i) {
        const auto c = shares->get(i)->value<double>();
        const auto rev = reversions->get(i)->value<double>();
        if (!c || !(*c > 0) || *c > 1)
            r.fail_at(*shares->get(i), "shares", "each share is in (0, 1]");
        if (!rev || !(*rev > 0) || *rev >= 1)
            r.fail_at(*reversions->get(i), "reversion",
                      "each reversion is in (0, 1): white draws are the share left over");
        total += *c;
        s.shares.push_back(*c);
        s.reversions.push_back(*rev);
    }
    if (total > 1 + 1e-9) r.fail("shares", "the shares must not add up to more than 1");
}

signal_spec read_signal(toml_reader& r, bool part = false);

/// A sum: its parts, each a signal table of a summable kind.
void read_sum(toml_reader& r, signal_spec& s) {
    auto parts = r.tables("components");
    if (parts.empty())
        r.fail("components", "a sum needs components = [{ kind = \"seasonal\", ... }, { kind = "
                             "\"ou\", ... }]");
    for (auto& p : parts) s.parts.push_back(read_signal(p, true));
}

signal_spec read_signal(toml_reader& r, bool part) {
    signal_spec s;
    if (part)
        s.kind = r.kind("kind", signal_kinds, [](const auto& row) { return summable(row.kind); });
    else
        s.kind = r.kind("kind", signal_kinds, [](const auto&) { return true; });
    switch (s.kind) {
    case signal_kind::constant:
        s.level = r.spread("value", {0, 0});
        break;
    case signal_kind::seasonal: {
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
        break;
    }
    case signal_kind::sine:
    case signal_kind::square:
    case signal_kind::sawtooth:
        s.level = r.spread("mean", {0, 0});
        s.components.push_back(read_component(r, "phase"));
        if (s.kind == signal_kind::square) {
            s.duty = r.number("duty", 0.5);
            if (s.duty <= 0 || s.duty >= 1) r.fail("duty", "must be between 0 and 1 (exclusive)");
        }
        break;
    case signal_kind::random_walk:
        read_level_and_scale(r, "start", s.level, "step", s.step);
        s.min = r.optional_number("min");
        s.max = r.optional_number("max");
        if (s.min && s.max && *s.min >= *s.max) r.fail("max", "must be greater than min");
        if ((s.min && s.level.lo < *s.min) || (s.max && s.level.hi > *s.max))
            r.fail("start", "must lie within [min, max]");
        break;
    case signal_kind::ou:
        s.marginal = read_marginal(r, s.marginal_probabilities);
        if (!s.marginal.empty()) {
            for (const char* key : {"mean", "sigma"})
                if (r.has(key))
                    r.fail(key, "with a marginal the quantiles give the level and spread: no " +
                                    std::string(key));
        } else {
            read_level_and_scale(r, "mean", s.level, "sigma", s.step);
        }
        if (r.has("shares")) {
            read_time_scales(r, s);
        } else {
            s.reversion = r.number("reversion", 0.1);
            if (s.reversion <= 0 || s.reversion > 1) r.fail("reversion", "must be in (0, 1]");
        }
        break;
    case signal_kind::sum:
        read_sum(r, s);
        // A sum may map its total through a marginal: its parts then run in latent normal
        // units (a Gaussian copula of the whole signal, rhythm included).
        s.marginal = read_marginal(r, s.marginal_probabilities);
        break;
    case signal_kind::schedule:
        read_schedule_points(r, s);
        break;
    case signal_kind::states:
        read_states(r, s);
        break;
    case signal_kind::derived:
        read_derived(r, s);
        break;
    case signal_kind::counter:
        read_level_and_scale(r, "start", s.level, "rate", s.rate);
        s.rate_noise = r.number("rate_noise", 0);
        if (s.rate_noise < 0) r.fail("rate_noise", "must not be negative");
        break;
    }
    r.reject_unknown_keys();
    return s;
}

noise_spec read_noise(toml_reader& r) {
    noise_spec n;
    n.kind = r.kind("kind", noise_kinds, [](const auto&) { return true; });
    if (n.kind != noise_kind::none) {
        const std::string_view scale_key = first_key(noise_kinds[n.kind].keys);
        n.scale = r.spread(scale_key, {1, 1});
        require_non_negative(r, scale_key, n.scale);
    }
    if (n.kind == noise_kind::student_t) {
        n.df = r.number("df", 3);
        if (n.df <= 0) r.fail("df", "must be greater than 0");
    }
    if (n.kind != noise_kind::none) {
        n.relative = r.number("relative", 0);
        if (!(n.relative >= 0) || !std::isfinite(n.relative))
            r.fail("relative", "must be a number >= 0 (the scale grows by relative × |signal|)");
        if (const toml::array* hourly = r.array("hourly")) {
            if (hourly->size() != 24) r.fail("hourly", "one factor per UTC hour: 24 numbers");
            for (const auto& v : *hourly) {
                const auto x = v.value<double>();
                if (!x || !(*x >= 0) || !std::isfinite(*x))
                    r.fail_at(v, "hourly", "factors are finite numbers >= 0");
                n.hourly.push_back(*x);
            }
        }
    }
    r.reject_unknown_keys();
    return n;
}

drift_spec read_drift(toml_reader& r) {
    drift_spec d;
    d.kind = r.kind("kind", drift_kinds, [](const auto&) { return true; });
    switch (d.kind) {
    case drift_kind::none:
        break;
    case drift_kind::linear:
        d.amount = r.spread("per_day", {0, 0});
        break;
    case drift_kind::exponential:
        d.amount = r.spread("scale", {1, 1});
        d.tau = positive_duration(r, "tau", 30 * ms_per_day);
        break;
    case drift_kind::random_walk:
        d.amount = r.spread("step", {0, 0});
        require_non_negative(r, "step", d.amount);
        break;
    }
    r.reject_unknown_keys();
    return d;
}

/// A field has two slots of sequential state (field_state::signal and ::drift, so state stays
/// 24 bytes a field): the signal or each sequential part of a sum claims one, in order, and a
/// random-walk drift the second.
void assign_state_slots(toml_reader& r, field_spec& f) {
    int next = 0;
    auto claim = [&](signal_spec& s) {
        if (!sequential(s.kind)) return;
        const int slots = s.reversions.empty() ? 1 : static_cast<int>(s.reversions.size());
        if (next + slots > 2)
            r.fail("signal", "a field holds at most two ou or random_walk parts (an ou with two "
                             "reversions counts as two)");
        s.state_slot = next;
        next += slots;
    };
    if (f.signal.kind == signal_kind::sum)
        for (auto& p : f.signal.parts) claim(p);
    else
        claim(f.signal);
    if (f.signal.kind == signal_kind::states) next = 2; // the dwell's end is in the second
    if (f.drift.kind == drift_kind::random_walk && next == 2)
        r.fail("drift", "a random_walk drift needs a state slot, and the signal's two ou or "
                        "random_walk parts take both: drop one, or write the drift as a "
                        "random_walk part of the sum");
}

int decimals_for(double resolution) {
    for (int p = 0; p <= 9; ++p) {
        const double scaled = resolution * std::pow(10.0, p);
        if (std::abs(scaled - std::round(scaled)) < 1e-9 * std::max(1.0, scaled)) return p;
    }
    return 9;
}

} // namespace

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
    assign_state_slots(r, f);
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

} // namespace synthfeed::profile_sections
