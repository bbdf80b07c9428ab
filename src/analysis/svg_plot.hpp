#pragma once
/// A small SVG line and scatter plot writer, for the self-contained HTML of `synthfeed
/// compare`: inline SVG, no JavaScript, no external resource.

#include <string>
#include <string_view>
#include <vector>

namespace synthfeed {

/// One curve: x and y of equal length (extra points of the longer are ignored); `colour` is
/// any SVG colour; `points` draws dots instead of a polyline; `dashed` a dashed line.
struct plot_series {
    std::string name;
    std::string colour;
    std::vector<double> x, y;
    bool points = false;
    bool dashed = false;
};

/// A plot: each axis is value_axis_for (chart_axes.hpp) of the finite values drawn, so round
/// bounds around the data and ticks 1, 2 or 5 × 10^k apart (no data: [0, 1]; a constant:
/// padded around it); a legend. `log_y` plots log10 of y (values <= 0 skipped), ticks labelled
/// "1e<exponent>".
struct plot_spec {
    std::string title, x_label, y_label;
    bool log_y = false;
    std::vector<plot_series> series;
};

/// The plot as one <svg> element `width` x `height` pixels; text is XML-escaped.
std::string svg_plot(const plot_spec& spec, int width = 640, int height = 320);

/// `text` with & < > " ' as XML entities, for SVG and HTML text and attributes.
std::string xml_escaped(std::string_view text);

} // namespace synthfeed
