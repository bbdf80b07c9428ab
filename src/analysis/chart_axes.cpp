#include "src/analysis/chart_axes.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace synthfeed {
namespace {

/// Round steps of the time axis, in ms: each a multiple of a unit a reader counts in.
constexpr std::array<sim_duration, 20> time_steps = {
    1'000,          2'000,           5'000,           10'000,          15'000,           30'000,
    60'000,         120'000,         300'000,         600'000,         900'000,          1'800'000,
    ms_per_hour,    2 * ms_per_hour, 3 * ms_per_hour, 6 * ms_per_hour, 12 * ms_per_hour, ms_per_day,
    2 * ms_per_day, 7 * ms_per_day};

} // namespace

std::vector<sim_time> time_ticks(sim_time start, sim_time end, std::size_t max_ticks) {
    const sim_duration span = std::max<sim_duration>(end - start, 1);
    sim_duration step = 0;
    for (const sim_duration s : time_steps)
        if (span / s < static_cast<sim_duration>(max_ticks)) {
            step = s;
            break;
        }
    if (step == 0) // longer than 6 weeks: whole days
        step = (span / static_cast<sim_duration>(max_ticks) / ms_per_day + 1) * ms_per_day;
    std::vector<sim_time> ticks;
    for (sim_time t = (start + step - 1) / step * step; t <= end; t += step) ticks.push_back(t);
    if (ticks.empty()) ticks.push_back(start); // shorter than a second
    return ticks;
}

std::string axis_time(sim_time t) {
    std::string s = format_timestamp(t); // "YYYY-MM-DDTHH:MM:SS.mmmZ"
    if (t % ms_per_second == 0) s.erase(19, 4);
    return s;
}

value_axis value_axis_for(double lo, double hi) {
    // Beyond ±1e300 a rounded bound could overflow to infinity and the ticks never end.
    if (!(lo <= hi) || !(std::abs(lo) < 1e300 && std::abs(hi) < 1e300)) lo = 0, hi = 1;
    if (hi - lo < 1e-9 * std::max(1.0, std::abs(lo))) { // a flat line sits mid-panel
        const double pad = std::max(0.5, std::abs(lo) * 0.05);
        lo -= pad, hi += pad;
    }
    const double raw = (hi - lo) / 4;
    const double unit = std::pow(10, std::floor(std::log10(raw)));
    double step = 10 * unit;
    for (const double m : {1.0, 2.0, 5.0})
        if (m * unit >= raw) {
            step = m * unit;
            break;
        }
    value_axis a;
    a.lo = std::floor(lo / step) * step;
    a.hi = std::ceil(hi / step) * step;
    for (double v = a.lo; v <= a.hi + step / 2; v += step)
        a.ticks.push_back(std::abs(v) < step / 1e6 ? 0 : v); // no "-0.0"
    a.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    return a;
}

} // namespace synthfeed
