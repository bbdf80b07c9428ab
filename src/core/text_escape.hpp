#pragma once
/// Escaping of profile text (names, ids, states, categories) for each output format. The
/// loader refuses control characters and, in names and ids, backslashes (see
/// profile_loader.cpp), so what is left to escape is the few characters each format reserves.
/// Formats: JSON strings, RFC 8259 §7; CSV cells, RFC 4180 §2; InfluxDB line protocol
/// (docs.influxdata.com, "line protocol reference": measurement escapes comma and space; tag
/// keys, tag values and field keys also escape '='; string field values escape '"' and '\');
/// XML 1.0 §2.4 (character data) and §3.3.3 (attribute values) for SVG and HTML.

#include <string>
#include <string_view>

namespace synthfeed {

enum class text_context {
    json_string,        ///< inside "…": '"' and '\' escaped, control characters as \uXXXX
    csv_cell,           ///< the whole cell: quoted (quotes doubled) when it holds , " CR LF
    influx_measurement, ///< ',' and ' ' escaped
    influx_key,         ///< a tag key, tag value or field key: ',' '=' ' ' escaped
    influx_string,      ///< inside "…" of a string field value: '"' and '\' escaped
    xml_text            ///< XML, SVG and HTML text or a quoted attribute: & < > " ' as entities
};

/// Whether `s` needs any escaping in `context` (false: it can be copied as it is).
bool needs_escaping(std::string_view s, text_context context) noexcept;

/// Appends `s` escaped for `context` (without the surrounding quotes of JSON and line-protocol
/// strings; with them for a CSV cell that needs them).
void append_escaped(std::string& out, std::string_view s, text_context context);
std::string escaped(std::string_view s, text_context context);

/// The first control character (U+0000–U+001F, U+007F) in `s`, or npos.
std::size_t find_control_character(std::string_view s) noexcept;

} // namespace synthfeed
