#include "connectors/mqtt/mqtt_options.hpp"

#include <arpa/inet.h>
#include <charconv>
#include <cstdlib>
#include <map>
#include <netinet/in.h>
#include <unistd.h>

#include "src/core/errors.hpp"
#include "src/core/time.hpp"

namespace synthfeed {
namespace {

bool parse_bool(const std::string& v, bool& out) {
    if (v == "true" || v == "1" || v == "yes") return out = true, true;
    if (v == "false" || v == "0" || v == "no") return out = false, true;
    return false;
}

template <class T>
bool parse_number(const std::string& v, T& out) {
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc{} && ptr == v.data() + v.size();
}

} // namespace

std::vector<connector_property> mqtt_options_from_env() {
    std::vector<connector_property> out;
    for (const auto& [env, name] :
         std::map<std::string, std::string>{{"SYNTHFEED_MQTT_USERNAME", "username"},
                                            {"SYNTHFEED_MQTT_PASSWORD", "password"},
                                            {"SYNTHFEED_MQTT_CA", "ca"},
                                            {"SYNTHFEED_MQTT_CERT", "cert"},
                                            {"SYNTHFEED_MQTT_KEY", "key"}})
        if (const char* v = std::getenv(env.c_str())) out.push_back({name, v, env});
    return out;
}

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
    mqtt_options o;
    o.tls = uri.scheme == "mqtts";
    // Error messages quote the URI, never its password.
    std::string shown = uri.text;
    for (auto at = shown.find("password="); at != std::string::npos;
         at = shown.find("password=", at + 1)) {
        const auto end = std::min(shown.find('&', at), shown.size());
        shown.replace(at + 9, end - at - 9, "***");
    }
    auto fail = [&](const std::string& origin, const std::string& message) -> void {
        throw config_error({origin, 0, 0}, shown, message);
    };
    std::string rest = uri.target, query;
    if (const auto q = rest.find('?'); q != std::string::npos)
        query = rest.substr(q + 1), rest.resize(q);
    const auto slash = rest.find('/');
    if (slash == std::string::npos || slash + 1 >= rest.size())
        fail(ctx.origin, "missing topic (mqtt://HOST:PORT/TOPIC)");
    o.host_port = rest.substr(0, slash);
    if (!o.host_port.empty() && o.host_port.front() == '[') { // [v6]:port
        const auto close = o.host_port.find(']');
        if (close != std::string::npos) o.host = o.host_port.substr(1, close - 1);
    }
    o.topic_template = rest.substr(slash + 1);
    const auto colon = o.host_port.rfind(':');
    int port = 0;
    if (colon == std::string::npos || colon == 0 ||
        !parse_number(o.host_port.substr(colon + 1), port) || port < 1 || port > 65535)
        fail(ctx.origin, "broker \"" + o.host_port + "\" is not HOST:PORT");
    o.port = port;
    if (o.host.empty()) o.host = o.host_port.substr(0, colon);
    for (std::size_t i = 0; i < o.topic_template.size(); ++i) {
        const char c = o.topic_template[i];
        if (c == '+' || c == '#')
            fail(ctx.origin, "wildcards (+, #) are not allowed in a publish topic");
        if (c == '{') {
            const auto close = o.topic_template.find('}', i);
            const std::string name =
                close == std::string::npos ? "" : o.topic_template.substr(i + 1, close - i - 1);
            if (name == "field")
                fail(ctx.origin, "{field} is not available: a message carries every field of its "
                                 "device; use {group} or {device_id}");
            if (name != "group" && name != "device_id")
                fail(ctx.origin, "unknown topic placeholder (use {group} or {device_id})");
            i = close;
        }
    }

    // Options in rising precedence: profile [mqtt], env, URI query.
    std::vector<connector_property> settings = ctx.mqtt_options;
    std::size_t start = 0;
    while (!query.empty() && start <= query.size()) {
        const auto amp = std::min(query.find('&', start), query.size());
        const std::string pair = query.substr(start, amp - start);
        const auto eq = pair.find('=');
        settings.push_back(
            {pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1), ctx.origin});
        start = amp + 1;
    }
    bool clean_given = false;
    std::string connections = "1";
    for (const auto& s : settings) {
        const std::string& v = s.value;
        auto bad = [&](const std::string& what) { fail(s.origin, s.name + ": " + what); };
        if (s.name == "qos") {
            if (!parse_number(v, o.qos) || o.qos < 0 || o.qos > 2) bad("must be 0, 1 or 2");
        } else if (s.name == "retain") {
            if (!parse_bool(v, o.retain)) bad("must be true or false");
        } else if (s.name == "version") {
            if (v == "3.1.1" || v == "4")
                o.version = 4;
            else if (v == "5" || v == "5.0")
                o.version = 5;
            else
                bad("must be 3.1.1 or 5");
        } else if (s.name == "connections") {
            connections = v;
        } else if (s.name == "connect_rate") {
            if (!parse_number(v, o.connect_rate) || !(o.connect_rate > 0))
                bad("must be a positive number of connections per second");
        } else if (s.name == "client_id") {
            if (v.empty()) bad("must not be empty");
            o.client_id = v;
        } else if (s.name == "keepalive") {
            const auto d = parse_duration(v);
            // MQTT allows 0 (off) and libmosquitto refuses 1..4 s.
            if (!d || *d < 5000 || *d > 65535000) bad("must be a duration from 5s to 65535s");
            o.keepalive = std::chrono::seconds(*d / 1000);
        } else if (s.name == "clean") {
            if (!parse_bool(v, o.clean)) bad("must be true or false");
            clean_given = true;
        } else if (s.name == "username") {
            o.username = v;
        } else if (s.name == "password") {
            o.password = v;
        } else if (s.name == "max_inflight") {
            if (!parse_number(v, o.max_inflight) || o.max_inflight < 1 || o.max_inflight > 65535)
                bad("must be 1..65535");
        } else if (s.name == "buffer") {
            if (!parse_number(v, o.buffer) || o.buffer < 1)
                bad("must be a positive number of messages");
        } else if (s.name == "on_full") {
            if (v == "block")
                o.drop_when_full = false;
            else if (v == "drop")
                o.drop_when_full = true;
            else
                bad("must be block or drop");
        } else if (s.name == "will_topic") {
            o.will_topic = v;
        } else if (s.name == "will_payload") {
            o.will_payload = v;
        } else if (s.name == "ca") {
            o.ca = v;
        } else if (s.name == "cert") {
            o.cert = v;
        } else if (s.name == "key") {
            o.key = v;
        } else if (s.name == "insecure") {
            if (!parse_bool(v, o.insecure)) bad("must be true or false");
        } else if (s.name == "connect_timeout") {
            const auto d = parse_duration(v);
            if (!d || *d <= 0) bad("must be a duration such as 10s");
            o.connect_timeout = std::chrono::milliseconds(*d);
        } else if (s.name == "give_up") {
            const auto d = parse_duration(v);
            if (!d || *d <= 0) bad("must be a duration such as 60s");
            o.give_up = std::chrono::milliseconds(*d);
        } else if (s.name == "bind_address") {
            o.bind_addresses.clear();
            std::size_t from = 0;
            while (from <= v.size()) {
                const auto comma = std::min(v.find(',', from), v.size());
                const std::string address = v.substr(from, comma - from);
                in6_addr scratch{};
                if (::inet_pton(AF_INET, address.c_str(), &scratch) != 1 &&
                    ::inet_pton(AF_INET6, address.c_str(), &scratch) != 1)
                    bad("\"" + address +
                        "\" is not an IP address (a comma-separated list of "
                        "local addresses, e.g. 127.0.0.1,127.0.0.2)");
                o.bind_addresses.push_back(address);
                from = comma + 1;
            }
        } else {
            fail(s.origin, "unknown option \"" + s.name +
                               "\" (known: qos, retain, version, connections, connect_rate, "
                               "client_id, keepalive, "
                               "clean, username, password, max_inflight, buffer, on_full, "
                               "will_topic, will_payload, "
                               "ca, cert, key, insecure, connect_timeout, give_up, "
                               "bind_address)");
        }
    }
    if (connections == "per-device") {
        o.per_device = true;
    } else if (!parse_number(connections, o.connections) || o.connections < 1 ||
               o.connections > 100000) {
        fail(ctx.origin,
             "connections must be per-device or a number of shared connections (1..100000)");
    }
    // libmosquitto 2.0.11 walks its whole in-flight list on every QoS 1/2 publish and
    // acknowledgement (lib/messages_mosq.c, message__release_to_inflight), so a deep window
    // costs CPU per message: on loopback 200 gave 96k msg/s at 7.5 us of CPU a message, 1,000
    // 70k msg/s at 12.5 us. QoS 0 messages never enter that list.
    if (o.max_inflight == 0) o.max_inflight = o.qos == 0 ? 1000 : 200;
    if (!clean_given)
        o.clean = o.qos == 0; // keep the session (and in-flight messages) across reconnects
    // Client ids must differ between the sink, label and episode connections of one run, or
    // the broker closes the older session ("already connected") each time the other connects.
    std::string role = ctx.origin;
    while (!role.empty() && role.front() == '-') role.erase(0, 1);
    if (o.client_id.empty())
        o.client_id = o.per_device ? (role == "sink" ? "{device_id}" : "{device_id}-" + role)
                                   : "synthfeed-{pid}-" + role + "-{n}";
    if (!o.per_device && o.client_id.find("{n}") == std::string::npos && o.connections > 1)
        fail(ctx.origin, "client_id needs {n} with several connections");
    if (o.per_device && o.client_id.find("{device_id}") == std::string::npos)
        fail(ctx.origin, "client_id needs {device_id} with connections=per-device");
    if (!o.tls && (!o.ca.empty() || !o.cert.empty() || !o.key.empty()))
        fail(ctx.origin, "ca/cert/key need mqtts://");
    if (o.cert.empty() != o.key.empty()) fail(ctx.origin, "cert and key go together");
    for (const auto& [name, path] :
         {std::pair{"ca", o.ca}, std::pair{"cert", o.cert}, std::pair{"key", o.key}})
        if (!path.empty() && ::access(path.c_str(), R_OK) != 0)
            fail(ctx.origin, std::string(name) + ": cannot read \"" + path + "\"");
    return o;
}

} // namespace synthfeed
