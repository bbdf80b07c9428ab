#pragma once
/// `mqtt://HOST:PORT/TOPIC` and `mqtts://…` on Eclipse Paho MQTT C++ (Debian's 1.2.0 over
/// Paho C 1.3.11, whose poll()-based loop handles more than 1,024 sockets).
///
/// Delivery accounting: QoS 0 counts as delivered when Paho has written the message, QoS 1/2
/// on PUBACK/PUBCOMP (Paho's success callback). Outstanding messages are bounded; past the
/// bound, send() returns queue_full (backpressure) or, with on_full=drop, drops and counts.
///
/// Concurrency: send/poll/drain run on the emitter thread; Paho's callbacks run on its own
/// threads and only touch atomics.

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <mqtt/async_client.h>

#include "connectors/connector.hpp"
#include "connectors/connector_registry.hpp"
#include "connectors/mqtt/mqtt_options.hpp"

namespace synthfeed {

class mqtt_connector final : public connector, private mqtt::iaction_listener {
  public:
    /// Validates options (config_error, exit 2) and makes the first connection, so a bad
    /// password or an absent broker fails at once (std::runtime_error, exit 1).
    mqtt_connector(const sink_uri& uri, const connector_context& ctx);
    ~mqtt_connector() override;

    send_result send(const record& r) noexcept override;
    void poll(std::chrono::milliseconds wait) noexcept override;
    std::uint64_t drain(deadline until) noexcept override;
    health check() const override;
    std::string_view name() const noexcept override { return "mqtt"; }

    std::size_t connections() const noexcept { return clients_.size(); }

  private:
    void on_success(const mqtt::token& tok) override;
    void on_failure(const mqtt::token& tok) override;

    std::unique_ptr<mqtt::async_client> make_client(const std::string& client_id) const;
    mqtt::connect_options connect_options() const;
    mqtt::async_client* client_for(const record& r) noexcept;
    bool may_connect_now() noexcept;
    void disconnect_all(deadline until) noexcept;
    /// Paho hands a void* back with each acknowledgement: it carries the send time (µs since
    /// the connector was made, 40 bits) and the payload size (24 bits; encoder payloads are
    /// far smaller), so the callback needs no allocation or lookup.
    void* pack_context(std::size_t payload_bytes) const noexcept;
    using clock = std::chrono::steady_clock;
    static constexpr unsigned context_size_bits = 24, context_time_bits = 40;
    static constexpr std::uint64_t context_size_mask = (std::uint64_t{1} << context_size_bits) - 1;

    mqtt_options options_;
    std::vector<std::unique_ptr<mqtt::async_client>> clients_;
    std::unordered_map<std::string, mqtt::async_client*> by_device_; ///< per-device mode
    std::int64_t outstanding_limit_;
    std::atomic<std::int64_t> outstanding_{0}; ///< accepted, not yet acknowledged
    std::chrono::steady_clock::time_point bucket_time_ = std::chrono::steady_clock::now();
    double bucket_tokens_ = 1;
    bool closed_ = false;
    std::string last_error_;
    clock::time_point created_ = clock::now();
};

} // namespace synthfeed
