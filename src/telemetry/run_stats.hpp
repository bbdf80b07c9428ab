#pragma once
/// Run-wide counters, the progress line and the end summary (text on stderr, JSON on request).
/// Counters are written by the emitter thread in batches and read by anyone.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "connectors/connector.hpp"
#include "src/config/profile.hpp"

namespace synthfeed {

struct run_stats {
    std::atomic<std::uint64_t> generated{0};  ///< messages handed to the data sink
    std::atomic<std::uint64_t> suppressed{0}; ///< ticks silenced by dropout episodes (labelled)
    std::atomic<std::uint64_t> labels{0};     ///< label lines handed to the label sink
    std::atomic<std::uint64_t> episodes{0};
    std::atomic<std::uint64_t> devices{0}; ///< devices this process simulates (its shard)
    std::array<std::atomic<std::uint64_t>, anomaly_kind_count> episodes_by_kind{};
    std::atomic<sim_time> sim_clock{0}; ///< event time of the last message emitted
    std::atomic<double> lag_seconds{0}; ///< how far emission trails the schedule (paced runs)
};

/// A brokered sink's connections at the end of a run (MQTT).
struct connection_summary {
    std::int64_t clients = 0;
    std::int64_t connected_peak = 0;
    std::int64_t failed = 0; ///< given up
    std::uint64_t reconnects = 0;
    std::uint64_t resent = 0; ///< QoS 1/2 messages resent after reconnects (duplicates at most)
    double connect_p50 = 0, connect_p95 = 0, connect_p99 = 0; ///< seconds to CONNACK
};

/// Final figures of a run, as the summary reports them.
struct run_summary {
    std::string profile;
    std::uint64_t seed = 0;
    std::uint64_t generated = 0;
    std::uint64_t delivered = 0;
    std::uint64_t failed = 0;
    std::uint64_t dropped = 0;
    std::uint64_t undelivered = 0; ///< left after the drain deadline (included in failed)
    std::uint64_t suppressed = 0;
    std::uint64_t labels = 0;
    std::uint64_t truth_failed = 0; ///< label and episode lines that were not delivered
    std::uint64_t bytes = 0;
    std::uint64_t episodes = 0;
    std::array<std::uint64_t, anomaly_kind_count> episodes_by_kind{};
    sim_time sim_start = 0;
    sim_time sim_end = 0;
    double elapsed_seconds = 0;
    double max_lag_seconds = 0;    ///< worst lag of emission behind its schedule (paced runs)
    double lag_at_end_seconds = 0; ///< lag when a stop or --run-for cut the run short
    /// Messages the schedule wanted by the stop that were not sent (a run cut short while
    /// behind); an estimate from the lag when paced by --speed (`shortfall_estimated`).
    std::uint64_t shortfall = 0;
    bool shortfall_estimated = false;
    bool interrupted = false;
    std::optional<connection_summary> connections; ///< the data sink's, when it has any

    double messages_per_second() const noexcept {
        return elapsed_seconds > 0 ? static_cast<double>(generated) / elapsed_seconds : 0;
    }
    /// 0 when every generated message was delivered, else 1.
    int exit_code() const noexcept {
        return failed == 0 && truth_failed == 0 && delivered + dropped == generated ? 0 : 1;
    }
};

/// "12.3M msg generated (2.46M/s) · delivered 12.3M · failed 0 · episodes 12 · sim 2026-…"
std::string progress_line(const run_stats& s, const delivery_counts& data, double elapsed_seconds,
                          double window_rate, const connection_counts* fleet = nullptr);

/// The end-of-run figures of a connector's connections.
connection_summary summarize(const connection_counts& fleet);

/// Multi-line human summary for stderr.
std::string summary_text(const run_summary& s);

/// JSON summary with the keys of DESIGN.md §7 and more.
std::string summary_json(const run_summary& s);

} // namespace synthfeed
