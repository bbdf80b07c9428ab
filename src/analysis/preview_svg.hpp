#pragma once
/// The preview chart as SVG written by us: no script, no font or image to fetch, the same
/// bytes for the same chart. One panel per field, a line through each column's minimum and
/// maximum, episodes shaded by class and kind with their ids as <title> hover text, RFC 3339
/// times on the time axis and a legend of the episode kinds drawn.

#include <string>
#include <vector>

#include "src/analysis/chart_axes.hpp"
#include "src/analysis/preview_series.hpp"
#include "src/config/kinds.hpp"

namespace synthfeed {

/// An episode to shade.
struct chart_episode {
    sim_time start = 0;
    sim_time end = 0; ///< exclusive; clamped to the axis when drawn
    anomaly_kind kind = anomaly_kind::spike;
    int field = -1; ///< the panel it shades; -1: every panel (it acts on the whole message)
    std::string id; ///< as the episodes stream names it ("reefer-00000:0:3")
};

/// One panel.
struct chart_field {
    std::string name;
    std::vector<std::string> states;   ///< a text field's strings (value i is states[i])
    std::vector<value_column> columns; ///< one per column of the axis
};

/// Everything a preview draws. The axis should have chart_plot_width columns (one a pixel).
struct preview_chart {
    std::string title;
    std::string subtitle;
    time_columns axis;
    std::vector<chart_field> fields;
    std::vector<chart_episode> episodes;
};

/// Pixels across a panel's plot area.
inline constexpr std::size_t chart_plot_width = 1100;

/// A standalone SVG document (XML declaration, xmlns), chart_plot_width + 100 pixels wide.
std::string preview_svg(const preview_chart& c);
/// A self-contained HTML page with the same SVG inline (and a hover style, no script).
std::string preview_html(const preview_chart& c);

/// Episodes as drawn: per panel and kind, episodes whose shading would touch on the pixel grid
/// share one band, so per-message faults over a month cost at most one band per pixel.
struct episode_band {
    double x0 = 0, x1 = 0; ///< in columns from the axis start; x1 >= x0 + 1
    anomaly_kind kind = anomaly_kind::spike;
    sim_time start = 0, end = 0;
    std::vector<const chart_episode*> members; ///< in start order
};
/// The bands of panel `field` (episodes with that field or none), by class, kind, then start.
std::vector<episode_band> episode_bands(const preview_chart& c, int field);

} // namespace synthfeed
