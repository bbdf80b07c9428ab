#include "connectors/topic_template.hpp"

namespace synthfeed {

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
