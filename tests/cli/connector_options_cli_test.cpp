// Connector tables in profiles through the real binary: `synthfeed validate` checks [mqtt] as
// it does [kafka] (exit 2, file:line:col of the key), and sink URIs with a password are never
// quoted with it.
#include <gtest/gtest.h>

#include "tests/test_support.hpp"

using namespace synthfeed::testing;

namespace {

/// A valid profile of 9 lines; a table appended starts at line 10.
const std::string good = "name = \"p\"\n"
                         "[[group]]\n"
                         "name = \"g\"\n"
                         "count = 2\n"
                         "id = \"d+{index}\"\n"
                         "interval = \"1s\"\n"
                         "[[group.field]]\n"
                         "name = \"x\"\n"
                         "signal = { kind = \"constant\", value = 1.0 }\n";

process_result validate(const std::string& profile_text, const std::string& flags = "",
                        const std::string& env = "") {
    const auto dir = temp_dir("connector-tables");
    write_file(dir / "p.toml", profile_text);
    auto r = run_synthfeed("validate " + (dir / "p.toml").string() + " " + flags, env);
    std::filesystem::remove_all(dir);
    return r;
}

} // namespace

TEST(ConnectorTables, ValidateRefusesABadMqttKeyAtItsLine) {
    auto r = validate(good + "[mqtt]\nqos = 1\nqso = 2\n");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("p.toml:12:1: mqtt.qso: unknown option (did you mean \"qos\"?)"),
              std::string::npos)
        << r.err;

    r = validate(good + "[mqtt]\nkeepalive = \"2s\"\n");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("p.toml:11:1: mqtt.keepalive: must be a duration from 5s to 65535s"),
              std::string::npos)
        << r.err;

    r = validate(good + "[kafka]\n\"linger.ms\" = \"soon\"\n");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("p.toml:11:1: kafka.linger.ms: "), std::string::npos) << r.err;

    r = validate(good + "[mqtt]\nqos = 1\nretain = true\nversion = \"5\"\n[kafka]\nkey = "
                        "\"group\"\nlinger.ms = 50\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(ConnectorTables, ProfileEnvAndUriMeetInOneCheck) {
    // The profile's [mqtt] holds a value the URI query would override: it is checked all the
    // same, at its own line, when a sink is opened or checked.
    auto r = validate(good + "[mqtt]\nqos = 7\n", "--sink 'mqtt://127.0.0.1:1/t?qos=1'");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("p.toml:11:1: mqtt.qos: must be 0, 1 or 2"), std::string::npos) << r.err;
    r = validate(good, "--sink 'mqtts://127.0.0.1:1/t'", "SYNTHFEED_MQTT_CA=/no/such/ca.pem");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("SYNTHFEED_MQTT_CA: ca: cannot read"), std::string::npos) << r.err;
}

TEST(ConnectorTables, AddressErrorsNeverQuoteThePassword) {
    // Device ids hold '+', an MQTT wildcard: the address check refuses them, quoting the URI.
    const auto r = validate(good, "--sink 'mqtt://user:S3cr3t%26pw@127.0.0.1:1/fleet/{device_id}'");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("mqtt://user:***@127.0.0.1:1/fleet/{device_id}"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("S3cr3t"), std::string::npos) << r.err;
}
