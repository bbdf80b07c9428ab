#pragma once
/// Follows a Kafka topic from its beginning as it grows (`synthfeed score --follow`): every
/// partition assigned manually (no consumer group, no commits), partitions that appear later
/// added as the topic's metadata shows them, a topic that does not exist yet waited for.

#include <memory>

#include "connectors/connector_context.hpp"
#include "connectors/stream_follower.hpp"

namespace synthfeed {

/// Throws config_error for a bad URI or property (the embedded cluster and topic templates
/// cannot be followed). The broker is first asked when polled: run_error from poll() when it
/// has not answered within the URI's connect_timeout.
std::unique_ptr<stream_follower> follow_kafka_topic(const sink_uri& uri,
                                                    const connector_context& ctx);

} // namespace synthfeed
