#include "connectors/mqtt/mqtt_connector.hpp"

#include <functional>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "connectors/topic_template.hpp"

namespace synthfeed {
namespace {

/// Session expiry for MQTT 5 sessions kept across reconnects (clean=false).
constexpr int session_expiry_seconds = 3600;

std::string describe(const mqtt::exception& e) {
    switch (e.get_return_code()) {
    case 4:
        return "bad user name or password";
    case 5:
        return "not authorized";
    default:
        return e.what();
    }
}

} // namespace

mqtt_connector::mqtt_connector(const sink_uri& uri, const connector_context& ctx)
    : options_(parse_mqtt_uri(uri, ctx)) {
    const int planned = options_.per_device ? 1 : options_.connections;
    // Never hand Paho more than its in-flight window: commands queued behind a full window
    // fail with MQTTASYNC_OPERATION_INCOMPLETE (seen at max_inflight=20), so back off first.
    outstanding_limit_ =
        static_cast<std::int64_t>(options_.max_inflight) * (options_.per_device ? 1 : planned);
    bucket_tokens_ = std::max(1.0, options_.connect_rate / 10);
    // The first connection is made synchronously: credentials, TLS and reachability are
    // checked before generation starts.
    // All connections are opened at once and then awaited: one at a time costs about two
    // seconds each with Paho's asynchronous client. Per-device mode opens one probe
    // connection (its own id, so it never takes over a device's session) and closes it.
    std::vector<std::unique_ptr<mqtt::async_client>> opening;
    std::vector<mqtt::token_ptr> tokens;
    try {
        for (int n = 0; n < planned; ++n) {
            const std::string id = options_.per_device
                                       ? expand_client_id("synthfeed-{pid}-probe", n, "")
                                       : expand_client_id(options_.client_id, n, "");
            opening.push_back(make_client(id));
            tokens.push_back(opening.back()->connect(connect_options()));
        }
        const auto until =
            std::chrono::steady_clock::now() + options_.connect_timeout + std::chrono::seconds(1);
        for (std::size_t n = 0; n < tokens.size(); ++n) {
            tokens[n]->wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(
                std::max(until - std::chrono::steady_clock::now(),
                         std::chrono::steady_clock::duration::zero())));
            if (!opening[n]->is_connected())
                throw std::runtime_error("no CONNACK within " +
                                         std::to_string(options_.connect_timeout.count()) + " ms");
        }
    } catch (const mqtt::exception& e) {
        throw std::runtime_error("MQTT connection to " + options_.host_port +
                                 " refused: " + describe(e));
    } catch (const std::runtime_error& e) {
        throw std::runtime_error("MQTT connection to " + options_.host_port +
                                 " failed: " + e.what());
    }
    if (options_.per_device) {
        opening.front()->disconnect()->wait_for(std::chrono::seconds(5)); // probe only
    } else {
        clients_ = std::move(opening);
    }
    spdlog::debug("mqtt: connected to {} ({} connection(s){})", options_.host_port, clients_.size(),
                  options_.per_device ? ", per-device mode" : "");
}

mqtt_connector::~mqtt_connector() {
    if (!closed_) disconnect_all(std::chrono::steady_clock::now() + std::chrono::seconds(2));
}

std::unique_ptr<mqtt::async_client>
mqtt_connector::make_client(const std::string& client_id) const {
    mqtt::create_options create(options_.version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
    create.set_send_while_disconnected(true,
                                       true); // buffer through reconnects, and before the first
    create.set_max_buffered_messages(std::max(options_.buffer, options_.max_inflight));
    create.set_delete_oldest_messages(false);
    return std::make_unique<mqtt::async_client>(options_.server_uri, client_id, create);
}

mqtt::connect_options mqtt_connector::connect_options() const {
    mqtt::connect_options c;
    c.set_mqtt_version(options_.version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1);
    if (options_.version == 5) {
        c.set_clean_start(options_.clean);
        if (!options_.clean)
            c.set_properties(
                {mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, session_expiry_seconds)});
    } else {
        c.set_clean_session(options_.clean);
    }
    c.set_keep_alive_interval(options_.keepalive);
    c.set_connect_timeout(
        std::chrono::duration_cast<std::chrono::seconds>(options_.connect_timeout) +
        std::chrono::seconds(1));
    c.set_automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(30));
    c.set_max_inflight(options_.max_inflight);
    if (!options_.username.empty()) c.set_user_name(options_.username);
    if (!options_.password.empty()) c.set_password(options_.password);
    if (!options_.will_topic.empty())
        c.set_will(
            mqtt::will_options(options_.will_topic, options_.will_payload, options_.qos, false));
    if (options_.tls) {
        mqtt::ssl_options ssl;
        if (!options_.ca.empty()) ssl.set_trust_store(options_.ca);
        if (!options_.cert.empty()) ssl.set_key_store(options_.cert);
        if (!options_.key.empty()) ssl.set_private_key(options_.key);
        ssl.set_enable_server_cert_auth(!options_.insecure);
        ssl.set_verify(!options_.insecure);
        c.set_ssl(std::move(ssl));
    }
    return c;
}

bool mqtt_connector::may_connect_now() noexcept {
    const auto now = std::chrono::steady_clock::now();
    const double burst = std::max(1.0, options_.connect_rate / 10);
    bucket_tokens_ =
        std::min(burst, bucket_tokens_ + std::chrono::duration<double>(now - bucket_time_).count() *
                                             options_.connect_rate);
    bucket_time_ = now;
    if (bucket_tokens_ < 1) return false;
    bucket_tokens_ -= 1;
    return true;
}

mqtt::async_client* mqtt_connector::client_for(const record& r) noexcept {
    if (!options_.per_device) {
        if (clients_.size() == 1) return clients_.front().get();
        return clients_[std::hash<std::string_view>{}(r.device_id) % clients_.size()]
            .get(); // per-device order
    }
    auto it = by_device_.find(std::string(r.device_id));
    if (it != by_device_.end()) return it->second;
    if (!may_connect_now()) return nullptr; // connect_rate: backpressure until a token frees
    try {
        auto client = make_client(
            expand_client_id(options_.client_id, static_cast<int>(clients_.size()), r.device_id));
        client->connect(connect_options()); // asynchronous; publishes buffer until it is up
        mqtt::async_client* raw = client.get();
        clients_.push_back(std::move(client));
        by_device_.emplace(std::string(r.device_id), raw);
        return raw;
    } catch (const mqtt::exception& e) {
        last_error_ = e.what();
        return nullptr;
    }
}

send_result mqtt_connector::send(const record& r) noexcept {
    if (closed_) {
        count_failed_concurrently(1, send_error::rejected);
        return send_result::rejected;
    }
    if (outstanding_.load(std::memory_order_relaxed) >= outstanding_limit_) {
        if (!options_.drop_when_full) return send_result::queue_full;
        count_dropped_concurrently(1);
        return send_result::dropped;
    }
    mqtt::async_client* client = client_for(r);
    if (!client) return send_result::queue_full;
    try {
        std::string topic = is_fixed_topic(options_.topic_template)
                                ? options_.topic_template
                                : expand_topic(options_.topic_template, r.group, r.device_id);
        auto message = mqtt::message::create(std::move(topic), r.payload.data(), r.payload.size(),
                                             options_.qos, options_.retain);
        if (options_.version == 5 && !r.headers.empty()) {
            mqtt::properties props;
            for (const auto& h : r.headers)
                props.add(mqtt::property(mqtt::property::USER_PROPERTY, std::string(h.name),
                                         std::string(h.value)));
            message->set_properties(props);
        }
        outstanding_.fetch_add(1, std::memory_order_relaxed);
        client->publish(message, pack_context(r.payload.size()), *this);
        return send_result::accepted;
    } catch (const mqtt::exception& e) {
        outstanding_.fetch_sub(1, std::memory_order_relaxed);
        if (e.get_return_code() == MQTTASYNC_MAX_BUFFERED_MESSAGES ||
            e.get_return_code() == MQTTASYNC_MAX_BUFFERED ||
            e.get_return_code() == MQTTASYNC_MAX_MESSAGES_INFLIGHT) {
            if (!options_.drop_when_full) return send_result::queue_full;
            count_dropped_concurrently(1);
            return send_result::dropped;
        }
        last_error_ = e.what();
        count_failed_concurrently(1, send_error::rejected);
        return send_result::rejected;
    }
}

void* mqtt_connector::pack_context(std::size_t payload_bytes) const noexcept {
    const auto sent = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - created_).count());
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(
        (sent << context_size_bits) | std::min<std::uint64_t>(payload_bytes, context_size_mask)));
}

void mqtt_connector::on_success(const mqtt::token& tok) {
    const auto context = reinterpret_cast<std::uintptr_t>(tok.get_user_context());
    const auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - created_).count());
    // Differences modulo 2^40 µs (12.7 days) stay right across the wrap.
    const std::uint64_t elapsed =
        (now - (context >> context_size_bits)) & ((std::uint64_t{1} << context_time_bits) - 1);
    latency_.observe(static_cast<double>(elapsed) / 1e6);
    count_delivered_concurrently(1, context & context_size_mask);
    outstanding_.fetch_sub(1, std::memory_order_relaxed);
}

void mqtt_connector::on_failure(const mqtt::token& tok) {
    count_failed_concurrently(1, send_error::broker);
    outstanding_.fetch_sub(1, std::memory_order_relaxed);
    spdlog::debug("mqtt: publish failed (return code {})", tok.get_return_code());
}

void mqtt_connector::poll(std::chrono::milliseconds wait) noexcept {
    // Paho delivers acknowledgements on its own threads; nothing to serve here but time.
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
}

std::uint64_t mqtt_connector::drain(deadline until) noexcept {
    while (outstanding_.load() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    disconnect_all(std::min(until, std::chrono::steady_clock::now() + std::chrono::seconds(5)));
    // Destroying the clients ends Paho's callbacks, so what is still outstanding is final.
    clients_.clear();
    by_device_.clear();
    closed_ = true;
    const auto left = outstanding_.exchange(0);
    if (left > 0) {
        spdlog::warn("mqtt: {} messages unacknowledged at the drain deadline (counted failed)",
                     left);
        count_failed_concurrently(static_cast<std::uint64_t>(left), send_error::drain_deadline);
    }
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, left));
}

void mqtt_connector::disconnect_all(deadline until) noexcept {
    // All disconnects first, then one bounded wait: thousands of per-device clients must not
    // be closed one round trip at a time.
    std::vector<mqtt::token_ptr> pending;
    for (auto& c : clients_) {
        try {
            if (c->is_connected()) pending.push_back(c->disconnect(std::chrono::milliseconds(0)));
        } catch (const mqtt::exception&) {
        }
    }
    for (auto& t : pending) {
        const auto left = until - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) break;
        try {
            t->wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(left));
        } catch (const mqtt::exception&) {
        }
    }
}

health mqtt_connector::check() const {
    if (closed_) return {false, "mqtt: closed"};
    for (const auto& c : clients_)
        if (!c->is_connected())
            return {false, "mqtt: a connection to " + options_.host_port + " is down"};
    return {true, "mqtt " + options_.host_port};
}

} // namespace synthfeed
