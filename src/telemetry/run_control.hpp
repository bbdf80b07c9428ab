#pragma once
/// Shared state between the HTTP control plane and the engine: pause, rate changes and
/// readiness. Written by either side, read by the other; atomics only.

#include <atomic>
#include <cmath>
#include <limits>

namespace synthfeed {

struct run_control {
    std::atomic<bool> paused{false};
    /// A new constant target rate requested through the API (NaN: none pending).
    std::atomic<double> requested_rate{std::numeric_limits<double>::quiet_NaN()};
    std::atomic<double> target_rate{0}; ///< current target msg/s (0: none, profile cadence)
    std::atomic<bool> running{false};   ///< generation started and not yet draining
    std::atomic<bool> draining{false};
};

} // namespace synthfeed
