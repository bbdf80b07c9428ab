#pragma once
/// Sink URIs → connectors, through one explicit table (static self-registration would
/// silently vanish from a static library).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/connector_context.hpp"
#include "connectors/connector_options.hpp"
#include "connectors/stream_follower.hpp"

namespace synthfeed {

struct connector_kind {
    std::string_view scheme;
    std::string_view synopsis; ///< URI form, for `synthfeed list`
    std::string_view description;
    std::function<std::unique_ptr<connector>(const sink_uri&, const connector_context&)> open;
    /// Sinks that address messages by device (topic templates); empty for the others.
    std::function<address_check(const sink_uri&, const connector_context&)> addressing = {};
    /// Its options (one table serves mqtt:// and mqtts://); nullptr: it takes none.
    const option_table* options = nullptr;
    /// Reads a stream back for `synthfeed verify`, every record to the visitor, until `timeout`;
    /// returns how many. Empty when the connector cannot read. Throws config_error for a bad
    /// URI or option, run_error when the stream cannot be read.
    std::function<std::uint64_t(const sink_uri&, const connector_context&,
                                std::chrono::milliseconds timeout, const record_visitor&)>
        read = {};
    /// Follows a stream as it grows, for `synthfeed score --follow`. Empty when the connector
    /// cannot. Throws config_error for a bad URI or option.
    std::function<std::unique_ptr<stream_follower>(const sink_uri&, const connector_context&)>
        follow = {};
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

/// `uri` as messages may quote it: passwords and secret option values read "***".
std::string shown_sink_uri(std::string_view uri);

/// A pass-through flag's value ("-X sasl.password=s3cret") as a summary may quote it: the
/// value reads "***" when a connector taking `flag` says the name holds a secret, or when no
/// connector takes the flag.
std::string shown_flag_setting(std::string_view flag, std::string_view name_value);

/// Reads the stream at `uri` back (file:PATH, kafka://…/TOPIC) for `synthfeed verify`;
/// returns the number of records. config_error for a scheme that cannot be read back.
std::uint64_t read_stream(std::string_view uri, const connector_context& ctx,
                          std::chrono::milliseconds timeout, const record_visitor& visit);

/// A follower of the stream at `uri` (kafka://…/TOPIC) for `synthfeed score --follow`.
/// config_error for a scheme that cannot be followed, a bad URI or option.
std::unique_ptr<stream_follower> open_follower(std::string_view uri, const connector_context& ctx);

/// Every option table of the built-in connectors, once each.
std::vector<const option_table*> option_tables();

/// The names of the profile tables connectors read (`[kafka]`, `[mqtt]`).
std::vector<std::string_view> connector_table_names();

/// Appends what the environment sets for each connector (env twins, pass-through variables)
/// to `ctx.settings`, after what it holds.
void add_environment_settings(connector_context& ctx);

/// Appends values given with a pass-through flag ("-X", each "name=value") to the settings of
/// the connector taking that flag. Throws config_error for a value without a name and '='.
void add_flag_settings(connector_context& ctx, std::string_view flag,
                       const std::vector<std::string>& values);

/// Checks every setting in `ctx` against its connector's table, and pass-through settings with
/// the client library, without a URI: names and values (config_error at the first bad one).
void check_connector_settings(const connector_context& ctx);

/// Prints every name a pass-through `flag` takes ("-X list"); false when no connector takes
/// that flag.
bool print_flag_names(std::string_view flag);

/// What `synthfeed list` says of connectors: every scheme, then every option table.
std::string describe_connectors();

/// A short reminder of connector options for `--help`: each table's option names.
std::string connector_options_help();

} // namespace synthfeed
