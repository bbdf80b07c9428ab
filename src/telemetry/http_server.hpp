#pragma once
/// A small HTTP/1.1 server on Boost.Beast for /metrics, health and the control API. One I/O
/// thread; handlers are quick (they read atomics or set flags).

#include <functional>
#include <memory>
#include <string>

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

using http_handler = std::function<http_reply(const http_request_view&)>;

class http_server {
  public:
    /// Listens on "HOST:PORT" (":PORT" means 127.0.0.1). Throws config_error for a malformed
    /// address and std::runtime_error when the port cannot be bound.
    http_server(const std::string& address, http_handler handler);
    ~http_server();

    unsigned short port() const noexcept;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace synthfeed
