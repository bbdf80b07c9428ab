#include "src/telemetry/http_server.hpp"

#include <algorithm>
#include <list>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "src/core/errors.hpp"
#include "src/telemetry/accept_retry.hpp"

namespace synthfeed {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using errc = boost::system::errc::errc_t;

/// How long a client may take to send a request or to take a reply.
constexpr std::chrono::seconds io_timeout{30};
/// How often a deferred reply is checked: a few ms added to its answer, and cheap (a look at a
/// future) even with hundreds of requests waiting.
constexpr std::chrono::milliseconds deferred_check_interval{5};

http_reply internal_error(const std::exception& e) {
    return {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
}

class session;

/// The open connections, least recently active first, so that the listener can close the one
/// that has waited longest for a request when it needs room. Used on the I/O thread only.
class connection_list {
  public:
    using place = std::list<session*>::iterator;

    place add(session* s) { return sessions_.insert(sessions_.end(), s); }
    void remove(place p) { sessions_.erase(p); }
    /// Moves a connection to the most recently active end.
    void touch(place p) { sessions_.splice(sessions_.end(), sessions_, p); }
    std::size_t size() const noexcept { return sessions_.size(); }
    /// Closes the connection idle longest, if any is idle.
    void close_idle();

  private:
    std::list<session*> sessions_;
};

/// One connection: read a request, answer (at once, or when its deferred reply completes),
/// repeat while keep-alive.
class session : public std::enable_shared_from_this<session> {
  public:
    session(tcp::socket socket, const http_handler& handler, connection_list& connections)
        : stream_(std::move(socket)), check_timer_(stream_.get_executor()), handler_(handler),
          connections_(connections), place_(connections.add(this)) {}
    ~session() { forget(); }

    void start() { read(); }
    /// Waiting for a request (or for the rest of one): nothing is lost by closing it.
    bool idle() const noexcept { return idle_; }
    /// Closes the socket, freeing its descriptor at once; the pending read then ends.
    void close() {
        forget();
        beast::error_code ec;
        stream_.socket().close(ec);
    }

  private:
    void forget() {
        if (place_) connections_.remove(*place_);
        place_.reset();
        idle_ = false;
    }

    void read() {
        request_ = {};
        idle_ = true;
        if (place_) connections_.touch(*place_);
        stream_.expires_after(io_timeout);
        http::async_read(stream_, buffer_, request_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (!ec) self->answer();
                         });
    }

    void answer() {
        idle_ = false;
        const http_request_view view{
            std::string(request_.method_string()), std::string(request_.target()),
            std::string(request_[http::field::authorization]), request_.body()};
        http_answer a;
        try {
            a = handler_(view);
        } catch (const std::exception& e) {
            a = internal_error(e);
        }
        if (auto* reply = std::get_if<http_reply>(&a)) return write(std::move(*reply));
        deferred_ = std::move(std::get<http_deferred_reply>(a));
        give_up_at_ = std::chrono::steady_clock::now() + deferred_.patience;
        check_deferred();
    }

    /// Sends the deferred reply once it is ready (or its patience is over), looking again a
    /// little later until then; the I/O thread serves other connections meanwhile.
    void check_deferred() {
        std::optional<http_reply> reply;
        try {
            reply = deferred_.poll();
        } catch (const std::exception& e) {
            reply = internal_error(e);
        }
        if (!reply && std::chrono::steady_clock::now() >= give_up_at_)
            reply = std::move(deferred_.on_timeout);
        if (reply) {
            deferred_ = {};
            return write(std::move(*reply));
        }
        check_timer_.expires_after(deferred_check_interval);
        check_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec) self->check_deferred();
        });
    }

    void write(http_reply reply) {
        response_ = {};
        response_.version(request_.version());
        response_.result(static_cast<http::status>(reply.status));
        response_.set(http::field::server, "synthfeed");
        response_.set(http::field::content_type, reply.content_type);
        response_.keep_alive(request_.keep_alive());
        response_.body() = std::move(reply.body);
        response_.prepare_payload();
        stream_.expires_after(io_timeout);
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
    asio::steady_timer check_timer_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
    http_deferred_reply deferred_;
    std::chrono::steady_clock::time_point give_up_at_;
    const http_handler& handler_;
    connection_list& connections_;
    std::optional<connection_list::place> place_; ///< empty once closed
    bool idle_ = false;
};

void connection_list::close_idle() {
    const auto it = std::ranges::find_if(sessions_, [](const session* s) { return s->idle(); });
    if (it != sessions_.end()) (*it)->close(); // takes it off the list
}

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
    // Sessions take themselves off this list when destroyed, which can happen while `io` is
    // destroyed (with their pending operations): declared first, it outlives io.
    connection_list connections;
    asio::io_context io{1};
    tcp::acceptor acceptor{io};
    asio::steady_timer retry_timer{io};
    accept_retry retry;
    http_handler handler;
    std::size_t max_connections = 0;
    std::thread thread;

    void accept() {
        acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
            if (!acceptor.is_open()) return; // the server is going away
            if (ec) return retry_later(ec);
            retry.succeeded();
            if (connections.size() >= max_connections) connections.close_idle();
            std::make_shared<session>(std::move(socket), handler, connections)->start();
            accept();
        });
    }

    /// Accepts again after a pause: a failure such as EMFILE recurs at once while the client
    /// waits in the backlog, so an immediate retry would spin.
    void retry_later(const beast::error_code& ec) {
        // Out of descriptors: the connection idle longest gives its one to the waiting client.
        if (ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system)
            connections.close_idle();
        const auto step = retry.failed(ec.value(), accept_retry::clock::now());
        if (step.report)
            spdlog::warn("http: accept() failed: {}{}; still listening, next try in {} ms",
                         ec.message(),
                         step.unreported ? " (" + std::to_string(step.unreported) +
                                               " more since the last report)"
                                         : std::string(),
                         step.delay.count());
        retry_timer.expires_after(step.delay);
        retry_timer.async_wait([this](beast::error_code e) {
            if (!e) accept();
        });
    }
};

http_server::http_server(const std::string& address, http_handler handler,
                         std::size_t max_connections)
    : impl_(std::make_unique<impl>()) {
    const auto [host, port] = split_address(address);
    beast::error_code ec;
    const auto ip = asio::ip::make_address(host, ec);
    if (ec) throw config_error({"--http", 0, 0}, address, "invalid IP address \"" + host + "\"");
    impl_->handler = std::move(handler);
    impl_->max_connections = std::max<std::size_t>(1, max_connections);
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
