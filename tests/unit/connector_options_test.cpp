// Connector options as data: URIs parsed by Boost.URL and percent-decoded, the one merge of
// profile < env < URI, env twins, unknown names, secrets kept out of every message, and the
// option tables against `synthfeed list` and the connectors' READMEs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <set>

#include "connectors/connector_registry.hpp"
#include "connectors/kafka/kafka_options.hpp"
#include "connectors/mqtt/mqtt_options.hpp"
#include "src/core/errors.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;

namespace {

mqtt_options mqtt(const std::string& uri, const connector_context& ctx = {}) {
    return parse_mqtt_uri(parse_sink_uri(uri, ctx.origin), ctx);
}

kafka_options kafka(const std::string& uri, const connector_context& ctx = {}) {
    return parse_kafka_uri(parse_sink_uri(uri, ctx.origin), ctx);
}

/// The message of the config_error `f` throws.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const config_error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no config_error";
    return "";
}

/// An environment variable set for one scope.
class scoped_env {
  public:
    scoped_env(std::string name, const std::string& value) : name_(std::move(name)) {
        ::setenv(name_.c_str(), value.c_str(), 1);
    }
    ~scoped_env() { ::unsetenv(name_.c_str()); }

  private:
    std::string name_;
};

/// A setting as the CLI makes one from a profile table at `line`.
connector_setting from_profile(const std::string& table, std::string name, std::string value,
                               int line) {
    return {std::move(name), std::move(value), {"p.toml", line, 1}, table};
}

} // namespace

TEST(BrokerUri, PasswordWithReservedCharactersIsDecoded) {
    const auto o = mqtt("mqtt://user:p%26w%3Dd%25x%40y@host:1883/t");
    EXPECT_EQ(o.username, "user");
    EXPECT_EQ(o.password, "p&w=d%x@y");
    EXPECT_EQ(o.host, "host");
    EXPECT_EQ(o.port, 1883);
    EXPECT_EQ(o.topic_template, "t");
    // The same as query values; a user name with a colon.
    const auto q = mqtt("mqtt://host:1883/t?username=a%3Ab&password=p%26w%3Dd%25x%40y");
    EXPECT_EQ(q.username, "a:b");
    EXPECT_EQ(q.password, "p&w=d%x@y");
}

TEST(BrokerUri, HostTopicAndQueryKeysAndValuesAreDecoded) {
    const auto o = mqtt("mqtt://my%2Dhost:1883/fleet%2F{group}/caf%C3%A9"
                        "?client%5Fid=a%2Fb-{n}&will_payload=x%26y%3Dz&will_topic=a+b");
    EXPECT_EQ(o.host, "my-host");
    EXPECT_EQ(o.topic_template, "fleet/{group}/café");
    EXPECT_EQ(o.client_id, "a/b-{n}");
    EXPECT_EQ(o.will_payload, "x&y=z");
    EXPECT_EQ(o.will_topic, "a+b"); // a plus is a plus, not a space
    // What a URI cannot hold raw is taken as typed: placeholder braces, spaces, non-ASCII.
    EXPECT_EQ(mqtt("mqtt://h:1/t {device_id}/é").topic_template, "t {device_id}/é");
    // '/', '?', ':' and '@' may stand raw in a query value.
    EXPECT_EQ(mqtt("mqtt://h:1/t?will_payload=a/b?c:d@e").will_payload, "a/b?c:d@e");
}

TEST(BrokerUri, KafkaBrokerListsEmbeddedAndIpv6) {
    const auto k = kafka("kafka://a:9092,b%2Dc:9093/t-{group}");
    EXPECT_EQ(k.bootstrap, "a:9092,b-c:9093");
    EXPECT_FALSE(k.embedded);
    EXPECT_EQ(k.topic_template, "t-{group}");
    EXPECT_TRUE(kafka("kafka://embedded/t").embedded);
    const auto m = mqtt("mqtt://[::1]:1884/t");
    EXPECT_EQ(m.host, "::1");
    EXPECT_EQ(m.host_port, "[::1]:1884");
    for (const char* bad : {"kafka://embedded,a:1/t", "kafka://a:1,/t", "kafka://a/t",
                            "mqtt://embedded/t", "mqtt://h:70000/t", "mqtt://:1/t"})
        EXPECT_THROW(bad[0] == 'k' ? (void)kafka(bad) : (void)mqtt(bad), config_error) << bad;
}

TEST(BrokerUri, BadPercentEscapesNameThePartAndTheUrisOrigin) {
    const std::pair<std::string, std::string> cases[] = {
        {"mqtt://h:1/t%zz", "bad percent-escape \"%zz\" in the topic"},
        {"mqtt://h%4:1/t", "bad percent-escape \"%4:\" in the broker address"},
        {"mqtt://u:p%zz@h:1/t", "bad percent-escape in the user info"},
        {"mqtt://h:1/t?qos=%4", "qos: bad percent-escape \"%4\" in the value"},
        {"mqtt://h:1/t?q%g=1", "bad percent-escape \"%g\" in option name \"q%g\""},
        {"mqtt://h:1/t?password=a%", "password: bad percent-escape in the value"},
        {"kafka://h:9092/t%", "bad percent-escape \"%\" in the topic"},
    };
    connector_context ctx;
    ctx.origin = "--labels";
    for (const auto& [given, expected] : cases) {
        const std::string uri = given; // a lambda captures no structured binding in clang 14
        const std::string message =
            error_of([&] { uri[0] == 'k' ? (void)kafka(uri, ctx) : (void)mqtt(uri, ctx); });
        EXPECT_TRUE(message.starts_with("--labels: ")) << message;
        EXPECT_NE(message.find(expected), std::string::npos) << message;
        EXPECT_NE(message.find("%25 is % itself"), std::string::npos) << message;
    }
}

TEST(BrokerUri, FragmentsAndWildcardsAreRefused) {
    EXPECT_NE(error_of([] { mqtt("mqtt://h:1/t/#"); }).find("%23"), std::string::npos);
    EXPECT_NE(error_of([] { mqtt("mqtt://h:1/t/%23"); }).find("invalid character '#'"),
              std::string::npos);
    EXPECT_NE(error_of([] { mqtt("mqtt://h:1/t/+/x"); }).find("invalid character '+'"),
              std::string::npos);
    EXPECT_NE(error_of([] { kafka("kafka://h:1/{field}"); }).find("{field} is not available"),
              std::string::npos);
    EXPECT_NE(error_of([] { mqtt("mqtt://h:1/{nope}"); }).find("unknown topic placeholder"),
              std::string::npos);
    EXPECT_NE(error_of([] { mqtt("mqtt://h:1"); }).find("missing topic"), std::string::npos);
}

TEST(ConnectorOptions, UnknownOptionsAreRefusedWhereTheyWereGiven) {
    const std::string uri_error = error_of([] { mqtt("mqtt://h:1/t?qso=1"); });
    EXPECT_NE(uri_error.find("--sink: mqtt://h:1/t?qso=***: qso: unknown option (did you mean "
                             "\"qos\"?)"),
              std::string::npos)
        << uri_error;
    connector_context ctx;
    ctx.settings["mqtt"] = {from_profile("mqtt", "qso", "1", 7)};
    const std::string table_error = error_of([&] { mqtt("mqtt://h:1/t", ctx); });
    EXPECT_TRUE(table_error.starts_with("p.toml:7:1: mqtt.qso: unknown option")) << table_error;
    EXPECT_THROW(check_connector_settings(ctx), config_error);

    // librdkafka properties pass through from the profile, env and -X, never from the URI.
    const std::string kafka_error = error_of([] { kafka("kafka://h:9092/t?linger.ms=5"); });
    EXPECT_NE(kafka_error.find("-X name=value"), std::string::npos) << kafka_error;
    connector_context k;
    k.settings["kafka"] = {from_profile("kafka", "linger.ms", "5", 3),
                           from_profile("kafka", "key", "group", 4)};
    const auto o = kafka("kafka://h:9092/t", k);
    ASSERT_EQ(o.properties.size(), 1u);
    EXPECT_EQ(o.properties[0].name, "linger.ms");
    EXPECT_EQ(o.key, kafka_key_mode::group);
    check_connector_settings(k);
    k.settings["kafka"].push_back(from_profile("kafka", "linger.ms", "soon", 5));
    const std::string librdkafka_error = error_of([&] { check_connector_settings(k); });
    EXPECT_TRUE(librdkafka_error.starts_with("p.toml:5:1: kafka.linger.ms: ")) << librdkafka_error;
}

TEST(ConnectorOptions, BadValuesNameTheOptionAndTheRule) {
    const std::pair<std::string, std::string> cases[] = {
        {"qos=3", "qos: must be 0, 1 or 2"},
        {"retain=perhaps", "retain: must be true or false"},
        {"version=6", "version: must be 3.1.1 or 5"},
        {"connections=0", "connections: must be per-device or a whole number from 1 to 100000"},
        {"connect_rate=0", "connect_rate: must be a number greater than 0"},
        {"keepalive=2s", "keepalive: must be a duration from 5s to 65535s"},
        {"give_up=soon", "give_up: must be a duration such as 10s"},
        {"on_full=maybe", "on_full: must be block or drop"},
        {"client_id=", "client_id: must not be empty"},
        {"bind_address=localhost", "bind_address: \"localhost\" is not an IP address"},
        {"will_topic=a%00b", "will_topic: must not hold NUL"},
    };
    for (const auto& [given, expected] : cases) {
        const std::string uri = "mqtt://h:1/t?" + given;
        const std::string message = error_of([&] { mqtt(uri); });
        EXPECT_NE(message.find(expected), std::string::npos) << message;
    }
    EXPECT_NE(error_of([] {
                  mqtt("mqtts://h:1/t?ca=/no/such/ca.pem");
              }).find("ca: cannot read \"/no/such/ca.pem\""),
              std::string::npos);
    EXPECT_NE(error_of([] {
                  kafka("kafka://h:1/t?key=random");
              }).find("key: must be device_id, group or none"),
              std::string::npos);
}

TEST(ConnectorOptions, EnvTwinsAndPassThroughVariables) {
    const scoped_env user("SYNTHFEED_MQTT_USERNAME", "env-user");
    const scoped_env password("SYNTHFEED_MQTT_PASSWORD", "env-pw");
    const scoped_env linger("SYNTHFEED_RDKAFKA_LINGER_MS", "7");
    connector_context ctx;
    add_environment_settings(ctx);
    const auto m = mqtt("mqtt://h:1/t", ctx);
    EXPECT_EQ(m.username, "env-user");
    EXPECT_EQ(m.password, "env-pw");
    const auto k = kafka("kafka://embedded/t", ctx);
    ASSERT_EQ(k.properties.size(), 1u);
    EXPECT_EQ(k.properties[0].name, "linger.ms");
    EXPECT_EQ(k.properties[0].value, "7");
    EXPECT_EQ(k.properties[0].where.origin, "SYNTHFEED_RDKAFKA_LINGER_MS");

    // A bad value is named by its variable.
    const scoped_env ca("SYNTHFEED_MQTT_CA", "/no/such/ca.pem");
    connector_context with_ca;
    add_environment_settings(with_ca);
    const std::string message = error_of([&] { mqtt("mqtts://h:1/t", with_ca); });
    EXPECT_TRUE(message.starts_with("SYNTHFEED_MQTT_CA: ca: cannot read")) << message;
}

TEST(ConnectorOptions, PrecedenceIsProfileThenEnvThenUri) {
    connector_context ctx;
    ctx.settings["mqtt"] = {from_profile("mqtt", "username", "profile-user", 3),
                            from_profile("mqtt", "qos", "1", 4)};
    EXPECT_EQ(mqtt("mqtt://h:1/t", ctx).username, "profile-user");
    EXPECT_EQ(mqtt("mqtt://h:1/t", ctx).qos, 1);
    {
        const scoped_env user("SYNTHFEED_MQTT_USERNAME", "env-user");
        add_environment_settings(ctx);
    }
    EXPECT_EQ(mqtt("mqtt://h:1/t", ctx).username, "env-user");
    const auto uri = mqtt("mqtt://h:1/t?username=uri-user&qos=2", ctx);
    EXPECT_EQ(uri.username, "uri-user");
    EXPECT_EQ(uri.qos, 2);
    EXPECT_EQ(mqtt("mqtt://info-user@h:1/t", ctx).username, "info-user");
    EXPECT_EQ(mqtt("mqtt://info-user@h:1/t?username=query-user", ctx).username, "query-user");

    // Kafka: [kafka] < URI for its own options; librdkafka's [kafka] < env < -X (the last of
    // a name wins in librdkafka).
    connector_context k;
    k.settings["kafka"] = {from_profile("kafka", "key", "group", 2),
                           from_profile("kafka", "linger.ms", "1", 3)};
    {
        const scoped_env linger("SYNTHFEED_RDKAFKA_LINGER_MS", "2");
        add_environment_settings(k);
    }
    add_flag_settings(k, "-X", {"linger.ms=3"});
    const auto o = kafka("kafka://h:9092/t?key=none", k);
    EXPECT_EQ(o.key, kafka_key_mode::none);
    std::vector<std::string> lingers;
    for (const auto& p : o.properties) lingers.push_back(p.value);
    EXPECT_EQ(lingers, (std::vector<std::string>{"1", "2", "3"}));
    EXPECT_THROW(add_flag_settings(k, "-X", {"linger.ms"}), config_error);
}

TEST(ConnectorOptions, SecretValuesAppearInNoError) {
    const std::string secret = "S3cr3t-Value";
    std::vector<std::function<void()>> failing = {
        [&] { mqtt("mqtt://u:" + secret + "@h:1/t?qos=9"); },
        [&] { mqtt("mqtt://u:" + secret + "@h:0/t"); },
        [&] { mqtt("mqtt://u:" + secret + "@h:1/"); },
        [&] { mqtt("mqtt://u:" + secret + "@h:1/t/#"); },
        [&] { mqtt("mqtt://u:" + secret + "%zz@h:1/t"); },
        [&] { mqtt("mqtt://u:" + secret + "/x@h:1/t"); }, // a raw '/' in the password
        [&] { mqtt("mqtt://u:" + secret + "?x@h:1/t"); }, // a raw '?'
        [&] { mqtt("mqtt://u:" + secret + "#x@h:1/t"); }, // a raw '#'
        [&] { mqtt("mqtt://h:1/t?password=" + secret + "&qos=9"); },
        [&] { mqtt("mqtt://h:1/t?password=" + secret + "%zz"); },
        [&] { mqtt("mqtt://h:1/t?pasword=" + secret); }, // misspelled: maybe a secret
        [&] { kafka("kafka://u:" + secret + "@h:1/t"); },
        [&] { kafka("kafka://h:1/t?sasl.password=" + secret); },
        [&] { (void)open_connector("mqttt://u:" + secret + "@h:1/t?password=" + secret, {}); },
    };
    // Every secret row of every table: a bad value (NUL) in a profile table, and the value
    // given to a misspelled name.
    for (const option_table* table : option_tables())
        for (const auto& row : table->rows)
            if (row.secret) {
                const std::string t(table->name), name(row.name);
                failing.push_back([&, t, name] {
                    connector_context ctx;
                    ctx.settings[t] = {from_profile(t, name, secret + std::string(1, '\0'), 2)};
                    check_connector_settings(ctx);
                });
                failing.push_back([&, t, name] {
                    connector_context ctx;
                    ctx.settings[t] = {from_profile(t, name + "x", secret, 2)};
                    check_connector_settings(ctx);
                });
            }
    // librdkafka's secret properties, with librdkafka's own message.
    failing.push_back([&] {
        connector_context ctx;
        add_flag_settings(ctx, "-X", {"sasl.password=" + secret, "no.such.property=1"});
        check_connector_settings(ctx);
    });
    for (std::size_t i = 0; i < failing.size(); ++i) {
        const std::string message = error_of(failing[i]);
        EXPECT_FALSE(message.empty()) << "case " << i;
        EXPECT_EQ(message.find(secret), std::string::npos) << "case " << i << ": " << message;
    }
}

TEST(ConnectorOptions, EveryTableRowIsListedAndHelped) {
    const auto list = run_synthfeed("list");
    ASSERT_EQ(list.exit_code, 0) << list.err;
    const auto help = run_synthfeed("run --help");
    std::set<std::string_view> names;
    for (const option_table* table : option_tables()) {
        EXPECT_NE(list.out.find(std::string(table->name) + " options"), std::string::npos);
        EXPECT_NE(help.out.find("  " + std::string(table->name) + ":"), std::string::npos)
            << help.out;
        for (const auto& row : table->rows) {
            EXPECT_TRUE(
                std::regex_search(list.out, std::regex("\n  " + std::string(row.name) + " +[^ ]")))
                << row.name;
            EXPECT_NE(help.out.find(" " + std::string(row.name)), std::string::npos) << row.name;
            EXPECT_FALSE(row.help.empty()) << row.name;
            EXPECT_TRUE(row.env.empty() || row.env.starts_with("SYNTHFEED_")) << row.name;
            EXPECT_TRUE(row.default_value.empty() || option_problem(row, row.default_value).empty())
                << row.name << ": its default breaks its own rule";
        }
        if (table->passthrough) {
            EXPECT_NE(list.out.find(std::string(table->passthrough->flag) + " name=value"),
                      std::string::npos);
        }
    }
}

TEST(ConnectorOptions, ReadmeOptionListsMatchTheTables) {
    // Each README has a table | option | default | meaning |: every row names options of the
    // table in backquotes, and its default column reads as the table's default.
    for (const option_table* table : option_tables()) {
        const std::string path = "connectors/" + std::string(table->name) + "/README.md";
        const std::string readme = read_file(source_path(path));
        std::set<std::string> documented;
        const std::regex row_pattern(
            "\n\\| (`[a-z_]+`(?:, `[a-z_]+`)*) \\| ([^|\n]*) \\| [^|\n]* \\|");
        for (std::sregex_iterator it(readme.begin(), readme.end(), row_pattern), end; it != end;
             ++it) {
            const std::string names = (*it)[1], shown_default = (*it)[2];
            std::vector<std::string> row_names;
            const std::regex name_pattern("`([a-z_]+)`");
            for (std::sregex_iterator n(names.begin(), names.end(), name_pattern); n != end; ++n)
                row_names.push_back((*n)[1]);
            for (const auto& name : row_names) {
                documented.insert(name);
                const connector_option* row = table->find(name);
                ASSERT_NE(row, nullptr)
                    << path << " documents \"" << name << "\", not in the table";
                if (row_names.size() == 1 && !row->default_value.empty()) {
                    EXPECT_EQ(shown_default, "`" + std::string(row->default_value) + "`")
                        << path << ": " << name;
                }
            }
        }
        for (const auto& row : table->rows)
            EXPECT_TRUE(documented.contains(std::string(row.name)))
                << path << " does not document \"" << row.name << "\"";
    }
}
