#include "src/analysis/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "src/analysis/chart_axes.hpp"
#include "src/core/text_escape.hpp"

namespace synthfeed {
namespace {

/// The least and greatest finite value added (lo > hi: none).
struct range {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();

    void add(double v) {
        if (!std::isfinite(v)) return;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
};

double y_of(const plot_spec& spec, double y) {
    if (!spec.log_y) return y;
    return y > 0 ? std::log10(y) : std::numeric_limits<double>::quiet_NaN();
}

constexpr int margin_left = 64, margin_right = 16, margin_top = 28, margin_bottom = 44;

} // namespace

std::string xml_escaped(std::string_view text) {
    return escaped(text, text_context::xml_text);
}

std::string svg_plot(const plot_spec& spec, int width, int height) {
    range xr, yr;
    for (const auto& s : spec.series) // the points drawn: x and y finite
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
            if (std::isfinite(s.x[i]) && std::isfinite(y_of(spec, s.y[i])))
                xr.add(s.x[i]), yr.add(y_of(spec, s.y[i]));
    const value_axis xa = value_axis_for(xr.lo, xr.hi), ya = value_axis_for(yr.lo, yr.hi);
    const double pw = width - margin_left - margin_right, ph = height - margin_top - margin_bottom;
    const auto px = [&](double x) { return margin_left + (x - xa.lo) / (xa.hi - xa.lo) * pw; };
    const auto py = [&](double y) { return margin_top + (ya.hi - y) / (ya.hi - ya.lo) * ph; };

    std::string svg =
        fmt::format("<svg width=\"{0}\" height=\"{1}\" viewBox=\"0 0 "
                    "{0} {1}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"{0}\" "
                    "height=\"{1}\" fill=\"white\"/>\n<text x=\"{2}\" y=\"16\" font-size=\"13\" "
                    "font-weight=\"bold\">{3}</text>\n",
                    width, height, margin_left, xml_escaped(spec.title));
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
                       "stroke=\"#888\"/>\n",
                       margin_left, margin_top, pw, ph);
    for (const double x : xa.ticks)
        svg += fmt::format("<text class=\"x-tick\" x=\"{:.1f}\" y=\"{}\" "
                           "text-anchor=\"middle\">{:.{}f}</text>\n",
                           px(x), height - margin_bottom + 14, x, xa.decimals);
    for (const double y : ya.ticks) // log_y: y is an exponent of 10
        svg += fmt::format("<text class=\"y-tick\" x=\"{}\" y=\"{:.1f}\" "
                           "text-anchor=\"end\">{}{:.{}f}</text>\n",
                           margin_left - 4, py(y) + 4, spec.log_y ? "1e" : "", y, ya.decimals);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                       margin_left + pw / 2, height - 8, xml_escaped(spec.x_label));
    svg += fmt::format("<text x=\"12\" y=\"{:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 "
                       "12 {:.1f})\">{}</text>\n",
                       margin_top + ph / 2, margin_top + ph / 2, xml_escaped(spec.y_label));
    for (std::size_t k = 0; k < spec.series.size(); ++k) {
        const plot_series& s = spec.series[k];
        std::string path;
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            const double y = y_of(spec, s.y[i]);
            if (!std::isfinite(y) || !std::isfinite(s.x[i])) continue;
            if (s.points)
                path +=
                    fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2\"/>", px(s.x[i]), py(y));
            else
                path += fmt::format("{:.1f},{:.1f} ", px(s.x[i]), py(y));
        }
        if (s.points)
            svg += fmt::format("<g fill=\"{}\">{}</g>\n", xml_escaped(s.colour), path);
        else
            svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.2\"{} "
                               "points=\"{}\"/>\n",
                               xml_escaped(s.colour), s.dashed ? " stroke-dasharray=\"4 3\"" : "",
                               path);
        const double ly = margin_top + 14 + 14 * static_cast<double>(k);
        svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"10\" height=\"3\" "
                           "fill=\"{}\"/><text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                           margin_left + pw - 150, ly - 4, xml_escaped(s.colour),
                           margin_left + pw - 136, ly, xml_escaped(s.name));
    }
    return svg + "</svg>\n";
}

} // namespace synthfeed
