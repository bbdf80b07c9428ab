// http_server over loopback sockets: deferred replies leave the I/O thread free for other
// requests and give their fallback when they run out of patience, handler failures are 500s,
// and at the connection limit the connection idle longest makes room (a busy one never does).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "src/telemetry/http_server.hpp"

using namespace synthfeed;
using namespace std::chrono_literals;

namespace {

using status_and_body = std::pair<unsigned, std::string>;

/// One blocking loopback connection to the server under test (reads give up after 10 s).
class client {
  public:
    explicit client(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const timeval patience{10, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
            throw std::runtime_error("cannot connect to the server under test");
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client() { ::close(fd_); }

    void get(const std::string& target) {
        const std::string request = "GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
        ASSERT_EQ(::send(fd_, request.data(), request.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(request.size()));
    }

    /// The next reply; status 0 when the connection ends first.
    status_and_body reply() {
        std::size_t head_end;
        while ((head_end = received_.find("\r\n\r\n")) == std::string::npos)
            if (!receive()) return {0, {}};
        const std::size_t length_at = received_.find("Content-Length: ");
        const std::size_t length = std::stoul(received_.substr(length_at + 16));
        while (received_.size() < head_end + 4 + length)
            if (!receive()) return {0, {}};
        const status_and_body r{std::stoul(received_.substr(9, 3)),
                                received_.substr(head_end + 4, length)};
        received_.erase(0, head_end + 4 + length);
        return r;
    }

    /// The server has closed this connection (a read sees the end of the stream).
    bool closed_by_server() {
        char c;
        return ::recv(fd_, &c, 1, 0) == 0;
    }

  private:
    bool receive() {
        char buffer[4096];
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) return false;
        received_.append(buffer, static_cast<std::size_t>(n));
        return true;
    }

    int fd_;
    std::string received_;
};

http_reply text(unsigned status, std::string body) {
    return {status, "text/plain", std::move(body)};
}

/// Serves /slow with a deferred reply that completes once `release` is set (after a minute,
/// "late"), and any other target at once with "ok".
struct slow_and_quick {
    std::atomic<bool> asked{false};
    std::atomic<bool> release{false};

    http_handler handler() {
        return [this](const http_request_view& r) -> http_answer {
            if (r.target != "/slow") return text(200, "ok\n");
            asked.store(true);
            return http_deferred_reply{[this]() -> std::optional<http_reply> {
                                           if (!release.load()) return std::nullopt;
                                           return text(200, "done\n");
                                       },
                                       1min, text(504, "late\n")};
        };
    }

    /// Waits until the server has taken /slow in hand.
    void wait_until_asked() const {
        for (int i = 0; i < 10'000 && !asked.load(); ++i) std::this_thread::sleep_for(1ms);
        ASSERT_TRUE(asked.load());
    }
};

/// Asks /slow on `slow`; while it waits, /livez on a new connection is answered; then /slow
/// completes.
void livez_while_slow_waits(const http_server& server, slow_and_quick& routes, client& slow) {
    slow.get("/slow");
    routes.wait_until_asked();
    client probe(server.port());
    probe.get("/livez");
    EXPECT_EQ(probe.reply(), status_and_body(200, "ok\n"));
    routes.release.store(true);
    EXPECT_EQ(slow.reply(), status_and_body(200, "done\n"));
}

} // namespace

TEST(http_server, serves_other_requests_while_a_reply_is_deferred) {
    slow_and_quick routes;
    http_server server("127.0.0.1:0", routes.handler());
    client slow(server.port());
    livez_while_slow_waits(server, routes, slow);
    slow.get("/livez"); // still keep-alive
    EXPECT_EQ(slow.reply(), status_and_body(200, "ok\n"));
}

TEST(http_server, a_deferred_reply_that_never_completes_gives_its_fallback) {
    http_server server("127.0.0.1:0", [](const http_request_view&) -> http_answer {
        return http_deferred_reply{[] { return std::optional<http_reply>(); }, 20ms,
                                   text(202, "queued\n")};
    });
    client c(server.port());
    c.get("/anything");
    EXPECT_EQ(c.reply(), status_and_body(202, "queued\n"));
}

TEST(http_server, a_failing_handler_or_poll_is_a_500) {
    http_server server("127.0.0.1:0", [](const http_request_view& r) -> http_answer {
        if (r.target == "/throw") throw std::runtime_error("boom");
        return http_deferred_reply{
            []() -> std::optional<http_reply> { throw std::runtime_error("later boom"); }, 1min,
            text(202, "queued\n")};
    });
    client c(server.port());
    c.get("/throw");
    EXPECT_EQ(c.reply(), status_and_body(500, "internal error: boom\n"));
    c.get("/poll");
    EXPECT_EQ(c.reply(), status_and_body(500, "internal error: later boom\n"));
}

TEST(http_server, at_the_connection_limit_the_longest_idle_connection_makes_room) {
    slow_and_quick routes;
    http_server server("127.0.0.1:0", routes.handler(), 2);
    client oldest(server.port()); // accepted first, never asks anything
    client idle(server.port());
    client newcomer(server.port());
    newcomer.get("/livez");
    EXPECT_EQ(newcomer.reply(), status_and_body(200, "ok\n"));
    EXPECT_TRUE(oldest.closed_by_server());
    idle.get("/livez");
    EXPECT_EQ(idle.reply(), status_and_body(200, "ok\n"));
}

TEST(http_server, at_the_connection_limit_a_busy_connection_is_left_to_finish) {
    slow_and_quick routes;
    http_server server("127.0.0.1:0", routes.handler(), 1);
    client busy(server.port()); // the only connection the limit allows
    livez_while_slow_waits(server, routes, busy);
}
