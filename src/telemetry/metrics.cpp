#include "src/telemetry/metrics.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <limits>

namespace synthfeed {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

using prom::add;
using prom::family;

/// prometheus-cpp's histogram data (cumulative counts at our fixed bounds) from the
/// log-linear histogram.
ClientMetric histogram_metric(const latency_histogram& h, std::vector<ClientMetric::Label> labels) {
    ClientMetric m;
    m.label = std::move(labels);
    const auto cumulative = h.cumulative_at_bounds();
    for (std::size_t b = 0; b < cumulative.size(); ++b) {
        ClientMetric::Bucket bucket;
        bucket.cumulative_count = cumulative[b];
        bucket.upper_bound = b < latency_histogram::bounds.size()
                                 ? latency_histogram::bounds[b]
                                 : std::numeric_limits<double>::infinity();
        m.histogram.bucket.push_back(bucket);
    }
    m.histogram.sample_count = cumulative.back();
    m.histogram.sample_sum = h.sum_seconds();
    return m;
}

} // namespace

MetricFamily prom::family(std::string name, std::string help, MetricType type) {
    return MetricFamily{std::move(name), std::move(help), type, {}};
}

void prom::add(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter)
        m.counter.value = value;
    else
        m.gauge.value = value;
    f.metric.push_back(std::move(m));
}

run_metrics::run_metrics(const profile& p, const run_stats& stats, const run_control& control,
                         std::vector<std::pair<std::string, const connector*>> sinks)
    : profile_(&p), stats_(&stats), control_(&control), sinks_(std::move(sinks)) {}

std::vector<MetricFamily> run_metrics::Collect() const {
    std::vector<MetricFamily> out;
    auto generated = family("synthfeed_messages_generated_total",
                            "Messages handed to the data sink.", MetricType::Counter);
    add(generated, static_cast<double>(stats_->generated.load()));
    out.push_back(std::move(generated));

    auto delivered =
        family("synthfeed_messages_delivered_total",
               "Messages the sink confirmed (fd write, broker ack).", MetricType::Counter);
    auto failed = family("synthfeed_messages_failed_total",
                         "Messages that will never be delivered.", MetricType::Counter);
    auto dropped = family("synthfeed_messages_dropped_total",
                          "Messages dropped by an explicit drop policy.", MetricType::Counter);
    auto bytes =
        family("synthfeed_bytes_delivered_total", "Payload bytes delivered.", MetricType::Counter);
    auto in_doubt = family("synthfeed_messages_in_doubt_total",
                           "Messages sent to a broker that went away before acknowledging them "
                           "(possibly stored).",
                           MetricType::Counter);
    for (const auto& [role, c] : sinks_) {
        if (!c) continue;
        const delivery_counts counts = c->counts();
        const std::vector<ClientMetric::Label> labels{{"connector", std::string(c->name())},
                                                      {"stream", role}};
        add(delivered, static_cast<double>(counts.delivered), labels);
        add(failed, static_cast<double>(counts.failed), labels);
        add(dropped, static_cast<double>(counts.dropped), labels);
        add(bytes, static_cast<double>(counts.bytes), labels);
        add(in_doubt, static_cast<double>(counts.in_doubt), labels);
    }
    out.push_back(std::move(delivered));
    out.push_back(std::move(failed));
    out.push_back(std::move(dropped));
    out.push_back(std::move(bytes));
    out.push_back(std::move(in_doubt));

    auto errors =
        family("synthfeed_send_errors_total",
               "Failed messages by reason (they add up to messages_failed).", MetricType::Counter);
    auto latency = family("synthfeed_delivery_latency_seconds",
                          "Time from handing a message to the client to its acknowledgement.",
                          MetricType::Histogram);
    for (const auto& [role, c] : sinks_) {
        if (!c) continue;
        const std::string name(c->name());
        const auto by_type = c->errors();
        for (std::size_t t = 0; t < by_type.size(); ++t)
            add(errors, static_cast<double>(by_type[t]),
                {{"connector", name}, {"stream", role}, {"error_type", send_error_names[t]}});
        latency.metric.push_back(
            histogram_metric(c->latency(), {{"connector", name}, {"stream", role}}));
    }
    out.push_back(std::move(errors));
    out.push_back(std::move(latency));

    auto clients = family("synthfeed_connections",
                          "Broker connections by state (connected, connecting, reconnecting, "
                          "failed = given up).",
                          MetricType::Gauge);
    auto connect_latency =
        family("synthfeed_connect_latency_seconds",
               "Time from starting a connection to its CONNACK.", MetricType::Histogram);
    auto reconnects = family("synthfeed_reconnects_total",
                             "Connections re-established after a loss.", MetricType::Counter);
    auto resent = family("synthfeed_messages_resent_total",
                         "QoS 1/2 messages resent after a reconnect (at most this many "
                         "duplicates).",
                         MetricType::Counter);
    for (const auto& [role, c] : sinks_) {
        const connection_counts* fleet = c ? c->fleet() : nullptr;
        if (!fleet) continue;
        const std::vector<ClientMetric::Label> labels{{"connector", std::string(c->name())},
                                                      {"stream", role}};
        for (const auto& [state, value] : {std::pair{"connected", &fleet->connected},
                                           std::pair{"connecting", &fleet->connecting},
                                           std::pair{"reconnecting", &fleet->reconnecting},
                                           std::pair{"failed", &fleet->failed}}) {
            auto with_state = labels;
            with_state.push_back({"state", state});
            add(clients, static_cast<double>(value->load()), std::move(with_state));
        }
        connect_latency.metric.push_back(histogram_metric(fleet->connect_latency, labels));
        add(reconnects, static_cast<double>(fleet->reconnects.load()), labels);
        add(resent, static_cast<double>(fleet->resent.load()), labels);
    }
    for (auto* f : {&clients, &connect_latency, &reconnects, &resent})
        if (!f->metric.empty()) out.push_back(std::move(*f));

    auto suppressed =
        family("synthfeed_messages_suppressed_total",
               "Ticks silenced by dropout episodes (labelled, never sent).", MetricType::Counter);
    add(suppressed, static_cast<double>(stats_->suppressed.load()));
    out.push_back(std::move(suppressed));

    auto episodes = family("synthfeed_anomaly_episodes_total", "Anomaly episodes started, by kind.",
                           MetricType::Counter);
    for (std::size_t k = 0; k < anomaly_kind_count; ++k)
        add(episodes, static_cast<double>(stats_->episodes_by_kind[k].load()),
            {{"kind", std::string(to_string(static_cast<anomaly_kind>(k)))}});
    out.push_back(std::move(episodes));

    auto lag = family("synthfeed_scheduler_lag_seconds",
                      "How long ago the oldest unsent message was due.", MetricType::Gauge);
    add(lag, stats_->lag_seconds.load());
    out.push_back(std::move(lag));
    auto shortfall = family("synthfeed_schedule_shortfall_messages",
                            "Messages the schedule wanted by now that were not sent (estimated "
                            "from the lag when paced by --speed).",
                            MetricType::Gauge);
    add(shortfall, static_cast<double>(stats_->shortfall.load()));
    out.push_back(std::move(shortfall));

    auto target = family("synthfeed_target_rate_messages_per_second",
                         "Target emission rate (0: the profile's cadence).", MetricType::Gauge);
    add(target, control_->target_rate.load());
    out.push_back(std::move(target));

    auto devices = family("synthfeed_devices", "Devices in the profile.", MetricType::Gauge);
    add(devices, static_cast<double>(profile_->device_count()));
    out.push_back(std::move(devices));
    auto active = family("synthfeed_devices_active",
                         "Devices this process simulates (its --shard slice).", MetricType::Gauge);
    add(active, static_cast<double>(stats_->devices.load()));
    out.push_back(std::move(active));

    auto sim = family("synthfeed_simulated_time_seconds",
                      "Event time of the last message emitted (Unix seconds).", MetricType::Gauge);
    add(sim, static_cast<double>(stats_->sim_clock.load()) / 1000.0);
    out.push_back(std::move(sim));

    auto paused =
        family("synthfeed_paused", "1 while generation is paused through the control API.",
               MetricType::Gauge);
    add(paused, control_->paused.load() ? 1 : 0);
    out.push_back(std::move(paused));

    auto info = family("synthfeed_build_info", "Build and profile information.", MetricType::Gauge);
    add(info, 1, {{"version", SYNTHFEED_VERSION}, {"profile", profile_->name}});
    out.push_back(std::move(info));
    return out;
}

std::string run_metrics::text() const {
    return prometheus::TextSerializer().Serialize(Collect());
}

} // namespace synthfeed
