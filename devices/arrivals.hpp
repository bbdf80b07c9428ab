#pragma once
/// Poisson arrivals with a daily and weekly rhythm (event sensors, card transactions), drawn
/// by thinning so the mean rate holds whatever the rhythm.

#include <algorithm>
#include <cstdint>

#include "src/config/profile.hpp"
#include "src/core/rng.hpp"

namespace synthfeed {

/// Where `ts` falls in the day, in turns from `peak` (0 at the peak).
inline double day_turns(sim_time ts, sim_duration peak) noexcept {
    return static_cast<double>(((ts - peak) % ms_per_day + ms_per_day) % ms_per_day) /
           static_cast<double>(ms_per_day);
}

/// 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday).
inline int day_of_week(sim_time ts) noexcept {
    std::int64_t days = ts / ms_per_day;
    if (ts < 0 && ts % ms_per_day) --days;
    return static_cast<int>(((days + 4) % 7 + 7) % 7);
}

/// Arrivals per millisecond at `ts`; averages to a.rate_per_ms over a week.
inline double seasonal_rate(const arrival_spec& a, sim_time ts) noexcept {
    const int dow = day_of_week(ts);
    const double week = (dow == 0 || dow == 6 ? a.weekend : 1.0) * 7 / (5 + 2 * a.weekend);
    return a.rate_per_ms * (1 + a.daily_amplitude * cos_turns(day_turns(ts, a.daily_peak))) * week;
}

/// The highest seasonal_rate (the daily peak on the busier kind of day).
inline double peak_rate(const arrival_spec& a) noexcept {
    return a.rate_per_ms * (1 + a.daily_amplitude) * std::max(1.0, a.weekend) * 7 /
           (5 + 2 * a.weekend);
}

/// The next arrival after `ts` of a process with intensity `rate(t)` <= `peak` (Lewis and
/// Shedler's thinning: candidates at the peak rate, each kept with odds rate / peak). Draws
/// come from `draws`, so the result is a pure function of the device key and tick.
template <class Rate>
sim_time next_arrival(const rng_stream& draws, sim_time ts, double peak, Rate rate) noexcept {
    double t = static_cast<double>(ts);
    for (std::uint64_t j = 0; j < 10'000; ++j) {
        t += std::max(1.0, draws.exponential(2 * j) / peak);
        if (draws.uniform(2 * j + 1) * peak < rate(static_cast<sim_time>(t))) break;
    }
    return static_cast<sim_time>(std::min(t, 4e18));
}

} // namespace synthfeed
