#include "src/core/text_escape.hpp"

namespace synthfeed {
namespace {

bool is_control(unsigned char c) noexcept {
    return c < 0x20 || c == 0x7f;
}

bool special(unsigned char c, text_context context) noexcept {
    switch (context) {
    case text_context::json_string:
    case text_context::influx_string:
        return c == '"' || c == '\\' || is_control(c);
    case text_context::csv_cell:
        return c == ',' || c == '"' || c == '\r' || c == '\n';
    case text_context::influx_measurement:
        return c == ',' || c == ' ';
    case text_context::influx_key:
        return c == ',' || c == '=' || c == ' ';
    case text_context::xml_text:
        return c == '&' || c == '<' || c == '>' || c == '"' || c == '\'';
    }
    return false;
}

/// A character as XML text: itself, or the entity of one XML reserves.
std::string_view xml_entity(const char& c) noexcept {
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return {&c, 1};
    }
}

} // namespace

bool needs_escaping(std::string_view s, text_context context) noexcept {
    for (char c : s)
        if (special(static_cast<unsigned char>(c), context)) return true;
    return false;
}

void append_escaped(std::string& out, std::string_view s, text_context context) {
    if (!needs_escaping(s, context)) {
        out += s;
        return;
    }
    if (context == text_context::csv_cell) {
        out += '"';
        for (char c : s) {
            if (c == '"') out += '"';
            out += c;
        }
        out += '"';
        return;
    }
    if (context == text_context::xml_text) {
        for (char c : s) out += xml_entity(c);
        return;
    }
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (!special(u, context)) {
            out += c;
        } else if (context == text_context::json_string && is_control(u)) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += '\\';
            out += c;
        }
    }
}

std::string escaped(std::string_view s, text_context context) {
    std::string out;
    append_escaped(out, s, context);
    return out;
}

std::size_t find_control_character(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i)
        if (is_control(static_cast<unsigned char>(s[i]))) return i;
    return std::string_view::npos;
}

} // namespace synthfeed
