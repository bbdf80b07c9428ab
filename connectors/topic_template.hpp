#pragma once
/// Topic templates shared by the broker connectors: `{group}` and `{device_id}`.

#include <string>
#include <string_view>

namespace synthfeed {

/// Expands a topic template for one message. Placeholders were validated at start-up.
std::string expand_topic(const std::string& topic_template, std::string_view group,
                         std::string_view device_id);

/// Whether the template has any placeholder (else one fixed topic serves every message).
inline bool is_fixed_topic(const std::string& topic_template) {
    return topic_template.find('{') == std::string::npos;
}

} // namespace synthfeed
