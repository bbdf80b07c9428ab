// The three error families of src/core/errors.hpp: what each reads as, and the exit code or
// status the CLI and the HTTP API map it to.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/core/errors.hpp"
#include "tests/test_support.hpp"

namespace synthfeed {
namespace {

TEST(ErrorFamilies, EachReadsAsItsLocationThenItsMessage) {
    const config_error c({"p.toml", 4, 7}, "group[0].count", "must be at least 1");
    EXPECT_STREQ(c.what(), "p.toml:4:7: group[0].count: must be at least 1");
    const config_error flag({"--seed", 0, 0}, "", "expected a whole number");
    EXPECT_STREQ(flag.what(), "--seed: expected a whole number");
    const run_error r("--http", "cannot listen on :80: permission denied");
    EXPECT_STREQ(r.what(), "--http: cannot listen on :80: permission denied");
    const request_error q("must be a number", "magnitude");
    EXPECT_STREQ(q.what(), "magnitude: must be a number");
    EXPECT_EQ(q.status(), 400u);
    EXPECT_EQ(request_error("generation is not running", "", 409).status(), 409u);
}

TEST(ErrorFamilies, FamiliesAreDistinctTypes) {
    // A catch of one family never swallows another (the CLI maps them to different codes).
    try {
        throw run_error("mqtt", "broker unreachable");
    } catch (const config_error&) {
        FAIL() << "a run_error caught as a config_error";
    } catch (const run_error& e) {
        EXPECT_EQ(e.where().origin, "mqtt");
    }
}

TEST(ErrorFamilies, AnHttpPortInUseIsARuntimeFailureExitOne) {
    // Hold a port, then ask synthfeed to serve on it: a run_error, exit 1 (not a usage error).
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof a;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    const int port = ntohs(a.sin_port);
    const auto r =
        testing::run_synthfeed("run " + testing::source_path("profiles/cold_chain.toml") +
                               " --count 10 --sink null: --http 127.0.0.1:" + std::to_string(port));
    ::close(fd);
    EXPECT_EQ(r.exit_code, exit_runtime_failure) << r.err;
    EXPECT_NE(r.err.find("--http: cannot listen on 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << r.err;
}

} // namespace
} // namespace synthfeed
