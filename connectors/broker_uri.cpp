#include "connectors/broker_uri.hpp"

#include <charconv>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace synthfeed {
namespace {

namespace urls = boost::urls;
constexpr auto npos = std::string_view::npos;
constexpr const char* escape_hint = " (% starts an escape of two hex digits; %25 is % itself)";

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// The first '%' of `s` not followed by two hex digits, or npos.
std::size_t bad_escape(std::string_view s) {
    for (auto i = s.find('%'); i != npos; i = s.find('%', i + 1))
        if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return i;
    return npos;
}

/// `s` with what a URI can never hold raw percent-encoded (RFC 3987's mapping of an IRI to a
/// URI, extended to the characters browsers also take as typed).
std::string escape_unsafe(std::string_view s) {
    static constexpr std::string_view unsafe = " \"<>\\^`{|}";
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x21 || c >= 0x7F || unsafe.find(ch) != npos) {
            static constexpr char hex[] = "0123456789ABCDEF";
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += ch;
        }
    }
    return out;
}

/// The decoded text of a percent-encoded name (for masking; a bad escape leaves it as is).
std::string decoded(std::string_view s) {
    if (bad_escape(s) != npos) return std::string(s);
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            int byte = 0;
            std::from_chars(s.data() + i + 1, s.data() + i + 3, byte, 16);
            out += static_cast<char>(byte);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

/// Whether a query option's value may be shown: a known option that holds no secret (a
/// misspelled name may be a secret's).
bool shown_value(const option_table* options, std::string_view name) {
    const connector_option* row = options ? options->find(decoded(name)) : nullptr;
    return row && !row->secret;
}

/// The parts of a URI's target ("HOSTS/TOPIC?QUERY"), split as Boost.URL will: the
/// authority ends at the first '/', '?' or '#', the user info at its last '@'.
struct uri_parts {
    std::string_view userinfo; ///< without '@'
    bool has_userinfo = false;
    std::string_view hosts;
    std::string_view path;  ///< from '/' up to '?' or '#'
    std::string_view query; ///< without '?', up to '#'
    bool has_query = false;
    std::string_view rest; ///< path, query and fragment
    /// An '@' after the authority where a password holding a raw '/', '?' or '#' would put
    /// it: before the query, or anywhere when the brokers are not HOST:DIGITS. Such a URI is
    /// refused and never quoted (it may hold a password's text anywhere).
    bool stray_at = false;
};

/// Whether every "host[:port]" of a comma-separated list has a numeric port, if any.
bool numeric_ports(std::string_view hosts) {
    for (const auto& host : split_list(hosts, ',')) {
        const auto colon = host.rfind(':');
        if (colon == npos || host.ends_with(']')) continue;
        if (host.find_first_not_of("0123456789", colon + 1) != npos) return false;
    }
    return true;
}

uri_parts split(std::string_view target) {
    uri_parts p;
    const auto authority_end = std::min(target.find_first_of("/?#"), target.size());
    const std::string_view authority = target.substr(0, authority_end);
    p.rest = target.substr(authority_end);
    if (const auto at = authority.rfind('@'); at != npos) {
        p.userinfo = authority.substr(0, at);
        p.has_userinfo = true;
        p.hosts = authority.substr(at + 1);
    } else {
        p.hosts = authority;
    }
    const auto query_at = std::min(p.rest.find('?'), p.rest.size());
    const auto fragment_at = std::min(p.rest.find('#'), p.rest.size());
    p.path = p.rest.substr(0, std::min(query_at, fragment_at));
    if (query_at < fragment_at) {
        p.query = p.rest.substr(query_at + 1, fragment_at - query_at - 1);
        p.has_query = true;
    }
    const auto at = p.rest.find('@');
    p.stray_at = !p.has_userinfo && at != npos && (at < query_at || !numeric_ports(p.hosts));
    return p;
}

std::string masked(const sink_uri& uri, const uri_parts& p, const option_table* options) {
    std::string out = uri.text.substr(0, uri.text.size() - uri.target.size());
    if (p.stray_at) return out + "***";
    if (p.has_userinfo) {
        const auto colon = p.userinfo.find(':');
        out += colon == npos ? std::string(p.userinfo)
                             : std::string(p.userinfo.substr(0, colon)) + ":***";
        out += '@';
    }
    out += p.hosts;
    out += p.path;
    if (p.has_query) {
        out += '?';
        const auto pairs = split_list(p.query, '&');
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            const auto eq = pairs[i].find('=');
            const std::string_view name = std::string_view(pairs[i]).substr(0, eq);
            out += i ? "&" : "";
            out += eq == npos || shown_value(options, name) ? pairs[i] : std::string(name) + "=***";
        }
    }
    if (const auto hash = p.rest.find('#'); hash != npos) out += p.rest.substr(hash);
    return out;
}

} // namespace

std::string masked_uri(const sink_uri& uri, const option_table* options) {
    return masked(uri, split(uri.target), options);
}

void broker_uri::fail(const std::string& message) const {
    throw config_error({origin, 0, 0}, shown, message);
}

broker_uri parse_broker_uri(const sink_uri& uri, const std::string& origin,
                            const broker_uri_rules& rules) {
    broker_uri out;
    out.origin = origin;
    const uri_parts parts = split(uri.target);
    out.shown = masked(uri, parts, rules.options);
    if (parts.stray_at)
        out.fail("an '@' after the broker address: in a user name or password, write / ? # as "
                 "%2F %3F %23; in a topic, write @ as %40");

    // Bad escapes first, each named by the part it is in; a secret's text is never quoted.
    const auto quote = [](std::string_view s, std::size_t at) {
        return "\"" + std::string(s.substr(at, 3)) + "\"";
    };
    if (bad_escape(parts.userinfo) != npos)
        out.fail(std::string("bad percent-escape in the user info") + escape_hint);
    if (const auto at = bad_escape(parts.hosts); at != npos)
        out.fail("bad percent-escape " + quote(parts.hosts, at) + " in the broker address" +
                 escape_hint);
    if (const auto at = bad_escape(parts.path); at != npos)
        out.fail("bad percent-escape " + quote(parts.path, at) + " in the topic" + escape_hint);
    for (const auto& pair : split_list(parts.query, '&')) {
        const auto eq = std::min(pair.find('='), pair.size());
        const std::string_view name = std::string_view(pair).substr(0, eq);
        const std::string_view value = std::string_view(pair).substr(std::min(eq + 1, pair.size()));
        if (const auto at = bad_escape(name); at != npos)
            out.fail("bad percent-escape " + quote(name, at) + " in option name \"" +
                     std::string(name) + "\"" + escape_hint);
        if (const auto at = bad_escape(value); at != npos)
            out.fail(decoded(name) + ": bad percent-escape " +
                     (shown_value(rules.options, name) ? quote(value, at) + " " : "") +
                     "in the value" + escape_hint);
    }
    if (parts.rest.find('#') != npos)
        out.fail("'#' would start a URI fragment: write # in a topic or a value as %23");

    const std::vector<std::string> hosts = rules.several_brokers
                                               ? split_list(parts.hosts, ',')
                                               : std::vector{std::string(parts.hosts)};
    const auto bad_broker = [&](const std::string& host) {
        out.fail("broker \"" + host + "\" is not HOST:PORT (" + std::string(rules.form) + ")");
    };
    // Boost.URL parses the URI with its first broker; the others are authorities of their own.
    const std::string userinfo =
        parts.has_userinfo ? escape_unsafe(parts.userinfo) + "@" : std::string();
    const std::string text =
        uri.scheme + "://" + userinfo + escape_unsafe(hosts[0]) + escape_unsafe(parts.rest);
    const auto parsed = urls::parse_uri(text);
    if (!parsed) {
        if (!urls::parse_authority(escape_unsafe(hosts[0]))) bad_broker(hosts[0]);
        if (parts.has_userinfo && !urls::parse_authority(userinfo + escape_unsafe(hosts[0])))
            out.fail("the user info holds a character to percent-encode (: in a user name as %3A, "
                     "@ as %40, / as %2F, ? as %3F)");
        out.fail("the topic or the query holds a character to percent-encode ([ as %5B, ] as "
                 "%5D)");
    }
    const auto address_of = [&](const urls::authority_view& a, const std::string& given) {
        broker_address b;
        b.host = a.host_address();
        if (b.host.empty() || b.host.find('\0') != std::string::npos) bad_broker(given);
        if (a.has_port()) {
            const auto port = a.port();
            const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), b.port);
            if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() ||
                b.port < 1 || b.port > 65535)
                bad_broker(given);
        } else if (b.host != rules.portless_host || hosts.size() > 1 ||
                   rules.portless_host.empty()) {
            bad_broker(given);
        }
        const bool v6 =
            a.host_type() == urls::host_type::ipv6 || a.host_type() == urls::host_type::ipvfuture;
        b.text = (v6 ? "[" + b.host + "]" : b.host) +
                 (b.port ? ":" + std::to_string(b.port) : std::string());
        return b;
    };
    out.brokers.push_back(address_of(parsed->authority(), hosts[0]));
    for (std::size_t i = 1; i < hosts.size(); ++i) {
        const std::string escaped = escape_unsafe(hosts[i]);
        const auto a = urls::parse_authority(escaped);
        if (!a || a->has_userinfo()) bad_broker(hosts[i]);
        out.brokers.push_back(address_of(*a, hosts[i]));
    }

    if (parsed->has_userinfo()) {
        if (rules.user_option.empty())
            out.fail(uri.scheme + ":// takes no user name or password before the broker");
        out.query.push_back(
            {std::string(rules.user_option), parsed->user(), {origin, 0, 0}, out.shown});
        if (parsed->has_password())
            out.query.push_back({std::string(rules.password_option),
                                 parsed->password(),
                                 {origin, 0, 0},
                                 out.shown});
    }
    std::string path = parsed->path();
    if (path.starts_with('/')) path.erase(0, 1);
    if (path.empty()) out.fail("missing topic (" + std::string(rules.form) + ")");
    out.topic_template = std::move(path);
    if (parsed->has_query())
        for (const auto& p : parsed->params(urls::encoding_opts(false, false, false))) {
            if (p.key.empty() && !p.has_value) continue; // "?" alone, "&&"
            out.query.push_back({p.key, p.value, {origin, 0, 0}, out.shown});
        }
    return out;
}

} // namespace synthfeed
