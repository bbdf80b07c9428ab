#include "src/telemetry/http_server.hpp"

#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

/// One connection: read a request, answer, repeat while keep-alive.
class session : public std::enable_shared_from_this<session> {
  public:
    session(tcp::socket socket, const http_handler& handler)
        : stream_(std::move(socket)), handler_(handler) {}

    void start() { read(); }

  private:
    void read() {
        request_ = {};
        stream_.expires_after(std::chrono::seconds(30));
        http::async_read(stream_, buffer_, request_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (!ec) self->answer();
                         });
    }

    void answer() {
        http_request_view view{std::string(request_.method_string()),
                               std::string(request_.target()),
                               std::string(request_[http::field::authorization]), request_.body()};
        http_reply reply;
        try {
            reply = handler_(view);
        } catch (const std::exception& e) {
            reply = {500, "text/plain; charset=utf-8",
                     std::string("internal error: ") + e.what() + "\n"};
        }
        response_ = {};
        response_.version(request_.version());
        response_.result(static_cast<http::status>(reply.status));
        response_.set(http::field::server, "synthfeed");
        response_.set(http::field::content_type, reply.content_type);
        response_.keep_alive(request_.keep_alive());
        response_.body() = std::move(reply.body);
        response_.prepare_payload();
        http::async_write(stream_, response_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return;
                              if (self->response_.keep_alive())
                                  self->read();
                              else
                                  self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
                          });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
    const http_handler& handler_;
};

std::pair<std::string, unsigned short> split_address(const std::string& address) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos)
        throw config_error({"--http", 0, 0}, address, "expected HOST:PORT or :PORT");
    std::string host = address.substr(0, colon);
    if (host.empty()) host = "127.0.0.1";
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    unsigned long port = 0;
    try {
        std::size_t used = 0;
        port = std::stoul(address.substr(colon + 1), &used);
        if (used != address.size() - colon - 1) throw std::invalid_argument("port");
    } catch (const std::exception&) {
        throw config_error({"--http", 0, 0}, address, "invalid port");
    }
    if (port > 65535) throw config_error({"--http", 0, 0}, address, "invalid port");
    return {host, static_cast<unsigned short>(port)};
}

} // namespace

struct http_server::impl {
    asio::io_context io{1};
    tcp::acceptor acceptor{io};
    http_handler handler;
    std::thread thread;

    void accept() {
        acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (ec) return; // closed
            std::make_shared<session>(std::move(socket), handler)->start();
            accept();
        });
    }
};

http_server::http_server(const std::string& address, http_handler handler)
    : impl_(std::make_unique<impl>()) {
    const auto [host, port] = split_address(address);
    beast::error_code ec;
    const auto ip = asio::ip::make_address(host, ec);
    if (ec) throw config_error({"--http", 0, 0}, address, "invalid IP address \"" + host + "\"");
    impl_->handler = std::move(handler);
    const tcp::endpoint endpoint(ip, port);
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor.bind(endpoint, ec);
    if (ec) throw run_error("--http", "cannot listen on " + address + ": " + ec.message());
    impl_->acceptor.listen();
    impl_->accept();
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

http_server::~http_server() {
    asio::post(impl_->io, [this] {
        beast::error_code ec;
        impl_->acceptor.close(ec);
    });
    impl_->io.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

unsigned short http_server::port() const noexcept {
    return impl_->acceptor.local_endpoint().port();
}

} // namespace synthfeed
