// The Kafka ceiling: a bare librdkafka producer sending pre-built payloads (read from a file
// synthfeed wrote, one per line, keyed by device id) with synthfeed's default producer
// properties. Whatever synthfeed adds on top of librdkafka shows as the gap to this figure.
//
// Usage: kafka_ceiling BOOTSTRAP TOPIC PAYLOAD_FILE [name=value ...]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "connectors/kafka/kafka_options.hpp"

namespace {
std::uint64_t delivered = 0, failed = 0;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    if (m->err)
        ++failed;
    else
        ++delivered;
}
} // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s BOOTSTRAP TOPIC PAYLOAD_FILE [name=value ...]\n", argv[0]);
        return 2;
    }
    std::vector<std::string> payloads, keys;
    {
        std::ifstream in(argv[3]);
        for (std::string line; std::getline(in, line);) {
            const auto start = line.find("\"device_id\":\"");
            const auto end = line.find('"', start + 13);
            keys.push_back(start == std::string::npos ? ""
                                                      : line.substr(start + 13, end - start - 13));
            payloads.push_back(std::move(line));
        }
    }
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const std::string& name, const std::string& value) {
        if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            std::fprintf(stderr, "%s\n", err);
            std::exit(2);
        }
    };
    for (const auto& p : synthfeed::kafka_default_properties()) set(p.name, p.value);
    set("bootstrap.servers", argv[1]);
    for (int i = 4; i < argc; ++i) {
        const std::string kv = argv[i];
        set(kv.substr(0, kv.find('=')), kv.substr(kv.find('=') + 1));
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        std::fprintf(stderr, "%s\n", err);
        return 1;
    }
    rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, argv[2], nullptr);
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        for (;;) {
            const rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_VALUE(payloads[i].data(), payloads[i].size()),
                RD_KAFKA_V_KEY(keys[i].data(), keys[i].size()), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 5);
                continue;
            }
            if (e) ++failed;
            break;
        }
        bytes += payloads[i].size();
        rd_kafka_poll(rk, 0);
    }
    while (rd_kafka_outq_len(rk) > 0) rd_kafka_flush(rk, 100);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"messages\": %zu, \"delivered\": %llu, \"failed\": %llu, \"seconds\": %.3f, "
                "\"messages_per_second\": %.0f, \"bytes\": %llu}\n",
                payloads.size(), static_cast<unsigned long long>(delivered),
                static_cast<unsigned long long>(failed), seconds,
                static_cast<double>(payloads.size()) / seconds,
                static_cast<unsigned long long>(bytes));
    rd_kafka_topic_destroy(topic);
    rd_kafka_destroy(rk);
    return failed ? 1 : 0;
}
