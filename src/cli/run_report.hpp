#pragma once
/// What the run command adds around the engine for an unattended run: the context that makes
/// a pasted summary reproducible (version, masked command line, profile digest, load), the
/// --threshold verdicts with their exit code, and the watcher that stops a run as soon as an
/// abort_on_fail threshold is crossed.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "connectors/connector.hpp"
#include "src/config/profile.hpp"
#include "src/engine/engine.hpp"
#include "src/telemetry/run_stats.hpp"
#include "src/telemetry/thresholds.hpp"

namespace synthfeed {

/// "0.1.0 (commit 1a2b3c4d5e, GNU 12.2.0, Release)".
std::string version_with_build();

/// `argv` with secrets masked: passwords and secret options in URIs, secret -X values.
std::vector<std::string> masked_command_line(int argc, const char* const* argv);

/// SHA-256 of a file's bytes, in hex; empty when it cannot be read.
std::string sha256_of_file(const std::string& path);

/// At most `shown` of `items`, joined by ", ", then how many more there are.
std::string joined(const std::vector<std::string>& items, std::size_t shown = 8);
/// Messages per second as the start line and validate show them: "5000", "0.25".
std::string rate_text(double rate);
/// rate_text with "/s".
std::string per_second(double rate);
/// A duration as profiles write it ("0s" rather than "0h").
std::string duration_text(sim_duration d);
/// The fleet, group by group: "sensors 4500 every 1s, doors 200 every ~6h".
std::string fleet_text(const profile& p);
/// The load shape in words: "stages 30s→1000/s, 1m→5000/s", "constant 2000/s", ….
std::string load_text(const load_spec& l);

/// Whether a threshold needs a schedule's target (FACTOR*target) that an unpaced run lacks:
/// config_error naming it then.
void check_thresholds_fit(const std::vector<threshold>& thresholds, const run_options& o);

/// Evaluates `thresholds` on the finished run into `s` (verdicts and the exit rule).
void judge(run_summary& s, const std::vector<threshold>& thresholds);

/// Watches the abort_on_fail thresholds every 200 ms while the run goes on, from the data
/// sink's live figures; the first one crossed is logged and sets `stop` (a drain as by
/// SIGTERM). Stops watching when destroyed.
class threshold_watch {
  public:
    threshold_watch(const std::vector<threshold>& thresholds, const connector& data,
                    const run_stats& stats, std::atomic<bool>& stop);
    ~threshold_watch();
    threshold_watch(const threshold_watch&) = delete;
    threshold_watch& operator=(const threshold_watch&) = delete;

    /// The expression that stopped the run, or empty.
    std::string crossed() const;

  private:
    void watch(std::stop_token token);

    std::vector<threshold> watched_;
    const connector& data_;
    const run_stats& stats_;
    std::atomic<bool>& stop_;
    std::atomic<const threshold*> crossed_{nullptr};
    std::jthread thread_;
};

} // namespace synthfeed
