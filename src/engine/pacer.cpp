#include "src/engine/pacer.hpp"

#include <algorithm>
#include <cmath>

namespace synthfeed::engine_detail {

pacer::pacer(sim_time sim_start, double speed, const load_spec& load, clock_fn now)
    : now_(now), sim_start_(sim_start), speed_(speed), schedule_(load),
      by_count_(load.shape != load_shape::none), wall_start_(now()) {}

double pacer::elapsed_seconds() const {
    return std::chrono::duration<double>(now_() - wall_start_).count();
}

double pacer::lag_after(sim_time ts, std::uint64_t index, double elapsed) const noexcept {
    if (by_count_) return elapsed - due(index);
    if (speed_ > 0) return elapsed - static_cast<double>(ts - sim_start_) / speed_ / 1000;
    return 0;
}

double pacer::observe_lag(sim_time ts, std::uint64_t index, run_stats& stats) {
    if (!by_count_ && speed_ <= 0) return 0;
    return record_lag(lag_after(ts, index, elapsed_seconds()), stats);
}

std::uint64_t pacer::shortfall(sim_time ts, std::uint64_t index, double nominal_rate,
                               clock::time_point at) const {
    const double elapsed = std::chrono::duration<double>(at - wall_start_).count();
    if (by_count_) {
        const std::uint64_t wanted = allowed_at(elapsed);
        return wanted > index ? wanted - index : 0;
    }
    if (speed_ <= 0) return 0;
    const double behind = std::max(0.0, lag_after(ts, index, elapsed)); // wall seconds
    return static_cast<std::uint64_t>(std::llround(behind * speed_ * nominal_rate));
}

double pacer::mean_target_rate(clock::time_point at, double nominal_rate) const noexcept {
    const double seconds = seconds_at(at);
    if (by_count_) return seconds > 0 ? static_cast<double>(allowed_at(seconds)) / seconds : 0;
    return speed_ > 0 ? speed_ * nominal_rate : 0;
}

std::uint64_t pacer::checkpoint_every(double nominal_rate) const noexcept {
    const double rate = by_count_ ? schedule_.peak_rate() : speed_ * nominal_rate;
    if (rate <= 0) return 1024; // not paced: only stops and control requests to look for
    const double in_10ms = rate / 100;
    std::uint64_t every = 1;
    while (every < 1024 && static_cast<double>(every * 2) <= in_10ms) every *= 2;
    return every;
}

void pacer::set_rate(double rate, std::uint64_t index) {
    load_spec constant;
    constant.shape = load_shape::constant;
    constant.rate = rate;
    schedule_ = load_schedule(constant);
    by_count_ = true;
    base_time_ = elapsed_seconds();
    base_index_ = index;
    allowed_ = index;
}

wake pacer::wait_for_time(sim_time ts, const idle_fn& idle, run_stats& stats) {
    const auto due = wall_start_ + std::chrono::duration_cast<clock::duration>(
                                       std::chrono::duration<double, std::milli>(
                                           static_cast<double>(ts - sim_start_) / speed_));
    if (const wake w = sleep_until(due, idle, stats); w != wake::due) return w;
    // Everything up to the simulated "now" is due without looking at the clock again.
    due_until_ =
        sim_start_ +
        static_cast<sim_time>(
            std::chrono::duration<double, std::milli>(now_() - wall_start_).count() * speed_);
    return wake::due;
}

wake pacer::wait_for_count(std::uint64_t index, const idle_fn& idle, run_stats& stats) {
    allowed_ = allowed_at(elapsed_seconds());
    if (index < allowed_) {
        record_lag(elapsed_seconds() - due(index), stats);
        return wake::due;
    }
    const auto due_at = wall_start_ + std::chrono::duration_cast<clock::duration>(
                                          std::chrono::duration<double>(due(index)));
    if (const wake w = sleep_until(due_at, idle, stats); w != wake::due) return w;
    allowed_ = std::max(index + 1, allowed_at(elapsed_seconds()));
    return wake::due;
}

wake pacer::sleep_until(clock::time_point due, const idle_fn& idle, run_stats& stats) {
    auto now = now_();
    record_lag(std::chrono::duration<double>(now - due).count(), stats);
    while (now < due) {
        // Short naps that serve the sinks: keepalives, acknowledgements, reconnects and
        // connect_rate go on while a slow schedule waits; a stop or a control request ends
        // the nap, so a rate change is seen within 10 ms however far away `due` is.
        const wake w = idle(std::min<clock::duration>(due - now, std::chrono::milliseconds(10)));
        if (w != wake::due) return w;
        now = now_();
    }
    return wake::due;
}

double pacer::record_lag(double lag, run_stats& stats) noexcept {
    lag = std::max(0.0, lag);
    max_lag_ = std::max(max_lag_, lag);
    stats.lag_seconds.store(lag, std::memory_order_relaxed);
    return lag;
}

} // namespace synthfeed::engine_detail
