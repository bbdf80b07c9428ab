#include "src/core/errors.hpp"

#include <algorithm>
#include <vector>

namespace synthfeed {
namespace {

/// At most `limit` bytes of `s`, cut at a UTF-8 character boundary and marked: messages
/// quote user input (a URI, a template), and a 100 KB quote helps nobody.
std::string shorten(const std::string& s, std::size_t limit) {
    if (s.size() <= limit) return s;
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return s.substr(0, cut) + "… (" + std::to_string(s.size() - cut) + " more bytes)";
}

std::string describe(const source_location& where, const std::string& key_text,
                     const std::string& message_text) {
    const std::string key = shorten(key_text, 200);
    const std::string message = shorten(message_text, 400);
    std::string out = where.origin;
    if (where.line > 0) {
        out += ':' + std::to_string(where.line);
        if (where.column > 0) out += ':' + std::to_string(where.column);
    }
    if (!out.empty()) out += ": ";
    if (!key.empty()) out += key + ": ";
    return out + message;
}

} // namespace

located_error::located_error(source_location where, std::string key, std::string message)
    : std::runtime_error(describe(where, key, message)), where_(std::move(where)),
      key_(std::move(key)) {}

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = above;
        }
    }
    return row[b.size()];
}

} // namespace synthfeed
