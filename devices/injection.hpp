#pragma once
/// Episodes injected while a run is in progress (the control API's POST /v1/anomalies). They
/// are applied and labelled like scheduled episodes, but live outside the per-device state:
/// they are rare, and a million devices should not pay for a slot each.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "src/config/profile.hpp"

namespace synthfeed {

/// Marks an episode_ref (and episode_view) as injected; its `episode` is then the injection id.
inline constexpr std::uint32_t injected_anomaly = 0xFFFFFFFFu;

/// One injected episode, targeting one device or a whole group.
struct injected_episode {
    static constexpr std::uint64_t whole_group = UINT64_MAX;

    std::uint32_t id = 0; ///< run-wide, from 0
    std::uint32_t group = 0;
    std::uint64_t device = whole_group; ///< global index, or whole_group
    anomaly_kind kind = anomaly_kind::level_shift;
    int field = -1; ///< -1 for dropout
    double magnitude = 0;
    sim_time start = 0;
    sim_time end = 0;              ///< exclusive; a spike covers each device's first tick ≥ start
    std::int64_t first_window = 0; ///< the engine window from which workers apply it

    bool targets(std::uint32_t g, std::uint64_t global) const noexcept {
        return g == group && (device == whole_group || device == global);
    }
};

/// Append-only list of injections. Concurrency: one writer (the engine's emitter) publishes
/// each entry with a release store of the count; readers (workers) load the count with acquire
/// and read only that prefix, which never changes again. Fixed capacity: no reallocation.
class injection_board {
  public:
    explicit injection_board(std::size_t capacity = 4096)
        : items_(std::make_unique<injected_episode[]>(capacity)), capacity_(capacity) {}

    /// Publishes an episode and returns the id it gets; nothing when the board is full.
    std::optional<std::uint32_t> publish(injected_episode e) noexcept {
        const std::size_t n = count_.load(std::memory_order_relaxed);
        if (n == capacity_) return std::nullopt;
        e.id = static_cast<std::uint32_t>(n);
        items_[n] = e;
        count_.store(n + 1, std::memory_order_release);
        return e.id;
    }

    /// Every injection published so far.
    std::span<const injected_episode> published() const noexcept {
        return {items_.get(), count_.load(std::memory_order_acquire)};
    }

    /// The injections a worker applies to `window`: published ones whose first window has come
    /// (first windows never decrease, so this is a prefix).
    std::span<const injected_episode> for_window(std::int64_t window) const noexcept {
        auto all = published();
        std::size_t n = all.size();
        while (n > 0 && all[n - 1].first_window > window) --n;
        return all.first(n);
    }

    const injected_episode& operator[](std::uint32_t id) const noexcept { return items_[id]; }

  private:
    std::unique_ptr<injected_episode[]> items_;
    std::size_t capacity_;
    std::atomic<std::size_t> count_{0};
};

} // namespace synthfeed
