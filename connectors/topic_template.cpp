#include "connectors/topic_template.hpp"

#include <fmt/format.h>

namespace synthfeed {
namespace {

bool kafka_allowed(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}
bool mqtt_allowed(unsigned char c) {
    return c != '+' && c != '#' && c != 0;
}

} // namespace

const topic_rules kafka_topic_rules{"Kafka", 249, kafka_allowed, "[a-zA-Z0-9._-]"};
const topic_rules mqtt_topic_rules{"MQTT", 65535, mqtt_allowed,
                                   "any UTF-8 but the wildcards + and # and NUL"};

std::string topic_problem(std::string_view topic, const topic_rules& rules) {
    const std::string head = std::string(rules.broker) + " topic \"" +
                             std::string(topic.substr(0, 80)) + (topic.size() > 80 ? "…" : "") +
                             "\"";
    if (topic.empty()) return head + " is empty";
    for (char c : topic)
        if (!rules.allowed(static_cast<unsigned char>(c)))
            return head + " holds '" + std::string(1, c) + "' (" + std::string(rules.broker) +
                   " allows " + std::string(rules.allowed_described) + ")";
    if (topic.size() > rules.max_length)
        return head + " is " + std::to_string(topic.size()) + " bytes long (at most " +
               std::to_string(rules.max_length) + ")";
    if (&rules == &kafka_topic_rules && (topic == "." || topic == ".."))
        return head + " is not allowed (Kafka refuses \".\" and \"..\")";
    return "";
}

std::string topic_template_problem(std::string_view t, const topic_rules& rules) {
    std::size_t literal = 0; // bytes outside placeholders
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '{') {
            const auto close = t.find('}', i);
            const std::string_view name =
                close == std::string_view::npos ? t.substr(i) : t.substr(i + 1, close - i - 1);
            if (name == "field")
                return "{field} is not available for " + std::string(rules.broker) +
                       ": a message carries every field of its device; use {group} or "
                       "{device_id}";
            if (close == std::string_view::npos || (name != "group" && name != "device_id"))
                return "unknown topic placeholder \"{" + std::string(name.substr(0, 40)) +
                       (close == std::string_view::npos ? "" : "}") +
                       "\" (use {group} or {device_id})";
            i = close;
            continue;
        }
        const auto c = static_cast<unsigned char>(t[i]);
        if (!rules.allowed(c))
            return "invalid character " +
                   (c < 0x20 || c == 0x7F ? fmt::format("U+{:04X}", c)
                                          : "'" + std::string(1, t[i]) + "'") +
                   " in the topic (" + std::string(rules.broker) + " allows " +
                   std::string(rules.allowed_described) + ")";
        ++literal;
    }
    if (literal > rules.max_length)
        return "topic longer than " + std::to_string(rules.max_length) + " bytes";
    return "";
}

std::string expand_topic(const std::string& t, std::string_view group, std::string_view device_id) {
    std::string out;
    out.reserve(t.size() + device_id.size());
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '{') {
            const auto close = t.find('}', i);
            const std::string_view name(t.data() + i + 1, close - i - 1);
            out += name == "group" ? group : device_id;
            i = close;
        } else {
            out += t[i];
        }
    }
    return out;
}

} // namespace synthfeed
