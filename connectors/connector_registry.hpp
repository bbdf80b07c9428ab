#pragma once
/// Sink URIs → connectors, through one explicit table (static self-registration would
/// silently vanish from a static library).

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.hpp"

namespace synthfeed {

/// A sink URI split into scheme and the rest ("file:out.jsonl" → "file", "out.jsonl").
struct sink_uri {
    std::string text;   ///< as given
    std::string scheme; ///< "null", "stdout", "file", "kafka", "mqtt", …
    std::string target; ///< what follows "scheme:" (and "//" where used)
};

/// A pass-through property for a connector's client library (librdkafka's `-X` properties),
/// with where it came from, for error messages.
struct connector_property {
    std::string name;
    std::string value;
    std::string origin; ///< "-X", "SYNTHFEED_RDKAFKA_LINGER_MS", "profile.toml:12:1"
};

/// What a connector is opened for; `origin` names the flag or env var in error messages.
struct connector_context {
    std::string origin = "--sink";
    std::vector<connector_property> kafka_properties; ///< lowest precedence first
    std::vector<connector_property> mqtt_options;     ///< profile [mqtt], env; the URI wins
};

/// Why a message of a device could not be addressed (its topic, once the template is
/// expanded, breaks the broker's rules), or empty.
using address_check = std::function<std::string(std::string_view group, std::string_view id)>;

struct connector_kind {
    std::string_view scheme;
    std::string_view synopsis; ///< URI form, for `synthfeed list`
    std::string_view description;
    std::function<std::unique_ptr<connector>(const sink_uri&, const connector_context&)> open;
    /// Sinks that address messages by device (topic templates); empty for the others.
    std::function<address_check(const sink_uri&, const connector_context&)> addressing = {};
};

/// Every connector built into this binary.
const std::vector<connector_kind>& connector_kinds();

/// Splits a URI; a bare path means "file:PATH". Throws config_error on a malformed one.
sink_uri parse_sink_uri(std::string_view text, const std::string& origin);

/// The address check of the sink at `uri` (parsed as open_connector would, nothing opened),
/// or an empty function when it does not address messages by device. Throws config_error
/// for a bad URI. Call it with the first and last id of each group (boundary_device_ids):
/// they hold every character any id can.
address_check sink_address_check(std::string_view uri, const connector_context& ctx);

/// Opens the connector for `uri`; throws config_error for an unknown scheme or bad options.
std::unique_ptr<connector> open_connector(std::string_view uri, const connector_context& ctx);

} // namespace synthfeed
