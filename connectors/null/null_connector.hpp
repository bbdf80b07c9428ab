#pragma once
/// `null:` discards every message and counts it delivered: measures generation alone.

#include <thread>

#include "connectors/connector.hpp"

namespace synthfeed {

class null_connector final : public connector {
  public:
    send_result send(const record& r) noexcept override {
        count_delivered(1, r.payload.size());
        return send_result::accepted;
    }
    /// Nothing to serve: waits, so an idle engine does not spin.
    void poll(std::chrono::milliseconds wait) noexcept override {
        if (wait.count() > 0) std::this_thread::sleep_for(wait);
    }
    std::uint64_t drain(deadline) noexcept override { return 0; }
    health check() const override { return {true, "null"}; }
    std::string_view name() const noexcept override { return "null"; }
};

} // namespace synthfeed
