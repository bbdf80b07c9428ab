#include "src/telemetry/run_stats.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace synthfeed {
namespace {

std::string si(double v) {
    if (v >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
    if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
    if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
    return fmt::format("{:.0f}", v);
}

} // namespace

std::string progress_line(const run_stats& s, const delivery_counts& data, double elapsed_seconds,
                          double window_rate, const connection_counts* fleet) {
    const auto generated = s.generated.load();
    std::string line = fmt::format(
        "progress: {:.1f}s generated {} ({}/s) delivered {} failed {} episodes {} sim {}",
        elapsed_seconds, si(static_cast<double>(generated)), si(window_rate),
        si(static_cast<double>(data.delivered)), data.failed, s.episodes.load(),
        format_timestamp(s.sim_clock.load()));
    const double lag = s.lag_seconds.load();
    if (lag > 0.001) line += fmt::format(" lag {:.3f}s", lag);
    if (fleet)
        line +=
            fmt::format(" clients {} up {} connecting {} reconnecting {} failed {}",
                        fleet->clients.load(), fleet->connected.load(), fleet->connecting.load(),
                        fleet->reconnecting.load(), fleet->failed.load());
    return line;
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
    std::string out = fmt::format(
        "summary: {} seed {}{}\n"
        "  generated  {} messages in {:.3f}s ({}/s), {} bytes delivered\n"
        "  delivered  {}   failed {}   dropped {}   undelivered at exit {}\n"
        "  truth      {} anomaly episodes, {} label lines, {} ticks silenced by dropouts, "
        "{} label and episode lines failed\n"
        "  sim time   {} .. {}\n"
        "  schedule   max lag {:.3f}s   lag at end {:.3f}s   shortfall {}{}\n",
        s.profile, s.seed, s.interrupted ? " (interrupted)" : "", s.generated, s.elapsed_seconds,
        si(s.messages_per_second()), s.bytes, s.delivered, s.failed, s.dropped, s.undelivered,
        s.episodes, s.labels, s.suppressed, s.truth_failed, format_timestamp(s.sim_start),
        format_timestamp(s.sim_end), s.max_lag_seconds, s.lag_at_end_seconds, s.shortfall,
        s.shortfall_estimated ? " (estimated from the lag)" : "");
    if (const auto& c = s.connections)
        out += fmt::format("  clients    {} (peak {} connected), {} given up, {} reconnects, {} "
                           "messages resent; connect p50 {:.3f}s p95 {:.3f}s p99 {:.3f}s\n",
                           c->clients, c->connected_peak, c->failed, c->reconnects, c->resent,
                           c->connect_p50, c->connect_p95, c->connect_p99);
    return out;
}

std::string summary_json(const run_summary& s) {
    nlohmann::ordered_json j;
    j["profile"] = s.profile;
    j["seed"] = s.seed;
    j["messages_generated"] = s.generated;
    j["messages_delivered"] = s.delivered;
    j["messages_failed"] = s.failed;
    j["messages_dropped"] = s.dropped;
    j["messages_undelivered_at_exit"] = s.undelivered;
    j["messages_suppressed_by_dropout"] = s.suppressed;
    j["label_lines"] = s.labels;
    j["label_lines_failed"] = s.truth_failed;
    j["bytes_delivered"] = s.bytes;
    j["elapsed_seconds"] = s.elapsed_seconds;
    j["messages_per_second"] = s.messages_per_second();
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
    if (const auto& c = s.connections)
        j["connections"] = {
            {"clients", c->clients},
            {"connected_peak", c->connected_peak},
            {"failed", c->failed},
            {"reconnects", c->reconnects},
            {"messages_resent", c->resent},
            {"connect_latency_seconds",
             {{"p50", c->connect_p50}, {"p95", c->connect_p95}, {"p99", c->connect_p99}}}};
    j["interrupted"] = s.interrupted;
    j["exit_code"] = s.exit_code();
    return j.dump(2) + "\n";
}

} // namespace synthfeed
