#pragma once
/// Reads a TOML profile into a validated fleet plan. Every problem is a config_error naming
/// file, line, column and key.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/config/env_interpolation.hpp"
#include "src/config/profile.hpp"

namespace synthfeed {

/// The top-level tables that hold connector options ([kafka], [mqtt]): the caller passes the
/// registry's names (connector_table_names()), so config never depends on connectors. They
/// are read as raw properties into profile::connectors; the connectors check them.
using connector_table_names_t = std::span<const std::string_view>;

/// Loads and validates the profile at `path` (after `${VAR:-default}` interpolation).
profile load_profile(const std::string& path, connector_table_names_t connector_tables = {},
                     const env_lookup& lookup = process_env);

/// Parses profile text; `origin` is the name used in error messages.
profile parse_profile(std::string_view text, const std::string& origin,
                      connector_table_names_t connector_tables = {},
                      const env_lookup& lookup = process_env);

/// Formats a device id from a group's template ({index}, {index:05}, {index:x}, {group}; the
/// loader checked the template, so this does not throw for a loaded profile).
std::string format_device_id(const std::string& id_template, const std::string& group,
                             std::uint64_t index);

/// The magnitude of a value anomaly of `kind` when none is given (its row in kinds.hpp):
/// variance 3 (times the noise), frequency 2 (times as fast), the others 1 (field units).
double default_magnitude(anomaly_kind kind) noexcept;

/// Why `magnitude` cannot size a value anomaly of `kind` (profile or control API), or empty.
std::string magnitude_problem(anomaly_kind kind, double magnitude);

/// Device ids keep to [A-Za-z0-9-_.:/@+#]: every format, topic and key carries them as they
/// are (line protocol tag values, CSV cells and JSON strings reserve none of these).
inline constexpr std::string_view device_id_alphabet = "[A-Za-z0-9-_.:/@+#]";
inline bool is_device_id_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == '@' || c == '+' || c == '#';
}

/// The ids of the first and last device of each group. An index adds only digits and hex
/// letters, so together they hold every character, and the longest id, any device of the
/// profile can have: what address and escaping checks need, without the whole id table.
std::vector<std::string> boundary_device_ids(const profile& p);

/// Sorts episode windows by start (stable). Returns the original indices of the first pair
/// (earlier, later) that overlaps and shares a device, leaving the windows unsorted: a device
/// is in one episode of a spec at a time, so labels and episode lines come from one set.
std::optional<std::pair<std::size_t, std::size_t>>
sort_windows(std::vector<anomaly_window>& windows);
inline constexpr std::string_view window_overlap_reason =
    "a device is in one episode of a spec at a time (split the spec in two, or merge the "
    "windows)";

/// The key a schema_drift rename gives field `field` of `g`: "<name>_v2", or _v3, … when the
/// group already has a field of that name (so a message never holds one key twice).
std::string renamed_field_name(const group_spec& g, std::size_t field);

} // namespace synthfeed
