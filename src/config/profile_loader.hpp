#pragma once
/// Reads a TOML profile into a validated fleet plan. Every problem is a config_error naming
/// file, line, column and key.

#include <cstdint>
#include <string>
#include <string_view>

#include "src/config/env_interpolation.hpp"
#include "src/config/profile.hpp"

namespace synthfeed {

/// Loads and validates the profile at `path` (after `${VAR:-default}` interpolation).
profile load_profile(const std::string& path, const env_lookup& lookup = process_env);

/// Parses profile text; `origin` is the name used in error messages.
profile parse_profile(std::string_view text, const std::string& origin,
                      const env_lookup& lookup = process_env);

/// Formats a device id from a group's template ({index}, {group}; fmt format specs allowed).
std::string format_device_id(const std::string& id_template, const std::string& group,
                             std::uint64_t index);

} // namespace synthfeed
