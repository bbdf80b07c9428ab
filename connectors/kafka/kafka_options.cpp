#include "connectors/kafka/kafka_options.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "src/core/errors.hpp"

#include "src/core/time.hpp"
#include <librdkafka/rdkafka.h>

extern char** environ;

namespace synthfeed {
namespace {

/// Checks a topic template: legal topic characters, and only known {placeholders}.
void check_topic_template(const std::string& t, const std::string& origin, const std::string& uri) {
    if (t.empty())
        throw config_error({origin, 0, 0}, uri, "missing topic (kafka://HOST:PORT/TOPIC)");
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '{') {
            const auto close = t.find('}', i);
            const std::string name =
                close == std::string::npos ? "" : t.substr(i + 1, close - i - 1);
            if (name == "field")
                throw config_error(
                    {origin, 0, 0}, uri,
                    "{field} is not available for Kafka: a message carries every field "
                    "of its device; use {group} or {device_id}");
            if (name != "group" && name != "device_id")
                throw config_error({origin, 0, 0}, uri,
                                   "unknown topic placeholder (use {group} or {device_id})");
            i = close;
            continue;
        }
        if (!kafka_topic_rules.allowed(static_cast<unsigned char>(t[i])))
            throw config_error({origin, 0, 0}, uri,
                               std::string("invalid character '") + t[i] +
                                   "' in topic (Kafka allows [a-zA-Z0-9._-])");
    }
    if (t.size() > 249) throw config_error({origin, 0, 0}, uri, "topic longer than 249 characters");
}

void check_hosts(const std::string& hosts, const std::string& origin, const std::string& uri) {
    std::size_t start = 0;
    while (start <= hosts.size()) {
        const auto comma = std::min(hosts.find(',', start), hosts.size());
        const std::string host = hosts.substr(start, comma - start);
        const auto colon = host.rfind(':');
        int port = 0;
        const char* port_begin = host.data() + (colon == std::string::npos ? 0 : colon + 1);
        const auto [ptr, ec] = std::from_chars(port_begin, host.data() + host.size(), port);
        if (host.empty() || colon == std::string::npos || colon == 0 || ec != std::errc{} ||
            ptr != host.data() + host.size() || port < 1 || port > 65535)
            throw config_error({origin, 0, 0}, uri,
                               "broker \"" + host +
                                   "\" is not HOST:PORT (kafka://HOST:PORT[,HOST:PORT]/TOPIC)");
        start = comma + 1;
    }
}

} // namespace

kafka_options parse_kafka_uri(const sink_uri& uri, const std::string& origin) {
    kafka_options o;
    std::string rest = uri.target;
    std::string query;
    if (const auto q = rest.find('?'); q != std::string::npos) {
        query = rest.substr(q + 1);
        rest.resize(q);
    }
    const auto slash = rest.find('/');
    if (slash == std::string::npos)
        throw config_error({origin, 0, 0}, uri.text, "missing topic (kafka://HOST:PORT/TOPIC)");
    const std::string hosts = rest.substr(0, slash);
    o.topic_template = rest.substr(slash + 1);
    if (hosts == "embedded") {
        o.embedded = true;
    } else {
        check_hosts(hosts, origin, uri.text);
        o.bootstrap = hosts;
    }
    check_topic_template(o.topic_template, origin, uri.text);
    std::size_t start = 0;
    while (!query.empty() && start <= query.size()) {
        const auto amp = std::min(query.find('&', start), query.size());
        const std::string pair = query.substr(start, amp - start);
        const auto eq = pair.find('=');
        const std::string name = pair.substr(0, eq),
                          value = eq == std::string::npos ? "" : pair.substr(eq + 1);
        if (name == "key") {
            if (value == "device_id")
                o.key = kafka_key_mode::device_id;
            else if (value == "group")
                o.key = kafka_key_mode::group;
            else if (value == "none")
                o.key = kafka_key_mode::none;
            else
                throw config_error({origin, 0, 0}, uri.text,
                                   "key must be device_id, group or none");
        } else if (name == "connect_timeout") {
            const auto d = parse_duration(value);
            if (!d || *d <= 0)
                throw config_error({origin, 0, 0}, uri.text,
                                   "connect_timeout must be a duration such as 10s");
            o.connect_timeout_ms = static_cast<int>(std::min<sim_duration>(*d, 3'600'000));
        } else {
            throw config_error({origin, 0, 0}, uri.text,
                               "unknown option \"" + name +
                                   "\" (known: key, connect_timeout; "
                                   "librdkafka properties go in -X name=value)");
        }
        start = amp + 1;
    }
    return o;
}

const std::vector<connector_property>& kafka_default_properties() {
    static const std::vector<connector_property> defaults{
        {"client.id", "synthfeed", "default"},
        {"enable.idempotence", "true", "default"}, // no duplicates or reordering on retries
        {"linger.ms", "20", "default"},            // fuller batches at high rates
        {"batch.size", "1000000", "default"},
        {"compression.type", "lz4", "default"}, // cheap, effective on JSON
        {"queue.buffering.max.messages", "1000000", "default"},
    };
    return defaults;
}

std::vector<connector_property> kafka_properties_from_env() {
    std::vector<connector_property> out;
    constexpr std::string_view prefix = "SYNTHFEED_RDKAFKA_";
    for (char** e = environ; e && *e; ++e) {
        const std::string_view entry(*e);
        if (!entry.starts_with(prefix)) continue;
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos) continue;
        std::string name(entry.substr(prefix.size(), eq - prefix.size()));
        for (char& c : name)
            c = c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.push_back({name, std::string(entry.substr(eq + 1)), std::string(entry.substr(0, eq))});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

bool is_secret_property(std::string_view name) {
    for (std::string_view marker : {"password", "secret", "key.pem", "sasl.jaas", "token"})
        if (name.find(marker) != std::string_view::npos) return true;
    return name == "ssl.key.pem" || name == "ssl_key";
}

static std::string redact(std::string message, const connector_property& p) {
    if (!is_secret_property(p.name) || p.value.empty()) return message;
    for (std::size_t at = message.find(p.value); at != std::string::npos;
         at = message.find(p.value, at))
        message.replace(at, p.value.size(), "***");
    return message;
}

void set_kafka_property(rd_kafka_conf_t* conf, const connector_property& p) {
    char err[512];
    if (rd_kafka_conf_set(conf, p.name.c_str(), p.value.c_str(), err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw config_error({p.origin, 0, 0}, p.name, redact(err, p));
    }
}

} // namespace synthfeed
