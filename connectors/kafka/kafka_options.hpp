#pragma once
/// `kafka://` sink URIs, Kafka's option table, and librdkafka properties passed through from
/// the profile's [kafka] table, SYNTHFEED_RDKAFKA_* env and `-X`, in rising precedence.

#include <string>
#include <string_view>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "connectors/connector_context.hpp"
#include "connectors/connector_options.hpp"
#include "connectors/topic_template.hpp"

namespace synthfeed {

enum class kafka_key_mode { device_id, group, none };

struct kafka_options {
    std::string bootstrap;      ///< "host:port,host:port"; empty for embedded
    bool embedded = false;      ///< kafka://embedded/TOPIC: librdkafka's in-process mock cluster
    std::string topic_template; ///< may hold {group} and {device_id}
    kafka_key_mode key = kafka_key_mode::device_id;
    int connect_timeout_ms = 10000; ///< start-up reachability check
    /// librdkafka properties given (profile, env, -X), lowest precedence first; synthfeed's
    /// defaults (kafka_default_properties) go before them.
    std::vector<connector_setting> properties;
};

/// Kafka's options ([kafka], ?name=value) and librdkafka's pass-through properties.
extern const option_table kafka_option_table;

/// Parses HOSTS/TOPIC[?key=device_id|group|none&connect_timeout=10s] and merges the options
/// of `ctx` ("kafka" settings). Throws config_error naming ctx.origin or the option's origin.
kafka_options parse_kafka_uri(const sink_uri& uri, const connector_context& ctx);

/// librdkafka defaults synthfeed sets before any user property (throughput-minded).
const std::vector<connector_setting>& kafka_default_properties();

/// Sets one librdkafka property; on failure destroys `conf` and throws config_error with
/// librdkafka's message, secret values redacted.
void set_kafka_property(rd_kafka_conf_t* conf, const connector_setting& p);

/// Whether a property holds a secret whose value must never be printed.
bool is_secret_property(std::string_view name);

} // namespace synthfeed
