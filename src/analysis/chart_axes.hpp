#pragma once
/// The axes of synthfeed's charts, shared by the preview (preview_svg.hpp) and the compare
/// plots (svg_plot.hpp): round value bounds with ticks 1, 2 or 5 × 10^k apart, and time ticks
/// on round UTC steps labelled in RFC 3339.

#include <cstddef>
#include <string>
#include <vector>

#include "src/core/time.hpp"

namespace synthfeed {

/// A value axis: bounds [lo, hi] rounded out to multiples of the tick step, and the ticks from
/// lo to hi inclusive, one step apart (the step being 1, 2 or 5 × 10^k, in the data's units).
struct value_axis {
    double lo = 0, hi = 1;     ///< lo < hi, both multiples of the step
    std::vector<double> ticks; ///< ascending, lo first and hi last; 0 exactly, never -0
    int decimals = 0;          ///< digits after the point that print every tick exactly ("%.*f")
};
/// The axis for data in [lo, hi], the data spanning at most four steps (so 3 to 6 ticks).
/// lo > hi means no data: the axis is [0, 1], as it is for a NaN bound or one beyond ±1e300.
/// lo == hi (a flat line, or one within 1e-9 relative) is padded by max(0.5, 5 % of |lo|) on
/// each side, so that the line sits mid-axis.
value_axis value_axis_for(double lo, double hi);

/// Instants (ms since the Unix epoch, UTC) of time-axis labels in [start, end]: multiples of a
/// round UTC step (1 s to days) chosen so that there are at most `max_ticks` (>= 1), and at
/// least one: `start` itself when no multiple falls in the range (one under a second, say, or
/// end < start).
std::vector<sim_time> time_ticks(sim_time start, sim_time end, std::size_t max_ticks);
/// A time-axis label: RFC 3339 in UTC, to the second when whole ("2026-01-01T06:00:00Z"), else
/// to the millisecond ("2026-01-01T00:00:00.250Z").
std::string axis_time(sim_time t);

} // namespace synthfeed
