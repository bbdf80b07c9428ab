#include "connectors/kafka/kafka_options.hpp"

#include <algorithm>

#include "connectors/broker_uri.hpp"
#include "src/core/errors.hpp"

#include <librdkafka/rdkafka.h>

namespace synthfeed {
namespace {

const connector_option kafka_rows[] = {
    {.name = "key",
     .type = option_type::choice,
     .default_value = "device_id",
     .help = "message key: device_id (per-device order within a partition), group, or none "
             "(no key: the partitioner spreads messages)",
     .choices = "device_id|group|none"},
    {.name = "connect_timeout",
     .type = option_type::duration,
     .default_value = "10s",
     .help = "start-up check that the brokers answer; past it the run fails with exit 1",
     .min = 1,
     .max = 3'600'000},
};

void check_properties(const std::vector<connector_setting>& settings) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& s : settings) set_kafka_property(conf, s); // destroys conf when it throws
    rd_kafka_conf_destroy(conf);
}

void print_properties() {
    rd_kafka_conf_properties_show(stdout);
}

const passthrough_options librdkafka_properties{"librdkafka properties", "-X",
                                                "SYNTHFEED_RDKAFKA_",    is_secret_property,
                                                check_properties,        print_properties};

const broker_uri_rules kafka_uri_rules{.form = "kafka://HOST:PORT[,HOST:PORT]/TOPIC",
                                       .options = &kafka_option_table,
                                       .several_brokers = true,
                                       .portless_host = "embedded"};

} // namespace

const option_table kafka_option_table{"kafka", kafka_rows, &librdkafka_properties};

kafka_options parse_kafka_uri(const sink_uri& uri, const connector_context& ctx) {
    const broker_uri u = parse_broker_uri(uri, ctx.origin, kafka_uri_rules);
    kafka_options o;
    o.embedded = u.brokers.front().port == 0; // the portless "embedded"
    for (const auto& b : u.brokers)
        if (!o.embedded) o.bootstrap += (o.bootstrap.empty() ? "" : ",") + b.text;
    o.topic_template = u.topic_template;
    if (const std::string problem = topic_template_problem(o.topic_template, kafka_topic_rules);
        !problem.empty())
        u.fail(problem);
    const option_values v = merge_options(kafka_option_table, ctx.settings_of("kafka"), u.query);
    const std::string_view key = v.text("key");
    o.key = key == "group"  ? kafka_key_mode::group
            : key == "none" ? kafka_key_mode::none
                            : kafka_key_mode::device_id;
    o.connect_timeout_ms = static_cast<int>(v.duration("connect_timeout").count());
    o.properties = v.passthrough();
    return o;
}

const std::vector<connector_setting>& kafka_default_properties() {
    static const std::vector<connector_setting> defaults{
        {"client.id", "synthfeed", {"default"}},
        {"enable.idempotence", "true", {"default"}}, // no duplicates or reordering on retries
        {"linger.ms", "20", {"default"}},            // fuller batches at high rates
        {"batch.size", "1000000", {"default"}},
        {"compression.type", "lz4", {"default"}}, // cheap, effective on JSON
        {"queue.buffering.max.messages", "1000000", {"default"}},
    };
    return defaults;
}

bool is_secret_property(std::string_view name) {
    for (std::string_view marker : {"password", "secret", "key.pem", "sasl.jaas", "token"})
        if (name.find(marker) != std::string_view::npos) return true;
    return name == "ssl.key.pem" || name == "ssl_key";
}

static std::string redact(std::string message, const connector_setting& p) {
    if (!is_secret_property(p.name) || p.value.empty()) return message;
    for (std::size_t at = message.find(p.value); at != std::string::npos;
         at = message.find(p.value, at))
        message.replace(at, p.value.size(), "***");
    return message;
}

void set_kafka_property(rd_kafka_conf_t* conf, const connector_setting& p) {
    char err[512];
    if (rd_kafka_conf_set(conf, p.name.c_str(), p.value.c_str(), err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        fail_setting(p, redact(err, p));
    }
}

} // namespace synthfeed
