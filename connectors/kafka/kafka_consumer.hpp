#pragma once
/// What reading a topic back shares (`synthfeed verify`, `synthfeed score --follow`): a
/// librdkafka consumer with manual assignment and no commits, and a topic's partitions. Not a
/// hot path: clarity over speed.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "connectors/connector_context.hpp"
#include "connectors/kafka/kafka_options.hpp"

namespace synthfeed {

/// Closes and destroys a consumer.
struct kafka_consumer_closer {
    void operator()(rd_kafka_t* rk) const noexcept;
};
using kafka_consumer_ptr = std::unique_ptr<rd_kafka_t, kafka_consumer_closer>;

/// The options of `uri` when it names one topic of a real broker. Throws config_error for a
/// bad URI or option, the embedded cluster (it lives inside the producing process) or a topic
/// template; `command` ("verify", "score --follow") names the reader in the message.
kafka_options kafka_reader_options(const sink_uri& uri, const connector_context& ctx,
                                   std::string_view command);

/// A consumer of `o.bootstrap` with the given properties (producer-only ones skipped),
/// `client_id` naming it to the broker. Throws config_error for a bad property, run_error when
/// librdkafka cannot create it.
kafka_consumer_ptr open_kafka_consumer(const kafka_options& o, const connector_context& ctx,
                                       const std::string& client_id);

/// The partition ids of `topic` into `partitions`, waiting at most `timeout_ms` for the
/// broker; the error (metadata or the topic's own, such as an unknown topic), or NO_ERROR.
rd_kafka_resp_err_t kafka_topic_partitions(rd_kafka_t* rk, const std::string& topic, int timeout_ms,
                                           std::vector<int>& partitions);

} // namespace synthfeed
