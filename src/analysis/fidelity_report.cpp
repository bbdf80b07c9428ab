#include "src/analysis/fidelity_report.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "src/analysis/fidelity_stats.hpp"
#include "src/analysis/svg_plot.hpp"
#include "src/analysis/synthetic_series.hpp"
#include "src/config/profile_loader.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

constexpr const char* real_colour = "#1f77b4";
constexpr const char* synthetic_colour = "#d62728";

fidelity_metrics metrics_from(const std::vector<double>& v) {
    return {v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
}

std::vector<double> indices(std::size_t n) {
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<double>(i);
    return x;
}

/// At most `limit` points of a curve, every k-th, so that pages stay small.
plot_series thinned(plot_series s, std::size_t limit) {
    const std::size_t step = std::max<std::size_t>(1, (s.x.size() + limit - 1) / limit);
    if (step == 1) return s;
    plot_series out{s.name, s.colour, {}, {}, s.points, s.dashed};
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); i += step) {
        out.x.push_back(s.x[i]);
        out.y.push_back(s.y[i]);
    }
    return out;
}

/// Hours since `t0` of each time.
std::vector<double> hours_since(const std::vector<sim_time>& times, sim_time t0) {
    std::vector<double> h(times.size());
    for (std::size_t i = 0; i < times.size(); ++i)
        h[i] = static_cast<double>(times[i] - t0) / static_cast<double>(ms_per_hour);
    return h;
}

void write_output(const std::string& path, const std::string& text, const char* flag) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw run_error(flag, "cannot write " + path);
}

/// The synthetic series of `o`: generated per seed from a profile, or read from a file.
void read_synthetic(const compare_options& o, const series& real, sim_duration cadence,
                    fidelity_report& r) {
    if (o.synthetic.ends_with(".toml")) {
        const profile p = load_profile(o.synthetic, o.connector_tables);
        const profile_field where = choose_profile_field(p, o.field, real.name);
        r.synthetic_kind = "profile";
        r.synthetic_field = where.name;
        for (unsigned k = 0; k < o.seeds; ++k) {
            r.seeds.push_back(p.seed + k);
            r.synthetic.push_back(generate_profile_series(p, where, p.seed + k, real.times.front(),
                                                          cadence, real.values.size()));
            if (r.synthetic.back().values.size() < 2)
                throw config_error({o.synthetic, 0, 0}, where.name,
                                   "the field emits fewer than two values over the real "
                                   "series' span");
        }
        return;
    }
    r.synthetic_kind = "file";
    r.synthetic.push_back(read_synthetic_file(o.synthetic, o.field, real.name));
    r.synthetic_field = r.synthetic.back().name;
}

std::string plots_html(const fidelity_report& r) {
    const series& s = r.synthetic.front();
    const sim_time t0 = r.real.times.front();
    const std::string synthetic_name =
        r.seeds.empty() ? "synthetic" : fmt::format("synthetic (seed {})", r.seeds.front());
    std::string html;
    html += svg_plot(
        {"Series",
         "hours since the first real point",
         "value",
         false,
         {thinned({"real", real_colour, hours_since(r.real.times, t0), r.real.values}, 2000),
          thinned({synthetic_name, synthetic_colour, hours_since(s.times, t0), s.values}, 2000)}},
        960, 320);
    const std::vector<double> qr = quantiles(r.real.values, 200), qs = quantiles(s.values, 200);
    const auto [lo, hi] = std::minmax_element(qr.begin(), qr.end());
    html += svg_plot({"QQ plot (200 quantiles)",
                      "real quantile",
                      "synthetic quantile",
                      false,
                      {{"y = x", "#999", {*lo, *hi}, {*lo, *hi}, false, true},
                       {synthetic_name, synthetic_colour, qr, qs, true}}},
                     480, 360);
    const std::vector<double> ar = autocorrelation(r.real.values, r.lags),
                              as = autocorrelation(s.values, r.lags);
    html += svg_plot({fmt::format("Autocorrelation (lags 0..{})", r.lags),
                      "lag (cadences)",
                      "r_k",
                      false,
                      {{"real", real_colour, indices(ar.size()), ar},
                       {synthetic_name, synthetic_colour, indices(as.size()), as}}},
                     480, 360);
    const std::size_t m = std::min(r.real.values.size(), s.values.size());
    const std::size_t segment = welch_segment(m);
    const std::vector<double> pr = welch_spectrum({r.real.values.begin(),
                                                   r.real.values.begin() + static_cast<long>(m)},
                                                  segment),
                              ps = welch_spectrum(
                                  {s.values.begin(), s.values.begin() + static_cast<long>(m)},
                                  segment);
    // Cycles per day at index j: (j + 1) / (segment cadences).
    const std::size_t window = pr.size() * 2 == segment ? segment : m;
    std::vector<double> f(pr.size());
    for (std::size_t j = 0; j < f.size(); ++j)
        f[j] = static_cast<double>(j + 1) * static_cast<double>(ms_per_day) /
               (static_cast<double>(window) * static_cast<double>(r.cadence));
    html += svg_plot({"Spectrum (Welch, normalised to unit sum)",
                      "cycles per day",
                      "share of variance",
                      true,
                      {thinned({"real", real_colour, f, pr}, 1500),
                       thinned({synthetic_name, synthetic_colour, f, ps}, 1500)}},
                     960, 320);
    return html;
}

} // namespace

std::vector<double> metric_values(const fidelity_metrics& m) {
    return {m.ks,        m.ks_standardised, m.acf_rmse, m.spectral_l1,
            m.mean_diff, m.std_diff,        m.lag1_diff};
}

fidelity_metrics compare_series(const std::vector<double>& real,
                                const std::vector<double>& synthetic, std::size_t lags) {
    fidelity_metrics m;
    m.ks = ks_distance(real, synthetic);
    m.ks_standardised = ks_distance(standardised(real), standardised(synthetic));
    const std::vector<double> ar = autocorrelation(real, lags),
                              as = autocorrelation(synthetic, lags);
    m.acf_rmse = acf_rmse(ar, as);
    const std::size_t n = std::min(real.size(), synthetic.size());
    const auto head = [n](const std::vector<double>& v) {
        return std::vector<double>(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
    };
    const std::size_t segment = welch_segment(n);
    m.spectral_l1 = spectral_distance(welch_spectrum(head(real), segment),
                                      welch_spectrum(head(synthetic), segment));
    const moments mr = sample_moments(real), ms = sample_moments(synthetic);
    m.mean_diff = ms.mean - mr.mean;
    m.std_diff = ms.stddev - mr.stddev;
    m.lag1_diff = (as.size() > 1 ? as[1] : 0) - (ar.size() > 1 ? ar[1] : 0);
    return m;
}

std::size_t acf_lags(sim_duration cadence, std::size_t n) {
    std::size_t lags = 48;
    if (cadence > 0) {
        const auto per_day = static_cast<std::size_t>(ms_per_day / cadence);
        if (per_day > lags && 4 * per_day <= n) lags = per_day;
    }
    return std::max<std::size_t>(1, std::min(lags, n / 4));
}

fidelity_report build_fidelity_report(std::string real_origin, series real, sim_duration cadence,
                                      std::string synthetic_origin, std::string synthetic_kind,
                                      std::vector<std::uint64_t> seeds,
                                      std::vector<series> synthetic) {
    fidelity_report r;
    r.real_origin = std::move(real_origin);
    r.real = std::move(real);
    r.cadence = cadence;
    r.synthetic_origin = std::move(synthetic_origin);
    r.synthetic_kind = std::move(synthetic_kind);
    r.synthetic_field = synthetic.empty() ? "" : synthetic.front().name;
    r.seeds = std::move(seeds);
    r.synthetic = std::move(synthetic);
    r.lags = acf_lags(cadence, r.real.values.size());
    std::vector<std::vector<double>> columns(std::size(metric_names));
    for (const auto& s : r.synthetic) {
        r.per_seed.push_back(compare_series(r.real.values, s.values, r.lags));
        const std::vector<double> v = metric_values(r.per_seed.back());
        for (std::size_t k = 0; k < v.size(); ++k) columns[k].push_back(v[k]);
    }
    std::vector<double> medians;
    for (const auto& c : columns) medians.push_back(median(c));
    r.median = metrics_from(medians);
    // The real series against itself: its first half as the "synthetic" one, its second as
    // the "real" one, both of n / 2 values.
    const auto half = static_cast<std::ptrdiff_t>(r.real.values.size() / 2);
    const std::vector<double> first(r.real.values.begin(), r.real.values.begin() + half),
        second(r.real.values.begin() + half, r.real.values.begin() + 2 * half);
    r.reference = compare_series(second, first, r.lags);
    return r;
}

std::string fidelity_text(const fidelity_report& r) {
    std::string out =
        fmt::format("real       {}: {}, {} points, cadence {}, {} .. {}\n", r.real_origin,
                    r.real.name, r.real.values.size(), format_duration(r.cadence),
                    format_timestamp(r.real.times.front()), format_timestamp(r.real.times.back()));
    out += fmt::format("synthetic  {} ({}): {}, {} points{}\n", r.synthetic_origin,
                       r.synthetic_kind, r.synthetic_field, r.synthetic.front().values.size(),
                       r.seeds.empty() ? std::string()
                                       : fmt::format(", {} seeds {}..{}", r.seeds.size(),
                                                     r.seeds.front(), r.seeds.back()));
    out += fmt::format("{:<18}{:>14}{:>14}   reference: real 1st half vs 2nd half\n", "metric",
                       r.seeds.size() > 1 ? "median" : "synthetic", "reference");
    const std::vector<double> m = metric_values(r.median), ref = metric_values(r.reference);
    for (std::size_t k = 0; k < m.size(); ++k) {
        const std::string name = k == 2 ? fmt::format("acf_rmse({})", r.lags) : metric_names[k];
        out += fmt::format("{:<18}{:>14.4g}{:>14.4g}\n", name, m[k], ref[k]);
    }
    return out;
}

std::string fidelity_json(const fidelity_report& r) {
    nlohmann::json j;
    j["real"] = {{"path", r.real_origin},
                 {"column", r.real.name},
                 {"points", r.real.values.size()},
                 {"cadence_ms", r.cadence},
                 {"start", format_timestamp(r.real.times.front())},
                 {"end", format_timestamp(r.real.times.back())}};
    std::vector<std::size_t> points;
    for (const auto& s : r.synthetic) points.push_back(s.values.size());
    j["synthetic"] = {{"source", r.synthetic_origin},
                      {"kind", r.synthetic_kind},
                      {"field", r.synthetic_field},
                      {"seeds", r.seeds},
                      {"points", points}};
    j["acf_lags"] = r.lags;
    const std::vector<double> m = metric_values(r.median), ref = metric_values(r.reference);
    for (std::size_t k = 0; k < m.size(); ++k) {
        std::vector<double> per_seed;
        for (const auto& s : r.per_seed) per_seed.push_back(metric_values(s)[k]);
        j["metrics"][metric_names[k]] = {
            {"median", m[k]}, {"per_seed", per_seed}, {"reference", ref[k]}};
    }
    return j.dump(2) + "\n";
}

std::string fidelity_html(const fidelity_report& r) {
    std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<title>synthfeed compare</title>\n<style>body{font-family:sans-serif;"
                       "margin:2em}table{border-collapse:collapse}td,th{padding:2px 10px;"
                       "text-align:right;border-bottom:1px solid #ddd}td:first-child{text-align:"
                       "left}svg{margin:4px}</style></head><body>\n";
    html +=
        fmt::format("<h1>synthfeed compare</h1>\n<pre>{}</pre>\n", xml_escaped(fidelity_text(r)));
    html += "<p>Reference: the real series' first half against its second half, the distance "
            "two stretches of the same real process show.</p>\n";
    return html + plots_html(r) + "</body></html>\n";
}

int run_compare(const compare_options& o) {
    const series_table table = read_series_csv(o.real, o.time_column);
    std::string column = o.column;
    if (column.empty()) column = default_value_column(table, o.field).value_or("");
    if (column.empty()) {
        const std::vector<std::string> names = table.column_names();
        throw config_error(
            {o.real, 1, 0}, "--column",
            fmt::format("name the column to compare (columns: {})", fmt::join(names, ", ")));
    }
    series real = numeric_series(table, column);
    if (real.values.size() < 8)
        throw config_error({o.real, table.lines.back(), 0}, column,
                           fmt::format("{} values: compare needs at least 8 (two halves of 4)",
                                       real.values.size()));
    if (o.seeds < 1 || o.seeds > 1000)
        throw config_error({"--seeds", 0, 0}, "", "must be between 1 and 1000");
    fidelity_report shell;
    read_synthetic(o, real, table.cadence(), shell);
    const fidelity_report r = build_fidelity_report(
        o.real, std::move(real), table.cadence(), o.synthetic, shell.synthetic_kind,
        std::move(shell.seeds), std::move(shell.synthetic));
    fmt::print("{}", fidelity_text(r));
    if (!o.json.empty()) write_output(o.json, fidelity_json(r), "--json");
    if (!o.html.empty()) write_output(o.html, fidelity_html(r), "--html");
    return exit_ok;
}

} // namespace synthfeed
