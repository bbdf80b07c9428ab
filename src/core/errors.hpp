#pragma once
/// synthfeed's exceptions, in three named families, each with the exit code or HTTP status a
/// caller maps it to:
/// - config_error: a bad profile, flag, URI, env value (exit 2), located at file:line:col or
///   at the flag or variable;
/// - run_error: a failure while running, such as a broker that cannot be reached or a port
///   that cannot be bound (exit 1), located at the component (`mqtt`, `--http`, a URI);
/// - request_error: a bad control API request (HTTP 4xx), located at the JSON member.
/// Exceptions are raised at configuration and set-up time only: the hot path reports problems
/// with status codes instead.

#include <stdexcept>
#include <string>
#include <string_view>

namespace synthfeed {

/// Process exit codes, the contract scripts rely on.
enum exit_code : int { exit_ok = 0, exit_runtime_failure = 1, exit_usage = 2 };

/// Where a configuration value came from: a file position, a flag or an env variable.
struct source_location {
    std::string origin; ///< file path, "--flag" or "SYNTHFEED_X"
    int line = 0;       ///< 1-based; 0 when not from a file
    int column = 0;
};

/// The base of the three families: where the problem is, and a message.
/// what() reads "origin:line:col: key: message" (parts that are empty or 0 left out).
class located_error : public std::runtime_error {
  public:
    located_error(source_location where, std::string key, std::string message);

    const source_location& where() const noexcept { return where_; }
    const std::string& key() const noexcept { return key_; }

  private:
    source_location where_;
    std::string key_;
};

/// A bad profile, flag, URI or env value: exit 2 (exit_usage).
class config_error : public located_error {
  public:
    using located_error::located_error;
};

/// A failure while setting up or running (a broker unreachable, a port taken, a read that
/// timed out): exit 1 (exit_runtime_failure). `where.origin` names the component or URI.
class run_error : public located_error {
  public:
    run_error(std::string origin, std::string message)
        : located_error({std::move(origin), 0, 0}, "", std::move(message)) {}
};

/// A control API request that cannot be served: an HTTP 4xx status (400 by default) with
/// what() as the JSON error. `key` names the JSON member at fault, if any.
class request_error : public located_error {
  public:
    explicit request_error(std::string message, std::string key = "", unsigned status = 400)
        : located_error({}, std::move(key), std::move(message)), status_(status) {}
    unsigned status() const noexcept { return status_; }

  private:
    unsigned status_;
};

/// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);

/// The "did you mean" of error messages: the candidate nearest to `given` if at most two edits
/// away (the first of equals), else empty. `candidates` is a range of string-like names.
template <class Range>
std::string closest_match(std::string_view given, const Range& candidates) {
    std::string best;
    std::size_t best_distance = 3;
    for (const auto& candidate : candidates) {
        const std::string name(candidate);
        if (const std::size_t d = edit_distance(std::string(given), name); d < best_distance)
            best_distance = d, best = name;
    }
    return best;
}

} // namespace synthfeed
