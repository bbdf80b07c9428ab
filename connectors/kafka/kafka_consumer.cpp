#include "connectors/kafka/kafka_consumer.hpp"

#include <unistd.h>

#include "src/core/errors.hpp"

namespace synthfeed {

void kafka_consumer_closer::operator()(rd_kafka_t* rk) const noexcept {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

kafka_options kafka_reader_options(const sink_uri& uri, const connector_context& ctx,
                                   std::string_view command) {
    kafka_options o = parse_kafka_uri(uri, ctx);
    if (o.embedded)
        throw config_error({ctx.origin, 0, 0}, uri.text,
                           "the embedded cluster lives inside the producing process; " +
                               std::string(command) + " a real broker");
    if (o.topic_template.find('{') != std::string::npos)
        throw config_error({ctx.origin, 0, 0}, uri.text,
                           std::string(command) +
                               " reads one topic; give its name, not a template");
    return o;
}

kafka_consumer_ptr open_kafka_consumer(const kafka_options& o, const connector_context& ctx,
                                       const std::string& client_id) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    const std::vector<connector_setting> base{
        {"bootstrap.servers", o.bootstrap, {ctx.origin}},
        {"group.id", client_id + "-" + std::to_string(::getpid()), {"default"}},
        {"enable.auto.commit", "false", {"default"}},
        {"enable.partition.eof", "true", {"default"}},
        {"client.id", client_id, {"default"}},
    };
    for (const auto& p : base) set_kafka_property(conf, p);
    for (const auto& p : o.properties) {
        // Producer-only properties (our defaults' kind) make no sense here; skip them quietly.
        if (p.name == "linger.ms" || p.name == "batch.size" || p.name == "compression.type" ||
            p.name == "enable.idempotence" || p.name.starts_with("queue.buffering"))
            continue;
        set_kafka_property(conf, p);
    }
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        throw run_error("kafka", std::string("cannot create Kafka consumer: ") + err);
    }
    return kafka_consumer_ptr(rk);
}

rd_kafka_resp_err_t kafka_topic_partitions(rd_kafka_t* rk, const std::string& topic, int timeout_ms,
                                           std::vector<int>& partitions) {
    partitions.clear();
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t me = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (me != RD_KAFKA_RESP_ERR_NO_ERROR) return me;
    rd_kafka_resp_err_t result = RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (md->topic_cnt == 1) {
        result = md->topics[0].err;
        for (int i = 0; i < md->topics[0].partition_cnt && !result; ++i)
            partitions.push_back(md->topics[0].partitions[i].id);
    }
    rd_kafka_metadata_destroy(md);
    return result;
}

} // namespace synthfeed
