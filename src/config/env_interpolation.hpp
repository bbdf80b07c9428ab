#pragma once
/// `${VAR}` / `${VAR:-default}` substitution in profile text, before TOML parsing. Line
/// structure is preserved so TOML errors still point at the right line.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace synthfeed {

using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// Reads the process environment.
std::optional<std::string> process_env(const std::string& name);

/// Replaces every `${NAME}` and `${NAME:-default}`; `$${` stands for a literal `${`.
/// Throws config_error (file:line:col) for an unset variable without default or a bad form.
std::string interpolate_env(std::string_view text, const std::string& file,
                            const env_lookup& lookup = process_env);

} // namespace synthfeed
