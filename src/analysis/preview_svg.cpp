#include "src/analysis/preview_svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <tuple>

#include <fmt/format.h>

#include "src/core/text_escape.hpp"

namespace synthfeed {
namespace {

// Layout, in pixels. The plot area starts at plot_left; each column is one pixel.
constexpr double plot_left = 80;
constexpr double chart_width = plot_left + chart_plot_width + 20;
constexpr double plot_top = 20;     ///< below the panel's title
constexpr double plot_height = 130; ///< the panel's plot area
constexpr double panel_height = plot_top + plot_height + 30;
constexpr double legend_row = 18;
constexpr double char_width = 7; ///< about, at 12px sans-serif: for wrapping the legend
constexpr std::size_t max_time_ticks = 6;
constexpr std::size_t max_ids_in_title = 8;
constexpr double band_min_width = 2;        ///< a one-tick spike stays visible
constexpr std::size_t max_state_chars = 10; ///< of a text field's value labels, left of a panel

std::string xml(std::string_view text) {
    return escaped(text, text_context::xml_text);
}

/// Position of kind `k` among the kinds of its class (0 for the first).
std::size_t ordinal_in_class(anomaly_kind k) {
    std::size_t n = 0;
    for (const auto& row : anomaly_kinds) {
        if (row.kind == k) break;
        n += row.label_class == class_of(k);
    }
    return n;
}

/// A colour per kind: a hue family per class (value red–orange, transport violet, fraud blue,
/// drift green, regime amber) and a step of hue and lightness per kind within it.
std::string kind_color(anomaly_kind k) {
    static constexpr std::array<double, anomaly_class_names.size()> class_hue = {0, 265, 195, 120,
                                                                                 45};
    const auto o = static_cast<double>(ordinal_in_class(k));
    const double h = class_hue[static_cast<std::size_t>(class_of(k))] + 8 * o;
    const double s = 0.7, l = 0.38 + 0.1 * std::fmod(o, 3);
    // HSL to RGB (CSS Color 4, §7.1), as hex: librsvg and every browser read it.
    auto channel = [&](double n) {
        const double kk = std::fmod(n + h / 30, 12);
        const double v =
            l - s * std::min(l, 1 - l) * std::max(-1.0, std::min({kk - 3, 9 - kk, 1.0}));
        return static_cast<int>(std::lround(v * 255));
    };
    return fmt::format("#{:02x}{:02x}{:02x}", channel(0), channel(8), channel(4));
}

/// A text value cut to max_state_chars bytes, on a UTF-8 character boundary.
std::string shortened(const std::string& text) {
    std::size_t n = std::min(text.size(), max_state_chars);
    while (n < text.size() && n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    return text.substr(0, n);
}

double y_of(double v, const value_axis& a) {
    return plot_top + plot_height - (v - a.lo) / (a.hi - a.lo) * plot_height;
}

/// The series: one vertical stroke per column through its min and max, joined column to
/// column, broken where the device was silent.
void append_series(std::string& out, const chart_field& f, const value_axis& a) {
    out += "<path class=\"series\" fill=\"none\" stroke=\"#1f3a5f\" stroke-width=\"1\" d=\"";
    bool pen_down = false;
    for (std::size_t i = 0; i < f.columns.size(); ++i) {
        const value_column& c = f.columns[i];
        if (!c.has_values()) {
            pen_down &= !c.silenced;
            continue;
        }
        const double x = plot_left + static_cast<double>(i) + 0.5;
        fmt::format_to(std::back_inserter(out), "{}{:.1f} {:.1f}", pen_down ? "L" : "M", x,
                       y_of(c.min, a));
        if (c.max > c.min)
            fmt::format_to(std::back_inserter(out), "L{:.1f} {:.1f}", x, y_of(c.max, a));
        pen_down = true;
    }
    out += "\"/>\n";
}

std::string band_title(const episode_band& b) {
    std::string t = fmt::format("{} ({}): ", to_string(b.kind), to_string(class_of(b.kind)));
    if (b.members.size() > 1) t += fmt::format("{} episodes, ", b.members.size());
    t += axis_time(b.start) + " to " + axis_time(b.end) + "\n";
    for (std::size_t i = 0; i < b.members.size() && i < max_ids_in_title; ++i)
        t += (i ? ", " : "") + b.members[i]->id;
    if (b.members.size() > max_ids_in_title)
        t += fmt::format(", … and {} more", b.members.size() - max_ids_in_title);
    return xml(t);
}

void append_bands(std::string& out, const preview_chart& c, int field) {
    for (const episode_band& b : episode_bands(c, field)) {
        // The ids the title shows, for tools reading the page; the count says if there are more.
        std::string ids;
        for (std::size_t i = 0; i < b.members.size() && i < max_ids_in_title; ++i)
            ids += (i ? " " : "") + b.members[i]->id;
        fmt::format_to(std::back_inserter(out),
                       "<rect class=\"episode\" data-class=\"{}\" data-kind=\"{}\" "
                       "data-episodes=\"{}\" data-count=\"{}\" x=\"{:.1f}\" y=\"{}\" "
                       "width=\"{:.1f}\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.3\">"
                       "<title>{}</title></rect>\n",
                       to_string(class_of(b.kind)), to_string(b.kind), xml(ids), b.members.size(),
                       plot_left + b.x0, plot_top, b.x1 - b.x0, plot_height, kind_color(b.kind),
                       band_title(b));
    }
}

void append_value_axis(std::string& out, const chart_field& f, const value_axis& a) {
    for (const double v : a.ticks) {
        const double y = y_of(v, a);
        const auto state = static_cast<std::size_t>(std::lround(v));
        // A text field's values index its strings: only whole ones name one.
        if (!f.states.empty() && (state >= f.states.size() || std::abs(v - std::round(v)) > 1e-9))
            continue;
        const std::string label =
            f.states.empty() ? fmt::format("{:.{}f}", v, a.decimals) : shortened(f.states[state]);
        fmt::format_to(std::back_inserter(out),
                       "<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e3e3e3\"/>"
                       "<text class=\"value-label\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}"
                       "</text>\n",
                       plot_left, plot_left + chart_plot_width, y, y, plot_left - 6, y + 4,
                       xml(label));
    }
}

void append_time_axis(std::string& out, const time_columns& axis) {
    const double base = plot_top + plot_height;
    for (const sim_time t : time_ticks(axis.start, axis.end, max_time_ticks)) {
        const double x = plot_left + axis.position_of(t);
        // A label at either end would run off the chart: it starts or ends at its tick.
        const char* anchor = x < plot_left + 80                      ? "start"
                             : x > plot_left + chart_plot_width - 80 ? "end"
                                                                     : "middle";
        fmt::format_to(std::back_inserter(out),
                       "<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\" stroke=\"#888\"/>"
                       "<text class=\"time-label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"{}\">{}"
                       "</text>\n",
                       x, x, base, base + 5, x, base + 18, anchor, axis_time(t));
    }
}

void append_panel(std::string& out, const preview_chart& c, std::size_t f, double top) {
    const chart_field& field = c.fields[f];
    const value_range r = range_of(field.columns);
    const value_axis a = field.states.empty()
                             ? value_axis_for(r.lo, r.hi)
                             : value_axis_for(0, static_cast<double>(field.states.size() - 1));
    fmt::format_to(std::back_inserter(out),
                   "<g class=\"panel\" data-field=\"{0}\" transform=\"translate(0,{1})\">\n"
                   "<text class=\"panel-title\" x=\"{2}\" y=\"13\">{0}</text>\n"
                   "<rect class=\"plot-area\" x=\"{2}\" y=\"{3}\" width=\"{4}\" height=\"{5}\" "
                   "fill=\"#fcfcfc\" stroke=\"#bbb\"/>\n",
                   xml(field.name), top, plot_left, plot_top, chart_plot_width, plot_height);
    append_value_axis(out, field, a);
    append_bands(out, c, static_cast<int>(f));
    append_series(out, field, a);
    append_time_axis(out, c.axis);
    out += "</g>\n";
}

/// The legend: each class with episodes, then a swatch per kind drawn. Returns its height.
double append_legend(std::string& out, const preview_chart& c, double top) {
    std::vector<bool> drawn(anomaly_kind_count);
    for (const chart_episode& e : c.episodes) drawn[static_cast<std::size_t>(e.kind)] = true;
    out += "<g class=\"legend\">\n";
    double x = plot_left, y = top;
    auto place = [&](double width) {
        if (x + width > chart_width - 10) x = plot_left, y += legend_row;
        const double at = x;
        x += width;
        return at;
    };
    bool any = false;
    for (std::size_t cls = 0; cls < anomaly_class_names.size(); ++cls) {
        bool first = true;
        for (const auto& row : anomaly_kinds) {
            if (!drawn[static_cast<std::size_t>(row.kind)] ||
                static_cast<std::size_t>(row.label_class) != cls)
                continue;
            if (first)
                fmt::format_to(std::back_inserter(out),
                               "<text class=\"legend-class\" x=\"{}\" y=\"{}\" "
                               "font-weight=\"bold\">{}:</text>\n",
                               place(char_width * (anomaly_class_names[cls].size() + 2)), y + 10,
                               anomaly_class_names[cls]);
            first = false, any = true;
            const double at = place(char_width * (row.name.size() + 1) + 18);
            fmt::format_to(std::back_inserter(out),
                           "<g class=\"legend-kind\" data-kind=\"{0}\"><rect x=\"{1}\" y=\"{2}\" "
                           "width=\"12\" height=\"12\" fill=\"{3}\" fill-opacity=\"0.6\"/>"
                           "<text x=\"{4}\" y=\"{5}\">{0}</text></g>\n",
                           row.name, at, y, kind_color(row.kind), at + 16, y + 10);
        }
        x += first ? 0 : 12;
    }
    if (!any)
        fmt::format_to(std::back_inserter(out), "<text x=\"{}\" y=\"{}\">{}</text>\n", plot_left,
                       y + 10, "no episodes in this range");
    out += "</g>\n";
    return y - top + legend_row;
}

std::string svg_body(const preview_chart& c) {
    std::string body;
    fmt::format_to(std::back_inserter(body),
                   "<text class=\"title\" x=\"{0}\" y=\"22\" font-size=\"16\" "
                   "font-weight=\"bold\">{1}</text>\n"
                   "<text class=\"subtitle\" x=\"{0}\" y=\"42\">{2}</text>\n",
                   plot_left, xml(c.title), xml(c.subtitle));
    const double panels_top = 56 + append_legend(body, c, 56) + 8;
    for (std::size_t f = 0; f < c.fields.size(); ++f)
        append_panel(body, c, f, panels_top + static_cast<double>(f) * panel_height);
    const double height = panels_top + static_cast<double>(c.fields.size()) * panel_height;
    return fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                       "viewBox=\"0 0 {0} {1}\" font-family=\"DejaVu Sans, sans-serif\" "
                       "font-size=\"12\">\n<title>{2}</title>\n"
                       "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n{3}</svg>\n",
                       chart_width, height, xml(c.title), body);
}

} // namespace

std::string preview_svg(const preview_chart& c) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg_body(c);
}

std::string preview_html(const preview_chart& c) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
           xml(c.title) +
           "</title>\n<style>\nbody { margin: 16px; background: #fff; }\n"
           "svg .episode:hover { fill-opacity: 0.6; }\n</style>\n</head>\n<body>\n" +
           svg_body(c) + "</body>\n</html>\n";
}

std::vector<episode_band> episode_bands(const preview_chart& c, int field) {
    std::vector<const chart_episode*> shown;
    for (const chart_episode& e : c.episodes)
        if ((e.field < 0 || e.field == field) && e.start < c.axis.end) shown.push_back(&e);
    std::stable_sort(shown.begin(), shown.end(), [](const auto* a, const auto* b) {
        return std::tuple(class_of(a->kind), a->kind, a->start) <
               std::tuple(class_of(b->kind), b->kind, b->start);
    });
    std::vector<episode_band> bands;
    for (const chart_episode* e : shown) {
        const double x0 = std::max(0.0, c.axis.position_of(e->start));
        const double x1 =
            std::max(x0 + band_min_width, c.axis.position_of(std::min(e->end, c.axis.end)));
        if (!bands.empty() && bands.back().kind == e->kind && x0 <= bands.back().x1 + 1) {
            episode_band& b = bands.back();
            b.x1 = std::max(b.x1, x1);
            b.end = std::max(b.end, e->end);
            b.members.push_back(e);
            continue;
        }
        bands.push_back({x0, x1, e->kind, e->start, e->end, {e}});
    }
    for (episode_band& b : bands) b.x1 = std::min(b.x1, static_cast<double>(c.axis.count));
    return bands;
}

} // namespace synthfeed
