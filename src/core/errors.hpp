#pragma once
/// Errors raised while reading configuration (profiles, flags, URIs, env). They are the only
/// exceptions in synthfeed: the hot path reports problems with status codes instead.

#include <stdexcept>
#include <string>

namespace synthfeed {

/// Process exit codes, the contract scripts rely on.
enum exit_code : int { exit_ok = 0, exit_runtime_failure = 1, exit_usage = 2 };

/// Where a configuration value came from: a file position, a flag or an env variable.
struct source_location {
    std::string origin; ///< file path, "--flag" or "SYNTHFEED_X"
    int line = 0;       ///< 1-based; 0 when not from a file
    int column = 0;
};

/// A bad profile, flag, URI or env value. what() reads "origin:line:col: key: message".
class config_error : public std::runtime_error {
  public:
    config_error(source_location where, std::string key, std::string message);

    const source_location& where() const noexcept { return where_; }
    const std::string& key() const noexcept { return key_; }

  private:
    source_location where_;
    std::string key_;
};

/// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);

} // namespace synthfeed
