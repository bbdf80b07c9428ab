#pragma once
/// `mqtt://HOST:PORT/TOPIC` and `mqtts://…` on libmosquitto (Debian 12: 2.0.11), its sockets
/// driven by our own epoll loop on the emitter thread: many clients per loop, no client thread,
/// no hand-off per message. Why not Paho, with figures: connectors/mqtt/README.md.
///
/// Delivery accounting: QoS 0 counts as delivered once libmosquitto has written the PUBLISH to
/// the socket, QoS 1/2 on PUBACK/PUBCOMP (a v5 reason code >= 0x80 counts as failed, `broker`).
/// Every accepted message is in exactly one place until it is counted: held by us (its client
/// is not connected yet, or its window is full) or outstanding in libmosquitto (the ledger).
/// After a reconnect libmosquitto resends the outstanding QoS 1/2 messages with DUP set
/// (counted in `resent`); QoS 0 messages not yet written when a connection breaks count as
/// failed (`client`). A client that stays disconnected for `give_up` is given up: its messages
/// count as failed (`timed_out`), and later ones for it are rejected.
///
/// Concurrency: send/poll/drain run on the emitter thread and so do libmosquitto's callbacks
/// (we call its loop functions there). counts(), check() and fleet() read atomics only.

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/connector_context.hpp"
#include "connectors/mqtt/mqtt_options.hpp"

struct mosquitto;
struct mqtt5__property;
typedef struct mqtt5__property mosquitto_property;

namespace synthfeed {

class mqtt_connector final : public connector {
  public:
    /// Validates options (config_error, exit 2) and makes the shared connections (per-device
    /// mode: one probe connection), so a bad password or an absent broker fails before
    /// generation starts (run_error, exit 1).
    mqtt_connector(const sink_uri& uri, const connector_context& ctx);
    ~mqtt_connector() override;

    send_result send(const record& r) noexcept override;
    void poll(std::chrono::milliseconds wait) noexcept override;
    std::uint64_t drain(deadline until) noexcept override;
    health check() const override;
    std::string_view name() const noexcept override { return "mqtt"; }
    const connection_counts* fleet() const noexcept override { return &fleet_; }

    struct session; ///< one libmosquitto client with its ledger (defined in the .cpp)
    /// Remembers libmosquitto's last error or warning for the next failure message.
    void note_error(const char* text) { last_error_ = text; }

  private:
    using clock = std::chrono::steady_clock;

    session* session_for(const record& r) noexcept;
    session& add_session(std::string client_id);
    void start_connect(session& s) noexcept;
    void serve(session& s, std::uint32_t events) noexcept;
    void sync_socket(session& s) noexcept;
    void publish_held(session& s) noexcept;
    send_result publish(session& s, const record& r) noexcept;
    enum class hand_over_result { handed, kept, refused };
    /// One PUBLISH to libmosquitto, entered in the ledger (or counted, when written at once);
    /// takes ownership of `props`.
    hand_over_result hand_over(session& s, const char* topic, std::string_view payload,
                               mosquitto_property* props, std::int64_t accepted_us) noexcept;
    void on_connected(session& s, int reason) noexcept;
    void on_disconnected(session& s, int rc) noexcept;
    void on_acknowledged(session& s, int mid, int reason) noexcept;
    void give_up(session& s, const char* why) noexcept;
    void warn_fleet(const std::string& what) noexcept;
    /// Counts one delivered message and its send-to-acknowledgement latency (µs since created_).
    void count_acknowledged(std::size_t bytes, std::int64_t accepted_us,
                            std::int64_t now_us) noexcept;
    void run_timers(clock::time_point now) noexcept;
    void start_connects(clock::time_point now) noexcept;
    void set_state(session& s, int state) noexcept;
    bool take_connect_token(clock::time_point now) noexcept;
    void wait_events(std::chrono::milliseconds wait) noexcept;
    void close_all(deadline until) noexcept;

    mqtt_options options_;
    int epoll_fd_ = -1;
    std::vector<std::unique_ptr<session>> sessions_;
    struct device_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, session*, device_hash, std::equal_to<>> by_device_;
    std::deque<session*> connect_queue_; ///< waiting for a connect_rate token
    std::size_t misc_cursor_ = 0;        ///< round-robin position of keepalive service
    clock::time_point last_timers_ = clock::now();
    clock::time_point last_fleet_warning_{};
    clock::time_point bucket_time_ = clock::now();
    double bucket_tokens_ = 1;     ///< connect_rate token bucket
    std::uint64_t held_total_ = 0; ///< messages held by us across all sessions
    std::uint64_t open_total_ = 0; ///< messages in libmosquitto's hands across all sessions
    std::atomic<bool> waiting_for_ack_{false};
    std::atomic<bool> closed_{false};
    bool in_publish_ = false; ///< a synchronous QoS 0 write acknowledges the current message
    bool current_acked_ = false;
    std::string last_error_;
    clock::time_point created_ = clock::now();
    std::atomic<std::int64_t> last_progress_us_{0}; ///< last acknowledgement or idle moment
    connection_counts fleet_;
};

} // namespace synthfeed
