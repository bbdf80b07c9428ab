#pragma once
/// What a connector is opened with: the sink URI split, the settings per option table, and
/// the callbacks a connector offers the registry. Shared by every connector and the registry
/// (connector_api), so a connector never includes the registry that lists it.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector_options.hpp"

namespace synthfeed {

/// A sink URI split into scheme and the rest ("file:out.jsonl" → "file", "out.jsonl").
struct sink_uri {
    std::string text;   ///< as given
    std::string scheme; ///< "null", "stdout", "file", "kafka", "mqtt", …
    std::string target; ///< what follows "scheme:" (and "//" where used)
};

/// What a connector is opened for: `origin` names the flag or env var in error messages.
struct connector_context {
    std::string origin = "--sink";
    /// Settings per option table ("kafka", "mqtt"), lowest precedence first: the profile's
    /// table, env, pass-through flags. The URI's query, read at open, comes after them.
    std::map<std::string, std::vector<connector_setting>, std::less<>> settings;

    /// The settings for `table` (none: empty).
    const std::vector<connector_setting>& settings_of(std::string_view table) const;
};

/// Called for every record read back: payload and partition (0 for a file).
using record_visitor = std::function<void(std::string_view payload, int partition)>;

/// Why a message of a device could not be addressed (its topic, once the template is
/// expanded, breaks the broker's rules), or empty.
using address_check = std::function<std::string(std::string_view group, std::string_view id)>;

} // namespace synthfeed
