#pragma once
/// The contract every sink meets. A connector knows bytes, keys and destinations, never
/// anomalies or devices. Counting rules: `delivered` only once the destination has taken the
/// message (written to the fd, acknowledged by the broker); `failed` for every message that
/// will never be delivered, including rejected sends. No message leaves uncounted.
///
/// Concurrency: send/poll/drain are called from one thread (the engine's emitter); counts()
/// and check() may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace synthfeed {

struct record_header {
    std::string_view name;
    std::string_view value;
};

/// One message as the engine hands it over. Views stay valid until send() returns.
struct record {
    std::string_view key; ///< device id by default
    std::string_view payload;
    std::string_view device_id;
    std::string_view group;
    std::span<const record_header> headers;
};

enum class send_result {
    accepted,   ///< queued or written; will be counted delivered or failed later
    queue_full, ///< backpressure: poll() and send again; nothing was counted
    rejected,   ///< will never be delivered; already counted as failed
    dropped     ///< discarded by a drop policy the user asked for; already counted as dropped
};

struct delivery_counts {
    std::uint64_t delivered = 0;
    std::uint64_t failed = 0;
    std::uint64_t dropped = 0; ///< only under an explicit drop policy
    std::uint64_t bytes = 0;   ///< payload bytes delivered
};

struct health {
    bool ok = true;
    std::string detail;
};

using deadline = std::chrono::steady_clock::time_point;

class connector {
  public:
    virtual ~connector() = default;

    /// Hands one message over without blocking.
    virtual send_result send(const record& r) noexcept = 0;
    /// Serves delivery reports and other callbacks for up to `wait`.
    virtual void poll(std::chrono::milliseconds wait) noexcept = 0;
    /// Flushes until everything is delivered or the deadline passes; returns how many
    /// accepted messages are still undelivered (and counts them as failed).
    virtual std::uint64_t drain(deadline until) noexcept = 0;
    /// For /readyz and start-up checks.
    virtual health check() const = 0;
    /// Bytes written once before the first message by stream-like sinks (a CSV header).
    virtual void write_preamble(std::string_view) noexcept {}
    /// A short name for logs and metrics ("file", "kafka").
    virtual std::string_view name() const noexcept = 0;

    delivery_counts counts() const noexcept {
        return {delivered_.load(std::memory_order_relaxed), failed_.load(std::memory_order_relaxed),
                dropped_.load(std::memory_order_relaxed), bytes_.load(std::memory_order_relaxed)};
    }

  protected:
    // Counters have a single writer, the emitter thread (send, poll and drain run there, and so
    // do librdkafka's and our delivery callbacks), so a plain load + store suffices: no locked
    // read-modify-write on the hot path. Readers on other threads see relaxed snapshots.
    void count_delivered(std::uint64_t n, std::uint64_t bytes) noexcept {
        delivered_.store(delivered_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
        bytes_.store(bytes_.load(std::memory_order_relaxed) + bytes, std::memory_order_relaxed);
    }
    void count_failed(std::uint64_t n) noexcept {
        failed_.store(failed_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    // For connectors whose client library reports from its own threads (Paho MQTT): atomic
    // read-modify-write. A connector uses one family or the other, never both.
    void count_delivered_concurrently(std::uint64_t n, std::uint64_t bytes) noexcept {
        delivered_.fetch_add(n, std::memory_order_relaxed);
        bytes_.fetch_add(bytes, std::memory_order_relaxed);
    }
    void count_failed_concurrently(std::uint64_t n) noexcept {
        failed_.fetch_add(n, std::memory_order_relaxed);
    }
    void count_dropped_concurrently(std::uint64_t n) noexcept {
        dropped_.fetch_add(n, std::memory_order_relaxed);
    }

  private:
    std::atomic<std::uint64_t> delivered_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> bytes_{0};
};

} // namespace synthfeed
