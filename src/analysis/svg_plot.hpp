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

/// A plot: axes fitted to the data (non-finite values skipped), four ticks an axis, a legend.
/// `log_y` plots log10 of y (values <= 0 skipped).
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
