#pragma once
/// `mqtt://` and `mqtts://` sink URIs: the broker, the topic template and the options, merged
/// from the profile's [mqtt] table, SYNTHFEED_MQTT_* env and the URI query (rising precedence).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector_context.hpp"
#include "connectors/connector_options.hpp"

namespace synthfeed {

struct mqtt_options {
    std::string host; ///< as given (a name or an address)
    int port = 1883;
    std::string host_port;
    bool tls = false;
    std::string topic_template; ///< may hold {group} and {device_id}
    int qos = 0;
    bool retain = false;
    int version = 4;            ///< MQTT protocol level: 4 = 3.1.1, 5 = 5.0
    bool per_device = false;    ///< one client per device
    int connections = 1;        ///< shared connections when !per_device
    double connect_rate = 1000; ///< new connections per second
    std::string client_id;      ///< template: {n}, {device_id}, {pid}; default per role
    std::chrono::seconds keepalive{30};
    bool clean = true;
    std::string username;
    std::string password;
    int max_inflight = 0;        ///< outstanding messages per connection; 0 until parsed: per QoS
    int buffer = 100000;         ///< messages held while clients are not connected (all clients)
    bool drop_when_full = false; ///< on_full=drop: count and drop instead of backpressure
    std::string will_topic, will_payload;
    std::string ca, cert, key;
    bool insecure = false;
    std::chrono::milliseconds connect_timeout{10000}; ///< TCP + TLS + CONNACK, per attempt
    std::chrono::milliseconds give_up{60000};         ///< a client down this long is given up
    std::vector<std::string> bind_addresses;          ///< local source addresses, round-robin
};

/// MQTT's options: the profile's [mqtt] table, SYNTHFEED_MQTT_* env twins, ?name=value.
extern const option_table mqtt_option_table;

/// Parses the URI and merges the options of `ctx` ("mqtt" settings) under its query; throws
/// config_error naming the URI or the option's origin.
mqtt_options parse_mqtt_uri(const sink_uri& uri, const connector_context& ctx);

/// Expands {n}, {device_id} and {pid} in a client id template.
std::string expand_client_id(const std::string& id_template, int n, std::string_view device_id);

} // namespace synthfeed
