#include "src/analysis/preview.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "src/core/errors.hpp"
#include "src/labels/label_encoder.hpp"

extern char** environ;

namespace synthfeed {
namespace {

/// A name as an error message quotes it: at most 40 bytes.
std::string shown(std::string_view name) {
    return std::string(name.substr(0, 40)) + (name.size() > 40 ? "…" : "");
}

/// " (did you mean \"x\"?)" when a candidate is close to `given`, else empty.
template <class Range>
std::string did_you_mean(std::string_view given, const Range& candidates) {
    const std::string closest = closest_match(given, candidates);
    return closest.empty() ? "" : " (did you mean \"" + closest + "\"?)";
}

std::uint32_t group_named(const profile& p, std::string_view name) {
    std::vector<std::string_view> names;
    for (std::uint32_t g = 0; g < p.groups.size(); ++g) {
        if (p.groups[g].name == name) return g;
        names.push_back(p.groups[g].name);
    }
    throw config_error({"--group", 0, 0}, "",
                       fmt::format("no group \"{}\" in {}{}; groups: {}", shown(name), p.path,
                                   did_you_mean(name, names), fmt::join(names, ", ")));
}

/// Writes `text` to `path`, or throws run_error at --out.
void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw run_error("--out", path + ": cannot write");
}

/// Runs `argv` (argv[0] a full path) and waits; returns its exit status, -1 if it could not
/// start or was killed.
int run_program(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void write_png(const std::string& svg, const std::string& path) {
    const std::string program = png_rasteriser_path();
    const auto input = std::filesystem::temp_directory_path() /
                       fmt::format("synthfeed-preview-{}.svg", ::getpid());
    write_text(input.string(), svg);
    const int status = run_program({program, "--format", "png", "--output", path, input});
    std::filesystem::remove(input);
    if (status != 0)
        throw run_error("--out",
                        fmt::format("{}: rsvg-convert failed (exit status {})", path, status));
}

} // namespace

preview_request select_device(const profile& p, const device_directory& ids,
                              std::string_view device, std::string_view group) {
    preview_request r;
    if (!device.empty()) {
        for (std::uint32_t g = 0; g < p.groups.size(); ++g)
            for (std::uint64_t d = ids.first_of_group(g);
                 d < ids.first_of_group(g) + p.groups[g].count; ++d)
                if (ids.id(d) == device) {
                    r.group = g;
                    r.local = static_cast<std::uint32_t>(d - ids.first_of_group(g));
                    return r;
                }
        std::vector<std::string_view> all;
        for (std::uint64_t d = 0; d < ids.size(); ++d) all.push_back(ids.id(d));
        throw config_error({"--device", 0, 0}, "",
                           fmt::format("no device \"{}\" in {}{}; ids run {} to {}", shown(device),
                                       p.path, did_you_mean(device, all), all.front(), all.back()));
    }
    if (!group.empty()) r.group = group_named(p, group);
    return r;
}

preview_chart make_preview(const profile& p, const device_directory& ids,
                           const preview_request& r) {
    const group_spec& g = p.groups[r.group];
    const sim_time end = r.start + r.duration;
    const std::uint64_t first = ids.first_of_group(r.group);
    series_collector out(g.fields.size(), {r.start, end, chart_plot_width});
    const group_model model(p, r.group, first, r.start);
    device_block block = model.make_block({r.local});
    model.advance(block, 0, end, out);

    const std::string_view device_id = ids.id(first + r.local);
    preview_chart c;
    c.title = fmt::format("{}: {}", p.name, device_id);
    c.subtitle = fmt::format("group {}, seed {}, {} to {}: {} ticks, {} episodes; each field's "
                             "line runs through the least and greatest value of every pixel "
                             "column",
                             g.name, p.seed, axis_time(r.start), axis_time(end), out.ticks(),
                             out.episodes().size());
    c.axis = out.axis();
    for (std::size_t f = 0; f < g.fields.size(); ++f)
        c.fields.push_back({g.fields[f].name,
                            g.fields[f].format == field_format::text ? g.fields[f].text
                                                                     : std::vector<std::string>{},
                            out.take_field(f)});
    const truth_names names(p);
    for (const episode_view& e : out.episodes()) {
        const episode_ref ref{e.anomaly, e.episode};
        byte_buffer id;
        names.append_episode_id(id, device_id, ref);
        c.episodes.push_back({e.start, e.end, episode_kind(g, nullptr, ref),
                              g.anomalies[e.anomaly].field, std::string(id.view())});
    }
    return c;
}

std::optional<preview_format> preview_format_of(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    if (ext.empty()) return std::nullopt;
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (const auto* row = preview_formats.find(std::string_view(ext).substr(1))) return row->kind;
    return std::nullopt;
}

std::optional<std::string> find_program(std::string_view name) {
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "";
    while (!dirs.empty()) {
        const std::size_t colon = std::min(dirs.find(':'), dirs.size());
        const std::string dir(dirs.substr(0, colon));
        dirs.remove_prefix(std::min(colon + 1, dirs.size()));
        const std::string candidate = (dir.empty() ? "." : dir) + "/" + std::string(name);
        std::error_code ec;
        if (::access(candidate.c_str(), X_OK) == 0 &&
            std::filesystem::is_regular_file(candidate, ec))
            return candidate;
    }
    return std::nullopt;
}

std::string png_rasteriser_path() {
    if (auto path = find_program(png_rasteriser)) return *path;
    throw run_error("--out", "cannot write PNG: rsvg-convert is not on PATH (Debian package "
                             "librsvg2-bin); write .svg or .html instead");
}

void write_preview(const preview_chart& c, const std::string& path, preview_format format) {
    switch (format) {
    case preview_format::html:
        write_text(path, preview_html(c));
        return;
    case preview_format::svg:
        write_text(path, preview_svg(c));
        return;
    case preview_format::png:
        write_png(preview_svg(c), path);
        return;
    }
}

} // namespace synthfeed
