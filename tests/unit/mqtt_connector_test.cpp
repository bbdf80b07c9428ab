// MQTT options and the pieces of the connector that need no broker: option validation, the
// delivery-latency quantiles, and a refused first connection. Against a real broker:
// tests/integration/test_mqtt*.py.
#include <gtest/gtest.h>

#include <chrono>

#include "connectors/connector.hpp"
#include "connectors/connector_registry.hpp"
#include "connectors/mqtt/mqtt_connector.hpp"
#include "connectors/mqtt/mqtt_options.hpp"
#include "src/core/errors.hpp"

using namespace synthfeed;

namespace {

mqtt_options parse(const std::string& uri) {
    return parse_mqtt_uri(parse_sink_uri(uri, "--sink"), connector_context{});
}

} // namespace

TEST(MqttOptions, BindAddressesAreAListOfIpAddresses) {
    const auto o = parse("mqtt://127.0.0.1:1883/t?bind_address=127.0.0.1,127.0.0.2,::1");
    EXPECT_EQ(o.bind_addresses, (std::vector<std::string>{"127.0.0.1", "127.0.0.2", "::1"}));
    EXPECT_EQ(o.host, "127.0.0.1");
    EXPECT_EQ(o.port, 1883);
    EXPECT_THROW(parse("mqtt://127.0.0.1:1883/t?bind_address=localhost"), config_error);
    EXPECT_THROW(parse("mqtt://127.0.0.1:1883/t?bind_address=127.0.0.1,"), config_error);
}

TEST(MqttOptions, DurationsAndTheirLimits) {
    const auto o = parse("mqtt://h:1/t?give_up=5s&keepalive=5s&connect_timeout=250ms");
    EXPECT_EQ(o.give_up, std::chrono::milliseconds(5000));
    EXPECT_EQ(o.keepalive, std::chrono::seconds(5));
    EXPECT_EQ(o.connect_timeout, std::chrono::milliseconds(250));
    EXPECT_THROW(parse("mqtt://h:1/t?give_up=0s"), config_error);
    EXPECT_THROW(parse("mqtt://h:1/t?keepalive=2s"), config_error); // libmosquitto: 0 or >= 5
    EXPECT_THROW(parse("mqtt://h:1/t?give_up=soon"), config_error);
}

TEST(MqttOptions, BracketedIpv6Broker) {
    const auto o = parse("mqtt://[::1]:1884/t");
    EXPECT_EQ(o.host, "::1");
    EXPECT_EQ(o.port, 1884);
}

TEST(MqttConnector, AClosedPortFailsAtOnceWithTheReason) {
    // Port 1 on loopback: nothing listens, the kernel refuses at once.
    const auto uri = parse_sink_uri("mqtt://127.0.0.1:1/t?connect_timeout=2s", "--sink");
    const auto started = std::chrono::steady_clock::now();
    try {
        mqtt_connector c(uri, connector_context{});
        FAIL() << "connected to a closed port";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
}
