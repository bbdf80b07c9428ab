#include "connectors/connector_registry.hpp"

#include "connectors/file/file_connector.hpp"
#include "connectors/kafka/kafka_connector.hpp"
#include "connectors/mqtt/mqtt_connector.hpp"
#include "connectors/null/null_connector.hpp"
#include "connectors/stdout/stdout_connector.hpp"
#include "connectors/topic_template.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

address_check topic_check(std::string topic_template, const topic_rules& rules) {
    return [topic_template = std::move(topic_template), &rules](std::string_view group,
                                                                std::string_view id) {
        return topic_problem(expand_topic(topic_template, group, id), rules);
    };
}

const connector_kind& kind_of(const sink_uri& u, const connector_context& ctx) {
    std::string known;
    for (const auto& kind : connector_kinds()) {
        if (kind.scheme == u.scheme) return kind;
        known += (known.empty() ? "" : ", ") + std::string(kind.synopsis);
    }
    throw config_error({ctx.origin, 0, 0}, u.text,
                       "unknown sink scheme \"" + u.scheme + "\" (known: " + known + ")");
}

} // namespace

const std::vector<connector_kind>& connector_kinds() {
    static const std::vector<connector_kind> kinds{
        {"null", "null:", "discard every message, count it delivered (measures generation)",
         [](const sink_uri&, const connector_context&) {
             return std::make_unique<null_connector>();
         }},
        {"stdout", "stdout:", "one message per line on standard output",
         [](const sink_uri&, const connector_context&) {
             return std::make_unique<stdout_connector>();
         }},
        {"file", "file:PATH",
         "one message per line to PATH (truncated first); a bare PATH works too",
         [](const sink_uri& u, const connector_context& ctx) {
             if (u.target.empty())
                 throw config_error({ctx.origin, 0, 0}, u.text, "file: needs a path (file:PATH)");
             return std::make_unique<file_connector>(u.target, ctx.origin);
         }},
        {"kafka", "kafka://HOST:PORT[,…]/TOPIC",
         "Apache Kafka via librdkafka; kafka://embedded/TOPIC runs an in-process mock cluster",
         [](const sink_uri& u, const connector_context& ctx) {
             return std::make_unique<kafka_connector>(u, ctx);
         },
         [](const sink_uri& u, const connector_context& ctx) {
             return topic_check(parse_kafka_uri(u, ctx.origin).topic_template, kafka_topic_rules);
         }},
        {"mqtt", "mqtt://HOST:PORT/TOPIC[?qos=1&…]",
         "MQTT 3.1.1/5 via libmosquitto on our own epoll loop; shared or per-device connections",
         [](const sink_uri& u, const connector_context& ctx) {
             return std::make_unique<mqtt_connector>(u, ctx);
         },
         [](const sink_uri& u, const connector_context& ctx) {
             return topic_check(parse_mqtt_uri(u, ctx).topic_template, mqtt_topic_rules);
         }},
        {"mqtts", "mqtts://HOST:PORT/TOPIC[?ca=…]", "MQTT over TLS",
         [](const sink_uri& u, const connector_context& ctx) {
             return std::make_unique<mqtt_connector>(u, ctx);
         },
         [](const sink_uri& u, const connector_context& ctx) {
             return topic_check(parse_mqtt_uri(u, ctx).topic_template, mqtt_topic_rules);
         }},
    };
    return kinds;
}

sink_uri parse_sink_uri(std::string_view text, const std::string& origin) {
    sink_uri u;
    u.text = std::string(text);
    if (text.empty()) throw config_error({origin, 0, 0}, "", "empty sink URI");
    const auto colon = text.find(':');
    const bool looks_like_scheme =
        colon != std::string_view::npos && colon > 0 &&
        text.substr(0, colon).find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789+-.") ==
            std::string_view::npos;
    if (!looks_like_scheme) {
        u.scheme = "file";
        u.target = std::string(text);
        return u;
    }
    u.scheme = std::string(text.substr(0, colon));
    std::string_view rest = text.substr(colon + 1);
    if (rest.starts_with("//")) rest.remove_prefix(2);
    u.target = std::string(rest);
    return u;
}

address_check sink_address_check(std::string_view text, const connector_context& ctx) {
    const sink_uri u = parse_sink_uri(text, ctx.origin);
    const connector_kind& kind = kind_of(u, ctx);
    return kind.addressing ? kind.addressing(u, ctx) : address_check{};
}

std::unique_ptr<connector> open_connector(std::string_view text, const connector_context& ctx) {
    const sink_uri u = parse_sink_uri(text, ctx.origin);
    return kind_of(u, ctx).open(u, ctx);
}

} // namespace synthfeed
