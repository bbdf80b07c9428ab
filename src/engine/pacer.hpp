#pragma once
/// Paces emission to the wall clock and measures how late it runs. Two modes:
/// - --speed s (simulated seconds per wall second): message with event time ts is due at
///   (ts - sim_start) / s after the start; speed 0 means as fast as possible.
/// - a load shape, or a rate set through the control API (by count): message k (0-based) is
///   due once floor(∫ rate) > k, at due(k) seconds after the start (integer accounting).
/// Lag is how far behind its due time a message goes out, in seconds (never negative).
///
/// Lag is how far behind its due time the oldest unsent message is, in seconds (never
/// negative); shortfall is how many messages were due by the stop and not sent.
///
/// The wall clock is read through a `clock_fn`, so tests can drive it. No errors: waiting
/// ends early when `idle` reports a stop or a control request (rate, pause), so a pacer that
/// sleeps until an hourly message still answers them at once.
///
/// Concurrency: one thread (the emitter's). It writes run_stats::lag_seconds (relaxed).

#include <chrono>
#include <cstdint>
#include <functional>

#include "src/config/profile.hpp"
#include "src/core/time.hpp"
#include "src/engine/load_schedule.hpp"
#include "src/telemetry/run_stats.hpp"

namespace synthfeed::engine_detail {

using clock = std::chrono::steady_clock;
/// Reads the wall clock: clock::now, or a fake in tests.
using clock_fn = clock::time_point (*)() noexcept;

/// Why a wait ended.
enum class wake : std::uint8_t {
    due,     ///< the message is due (from idle_fn: nothing happened, go on waiting)
    stop,    ///< the run is stopping
    control, ///< a control request (rate change, pause) waits to be applied first
};

/// Waits for up to the given time while serving the sinks; says whether something other than
/// time wants the emitter. Called only while the pacer sleeps, never once a message.
using idle_fn = std::function<wake(clock::duration)>;

class pacer {
  public:
    /// Starts the schedule now (`now()`): the start of the wall clock the pacer measures.
    pacer(sim_time sim_start, double speed, const load_spec& load, clock_fn now = &clock::now);

    /// Waits, serving the sinks through `idle`, until message number `index` (event time `ts`)
    /// is due (wake::due), or until `idle` reports a stop or a control request. Inline: it
    /// runs once a message, and most messages are due already (no clock read).
    wake wait_for(sim_time ts, std::uint64_t index, const idle_fn& idle, run_stats& stats) {
        if (by_count_ ? index < allowed_ : speed_ <= 0 || ts <= due_until_) return wake::due;
        return by_count_ ? wait_for_count(index, idle, stats) : wait_for_time(ts, idle, stats);
    }

    /// Wall seconds since the start.
    double elapsed_seconds() const;
    /// Wall seconds from the start to `at`, pauses left out.
    double seconds_at(clock::time_point at) const noexcept {
        return std::chrono::duration<double>(at - wall_start_).count();
    }
    /// The schedule's mean rate (msg/s) from the start to `at`: what it let out over that
    /// time, or `speed` × `nominal_rate` (msg per simulated second) when paced by --speed;
    /// 0 when not paced.
    double mean_target_rate(clock::time_point at, double nominal_rate) const noexcept;
    /// The largest lag behind the schedule seen so far (seconds).
    double max_lag() const noexcept { return max_lag_; }

    /// Records how late message `index` (event time `ts`), the oldest one not yet sent, is
    /// now: the run's lag. wait_for sees lag only when it has to sleep, which a run that has
    /// fallen behind never does, so the emitter also calls this between messages and while a
    /// sink holds it back. Returns the lag (seconds).
    double observe_lag(sim_time ts, std::uint64_t index, run_stats& stats);

    /// How late (seconds; negative when early) message `index` (event time `ts`) is at
    /// wall time `at`; 0 when not paced.
    double lag_at(sim_time ts, std::uint64_t index, clock::time_point at) const noexcept {
        return lag_after(ts, index, std::chrono::duration<double>(at - wall_start_).count());
    }

    /// Messages the schedule wanted by wall time `at` that were not sent, when message `index`
    /// (event time `ts`) is the oldest unsent one. By count it is exact; by --speed it is
    /// estimated from the lag and `nominal_rate` (msg per simulated second), since how many
    /// messages fall in a span of event time is only known by generating them. 0 when not
    /// paced.
    std::uint64_t shortfall(sim_time ts, std::uint64_t index, double nominal_rate,
                            clock::time_point at) const;
    /// True when shortfall() is an estimate (paced by --speed), false when exact.
    bool shortfall_estimated() const noexcept { return !by_count_; }

    /// How many messages between the emitter's looks at the clock keep its view of lag and
    /// control requests within about 10 ms at the target rate: 1024 at high rates, fewer
    /// (down to 1) at low ones. A power of two.
    std::uint64_t checkpoint_every(double nominal_rate) const noexcept;

    /// Holds the schedule still for a pause: everything due shifts by `d`.
    void shift(clock::duration d) noexcept { wall_start_ += d; }

    /// Switches to a constant `rate` (msg/s) from now on, message `index` onwards (control API).
    void set_rate(double rate, std::uint64_t index);

    /// When message `index` is due by count: seconds after the start (load shape or rate).
    double due(std::uint64_t index) const noexcept {
        return base_time_ + schedule_.due_time(index - base_index_);
    }

  private:
    std::uint64_t allowed_at(double t) const noexcept {
        return base_index_ + schedule_.allowed(t - base_time_);
    }
    wake wait_for_time(sim_time ts, const idle_fn& idle, run_stats& stats);
    wake wait_for_count(std::uint64_t index, const idle_fn& idle, run_stats& stats);
    wake sleep_until(clock::time_point due, const idle_fn& idle, run_stats& stats);
    double record_lag(double lag, run_stats& stats) noexcept;
    /// lag_at() with wall time as seconds after the start.
    double lag_after(sim_time ts, std::uint64_t index, double elapsed) const noexcept;

    clock_fn now_;
    double max_lag_ = 0;
    sim_time sim_start_;
    double speed_;
    load_schedule schedule_;
    bool by_count_;
    clock::time_point wall_start_;
    sim_time due_until_ = INT64_MIN; ///< by time: every event time up to here is due
    std::uint64_t allowed_ = 0;      ///< by count: messages below this index are due
    double base_time_ = 0;           ///< schedule origin (seconds after start), moved by set_rate
    std::uint64_t base_index_ = 0;   ///< messages sent before the schedule origin
};

} // namespace synthfeed::engine_detail
