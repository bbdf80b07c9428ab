#include "src/config/env_interpolation.hpp"

#include <cctype>
#include <cstdlib>

#include "src/core/errors.hpp"

namespace synthfeed {

std::optional<std::string> process_env(const std::string& name) {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
}

std::string interpolate_env(std::string_view text, const std::string& file,
                            const env_lookup& lookup) {
    std::string out;
    out.reserve(text.size());
    int line = 1, column = 1;
    for (std::size_t i = 0; i < text.size();) {
        if (text.compare(i, 3, "$${") == 0) {
            out += "${";
            i += 3, column += 3;
            continue;
        }
        if (text.compare(i, 2, "${") != 0) {
            if (text[i] == '\n') ++line, column = 0;
            out += text[i++];
            ++column;
            continue;
        }
        const source_location where{file, line, column};
        const std::size_t close = text.find('}', i);
        const std::size_t newline = text.find('\n', i);
        if (close == std::string_view::npos || close > newline)
            throw config_error(where, "${", "unterminated variable reference");
        const std::string_view body = text.substr(i + 2, close - i - 2);
        const std::size_t sep = body.find(":-");
        const std::string name(body.substr(0, sep));
        if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_'))
            throw config_error(where, "${" + name + "}", "invalid variable name");
        for (char c : name)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
                throw config_error(where, "${" + name + "}", "invalid variable name");
        if (auto value = lookup(name); value && !value->empty()) {
            out += *value;
        } else if (sep != std::string_view::npos) {
            out += body.substr(sep + 2);
        } else {
            throw config_error(where, name,
                               "environment variable is not set and has no default "
                               "(write ${" +
                                   name + ":-default})");
        }
        column += static_cast<int>(close + 1 - i);
        i = close + 1;
    }
    return out;
}

} // namespace synthfeed
