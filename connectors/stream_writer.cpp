#include "connectors/stream_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

namespace synthfeed {
namespace {
constexpr std::size_t flush_threshold = 1 << 20;
}

stream_writer::stream_writer(int fd, bool owns_fd, std::string description)
    : fd_(fd), owns_fd_(owns_fd), description_(std::move(description)) {
    // Only pipes and sockets can block for good (a reader that stops reading); a terminal
    // is shared with the shell, which must not be left non-blocking.
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
        saved_flags_ = ::fcntl(fd_, F_GETFL);
        if (saved_flags_ >= 0 && ::fcntl(fd_, F_SETFL, saved_flags_ | O_NONBLOCK) == 0)
            nonblocking_ = true;
    }
}

stream_writer::~stream_writer() {
    // drain() ran: at most a blocked remainder is left, already counted as failed.
    if (write_some() == flushed::blocked)
        fail_unwritten(send_error::drain_deadline, "the reader is not reading");
    if (nonblocking_) ::fcntl(fd_, F_SETFL, saved_flags_);
    if (owns_fd_) ::close(fd_);
}

stream_writer::flushed stream_writer::write_some() noexcept {
    last_flush_ = std::chrono::steady_clock::now();
    while (written_ < buffer_.size() && error_ == 0) {
        const ssize_t n = ::write(fd_, buffer_.data() + written_, buffer_.size() - written_);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                count_written();
                return flushed::blocked;
            }
            error_ = errno;
            // Once: every later message of this output fails too, and is counted as failed.
            spdlog::error("{}: write failed: {}; its messages count as failed from here on",
                          description_, std::strerror(error_));
            break;
        }
        written_ += static_cast<std::size_t>(n);
    }
    if (error_ != 0) {
        count_written(); // a message whose bytes all went out before the error is delivered
        fail_unwritten(send_error::io, std::strerror(error_));
        return flushed::failed;
    }
    count_written();
    buffer_.clear();
    ends_.clear();
    written_ = counted_ = message_start_ = 0;
    return flushed::all;
}

void stream_writer::count_written() noexcept {
    if (written_ == 0) return;
    const auto first = ends_.begin() + static_cast<std::ptrdiff_t>(counted_);
    // ends_ is sorted: the messages whose newline is written are done.
    const auto done = std::upper_bound(first, ends_.end(), written_ - 1);
    const auto n = static_cast<std::size_t>(done - first);
    if (n == 0) return;
    const std::size_t end = *(done - 1) + 1;
    count_delivered(n, end - message_start_ - n); // payload bytes, without the newlines
    latency_.observe_n(std::chrono::duration<double>(last_flush_ - oldest_send_).count(), n);
    counted_ += n;
    message_start_ = end;
    oldest_send_ = last_flush_; // the rest were sent after the oldest; a bound, not exact
}

void stream_writer::fail_unwritten(send_error why, std::string_view cause) noexcept {
    const std::size_t left = ends_.size() - counted_;
    if (left > 0) count_failed(left, why, cause);
    buffer_.clear();
    ends_.clear();
    written_ = counted_ = message_start_ = 0;
}

send_result stream_writer::send(const record& r) noexcept {
    if (error_ != 0) {
        count_failed(1, send_error::io, std::strerror(error_));
        return send_result::rejected;
    }
    if (buffer_.size() >= flush_threshold) {
        const flushed f = write_some();
        if (f == flushed::blocked) return send_result::queue_full; // nothing counted yet
        if (f == flushed::failed) {
            count_failed(1, send_error::io);
            return send_result::rejected;
        }
    }
    if (counted_ == ends_.size()) oldest_send_ = std::chrono::steady_clock::now();
    char* p = buffer_.reserve(r.payload.size() + 1);
    std::memcpy(p, r.payload.data(), r.payload.size());
    p[r.payload.size()] = '\n';
    buffer_.commit(r.payload.size() + 1);
    ends_.push_back(buffer_.size() - 1);
    return send_result::accepted;
}

void stream_writer::write_preamble(std::string_view text) noexcept {
    if (text.empty()) return;
    buffer_.append(text);
    buffer_.push_back('\n');
    message_start_ = buffer_.size();
}

void stream_writer::wait_writable(std::chrono::milliseconds wait) const noexcept {
    pollfd p{fd_, POLLOUT, 0};
    ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, wait.count())));
}

void stream_writer::poll(std::chrono::milliseconds wait) noexcept {
    const bool behind = written_ > 0 || buffer_.size() >= flush_threshold;
    if (nonblocking_ && behind) {
        wait_writable(wait);
        write_some();
        return;
    }
    if (!buffer_.empty() &&
        std::chrono::steady_clock::now() - last_flush_ >= std::chrono::milliseconds(200))
        write_some();
    if (wait.count() > 0) std::this_thread::sleep_for(wait); // nothing else to serve
}

std::uint64_t stream_writer::drain(deadline until) noexcept {
    for (;;) {
        if (write_some() != flushed::blocked) return 0; // a failed write counted its messages
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        wait_writable(std::min(left, std::chrono::milliseconds(100)));
    }
    const std::uint64_t left = ends_.size() - counted_;
    fail_unwritten(send_error::drain_deadline,
                   "still unwritten at the drain deadline: the reader is not reading");
    return left;
}

health stream_writer::check() const {
    if (error_ != 0) return {false, description_ + ": " + std::strerror(error_)};
    return {true, description_};
}

} // namespace synthfeed
