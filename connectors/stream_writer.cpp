#include "connectors/stream_writer.hpp"

#include <thread>

#include <cerrno>

#include <cstring>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace synthfeed {
namespace {
constexpr std::size_t flush_threshold = 1 << 20;
}

stream_writer::stream_writer(int fd, bool owns_fd, std::string description)
    : fd_(fd), owns_fd_(owns_fd), description_(std::move(description)) {}

stream_writer::~stream_writer() {
    flush();
    if (owns_fd_) ::close(fd_);
}

bool stream_writer::flush() noexcept {
    last_flush_ = std::chrono::steady_clock::now();
    const char* p = buffer_.data();
    std::size_t left = buffer_.size();
    while (left > 0 && error_ == 0) {
        const ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            error_ = errno;
            // Once: every later message of this output fails too, and is counted as failed.
            spdlog::error("{}: write failed: {}; its messages count as failed from here on",
                          description_, std::strerror(error_));
            break;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (error_ == 0)
        count_delivered(pending_messages_, pending_bytes_);
    else
        count_failed(pending_messages_, send_error::io);
    buffer_.clear();
    pending_messages_ = pending_bytes_ = 0;
    return error_ == 0;
}

send_result stream_writer::send(const record& r) noexcept {
    if (error_ != 0) {
        count_failed(1, send_error::io);
        return send_result::rejected;
    }
    char* p = buffer_.reserve(r.payload.size() + 1);
    std::memcpy(p, r.payload.data(), r.payload.size());
    p[r.payload.size()] = '\n';
    buffer_.commit(r.payload.size() + 1);
    ++pending_messages_;
    pending_bytes_ += r.payload.size();
    if (buffer_.size() >= flush_threshold) flush();
    return send_result::accepted;
}

void stream_writer::write_preamble(std::string_view text) noexcept {
    if (text.empty()) return;
    buffer_.append(text);
    buffer_.push_back('\n');
}

void stream_writer::poll(std::chrono::milliseconds wait) noexcept {
    if (!buffer_.empty() &&
        std::chrono::steady_clock::now() - last_flush_ >= std::chrono::milliseconds(200))
        flush();
    if (wait.count() > 0) std::this_thread::sleep_for(wait); // nothing else to serve
}

std::uint64_t stream_writer::drain(deadline) noexcept {
    flush();
    return 0; // a failed flush has already counted its messages as failed
}

health stream_writer::check() const {
    if (error_ != 0) return {false, description_ + ": " + std::strerror(error_)};
    return {true, description_};
}

} // namespace synthfeed
