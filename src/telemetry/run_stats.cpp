#include "src/telemetry/run_stats.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace synthfeed {
namespace {

std::string si(double v) {
    if (v >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
    if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
    if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
    return fmt::format("{:.0f}", v);
}

/// "850us", "12.3ms", "2.41s": three significant figures in a unit a reader takes in.
std::string short_duration(double seconds) {
    if (seconds < 1e-3) return fmt::format("{:.0f}us", seconds * 1e6);
    if (seconds < 1) return fmt::format("{:.3g}ms", seconds * 1e3);
    return fmt::format("{:.3g}s", seconds);
}

} // namespace

std::string progress_line(const run_stats& s, const connector& data, double elapsed_seconds,
                          double window_rate, double window_mb_rate) {
    const delivery_counts counts = data.counts();
    const auto generated = s.generated.load();
    std::string line = fmt::format(
        "progress: {:.1f}s generated {} ({}/s, {:.1f} MB/s) delivered {} failed {}{} episodes {} "
        "sim {}",
        elapsed_seconds, si(static_cast<double>(generated)), si(window_rate), window_mb_rate,
        si(static_cast<double>(counts.delivered)), counts.failed,
        counts.in_doubt ? fmt::format(" in doubt {}", counts.in_doubt) : "", s.episodes.load(),
        format_timestamp(s.sim_clock.load()));
    const double lag = s.lag_seconds.load();
    if (lag > 0.001) line += fmt::format(" lag {:.3f}s", lag);
    // Behind by less than a pacer's nap is the clock's grain (a message or two just due).
    if (const auto behind = s.shortfall.load(); behind > 0 && lag >= 0.01)
        line += fmt::format(" behind {}", si(static_cast<double>(behind)));
    if (const latency_summary l = summarize(data.latency()); l.count > 0)
        line += fmt::format(" latency p50 {} p99 {}", short_duration(l.p50), short_duration(l.p99));
    if (const connection_counts* fleet = data.fleet())
        line +=
            fmt::format(" clients {} up {} connecting {} reconnecting {} failed {}",
                        fleet->clients.load(), fleet->connected.load(), fleet->connecting.load(),
                        fleet->reconnecting.load(), fleet->failed.load());
    return line;
}

latency_summary summarize(const latency_histogram& h) {
    latency_summary l;
    l.count = h.count();
    l.p50 = h.quantile(0.50);
    l.p95 = h.quantile(0.95);
    l.p99 = h.quantile(0.99);
    l.p999 = h.quantile(0.999);
    l.max = h.max_seconds();
    return l;
}

connection_summary summarize(const connection_counts& fleet) {
    connection_summary c;
    c.clients = fleet.clients.load();
    c.connected_peak = fleet.connected_peak.load();
    c.failed = fleet.failed.load();
    c.reconnects = fleet.reconnects.load();
    c.resent = fleet.resent.load();
    c.connect_p50 = fleet.connect_latency.quantile(0.50);
    c.connect_p95 = fleet.connect_latency.quantile(0.95);
    c.connect_p99 = fleet.connect_latency.quantile(0.99);
    return c;
}

std::string summary_text(const run_summary& s) {
    const run_context& c = s.context;
    std::string out = fmt::format("summary: {} seed {}{}\n", s.profile, s.seed,
                                  s.interrupted ? " (interrupted)" : "");
    if (!c.version.empty()) out += fmt::format("  synthfeed  {}\n", c.version);
    if (!c.command_line.empty())
        out += fmt::format("  command    {}\n", fmt::join(c.command_line, " "));
    if (!c.profile_path.empty())
        out += fmt::format("  profile    {} sha256 {}\n", c.profile_path, c.profile_sha256);
    if (!c.started.empty())
        out += fmt::format("  run        started {}; {}; load {}\n", c.started, c.fleet, c.load);
    if (!c.removed_classes.empty())
        out += fmt::format("  twin       episodes removed: {} (none of them acts or is labelled)\n",
                           fmt::join(c.removed_classes, ", "));
    out += fmt::format(
        "  generated  {} messages in {:.3f}s ({}/s, {:.1f} MB/s), {} bytes delivered\n"
        "  delivered  {}   failed {}   dropped {}   in doubt {}   undelivered at exit {}\n"
        "  truth      {} anomaly episodes, {} label lines, {} silenced ticks (dropouts, dropped "
        "faults{}), "
        "{} label and episode lines failed\n"
        "  sim time   {} .. {}\n"
        "  schedule   max lag {:.3f}s   lag at end {:.3f}s   shortfall {}{}\n",
        s.generated, s.elapsed_seconds, si(s.messages_per_second()), s.megabytes_per_second(),
        s.bytes, s.delivered, s.failed, s.dropped, s.in_doubt, s.undelivered, s.episodes, s.labels,
        s.suppressed,
        std::find(c.removed_classes.begin(), c.removed_classes.end(), "fraud") !=
                c.removed_classes.end()
            ? ", removed fraud"
            : "",
        s.truth_failed, format_timestamp(s.sim_start), format_timestamp(s.sim_end),
        s.max_lag_seconds, s.lag_at_end_seconds, s.shortfall,
        s.shortfall_estimated ? " (estimated from the lag)" : "");
    for (const sink_summary& k : s.sinks) {
        out += fmt::format("  {:<10} {}: delivered {} failed {}{}", k.stream,
                           k.uri.empty() ? k.connector : k.uri, k.counts.delivered, k.counts.failed,
                           k.counts.in_doubt ? fmt::format(" in doubt {}", k.counts.in_doubt) : "");
        const latency_summary& l = k.latency;
        if (l.count > 0)
            out += fmt::format("; latency p50 {} p95 {} p99 {} p99.9 {} max {}",
                               short_duration(l.p50), short_duration(l.p95), short_duration(l.p99),
                               short_duration(l.p999), short_duration(l.max));
        out += "\n";
    }
    if (const auto& f = s.connections)
        out += fmt::format("  clients    {} (peak {} connected), {} given up, {} reconnects, {} "
                           "messages resent; connect p50 {:.3f}s p95 {:.3f}s p99 {:.3f}s\n",
                           f->clients, f->connected_peak, f->failed, f->reconnects, f->resent,
                           f->connect_p50, f->connect_p95, f->connect_p99);
    for (const control_event& e : s.events)
        out += fmt::format("  control    at {:.3f}s: {}\n", e.at_seconds, e.what);
    if (!s.reproducible())
        out += "  reproducible: no (episodes were injected while it ran; see control)\n";
    for (const threshold_verdict& t : s.thresholds)
        out += fmt::format("  threshold  {:<28} {:<12} {}\n", t.expression, t.shown,
                           t.passed ? "pass" : "FAIL");
    return out;
}

namespace {

nlohmann::ordered_json latency_json(const latency_summary& l) {
    return {{"count", l.count}, {"p50", l.p50},    {"p95", l.p95},
            {"p99", l.p99},     {"p99_9", l.p999}, {"max", l.max}};
}

} // namespace

std::string summary_json(const run_summary& s) {
    nlohmann::ordered_json j;
    const run_context& c = s.context;
    j["synthfeed_version"] = c.version;
    j["command_line"] = c.command_line;
    j["profile"] = s.profile;
    j["profile_path"] = c.profile_path;
    j["profile_sha256"] = c.profile_sha256;
    j["seed"] = s.seed;
    j["started"] = c.started;
    j["fleet"] = c.fleet;
    j["removed_classes"] = c.removed_classes;
    j["load"] = c.load;
    j["reproducible"] = s.reproducible();
    j["messages_generated"] = s.generated;
    j["messages_delivered"] = s.delivered;
    j["messages_failed"] = s.failed;
    j["messages_dropped"] = s.dropped;
    j["messages_in_doubt"] = s.in_doubt;
    j["messages_undelivered_at_exit"] = s.undelivered;
    j["messages_suppressed_by_dropout"] = s.suppressed;
    j["label_lines"] = s.labels;
    j["label_lines_failed"] = s.truth_failed;
    j["bytes_delivered"] = s.bytes;
    j["elapsed_seconds"] = s.elapsed_seconds;
    j["messages_per_second"] = s.messages_per_second();
    j["megabytes_per_second"] = s.megabytes_per_second();
    j["max_schedule_lag_seconds"] = s.max_lag_seconds;
    j["schedule_lag_at_end_seconds"] = s.lag_at_end_seconds;
    j["shortfall"] = s.shortfall;
    j["shortfall_estimated"] = s.shortfall_estimated;
    j["anomaly_episodes"] = s.episodes;
    nlohmann::ordered_json kinds = nlohmann::ordered_json::object();
    for (std::size_t k = 0; k < anomaly_kind_count; ++k)
        kinds[to_string(static_cast<anomaly_kind>(k))] = s.episodes_by_kind[k];
    j["anomaly_episodes_by_kind"] = kinds;
    j["sim_start"] = format_timestamp(s.sim_start);
    j["sim_end"] = format_timestamp(s.sim_end);
    nlohmann::ordered_json sinks = nlohmann::ordered_json::array();
    for (const sink_summary& k : s.sinks)
        sinks.push_back({{"stream", k.stream},
                         {"connector", k.connector},
                         {"uri", k.uri},
                         {"delivered", k.counts.delivered},
                         {"failed", k.counts.failed},
                         {"dropped", k.counts.dropped},
                         {"in_doubt", k.counts.in_doubt},
                         {"bytes", k.counts.bytes},
                         {"latency_seconds", latency_json(k.latency)}});
    j["sinks"] = sinks;
    if (const auto& f = s.connections)
        j["connections"] = {
            {"clients", f->clients},
            {"connected_peak", f->connected_peak},
            {"failed", f->failed},
            {"reconnects", f->reconnects},
            {"messages_resent", f->resent},
            {"connect_latency_seconds",
             {{"p50", f->connect_p50}, {"p95", f->connect_p95}, {"p99", f->connect_p99}}}};
    nlohmann::ordered_json events = nlohmann::ordered_json::array();
    for (const control_event& e : s.events)
        events.push_back({{"at_seconds", e.at_seconds},
                          {"what", e.what},
                          {"changes_content", e.changes_content}});
    j["control_events"] = events;
    nlohmann::ordered_json thresholds = nlohmann::ordered_json::array();
    for (const threshold_verdict& t : s.thresholds)
        thresholds.push_back(
            {{"expression", t.expression}, {"value", t.value}, {"passed", t.passed}});
    j["thresholds"] = thresholds;
    j["interrupted"] = s.interrupted;
    j["exit_code"] = s.exit_code();
    return j.dump(2) + "\n";
}

} // namespace synthfeed
