// Kafka connector against librdkafka's mock cluster: what a real broker cannot easily do on
// demand (injected produce errors, a broker down past the delivery timeout, a full queue).
// The same connector is tested against a real Apache Kafka broker in tests/integration.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "connectors/connector_registry.hpp"
#include "connectors/kafka/kafka_connector.hpp"
#include "src/core/errors.hpp"
#include "src/engine/engine.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;

namespace {

constexpr std::int16_t produce_api_key = 0;

std::unique_ptr<kafka_connector> open_embedded(const std::string& topic,
                                               std::vector<connector_setting> props = {}) {
    const auto uri = parse_sink_uri("kafka://embedded/" + topic, "--sink");
    connector_context ctx;
    ctx.settings["kafka"] = std::move(props);
    return std::make_unique<kafka_connector>(uri, ctx);
}

std::uint64_t send_all(kafka_connector& k, int n) {
    std::uint64_t accepted = 0;
    for (int i = 0; i < n; ++i) {
        const std::string payload = "{\"i\":" + std::to_string(i) + "}";
        const std::string key = "dev-" + std::to_string(i % 7);
        for (;;) {
            const auto r = k.send(record{key, payload, key, "g", {}});
            if (r == send_result::queue_full) {
                k.poll(std::chrono::milliseconds(10));
                continue;
            }
            accepted += r == send_result::accepted;
            break;
        }
    }
    return accepted;
}

deadline in(std::chrono::milliseconds d) {
    return std::chrono::steady_clock::now() + d;
}

} // namespace

TEST(KafkaMock, CountsDeliveredOnlyFromDeliveryReports) {
    auto k = open_embedded("counts");
    ASSERT_EQ(send_all(*k, 1000), 1000u);
    EXPECT_EQ(k->counts().delivered + k->in_flight(), 1000u); // none counted before its report
    EXPECT_EQ(k->drain(in(std::chrono::seconds(20))), 0u);
    EXPECT_EQ(k->counts().delivered, 1000u);
    EXPECT_EQ(k->counts().failed, 0u);
    EXPECT_TRUE(k->check().ok);
    // Every acknowledgement is one latency observation, none past the drain's 20 s.
    EXPECT_EQ(k->latency().count(), 1000u);
    EXPECT_LE(k->latency().max_seconds(), 20.0);
    EXPECT_GT(k->latency().sum_seconds(), 0.0);
}

TEST(KafkaMock, RetriableProduceErrorsAreRetriedNotLost) {
    auto k = open_embedded("retriable");
    auto cluster = shared_embedded_kafka();
    rd_kafka_mock_push_request_errors(
        embedded_mock_cluster(*cluster), produce_api_key, 4,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
    ASSERT_EQ(send_all(*k, 500), 500u);
    EXPECT_EQ(k->drain(in(std::chrono::seconds(30))), 0u);
    EXPECT_EQ(k->counts().delivered, 500u);
    EXPECT_EQ(k->counts().failed, 0u);
}

TEST(KafkaMock, PermanentProduceErrorsAreCountedFailed) {
    auto k = open_embedded("permanent");
    auto cluster = shared_embedded_kafka();
    rd_kafka_mock_push_request_errors(embedded_mock_cluster(*cluster), produce_api_key, 1,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    ASSERT_EQ(send_all(*k, 200), 200u);
    k->drain(in(std::chrono::seconds(30)));
    const auto c = k->counts();
    EXPECT_GT(c.failed, 0u);
    EXPECT_EQ(c.delivered + c.failed, 200u); // every message accounted for
    EXPECT_EQ(k->errors()[static_cast<std::size_t>(send_error::broker)], c.failed);
}

TEST(KafkaMock, BrokerDownPastDeliveryTimeoutFailsEveryMessage) {
    auto k = open_embedded("down", {{"message.timeout.ms", "1500", {"-X"}}});
    auto cluster = shared_embedded_kafka();
    rd_kafka_mock_broker_set_down(embedded_mock_cluster(*cluster), 1);
    ASSERT_EQ(send_all(*k, 50), 50u);
    k->drain(in(std::chrono::seconds(20)));
    rd_kafka_mock_broker_set_up(embedded_mock_cluster(*cluster), 1);
    EXPECT_EQ(k->counts().delivered, 0u);
    EXPECT_EQ(k->counts().failed, 50u);
    EXPECT_EQ(k->errors()[static_cast<std::size_t>(send_error::timed_out)], 50u);
    EXPECT_EQ(k->in_flight(), 0u);
}

TEST(KafkaMock, EngineReportsUndeliveredRunsAsExitOne) {
    const profile p = load_profile(source_path("tests/golden/golden.toml"));
    const device_directory ids(p);
    auto k = open_embedded("engine-down", {{"message.timeout.ms", "1000", {"-X"}}});
    auto cluster = shared_embedded_kafka();
    rd_kafka_mock_broker_set_down(embedded_mock_cluster(*cluster), 1);
    run_options o;
    o.start = test_start;
    o.count = 300;
    o.progress_every = std::chrono::milliseconds(0);
    o.grace = std::chrono::milliseconds(10000);
    run_stats stats;
    std::atomic<bool> stop{false};
    const run_summary s = run_engine(p, ids, o, {k.get(), nullptr, nullptr}, stats, stop);
    rd_kafka_mock_broker_set_up(embedded_mock_cluster(*cluster), 1);
    EXPECT_EQ(s.generated, 300u);
    EXPECT_EQ(s.delivered, 0u);
    EXPECT_EQ(s.failed, 300u);
    EXPECT_EQ(s.exit_code(), 1);
}

TEST(KafkaMock, FullQueueIsBackpressureNotLoss) {
    const profile p = load_profile(source_path("tests/golden/golden.toml"));
    const device_directory ids(p);
    // A 20-message local queue: the engine must poll and retry thousands of times.
    auto k = open_embedded("backpressure", {{"queue.buffering.max.messages", "20", {"-X"}},
                                            {"linger.ms", "1", {"-X"}}});
    run_options o;
    o.start = test_start;
    o.count = 3000;
    o.progress_every = std::chrono::milliseconds(0);
    run_stats stats;
    std::atomic<bool> stop{false};
    const run_summary s = run_engine(p, ids, o, {k.get(), nullptr, nullptr}, stats, stop);
    EXPECT_EQ(s.generated, 3000u);
    EXPECT_EQ(s.delivered, 3000u);
    EXPECT_EQ(s.failed, 0u);
    EXPECT_EQ(s.exit_code(), 0);
}

// Delivery latency quantiles against the test's own clock, on latencies the test controls: the
// mock broker's round-trip time puts messages in three well-separated groups (5, 20 and 80 ms).
// One message at a time, the test times send() to the poll() that counts its delivery: T.
// librdkafka's own measurement, L = rd_kafka_message_latency (whole µs from produce() to the
// delivery callback), lies inside that span, so L <= T + 1 µs (rd_clock truncates to µs); and
// T - L is only this thread's work outside librdkafka's span (the send before produce()
// stamps the message, the return from the callback and poll() after it read its clock): no
// waiting, since poll()'s wake-up comes before the callback and so counts in L. It measured
// 2-12 µs here during a parallel build; `dispatch_slack` allows 100 µs. The k-th smallest L
// then lies within [T_(k) - dispatch_slack, T_(k) + 1 µs], and the histogram reports the top
// of that value's bucket: at most 1/128 above it.
TEST(KafkaMock, LatencyQuantilesMatchAnIndependentMeasurement) {
    using namespace std::chrono;
    constexpr double dispatch_slack_us = 100;
    auto k = open_embedded("latency", {{"linger.ms", "0", {"-X"}}}); // no batching wait
    auto cluster = shared_embedded_kafka();
    rd_kafka_mock_cluster_t* mock = embedded_mock_cluster(*cluster);
    // The cluster is shared in this process: no later test may inherit a delay, even when an
    // assertion below ends this one early.
    const std::unique_ptr<rd_kafka_mock_cluster_t, void (*)(rd_kafka_mock_cluster_t*)> no_rtt_after(
        mock, [](rd_kafka_mock_cluster_t* m) { rd_kafka_mock_broker_set_rtt(m, -1, 0); });
    std::vector<double> spans_us; // T of each message
    for (const auto& [rtt_ms, n] : {std::pair{5, 120}, std::pair{20, 60}, std::pair{80, 20}}) {
        rd_kafka_mock_broker_set_rtt(mock, -1, rtt_ms);
        for (int i = 0; i < n; ++i) {
            const std::string payload = "{\"i\":" + std::to_string(i) + "}";
            const std::uint64_t before = k->counts().delivered;
            const auto t0 = steady_clock::now();
            ASSERT_EQ(k->send(record{"dev", payload, "dev", "g", {}}), send_result::accepted);
            while (k->counts().delivered == before) {
                ASSERT_EQ(k->counts().failed + k->counts().in_doubt, 0u);
                k->poll(milliseconds(100));
            }
            spans_us.push_back(duration<double, std::micro>(steady_clock::now() - t0).count());
        }
    }
    const latency_histogram& h = k->latency();
    ASSERT_EQ(h.count(), spans_us.size());
    std::sort(spans_us.begin(), spans_us.end());
    for (const double q : {0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
        // Nearest rank, the definition latency_histogram documents (HdrHistogram's).
        const auto rank = std::max<std::size_t>(
            1, static_cast<std::size_t>(std::ceil(q * static_cast<double>(spans_us.size()))));
        const double exact = spans_us[rank - 1];
        const double reported = h.quantile(q) * 1e6;
        EXPECT_GE(reported, exact - dispatch_slack_us) << "q " << q;
        EXPECT_LE(reported, (exact + 1) * (1 + 1.0 / 128)) << "q " << q;
    }
}

TEST(KafkaMock, BadUrisAndPropertiesAreConfigErrors) {
    for (const char* uri : {"kafka://host/t", "kafka://h:0/t", "kafka://h:9092", "kafka://h:9092/",
                            "kafka://h:9092/bad topic", "kafka://h:9092/t?key=random",
                            "kafka://h:9092/{field}", "kafka://h:9092/t?nope=1"}) {
        EXPECT_THROW((void)std::make_unique<kafka_connector>(parse_sink_uri(uri, "--sink"),
                                                             connector_context{}),
                     config_error)
            << uri;
    }
    EXPECT_THROW(open_embedded("x", {{"linger.ms", "soon", {"-X"}}}), config_error);
    try {
        open_embedded("x", {{"ssl.key.password", "hunter2", {"SYNTHFEED_RDKAFKA_SSL_KEY_PASSWORD"}},
                            {"no.such", "1", {"-X"}}});
        FAIL();
    } catch (const config_error& e) {
        EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
    }
}
