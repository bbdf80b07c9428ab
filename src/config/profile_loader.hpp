#pragma once
/// Reads a TOML profile into a validated fleet plan. Every problem is a config_error naming
/// file, line, column and key.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/config/env_interpolation.hpp"
#include "src/config/profile.hpp"

namespace synthfeed {

/// Loads and validates the profile at `path` (after `${VAR:-default}` interpolation).
profile load_profile(const std::string& path, const env_lookup& lookup = process_env);

/// Parses profile text; `origin` is the name used in error messages.
profile parse_profile(std::string_view text, const std::string& origin,
                      const env_lookup& lookup = process_env);

/// Formats a device id from a group's template ({index}, {index:05}, {index:x}, {group}; the
/// loader checked the template, so this does not throw for a loaded profile).
std::string format_device_id(const std::string& id_template, const std::string& group,
                             std::uint64_t index);

/// The ids of the first and last device of each group. An index adds only digits and hex
/// letters, so together they hold every character, and the longest id, any device of the
/// profile can have: what address and escaping checks need, without the whole id table.
std::vector<std::string> boundary_device_ids(const profile& p);

/// The key a schema_drift rename gives field `field` of `g`: "<name>_v2", or _v3, … when the
/// group already has a field of that name (so a message never holds one key twice).
std::string renamed_field_name(const group_spec& g, std::size_t field);

} // namespace synthfeed
