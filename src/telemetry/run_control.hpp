#pragma once
/// Shared state between the HTTP control plane and the engine: pause, rate changes, injected
/// episodes and readiness. Flags are atomics; injection requests go through a small locked
/// queue (they are rare), answered by the engine once it has scheduled them.

#include <atomic>
#include <cmath>
#include <cstdint>
#include <future>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "devices/injection.hpp"

namespace synthfeed {

/// An episode to inject now (POST /v1/anomalies), resolved against the profile: the engine
/// fills in id, start, end and first window.
struct injection_request {
    injected_episode episode;
    sim_duration duration = 0; ///< ignored for a spike (one tick)
};

/// What the engine did with an injection request.
struct injection_outcome {
    bool accepted = false;
    std::uint32_t id = 0;
    sim_time start = 0; ///< simulated time from which it applies
    sim_time end = 0;
    std::string error; ///< why not, when not accepted
};

/// Requests waiting for the engine's next window boundary. Any thread submits; the engine takes.
class injection_queue {
  public:
    using pending = std::pair<injection_request, std::promise<injection_outcome>>;

    std::future<injection_outcome> submit(const injection_request& r) {
        std::lock_guard lock(mutex_);
        waiting_.emplace_back(r, std::promise<injection_outcome>{});
        any_.store(true, std::memory_order_release);
        return waiting_.back().second.get_future();
    }
    std::vector<pending> take() {
        std::lock_guard lock(mutex_);
        any_.store(false, std::memory_order_relaxed);
        return std::exchange(waiting_, {});
    }
    /// Whether a request waits, without the lock (the engine looks while it sleeps).
    bool any() const noexcept { return any_.load(std::memory_order_acquire); }

  private:
    std::mutex mutex_;
    std::vector<pending> waiting_;
    std::atomic<bool> any_{false};
};

struct run_control {
    std::atomic<bool> paused{false};
    /// A new constant target rate requested through the API (NaN: none pending).
    std::atomic<double> requested_rate{std::numeric_limits<double>::quiet_NaN()};
    std::atomic<double> target_rate{0}; ///< current target msg/s (0: none, profile cadence)
    std::atomic<bool> running{false};   ///< generation started and not yet draining
    std::atomic<bool> draining{false};
    injection_queue injections;
};

} // namespace synthfeed
