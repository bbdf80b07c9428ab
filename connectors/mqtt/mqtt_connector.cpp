#include "connectors/mqtt/mqtt_connector.hpp"

#include "src/core/errors.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <fcntl.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "connectors/topic_template.hpp"

namespace synthfeed {
namespace {
/// Set while mosquitto_new runs on this thread: see socketpair() below.
thread_local bool decline_socket_pair = false;
/// Set while our connect calls run on this thread: see bind() below.
thread_local bool bind_without_port = false;
} // namespace
} // namespace synthfeed

/// libmosquitto 2.0.11 opens a socket pair for every client (lib/mosquitto.c,
/// mosquitto_reinitialise) to wake its own loop thread, which we never start. The pair costs
/// two descriptors per client (a 10,000-device fleet would need 30,000 where 10,000 do) and a
/// write(2) per publish. This definition interposes libc's (libmosquitto calls it through its
/// PLT) and declines the pair only inside our mosquitto_new calls; libmosquitto then logs a
/// warning, leaves sockpairR/W at INVALID_SOCKET and checks for that before every use
/// (packet__queue, mosquitto_destroy). Every other caller gets the real system call.
extern "C" int socketpair(int domain, int type, int protocol, int fds[2]) noexcept {
    if (synthfeed::decline_socket_pair) {
        errno = EMFILE;
        return -1;
    }
    return static_cast<int>(::syscall(SYS_socketpair, domain, type, protocol, fds));
}

/// With bind_address, libmosquitto binds each client's socket to the source address with
/// port 0 before connect() (lib/net_mosq.c, net__try_connect). Linux then picks the port at
/// bind time among ports unused by any connection, which slows to 1-2 ms a call once half of
/// an address's ephemeral ports are taken (measured: 10 us at 12,500 bound, 1.9 ms at 17,500)
/// and stalls the emitter. IP_BIND_ADDRESS_NO_PORT defers the choice to connect(), which only
/// needs the port free for that broker address (Linux 4.2, ip(7)). Set on our clients only.
extern "C" int bind(int fd, const sockaddr* address, socklen_t length) noexcept {
    if (synthfeed::bind_without_port && address && address->sa_family == AF_INET &&
        length >= sizeof(sockaddr_in) &&
        reinterpret_cast<const sockaddr_in*>(address)->sin_port == 0) {
        const int on = 1;
        ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    }
    return static_cast<int>(::syscall(SYS_bind, fd, address, length));
}

namespace synthfeed {
namespace {

/// Session expiry for MQTT 5 sessions kept across reconnects (clean=false).
constexpr std::uint32_t session_expiry_seconds = 3600;
/// Reconnect backoff: doubles from the first to the last value, with ±25 % jitter so that a
/// fleet dropped at once by a broker restart does not come back in lock step.
constexpr std::chrono::milliseconds first_backoff{500}, max_backoff{8000};
/// Keepalive, connect deadlines and retries are served for every client about once a second,
/// a slice of the fleet every tick.
constexpr std::chrono::milliseconds timer_tick{50};
constexpr int ticks_per_round = 20;

enum link_state : int { waiting, connecting, connected, backoff, given_up, closing };

std::once_flag library_once;

/// Each client holds one descriptor, so a fleet of 50,000 needs 50,000. Raise the soft limit
/// to the hard one, and the hard one too when we may (CAP_SYS_RESOURCE).
void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t want = 1 << 20;
    if (limit.rlim_max < want) {
        rlimit raised{want, want};
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
    }
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

std::int64_t micros_since(std::chrono::steady_clock::time_point origin) noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 origin)
        .count();
}

/// One MQTT 5 user property (libmosquitto copies NUL-terminated strings).
void add_user_property(mosquitto_property** props, std::string_view name, std::string_view value) {
    mosquitto_property_add_string_pair(props, MQTT_PROP_USER_PROPERTY, std::string(name).c_str(),
                                       std::string(value).c_str());
}

/// Why a connection attempt or link failed, in words a user can act on.
std::string explain(int rc, int saved_errno) {
    if (rc == MOSQ_ERR_ERRNO) {
        if (saved_errno == EMFILE || saved_errno == ENFILE) {
            rlimit limit{};
            ::getrlimit(RLIMIT_NOFILE, &limit);
            return "out of file descriptors (limit " + std::to_string(limit.rlim_cur) +
                   "): each MQTT client uses one; raise the hard limit (`ulimit -Hn`, or "
                   "`nofile` of the container); synthfeed raises the soft one by itself";
        }
        if (saved_errno == EADDRNOTAVAIL)
            return "no local port left: one source address reaches one broker address about "
                   "28,000 times; add source addresses with bind_address=127.0.0.1,127.0.0.2,...";
        return std::strerror(saved_errno);
    }
    if (rc == MOSQ_ERR_CONN_REFUSED) return "connection refused by the broker";
    if (rc == MOSQ_ERR_TLS) return "TLS handshake failed (certificate or key?)";
    return mosquitto_strerror(rc);
}

std::string explain_connack(int reason) {
    switch (reason) {
    case 4:    // MQTT 3.1.1: bad user name or password
    case 0x86: // MQTT 5: bad user name or password
        return "bad user name or password";
    case 5:
    case 0x87:
        return "not authorized";
    default:
        return reason < 6 ? mosquitto_connack_string(reason) : mosquitto_reason_string(reason);
    }
}

} // namespace

struct mqtt_connector::session {
    mqtt_connector* owner = nullptr;
    ::mosquitto* client = nullptr;
    std::string client_id;
    std::string topic; ///< per-device mode: the device's topic, expanded once
    const char* bind_address = nullptr;
    int fd = -1;
    std::uint32_t events = 0; ///< registered with epoll (0: not registered)
    int state = waiting;
    bool queued_to_connect = false;
    bool attempted = false; ///< mosquitto_connect_* called once; later attempts reconnect
    bool ever_connected = false;
    bool just_connected = false; ///< CONNACK seen inside a loop call: publish what is held
    bool connack_refused = false;
    bool failing = false; ///< its last attempt or link failed; cleared by a CONNACK
    int connack_reason = 0;
    clock::time_point attempt_started{}, retry_at{};
    clock::time_point down_since{}; ///< first failed attempt since the link was last up
    std::chrono::milliseconds backoff = first_backoff;

    /// The ledger: messages handed to libmosquitto and not yet counted, in mid order
    /// (libmosquitto numbers every PUBLISH of a client 1, 2, …, 65535, 1, …).
    struct entry {
        std::uint16_t mid;
        bool done;
        std::uint32_t bytes;
        std::int64_t accepted_us;
    };
    std::deque<entry> ledger;
    std::size_t open = 0; ///< ledger entries not yet done

    /// Held by us: accepted while the client was not connected, or behind its full window.
    struct held_message {
        std::string topic;
        std::string payload;
        std::vector<std::pair<std::string, std::string>> headers;
        std::int64_t accepted_us;
    };
    std::deque<held_message> held;

    ~session() {
        if (client) mosquitto_destroy(client);
    }
};

namespace {

/// libmosquitto's log callback, set only while a client connects: it names TLS and connection
/// errors, but with a callback set libmosquitto formats a debug line for every packet (12 % of
/// the QoS 0 path's CPU in perf), so a connected client runs without one.
void capture_connect_errors(::mosquitto* client, bool on) {
    if (!on) {
        mosquitto_log_callback_set(client, nullptr);
        return;
    }
    mosquitto_log_callback_set(client, [](::mosquitto*, void* obj, int level, const char* text) {
        if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) {
            auto& s = *static_cast<mqtt_connector::session*>(obj);
            s.owner->note_error(text);
            spdlog::debug("mqtt {}: {}", s.client_id, text);
        }
    });
}

} // namespace

mqtt_connector::mqtt_connector(const sink_uri& uri, const connector_context& ctx)
    : options_(parse_mqtt_uri(uri, ctx)) {
    std::call_once(library_once, [] { mosquitto_lib_init(); });
    raise_descriptor_limit();
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw run_error("mqtt", std::string("epoll: ") + std::strerror(errno));

    // The first connections are made before generation starts, so that credentials, TLS and
    // reachability fail at once. Per-device mode opens one probe connection (its own id, so it
    // never takes over a device's session) and closes it.
    const int planned = options_.per_device ? 1 : options_.connections;
    for (int n = 0; n < planned; ++n) {
        session& s =
            add_session(options_.per_device ? expand_client_id("synthfeed-{pid}-probe", n, "")
                                            : expand_client_id(options_.client_id, n, ""));
        start_connect(s);
    }
    const auto until = clock::now() + options_.connect_timeout + std::chrono::seconds(1);
    std::string failure;
    while (failure.empty()) {
        std::size_t up = 0;
        for (const auto& s : sessions_) {
            if (s->state == connected) ++up;
            if (s->connack_refused)
                failure = "refused: " + explain_connack(s->connack_reason);
            else if (s->state == backoff || s->state == given_up)
                failure = "failed: " + last_error_;
        }
        if (up == sessions_.size()) break;
        if (failure.empty() && clock::now() >= until)
            failure = "failed: no CONNACK within " +
                      std::to_string(options_.connect_timeout.count()) + " ms";
        if (failure.empty()) wait_events(std::chrono::milliseconds(10));
    }
    if (!failure.empty()) {
        close_all(clock::now());
        ::close(epoll_fd_);
        throw run_error("mqtt", "connection to " + options_.host_port + " " + failure);
    }
    if (options_.per_device) {
        close_all(clock::now() + std::chrono::seconds(1));
        sessions_.clear();
        closed_ = false;
        fleet_.clients.store(0);
        fleet_.connected_peak.store(0);
    }
    spdlog::debug("mqtt: connected to {} ({} connection(s){})", options_.host_port,
                  sessions_.size(), options_.per_device ? ", per-device mode" : "");
}

mqtt_connector::~mqtt_connector() {
    if (!closed_) close_all(clock::now());
    sessions_.clear();
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

mqtt_connector::session& mqtt_connector::add_session(std::string client_id) {
    auto s = std::make_unique<session>();
    s->owner = this;
    s->client_id = std::move(client_id);
    if (!options_.bind_addresses.empty())
        s->bind_address =
            options_.bind_addresses[sessions_.size() % options_.bind_addresses.size()].c_str();
    decline_socket_pair = true;
    s->client = mosquitto_new(s->client_id.c_str(), options_.clean, s.get());
    decline_socket_pair = false;
    if (!s->client) {
        last_error_ = explain(MOSQ_ERR_ERRNO, errno);
        throw run_error("mqtt", "cannot create a client: " + last_error_);
    }
    ::mosquitto* m = s->client;
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
                         options_.version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
    // Our window, not libmosquitto's default of 20, bounds what is in flight.
    mosquitto_max_inflight_messages_set(m, static_cast<unsigned>(options_.max_inflight));
    if (!options_.username.empty() || !options_.password.empty())
        mosquitto_username_pw_set(m, options_.username.c_str(),
                                  options_.password.empty() ? nullptr : options_.password.c_str());
    if (!options_.will_topic.empty())
        mosquitto_will_set_v5(m, options_.will_topic.c_str(),
                              static_cast<int>(options_.will_payload.size()),
                              options_.will_payload.data(), options_.qos, false, nullptr);
    if (options_.tls) {
        // Without ca= the system's store verifies the broker (libmosquitto needs a file or a
        // directory).
        const char* ca_file = options_.ca.empty() ? nullptr : options_.ca.c_str();
        const char* ca_dir = ca_file ? nullptr : "/etc/ssl/certs";
        int rc = mosquitto_tls_set(m, ca_file, ca_dir,
                                   options_.cert.empty() ? nullptr : options_.cert.c_str(),
                                   options_.key.empty() ? nullptr : options_.key.c_str(), nullptr);
        if (rc == MOSQ_ERR_SUCCESS && options_.insecure) {
            rc = mosquitto_tls_opts_set(m, 0 /* SSL_VERIFY_NONE */, nullptr, nullptr);
            mosquitto_tls_insecure_set(m, true);
        }
        if (rc != MOSQ_ERR_SUCCESS)
            throw run_error("mqtt", "TLS settings refused: " + std::string(mosquitto_strerror(rc)));
    }
    mosquitto_connect_v5_callback_set(
        m, [](::mosquitto*, void* obj, int reason, int, const mosquitto_property*) {
            auto& s = *static_cast<session*>(obj);
            s.owner->on_connected(s, reason);
        });
    mosquitto_disconnect_v5_callback_set(
        m, [](::mosquitto*, void* obj, int rc, const mosquitto_property*) {
            auto& s = *static_cast<session*>(obj);
            s.owner->on_disconnected(s, rc);
        });
    mosquitto_publish_v5_callback_set(
        m, [](::mosquitto*, void* obj, int mid, int reason, const mosquitto_property*) {
            auto& s = *static_cast<session*>(obj);
            s.owner->on_acknowledged(s, mid, reason);
        });
    sessions_.push_back(std::move(s));
    fleet_.connecting.fetch_add(1, std::memory_order_relaxed);
    fleet_.clients.fetch_add(1, std::memory_order_relaxed);
    return *sessions_.back();
}

void mqtt_connector::set_state(session& s, int state) noexcept {
    auto bucket = [&](int st) -> std::atomic<std::int64_t>* {
        switch (st) {
        case waiting:
        case connecting:
            return s.ever_connected ? &fleet_.reconnecting : &fleet_.connecting;
        case connected:
            return &fleet_.connected;
        case backoff:
            return s.ever_connected ? &fleet_.reconnecting : &fleet_.connecting;
        case given_up:
            return &fleet_.failed;
        default:
            return nullptr;
        }
    };
    if (auto* from = bucket(s.state)) from->fetch_sub(1, std::memory_order_relaxed);
    if (state == connected && !s.ever_connected) {
        s.ever_connected = true;
    } else if (state == connected) {
        fleet_.reconnects.fetch_add(1, std::memory_order_relaxed);
    }
    s.state = state;
    if (auto* to = bucket(state)) to->fetch_add(1, std::memory_order_relaxed);
    if (state == connected)
        fleet_.connected_peak.store(std::max(fleet_.connected_peak.load(std::memory_order_relaxed),
                                             fleet_.connected.load(std::memory_order_relaxed)),
                                    std::memory_order_relaxed);
}

bool mqtt_connector::take_connect_token(clock::time_point now) noexcept {
    // Half a second of tokens: an emitter busy for a moment catches up, so the rate over a
    // ramp matches connect_rate; start_connects() keeps the bucket from filling while idle.
    const double burst = std::max(1.0, options_.connect_rate / 2);
    bucket_tokens_ =
        std::min(burst, bucket_tokens_ + std::chrono::duration<double>(now - bucket_time_).count() *
                                             options_.connect_rate);
    bucket_time_ = now;
    if (bucket_tokens_ < 1) return false;
    bucket_tokens_ -= 1;
    return true;
}

void mqtt_connector::start_connect(session& s) noexcept {
    capture_connect_errors(s.client, true);
    s.attempt_started = clock::now();
    if (s.down_since == clock::time_point{}) s.down_since = s.attempt_started;
    s.connack_refused = false;
    set_state(s, connecting);
    int rc;
    errno = 0;
    bind_without_port = s.bind_address != nullptr;
    if (!s.attempted) {
        s.attempted = true;
        if (options_.version == 5 && !options_.clean) {
            // MQTT 5 keeps a session only with an expiry interval, a CONNECT property that
            // libmosquitto takes on its (blocking) connect call and keeps for reconnects.
            mosquitto_property* props = nullptr;
            mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                         session_expiry_seconds);
            rc = mosquitto_connect_bind_v5(s.client, options_.host.c_str(), options_.port,
                                           static_cast<int>(options_.keepalive.count()),
                                           s.bind_address, props);
            mosquitto_property_free_all(&props);
        } else {
            rc = mosquitto_connect_bind_async(s.client, options_.host.c_str(), options_.port,
                                              static_cast<int>(options_.keepalive.count()),
                                              s.bind_address);
        }
    } else {
        rc = mosquitto_reconnect_async(s.client);
    }
    const int saved_errno = errno;
    bind_without_port = false;
    s.events = 0; // a new socket, or none: register afresh
    s.fd = -1;
    if (rc != MOSQ_ERR_SUCCESS) {
        last_error_ = explain(rc, saved_errno);
        // Out of descriptors or local ports: say so now, not only when clients are given up.
        if (rc == MOSQ_ERR_ERRNO &&
            (saved_errno == EMFILE || saved_errno == ENFILE || saved_errno == EADDRNOTAVAIL))
            warn_fleet(last_error_);
        on_disconnected(s, rc);
        return;
    }
    sync_socket(s);
}

void mqtt_connector::sync_socket(session& s) noexcept {
    const int fd = mosquitto_socket(s.client);
    if (fd != s.fd) {
        // libmosquitto closed the old socket (closing removed it from epoll) or opened one.
        s.fd = fd;
        s.events = 0;
        if (fd < 0 && (s.state == connecting || s.state == connected))
            on_disconnected(s, MOSQ_ERR_CONN_LOST); // closed without a callback (TLS failure)
    }
    if (s.fd < 0) return;
    // During the TLS handshake libmosquitto wants to be read from whichever way the socket
    // becomes ready; mosquitto_want_write tells when it needs writability.
    const std::uint32_t want = EPOLLIN | (mosquitto_want_write(s.client) ? EPOLLOUT : 0u);
    if (want == s.events) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.ptr = &s;
    if (s.events == 0) {
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s.fd, &ev) != 0 && errno == EEXIST)
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &ev);
    } else if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &ev) != 0 && errno == ENOENT) {
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s.fd, &ev);
    }
    s.events = want;
}

void mqtt_connector::on_connected(session& s, int reason) noexcept {
    if (reason != 0) {
        // libmosquitto closes the link after this callback and reports it as a disconnect.
        s.connack_refused = true;
        s.connack_reason = reason;
        last_error_ = "CONNACK: " + explain_connack(reason);
        return;
    }
    fleet_.connect_latency.observe(
        std::chrono::duration<double>(clock::now() - s.attempt_started).count());
    // libmosquitto resends its in-flight QoS 1/2 messages with DUP set on this CONNACK.
    if (s.ever_connected && options_.qos > 0)
        fleet_.resent.fetch_add(s.open, std::memory_order_relaxed);
    s.backoff = first_backoff;
    s.down_since = {};
    s.failing = false;
    set_state(s, connected);
    capture_connect_errors(s.client, false);
    s.just_connected = true;
}

void mqtt_connector::on_disconnected(session& s, int rc) noexcept {
    const int saved_errno = errno;
    s.events = 0;
    s.fd = -1;
    if (s.state == closing || s.state == given_up) return;
    if (rc != MOSQ_ERR_SUCCESS && !s.connack_refused) last_error_ = explain(rc, saved_errno);
    if (s.state == connected)
        spdlog::debug("mqtt {}: link lost ({})", s.client_id,
                      rc == MOSQ_ERR_SUCCESS ? "closed" : mosquitto_strerror(rc));
    if (s.down_since == clock::time_point{}) s.down_since = clock::now();
    s.failing = true;
    // QoS 0 messages not yet written are gone with the link; QoS 1/2 ones stay in
    // libmosquitto's queue and are resent after the next CONNACK.
    if (options_.qos == 0 && s.open > 0) {
        count_failed(s.open, send_error::client);
        s.ledger.clear();
        open_total_ -= s.open;
        s.open = 0;
    }
    const auto jitter = static_cast<double>(std::hash<std::string>{}(s.client_id) % 512) / 1024;
    s.retry_at = clock::now() +
                 std::chrono::duration_cast<clock::duration>(s.backoff * (0.75 + jitter)); // ±25 %
    s.backoff = std::min(max_backoff, s.backoff * 2);
    set_state(s, backoff);
}

void mqtt_connector::on_acknowledged(session& s, int mid, int reason) noexcept {
    // Acknowledgements come in mid order but for QoS 1/2 races with a reconnect: look at the
    // expected place first, search only on a miss.
    auto& ledger = s.ledger;
    std::size_t at = ledger.size();
    if (!ledger.empty()) {
        const int first = ledger.front().mid;
        const std::size_t guess =
            static_cast<std::size_t>(mid >= first ? mid - first : mid + 65535 - first);
        if (guess < ledger.size() && ledger[guess].mid == mid && !ledger[guess].done) {
            at = guess;
        } else {
            for (std::size_t i = 0; i < ledger.size(); ++i)
                if (ledger[i].mid == mid && !ledger[i].done) {
                    at = i;
                    break;
                }
        }
    }
    if (at == ledger.size()) {
        // Not in the ledger: the message being published right now, written at once.
        if (in_publish_) current_acked_ = true;
        return;
    }
    auto& e = ledger[at];
    e.done = true;
    const std::int64_t now_us = micros_since(created_);
    last_progress_us_.store(now_us, std::memory_order_relaxed);
    --s.open;
    --open_total_;
    if (reason >= 0x80) {
        count_failed(1, send_error::broker);
        spdlog::debug("mqtt {}: publish refused: {}", s.client_id, mosquitto_reason_string(reason));
    } else {
        count_acknowledged(e.bytes, e.accepted_us, now_us);
    }
    while (!ledger.empty() && ledger.front().done) ledger.pop_front();
}

void mqtt_connector::count_acknowledged(std::size_t bytes, std::int64_t accepted_us,
                                        std::int64_t now_us) noexcept {
    latency_.observe(static_cast<double>(now_us - accepted_us) / 1e6);
    count_delivered(1, bytes);
}

void mqtt_connector::warn_fleet(const std::string& what) noexcept {
    // One line a second at most, however many of a fleet's clients hit the same wall.
    const auto now = clock::now();
    if (now - last_fleet_warning_ < std::chrono::seconds(1)) return;
    last_fleet_warning_ = now;
    spdlog::warn("mqtt: {} ({} of {} clients connected, {} given up)", what,
                 fleet_.connected.load(), fleet_.clients.load(), fleet_.failed.load());
}

void mqtt_connector::give_up(session& s, const char* why) noexcept {
    const std::uint64_t lost = s.open + s.held.size();
    warn_fleet(fmt::format("client {} given up after {} ms without a connection ({}); its {} "
                           "messages counted failed",
                           s.client_id, options_.give_up.count(), why, lost));
    count_failed(lost, send_error::timed_out);
    held_total_ -= s.held.size();
    s.held.clear();
    s.ledger.clear();
    open_total_ -= s.open;
    s.open = 0;
    set_state(s, given_up);
    mosquitto_disconnect(s.client);
    s.fd = -1;
    s.events = 0;
}

mqtt_connector::session* mqtt_connector::session_for(const record& r) noexcept {
    if (!options_.per_device) {
        if (sessions_.size() == 1) return sessions_.front().get();
        // A device always uses the same connection, so its messages stay in order.
        return sessions_[std::hash<std::string_view>{}(r.device_id) % sessions_.size()].get();
    }
    if (auto it = by_device_.find(r.device_id); it != by_device_.end()) return it->second;
    try {
        session& s = add_session(
            expand_client_id(options_.client_id, static_cast<int>(sessions_.size()), r.device_id));
        s.topic = expand_topic(options_.topic_template, r.group, r.device_id);
        by_device_.emplace(std::string(r.device_id), &s);
        s.queued_to_connect = true;
        connect_queue_.push_back(&s); // connects when connect_rate allows
        return &s;
    } catch (const std::exception& e) {
        last_error_ = e.what();
        return nullptr;
    }
}

send_result mqtt_connector::send(const record& r) noexcept {
    if (closed_) {
        count_failed(1, send_error::rejected);
        return send_result::rejected;
    }
    session* s = session_for(r);
    if (!s) {
        count_failed(1, send_error::client);
        return send_result::rejected;
    }
    if (s->state == given_up) {
        count_failed(1, send_error::rejected);
        return send_result::rejected;
    }
    const bool window_open = s->open < static_cast<std::size_t>(options_.max_inflight);
    if (s->state == connected && s->held.empty() && window_open) return publish(*s, r);
    // Not connected yet, or behind messages already held: hold it (in order). A full window
    // on a shared connection is plain backpressure; per device, holding lets other devices
    // go on.
    if (s->state == connected && s->held.empty() && !options_.per_device) {
        if (!options_.drop_when_full) return send_result::queue_full;
        count_dropped(1);
        return send_result::dropped;
    }
    // A device whose client is failing holds at most its share of `buffer`: past it its
    // messages count as failed, so that unreachable devices cannot fill the shared buffer and
    // stop the whole fleet until they are given up, while an outage of the whole broker still
    // holds everything it can. (Waiting for connect_rate is not failing.)
    if (options_.per_device && s->failing &&
        s->held.size() >= std::max<std::size_t>(1, static_cast<std::size_t>(options_.buffer) /
                                                       sessions_.size())) {
        count_failed(1, send_error::client);
        if (clock::now() - last_fleet_warning_ >= std::chrono::seconds(1)) // before formatting
            warn_fleet("the client of " + std::string(r.device_id) + " cannot connect (" +
                       last_error_ + "); its messages past its share of buffer count as failed");
        return send_result::rejected;
    }
    if (held_total_ >= static_cast<std::uint64_t>(options_.buffer)) {
        if (!options_.drop_when_full) return send_result::queue_full;
        count_dropped(1);
        return send_result::dropped;
    }
    session::held_message h;
    h.topic = options_.per_device
                  ? s->topic
                  : (is_fixed_topic(options_.topic_template)
                         ? options_.topic_template
                         : expand_topic(options_.topic_template, r.group, r.device_id));
    h.payload.assign(r.payload);
    for (const auto& header : r.headers) h.headers.emplace_back(header.name, header.value);
    h.accepted_us = micros_since(created_);
    s->held.push_back(std::move(h));
    ++held_total_;
    return send_result::accepted;
}

mqtt_connector::hand_over_result mqtt_connector::hand_over(session& s, const char* topic,
                                                           std::string_view payload,
                                                           mosquitto_property* props,
                                                           std::int64_t accepted_us) noexcept {
    int mid = 0;
    in_publish_ = true;
    current_acked_ = false;
    const int rc = mosquitto_publish_v5(s.client, &mid, topic, static_cast<int>(payload.size()),
                                        payload.data(), options_.qos, options_.retain, props);
    in_publish_ = false;
    if (props) mosquitto_property_free_all(&props);
    const bool link_broken =
        rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_NO_CONN;
    if (link_broken) {
        // The write found the link broken: a read now reports it and starts the reconnect.
        mosquitto_loop_read(s.client, 1);
        sync_socket(s);
        // QoS 0 is not queued by libmosquitto across a reconnect: the caller keeps it.
        if (options_.qos == 0) return hand_over_result::kept;
    } else if (rc != MOSQ_ERR_SUCCESS) {
        last_error_ = mosquitto_strerror(rc);
        count_failed(1, send_error::rejected);
        return hand_over_result::refused;
    }
    // QoS 1/2 after a broken write sit in libmosquitto's queue and are sent after the CONNACK.
    if (current_acked_) { // written at once (QoS 0): acknowledged inside the call
        count_acknowledged(payload.size(), accepted_us, micros_since(created_));
    } else {
        s.ledger.push_back({static_cast<std::uint16_t>(mid), false,
                            static_cast<std::uint32_t>(payload.size()), accepted_us});
        ++s.open;
        ++open_total_;
    }
    if (!link_broken && !(s.events & EPOLLOUT) && mosquitto_want_write(s.client)) sync_socket(s);
    return hand_over_result::handed;
}

send_result mqtt_connector::publish(session& s, const record& r) noexcept {
    thread_local std::string topic_buffer;
    const char* topic;
    if (options_.per_device) {
        topic = s.topic.c_str();
    } else if (is_fixed_topic(options_.topic_template)) {
        topic = options_.topic_template.c_str();
    } else {
        topic_buffer = expand_topic(options_.topic_template, r.group, r.device_id);
        topic = topic_buffer.c_str();
    }
    mosquitto_property* props = nullptr;
    if (options_.version == 5)
        for (const auto& h : r.headers) add_user_property(&props, h.name, h.value);
    switch (hand_over(s, topic, r.payload, props, micros_since(created_))) {
    case hand_over_result::handed:
        return send_result::accepted;
    case hand_over_result::kept: // the link broke under this QoS 0 message
        count_failed(1, send_error::client);
        return send_result::rejected;
    case hand_over_result::refused:
        return send_result::rejected;
    }
    return send_result::rejected; // not reached: every result is a case above
}

void mqtt_connector::publish_held(session& s) noexcept {
    while (!s.held.empty() && s.state == connected &&
           s.open < static_cast<std::size_t>(options_.max_inflight)) {
        session::held_message& h = s.held.front();
        mosquitto_property* props = nullptr;
        if (options_.version == 5)
            for (const auto& [name, value] : h.headers) add_user_property(&props, name, value);
        if (hand_over(s, h.topic.c_str(), h.payload, props, h.accepted_us) ==
            hand_over_result::kept)
            return; // still held: the next connection sends it
        s.held.pop_front();
        --held_total_;
    }
    sync_socket(s);
}

void mqtt_connector::serve(session& s, std::uint32_t events) noexcept {
    if (s.fd < 0) return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) mosquitto_loop_read(s.client, 1);
    if ((events & EPOLLOUT) && mosquitto_socket(s.client) >= 0) {
        // A TLS handshake advances on reads whichever way the socket became ready.
        if (options_.tls && s.state == connecting) mosquitto_loop_read(s.client, 1);
        if (mosquitto_socket(s.client) >= 0) mosquitto_loop_write(s.client, 1);
    }
    sync_socket(s);
    if (s.just_connected) {
        s.just_connected = false;
        publish_held(s);
    } else if (!s.held.empty() && s.state == connected) {
        publish_held(s); // acknowledgements opened the window
    }
}

void mqtt_connector::wait_events(std::chrono::milliseconds wait) noexcept {
    std::array<epoll_event, 256> ready;
    const int n = ::epoll_wait(epoll_fd_, ready.data(), static_cast<int>(ready.size()),
                               static_cast<int>(std::max<std::int64_t>(0, wait.count())));
    for (int i = 0; i < n; ++i) serve(*static_cast<session*>(ready[i].data.ptr), ready[i].events);
    // For check() on other threads: a stall is time without acknowledgements while some are due.
    const bool waiting = options_.qos > 0 && open_total_ > 0;
    if (waiting && !waiting_for_ack_.load(std::memory_order_relaxed))
        last_progress_us_.store(micros_since(created_), std::memory_order_relaxed);
    waiting_for_ack_.store(waiting, std::memory_order_relaxed);
    const auto now = clock::now();
    start_connects(now);
    if (now - last_timers_ >= timer_tick) run_timers(now);
}

void mqtt_connector::start_connects(clock::time_point now) noexcept {
    if (connect_queue_.empty()) {
        // No demand: no tokens pile up, so the next ramp starts at connect_rate, not a burst.
        bucket_time_ = now;
        bucket_tokens_ = std::min(bucket_tokens_, 1.0);
        return;
    }
    // New per-device clients in first-message order, and retries, as connect_rate allows.
    while (!connect_queue_.empty() && take_connect_token(now)) {
        session* s = connect_queue_.front();
        connect_queue_.pop_front();
        s->queued_to_connect = false;
        if (s->state == waiting || s->state == backoff) start_connect(*s);
    }
}

void mqtt_connector::run_timers(clock::time_point now) noexcept {
    last_timers_ = now;
    // A slice of the fleet: keepalive, connect deadlines, retries and giving up.
    const std::size_t total = sessions_.size();
    const std::size_t slice =
        std::max<std::size_t>(1, (total + ticks_per_round - 1) / ticks_per_round);
    for (std::size_t k = 0; k < slice && total > 0; ++k) {
        if (misc_cursor_ >= total) misc_cursor_ = 0;
        session& s = *sessions_[misc_cursor_++];
        switch (s.state) {
        case connected:
            mosquitto_loop_misc(s.client); // PINGREQ, and closes a link whose broker went silent
            sync_socket(s);
            break;
        case connecting:
            if (now - s.attempt_started > options_.connect_timeout && s.fd >= 0) {
                last_error_ =
                    "no CONNACK within " + std::to_string(options_.connect_timeout.count()) + " ms";
                ::shutdown(s.fd, SHUT_RDWR); // the next read reports the link closed
                mosquitto_loop_read(s.client, 1);
                sync_socket(s);
            }
            break;
        case backoff:
            if (now - s.down_since >= options_.give_up) {
                give_up(s, last_error_.c_str());
            } else if (now >= s.retry_at && !s.queued_to_connect) {
                s.queued_to_connect = true;
                connect_queue_.push_back(&s);
            }
            break;
        default:
            break;
        }
    }
}

void mqtt_connector::poll(std::chrono::milliseconds wait) noexcept {
    if (closed_) return;
    wait_events(wait);
}

std::uint64_t mqtt_connector::drain(deadline until) noexcept {
    auto pending = [&] { return held_total_ + open_total_; };
    while (pending() > 0 && clock::now() < until) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
        wait_events(std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(10)));
    }
    const std::uint64_t left = pending();
    if (left > 0) {
        spdlog::warn("mqtt: {} messages unacknowledged at the drain deadline (counted failed)",
                     left);
        count_failed(left, send_error::drain_deadline);
        for (auto& s : sessions_) {
            s->held.clear();
            s->ledger.clear();
            s->open = 0;
        }
        held_total_ = 0;
        open_total_ = 0;
    }
    close_all(until);
    closed_ = true;
    return left;
}

void mqtt_connector::close_all(deadline until) noexcept {
    // DISCONNECT goes out at once where the socket takes it; a blocked socket is not waited
    // for (a frozen broker must not hold the exit).
    for (auto& s : sessions_) {
        if (s->state == connected) {
            set_state(*s, closing);
            mosquitto_disconnect(s->client);
        } else if (s->state != given_up) {
            set_state(*s, closing);
        }
    }
    while (clock::now() < until) {
        bool writing = false;
        for (auto& s : sessions_)
            if (mosquitto_socket(s->client) >= 0 && mosquitto_want_write(s->client)) {
                mosquitto_loop_write(s->client, 1);
                writing = writing || mosquitto_want_write(s->client);
            }
        if (!writing) break;
        ::usleep(1000);
    }
    for (auto& s : sessions_) {
        s->fd = -1;
        s->events = 0;
    }
    closed_ = true;
}

health mqtt_connector::check() const {
    if (closed_) return {false, "mqtt: closed"};
    // A frozen broker keeps its TCP links up; what shows is that nothing gets acknowledged.
    constexpr std::int64_t stalled_after_us = 5'000'000;
    const bool waiting_for_ack = waiting_for_ack_.load(std::memory_order_relaxed);
    const std::int64_t silent = micros_since(created_) - last_progress_us_.load();
    if (waiting_for_ack && silent > stalled_after_us)
        return {false, "mqtt: nothing acknowledged by " + options_.host_port + " for " +
                           std::to_string(silent / 1'000'000) + " s"};
    const auto down = fleet_.reconnecting.load() + fleet_.failed.load();
    if (!options_.per_device && down > 0)
        return {false, "mqtt: " + std::to_string(down) + " connection(s) to " + options_.host_port +
                           " down"};
    return {true, "mqtt " + options_.host_port};
}

} // namespace synthfeed
