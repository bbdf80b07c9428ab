#include "connectors/connector_registry.hpp"

#include <algorithm>

#include "connectors/broker_uri.hpp"
#include "connectors/file/file_connector.hpp"
#include "connectors/kafka/kafka_connector.hpp"
#include "connectors/kafka/kafka_follower.hpp"
#include "connectors/kafka/kafka_reader.hpp"
#include "connectors/mqtt/mqtt_connector.hpp"
#include "connectors/null/null_connector.hpp"
#include "connectors/stdout/stdout_connector.hpp"
#include "connectors/topic_template.hpp"
#include "src/core/errors.hpp"

#include <fmt/format.h>

namespace synthfeed {
namespace {

address_check topic_check(std::string topic_template, const topic_rules& rules) {
    return [topic_template = std::move(topic_template), &rules](std::string_view group,
                                                                std::string_view id) {
        return topic_problem(expand_topic(topic_template, group, id), rules);
    };
}

const connector_kind& kind_of(const sink_uri& u, const connector_context& ctx) {
    std::string known;
    for (const auto& kind : connector_kinds()) {
        if (kind.scheme == u.scheme) return kind;
        known += (known.empty() ? "" : ", ") + std::string(kind.synopsis);
    }
    throw config_error({ctx.origin, 0, 0}, shown_sink_uri(u.text),
                       "unknown sink scheme \"" + u.scheme + "\" (known: " + known + ")");
}

/// The synopses of the connectors that offer `member` ("file:PATH or kafka://…").
template <class F>
std::string synopses_with(F connector_kind::*member) {
    std::string out;
    for (const auto& k : connector_kinds())
        if (k.*member) out += (out.empty() ? "" : " or ") + std::string(k.synopsis);
    return out;
}

} // namespace

const std::vector<connector_kind>& connector_kinds() {
    static const std::vector<connector_kind> kinds{
        {"null", "null:", "discard every message, count it delivered (measures generation)",
         [](const sink_uri&, const connector_context&) {
             return std::make_unique<null_connector>();
         }},
        {"stdout", "stdout:", "one message per line on standard output",
         [](const sink_uri&, const connector_context&) {
             return std::make_unique<stdout_connector>();
         }},
        {"file",
         "file:PATH",
         "one message per line to PATH (truncated first); a bare PATH works too",
         [](const sink_uri& u, const connector_context& ctx) {
             if (u.target.empty())
                 throw config_error({ctx.origin, 0, 0}, u.text, "file: needs a path (file:PATH)");
             return std::make_unique<file_connector>(u.target, ctx.origin);
         },
         {},
         nullptr,
         [](const sink_uri& u, const connector_context& ctx, std::chrono::milliseconds,
            const record_visitor& visit) {
             return read_file_records(u.target, ctx.origin, visit);
         }},
        {"kafka", "kafka://HOST:PORT[,…]/TOPIC",
         "Apache Kafka via librdkafka; kafka://embedded/TOPIC runs an in-process mock cluster",
         [](const sink_uri& u, const connector_context& ctx) {
             return std::make_unique<kafka_connector>(u, ctx);
         },
         [](const sink_uri& u, const connector_context& ctx) {
             return topic_check(parse_kafka_uri(u, ctx).topic_template, kafka_topic_rules);
         },
         &kafka_option_table, read_kafka_topic, follow_kafka_topic},
        {"mqtt", "mqtt://HOST:PORT/TOPIC[?qos=1&…]",
         "MQTT 3.1.1/5 via libmosquitto on our own epoll loop; shared or per-device connections",
         [](const sink_uri& u, const connector_context& ctx) {
             return std::make_unique<mqtt_connector>(u, ctx);
         },
         [](const sink_uri& u, const connector_context& ctx) {
             return topic_check(parse_mqtt_uri(u, ctx).topic_template, mqtt_topic_rules);
         },
         &mqtt_option_table},
        {"mqtts", "mqtts://HOST:PORT/TOPIC[?ca=…]", "MQTT over TLS",
         [](const sink_uri& u, const connector_context& ctx) {
             return std::make_unique<mqtt_connector>(u, ctx);
         },
         [](const sink_uri& u, const connector_context& ctx) {
             return topic_check(parse_mqtt_uri(u, ctx).topic_template, mqtt_topic_rules);
         },
         &mqtt_option_table},
    };
    return kinds;
}

sink_uri parse_sink_uri(std::string_view text, const std::string& origin) {
    sink_uri u;
    u.text = std::string(text);
    if (text.empty()) throw config_error({origin, 0, 0}, "", "empty sink URI");
    const auto colon = text.find(':');
    const bool looks_like_scheme =
        colon != std::string_view::npos && colon > 0 &&
        text.substr(0, colon).find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789+-.") ==
            std::string_view::npos;
    if (!looks_like_scheme) {
        u.scheme = "file";
        u.target = std::string(text);
        return u;
    }
    u.scheme = std::string(text.substr(0, colon));
    std::string_view rest = text.substr(colon + 1);
    if (rest.starts_with("//")) rest.remove_prefix(2);
    u.target = std::string(rest);
    return u;
}

address_check sink_address_check(std::string_view text, const connector_context& ctx) {
    const sink_uri u = parse_sink_uri(text, ctx.origin);
    const connector_kind& kind = kind_of(u, ctx);
    return kind.addressing ? kind.addressing(u, ctx) : address_check{};
}

std::unique_ptr<connector> open_connector(std::string_view text, const connector_context& ctx) {
    const sink_uri u = parse_sink_uri(text, ctx.origin);
    return kind_of(u, ctx).open(u, ctx);
}

std::string shown_sink_uri(std::string_view text) {
    if (text.empty()) return "";
    const sink_uri u = parse_sink_uri(text, "");
    for (const auto& kind : connector_kinds())
        if (kind.scheme == u.scheme) return kind.options ? masked_uri(u, kind.options) : u.text;
    return masked_uri(u, nullptr); // an unknown scheme: every value may be a secret
}

std::string shown_flag_setting(std::string_view flag, std::string_view name_value) {
    const auto eq = name_value.find('=');
    if (eq == std::string_view::npos) return std::string(name_value);
    const std::string_view name = name_value.substr(0, eq);
    bool known = false, secret = false;
    for (const option_table* t : option_tables()) {
        if (!t->passthrough || t->passthrough->flag != flag) continue;
        known = true;
        secret = secret || t->passthrough->is_secret(name);
    }
    return std::string(name) + "=" +
           (known && !secret ? std::string(name_value.substr(eq + 1)) : "***");
}

std::uint64_t read_stream(std::string_view text, const connector_context& ctx,
                          std::chrono::milliseconds timeout, const record_visitor& visit) {
    const sink_uri u = parse_sink_uri(text, ctx.origin);
    const connector_kind& kind = kind_of(u, ctx);
    if (!kind.read)
        throw config_error({ctx.origin, 0, 0}, u.text,
                           "verify reads " + synopses_with(&connector_kind::read));
    return kind.read(u, ctx, timeout, visit);
}

std::unique_ptr<stream_follower> open_follower(std::string_view text,
                                               const connector_context& ctx) {
    const sink_uri u = parse_sink_uri(text, ctx.origin);
    const connector_kind& kind = kind_of(u, ctx);
    if (!kind.follow)
        throw config_error({ctx.origin, 0, 0}, shown_sink_uri(u.text),
                           "--follow reads " + synopses_with(&connector_kind::follow));
    return kind.follow(u, ctx);
}

std::vector<const option_table*> option_tables() {
    std::vector<const option_table*> out;
    for (const auto& k : connector_kinds())
        if (k.options && std::find(out.begin(), out.end(), k.options) == out.end())
            out.push_back(k.options);
    return out;
}

std::vector<std::string_view> connector_table_names() {
    std::vector<std::string_view> out;
    for (const option_table* t : option_tables()) out.push_back(t->name);
    return out;
}

void add_environment_settings(connector_context& ctx) {
    for (const option_table* t : option_tables()) {
        auto env = environment_settings(*t);
        if (env.empty()) continue;
        auto& settings = ctx.settings[std::string(t->name)];
        settings.insert(settings.end(), env.begin(), env.end());
    }
}

void add_flag_settings(connector_context& ctx, std::string_view flag,
                       const std::vector<std::string>& values) {
    for (const option_table* t : option_tables()) {
        if (!t->passthrough || t->passthrough->flag != flag) continue;
        auto& settings = ctx.settings[std::string(t->name)];
        for (const auto& v : values) {
            const auto eq = v.find('=');
            if (eq == std::string::npos || eq == 0)
                throw config_error({std::string(flag), 0, 0}, v,
                                   "expected " + std::string(flag) + " name=value (or " +
                                       std::string(flag) + " list)");
            settings.push_back({v.substr(0, eq), v.substr(eq + 1), {std::string(flag), 0, 0}});
        }
    }
}

void check_connector_settings(const connector_context& ctx) {
    for (const option_table* t : option_tables()) {
        const option_values values = merge_options(*t, ctx.settings_of(t->name));
        if (t->passthrough && !values.passthrough().empty())
            t->passthrough->check(values.passthrough());
    }
}

bool print_flag_names(std::string_view flag) {
    bool printed = false;
    for (const option_table* t : option_tables())
        if (t->passthrough && t->passthrough->flag == flag) {
            t->passthrough->print_all();
            printed = true;
        }
    return printed;
}

std::string describe_connectors() {
    std::string out = "sinks:\n";
    for (const auto& k : connector_kinds())
        out += fmt::format("  {:<22} {}\n", k.synopsis, k.description);
    for (const option_table* t : option_tables()) {
        std::string schemes;
        for (const auto& k : connector_kinds())
            if (k.options == t)
                schemes += (schemes.empty() ? "" : ", ") + std::string(k.scheme) + "://";
        out += fmt::format("{} options (?name=value in {} URIs, the profile's [{}] table; the URI "
                           "wins):\n",
                           t->name, schemes, t->name);
        out += describe_options(*t);
    }
    return out;
}

std::string connector_options_help() {
    std::string out = "Sink options: ?name=value in the URI or the profile's [table] (synthfeed "
                      "list tells\ndefaults and meanings):";
    for (const option_table* t : option_tables()) {
        std::vector<std::string> words;
        for (const auto& row : t->rows) words.emplace_back(row.name);
        if (t->passthrough)
            words.back() += ";", words.push_back("any of the " + std::string(t->passthrough->what)),
                words.push_back("with " + std::string(t->passthrough->flag) + " name=value");
        std::string line = "  " + std::string(t->name) + ":";
        for (const auto& w : words) {
            if (line.size() + 1 + w.size() > 98) out += "\n" + line, line = "   ";
            line += " " + w;
        }
        out += "\n" + line;
    }
    return out + "\n";
}

} // namespace synthfeed
