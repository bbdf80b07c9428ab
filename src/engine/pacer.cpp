#include "src/engine/pacer.hpp"

#include <algorithm>

namespace synthfeed::engine_detail {

pacer::pacer(sim_time sim_start, double speed, const load_spec& load, clock_fn now)
    : now_(now), sim_start_(sim_start), speed_(speed), schedule_(load),
      by_count_(load.shape != load_shape::none), wall_start_(now()) {}

double pacer::elapsed_seconds() const {
    return std::chrono::duration<double>(now_() - wall_start_).count();
}

void pacer::observe_lag(sim_time ts, std::uint64_t index, run_stats& stats) {
    if (by_count_) {
        record_lag(elapsed_seconds() - due(index), stats);
    } else if (speed_ > 0) {
        record_lag(elapsed_seconds() - static_cast<double>(ts - sim_start_) / speed_ / 1000, stats);
    }
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

bool pacer::wait_for_time(sim_time ts, const idle_fn& idle, run_stats& stats) {
    const auto due = wall_start_ + std::chrono::duration_cast<clock::duration>(
                                       std::chrono::duration<double, std::milli>(
                                           static_cast<double>(ts - sim_start_) / speed_));
    if (!sleep_until(due, idle, stats)) return false;
    // Everything up to the simulated "now" is due without looking at the clock again.
    due_until_ =
        sim_start_ +
        static_cast<sim_time>(
            std::chrono::duration<double, std::milli>(now_() - wall_start_).count() * speed_);
    return true;
}

bool pacer::wait_for_count(std::uint64_t index, const idle_fn& idle, run_stats& stats) {
    allowed_ = allowed_at(elapsed_seconds());
    if (index < allowed_) {
        record_lag(elapsed_seconds() - due(index), stats);
        return true;
    }
    const auto due_at = wall_start_ + std::chrono::duration_cast<clock::duration>(
                                          std::chrono::duration<double>(due(index)));
    if (!sleep_until(due_at, idle, stats)) return false;
    allowed_ = std::max(index + 1, allowed_at(elapsed_seconds()));
    return true;
}

bool pacer::sleep_until(clock::time_point due, const idle_fn& idle, run_stats& stats) {
    auto now = now_();
    record_lag(std::chrono::duration<double>(now - due).count(), stats);
    while (now < due) {
        // Short naps that serve the sinks: keepalives, acknowledgements, reconnects and
        // connect_rate go on while a slow schedule waits.
        if (!idle(std::min<clock::duration>(due - now, std::chrono::milliseconds(10))))
            return false;
        now = now_();
    }
    return true;
}

void pacer::record_lag(double lag, run_stats& stats) noexcept {
    lag = std::max(0.0, lag);
    max_lag_ = std::max(max_lag_, lag);
    stats.lag_seconds.store(lag, std::memory_order_relaxed);
}

} // namespace synthfeed::engine_detail
