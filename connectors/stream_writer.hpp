#pragma once
/// Newline-framed, buffered writing of messages to a file descriptor, shared by the file and
/// stdout connectors. Messages count as delivered when write(2) has taken their bytes.

#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/connector.hpp"
#include "src/core/byte_buffer.hpp"

namespace synthfeed {

class stream_writer : public connector {
  public:
    /// Takes ownership of `fd` when `owns_fd`.
    stream_writer(int fd, bool owns_fd, std::string description);
    ~stream_writer() override;

    send_result send(const record& r) noexcept override;
    /// Flushes a buffer older than 200 ms, so live runs reach a tailing reader promptly.
    void poll(std::chrono::milliseconds) noexcept override;
    std::uint64_t drain(deadline until) noexcept override;
    health check() const override;
    void write_preamble(std::string_view text) noexcept override;

  private:
    bool flush() noexcept;

    int fd_;
    bool owns_fd_;
    std::string description_;
    byte_buffer buffer_;
    std::uint64_t pending_messages_ = 0;
    std::uint64_t pending_bytes_ = 0;
    std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
    int error_ = 0; ///< errno of the first failed write; later sends are rejected
};

} // namespace synthfeed
