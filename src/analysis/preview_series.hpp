#pragma once
/// One device's generated values reduced for drawing: the time range is cut into columns (one
/// per pixel of a chart) and each keeps the minimum and maximum of every field over its ticks,
/// so a 30-day series at 1 s costs the same memory and file size as a 1-hour one.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "devices/group_model.hpp"
#include "src/core/time.hpp"

namespace synthfeed {

/// The time axis of a chart: [start, end) cut into `count` columns of equal width.
struct time_columns {
    sim_time start = 0;
    sim_time end = 1; ///< > start
    std::size_t count = 1;

    /// The column holding `t`, clamped to [0, count).
    std::size_t column_of(sim_time t) const noexcept;
    /// The position of `t` in columns (0 at start, count at end), not clamped.
    double position_of(sim_time t) const noexcept;
};

/// One field over one column. Empty (min > max) when no emitted tick falls in it.
struct value_column {
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    bool silenced = false; ///< a tick in it was not emitted (a dropout or dropped message)

    bool has_values() const noexcept { return min <= max; }
};

/// The least and greatest value over columns (nullopt-like: lo > hi when all are empty).
struct value_range {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
};
value_range range_of(const std::vector<value_column>& columns) noexcept;

/// The output group_model::advance writes to: min/max columns per field and every episode that
/// starts. Ticks outside the axis are clamped into its first or last column.
class series_collector {
  public:
    series_collector(std::size_t field_count, time_columns axis);

    void on_tick(const tick_view& t);
    void on_episode(const episode_view& e) { episodes_.push_back(e); }

    const time_columns& axis() const noexcept { return axis_; }
    /// Field `f`'s columns (axis().count of them).
    const std::vector<value_column>& field(std::size_t f) const noexcept { return fields_[f]; }
    std::vector<value_column> take_field(std::size_t f) { return std::move(fields_[f]); }
    const std::vector<episode_view>& episodes() const noexcept { return episodes_; }
    std::uint64_t ticks() const noexcept { return ticks_; }

  private:
    time_columns axis_;
    std::vector<std::vector<value_column>> fields_;
    std::vector<episode_view> episodes_;
    std::uint64_t ticks_ = 0;
};

} // namespace synthfeed
