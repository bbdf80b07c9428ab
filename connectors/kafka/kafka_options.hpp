#pragma once
/// Parsing of `kafka://` sink URIs and assembly of librdkafka properties from defaults,
/// the profile's [kafka] table, SYNTHFEED_RDKAFKA_* env and `-X`, in rising precedence.

#include <string>
#include <string_view>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "connectors/connector_registry.hpp"
#include "connectors/topic_template.hpp"

namespace synthfeed {

enum class kafka_key_mode { device_id, group, none };

struct kafka_options {
    std::string bootstrap;      ///< "host:port,host:port"; empty for embedded
    bool embedded = false;      ///< kafka://embedded/TOPIC: librdkafka's in-process mock cluster
    std::string topic_template; ///< may hold {group} and {device_id}
    kafka_key_mode key = kafka_key_mode::device_id;
    int connect_timeout_ms = 10000; ///< start-up reachability check
};

/// Parses the part after "kafka://": HOSTS/TOPIC[?key=device_id|group|none&connect_timeout=10s].
/// Throws config_error naming `origin`.
kafka_options parse_kafka_uri(const sink_uri& uri, const std::string& origin);

/// librdkafka defaults synthfeed sets before any user property (throughput-minded).
const std::vector<connector_property>& kafka_default_properties();

/// Reads SYNTHFEED_RDKAFKA_<NAME>=value from the environment ("_" → ".", lower case).
std::vector<connector_property> kafka_properties_from_env();

/// Sets one librdkafka property; on failure destroys `conf` and throws config_error with
/// librdkafka's message, secret values redacted.
void set_kafka_property(rd_kafka_conf_t* conf, const connector_property& p);

/// Whether a property holds a secret whose value must never be printed.
bool is_secret_property(std::string_view name);

} // namespace synthfeed
