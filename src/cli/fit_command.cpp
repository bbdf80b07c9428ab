#include "src/cli/fit_command.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "src/analysis/fit_labels.hpp"
#include "src/analysis/fit_profile.hpp"
#include "src/analysis/fit_series.hpp"
#include "src/analysis/series_csv.hpp"
#include "src/config/profile_loader.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

/// Fails at --out before anything is fitted when the file cannot be written.
void check_out(const std::string& path) {
    if (path.empty()) throw config_error({"--out", 0, 0}, "", "name the profile to write");
    const bool existed = std::filesystem::exists(path);
    if (!std::ofstream(path, std::ios::app))
        throw config_error({"--out", 0, 0}, path, "cannot open for writing");
    if (!existed) std::filesystem::remove(path);
}

/// The labels: a column of the table named by --labels (or is_anomaly when present), else a
/// windows file.
row_labels labels_for(const fit_flags& f, const series_table& t) {
    if (!f.labels.empty()) {
        if (t.find(f.labels)) return column_labels(t, f.labels);
        if (!std::filesystem::exists(f.labels))
            throw config_error({"--labels", 0, 0}, f.labels,
                               fmt::format("neither a column of {} (columns: {}) nor a file",
                                           f.series, fmt::join(t.column_names(), ", ")));
        return read_window_labels(f.labels, f.series, t);
    }
    if (t.find(default_label_column)) return column_labels(t, default_label_column);
    return {};
}

/// The value columns to fit: --column, else every numeric column but labels and seq.
std::vector<std::string> columns_for(const fit_flags& f, const series_table& t,
                                     const std::string& label_column) {
    if (!f.columns.empty()) {
        for (const auto& c : f.columns)
            if (c == label_column)
                throw config_error({"--column", 0, 0}, c,
                                   "is the label column: labels are not fitted as values");
        return f.columns;
    }
    std::vector<std::string> names;
    for (const auto& c : t.columns)
        if (c.text_line == 0 && c.name != label_column && c.name != "seq") names.push_back(c.name);
    if (names.empty())
        throw config_error({t.origin, 1, 0}, "",
                           fmt::format("no numeric value column (columns: {})",
                                       fmt::join(t.column_names(), ", ")));
    return names;
}

} // namespace

CLI::App* add_fit_command(CLI::App& app, fit_flags& f) {
    CLI::App* fit = app.add_subcommand(
        "fit", "fit a profile to a real CSV series: rhythm, correlation, marginal, anomalies");
    fit->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    fit->add_option("series", f.series, "CSV with a header, a time column and value columns")
        ->required();
    fit->add_option("--out", f.out, "where the profile goes (TOML)")->required();
    fit->add_option("--column", f.columns,
                    "a value column to fit (repeatable; default: every numeric column)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    fit->add_option("--time-column", f.time_column, "the time column (default: auto-detected)");
    fit->add_option("--labels", f.labels,
                    "anomaly labels: a NAB combined_windows.json, or a 0/1 column (default: "
                    "the column is_anomaly when there is one)");
    fit->add_option("--train-fraction", f.train_fraction,
                    "fit on the first F of the rows only (0 < F <= 1)")
        ->capture_default_str();
    fit->add_option("--seed", f.seed, "the profile's seed")->capture_default_str();
    fit->add_option("--name", f.name, "profile and group name (default: the file's base name)");
    return fit;
}

int command_fit(const fit_flags& f) {
    const auto started = std::chrono::steady_clock::now();
    if (!(f.train_fraction > 0 && f.train_fraction <= 1))
        throw config_error({"--train-fraction", 0, 0}, "",
                           fmt::format("must be in (0, 1], got {}", f.train_fraction));
    if (f.seed >= (std::uint64_t{1} << 63))
        throw config_error({"--seed", 0, 0}, "", "must be below 2^63");
    check_out(f.out);
    series_table table = read_series_csv(f.series, f.time_column);
    const row_labels labels = labels_for(f, table);
    if (!labels.warning.empty()) fmt::print(stderr, "synthfeed: warning: {}\n", labels.warning);
    const std::string label_column =
        labels.source.rfind("column ", 0) == 0 ? labels.source.substr(7) : "";
    const std::vector<std::string> columns = columns_for(f, table, label_column);

    // The first F of the rows.
    const std::size_t rows_total = table.times.size();
    const auto rows_used = std::max<std::size_t>(
        2, static_cast<std::size_t>(std::ceil(f.train_fraction * static_cast<double>(rows_total))));
    const std::vector<sim_time> times(table.times.begin(),
                                      table.times.begin() + static_cast<std::ptrdiff_t>(rows_used));
    const fit_timing timing = fit_cadence(times);
    if (timing.start < 0)
        throw config_error({f.series, table.lines.front(), 0}, table.time_column,
                           fmt::format("the series starts before 1970 ({}), where profiles "
                                       "cannot start: move its times forward",
                                       format_timestamp(timing.start)));

    fitted_profile p;
    const std::string stem = std::filesystem::path(f.series).stem().string();
    p.name = profile_group_name(f.name.empty() ? stem : f.name);
    p.seed = f.seed;
    p.source = f.series;
    p.command = fmt::format("{}", fmt::join(f.command_line, " "));
    p.rows_total = rows_total;
    p.rows_used = rows_used;
    p.train_fraction = f.train_fraction;
    p.labels = labels.rows.empty() ? "" : labels.source;
    p.timing = timing;
    for (const std::string& name : columns) {
        const series s = numeric_series(table, name); // names a missing or text column
        const series_column& col = *table.find(name);
        std::vector<sim_time> t;
        std::vector<double> v;
        std::vector<bool> flags;
        for (std::size_t i = 0; i < rows_used; ++i) {
            if (std::isnan(col.values[i])) continue;
            t.push_back(table.times[i]);
            v.push_back(col.values[i]);
            if (!labels.rows.empty()) flags.push_back(labels.rows[i]);
        }
        const auto normal =
            static_cast<std::size_t>(std::count(flags.begin(), flags.end(), false)) +
            (flags.empty() ? v.size() : 0);
        if (normal < fit_min_points)
            throw config_error(
                {f.series, table.lines[rows_used - 1], 0}, name,
                fmt::format("{} unlabelled value(s) in the rows fitted: fit needs at least {}",
                            normal, fit_min_points));
        p.fields.push_back(fit_field(name, t, v, flags, timing));
        p.field_names.push_back(profile_field_name(name));
        (void)s;
    }
    for (std::size_t i = 0; i < p.field_names.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (p.field_names[i] == p.field_names[j]) p.field_names[i] += "_" + std::to_string(i);

    const std::string text = fitted_profile_toml(p);
    // What fit writes must load: a profile the loader refuses is fit's bug, not the input's.
    try {
        parse_profile(text, f.out, {}, [](const std::string&) { return std::nullopt; });
    } catch (const config_error& e) {
        throw run_error("fit",
                        std::string("the fitted profile does not load (a bug): ") + e.what());
    }
    {
        std::ofstream out(f.out, std::ios::binary | std::ios::trunc);
        if (!(out << text)) throw run_error("--out", f.out + ": cannot write");
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    fmt::print(stderr, "fit: {} rows of {}, cadence {}, jitter {}, {} gap(s)\n", rows_used,
               f.series, fit_duration(timing.cadence), fit_duration(timing.jitter), timing.gaps);
    for (std::size_t i = 0; i < p.fields.size(); ++i) {
        const field_fit& ff = p.fields[i];
        std::vector<std::string> parts;
        parts.push_back("level");
        if (ff.trend.written) parts.push_back("drift");
        if (ff.rhythm.kind != rhythm_kind::none) parts.push_back(ff.rhythm.chosen);
        if (ff.cycle.found) parts.push_back("cycle " + fit_duration(ff.cycle.component.period));
        parts.push_back(fmt::format("{} ou", ff.residual.ou.size()));
        if (ff.residual.noise_sd > 0) parts.push_back("noise");
        if (ff.quantisation.integer) parts.push_back("int");
        for (const auto& r : ff.regimes)
            parts.push_back(fmt::format("{} {} regime(s)", r.count, r.level ? "level" : "spread"));
        for (const auto& a : ff.anomalies) parts.push_back(fmt::format("{} {}", a.count, a.kind));
        fmt::print(stderr, "fit: {} ({} points): {}\n", ff.column, ff.points,
                   fmt::join(parts, ", "));
    }
    fmt::print(stderr, "fit: wrote {} in {:.2f} s\n", f.out, seconds);
    return exit_ok;
}

} // namespace synthfeed
