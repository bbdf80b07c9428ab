#include "connectors/kafka/kafka_connector.hpp"

#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include "src/core/errors.hpp"

namespace synthfeed {

namespace {
void log_to_spdlog(const rd_kafka_t*, int level, const char* facility, const char* message);
}

/// librdkafka's in-process mock cluster: good for demos and fault injection, not for large
/// runs (it keeps only a few MB per partition; see README).
class embedded_kafka {
  public:
    embedded_kafka() {
        char err[512];
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
        rd_kafka_conf_set_log_cb(conf, &log_to_spdlog);
        owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (!owner_) throw run_error("kafka", std::string("cannot start embedded Kafka: ") + err);
        cluster_ = rd_kafka_mock_cluster_new(owner_, 1);
        if (!cluster_) {
            rd_kafka_destroy(owner_);
            throw run_error("kafka", "cannot start embedded Kafka (librdkafka mock cluster)");
        }
        bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    }
    ~embedded_kafka() {
        rd_kafka_mock_cluster_destroy(cluster_);
        rd_kafka_destroy(owner_);
    }
    const std::string& bootstrap() const noexcept { return bootstrap_; }
    rd_kafka_mock_cluster_t* cluster() const noexcept { return cluster_; }

  private:
    rd_kafka_t* owner_ = nullptr;
    rd_kafka_mock_cluster_t* cluster_ = nullptr;
    std::string bootstrap_;
};

std::shared_ptr<embedded_kafka> shared_embedded_kafka() {
    static std::mutex mutex;
    static std::weak_ptr<embedded_kafka> current;
    std::lock_guard lock(mutex);
    if (auto existing = current.lock()) return existing;
    auto created = std::make_shared<embedded_kafka>();
    current = created;
    spdlog::info("embedded Kafka (librdkafka mock cluster) listening on {}; attach with: kcat -b "
                 "{} -C -t TOPIC",
                 created->bootstrap(), created->bootstrap());
    return created;
}

std::string embedded_bootstrap(const embedded_kafka& cluster) {
    return cluster.bootstrap();
}

rd_kafka_mock_cluster_t* embedded_mock_cluster(const embedded_kafka& cluster) {
    return cluster.cluster();
}

namespace {

/// Our error class of a failed delivery report.
send_error failure_reason(rd_kafka_resp_err_t err) noexcept {
    switch (err) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
        return send_error::timed_out;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
        return send_error::drain_deadline; // purged by drain() at the deadline
    default:
        return err > 0 ? send_error::broker : send_error::client; // librdkafka's own are < 0
    }
}

/// librdkafka's log lines through our logger (stderr, one format), from its own threads.
void log_to_spdlog(const rd_kafka_t*, int level, const char* facility, const char* message) {
    const auto lvl = level <= 3   ? spdlog::level::err
                     : level == 4 ? spdlog::level::warn
                     : level <= 6 ? spdlog::level::info
                                  : spdlog::level::debug;
    spdlog::log(lvl, "kafka: {}: {}", facility, message);
}

} // namespace

kafka_connector::kafka_connector(const sink_uri& uri, const connector_context& ctx)
    : options_(parse_kafka_uri(uri, ctx)) {
    if (options_.embedded) {
        embedded_ = shared_embedded_kafka();
        bootstrap_ = embedded_->bootstrap();
    } else {
        bootstrap_ = options_.bootstrap;
    }
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& p : kafka_default_properties()) set_kafka_property(conf, p);
    set_kafka_property(conf, {"bootstrap.servers", bootstrap_, {ctx.origin, 0, 0}});
    for (const auto& p : options_.properties) set_kafka_property(conf, p);
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &kafka_connector::on_delivery);
    rd_kafka_conf_set_error_cb(conf, &kafka_connector::on_error);
    rd_kafka_conf_set_log_cb(conf, &log_to_spdlog);

    char err[512];
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err); // takes conf on success
    if (!producer_) {
        rd_kafka_conf_destroy(conf);
        throw config_error({ctx.origin, 0, 0}, uri.text,
                           std::string("cannot create Kafka producer: ") + err);
    }
    if (options_.topic_template.find('{') == std::string::npos)
        fixed_topic_ = rd_kafka_topic_new(producer_, options_.topic_template.c_str(), nullptr);

    // Reachability: fail fast with a clear message instead of queueing into the void.
    const rd_kafka_metadata_t* metadata = nullptr;
    const rd_kafka_resp_err_t e =
        rd_kafka_metadata(producer_, 0, nullptr, &metadata, options_.connect_timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const std::string what = "cannot reach Kafka at " + bootstrap_ + " within " +
                                 std::to_string(options_.connect_timeout_ms) +
                                 " ms: " + rd_kafka_err2str(e);
        if (fixed_topic_) rd_kafka_topic_destroy(fixed_topic_);
        rd_kafka_destroy(producer_);
        throw run_error("kafka", what);
    }
    spdlog::debug("kafka: {} brokers reachable at {}", metadata->broker_cnt, bootstrap_);
    rd_kafka_metadata_destroy(metadata);
}

kafka_connector::~kafka_connector() {
    if (fixed_topic_) rd_kafka_topic_destroy(fixed_topic_);
    for (auto& [name, t] : topics_) rd_kafka_topic_destroy(t);
    // Nothing may be outstanding here (drain() ran), so destroy does not block for long.
    rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(producer_, 0);
    rd_kafka_destroy(producer_);
}

rd_kafka_topic_t* kafka_connector::topic_for(const record& r) noexcept {
    if (fixed_topic_) return fixed_topic_;
    topic_scratch_ = expand_topic(options_.topic_template, r.group, r.device_id);
    auto it = topics_.find(topic_scratch_);
    if (it != topics_.end()) return it->second;
    rd_kafka_topic_t* t = rd_kafka_topic_new(producer_, topic_scratch_.c_str(), nullptr);
    topics_.emplace(topic_scratch_, t);
    return t;
}

send_result kafka_connector::send(const record& r) noexcept {
    if (fatal_.load(std::memory_order_relaxed)) {
        count_failed(1, send_error::rejected);
        return send_result::rejected;
    }
    rd_kafka_topic_t* topic = topic_for(r);
    std::string_view key = options_.key == kafka_key_mode::device_id ? r.key
                           : options_.key == kafka_key_mode::group   ? r.group
                                                                     : std::string_view{};
    rd_kafka_headers_t* headers = nullptr;
    if (!r.headers.empty()) {
        headers = rd_kafka_headers_new(r.headers.size());
        for (const auto& h : r.headers)
            rd_kafka_header_add(headers, h.name.data(), static_cast<ssize_t>(h.name.size()),
                                h.value.data(), static_cast<ssize_t>(h.value.size()));
    }
    // librdkafka's RD_KAFKA_V_* macros are GNU statement expressions, which clang's -Wpedantic
    // names; they are the library's documented API, so the warning is silenced here only.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(r.payload.data()), r.payload.size()),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_END);
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++in_flight_;
        return send_result::accepted;
    }
    if (headers) rd_kafka_headers_destroy(headers); // not taken over on failure
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return send_result::queue_full;
    last_error_ = rd_kafka_err2str(err);
    count_failed(1, send_error::rejected);
    return send_result::rejected;
}

void kafka_connector::poll(std::chrono::milliseconds wait) noexcept {
    rd_kafka_poll(producer_, static_cast<int>(wait.count()));
}

std::uint64_t kafka_connector::drain(deadline until) noexcept {
    while (in_flight_ > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        rd_kafka_flush(producer_, static_cast<int>(std::min<std::int64_t>(left.count(), 100)));
    }
    const std::uint64_t undelivered = in_flight_;
    if (undelivered > 0) {
        spdlog::warn("kafka: {} messages still undelivered at the drain deadline; purging them "
                     "(counted failed, or in doubt when already sent)",
                     undelivered);
        // Purged messages get delivery reports with a _PURGE_* error: counted failed there, or
        // in doubt for those already sent to the broker.
        rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        for (int i = 0; i < 50 && in_flight_ > 0; ++i) rd_kafka_poll(producer_, 100);
        if (in_flight_ > 0) { // reports that never came: still count them, never lose silently
            count_failed(in_flight_, send_error::drain_deadline);
            in_flight_ = 0;
        }
    }
    return undelivered;
}

health kafka_connector::check() const {
    // fatal_error_ is written once, before fatal_ is set (release): safe to read from here.
    if (fatal_.load(std::memory_order_acquire))
        return {false, "kafka: fatal producer error: " + fatal_error_};
    return {true, "kafka " + bootstrap_};
}

void kafka_connector::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<kafka_connector*>(opaque);
    --self->in_flight_;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->count_delivered(1, m->len);
        // Microseconds from produce() to the acknowledgement, measured by librdkafka.
        if (const std::int64_t us = rd_kafka_message_latency(m); us >= 0)
            self->latency_.observe(static_cast<double>(us) / 1e6);
        return;
    }
    self->last_error_ = rd_kafka_err2str(m->err);
    std::string cause = self->last_error_;
    if (m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        cause += " (not acknowledged within message.timeout.ms)";
    if (!self->last_broker_error_.empty())
        cause += "; last broker error: " + self->last_broker_error_;
    // Sent to a broker that went away before answering: it may be in the topic. Counting it
    // as failed would make a consumer's count exceed delivered + failed's complement.
    if (rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED)
        self->count_in_doubt(1, cause);
    else
        self->count_failed(1, failure_reason(m->err), cause);
}

void kafka_connector::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<kafka_connector*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[512];
        rd_kafka_fatal_error(rk, fatal, sizeof fatal);
        self->last_error_ = fatal;
        self->fatal_error_ = fatal;
        self->fatal_.store(1, std::memory_order_release);
        spdlog::error("kafka: fatal error: {}", fatal);
        return;
    }
    self->last_broker_error_ = reason;
    spdlog::warn("kafka: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

} // namespace synthfeed
