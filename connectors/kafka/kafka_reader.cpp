#include "connectors/kafka/kafka_reader.hpp"

#include <map>
#include <memory>
#include <stdexcept>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include "connectors/kafka/kafka_options.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

struct consumer_handle {
    rd_kafka_t* rk = nullptr;
    ~consumer_handle() {
        if (!rk) return;
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
};

} // namespace

std::uint64_t read_kafka_topic(const sink_uri& uri, const connector_context& ctx,
                               std::chrono::milliseconds timeout, const record_visitor& visit) {
    const kafka_options o = parse_kafka_uri(uri, ctx);
    if (o.embedded)
        throw config_error(
            {ctx.origin, 0, 0}, uri.text,
            "the embedded cluster lives inside the producing process; verify a real broker");
    if (o.topic_template.find('{') != std::string::npos)
        throw config_error({ctx.origin, 0, 0}, uri.text,
                           "verify reads one topic; give its name, not a template");

    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    const std::vector<connector_setting> base{
        {"bootstrap.servers", o.bootstrap, {ctx.origin}},
        {"group.id", "synthfeed-verify-" + std::to_string(::getpid()), {"default"}},
        {"enable.auto.commit", "false", {"default"}},
        {"enable.partition.eof", "true", {"default"}},
        {"client.id", "synthfeed-verify", {"default"}},
    };
    const auto set = [&](const connector_setting& p) { set_kafka_property(conf, p); };
    for (const auto& p : base) set(p);
    for (const auto& p : o.properties) {
        // Producer-only properties (our defaults' kind) make no sense here; skip them quietly.
        if (p.name == "linger.ms" || p.name == "batch.size" || p.name == "compression.type" ||
            p.name == "enable.idempotence" || p.name.starts_with("queue.buffering"))
            continue;
        set(p);
    }
    consumer_handle c;
    c.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!c.rk) {
        rd_kafka_conf_destroy(conf);
        throw run_error("kafka", std::string("cannot create Kafka consumer: ") + err);
    }
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    auto left_ms = [&] {
        return static_cast<int>(
            std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(
                                          give_up - std::chrono::steady_clock::now())
                                          .count()));
    };

    rd_kafka_topic_t* rkt = rd_kafka_topic_new(c.rk, o.topic_template.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    const rd_kafka_resp_err_t me = rd_kafka_metadata(c.rk, 0, rkt, &md, left_ms());
    rd_kafka_topic_destroy(rkt);
    if (me != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw run_error("kafka", "cannot read metadata of " + o.topic_template + " at " +
                                     o.bootstrap + ": " + rd_kafka_err2str(me));
    std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> md_guard(
        md, rd_kafka_metadata_destroy);
    if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw run_error("kafka",
                        "topic " + o.topic_template + ": " +
                            rd_kafka_err2str(md->topic_cnt ? md->topics[0].err
                                                           : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));

    std::map<int, std::int64_t> end; // partition → high watermark still to reach
    rd_kafka_topic_partition_list_t* assignment =
        rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
        const int partition = md->topics[0].partitions[i].id;
        std::int64_t low = 0, high = 0;
        const auto we = rd_kafka_query_watermark_offsets(c.rk, o.topic_template.c_str(), partition,
                                                         &low, &high, left_ms());
        if (we != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_topic_partition_list_destroy(assignment);
            throw run_error("kafka", "cannot read offsets of " + o.topic_template + ": " +
                                         rd_kafka_err2str(we));
        }
        if (high <= low) continue;
        end[partition] = high;
        rd_kafka_topic_partition_list_add(assignment, o.topic_template.c_str(), partition)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(c.rk, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);

    std::uint64_t read = 0;
    while (!end.empty()) {
        if (std::chrono::steady_clock::now() >= give_up)
            throw run_error("kafka", "timed out reading " + o.topic_template + " after " +
                                         std::to_string(read) + " messages; " +
                                         std::to_string(end.size()) + " partitions unfinished");
        rd_kafka_message_t* m = rd_kafka_consumer_poll(c.rk, 200);
        if (!m) continue;
        const int partition = m->partition;
        const std::int64_t offset = m->offset;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            visit(std::string_view(static_cast<const char*>(m->payload), m->len), partition);
            ++read;
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            spdlog::warn("verify: {}", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        auto it = end.find(partition);
        if (it != end.end() && offset + 1 >= it->second) end.erase(it);
    }
    return read;
}

} // namespace synthfeed
