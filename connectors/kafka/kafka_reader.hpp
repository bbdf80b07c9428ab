#pragma once
/// Reads a Kafka topic back from the beginning to its end offsets at the time of the call
/// (for `synthfeed verify`). Not a hot path: clarity over speed.

#include <chrono>
#include <functional>
#include <string_view>

#include "connectors/connector_context.hpp"

namespace synthfeed {

/// Consumes every partition of the URI's topic up to its high watermark. Throws config_error
/// for a bad URI or property, run_error when the topic cannot be read in time.
/// Returns the number of messages read.
std::uint64_t read_kafka_topic(const sink_uri& uri, const connector_context& ctx,
                               std::chrono::milliseconds timeout, const record_visitor& visit);

} // namespace synthfeed
