#pragma once
/// `synthfeed preview`: one device of a profile generated in-process over a span of simulated
/// time, exactly as `run` generates it from the same start, drawn as a chart (preview_svg.hpp)
/// and written as HTML, SVG or PNG.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "devices/group_model.hpp"
#include "src/analysis/preview_svg.hpp"
#include "src/config/profile.hpp"

namespace synthfeed {

/// Which device, over which span.
struct preview_request {
    std::uint32_t group = 0;
    std::uint32_t local = 0; ///< the device's index in its group
    sim_time start = 0;      ///< the run start the device is generated from
    sim_duration duration = 3 * ms_per_day;
};

/// The device `device` names (an id), else the first of group `group` (a name), else the
/// first device of the first group; start and duration left as defaulted. Throws config_error
/// at --device or --group for one the profile lacks, with the closest name.
preview_request select_device(const profile& p, const device_directory& ids,
                              std::string_view device, std::string_view group);

/// Generates the request's device over [start, start + duration) and reduces it to
/// chart_plot_width columns per field, with every episode that starts in the span.
preview_chart make_preview(const profile& p, const device_directory& ids, const preview_request& r);

enum class preview_format { html, svg, png };
inline constexpr vocabulary preview_formats{std::array{
    kind_row<preview_format>{preview_format::html, "html", "", "a self-contained page"},
    kind_row<preview_format>{preview_format::svg, "svg", "", "the same panels as one SVG"},
    kind_row<preview_format>{preview_format::png, "png", "", "the SVG rasterised by rsvg-convert"},
}};
static_assert(preview_formats.in_enum_order());

/// The format a path's extension names (.html, .svg, .png; any case), or nullopt.
std::optional<preview_format> preview_format_of(const std::string& path);

/// The program that rasterises SVG to PNG (Debian package librsvg2-bin).
inline constexpr std::string_view png_rasteriser = "rsvg-convert";

/// The full path of program `name` on PATH, or nullopt.
std::optional<std::string> find_program(std::string_view name);

/// find_program(png_rasteriser), or throws run_error at --out naming the package to install.
std::string png_rasteriser_path();

/// Writes the chart to `path`. PNG: the SVG rendered by rsvg-convert run as a child process.
/// Throws run_error at --out when the file cannot be written or rsvg-convert fails or is
/// missing.
void write_preview(const preview_chart& c, const std::string& path, preview_format format);

} // namespace synthfeed
