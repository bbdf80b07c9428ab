#include "src/analysis/preview_series.hpp"

#include <algorithm>

namespace synthfeed {

std::size_t time_columns::column_of(sim_time t) const noexcept {
    if (t <= start) return 0;
    if (t >= end) return count - 1;
    // In doubles: a span of centuries in ms times a few thousand columns overflows 64 bits,
    // and a column is far wider than the rounding.
    return std::min(count - 1, static_cast<std::size_t>(position_of(t)));
}

double time_columns::position_of(sim_time t) const noexcept {
    return static_cast<double>(t - start) / static_cast<double>(end - start) *
           static_cast<double>(count);
}

value_range range_of(const std::vector<value_column>& columns) noexcept {
    value_range r;
    for (const value_column& c : columns)
        if (c.has_values()) r.lo = std::min(r.lo, c.min), r.hi = std::max(r.hi, c.max);
    return r;
}

series_collector::series_collector(std::size_t field_count, time_columns axis)
    : axis_(axis), fields_(field_count, std::vector<value_column>(axis.count)) {}

void series_collector::on_tick(const tick_view& t) {
    ++ticks_;
    const std::size_t c = axis_.column_of(t.ts);
    for (std::size_t f = 0; f < fields_.size(); ++f) {
        value_column& col = fields_[f][c];
        if (!t.emitted) {
            col.silenced = true;
            continue;
        }
        col.min = std::min(col.min, t.values[f]);
        col.max = std::max(col.max, t.values[f]);
    }
}

} // namespace synthfeed
