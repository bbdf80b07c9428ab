#pragma once
/// Prometheus metrics built at scrape time from the run's atomic counters (the hot path never
/// touches prometheus-cpp). Names follow DESIGN.md §6: synthfeed_ prefix, base units, _total
/// counters, no per-device labels.

#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "connectors/connector.hpp"
#include "src/config/profile.hpp"
#include "src/telemetry/run_control.hpp"
#include "src/telemetry/run_stats.hpp"

namespace synthfeed {

/// What every Collect() here builds its families with.
namespace prom {
/// A metric family with no sample yet.
prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type);
/// Adds one sample to `f`: a counter's or a gauge's value, as the family's type says.
void add(prometheus::MetricFamily& f, double value,
         std::vector<prometheus::ClientMetric::Label> labels = {});
} // namespace prom

class run_metrics : public prometheus::Collectable {
  public:
    /// `sinks` pairs a role ("data", "labels", "episodes") with its connector (may be null).
    run_metrics(const profile& p, const run_stats& stats, const run_control& control,
                std::vector<std::pair<std::string, const connector*>> sinks);

    std::vector<prometheus::MetricFamily> Collect() const override;

    /// The Prometheus text exposition (format 0.0.4).
    std::string text() const;

  private:
    const profile* profile_;
    const run_stats* stats_;
    const run_control* control_;
    std::vector<std::pair<std::string, const connector*>> sinks_;
};

} // namespace synthfeed
