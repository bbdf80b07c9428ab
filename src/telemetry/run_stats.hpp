#pragma once
/// Run-wide counters, the progress line and the end summary (text on stderr, JSON on request).
/// Counters are written by the emitter thread in batches and read by anyone.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
    std::atomic<double> lag_seconds{0}; ///< since the oldest unsent message was due (paced runs)
    std::atomic<std::uint64_t> shortfall{0}; ///< messages due by now and not sent (paced runs)
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

/// Delivery latency of one sink (send to acknowledgement, or to write(2) for streams), in
/// seconds, from its latency_histogram (within 0.8 %).
struct latency_summary {
    std::uint64_t count = 0;
    double p50 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0;
};
latency_summary summarize(const latency_histogram& h);

/// One sink's end figures: data, labels or episodes.
struct sink_summary {
    std::string stream;    ///< "data", "labels", "episodes"
    std::string connector; ///< "kafka", "file", …
    std::string uri;       ///< as given, secrets masked (filled in by the command line)
    delivery_counts counts;
    latency_summary latency;
};

/// Something that changed the run while it ran (control API): a rate change, a pause, a
/// resume or an injected episode, at a wall time after the start.
struct control_event {
    double at_seconds = 0;
    std::string what;     ///< "rate 10000 msg/s", "inject spike on cards/card-000012", …
    bool changes_content; ///< an injection: the stream differs from the profile's own
};

/// What a pasted summary needs to reproduce the run, filled in by the command line.
struct run_context {
    std::string version;                   ///< "0.1.0 (commit abc1234, gcc 12.2.0, Release)"
    std::vector<std::string> command_line; ///< argv, secrets masked
    std::string profile_path;
    std::string profile_sha256; ///< of the profile file's bytes
    std::string started;        ///< wall time at the start, RFC 3339 UTC
    std::string load;           ///< "constant 5000 msg/s", "profile cadence at 1x", …
    std::string fleet;          ///< "210 devices in 3 groups, 200 msg/s nominal"
    /// The episode classes removed (`--no-anomalies`, `--remove-class`): a clean twin.
    std::vector<std::string> removed_classes;
};

/// A --threshold evaluated at the end of the run.
struct threshold_verdict {
    std::string expression; ///< as given: "p99<200ms"
    double value = 0;       ///< the metric's value, in its unit (seconds for times)
    std::string shown;      ///< the value as the summary prints it: "183ms", "0.9995"
    bool passed = false;
};

/// Final figures of a run, as the summary reports them.
struct run_summary {
    std::string profile;
    std::uint64_t seed = 0;
    std::uint64_t generated = 0;
    std::uint64_t delivered = 0;
    std::uint64_t failed = 0;
    std::uint64_t dropped = 0;
    std::uint64_t in_doubt = 0;    ///< sent, never acknowledged, possibly stored
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
    double sending_seconds = 0;    ///< wall time from the schedule's start to the last send
    double target_rate = 0;        ///< the schedule's mean msg/s over sending_seconds; 0: not paced
    /// Messages the schedule wanted by the stop that were not sent (a run cut short while
    /// behind); an estimate from the lag when paced by --speed (`shortfall_estimated`).
    std::uint64_t shortfall = 0;
    bool shortfall_estimated = false;
    bool interrupted = false;
    std::optional<connection_summary> connections; ///< the data sink's, when it has any
    std::vector<sink_summary> sinks;               ///< data first, then labels and episodes
    std::vector<control_event> events;             ///< in order
    run_context context;
    std::vector<threshold_verdict> thresholds;
    /// A threshold on delivery (delivered_ratio, failed, in_doubt) was given: it, not the
    /// all-delivered rule, decides whether losses fail the run.
    bool delivery_judged_by_thresholds = false;

    double messages_per_second() const noexcept {
        return elapsed_seconds > 0 ? static_cast<double>(generated) / elapsed_seconds : 0;
    }
    /// Payload megabytes (10^6 bytes) delivered per second.
    double megabytes_per_second() const noexcept {
        return elapsed_seconds > 0 ? static_cast<double>(bytes) / 1e6 / elapsed_seconds : 0;
    }
    /// The data stream's delivery latency (zeros when it has no sink summary).
    latency_summary data_latency() const noexcept {
        return sinks.empty() ? latency_summary{} : sinks.front().latency;
    }
    /// False once an injection changed what the profile alone would generate.
    bool reproducible() const noexcept {
        for (const auto& e : events)
            if (e.changes_content) return false;
        return true;
    }
    /// 99 when a threshold failed (as k6); else 1 when a message was not delivered (unless
    /// delivery thresholds judged that); else 0.
    int exit_code() const noexcept {
        for (const auto& t : thresholds)
            if (!t.passed) return 99;
        const bool all_delivered =
            failed == 0 && truth_failed == 0 && in_doubt == 0 && delivered + dropped == generated;
        return all_delivered || delivery_judged_by_thresholds ? 0 : 1;
    }
};

/// "progress: 3.0s generated 1.31M (408.3k/s, 52.1 MB/s) delivered 1.31M failed 0 episodes 35
/// sim 2026-… lag 0.012s p50 1.2ms p99 5.3ms": the rates are over the last interval
/// (`window_rate` msg/s, `window_mb_rate` MB/s), latency over the whole run so far.
std::string progress_line(const run_stats& s, const connector& data, double elapsed_seconds,
                          double window_rate, double window_mb_rate);

/// The end-of-run figures of a connector's connections.
connection_summary summarize(const connection_counts& fleet);

/// Multi-line human summary for stderr.
std::string summary_text(const run_summary& s);

/// JSON summary with the keys of DESIGN.md §7 and more.
std::string summary_json(const run_summary& s);

} // namespace synthfeed
