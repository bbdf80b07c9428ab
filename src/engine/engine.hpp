#pragma once
/// The event loop. Simulated time advances in windows; each worker thread generates, encodes
/// and sorts its devices' messages for a window, and the emitter merges the workers' sorted
/// batches into canonical order (event time, then device index) before handing them to the
/// sinks. So the bytes written never depend on --threads, and --count cuts the same prefix.
/// The pieces: worker.hpp generates a window, pipeline.hpp runs the workers ahead of the
/// emitter, window_merge.hpp orders their batches, pacer.hpp holds emission to the wall clock
/// and emitter.hpp takes the messages to the sinks.
///
/// Concurrency: run() is called once, from one thread; it owns the worker threads it starts.
/// `stop` may be set from any thread (a signal handler's flag).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "connectors/connector.hpp"
#include "devices/group_model.hpp"
#include "src/config/profile.hpp"
#include "src/encode/message_encoder.hpp"
#include "src/labels/label_encoder.hpp"
#include "src/telemetry/run_control.hpp"
#include "src/telemetry/run_stats.hpp"

namespace synthfeed {

struct run_options {
    sim_time start = 0;
    std::optional<sim_duration> duration; ///< simulated time to cover
    std::optional<std::uint64_t> count;   ///< stop after this many messages (canonical order)
    double speed = 0; ///< simulated seconds per wall second; 0 = as fast as possible
    load_spec load;   ///< emission rate shape; overrides speed when set
    std::optional<std::chrono::milliseconds> wall_limit; ///< stop after this much wall time
    unsigned threads = 1;
    std::uint32_t shard_index = 0;
    std::uint32_t shard_count = 1;
    payload_format format = payload_format::json;
    label_format labels = label_format::jsonl;
    bool label_in_payload = false;
    bool label_headers = false; ///< label, episode and seq as record headers (Kafka headers)
    std::chrono::milliseconds progress_every{5000}; ///< 0 = no progress lines
    std::chrono::milliseconds grace{20000};         ///< drain deadline at the end
};

struct run_sinks {
    connector* data = nullptr;     ///< required
    connector* labels = nullptr;   ///< optional
    connector* episodes = nullptr; ///< optional
};

/// Runs the profile to completion (count, duration) or until `stop`; drains the sinks.
/// `control` (optional) carries pause, rate changes and readiness to and from the HTTP API.
run_summary run_engine(const profile& p, const device_directory& ids, const run_options& options,
                       const run_sinks& sinks, run_stats& stats, const std::atomic<bool>& stop,
                       run_control* control = nullptr);

/// Window length (simulated ms) the engine uses: about 64k messages at the fleet's busiest,
/// shorter when paced: about 20 ms of wall time at the `target_rate` (msg/s, the load
/// shape's peak; 0 for none), else at `speed`.
sim_duration window_length(const profile& p, double speed, double target_rate = 0) noexcept;

} // namespace synthfeed
