#pragma once
/// Newline-framed, buffered writing of messages to a file descriptor, shared by the file and
/// stdout connectors. Messages count as delivered when write(2) has taken their bytes.
///
/// A pipe or socket is written without blocking (O_NONBLOCK, restored at the end): when its
/// reader stops reading, the buffer fills, send() answers queue_full (back-pressure the
/// engine waits on and can give up on at the drain deadline), and drain() stops at its
/// deadline, counting what was not written as failed. A regular file is written with
/// blocking writes; a stalled file system can still hold a write (see README, limits).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.hpp"
#include "src/core/byte_buffer.hpp"

namespace synthfeed {

class stream_writer : public connector {
  public:
    /// Takes ownership of `fd` when `owns_fd`.
    stream_writer(int fd, bool owns_fd, std::string description);
    ~stream_writer() override;

    /// queue_full once 1 MiB waits for a reader that does not read.
    send_result send(const record& r) noexcept override;
    /// Writes what the descriptor takes, and a buffer older than 200 ms, so live runs reach a
    /// tailing reader promptly; waits up to `wait` for a blocked reader.
    void poll(std::chrono::milliseconds wait) noexcept override;
    std::uint64_t drain(deadline until) noexcept override;
    health check() const override;
    void write_preamble(std::string_view text) noexcept override;

  private:
    enum class flushed { all, blocked, failed };
    /// Writes as much of the buffer as the descriptor takes now.
    flushed write_some() noexcept;
    /// Counts the messages whose bytes are all written as delivered.
    void count_written() noexcept;
    void fail_unwritten(send_error why, std::string_view cause) noexcept;
    /// Waits up to `wait` for the descriptor to take bytes.
    void wait_writable(std::chrono::milliseconds wait) const noexcept;

    int fd_;
    bool owns_fd_;
    bool nonblocking_ = false;
    int saved_flags_ = -1; ///< fcntl flags to restore when O_NONBLOCK was added
    std::string description_;
    byte_buffer buffer_;
    std::size_t written_ = 0;       ///< bytes of buffer_ written
    std::vector<std::size_t> ends_; ///< end offset in buffer_ of each message (its newline)
    std::size_t counted_ = 0;       ///< messages of ends_ counted delivered
    std::size_t message_start_ = 0; ///< where the first uncounted message starts
    std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point oldest_send_{}; ///< of the first uncounted message
    int error_ = 0; ///< errno of the first failed write; later sends are rejected
};

} // namespace synthfeed
