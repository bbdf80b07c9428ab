#include "src/cli/cli.hpp"

#include <atomic>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "connectors/connector_registry.hpp"
#include "devices/group_model.hpp"
#include "src/analysis/fidelity_report.hpp"
#include "src/cli/completion.hpp"
#include "src/cli/fit_command.hpp"
#include "src/cli/preview_command.hpp"
#include "src/cli/run_report.hpp"
#include "src/cli/score_command.hpp"
#include "src/config/env_interpolation.hpp"
#include "src/config/profile_loader.hpp"
#include "src/core/errors.hpp"
#include "src/engine/engine.hpp"
#include "src/engine/load_schedule.hpp"
#include "src/layouts/layout_sink.hpp"
#include "src/telemetry/control_api.hpp"
#include "src/telemetry/http_server.hpp"
#include "src/telemetry/metrics.hpp"
#include "src/verify/stream_checker.hpp"

#include <nlohmann/json.hpp>

namespace synthfeed {
namespace {

std::atomic<bool> stop_requested{false};
std::atomic<int> signals_seen{0};
/// The run's "draining" flag, so /readyz turns 503 the moment a signal arrives (a lock-free
/// atomic store is async-signal-safe).
std::atomic<std::atomic<bool>*> draining_flag{nullptr};

extern "C" void on_signal(int) {
    if (signals_seen.fetch_add(1) > 0) _exit(exit_runtime_failure); // second signal: at once
    stop_requested.store(true);
    if (std::atomic<bool>* draining = draining_flag.load()) draining->store(true);
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN); // a closed stdout is a write error we count, not a crash
}

/// Formats log records as JSON lines: {"ts":…,"level":…,"msg":…}.
class json_log_formatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch())
                .count();
        const nlohmann::json line{
            {"ts", format_timestamp(ms)},
            {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                  spdlog::level::to_string_view(msg.level).size())},
            {"msg", std::string(msg.payload.data(), msg.payload.size())}};
        const std::string text = line.dump() + "\n";
        dest.append(text.data(), text.data() + text.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<json_log_formatter>();
    }
};

/// Flag values as typed; converted and checked after parsing so errors name the flag.
struct run_flags {
    std::string profile;
    std::string sink = "stdout:";
    std::string labels, episodes;
    std::string labels_format = "jsonl";
    std::string format = "json";
    std::string count; ///< parsed by flag_integer: CLI11 would wrap "-1" to 2^64-1
    std::string duration;
    std::string start;
    std::string speed; ///< empty: max for bounded runs (--count/--duration), else 1x (live)
    std::string seed;
    unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 64u);
    std::string shard = "0/1";
    bool label_in_payload = false;
    std::string progress = "5s";
    std::string summary_json;
    std::string grace = "20s";
    bool label_headers = false;
    std::vector<std::string> properties;     ///< -X name=value
    std::optional<double> rate;              ///< --rate: constant target msg/s
    std::vector<std::string> stages;         ///< --stage DUR:RATE, k6's stages in order
    std::vector<std::string> devices;        ///< --devices N (the fleet) or GROUP=N
    std::string pad_to;                      ///< --pad-to BYTES: payload padding
    std::string run_for;                     ///< --run-for: wall-clock limit
    std::string http;                        ///< --http: HOST:PORT of metrics, health, control
    std::vector<std::string> thresholds;     ///< --threshold 'p99<200ms' (repeatable)
    bool no_anomalies = false;               ///< --no-anomalies: the clean twin
    std::vector<std::string> remove_classes; ///< --remove-class CLASS (repeatable)
    std::vector<std::string> command_line;   ///< argv with secrets masked, for the summary
};

/// The options of the profile's connector tables, each with its file:line:col.
connector_context profile_settings(const profile& p) {
    connector_context ctx;
    for (const auto& table : p.connectors)
        for (const auto& k : table.properties)
            ctx.settings[table.scheme].push_back(
                {k.name, k.value, {p.path, k.line, k.column}, table.scheme});
    return ctx;
}

/// Connector options in rising precedence: the profile's connector tables, env, then the
/// pass-through flag `-X`; each sink's URI query comes last, at open.
connector_context connector_settings(const profile& p, const std::vector<std::string>& x) {
    connector_context ctx = profile_settings(p);
    add_environment_settings(ctx);
    add_flag_settings(ctx, "-X", x);
    return ctx;
}

/// The same settings for the stream named by `origin` ("--labels").
connector_context for_stream(connector_context ctx, std::string origin) {
    ctx.origin = std::move(origin);
    return ctx;
}

sim_duration flag_duration(const std::string& flag, const std::string& value) {
    auto d = parse_duration(value);
    if (!d)
        throw config_error({flag, 0, 0}, "",
                           "invalid duration \"" + value + "\" (e.g. 30s, 1h, 7d)");
    return *d;
}

double parse_speed(const std::string& value) {
    if (value == "max") return 0;
    std::string number = value;
    if (!number.empty() && (number.back() == 'x' || number.back() == 'X')) number.pop_back();
    char* end = nullptr;
    const double v = std::strtod(number.c_str(), &end);
    // Below a millionth a live run would wait ~12 days per simulated second; beyond 10^9
    // "max" says it better (the pacer's gaps would round to nothing).
    if (number.empty() || end != number.c_str() + number.size() || !(v >= 1e-6 && v <= 1e9))
        throw config_error({"--speed", 0, 0}, "",
                           "expected max, or a factor from 0.000001x to 1000000000x (1x, 100x, "
                           "0.5x), got \"" +
                               value.substr(0, 40) + "\"");
    return v;
}

std::pair<std::uint32_t, std::uint32_t> parse_shard(const std::string& value) {
    unsigned index = 0, count = 0;
    char extra = 0;
    if (std::sscanf(value.c_str(), "%u/%u%c", &index, &count, &extra) != 2 || count == 0 ||
        index >= count)
        throw config_error({"--shard", 0, 0}, "",
                           "expected I/N with 0 <= I < N, got \"" + value + "\"");
    return {index, count};
}

/// A flag's value as an error message quotes it: at most 40 bytes, a longer one marked "…".
std::string shown_input(const std::string& text) {
    return text.substr(0, 40) + (text.size() > 40 ? "…" : "");
}

/// A kind of `table` named by `flag` (or its env twin); exit 2 naming the kinds otherwise.
template <class Row, std::size_t N>
decltype(Row::kind) flag_kind(const char* flag, const vocabulary<Row, N>& table,
                              const std::string& text) {
    if (const Row* row = table.find(text)) return row->kind;
    throw config_error({flag, 0, 0}, "",
                       "expected one of " + names_of(table) + ", got \"" + shown_input(text) +
                           "\"");
}

/// A whole number in [min, max] given to `flag` (or its env twin); exit 2 otherwise.
std::int64_t flag_integer(const char* flag, const std::string& text, std::int64_t min,
                          std::int64_t max) {
    std::int64_t v = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc{} || ptr != end || v < min || v > max)
        throw config_error({flag, 0, 0}, "",
                           "expected a whole number from " + std::to_string(min) + " to " +
                               std::to_string(max) + ", got \"" + shown_input(text) + "\"");
    return v;
}

/// The stages of --stage, checked as a profile's `stages` are.
load_spec flag_stages(const std::vector<std::string>& values) {
    load_spec l;
    l.shape = load_shape::stages;
    for (const auto& value : values) {
        const auto stage = parse_stage(value);
        if (!stage)
            throw config_error({"--stage", 0, 0}, "",
                               "expected DUR:RATE, a duration and the target messages per second "
                               "at its end (30s:1000; 0s:500 jumps), got \"" +
                                   shown_input(value) + "\"");
        l.stages.push_back(*stage);
    }
    if (const auto problem = find_stage_problem(l.stages))
        throw config_error({"--stage", 0, 0}, "",
                           problem->index < values.size()
                               ? "\"" + shown_input(values[problem->index]) +
                                     "\": " + problem->message
                               : problem->message);
    return l;
}

/// The load the flags ask for (--stage, --rate, which exclude each other), else the profile's.
load_spec flag_load(std::optional<double> rate, const std::vector<std::string>& stages,
                    const load_spec& profile_load) {
    if (!stages.empty()) return flag_stages(stages);
    if (!rate) return profile_load;
    if (!(*rate > 0) || !(*rate <= max_target_rate))
        throw config_error({"--rate", 0, 0}, "",
                           fmt::format("must be greater than 0 and at most {:g} messages "
                                       "per second",
                                       max_target_rate));
    load_spec l;
    l.shape = load_shape::constant;
    l.rate = *rate;
    return l;
}

/// --pad-to's bound: the engine holds about two windows of 65536 messages at once (2 GiB of
/// padding at 16 KiB) and addresses a window's payloads in 32 bits.
constexpr std::int64_t max_pad_to = 16384;

/// --start (run and preview): an RFC 3339 time or now; when not given, the profile's start,
/// else now.
sim_time flag_start(const std::string& start, const profile& p) {
    if (!start.empty() && start != "now") {
        auto t = parse_timestamp(start);
        if (!t)
            throw config_error({"--start", 0, 0}, "",
                               "expected an RFC 3339 time or now, got \"" + start + "\"");
        if (*t < 0 || *t >= max_event_time)
            throw config_error({"--start", 0, 0}, "",
                               "must be between 1970-01-01T00:00:00Z and " +
                                   format_timestamp(max_event_time));
        return *t;
    }
    if (p.start && start.empty()) return *p.start;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

run_options build_options(const run_flags& f, const profile& p) {
    run_options o;
    o.start = flag_start(f.start, p);
    if (!f.duration.empty()) {
        o.duration = flag_duration("--duration", f.duration);
        if (*o.duration == 0) throw config_error({"--duration", 0, 0}, "", "must be longer than 0");
    }
    if (!f.count.empty())
        o.count = static_cast<std::uint64_t>(flag_integer("--count", f.count, 1, INT64_MAX));
    const std::string speed = !f.speed.empty()                   ? f.speed
                              : (o.count || !f.duration.empty()) ? "max"
                                                                 : "1x";
    o.speed = parse_speed(speed);
    if (f.threads == 0 || f.threads > 256)
        throw config_error({"--threads", 0, 0}, "", "must be between 1 and 256");
    o.threads = f.threads;
    std::tie(o.shard_index, o.shard_count) = parse_shard(f.shard);
    o.format = flag_kind("--format", payload_formats, f.format);
    o.labels = flag_kind("--labels-format", label_formats, f.labels_format);
    o.load = flag_load(f.rate, f.stages, p.load);
    if (!f.run_for.empty()) {
        const sim_duration d = flag_duration("--run-for", f.run_for);
        if (d <= 0) throw config_error({"--run-for", 0, 0}, "", "must be longer than 0");
        o.wall_limit = std::chrono::milliseconds(d);
    }
    o.label_in_payload = f.label_in_payload;
    o.label_headers = f.label_headers;
    o.progress_every = f.progress == "off"
                           ? std::chrono::milliseconds(0)
                           : std::chrono::milliseconds(flag_duration("--progress", f.progress));
    o.grace = std::chrono::milliseconds(flag_duration("--grace", f.grace));
    return o;
}

/// Every device's topic, once expanded, is one the broker accepts: checked before anything
/// connects, on the first and last id of each group (they hold every character any id can).
void check_addresses(const profile& p, const std::string& uri, const connector_context& ctx) {
    const address_check problem_of = sink_address_check(uri, ctx);
    if (!problem_of) return;
    for (const auto& g : p.groups)
        for (std::uint64_t index : {std::uint64_t{0}, g.count - 1}) {
            const std::string id = format_device_id(g.id_template, g.name, index);
            if (const std::string problem = problem_of(g.name, id); !problem.empty())
                throw config_error({ctx.origin, 0, 0}, shown_sink_uri(uri),
                                   "device \"" + id + "\" of group \"" + g.name + "\": " + problem);
        }
}

/// The URI form of every sink this binary has, for --help ("null:, stdout:, file:PATH, …").
std::string sink_forms() {
    std::string forms;
    for (const auto& k : connector_kinds())
        forms.append(forms.empty() ? "" : ", ").append(k.synopsis);
    return forms;
}

/// The group counts --devices asks for: N, the fleet shared by the groups in proportion, and
/// GROUP=N, one group's count (each given at most once).
group_counts flag_devices(const profile& p, const std::vector<std::string>& values) {
    auto fail = [](const std::string& message) {
        throw config_error({"--devices", 0, 0}, "", message);
    };
    std::optional<std::uint64_t> total;
    group_counts named;
    for (const auto& value : values) {
        // A group name may hold '=', a count never does.
        const auto equals = value.rfind('=');
        const std::string_view number =
            std::string_view(value).substr(equals == std::string::npos ? 0 : equals + 1);
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
        if (number.empty() || ec != std::errc{} || end != number.data() + number.size() ||
            equals == 0)
            fail("expected N (the fleet's devices, shared by its groups in proportion) or GROUP=N "
                 "(one group's), got \"" +
                 shown_input(value) + "\"");
        if (equals == std::string::npos) {
            if (total) fail(fmt::format("the fleet's size is given twice ({} and {})", *total, n));
            total = n;
        } else if (!named.emplace(value.substr(0, equals), n).second) {
            fail("group \"" + shown_input(value.substr(0, equals)) + "\" is given twice");
        }
    }
    return scaled_counts(p, total, named, "--devices");
}

/// A profile with the connectors' tables ([kafka], [mqtt]) read as theirs, its groups resized
/// by --devices: read again with the new counts, so every check on a count holds for them.
profile read_profile(const std::string& path, const std::vector<std::string>& devices = {}) {
    const std::vector<std::string_view> tables = connector_table_names();
    profile p = load_profile(path, tables);
    if (devices.empty()) return p;
    const group_counts counts = flag_devices(p, devices);
    try {
        return load_profile(path, tables, process_env, counts);
    } catch (const config_error& e) { // a window naming a device past the new count, say
        std::vector<std::string> fleet;
        for (const auto& [name, count] : counts) fleet.push_back(fmt::format("{} {}", name, count));
        throw config_error(
            {"--devices", 0, 0}, "",
            fmt::format("the profile does not hold with {}: {}", joined(fleet), e.what()));
    }
}

/// A target rate sends messages by count: above the fleet's nominal rate each device sends
/// faster than its interval, so at 1x (a live run) event time runs ahead of the wall clock.
/// Says so at the start, with the fleet size that would keep timestamps real.
void warn_if_ahead_of_clock(const profile& p, const run_options& o) {
    // This process generates its shard's share of the fleet.
    const double nominal = p.nominal_rate() / o.shard_count,
                 peak = load_schedule(o.load).peak_rate();
    if (o.speed != 1 || !(nominal > 0) || !(peak > nominal)) return;
    const double devices = std::ceil(static_cast<double>(p.device_count()) * peak / nominal);
    spdlog::warn("target {} msg/s{} is {:.3g}x the fleet's nominal {} msg/s at 1x: event time "
                 "will run ahead of the wall clock; {}",
                 rate_text(peak), o.load.shape == load_shape::constant ? "" : " at its peak",
                 peak / nominal, rate_text(nominal),
                 devices <= static_cast<double>(max_devices_per_profile)
                     ? fmt::format("use --devices {:.0f} to keep timestamps real", devices)
                     : fmt::format("keeping timestamps real would take {:.3g} devices, more "
                                   "than a profile holds",
                                   devices));
}

/// Marks the episode classes `--no-anomalies` and `--remove-class` name removed in `p` (the
/// clean twin); returns their names, in class order.
std::vector<std::string> remove_classes(const run_flags& f, profile& p) {
    class_selection classes = flag_classes("--remove-class", f.remove_classes);
    if (f.no_anomalies)
        for (std::size_t c = 0; c < classes.size(); ++c) classes[c] |= labelled_classes[c];
    remove_episode_classes(p, classes);
    std::vector<std::string> names;
    for (std::size_t c = 0; c < classes.size(); ++c)
        if (classes[c]) names.emplace_back(anomaly_class_names[c]);
    return names;
}

int command_run(const run_flags& f) {
    profile p = read_profile(f.profile, f.devices);
    // The profile's connector tables are checked whatever the sinks, as validate does: a
    // typo in [mqtt] fails the same way in both commands.
    check_connector_settings(profile_settings(p));
    if (!f.seed.empty())
        p.seed = static_cast<std::uint64_t>(flag_integer("--seed", f.seed, 0, INT64_MAX));
    if (!f.pad_to.empty())
        p.pad_to = static_cast<std::size_t>(flag_integer("--pad-to", f.pad_to, 1, max_pad_to));
    const std::vector<std::string> removed = remove_classes(f, p);
    const run_options o = build_options(f, p);
    std::vector<threshold> thresholds;
    for (const auto& t : f.thresholds) thresholds.push_back(parse_threshold(t));
    check_thresholds_fit(thresholds, o);
    const device_directory ids(p);

    const connector_context ctx = connector_settings(p, f.properties);
    // A benchmark layout (--labels-format timeeval|nab) is a directory, not a sink URI.
    const bool label_sink = !f.labels.empty() && !writes_layout(o.labels);
    check_addresses(p, f.sink, for_stream(ctx, "--sink"));
    if (label_sink) check_addresses(p, f.labels, for_stream(ctx, "--labels"));
    if (!f.episodes.empty()) check_addresses(p, f.episodes, for_stream(ctx, "--episodes"));
    auto data = open_connector(f.sink, for_stream(ctx, "--sink"));
    std::unique_ptr<connector> labels, episodes;
    if (label_sink)
        labels = open_connector(f.labels, for_stream(ctx, "--labels"));
    else if (!f.labels.empty())
        labels = open_label_layout(f.labels, o.labels, p,
                                   {o.count, o.duration, o.shard_index, o.shard_count});
    if (!f.episodes.empty()) episodes = open_connector(f.episodes, for_stream(ctx, "--episodes"));
    if (!f.summary_json.empty()) {
        std::ofstream probe(f.summary_json, std::ios::app);
        if (!probe)
            throw config_error({"--summary-json", 0, 0}, f.summary_json, "cannot open for writing");
    }

    spdlog::info("running {} ({} devices, {:.0f} msg/s nominal) seed {} from {} speed {} threads "
                 "{} shard {}",
                 p.name, p.device_count(), p.nominal_rate(), p.seed, format_timestamp(o.start),
                 o.speed > 0 ? fmt::format("{}x", o.speed) : "max", o.threads, f.shard);
    spdlog::info("fleet: {}; load: {}", fleet_text(p), load_text(o.load));
    if (!removed.empty())
        spdlog::info("clean twin: {} episodes removed (scheduled, so every other message is the "
                     "labelled run's, but none acts or is labelled)",
                     fmt::join(removed, ", "));
    warn_if_ahead_of_clock(p, o);
    install_signal_handlers();
    run_stats stats;
    run_control control;
    draining_flag.store(&control.draining);
    run_metrics metrics(
        p, stats, control,
        {{"data", data.get()}, {"labels", labels.get()}, {"episodes", episodes.get()}});
    std::unique_ptr<http_server> http;
    if (!f.http.empty()) {
        const auto token = process_env("SYNTHFEED_CONTROL_TOKEN");
        const bool control_api = token && !token->empty();
        http = std::make_unique<http_server>(
            f.http, make_http_handler({metrics,
                                       control,
                                       stats,
                                       {data.get(), labels.get(), episodes.get()},
                                       control_api ? token : std::nullopt,
                                       p,
                                       ids}));
        spdlog::info("http: /metrics, /livez, /readyz{} on {} (port {})",
                     control_api ? " and the control API" : "", f.http, http->port());
    }
    run_context context{version_with_build(),
                        f.command_line,
                        f.profile,
                        sha256_of_file(f.profile),
                        format_timestamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count()),
                        o.load.shape != load_shape::none ? load_text(o.load)
                        : o.speed > 0 ? fmt::format("profile cadence at {}x", o.speed)
                                      : std::string("profile cadence, as fast as possible"),
                        fleet_text(p),
                        removed};
    std::string crossed;
    run_summary s = [&] {
        const threshold_watch watch(thresholds, *data, stats, stop_requested);
        run_summary result = run_engine(p, ids, o, {data.get(), labels.get(), episodes.get()},
                                        stats, stop_requested, &control);
        crossed = watch.crossed();
        return result;
    }();
    draining_flag.store(nullptr);
    s.context = std::move(context);
    for (sink_summary& k : s.sinks)
        k.uri = shown_sink_uri(k.stream == "data"     ? f.sink
                               : k.stream == "labels" ? f.labels
                                                      : f.episodes);
    if (!crossed.empty())
        s.events.push_back(
            {s.elapsed_seconds, "stopped: threshold " + crossed + " crossed", false});
    judge(s, thresholds);
    std::fputs(summary_text(s).c_str(), stderr);
    if (!f.summary_json.empty()) {
        std::ofstream out(f.summary_json, std::ios::trunc);
        out << summary_json(s);
        if (!out) {
            spdlog::error("cannot write {}", f.summary_json);
            return exit_runtime_failure;
        }
    }
    return s.exit_code();
}

struct verify_flags {
    std::string source;
    std::string labels;
    std::string json;
    std::string timeout = "60s";
    bool strict_order = false;
    std::vector<std::string> properties;
};

/// Feeds every record of a file (one per line) or Kafka topic to `visit`.
void read_source(const std::string& text, const std::string& origin, const verify_flags& f,
                 const record_visitor& visit) {
    read_stream(text, for_stream(connector_settings(profile{}, f.properties), origin),
                std::chrono::milliseconds(flag_duration("--timeout", f.timeout)), visit);
}

int command_verify(const verify_flags& f) {
    stream_checker checker;
    read_source(f.source, "source", f, [&](std::string_view payload, int stream) {
        checker.add_message(payload, stream);
    });
    if (!f.labels.empty())
        read_source(f.labels, "--labels", f,
                    [&](std::string_view line, int) { checker.add_label(line); });
    const verify_report r = checker.report();
    std::fputs(r.text(f.strict_order).c_str(), stdout);
    if (!f.json.empty()) {
        std::ofstream out(f.json, std::ios::trunc);
        out << r.json(f.strict_order);
    }
    return r.ok(f.strict_order) ? exit_ok : exit_runtime_failure;
}

/// `validate`'s flags: the profiles, the sinks to check topics for, and the fleet and load
/// flags of `run` that change what is checked and shown.
struct validate_flags {
    std::vector<std::string> paths;
    std::vector<std::string> sinks;
    std::vector<std::string> devices, stages;
    std::optional<double> rate;
};

int command_validate(const validate_flags& f) {
    int status = exit_ok;
    for (const auto& path : f.paths) {
        try {
            const profile p = read_profile(path, f.devices);
            const load_spec load = flag_load(f.rate, f.stages, p.load);
            const device_directory ids(p);
            check_connector_settings(profile_settings(p));
            for (const auto& uri : f.sinks) check_addresses(p, uri, connector_settings(p, {}));
            std::size_t anomalies = 0;
            for (const auto& g : p.groups) anomalies += g.anomalies.size();
            fmt::print(
                "ok: {}: \"{}\", {} groups, {} devices, {:.0f} msg/s nominal, {} episode specs\n",
                path, p.name, p.groups.size(), p.device_count(), p.nominal_rate(), anomalies);
            fmt::print("  fleet: {}\n  load: {}\n", fleet_text(p), load_text(load));
        } catch (const config_error& e) {
            fmt::print(stderr, "synthfeed: error: {}\n", e.what());
            status = exit_usage;
        }
    }
    return status;
}

/// One section of `synthfeed list`: each kind of a vocabulary with its keys and summary.
template <class Row, std::size_t N, class Keep>
void print_kinds(std::string_view title, const vocabulary<Row, N>& table, Keep keep) {
    fmt::print("{}:\n", title);
    for (const Row& row : table) {
        if (!keep(row)) continue;
        fmt::print("  {:<22} {}\n", row.name, row.summary);
        if (!row.keys.empty()) fmt::print("  {:<22} keys: {}\n", "", row.keys);
    }
}
template <class Row, std::size_t N>
void print_kinds(std::string_view title, const vocabulary<Row, N>& table) {
    print_kinds(title, table, [](const Row& row) { return row.name != "none"; });
}

void command_list() {
    fmt::print("{}", describe_connectors());
    print_kinds("payload formats (--format)", payload_formats);
    print_kinds("label formats (--labels-format)", label_formats);
    print_kinds("signals (signal.kind)", signal_kinds);
    print_kinds("noise (noise.kind)", noise_kinds);
    print_kinds("drift (drift.kind)", drift_kinds);
    for (const char* table : {"anomaly", "fault", "fraud", "drift", "regime"})
        print_kinds(fmt::format("[[group.{}]] kinds", table), anomaly_kinds, written_in(table));
    print_kinds("load shapes ([load] shape)", load_shapes);
    fmt::print("threshold metrics (--threshold METRIC OP VALUE[,abort_on_fail]):\n");
    for (const auto& m : threshold_metrics)
        fmt::print("  {:<22} {}{}\n", m.name, m.summary,
                   m.live ? "; abort_on_fail can watch it" : "");
}

std::string version_text() {
    return "synthfeed " + version_with_build();
}

/// --stage and --devices, which `run` and `validate` share (each repeatable; --stage also
/// takes a comma-separated list, as k6's does).
void add_fleet_and_load_options(CLI::App& command, std::vector<std::string>& stages,
                                std::vector<std::string>& devices) {
    command
        .add_option(
            "--stage", stages,
            "DUR:RATE, a k6 stage: the target rate moves linearly from the previous stage's "
            "(0 at first) to RATE over DUR; the last holds (repeatable, replaces [load])")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->delimiter(',')
        ->excludes("--rate")
        ->envname("SYNTHFEED_STAGE");
    command
        .add_option("--devices", devices,
                    "N: scale every group's count in proportion to N devices in all; GROUP=N: "
                    "that group's count (repeatable)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->envname("SYNTHFEED_DEVICES");
}

} // namespace

int run_cli(int argc, char** argv) {
    auto logger = spdlog::stderr_logger_mt("synthfeed");
    // SYNTHFEED_LOG_FORMAT=json: one JSON object a line, for log shippers. The message is
    // escaped by nlohmann::json in the formatter below, never pasted raw.
    if (process_env("SYNTHFEED_LOG_FORMAT").value_or("text") == "json")
        logger->set_formatter(std::make_unique<json_log_formatter>());
    else
        // RFC 3339 in UTC to the millisecond, as the JSON logs' ts and the summary's times.
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$: %v", spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(logger);

    CLI::App app{
        "synthfeed: labelled IoT sensor and event streams for load tests and detector training",
        "synthfeed"};
    app.require_subcommand(0, 1);
    app.set_version_flag("--version", version_text());
    std::string log_level = "info";
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
        ->envname("SYNTHFEED_LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

    run_flags f;
    CLI::App* run = app.add_subcommand("run", "generate a stream from a profile");
    run->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast); // last one wins
    run->add_option("profile", f.profile, "profile TOML file")
        ->required()
        ->envname("SYNTHFEED_PROFILE");
    run->add_option("--sink", f.sink, "where messages go: " + sink_forms())
        ->envname("SYNTHFEED_SINK");
    run->add_option("--labels", f.labels,
                    "where per-message labels go (URI or path; a directory for timeeval, nab)")
        ->envname("SYNTHFEED_LABELS");
    run->add_option("--episodes", f.episodes, "where anomaly episodes go (URI or path)")
        ->envname("SYNTHFEED_EPISODES");
    run->add_option("--labels-format", f.labels_format, names_of(label_formats))
        ->envname("SYNTHFEED_LABELS_FORMAT");
    run->add_option("--format", f.format, "payload format: " + names_of(payload_formats))
        ->envname("SYNTHFEED_FORMAT");
    run->add_option("--count", f.count, "stop after N messages (canonical order)")
        ->envname("SYNTHFEED_COUNT");
    run->add_option("--duration", f.duration, "simulated time to cover, e.g. 1h, 7d")
        ->envname("SYNTHFEED_DURATION");
    run->add_option("--start", f.start,
                    "simulated start (RFC 3339) or now; default: the profile's start, else now")
        ->envname("SYNTHFEED_START");
    run->add_option("--speed", f.speed,
                    "1x = live, 100x = 100 times real time, max = as fast as possible (default: "
                    "max with --count/--duration, else 1x)")
        ->envname("SYNTHFEED_SPEED");
    run->add_option("--seed", f.seed, "override the profile's seed")->envname("SYNTHFEED_SEED");
    run->add_option("--threads", f.threads, "generator threads (output is identical for any value)")
        ->envname("SYNTHFEED_THREADS");
    run->add_option("--shard", f.shard, "I/N: generate only devices with index = I mod N")
        ->envname("SYNTHFEED_SHARD");
    run->add_flag("--label-in-payload", f.label_in_payload,
                  "add label and episode to every message")
        ->envname("SYNTHFEED_LABEL_IN_PAYLOAD");
    run->add_option("--progress", f.progress, "progress line interval on stderr, or off")
        ->envname("SYNTHFEED_PROGRESS");
    run->add_option("--summary-json", f.summary_json, "write the end summary as JSON to PATH")
        ->envname("SYNTHFEED_SUMMARY_JSON");
    run->add_option("--rate", f.rate,
                    "target messages per second (overrides the profile's [load] shape and --speed)")
        ->envname("SYNTHFEED_RATE");
    add_fleet_and_load_options(*run, f.stages, f.devices);
    run->add_option("--pad-to", f.pad_to,
                    "pad every payload to at least BYTES (1 to " + std::to_string(max_pad_to) +
                        ") with a pad member, field or column")
        ->envname("SYNTHFEED_PAD_TO");
    run->add_option("--http", f.http,
                    "serve /metrics, /livez, /readyz (and the control API) on HOST:PORT")
        ->envname("SYNTHFEED_HTTP");
    run->add_option("--run-for", f.run_for, "stop after this much wall-clock time")
        ->envname("SYNTHFEED_RUN_FOR");
    run->add_flag("--label-headers", f.label_headers,
                  "send seq, label and episode as Kafka headers of each message")
        ->envname("SYNTHFEED_LABEL_HEADERS");
    run->add_option("-X", f.properties,
                    "librdkafka property name=value (repeatable); -X list prints them")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    run->add_option("--grace", f.grace, "how long to wait for sinks to deliver at the end")
        ->envname("SYNTHFEED_GRACE");
    run->add_option("--threshold", f.thresholds,
                    "pass/fail criterion METRIC OP VALUE[,abort_on_fail], e.g. 'p99<200ms', "
                    "'delivered_ratio>=0.999', 'rate>=0.98*target' (repeatable; a failed one "
                    "exits 99; metrics: synthfeed list)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    run->add_flag("--no-anomalies", f.no_anomalies,
                  "the clean twin: the same stream with every value anomaly and fraud episode "
                  "removed (faults, drift and regimes kept)")
        ->envname("SYNTHFEED_NO_ANOMALIES");
    run->add_option("--remove-class", f.remove_classes,
                    "remove the episodes of this class too: value, transport, fraud, drift, "
                    "regime (repeatable, or comma-separated)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->delimiter(',')
        ->envname("SYNTHFEED_REMOVE_CLASS");
    run->footer(connector_options_help());

    validate_flags vaf;
    CLI::App* validate = app.add_subcommand("validate", "check profiles without running them");
    validate->add_option("profiles", vaf.paths, "profile TOML files")->required();
    validate->add_option("--sink", vaf.sinks,
                         "also check every device's topic for this sink URI (repeatable; "
                         "nothing connects)");
    validate->add_option("--rate", vaf.rate, "show and check a constant target rate instead")
        ->envname("SYNTHFEED_RATE");
    add_fleet_and_load_options(*validate, vaf.stages, vaf.devices);
    verify_flags vf;
    CLI::App* verify = app.add_subcommand(
        "verify", "read a stream back and check it: gaps, duplicates, order, labels");
    verify->add_option("source", vf.source, "file:PATH or kafka://HOST:PORT/TOPIC")->required();
    verify->add_option("--labels", vf.labels,
                       "the label stream to join (file:PATH or kafka://…/TOPIC)");
    verify->add_option("--json", vf.json, "write the report as JSON to PATH");
    verify->add_option("--timeout", vf.timeout, "give up reading after this long");
    verify->add_flag("--strict-order", vf.strict_order, "fail on per-device reordering too");
    verify->add_option("-X", vf.properties, "librdkafka property name=value (repeatable)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    CLI::App* list =
        app.add_subcommand("list", "list sinks, formats, signals, noise, drift and anomaly kinds");
    preview_flags pf;
    CLI::App* preview = add_preview_command(app, pf);
    compare_options cmp;
    CLI::App* compare = app.add_subcommand(
        "compare", "how close synthetic series are to a real CSV series (fidelity report)");
    compare->add_option("real", cmp.real, "real series: CSV with a header and a time column")
        ->required();
    compare
        ->add_option("synthetic", cmp.synthetic,
                     "a profile (.toml, generated per seed) or a file synthfeed run wrote")
        ->required();
    compare->add_option("--field", cmp.field, "the synthetic field to compare");
    compare->add_option("--column", cmp.column, "the real value column to compare");
    compare->add_option("--time-column", cmp.time_column, "the real time column");
    compare->add_option("--seeds", cmp.seeds, "profiles: seeds to generate (seed, seed+1, ...)")
        ->capture_default_str();
    compare->add_option("--json", cmp.json, "write the report as JSON to PATH");
    compare->add_option("--html", cmp.html, "write the report as one HTML page to PATH");
    fit_flags ff;
    CLI::App* fit = add_fit_command(app, ff);
    score_flags sf;
    CLI::App* score = add_score_command(app, sf);
    const doc_commands docs(app, version_text()); // `completion bash|zsh`, hidden `man`

    // Global flags (--log-level) work after the subcommand too: unknown to it, they fall
    // through to the app.
    for (CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        sub->fallthrough();

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        std::fputs((version_text() + "\n").c_str(), stdout);
        return exit_ok;
    } catch (const CLI::ParseError& e) {
        // A first word that is no command reads as one mistyped, not as a stray argument.
        if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
            const std::string given = std::string(argv[1]).substr(0, 40);
            std::string commands;
            std::vector<std::string> names;
            for (const CLI::App* sub : app.get_subcommands(
                     [](const CLI::App* s) { return !s->get_group().empty(); })) { // not hidden
                commands.append(commands.empty() ? "" : ", ").append(sub->get_name());
                names.push_back(sub->get_name());
            }
            const std::string closest = closest_match(given, names);
            const std::string hint = closest.empty() ? "" : "did you mean \"" + closest + "\"? ";
            fmt::print(stderr,
                       "synthfeed: error: unknown command \"{}\" ({}commands: {})\nRun with "
                       "--help for usage.\n",
                       given, hint, commands);
            return exit_usage;
        }
        fmt::print(stderr, "synthfeed: error: {}\nRun with --help for usage.\n", e.what());
        return exit_usage;
    }
    spdlog::set_level(spdlog::level::from_str(log_level));

    try {
        if (*run &&
            std::find(f.properties.begin(), f.properties.end(), "list") != f.properties.end() &&
            print_flag_names("-X"))
            return exit_ok;
        if (*run) {
            f.command_line = masked_command_line(argc, argv);
            return command_run(f);
        }
        if (*validate) return command_validate(vaf);
        if (*verify) return command_verify(vf);
        if (*compare) {
            cmp.connector_tables = connector_table_names();
            return run_compare(cmp);
        }
        if (*fit) {
            ff.command_line = masked_command_line(argc, argv);
            return command_fit(ff);
        }
        if (*score) {
            if (sf.follow) install_signal_handlers();
            return command_score(
                sf,
                [](const auto& path, const auto& devices) { return read_profile(path, devices); },
                stop_requested);
        }
        if (*list) {
            command_list();
            return exit_ok;
        }
        if (*preview) {
            const profile p = read_profile(pf.profile);
            return command_preview(pf, p, flag_start(pf.start, p),
                                   flag_duration("--duration", pf.duration));
        }
        if (const auto code = docs.run()) return *code;
        fmt::print("{}", app.help());
        return exit_usage;
    } catch (const config_error& e) {
        fmt::print(stderr, "synthfeed: error: {}\n", e.what());
        return exit_usage;
    } catch (const run_error& e) {
        fmt::print(stderr, "synthfeed: error: {}\n", e.what());
        return exit_runtime_failure;
    } catch (const std::exception& e) { // a library's own (bad_alloc, system_error, …)
        fmt::print(stderr, "synthfeed: error: {}\n", e.what());
        return exit_runtime_failure;
    }
}

} // namespace synthfeed
