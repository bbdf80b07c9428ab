#include "connectors/mqtt/mqtt_options.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "connectors/broker_uri.hpp"
#include "connectors/topic_template.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

std::string version_problem(std::string_view v) {
    return v == "3.1.1" || v == "4" || v == "5" || v == "5.0" ? "" : "must be 3.1.1 or 5";
}

std::string ip_list_problem(std::string_view v) {
    for (const auto& address : split_list(v)) {
        in6_addr scratch{};
        if (::inet_pton(AF_INET, address.c_str(), &scratch) != 1 &&
            ::inet_pton(AF_INET6, address.c_str(), &scratch) != 1)
            return "\"" + address +
                   "\" is not an IP address (a comma-separated list of local addresses, e.g. "
                   "127.0.0.1,127.0.0.2)";
    }
    return "";
}

constexpr double max_int = 2147483647;

const connector_option mqtt_rows[] = {
    {.name = "qos",
     .type = option_type::choice,
     .default_value = "0",
     .help = "0, 1 or 2",
     .choices = "0|1|2"},
    {.name = "retain",
     .type = option_type::flag,
     .default_value = "false",
     .help = "retain flag on every message"},
    {.name = "version",
     .default_value = "3.1.1",
     .help = "3.1.1 (also 4) or 5 (also 5.0; needed for --label-headers user properties)",
     .check = version_problem},
    {.name = "connections",
     .type = option_type::integer,
     .default_value = "1",
     .help = "N shared connections (a device always uses the same one), or per-device: one "
             "client per device",
     .min = 1,
     .max = 100000,
     .choices = "per-device"},
    {.name = "connect_rate",
     .type = option_type::number,
     .default_value = "1000",
     .help = "new connections (and reconnects) per second"},
    {.name = "bind_address",
     .help = "local source addresses, comma-separated, used round-robin by the clients",
     .check = ip_list_problem},
    {.name = "client_id",
     .help = "template: {n} connection index, {device_id}, {pid}; default "
             "synthfeed-{pid}-sink-{n} (-labels-, -episodes-), per-device {device_id}",
     .min = 1},
    {.name = "keepalive",
     .type = option_type::duration,
     .default_value = "30s",
     .help = "5s to 65535s",
     .min = 5000,
     .max = 65'535'000},
    {.name = "clean",
     .type = option_type::flag,
     .help = "clean session; default true at QoS 0, false at QoS 1/2"},
    {.name = "username", .help = "user name", .env = "SYNTHFEED_MQTT_USERNAME"},
    {.name = "password", .help = "password", .secret = true, .env = "SYNTHFEED_MQTT_PASSWORD"},
    {.name = "max_inflight",
     .type = option_type::integer,
     .help = "messages handed to a client and not yet acknowledged (QoS 1/2) or written (QoS 0); "
             "default 1000 at QoS 0, 200 at QoS 1/2",
     .min = 1,
     .max = 65535},
    {.name = "buffer",
     .type = option_type::integer,
     .default_value = "100000",
     .help = "messages held while clients are not connected (all clients together)",
     .min = 1,
     .max = max_int},
    {.name = "on_full",
     .type = option_type::choice,
     .default_value = "block",
     .help = "block (backpressure) or drop (count in messages_dropped)",
     .choices = "block|drop"},
    {.name = "will_topic", .help = "last will topic of each connection (same QoS)"},
    {.name = "will_payload", .help = "last will payload"},
    {.name = "ca",
     .type = option_type::file,
     .help = "CA certificates (PEM) for mqtts://; default the system store",
     .env = "SYNTHFEED_MQTT_CA"},
    {.name = "cert",
     .type = option_type::file,
     .help = "client certificate (PEM) for mqtts://, with key",
     .env = "SYNTHFEED_MQTT_CERT"},
    {.name = "key",
     .type = option_type::file,
     .help = "client private key file (PEM) for mqtts://, with cert",
     .env = "SYNTHFEED_MQTT_KEY"},
    {.name = "insecure",
     .type = option_type::flag,
     .default_value = "false",
     .help = "skip server certificate and host name verification"},
    {.name = "connect_timeout",
     .type = option_type::duration,
     .default_value = "10s",
     .help = "TCP, TLS and CONNACK of one attempt; the first connections must succeed within it",
     .min = 1},
    {.name = "give_up",
     .type = option_type::duration,
     .default_value = "60s",
     .help = "a client without a connection this long is given up: what it holds fails",
     .min = 1},
};

const broker_uri_rules mqtt_uri_rules{.form = "mqtt://HOST:PORT/TOPIC",
                                      .options = &mqtt_option_table,
                                      .user_option = "username",
                                      .password_option = "password"};

} // namespace

const option_table mqtt_option_table{"mqtt", mqtt_rows};

std::string expand_client_id(const std::string& t, int n, std::string_view device_id) {
    std::string out;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t.compare(i, 3, "{n}") == 0)
            out += std::to_string(n), i += 2;
        else if (t.compare(i, 11, "{device_id}") == 0)
            out += device_id, i += 10;
        else if (t.compare(i, 5, "{pid}") == 0)
            out += std::to_string(::getpid()), i += 4;
        else
            out += t[i];
    }
    return out;
}

mqtt_options parse_mqtt_uri(const sink_uri& uri, const connector_context& ctx) {
    const broker_uri u = parse_broker_uri(uri, ctx.origin, mqtt_uri_rules);
    mqtt_options o;
    o.tls = uri.scheme == "mqtts";
    o.host = u.brokers.front().host;
    o.port = u.brokers.front().port;
    o.host_port = u.brokers.front().text;
    o.topic_template = u.topic_template;
    if (const std::string problem = topic_template_problem(o.topic_template, mqtt_topic_rules);
        !problem.empty())
        u.fail(problem);

    // Options in rising precedence: profile [mqtt], env, the URI (user info, then query).
    const option_values v = merge_options(mqtt_option_table, ctx.settings_of("mqtt"), u.query);
    o.qos = static_cast<int>(v.integer("qos"));
    o.retain = v.flag("retain");
    o.version = v.text("version").starts_with('5') ? 5 : 4;
    o.per_device = v.text("connections") == "per-device";
    if (!o.per_device) o.connections = static_cast<int>(v.integer("connections"));
    o.connect_rate = v.number("connect_rate");
    if (v.given("bind_address")) o.bind_addresses = split_list(v.text("bind_address"));
    o.client_id = v.text("client_id");
    o.keepalive = std::chrono::duration_cast<std::chrono::seconds>(v.duration("keepalive"));
    o.clean = v.given("clean") ? v.flag("clean") : o.qos == 0;
    o.username = v.text("username");
    o.password = v.text("password");
    o.max_inflight = static_cast<int>(v.integer("max_inflight"));
    o.buffer = static_cast<int>(v.integer("buffer"));
    o.drop_when_full = v.text("on_full") == "drop";
    o.will_topic = v.text("will_topic");
    o.will_payload = v.text("will_payload");
    o.ca = v.text("ca");
    o.cert = v.text("cert");
    o.key = v.text("key");
    o.insecure = v.flag("insecure");
    o.connect_timeout = v.duration("connect_timeout");
    o.give_up = v.duration("give_up");

    // libmosquitto 2.0.11 walks its whole in-flight list on every QoS 1/2 publish and
    // acknowledgement (lib/messages_mosq.c, message__release_to_inflight), so a deep window
    // costs CPU per message: on loopback 200 gave 96k msg/s at 7.5 us of CPU a message, 1,000
    // 70k msg/s at 12.5 us. QoS 0 messages never enter that list.
    if (o.max_inflight == 0) o.max_inflight = o.qos == 0 ? 1000 : 200;
    // Client ids must differ between the sink, label and episode connections of one run, or
    // the broker closes the older session ("already connected") each time the other connects.
    std::string role = ctx.origin;
    while (!role.empty() && role.front() == '-') role.erase(0, 1);
    if (o.client_id.empty())
        o.client_id = o.per_device ? (role == "sink" ? "{device_id}" : "{device_id}-" + role)
                                   : "synthfeed-{pid}-" + role + "-{n}";
    if (!o.per_device && o.client_id.find("{n}") == std::string::npos && o.connections > 1)
        u.fail("client_id needs {n} with several connections");
    if (o.per_device && o.client_id.find("{device_id}") == std::string::npos)
        u.fail("client_id needs {device_id} with connections=per-device");
    if (!o.tls && (!o.ca.empty() || !o.cert.empty() || !o.key.empty()))
        u.fail("ca/cert/key need mqtts://");
    if (o.cert.empty() != o.key.empty()) u.fail("cert and key go together");
    return o;
}

} // namespace synthfeed
