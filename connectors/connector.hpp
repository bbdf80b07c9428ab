#pragma once
/// The contract every sink meets. A connector knows bytes, keys and destinations, never
/// anomalies or devices. Counting rules: `delivered` only once the destination has taken the
/// message (written to the fd, acknowledged by the broker); `failed` for every message that
/// was not delivered, including rejected sends; `in_doubt` for a message whose fate is
/// unknown (sent to a broker that went away before acknowledging it: it may be stored).
/// No message leaves uncounted: accepted = delivered + failed + dropped + in_doubt.
///
/// Concurrency: send/poll/drain are called from one thread (the engine's emitter); counts()
/// and check() may be called from any thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "src/core/latency_histogram.hpp"

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
    std::uint64_t dropped = 0;  ///< only under an explicit drop policy
    std::uint64_t bytes = 0;    ///< payload bytes delivered
    std::uint64_t in_doubt = 0; ///< possibly stored, never acknowledged
};

/// Why a message failed, for synthfeed_send_errors_total{error_type}: a small fixed set, so
/// the metric's cardinality stays bounded whatever the client library reports.
enum class send_error : std::uint8_t {
    rejected,       ///< refused at send (closed or fatally failed client, invalid message)
    timed_out,      ///< not acknowledged within the client's delivery timeout
    broker,         ///< the broker answered with an error
    client,         ///< another client-side error
    drain_deadline, ///< still unacknowledged when the drain deadline passed
    io,             ///< a write to a file or stdout failed
};
inline constexpr std::size_t send_error_types = 6;
inline constexpr std::array<const char*, send_error_types> send_error_names{
    "rejected", "timed_out", "broker", "client", "drain_deadline", "io"};

/// Connection states of a connector that holds many broker connections (MQTT per-device
/// fleets), for the progress line, the summary and /metrics. Written by the emitter thread,
/// read from any thread.
struct connection_counts {
    std::atomic<std::int64_t> clients{0};        ///< clients created (one per device, or N)
    std::atomic<std::int64_t> connected_peak{0}; ///< most clients connected at once
    std::atomic<std::int64_t> connected{0};      ///< CONNACK received, link up
    std::atomic<std::int64_t> connecting{0};     ///< first attempt, or waiting for connect_rate
    std::atomic<std::int64_t> reconnecting{0};   ///< lost or refused, retrying with backoff
    std::atomic<std::int64_t> failed{0};         ///< given up after `give_up`
    std::atomic<std::uint64_t> reconnects{0};    ///< links re-established after a loss
    std::atomic<std::uint64_t> resent{0};        ///< QoS 1/2 messages resent after a reconnect
    latency_histogram connect_latency;           ///< connect start to CONNACK, seconds
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
    /// Connection states, for connectors with broker connections of their own (else null).
    virtual const connection_counts* fleet() const noexcept { return nullptr; }

    delivery_counts counts() const noexcept {
        return {delivered_.load(std::memory_order_relaxed), failed_.load(std::memory_order_relaxed),
                dropped_.load(std::memory_order_relaxed), bytes_.load(std::memory_order_relaxed),
                in_doubt_.load(std::memory_order_relaxed)};
    }
    /// Failed messages by reason; they add up to counts().failed.
    std::array<std::uint64_t, send_error_types> errors() const noexcept {
        std::array<std::uint64_t, send_error_types> out{};
        for (std::size_t t = 0; t < out.size(); ++t)
            out[t] = errors_[t].load(std::memory_order_relaxed);
        return out;
    }
    /// Send-to-acknowledgement latency of brokered sinks (empty for files and null).
    const latency_histogram& latency() const noexcept { return latency_; }

  protected:
    // Counters have a single writer, the emitter thread (send, poll and drain run there, and so
    // do librdkafka's and our delivery callbacks), so a plain load + store suffices: no locked
    // read-modify-write on the hot path. Readers on other threads see relaxed snapshots.
    void count_delivered(std::uint64_t n, std::uint64_t bytes) noexcept {
        delivered_.store(delivered_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
        bytes_.store(bytes_.load(std::memory_order_relaxed) + bytes, std::memory_order_relaxed);
    }
    /// `cause`, when given, is logged with the first failure of each kind (then never again
    /// for that kind: the counts and /metrics carry the rest).
    void count_failed(std::uint64_t n, send_error why, std::string_view cause = {}) noexcept {
        failed_.store(failed_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
        auto& e = errors_[static_cast<std::size_t>(why)];
        const std::uint64_t before = e.load(std::memory_order_relaxed);
        e.store(before + n, std::memory_order_relaxed);
        if (before == 0 && n > 0) log_first_failure(why, cause, n);
    }
    /// Messages sent to a broker that may have stored them but never said so.
    void count_in_doubt(std::uint64_t n, std::string_view cause = {}) noexcept {
        const std::uint64_t before = in_doubt_.load(std::memory_order_relaxed);
        in_doubt_.store(before + n, std::memory_order_relaxed);
        if (before == 0 && n > 0) log_first_in_doubt(cause, n);
    }
    void count_dropped(std::uint64_t n) noexcept {
        dropped_.store(dropped_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

  private:
    void log_first_failure(send_error why, std::string_view cause, std::uint64_t n) const noexcept;
    void log_first_in_doubt(std::string_view cause, std::uint64_t n) const noexcept;

    std::atomic<std::uint64_t> delivered_{0};
    std::atomic<std::uint64_t> in_doubt_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> bytes_{0};
    std::array<std::atomic<std::uint64_t>, send_error_types> errors_{};

  protected:
    latency_histogram latency_;
};

} // namespace synthfeed
