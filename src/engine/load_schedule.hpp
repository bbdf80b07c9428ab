#pragma once
/// A target emission rate over wall time, as cumulative message counts. Message k (0-based)
/// is due once ∫ rate reaches k: integer accounting, so the count due in [0, T) is exactly
/// ∫₀ᵀ rate when that is whole (20,000 msg/s for 1.5 s: 30,000), at any rate and duration,
/// with no rounding drift; the first message is due at once, as in k6 and
/// kafka-producer-perf-test.

#include <cmath>
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
    /// Messages due before `seconds`: ⌈∫ rate⌉ (less a hair, so that float noise on a whole
    /// count does not add one).
    std::uint64_t allowed(double seconds) const noexcept {
        const double c = std::ceil(cumulative(seconds) - 1e-6);
        return c > 0 ? static_cast<std::uint64_t>(c) : 0;
    }
    /// The highest rate the shape reaches (messages per second).
    double peak_rate() const noexcept;
    /// The earliest time at which message `index` (0-based) is due.
    double due_time(std::uint64_t index) const noexcept;

  private:
    load_spec spec_;
};

} // namespace synthfeed
