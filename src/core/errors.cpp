#include "src/core/errors.hpp"

#include <algorithm>
#include <vector>

namespace synthfeed {
namespace {

std::string describe(const source_location& where, const std::string& key,
                     const std::string& message) {
    std::string out = where.origin;
    if (where.line > 0) {
        out += ':' + std::to_string(where.line);
        if (where.column > 0) out += ':' + std::to_string(where.column);
    }
    out += ": ";
    if (!key.empty()) out += key + ": ";
    return out + message;
}

} // namespace

config_error::config_error(source_location where, std::string key, std::string message)
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
