#pragma once
/// `kafka://HOST:PORT[,HOST:PORT]/TOPIC` and `kafka://embedded/TOPIC` on librdkafka.
///
/// Delivery accounting: a message counts as delivered only in its delivery report;
/// RD_KAFKA_RESP_ERR__QUEUE_FULL is backpressure (send returns queue_full, the engine polls and
/// retries); at the end, drain() flushes until the deadline, then purges what is left so every
/// accepted message ends up delivered or failed.
///
/// Concurrency: send, poll and drain run on the emitter thread; delivery reports are served
/// inside poll/drain on that same thread (librdkafka calls dr_msg_cb from rd_kafka_poll).

#include <memory>
#include <string>
#include <unordered_map>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "connectors/connector.hpp"
#include "connectors/connector_context.hpp"
#include "connectors/kafka/kafka_options.hpp"

namespace synthfeed {

class embedded_kafka;

class kafka_connector final : public connector {
  public:
    /// Configures the producer (config_error, exit 2, for bad properties) and checks the
    /// brokers answer within the connect timeout (run_error, exit 1, if not).
    kafka_connector(const sink_uri& uri, const connector_context& ctx);
    ~kafka_connector() override;

    send_result send(const record& r) noexcept override;
    void poll(std::chrono::milliseconds wait) noexcept override;
    std::uint64_t drain(deadline until) noexcept override;
    health check() const override;
    std::string_view name() const noexcept override { return "kafka"; }

    /// The bootstrap address in use (the mock cluster's for kafka://embedded).
    const std::string& bootstrap() const noexcept { return bootstrap_; }
    /// Messages accepted but not yet reported.
    std::uint64_t in_flight() const noexcept { return in_flight_; }

  private:
    static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
    static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque);
    rd_kafka_topic_t* topic_for(const record& r) noexcept;

    kafka_options options_;
    std::shared_ptr<embedded_kafka> embedded_;
    std::string bootstrap_;
    rd_kafka_t* producer_ = nullptr;
    rd_kafka_topic_t* fixed_topic_ = nullptr; ///< when the template has no placeholder
    std::unordered_map<std::string, rd_kafka_topic_t*> topics_;
    std::string topic_scratch_;
    std::uint64_t in_flight_ = 0;
    std::atomic<int> fatal_{0};     ///< a fatal producer error: every later send is rejected
    std::string last_error_;        ///< emitter thread only
    std::string last_broker_error_; ///< the error callback's last reason, for failure causes
    std::string fatal_error_;       ///< set once, before fatal_; check() reads it on any thread
};

/// Creates librdkafka's mock cluster once per process for kafka://embedded URIs.
std::shared_ptr<embedded_kafka> shared_embedded_kafka();
/// Its bootstrap address ("127.0.0.1:PORT").
std::string embedded_bootstrap(const embedded_kafka& cluster);
/// The mock cluster itself, for fault injection in tests (rd_kafka_mock_* functions).
rd_kafka_mock_cluster_t* embedded_mock_cluster(const embedded_kafka& cluster);

} // namespace synthfeed
