#pragma once
/// URIs of the broker connectors (kafka://, mqtt://, mqtts://), parsed by Boost.URL and
/// percent-decoded: SCHEME://[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT…]/TOPIC[?name=value&…].
///
/// % always starts an escape (%XX, two hex digits); a reserved character that is part of a
/// value, a topic or the user info is written escaped (& as %26, = as %3D, % as %25, @ as %40,
/// # as %23). Characters a URI can never hold raw (space, the braces of topic placeholders,
/// the backslash, " < > ^ ` |, controls, non-ASCII) are taken as typed and escaped before
/// parsing, as browsers do. A '+' is a plus, not a space.

#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector_context.hpp"
#include "connectors/connector_options.hpp"

namespace synthfeed {

/// One broker of a URI.
struct broker_address {
    std::string host; ///< decoded; an IPv6 literal without its brackets
    int port = 0;     ///< 1..65535; 0 only for broker_uri_rules::portless_host
    std::string text; ///< "host:port", "[::1]:1883": for client libraries and messages
};

/// The shape of one connector's URIs.
struct broker_uri_rules {
    std::string_view form;                 ///< "mqtt://HOST:PORT/TOPIC", for messages
    const option_table* options;           ///< its query options (secret values are masked)
    bool several_brokers = false;          ///< "h1:9092,h2:9092"
    std::string_view portless_host = {};   ///< the one host written without a port ("embedded")
    std::string_view user_option = {};     ///< the option USER@ sets; empty: no user info taken
    std::string_view password_option = {}; ///< the option :PASSWORD@ sets
};

/// A parsed, percent-decoded broker URI.
struct broker_uri {
    std::string origin;                  ///< the flag or env var that gave it: "--sink"
    std::string shown;                   ///< as given, password and secret values masked
    std::vector<broker_address> brokers; ///< at least one
    std::string topic_template;          ///< the decoded path without its leading '/'; not empty
    /// The user info (as `user_option`, `password_option`) then the query, in order.
    std::vector<connector_setting> query;

    /// Throws config_error "ORIGIN: SHOWN: message".
    [[noreturn]] void fail(const std::string& message) const;
};

/// `uri` as messages may quote it: the password of its user info and the values of query
/// options that are secret or not in `options` (all of them without a table) read "***".
/// A URI whose user info may have spilled past the broker address is masked whole.
std::string masked_uri(const sink_uri& uri, const option_table* options);

/// Parses `uri` (its scheme already matched). Throws config_error naming `origin` and the
/// masked URI: a bad percent-escape (the part it is in, never a secret's text), a broker that
/// is not HOST:PORT, a missing topic, a fragment, user info where none is taken.
broker_uri parse_broker_uri(const sink_uri& uri, const std::string& origin,
                            const broker_uri_rules& rules);

} // namespace synthfeed
