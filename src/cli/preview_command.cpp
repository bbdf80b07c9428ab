#include "src/cli/preview_command.hpp"

#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "src/analysis/preview.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

/// Fails at --out before anything is generated: a path whose extension names no format, a
/// file that cannot be opened, a PNG without its rasteriser.
preview_format check_out(const std::string& path) {
    const auto format = preview_format_of(path);
    if (!format)
        throw config_error({"--out", 0, 0}, "",
                           "expected a path ending in .html, .svg or .png, got \"" +
                               path.substr(0, 40) + "\"");
    const bool existed = std::filesystem::exists(path);
    if (!std::ofstream(path, std::ios::app))
        throw config_error({"--out", 0, 0}, path, "cannot open for writing");
    if (!existed) std::filesystem::remove(path);
    if (*format == preview_format::png) png_rasteriser_path();
    return *format;
}

} // namespace

CLI::App* add_preview_command(CLI::App& app, preview_flags& f) {
    CLI::App* preview =
        app.add_subcommand("preview", "draw one device's fields and episodes as HTML, SVG or PNG");
    preview->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    preview->add_option("profile", f.profile, "profile TOML file")->required();
    auto* device = preview->add_option("--device", f.device,
                                       "device id to draw (default: the first device of --group)");
    preview->add_option("--group", f.group, "group whose first device to draw (default: the first)")
        ->excludes(device);
    preview->add_option("--duration", f.duration, "simulated time to draw, e.g. 6h, 3d, 30d")
        ->capture_default_str();
    preview->add_option("--start", f.start,
                        "simulated start (RFC 3339) or now; default: the profile's start, else "
                        "now");
    preview->add_option("--out", f.out, "where the chart goes: FILE.html, FILE.svg or FILE.png")
        ->required();
    return preview;
}

int command_preview(const preview_flags& f, const profile& p, sim_time start,
                    sim_duration duration) {
    if (duration == 0) throw config_error({"--duration", 0, 0}, "", "must be longer than 0");
    if (duration >= max_event_time - start)
        throw config_error({"--duration", 0, 0}, "", "must end by " + axis_time(max_event_time));
    const preview_format format = check_out(f.out);
    const device_directory ids(p);
    preview_request r = select_device(p, ids, f.device, f.group);
    r.start = start;
    r.duration = duration;
    write_preview(make_preview(p, ids, r), f.out, format);
    fmt::print("preview: wrote {}\n", f.out);
    return exit_ok;
}

} // namespace synthfeed
