#pragma once
/// A target emission rate over wall time, as cumulative message counts. The pacer lets
/// message k out once floor(∫ rate) > k: integer accounting, so the achieved count matches
/// the target at any rate and duration with no rounding drift.

#include <cstdint>

#include "src/config/profile.hpp"

namespace synthfeed {

class load_schedule {
  public:
    explicit load_schedule(const load_spec& spec) : spec_(spec) {}

    /// Target rate (messages per second) at `seconds` after the start.
    double rate_at(double seconds) const noexcept;
    /// ∫ rate from 0 to `seconds`: messages due by then (before flooring).
    double cumulative(double seconds) const noexcept;
    /// Messages allowed out by `seconds`.
    std::uint64_t allowed(double seconds) const noexcept {
        return static_cast<std::uint64_t>(cumulative(seconds) + 1e-9);
    }
    /// The earliest time at which message `index` (0-based) is due.
    double due_time(std::uint64_t index) const noexcept;

  private:
    load_spec spec_;
};

} // namespace synthfeed
