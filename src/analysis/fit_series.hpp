#pragma once
/// `synthfeed fit`: the numerics that turn one real series into the parameters of a
/// synthfeed field. Everything here works on plain vectors (times in ms since the epoch,
/// values), throws nothing for numerical reasons (a series too short for a part simply gets
/// none of it), and records, beside each estimate, what it came from, so that the profile
/// writer (fit_profile.hpp) can say so in comments.
///
/// The model fitted, per column, is the one `synthfeed run` generates from a `sum` signal:
///
///   value(t) = level + drift·t + rhythm(t) + cycle(t) + Q_r(Φ(z(t)))
///              [+ regime shifts] [+ anomalies], then quantised and clamped,
///
/// with z a latent Gaussian process and Q_r the residual's quantiles (see fit_residual); or,
/// for a series piled at a bound or with a long one-sided tail, a Gaussian copula of the
/// whole signal, Q_x(Φ(level + rhythm + cycle + z)) with everything in the values' normal
/// scores and Q_x the values' quantiles (see field_fit::copula),
///
/// estimated in this order: cadence and jitter; level, trend and rhythm jointly by least
/// squares (Eigen); one non-calendar cycle from the periodogram (FFTW) of what is left;
/// regimes by binary segmentation of the residual; the residual's marginal (quantiles) and
/// its autocorrelation (one or two AR(1)/Ornstein-Uhlenbeck parts plus white noise, fitted to
/// the autocorrelation of its normal scores); labelled anomalies against the normal model.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "src/analysis/fidelity_stats.hpp" // sample_quantiles_at
#include "src/core/time.hpp"

namespace synthfeed {

/// The fewest points (unlabelled, finite) a column needs to be fitted.
inline constexpr std::size_t fit_min_points = 24;

/// Seconds in the yearly period `1y`: 365.2425 days (the Gregorian year).
inline constexpr sim_duration ms_per_year = 31'556'952'000;

/// How the timestamps behave.
struct fit_timing {
    sim_time start = 0, end = 0; ///< the first and last timestamp
    std::size_t points = 0;
    /// The interval of the group: the mean of the intervals shorter than twice their median
    /// (the median itself when they are regular; with jitter the mean is far more precise),
    /// rounded to a whole hour, minute, second, 100 ms or 10 ms when within 0.1 % of one.
    sim_duration cadence = 0;
    /// Half-width of the uniform offset that would explain the spread of the intervals around
    /// the cadence: synthfeed moves each timestamp by U(-j, j), so an interval is the cadence
    /// plus the difference of two such offsets, which has a triangular density on (-2j, 2j)
    /// whose median |deviation| is (2 - √2)·j. Hence j = median|Δt - cadence| / (2 - √2) over
    /// the intervals that are not gaps, capped below cadence / 2 (synthfeed's limit); 0 when
    /// at least half the intervals are exactly the cadence (a regular series).
    sim_duration jitter = 0;
    sim_duration median_deviation = 0; ///< median |Δt - cadence| over non-gap intervals
    std::size_t gaps = 0; ///< intervals longer than 1.5 cadences and than cadence + 2·jitter
    sim_duration longest_gap = 0;
};

/// Cadence, jitter and gaps of strictly increasing `times` (at least two).
fit_timing fit_cadence(const std::vector<sim_time>& times);

/// One cosine A·cos(2π(t - peak)/period), t in ms since the epoch: a `seasonal` component.
struct fit_component {
    sim_duration period = 0;
    double amplitude = 0;
    sim_duration peak = 0; ///< in [0, period)
    std::string source;    ///< "daily k=1", "weekly k=2", "cycle"
};

enum class rhythm_kind { none, harmonics, week_table };

/// One rhythm model considered, for the comments.
struct rhythm_candidate {
    std::string name;
    std::size_t parameters = 0; ///< besides level and trend
    double held_out_rmse = 0;
};

/// The calendar rhythm. Candidates: harmonic regression on cos/sin(2πk·t/P) for P = 1 day
/// (k ≤ 4), 1 week (k ≤ 6) and 1 year (k ≤ 3), every combination of harmonic counts, and an
/// hour-of-week table (168 means; with the yearly harmonics when those are eligible), all
/// with level and trend. A period is eligible when the series spans at least two of it and
/// the cadence resolves the harmonic (P/k > 2 cadences, Nyquist); the table needs two weeks,
/// a cadence of an hour or less and data in 90 % of the hours. Chosen by held-out error:
/// blocked cross-validation over five contiguous folds, each predicted by the model fitted to
/// the other four (Bergmeir & Benítez 2012, "On the use of cross-validation for time series
/// predictor evaluation"); the simplest model within 0.5 % of the least error wins. Extra
/// parameters pay for themselves only by predicting unseen stretches better, which also keeps
/// a one-off bump from passing as a weekly rhythm.
struct fit_rhythm {
    rhythm_kind kind = rhythm_kind::none;
    std::vector<fit_component> components; ///< harmonics (the yearly ones also with a table)
    /// week_table: 168 hour-of-week means minus the level, Monday 00:00-01:00 UTC first; NaN
    /// for an hour without data (the schedule interpolates over it).
    std::vector<double> week_table;
    std::vector<rhythm_candidate> candidates; ///< none, the best harmonic model, the table
    std::string chosen;                       ///< the chosen candidate's name
    double residual_lag1 = 0;  ///< r₁ of the chosen model's residual (for the trend's error)
    double effective_n = 0;    ///< n(1 - r₁)/(1 + r₁)
    double variance_share = 0; ///< held-out error removed, against level and trend alone
};

/// One strong non-calendar cycle: the highest periodogram ordinate of the residual (FFTW, at
/// the Fourier frequencies, away from calendar harmonics), kept when it stands at least 20
/// times above the median ordinate around it and the cosine fitted at its refined period
/// explains at least 5 % of the residual variance.
struct fit_cycle {
    bool found = false;
    fit_component component;
    sim_duration candidate_period = 0; ///< the strongest peak, even when not kept
    double peak_ratio = 0;             ///< its ordinate / the local median ordinate
    double variance_share = 0;
};

/// Level and linear trend, estimated jointly with the rhythm. The trend is written only when
/// |t| ≥ 3, with its standard error inflated by (1 + r₁)/(1 - r₁) for AR(1) residuals (the
/// effective sample size n(1 - r₁)/(1 + r₁): Bayley & Hammersley 1946; Wilks, Statistical
/// Methods in the Atmospheric Sciences, 3rd ed., 5.2.4), and when it moves the level over the
/// series by at least a quarter of the residual's standard deviation; otherwise the rhythm is
/// refitted without it.
struct fit_trend {
    double level = 0;   ///< at the first timestamp
    double per_day = 0; ///< slope (0 when not written)
    double fitted_per_day = 0;
    double t_stat = 0;
    bool written = false;
};

/// An AR(1) part of the residual in normal-score space: lag-k correlation share·φ^k.
struct fit_ou {
    double phi = 0;           ///< lag-1 autocorrelation at the cadence; reversion = 1 - φ
    double share = 0;         ///< of the residual variance
    double stationary_sd = 0; ///< sqrt(share)·sd, value units
    double innovation_sd = 0; ///< stationary_sd·sqrt(1 - φ²): OU sigma per tick
};

/// The residual: what is left after level, trend, rhythm, cycle and regimes, generated as
/// one latent unit-variance Gaussian process z = Σ √cᵢ·zᵢ + √(1 − Σcᵢ)·ε of AR(1)s zᵢ and
/// white ε, mapped through the residual's quantiles (an `ou` part with `shares` and a
/// `marginal`): the marginal is the residual's, the correlation the latent one's as the map
/// passes it on. The latent correlation at each lag is the one whose image under the map
/// (copula_correlation in the source: Cario & Nelson 1996) is the residual's own Pearson
/// autocorrelation (the normal scores' where a lag has too few pairs); ρ(k) = Σ cᵢ·φᵢ^k is
/// fitted to it over lags 1..48 plus longer lags spaced by a factor 1.25 by least squares
/// (variable projection, Golub & Pereyra 1973: on a grid of φ the shares c follow by Eigen
/// least squares, then the grid is refined around the best). Two parts are used when one
/// leaves an ACF RMSE above max(0.02, 2/√n) and two cut it by a tenth; the share 1 - Σcᵢ left
/// is white (none below 2 %).
struct fit_residual {
    double sd = 0;
    double lag1 = 0; ///< lag-1 autocorrelation of the normal scores
    /// The residual's quantiles (type 7) at `probabilities`: every 2.5 % in the body and
    /// denser in the tails (0.05 %, 0.1 %, 0.2 %, 0.5 %, 1 %, 2 %, 3 %), so a heavy tail is
    /// not spread evenly over its last step of the grid.
    std::vector<double> quantiles, probabilities;
    std::vector<fit_ou> ou; ///< 0, 1 or 2 parts, fastest first
    double robust_sd = 0;   ///< interquartile range / 1.349
    /// Quantile shape close to Gaussian: |Bowley skewness| ≤ 0.1 and the 1 %..99 % range
    /// at most 4 interquartile ranges (a Gaussian's is 3.45).
    bool gaussian = false;
    double noise_share = 0; ///< of the residual variance left uncorrelated
    /// Gaussian white noise written as `noise`: √share × sd (robust sd when heavy-tailed
    /// beside two parts); 0 when the white share is an independent part (white_part).
    double noise_sd = 0;
    /// With one AR(1) part and a residual that is not Gaussian, the white share is a first
    /// part with φ = 0 (reversion 1: independent draws) keeping the residual's shape.
    bool white_part = false;
    double rmse_one = 0, rmse_two = 0; ///< ACF fit error of one and of two parts
    std::vector<std::size_t> lags;     ///< the lags fitted
    std::vector<double> acf;           ///< the normal scores' ACF at those lags
};

/// Sensor quantisation and bounds of the raw values.
struct fit_quantisation {
    /// The step of the grid every value lies on (the smallest gap between distinct values,
    /// or that gap over 2..10 when the values need a finer grid), 0 when the values lie on
    /// no grid coarser than a millionth of their range.
    double resolution = 0;
    bool integer = false; ///< every value is whole
    int precision = 3;    ///< decimals to print
    std::optional<double> min, max;
    std::string min_reason, max_reason;
};

/// A lasting shift of the residual's level or spread (normal behaviour, not an anomaly).
/// Found by binary segmentation (Scott & Knott 1974) with the range of the CUSUM, max S_k -
/// min S_k over √(m·σ²_LR), against 2.303, the 0.1 % point of Kuiper's V (the range of a
/// Brownian bridge; strict, as segmentation tests many times), which finds a change that
/// starts and ends inside a segment as well as one at its end; σ²_LR is the Newey-West (1987)
/// long-run variance (Bartlett weights over half a segment's minimum length) of the data less
/// the means of the parts the cuts make. First on the residual (level), then on its squared
/// deviations within the level segments (spread). Segments at least a day long (or a tenth of
/// the series) whose mean moves from the baseline (the length-weighted median of the level
/// segments' means) by more than one standard deviation (the median segment's), or whose
/// spread moves by a factor 1.5, are regimes.
struct fit_regime {
    std::size_t count = 0;
    double rate_per_day = 0; ///< episodes per day of normal time
    sim_duration duration_lo = 0, duration_hi = 0;
    double shift_lo = 0, shift_hi = 0; ///< level offsets
    double scale = 1;                  ///< mean spread factor
    bool level = true;                 ///< level regimes (else spread only)
};

/// Labelled anomalies of one kind, measured against the normal model. In each labelled
/// window, every run of points beyond the normal residual's 0.1 %..99.9 % range (and at least
/// 3 sd from 0), of one sign, bridging up to two points back inside it, is an episode: a
/// spike (its extreme excess) when at most two points long, else a level shift (its median
/// excess, its duration). A window with no such run shows nothing unusual.
struct fit_anomaly {
    std::string kind; ///< "spike" or "level_shift"
    std::size_t count = 0;
    double rate_per_day = 0;
    sim_duration duration_lo = 0, duration_hi = 0;
    double magnitude_lo = 0, magnitude_hi = 0; ///< |offset|
    std::string direction;                     ///< "up", "down" or "both"
};

/// Everything fitted for one column.
struct field_fit {
    std::string column;
    std::size_t points = 0;   ///< finite values
    std::size_t labelled = 0; ///< of them, labelled anomalous (left out of the normal model)
    double min = 0, max = 0, mean = 0, sd = 0;
    fit_trend trend;
    fit_rhythm rhythm;
    fit_cycle cycle;
    std::vector<fit_regime> regimes;
    double regime_baseline = 0; ///< residual level outside regimes (folded into the level)
    fit_residual residual;
    fit_quantisation quantisation;
    std::vector<fit_anomaly> anomalies;
    /// A Gaussian copula of the whole signal: everything above was fitted to the values'
    /// normal scores, and `marginal` (the values' quantiles at `marginal_probabilities`) maps
    /// the total back. Chosen for skewed or bounded series (see fit_field), where an additive
    /// model would pile values up at a bound and spread a heavy tail evenly.
    bool copula = false;
    std::string copula_reason;
    std::vector<double> marginal, marginal_probabilities;
    std::size_t windows = 0;                ///< labelled episodes
    std::size_t windows_without_excess = 0; ///< labelled episodes showing nothing unusual
};

/// Fits one column. `times` strictly increasing, `values` finite, `anomalous` empty or one
/// flag per point; `timing` from fit_cadence over the table's times. Needs fit_min_points
/// unlabelled points (the caller checks).
field_fit fit_field(std::string column, const std::vector<sim_time>& times,
                    const std::vector<double>& values, const std::vector<bool>& anomalous,
                    const fit_timing& timing);

// Building blocks, exposed for tests.

/// Sample quantiles at probabilities i/(count-1), i = 0..count-1: Hyndman & Fan (1996)
/// definition 7 (linear between order statistics, R's default). Empty for empty `v`.
std::vector<double> sample_quantiles(std::vector<double> v, std::size_t count);
/// The probabilities fit writes a marginal at: 0, the tail steps, every 2.5 % between, 1.
std::vector<double> marginal_probabilities();

/// Normal scores Φ⁻¹((rank - ½)/n) of `v` (average ranks for ties), Boost.Math's inverse
/// normal CDF.
std::vector<double> normal_scores(const std::vector<double>& v);

/// The grid step of `values` (see fit_quantisation::resolution), 0 for none.
double value_resolution(const std::vector<double>& values);

/// ρ(k) ≈ Σᵢ cᵢ·φᵢ^k with `parts` (1 or 2) exponentials, cᵢ ≥ 0, Σcᵢ ≤ 1, fitted to `acf`
/// at `lags` by least squares (see fit_residual). Returns {c, φ} pairs, fastest first, and
/// the RMSE.
struct exponential_fit {
    std::vector<std::pair<double, double>> parts; ///< (share c, φ)
    double rmse = 0;
};
exponential_fit fit_acf_exponentials(const std::vector<std::size_t>& lags,
                                     const std::vector<double>& acf, int parts);

} // namespace synthfeed
