#include "connectors/kafka/kafka_reader.hpp"

#include <map>
#include <vector>

#include <spdlog/spdlog.h>

#include "connectors/kafka/kafka_consumer.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {

std::uint64_t read_kafka_topic(const sink_uri& uri, const connector_context& ctx,
                               std::chrono::milliseconds timeout, const record_visitor& visit) {
    const kafka_options o = kafka_reader_options(uri, ctx, "verify");
    const kafka_consumer_ptr consumer = open_kafka_consumer(o, ctx, "synthfeed-verify");
    rd_kafka_t* const rk = consumer.get();
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    auto left_ms = [&] {
        return static_cast<int>(
            std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(
                                          give_up - std::chrono::steady_clock::now())
                                          .count()));
    };

    std::vector<int> partitions;
    const rd_kafka_resp_err_t me =
        kafka_topic_partitions(rk, o.topic_template, left_ms(), partitions);
    if (me != RD_KAFKA_RESP_ERR_NO_ERROR)
        throw run_error("kafka", "cannot read the partitions of " + o.topic_template + " at " +
                                     o.bootstrap + ": " + rd_kafka_err2str(me));

    std::map<int, std::int64_t> end; // partition → high watermark still to reach
    rd_kafka_topic_partition_list_t* assignment =
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
    for (const int partition : partitions) {
        std::int64_t low = 0, high = 0;
        const auto we = rd_kafka_query_watermark_offsets(rk, o.topic_template.c_str(), partition,
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
    rd_kafka_assign(rk, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);

    std::uint64_t read = 0;
    while (!end.empty()) {
        if (std::chrono::steady_clock::now() >= give_up)
            throw run_error("kafka", "timed out reading " + o.topic_template + " after " +
                                         std::to_string(read) + " messages; " +
                                         std::to_string(end.size()) + " partitions unfinished");
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
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
