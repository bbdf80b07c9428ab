#pragma once
/// Topic templates shared by the broker connectors: `{group}` and `{device_id}`.

#include <string>
#include <string_view>

namespace synthfeed {

/// Expands a topic template for one message. Placeholders were validated at start-up.
std::string expand_topic(const std::string& topic_template, std::string_view group,
                         std::string_view device_id);

/// What a broker accepts as a topic name.
struct topic_rules {
    std::string_view broker;            ///< "Kafka", "MQTT": for messages
    std::size_t max_length;             ///< bytes
    bool (*allowed)(unsigned char c);   ///< each byte of the name
    std::string_view allowed_described; ///< "[a-zA-Z0-9._-]"
};

/// Kafka: [a-zA-Z0-9._-], at most 249 characters, not "." or ".." (Kafka's Topic.validate).
extern const topic_rules kafka_topic_rules;
/// MQTT: any UTF-8 but the wildcards '+' and '#' and U+0000, at most 65,535 bytes (MQTT 3.1.1
/// §4.7.3, §1.5.3; MQTT 5 §4.7.3).
extern const topic_rules mqtt_topic_rules;

/// Why `topic` breaks `rules`, or empty: a short message naming the offending character.
std::string topic_problem(std::string_view topic, const topic_rules& rules);

/// Why a topic template cannot serve `rules`' broker, or empty: a placeholder other than
/// {group} and {device_id} ({field} among them: a message carries every field of its device),
/// or a character the broker refuses outside the placeholders. Ids are checked once expanded
/// (topic_problem).
std::string topic_template_problem(std::string_view topic_template, const topic_rules& rules);

/// Whether the template has any placeholder (else one fixed topic serves every message).
inline bool is_fixed_topic(const std::string& topic_template) {
    return topic_template.find('{') == std::string::npos;
}

} // namespace synthfeed
