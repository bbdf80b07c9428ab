#pragma once
/// The emitter: takes each window's merged messages to the sinks in canonical order. It sends
/// payloads (with --label-headers as record headers) to the data sink and label lines to the
/// label sink, cuts the run at --count, a load shape's total or a stop, writes episode lines
/// with the first label naming them, applies control requests (pause, rate), keeps the
/// counters and the progress line, and drains the sinks at the end.
///
/// Shapes: times are sim_time ms, wall durations steady_clock. Errors are counts, never
/// exceptions: a sink still full at the drain deadline is given up on and the message counted
/// as failed (abandoned); everything else is the connectors' own counting.
///
/// Concurrency: one thread (the engine's); the sinks' send/poll/drain run on it. Counters go
/// to run_stats as relaxed stores, for readers on other threads; `stop` may be set from any
/// thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/connector.hpp"
#include "devices/group_model.hpp"
#include "src/config/profile.hpp"
#include "src/engine/engine.hpp"
#include "src/engine/pacer.hpp"
#include "src/engine/window_batch.hpp"
#include "src/engine/window_merge.hpp"
#include "src/telemetry/run_control.hpp"
#include "src/telemetry/run_stats.hpp"

namespace synthfeed::engine_detail {

/// When the run stops taking new work: a stop request (signal), the end of --run-for, or the
/// end of the run itself. From that moment the sinks have `grace` to deliver, /readyz answers
/// 503 and the log says so; nothing waits past it, so the process ends within `grace` of the
/// stop whatever the sinks do.
class drain_clock {
  public:
    /// `hard_end`: clock::time_point::max() for none.
    drain_clock(const std::atomic<bool>& stop, clock::time_point hard_end,
                std::chrono::milliseconds grace, run_control* control)
        : stop_(stop), hard_end_(hard_end), grace_(grace), control_(control) {}

    /// True once the run is stopping; starts the drain the first time.
    bool stopping() noexcept { return started_ || start_if_due(); }
    /// Starts the drain now (once), saying why in the log. `cut_short`: the run stops before
    /// its schedule ends (a stop request, --run-for), so what it did not send is a shortfall.
    void begin(const char* why, bool cut_short = false) noexcept;
    /// The drain deadline (valid once stopping).
    deadline until() const noexcept { return until_; }
    /// Whether a stop or --run-for ended the run (valid once stopping).
    bool cut_short() const noexcept { return cut_short_; }
    /// When the run stopped taking new work: the --run-for end itself (found up to one
    /// checkpoint later), or the moment a stop was seen (valid once stopping).
    clock::time_point stopped_at() const noexcept { return stopped_at_; }

  private:
    bool start_if_due() noexcept;

    const std::atomic<bool>& stop_;
    clock::time_point hard_end_;
    std::chrono::milliseconds grace_;
    run_control* control_;
    bool started_ = false;
    bool cut_short_ = false;
    deadline until_{};
    clock::time_point stopped_at_{};
};

enum class delivery { handed_over, abandoned };

/// Runs between retries of a full sink (the progress line goes on while a sink is blocked).
using waiting_fn = std::function<void()>;

/// Slow path of deliver(): polls and retries a full sink.
delivery deliver_when_full(connector& c, const record& r, drain_clock& drain,
                           const waiting_fn& waiting) noexcept;

/// Sends with backpressure: a full queue is polled and retried, never dropped. Once the run
/// is stopping, a sink still full at the drain deadline is given up on: the caller counts the
/// message as failed, so nothing is lost silently. Inline: one send a message, and sinks are
/// rarely full.
inline delivery deliver(connector& c, const record& r, drain_clock& drain,
                        const waiting_fn& waiting) noexcept {
    if (c.send(r) != send_result::queue_full) [[likely]]
        return delivery::handed_over;
    return deliver_when_full(c, r, drain, waiting);
}

/// How many messages the run may send.
struct message_limits {
    std::uint64_t count = UINT64_MAX; ///< --count
    /// A load shape's exact total under --run-for (integer accounting of its schedule); a rate
    /// change through the control API drops it, and the clock decides instead.
    std::uint64_t schedule = UINT64_MAX;
};

struct emitter_setup {
    const profile* plan = nullptr;
    const device_directory* ids = nullptr;
    run_sinks sinks;
    sim_time sim_start = 0;
    bool label_headers = false;
    std::chrono::milliseconds progress_every{0}; ///< 0 = no progress lines
    message_limits limits;
    clock::time_point wall_start;
    run_control* control = nullptr; ///< optional
};

class emitter {
  public:
    /// References must outlive the emitter; `sinks.data` is required.
    emitter(const emitter_setup& setup, run_stats& stats, pacer& pace, drain_clock& drain);
    emitter(const emitter&) = delete; // idle and waiting hooks point at this
    emitter& operator=(const emitter&) = delete;

    /// Sends one window: its messages as merged from `batches` (event times from
    /// `window_start`), then the episode lines due by `window_end` (all in the `last_window`),
    /// then publishes the counters. Once it cuts the run, finished() is true and nothing more
    /// is sent.
    void emit_window(std::span<window_batch* const> batches, sim_time window_start,
                     sim_time window_end, bool last_window);
    bool finished() const noexcept { return finished_; }

    /// Serves the sinks' callbacks, the lag and the progress line between windows and while
    /// the workers are still generating the next one.
    void serve_sinks();

    /// Ends the run: starts the drain, drains every sink until its deadline and returns the
    /// summary of what was sent, delivered and lost.
    run_summary drain_and_summarise(bool interrupted);

    /// Records a control event (rate change, pause, injection) for the summary, timed now.
    void note_event(std::string what, bool changes_content);

    /// How waiting injection requests get scheduled (by the engine, which owns the windows).
    /// The emitter calls it as soon as one waits, also while the pacer sleeps or a pause
    /// holds, so a request is answered within a nap instead of at the next window.
    void on_injections(std::function<void()> schedule) {
        schedule_injections_ = std::move(schedule);
    }

    /// Waits up to `d` serving the sinks (the pacer's idle): wake::stop once the run is
    /// stopping, wake::control as soon as a control request waits, else wake::due.
    wake idle(clock::duration d);

  private:
    /// Where a cut falls in the window being sent: the first entry not sent.
    struct window_cut {
        sim_time ts;
        std::uint64_t device;
        bool split_tie; ///< between two entries of one device due in the same millisecond
    };
    struct held_episode {
        episode_entry entry;
        std::string line;
    };

    void send_messages(window_merge& merge, sim_time window_start);
    void cut_at(sim_time ts, std::uint64_t device, bool split_tie = false) noexcept {
        finished_ = true;
        cut_ = {ts, device, split_tie};
    }
    bool checkpoint(sim_time ts);
    void send_episode_lines(std::span<window_batch* const> batches, sim_time window_end,
                            bool last_window);
    void publish_counts() noexcept;
    bool control_pending() const noexcept;
    void apply_control();
    void apply_rate();
    void take_injections();
    void while_blocked();
    void observe_schedule();
    void report_progress();
    void report_shortfall(run_summary& summary) const;

    emitter_setup setup_;
    run_stats& stats_;
    pacer& pace_;
    drain_clock& drain_;
    const idle_fn idle_;
    const waiting_fn waiting_;
    std::uint64_t limit_;
    double nominal_rate_; ///< this shard's messages per simulated second at nominal cadence
    std::uint64_t checkpoint_mask_ = 1023; ///< a checkpoint when (message number & mask) == 0
    sim_time next_unsent_ts_ = 0;          ///< event time of the oldest message not yet sent
    bool pausing_ = false;
    std::function<void()> schedule_injections_;
    bool finished_ = false;
    window_cut cut_{};
    std::uint64_t generated_ = 0, suppressed_ = 0, labels_ = 0;
    std::uint64_t abandoned_ = 0, truth_abandoned_ = 0; // given up on a full sink after a stop
    run_summary summary_;
    clock::time_point last_progress_;
    std::uint64_t last_progress_count_ = 0;
    std::uint64_t last_progress_bytes_ = 0;
    std::vector<held_episode> held_episodes_; // label due in a later window
    std::vector<std::pair<episode_entry, std::string_view>> window_episodes_;
    std::array<record_header, 4> headers_; // --label-headers: refilled per message
};

} // namespace synthfeed::engine_detail
