#pragma once
/// A small HTTP/1.1 server on Boost.Beast for /metrics, health and the control API. One I/O
/// thread that never waits: a handler answers at once or hands back a deferred reply, which
/// the server checks on a timer while it serves other connections. A failed accept() (such as
/// EMFILE at the descriptor limit) is logged and retried with back-off; the server listens for
/// as long as it lives.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace synthfeed {

struct http_request_view {
    std::string method;
    std::string target;
    std::string authorization;
    std::string body;
};

struct http_reply {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

/// A reply that another thread (such as the engine) completes later. The server calls `poll`
/// on its I/O thread every few milliseconds until it returns a reply, and sends `on_timeout`
/// once `patience` has passed without one.
struct http_deferred_reply {
    /// The reply once it is ready, nullopt until then. Must return at once: it runs on the
    /// I/O thread, and an exception from it becomes a 500 like one from the handler.
    std::function<std::optional<http_reply>()> poll;
    std::chrono::milliseconds patience{0};
    http_reply on_timeout;
};

/// What a handler answers: a reply now, or one that completes later.
using http_answer = std::variant<http_reply, http_deferred_reply>;

/// Called on the I/O thread for every request. It must not wait on other threads: work that
/// does is answered with an http_deferred_reply.
using http_handler = std::function<http_answer(const http_request_view&)>;

class http_server {
  public:
    /// Listens on "HOST:PORT" (":PORT" means 127.0.0.1). Throws config_error for a malformed
    /// address and std::runtime_error when the port cannot be bound. Beyond `max_connections`
    /// open connections, a new one closes the connection that has waited longest for a
    /// request, so idle clients cannot take every descriptor (busy ones are left to finish).
    http_server(const std::string& address, http_handler handler,
                std::size_t max_connections = 256);
    ~http_server();

    unsigned short port() const noexcept;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace synthfeed
