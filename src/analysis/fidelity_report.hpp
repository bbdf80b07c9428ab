#pragma once
/// `synthfeed compare`: how close synthetic series are to a real one, as text, JSON and a
/// self-contained HTML page, beside the real series' own reference (its first half against
/// its second half) so that "close" has a scale.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/analysis/series_csv.hpp"

namespace synthfeed {

/// The distances between a real series r and a synthetic one s (see fidelity_stats.hpp):
struct fidelity_metrics {
    double ks = 0;              ///< KS D of the raw values, [0, 1]
    double ks_standardised = 0; ///< KS D after standardising each, [0, 1]: shape only
    double acf_rmse = 0;        ///< RMSE of the sample ACFs over lags 1..lags
    double spectral_l1 = 0;     ///< L1 of the normalised periodograms, [0, 2]
    double mean_diff = 0;       ///< mean(s) - mean(r), value units
    double std_diff = 0;        ///< sd(s) - sd(r), value units
    double lag1_diff = 0;       ///< r_1(s) - r_1(r)
};

/// The metrics' names as the text and JSON reports write them, in order.
inline constexpr const char* metric_names[] = {
    "ks", "ks_standardised", "acf_rmse", "spectral_l1", "mean_diff", "std_diff", "lag1_diff"};

/// The metrics of `m` in the order of metric_names.
std::vector<double> metric_values(const fidelity_metrics& m);

/// The metrics of `synthetic` against `real`. The periodograms use the first min(n_r, n_s)
/// values of each, so that both lie on the same Fourier frequencies.
fidelity_metrics compare_series(const std::vector<double>& real,
                                const std::vector<double>& synthetic, std::size_t lags);

/// ACF lags to compare: 48, or a day of lags when the cadence puts more than 48 in a day and
/// the series holds four days; never more than n / 4 (the reference halves need room), at
/// least 1.
std::size_t acf_lags(sim_duration cadence, std::size_t n);

/// Everything the report shows.
struct fidelity_report {
    std::string real_origin;      ///< the real CSV path
    series real;                  ///< its compared column
    sim_duration cadence = 0;     ///< median interval of the real series (ms)
    std::string synthetic_origin; ///< the profile or file
    std::string synthetic_kind;   ///< "profile" or "file"
    std::string synthetic_field;
    std::vector<std::uint64_t> seeds; ///< per synthetic series; empty for a file
    std::vector<series> synthetic;    ///< one per seed (one for a file)
    std::size_t lags = 0;
    std::vector<fidelity_metrics> per_seed;
    fidelity_metrics median;    ///< metric by metric, the median over per_seed
    fidelity_metrics reference; ///< real first half (s) against real second half (r)
};

/// Computes lags, per-seed metrics, their medians and the reference.
fidelity_report build_fidelity_report(std::string real_origin, series real, sim_duration cadence,
                                      std::string synthetic_origin, std::string synthetic_kind,
                                      std::vector<std::uint64_t> seeds,
                                      std::vector<series> synthetic);

/// A table for the terminal: a line per metric with the median and the reference.
std::string fidelity_text(const fidelity_report& r);

/// The report as JSON: {"real": {path, column, points, cadence_ms, start, end}, "synthetic":
/// {source, kind, field, seeds, points}, "acf_lags", "metrics": {NAME: {"median", "per_seed":
/// [...], "reference"}}} with NAME from metric_names.
std::string fidelity_json(const fidelity_report& r);

/// One HTML page, no script or external resource: the table and four inline SVG plots
/// (overlaid series, QQ, ACF, periodogram) of the real series and the first synthetic one.
std::string fidelity_html(const fidelity_report& r);

/// What `synthfeed compare` was asked.
struct compare_options {
    std::string real;        ///< CSV path
    std::string synthetic;   ///< a profile (.toml) or a file `synthfeed run` wrote
    std::string field;       ///< the synthetic field (--field)
    std::string column;      ///< the real value column (--column)
    std::string time_column; ///< --time-column
    unsigned seeds = 5;      ///< profiles only: seeds seed, seed+1, ...
    std::string json, html;  ///< output paths, empty: none
    /// The connectors' profile tables ([kafka], [mqtt]): read and ignored, not unknown.
    std::vector<std::string_view> connector_tables;
};

/// Runs `synthfeed compare`: prints the table, writes the JSON and HTML asked for. Throws
/// config_error for bad input (exit 2) and run_error when an output cannot be written.
int run_compare(const compare_options& o);

} // namespace synthfeed
