#include "src/telemetry/thresholds.hpp"

#include <charconv>
#include <cmath>
#include <regex>

#include <fmt/format.h>

#include "src/core/errors.hpp"

namespace synthfeed {

// Names follow k6 (p(99) is written p99) and kafka-producer-perf-test's figures.
const std::array<threshold_metric_row, 15> threshold_metrics{{
    {"p50", threshold_unit::time, true, false,
     [](const threshold_inputs& i) { return i.latency.p50; },
     "median delivery latency of the data sink (send to acknowledgement)"},
    {"p95", threshold_unit::time, true, false,
     [](const threshold_inputs& i) { return i.latency.p95; }, "95th percentile delivery latency"},
    {"p99", threshold_unit::time, true, false,
     [](const threshold_inputs& i) { return i.latency.p99; }, "99th percentile delivery latency"},
    {"p99.9", threshold_unit::time, true, false,
     [](const threshold_inputs& i) { return i.latency.p999; },
     "99.9th percentile delivery latency"},
    {"latency_max", threshold_unit::time, true, false,
     [](const threshold_inputs& i) { return i.latency.max; }, "slowest delivery"},
    {"delivered_ratio", threshold_unit::ratio, false, true,
     [](const threshold_inputs& i) {
         return i.generated ? static_cast<double>(i.delivered) / static_cast<double>(i.generated)
                            : 1.0;
     },
     "delivered / generated (1 when nothing was generated)"},
    {"failed", threshold_unit::count, true, true,
     [](const threshold_inputs& i) { return static_cast<double>(i.failed); },
     "messages not delivered"},
    {"in_doubt", threshold_unit::count, true, true,
     [](const threshold_inputs& i) { return static_cast<double>(i.in_doubt); },
     "messages possibly stored, never acknowledged"},
    {"dropped", threshold_unit::count, true, false,
     [](const threshold_inputs& i) { return static_cast<double>(i.dropped); },
     "messages dropped by an explicit policy"},
    {"messages", threshold_unit::count, false, false,
     [](const threshold_inputs& i) { return static_cast<double>(i.generated); },
     "messages generated"},
    {"lag_max", threshold_unit::time, true, false,
     [](const threshold_inputs& i) { return i.lag_max; },
     "worst lag of the oldest unsent message behind its schedule"},
    {"lag", threshold_unit::time, false, false,
     [](const threshold_inputs& i) { return i.lag_at_end; }, "lag when the run stopped"},
    {"shortfall", threshold_unit::count, false, false,
     [](const threshold_inputs& i) { return static_cast<double>(i.shortfall); },
     "messages the schedule wanted and did not get"},
    {"rate", threshold_unit::rate, false, false, [](const threshold_inputs& i) { return i.rate; },
     "achieved msg/s while sending; FACTOR*target compares with the schedule's mean"},
    {"mb_rate", threshold_unit::mb_rate, false, false,
     [](const threshold_inputs& i) { return i.mb_rate; }, "payload MB/s delivered"},
}};

namespace {

[[noreturn]] void bad(std::string_view text, const std::string& why) {
    throw config_error({"--threshold", 0, 0}, std::string(text), why);
}

std::string metric_names() {
    std::string names;
    for (const auto& m : threshold_metrics)
        names += (names.empty() ? "" : ", ") + std::string(m.name);
    return names;
}

double number(std::string_view text, std::string_view whole) {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v))
        bad(whole, "\"" + std::string(text) + "\" is not a number");
    return v;
}

/// VALUE in the metric's unit.
void read_value(threshold& t, std::string_view v, std::string_view whole) {
    switch (t.metric->unit) {
    case threshold_unit::time: {
        static constexpr std::array<std::pair<std::string_view, double>, 4> units{
            {{"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}}};
        for (const auto& [suffix, scale] : units) {
            // "ms" before "s": the longest suffix that fits and leaves a number.
            if (v.size() > suffix.size() && v.ends_with(suffix) &&
                (std::isdigit(static_cast<unsigned char>(v[v.size() - suffix.size() - 1])) ||
                 v[v.size() - suffix.size() - 1] == '.')) {
                t.value = number(v.substr(0, v.size() - suffix.size()), whole) * scale;
                return;
            }
        }
        bad(whole, std::string(t.metric->name) + " is a time: give a unit (200ms, 2s, 500us)");
    }
    case threshold_unit::ratio:
        t.value =
            v.ends_with('%') ? number(v.substr(0, v.size() - 1), whole) / 100 : number(v, whole);
        return;
    case threshold_unit::rate:
        if (v.ends_with("*target")) {
            t.relative_to_target = true;
            t.value = number(v.substr(0, v.size() - 7), whole);
            return;
        }
        t.value = number(v, whole);
        return;
    case threshold_unit::count:
    case threshold_unit::mb_rate:
        t.value = number(v, whole);
        return;
    }
}

std::string shown(const threshold_metric_row& m, double v) {
    switch (m.unit) {
    case threshold_unit::time:
        return v < 1e-3 ? fmt::format("{:.0f}us", v * 1e6)
               : v < 1  ? fmt::format("{:.3g}ms", v * 1e3)
                        : fmt::format("{:.3g}s", v);
    case threshold_unit::ratio:
        return fmt::format("{:.6g}", v);
    case threshold_unit::count:
        return fmt::format("{:.0f}", v);
    case threshold_unit::rate:
        return fmt::format("{:.6g}/s", v);
    case threshold_unit::mb_rate:
        return fmt::format("{:.3g} MB/s", v);
    }
    return {};
}

} // namespace

std::optional<threshold_parts> split_threshold(std::string_view text) {
    // METRIC OP VALUE [, OPTION]; spaces around the parts are allowed.
    static const std::regex form(
        R"(^\s*([a-z0-9_.]+)\s*(<=|>=|==|!=|<|>)\s*([^,\s]+)\s*(,\s*([a-z_]+)\s*)?$)");
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_match(text.begin(), text.end(), m, form)) return std::nullopt;
    static constexpr std::array<std::pair<std::string_view, threshold_op>, 6> ops{
        {{"<=", threshold_op::less_equal},
         {">=", threshold_op::greater_equal},
         {"==", threshold_op::equal},
         {"!=", threshold_op::not_equal},
         {"<", threshold_op::less},
         {">", threshold_op::greater}}};
    threshold_parts parts;
    parts.metric = m[1].str();
    for (const auto& [symbol, op] : ops)
        if (m[2].str() == symbol) parts.op = op;
    parts.value = m[3].str();
    if (m[5].matched) parts.option = m[5].str();
    return parts;
}

bool threshold_holds(threshold_op op, double value, double bound) noexcept {
    switch (op) {
    case threshold_op::less:
        return value < bound;
    case threshold_op::less_equal:
        return value <= bound;
    case threshold_op::greater:
        return value > bound;
    case threshold_op::greater_equal:
        return value >= bound;
    case threshold_op::equal:
        return value == bound;
    case threshold_op::not_equal:
        return value != bound;
    }
    return false;
}

threshold parse_threshold(std::string_view text) {
    const auto parts = split_threshold(text);
    if (!parts)
        bad(text, "expected METRIC OP VALUE, e.g. 'p99<200ms', 'delivered_ratio>=0.999', "
                  "'rate>=0.98*target' (metrics: " +
                      metric_names() + ")");
    threshold t;
    t.expression = std::string(text);
    const std::string& name = parts->metric;
    for (const auto& row : threshold_metrics)
        if (row.name == name) t.metric = &row;
    if (!t.metric) {
        std::vector<std::string_view> names;
        for (const auto& row : threshold_metrics) names.push_back(row.name);
        const std::string hint = closest_match(name, names);
        bad(text, "unknown metric \"" + name + "\"" +
                      (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)") +
                      "; metrics: " + metric_names());
    }
    t.op = parts->op;
    read_value(t, parts->value, text);
    if (!parts->option.empty()) {
        if (parts->option != "abort_on_fail")
            bad(text, "unknown option \"" + parts->option + "\" (the one option is abort_on_fail)");
        if (!t.metric->live)
            bad(text, std::string(t.metric->name) +
                          " is only known at the end of the run: abort_on_fail cannot watch it");
        t.abort_on_fail = true;
    }
    return t;
}

threshold_verdict evaluate(const threshold& t, const threshold_inputs& in) {
    const double value = t.metric->read(in);
    const double bound = t.relative_to_target ? t.value * in.target : t.value;
    const bool passed = threshold_holds(t.op, value, bound);
    std::string text = shown(*t.metric, value);
    if (t.relative_to_target) text += fmt::format(" (target {})", shown(*t.metric, in.target));
    return {t.expression, value, text, passed};
}

threshold_inputs inputs_of(const run_summary& s) {
    threshold_inputs in;
    in.latency = s.data_latency();
    in.generated = s.generated;
    in.delivered = s.delivered;
    in.failed = s.failed;
    in.dropped = s.dropped;
    in.in_doubt = s.in_doubt;
    in.shortfall = s.shortfall;
    in.lag_max = s.max_lag_seconds;
    in.lag_at_end = s.lag_at_end_seconds;
    in.rate = s.sending_seconds > 0 ? static_cast<double>(s.generated) / s.sending_seconds : 0;
    in.target = s.target_rate;
    in.mb_rate = s.megabytes_per_second();
    return in;
}

} // namespace synthfeed
