#pragma once
// Shared helpers: build device models from TOML text, collect what they generate, and run
// the real synthfeed binary.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <vector>

#include "devices/group_model.hpp"
#include "src/config/profile_loader.hpp"

namespace synthfeed::testing {

struct collected_tick {
    std::uint64_t device;
    std::uint64_t seq;
    sim_time ts;
    bool emitted;
    std::vector<double> values;
    std::vector<episode_ref> episodes;
};

/// Everything group 0 of a profile generates for `span` of simulated time.
struct collection {
    std::vector<collected_tick> ticks;
    std::vector<episode_view> episodes;

    void on_tick(const tick_view& t) {
        ticks.push_back({t.device,
                         t.seq,
                         t.ts,
                         t.emitted,
                         {t.values.begin(), t.values.end()},
                         {t.episodes.begin(), t.episodes.end()}});
    }
    void on_episode(const episode_view& e) { episodes.push_back(e); }

    std::vector<double> field(std::size_t f, bool emitted_only = true) const {
        std::vector<double> out;
        for (const auto& t : ticks)
            if (t.emitted || !emitted_only) out.push_back(t.values[f]);
        return out;
    }
};

inline constexpr sim_time test_start = 1'767'225'600'000; // 2026-01-01T00:00:00Z

inline profile profile_from(const std::string& toml) {
    return parse_profile(toml, "test.toml", {}, [](const std::string&) { return std::nullopt; });
}

/// Generates `span` of group `group` of the profile, device by device.
inline collection generate(const profile& p, sim_duration span, std::uint32_t group = 0) {
    const device_directory ids(p);
    group_model model(p, group, ids.first_of_group(group), test_start);
    std::vector<std::uint32_t> locals(p.groups[group].count);
    for (std::uint32_t i = 0; i < locals.size(); ++i) locals[i] = i;
    device_block block = model.make_block(locals);
    collection c;
    for (std::size_t i = 0; i < locals.size(); ++i) model.advance(block, i, test_start + span, c);
    return c;
}

/// A one-group profile with one field described by TOML lines (signal, noise, ...).
inline std::string one_field_profile(const std::string& field_lines, const std::string& extra = "",
                                     int count = 1, const std::string& interval = "1s") {
    return "name = \"t\"\nseed = 99\n[[group]]\nname = \"g\"\ncount = " + std::to_string(count) +
           "\nid = \"d-{index}\"\ninterval = \"" + interval +
           "\"\n[[group.field]]\nname = \"x\"\nprecision = 6\n" + field_lines + "\n" + extra;
}

inline double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}

inline double stddev(const std::vector<double>& v) {
    const double m = mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / static_cast<double>(v.size() - 1));
}

/// Least-squares slope of v against its index.
inline double slope(const std::vector<double>& v) {
    const double n = static_cast<double>(v.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const double x = static_cast<double>(i);
        sx += x, sy += v[i], sxx += x * x, sxy += x * v[i];
    }
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

struct process_result {
    int exit_code = -1;
    bool crashed = false;
    std::string out;
    std::string err;
};

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

/// A fresh directory under the build tree's temp area.
inline std::filesystem::path temp_dir(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() /
               ("synthfeed-test-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

/// Runs a command line of sh (a simple command: its output is redirected after it).
inline process_result run_shell(const std::string& command) {
    const auto dir = temp_dir("proc");
    const std::string cmd =
        command + " >" + (dir / "out").string() + " 2>" + (dir / "err").string();
    const int status = std::system(cmd.c_str());
    process_result r;
    r.crashed = WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) >= 128);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(dir / "out");
    r.err = read_file(dir / "err");
    std::filesystem::remove_all(dir);
    return r;
}

/// Whether `name` is a program on PATH (tests of what bash, zsh or groff make of our output
/// skip without it).
inline bool has_program(const std::string& name) {
    return run_shell("command -v " + name).exit_code == 0;
}

/// `text` as one single-quoted word of sh.
inline std::string sh_quoted(const std::string& text) {
    std::string out = "'";
    for (const char ch : text) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
}

/// Runs the synthfeed binary with shell-quoted arguments.
inline process_result run_synthfeed(const std::string& args, const std::string& env = "") {
    return run_shell(env + " " + SYNTHFEED_BINARY + " " + args);
}

inline std::string source_path(const std::string& relative) {
    return std::string(SYNTHFEED_SOURCE_DIR) + "/" + relative;
}

/// What one `synthfeed run` to files produced.
struct outputs {
    std::string data, labels, episodes, summary;
    int exit_code;
};

/// Runs a profile with data, labels, episodes and summary going to files, and reads them back.
inline outputs run_to_files(const std::string& profile, const std::string& flags,
                            const std::string& tag) {
    const auto dir = temp_dir(tag);
    const auto r = run_synthfeed(
        "run " + profile + " --progress off --sink file:" + (dir / "data").string() + " --labels " +
        (dir / "labels").string() + " --episodes " + (dir / "episodes").string() +
        " --summary-json " + (dir / "summary").string() + " " + flags);
    if (r.crashed) ADD_FAILURE() << r.err;
    outputs o{read_file(dir / "data"), read_file(dir / "labels"), read_file(dir / "episodes"),
              read_file(dir / "summary"), r.exit_code};
    std::filesystem::remove_all(dir);
    return o;
}

inline std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

} // namespace synthfeed::testing
