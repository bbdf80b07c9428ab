#include "src/analysis/fit_series.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <numeric>

#include <Eigen/Dense>
#include <boost/math/distributions/normal.hpp>
#include <fmt/format.h>

#include "devices/signal_model.hpp" // quantile_map
#include "src/analysis/fidelity_stats.hpp"

namespace synthfeed {
namespace {

constexpr double two_pi = 2 * std::numbers::pi;
constexpr sim_duration ms_per_week = 7 * ms_per_day;
/// 1970-01-05T00:00:00Z, the first Monday after the epoch (a Thursday).
constexpr sim_time first_monday = 4 * ms_per_day;
constexpr std::size_t hours_per_week = 168;

/// (t - origin) mod period in [0, period).
sim_duration phase_of(sim_time t, sim_duration period, sim_time origin = 0) {
    const sim_duration r = (t - origin) % period;
    return r < 0 ? r + period : r;
}

double turns(sim_time t, sim_duration period) {
    return static_cast<double>(phase_of(t, period)) / static_cast<double>(period);
}

/// The hour of the week (Monday 00:00-01:00 UTC is 0) of `t`.
std::size_t hour_of_week(sim_time t) {
    return static_cast<std::size_t>(phase_of(t, ms_per_week, first_monday) / ms_per_hour);
}

double mean_of(const std::vector<double>& v) {
    if (v.empty()) return 0;
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double sd_of(const std::vector<double>& v) {
    return sample_moments(v).stddev;
}

/// A cosine a·cos(θ) + b·sin(θ) with θ = 2π(t - origin)/period, as amplitude and peak.
fit_component cosine_of(double a, double b, sim_duration period, sim_time origin,
                        std::string source) {
    fit_component c;
    c.period = period;
    c.amplitude = std::hypot(a, b);
    const double delta = std::atan2(b, a); // a cos θ + b sin θ = A cos(θ - δ)
    const auto offset =
        static_cast<sim_duration>(std::llround(delta / two_pi * static_cast<double>(period)));
    c.peak = phase_of(origin + offset, period);
    c.source = std::move(source);
    return c;
}

double cosine_at(const fit_component& c, sim_time t) {
    return c.amplitude * std::cos(two_pi * turns(t - c.peak, c.period));
}

/// The normal model's deterministic part: level, trend, rhythm, cycle.
struct normal_model {
    sim_time origin = 0;
    double level = 0;
    double per_ms = 0;
    std::vector<fit_component> components;
    std::vector<double> week_table; ///< filled (no NaN), or empty

    double table_at(sim_time t) const {
        if (week_table.empty()) return 0;
        // Linear between the hours' centres (the schedule's points at HH:30).
        const double hours = static_cast<double>(phase_of(t, ms_per_week, first_monday)) /
                                 static_cast<double>(ms_per_hour) -
                             0.5;
        const double h = hours < 0 ? hours + hours_per_week : hours;
        const auto i = static_cast<std::size_t>(h) % hours_per_week;
        const std::size_t j = (i + 1) % hours_per_week;
        const double f = h - std::floor(h);
        return week_table[i] + f * (week_table[j] - week_table[i]);
    }

    double at(sim_time t) const {
        double v = level + per_ms * static_cast<double>(t - origin) + table_at(t);
        for (const auto& c : components) v += cosine_at(c, t);
        return v;
    }
};

/// The slots of a regular grid at the cadence: slot(t) = round((t - start) / cadence).
/// Regular series map one point to each slot; gaps leave slots empty.
std::vector<std::int64_t> grid_slots(const std::vector<sim_time>& times, sim_time start,
                                     sim_duration cadence) {
    std::vector<std::int64_t> slots(times.size());
    std::int64_t last = -1;
    for (std::size_t i = 0; i < times.size(); ++i) {
        auto s = static_cast<std::int64_t>(
            std::llround(static_cast<double>(times[i] - start) / static_cast<double>(cadence)));
        if (s <= last) s = last + 1; // jitter never reorders; keep slots distinct
        slots[i] = last = s;
    }
    return slots;
}

/// Values of the points on the grid: 0 (after centring) where a slot is empty.
struct grid_series {
    std::vector<double> values; ///< centred; 0 in empty slots
    std::vector<double> mask;   ///< 1 where a point is
    double mean = 0, variance = 0;
};

grid_series on_grid(const std::vector<double>& x, const std::vector<std::int64_t>& slots) {
    grid_series g;
    if (x.empty()) return g;
    const auto n = static_cast<std::size_t>(slots.back() + 1);
    g.values.assign(n, 0.0);
    g.mask.assign(n, 0.0);
    g.mean = mean_of(x);
    double ss = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const auto s = static_cast<std::size_t>(slots[i]);
        g.values[s] = x[i] - g.mean;
        g.mask[s] = 1;
        ss += (x[i] - g.mean) * (x[i] - g.mean);
    }
    g.variance = ss / static_cast<double>(x.size());
    return g;
}

/// The autocorrelation at `lag` of a series with empty slots: the mean lagged product over
/// the pairs where both slots hold a point, over the variance; nullopt with fewer than ten
/// pairs.
std::optional<double> masked_acf(const grid_series& g, std::size_t lag) {
    const std::size_t n = g.values.size();
    if (lag >= n || g.variance <= 0) return std::nullopt;
    const std::size_t m = n - lag;
    const Eigen::Map<const Eigen::VectorXd> v(g.values.data(), static_cast<Eigen::Index>(n));
    const Eigen::Map<const Eigen::VectorXd> w(g.mask.data(), static_cast<Eigen::Index>(n));
    const auto k = static_cast<Eigen::Index>(lag), len = static_cast<Eigen::Index>(m);
    const double pairs = w.head(len).dot(w.segment(k, len));
    if (pairs < 10) return std::nullopt;
    return v.head(len).dot(v.segment(k, len)) / pairs / g.variance;
}

// ---------------------------------------------------------------------------------------
// Level, trend and rhythm.

/// A column of the dense design.
struct design_column {
    std::string family; ///< "level", "trend", "daily", "weekly", "yearly"
    enum { level, trend, harmonic } kind = harmonic;
    sim_duration period = 0;
    int k = 0;
    bool sine = false;
};

struct family_spec {
    const char* name;
    sim_duration period;
    int max_k;
};
constexpr family_spec families[] = {
    {"daily", ms_per_day, 4}, {"weekly", ms_per_week, 6}, {"yearly", ms_per_year, 3}};

/// Cross products of the design over a set of points: what least squares needs.
struct cross_products {
    Eigen::MatrixXd gram;          ///< D'D over the dense columns
    Eigen::VectorXd xy;            ///< D'y
    double yy = 0;                 ///< y'y
    std::vector<double> bin_count; ///< points per hour of the week
    std::vector<double> bin_y;     ///< Σy per hour
    Eigen::MatrixXd bin_x;         ///< Σ of each dense column per hour (168 × p)

    cross_products& operator-=(const cross_products& o) {
        gram -= o.gram;
        xy -= o.xy;
        yy -= o.yy;
        for (std::size_t b = 0; b < bin_count.size(); ++b)
            bin_count[b] -= o.bin_count[b], bin_y[b] -= o.bin_y[b];
        bin_x -= o.bin_x;
        return *this;
    }
    cross_products& operator+=(const cross_products& o) {
        gram += o.gram;
        xy += o.xy;
        yy += o.yy;
        for (std::size_t b = 0; b < bin_count.size(); ++b)
            bin_count[b] += o.bin_count[b], bin_y[b] += o.bin_y[b];
        bin_x += o.bin_x;
        return *this;
    }
};

/// Blocked cross-validation folds of the rhythm choice.
constexpr std::size_t rhythm_folds = 5;

/// Least squares on cross products: the design's are formed once per fold, so every
/// candidate model costs a few small LDLT solves (Eigen) instead of passes over the data.
class rhythm_design {
  public:
    rhythm_design(const std::vector<sim_time>& t, const std::vector<double>& y, sim_time origin,
                  sim_duration cadence)
        : origin_(origin), n_(t.size()) {
        const sim_time first = t.front(), last = t.back();
        span_ = std::max<sim_duration>(last - first, 1);
        columns_.push_back({"level", design_column::level, 0, 0, false});
        columns_.push_back({"trend", design_column::trend, 0, 0, false});
        for (const auto& f : families) {
            int kmax = 0;
            if (span_ >= 2 * f.period)
                for (int k = 1; k <= f.max_k; ++k)
                    if (f.period / k > 2 * cadence) kmax = k;
            max_k_.push_back(kmax);
            for (int k = 1; k <= kmax; ++k) {
                columns_.push_back({f.name, design_column::harmonic, f.period, k, false});
                columns_.push_back({f.name, design_column::harmonic, f.period, k, true});
            }
        }
        const auto p = static_cast<Eigen::Index>(columns_.size());
        y_mean_ = mean_of(y);
        // Hour-of-week table: eligible over two weeks at an hourly cadence or finer.
        table_ok_ = span_ >= 2 * ms_per_week && cadence <= ms_per_hour;
        const std::size_t folds =
            std::min<std::size_t>(rhythm_folds, std::max<std::size_t>(n_ / 8, 1));
        for (std::size_t f = 0; f < folds; ++f) {
            const std::size_t a = n_ * f / folds, b = n_ * (f + 1) / folds;
            const auto rows = static_cast<Eigen::Index>(b - a);
            Eigen::MatrixXd d(rows, p);
            Eigen::VectorXd yc(rows);
            for (Eigen::Index i = 0; i < rows; ++i) {
                const std::size_t ui = a + static_cast<std::size_t>(i);
                yc(i) = y[ui] - y_mean_;
                for (Eigen::Index j = 0; j < p; ++j)
                    d(i, j) = value(columns_[static_cast<std::size_t>(j)], t[ui]);
            }
            cross_products c;
            c.gram = Eigen::MatrixXd::Zero(p, p);
            c.gram.selfadjointView<Eigen::Lower>().rankUpdate(d.transpose());
            c.gram = c.gram.selfadjointView<Eigen::Lower>();
            c.xy = d.transpose() * yc;
            c.yy = yc.squaredNorm();
            c.bin_count.assign(hours_per_week, 0);
            c.bin_y.assign(hours_per_week, 0);
            c.bin_x = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(hours_per_week), p);
            if (table_ok_)
                for (Eigen::Index i = 0; i < rows; ++i) {
                    const std::size_t bin = hour_of_week(t[a + static_cast<std::size_t>(i)]);
                    c.bin_count[bin] += 1;
                    c.bin_y[bin] += yc(i);
                    c.bin_x.row(static_cast<Eigen::Index>(bin)) += d.row(i);
                }
            if (f == 0)
                total_ = c;
            else
                total_ += c;
            folds_.push_back(std::move(c));
        }
        if (table_ok_) {
            std::size_t filled = 0;
            for (double c : total_.bin_count) filled += c > 0;
            table_ok_ = filled >= hours_per_week * 9 / 10;
        }
    }

    double value(const design_column& c, sim_time t) const {
        if (c.kind == design_column::level) return 1;
        if (c.kind == design_column::trend)
            return static_cast<double>(t - origin_) / static_cast<double>(span_);
        const double theta = two_pi * c.k * turns(t, c.period);
        return c.sine ? std::sin(theta) : std::cos(theta);
    }

    /// The columns of the harmonic model with `ks[f]` harmonics of family f (level first,
    /// then the trend when asked).
    std::vector<int> harmonic_columns(const std::vector<int>& ks, bool level, bool trend) const {
        std::vector<int> idx;
        if (level) idx.push_back(0);
        if (trend) idx.push_back(1);
        for (std::size_t j = 2; j < columns_.size(); ++j) {
            const auto& c = columns_[j];
            for (std::size_t f = 0; f < std::size(families); ++f)
                if (c.family == families[f].name && c.k <= ks[f])
                    idx.push_back(static_cast<int>(j));
        }
        return idx;
    }

    struct solution {
        bool ok = false;
        std::vector<int> dense; ///< dense columns used
        bool table = false;     ///< plus the hour-of-week bins holding data
        std::vector<std::size_t> bins;
        Eigen::VectorXd beta;    ///< dense coefficients, then bins
        Eigen::MatrixXd inverse; ///< (X'X)⁻¹, for standard errors
        double rss = 0;
        std::size_t parameters() const { return static_cast<std::size_t>(beta.size()); }
    };

    /// Least squares over all points on the dense columns `idx`, with the table when `table`.
    solution solve(const std::vector<int>& idx, bool table) const {
        solution s = solve_on(total_, idx, table, 0);
        if (s.ok) s.inverse = inverse_;
        return s;
    }

    /// The mean squared error of predicting each fold from the others (blocked
    /// cross-validation); infinity when a fit fails.
    double held_out_error(const std::vector<int>& idx, bool table) const {
        if (folds_.size() < 2) return std::numeric_limits<double>::infinity();
        double sse = 0;
        for (const cross_products& fold : folds_) {
            cross_products train = total_;
            train -= fold;
            const solution s = solve_on(train, idx, table, 1e-9);
            if (!s.ok) return std::numeric_limits<double>::infinity();
            const auto [g, xy] = system(fold, s);
            sse += fold.yy - 2 * s.beta.dot(xy) + s.beta.dot(g * s.beta);
        }
        return std::max(sse, 0.0) / static_cast<double>(n_);
    }

    /// The model a solution describes, in the profile's terms.
    normal_model model_of(const solution& s) const {
        normal_model m;
        m.origin = origin_;
        m.level = y_mean_;
        std::vector<std::pair<double, double>> ab(columns_.size(), {0.0, 0.0});
        for (std::size_t j = 0; j < s.dense.size(); ++j) {
            const auto col = static_cast<std::size_t>(s.dense[j]);
            const double b = s.beta(static_cast<Eigen::Index>(j));
            const auto& c = columns_[col];
            if (c.kind == design_column::level)
                m.level += b;
            else if (c.kind == design_column::trend)
                m.per_ms = b / static_cast<double>(span_);
            else if (c.sine)
                ab[col - 1].second = b; // the cosine precedes its sine
            else
                ab[col].first = b;
        }
        for (std::size_t j = 2; j < columns_.size(); ++j) {
            const auto& c = columns_[j];
            if (c.sine || (ab[j].first == 0 && ab[j].second == 0)) continue;
            // θ = 2πk·(t mod P)/P = 2π·t/(P/k) exactly, as P/k is a whole number of ms.
            m.components.push_back(cosine_of(ab[j].first, ab[j].second, c.period / c.k, 0,
                                             fmt::format("{} k={}", c.family, c.k)));
        }
        if (s.table) {
            std::vector<double> table(hours_per_week, std::numeric_limits<double>::quiet_NaN());
            double sum = 0;
            for (std::size_t a = 0; a < s.bins.size(); ++a) {
                table[s.bins[a]] = s.beta(static_cast<Eigen::Index>(s.dense.size() + a)) + y_mean_;
                sum += table[s.bins[a]];
            }
            const double level = sum / static_cast<double>(s.bins.size());
            for (double& v : table) v -= level; // NaN stays NaN
            m.level = level;
            m.week_table = std::move(table);
        }
        return m;
    }

    const std::vector<int>& max_k() const { return max_k_; }
    bool table_ok() const { return table_ok_; }
    std::size_t n() const { return n_; }
    sim_duration span() const { return span_; }

  private:
    /// The normal equations of solution `s`'s columns over cross products `c`.
    std::pair<Eigen::MatrixXd, Eigen::VectorXd> system(const cross_products& c,
                                                       const solution& s) const {
        const std::vector<int>& idx = s.dense;
        const auto pd = static_cast<Eigen::Index>(idx.size());
        const auto p = pd + static_cast<Eigen::Index>(s.bins.size());
        Eigen::MatrixXd g = Eigen::MatrixXd::Zero(p, p);
        Eigen::VectorXd xy(p);
        g.topLeftCorner(pd, pd) = c.gram(idx, idx);
        xy.head(pd) = c.xy(idx);
        for (std::size_t a = 0; a < s.bins.size(); ++a) {
            const auto ia = pd + static_cast<Eigen::Index>(a);
            const auto b = static_cast<Eigen::Index>(s.bins[a]);
            for (Eigen::Index j = 0; j < pd; ++j)
                g(ia, j) = g(j, ia) = c.bin_x(b, idx[static_cast<std::size_t>(j)]);
            g(ia, ia) = c.bin_count[s.bins[a]];
            xy(ia) = c.bin_y[s.bins[a]];
        }
        return {g, xy};
    }

    solution solve_on(const cross_products& c, const std::vector<int>& idx, bool table,
                      double ridge) const {
        solution s;
        s.dense = idx;
        s.table = table;
        if (table)
            for (std::size_t b = 0; b < hours_per_week; ++b)
                if (total_.bin_count[b] > 0) s.bins.push_back(b);
        const auto p = static_cast<Eigen::Index>(idx.size() + s.bins.size());
        if (p == 0 || static_cast<std::size_t>(p) + 2 > n_) return s;
        auto [g, xy] = system(c, s);
        if (ridge > 0) g.diagonal().array() += ridge * (g.trace() / static_cast<double>(p) + 1);
        const Eigen::LDLT<Eigen::MatrixXd> ldlt(g);
        if (ldlt.info() != Eigen::Success || !ldlt.isPositive()) return s;
        s.beta = ldlt.solve(xy);
        if (!s.beta.allFinite()) return s;
        if (ridge == 0) inverse_ = ldlt.solve(Eigen::MatrixXd::Identity(p, p));
        s.rss = std::max(c.yy - s.beta.dot(xy), 1e-12 * c.yy);
        s.ok = true;
        return s;
    }

    sim_time origin_;
    std::size_t n_;
    sim_duration span_ = 1;
    double y_mean_ = 0;
    std::vector<design_column> columns_;
    std::vector<int> max_k_;
    cross_products total_;
    std::vector<cross_products> folds_;
    bool table_ok_ = false;
    mutable Eigen::MatrixXd inverse_;
};

/// Fills NaN hours of a week table linearly between the nearest known hours around the week.
std::vector<double> filled_table(std::vector<double> t) {
    const std::size_t n = t.size();
    std::vector<double> known = t;
    if (std::all_of(t.begin(), t.end(), [](double v) { return std::isnan(v); }))
        return std::vector<double>(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isnan(known[i])) continue;
        std::size_t before = 1, after = 1;
        while (std::isnan(known[(i + n - before) % n])) ++before;
        while (std::isnan(known[(i + after) % n])) ++after;
        const double a = known[(i + n - before) % n], b = known[(i + after) % n];
        t[i] = a + (b - a) * static_cast<double>(before) / static_cast<double>(before + after);
    }
    return t;
}

/// Lag-1 autocorrelation of residuals `e` at grid `slots` (pairs of adjacent slots).
double lag1_of(const std::vector<double>& e, const std::vector<std::int64_t>& slots) {
    return masked_acf(on_grid(e, slots), 1).value_or(0.0);
}

std::string harmonic_name(const std::vector<int>& ks) {
    std::string name;
    for (std::size_t f = 0; f < ks.size(); ++f)
        if (ks[f] > 0)
            name += fmt::format("{}{} (k≤{})", name.empty() ? "" : " + ", families[f].name, ks[f]);
    return name.empty() ? "none" : name;
}

struct rhythm_choice {
    fit_rhythm rhythm;
    fit_trend trend;
    normal_model model;
};

/// One candidate of the rhythm choice.
struct rhythm_option {
    std::vector<int> ks; ///< harmonics per family (the table uses only the yearly ones)
    bool table = false;
    std::string name;
    double error = std::numeric_limits<double>::infinity(); ///< held-out mean square
    std::size_t parameters = 0;                             ///< besides level and trend
};

/// Chooses the rhythm and decides the trend (see fit_rhythm and fit_trend).
rhythm_choice choose_rhythm(const std::vector<sim_time>& t, const std::vector<double>& y,
                            const std::vector<std::int64_t>& slots, sim_time origin,
                            sim_duration cadence) {
    const rhythm_design design(t, y, origin, cadence);
    const auto& kmax = design.max_k();
    rhythm_choice out;
    out.model.origin = origin;
    out.model.level = out.trend.level = mean_of(y);
    auto columns_of = [&](const rhythm_option& o, bool trend) {
        if (!o.table) return design.harmonic_columns(o.ks, true, trend);
        return design.harmonic_columns({0, 0, o.ks[2]}, false, trend); // bins hold the level
    };
    std::vector<rhythm_option> options;
    auto consider = [&](const std::vector<int>& ks, bool table) {
        rhythm_option o;
        o.ks = ks;
        o.table = table;
        o.name = table ? "hour-of-week table" +
                             (ks[2] > 0 ? " + yearly (k≤" + std::to_string(ks[2]) + ")" : "")
                       : harmonic_name(ks);
        const std::vector<int> cols = columns_of(o, true);
        o.parameters = cols.size() - (table ? 1 : 2);
        if (table) o.parameters += hours_per_week - 1;
        for (int k : ks) o.parameters += 0 * k;
        o.error = design.held_out_error(cols, table);
        options.push_back(std::move(o));
    };
    for (int kd = 0; kd <= kmax[0]; ++kd)
        for (int kw = 0; kw <= kmax[1]; ++kw)
            for (int ky = 0; ky <= kmax[2]; ++ky) consider({kd, kw, ky}, false);
    if (design.table_ok())
        for (int ky = 0; ky <= kmax[2]; ++ky) consider({0, 0, ky}, true);
    // The least held-out error wins; the simplest option within 0.5 % of it is preferred.
    double least = std::numeric_limits<double>::infinity();
    for (const auto& o : options) least = std::min(least, o.error);
    const rhythm_option* chosen_option = nullptr;
    for (const auto& o : options)
        if (o.error <= least * 1.005 &&
            (!chosen_option || o.parameters < chosen_option->parameters))
            chosen_option = &o;
    // The candidates reported: none, the best harmonic model, the best table.
    const rhythm_option *none = nullptr, *harmonic = nullptr, *table = nullptr;
    for (const auto& o : options) {
        if (!o.table && o.parameters == 0) none = &o;
        if (!o.table && o.parameters > 0 && (!harmonic || o.error < harmonic->error)) harmonic = &o;
        if (o.table && (!table || o.error < table->error)) table = &o;
    }
    for (const rhythm_option* o : {none, harmonic, table})
        if (o && std::isfinite(o->error))
            out.rhythm.candidates.push_back({o->name, o->parameters, std::sqrt(o->error)});
    if (!chosen_option || !std::isfinite(chosen_option->error)) {
        out.rhythm.chosen = "none";
        return out; // too few points for any model: the mean
    }
    const rhythm_option& best = *chosen_option;
    out.rhythm.chosen = best.name;
    const auto chosen = design.solve(columns_of(best, true), best.table);
    if (!chosen.ok) return out;
    normal_model model = design.model_of(chosen);

    // Residual lag-1 autocorrelation r₁ for the trend's standard error.
    std::vector<double> e(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) e[i] = y[i] - model.at(t[i]);
    const double r1 = std::clamp(lag1_of(e, slots), 0.0, 0.995);
    out.rhythm.residual_lag1 = r1;
    const double n = static_cast<double>(design.n());
    out.rhythm.effective_n = std::max(n * (1 - r1) / (1 + r1), 3.0);
    // Trend: |t| ≥ 3 with AR(1)-inflated standard error, and a move over the span of at
    // least a quarter of the residual's standard deviation.
    const auto trend_pos = static_cast<Eigen::Index>(
        std::find(chosen.dense.begin(), chosen.dense.end(), 1) - chosen.dense.begin());
    const double dof = std::max(n - static_cast<double>(chosen.parameters()), 1.0);
    const double sigma2 = chosen.rss / dof;
    const double se =
        std::sqrt(sigma2 * chosen.inverse(trend_pos, trend_pos) * (1 + r1) / (1 - r1));
    const double beta = chosen.beta(trend_pos);
    out.trend.fitted_per_day = beta / static_cast<double>(design.span()) * ms_per_day;
    out.trend.t_stat = se > 0 ? beta / se : 0;
    out.trend.written =
        std::abs(out.trend.t_stat) >= 3 && std::abs(beta) >= 0.25 * std::sqrt(sigma2);
    if (!out.trend.written)
        if (const auto flat = design.solve(columns_of(best, false), best.table); flat.ok)
            model = design.model_of(flat);
    if (!out.trend.written) model.per_ms = 0;
    out.trend.level = model.level;
    out.trend.per_day = model.per_ms * ms_per_day;
    out.rhythm.kind = best.table            ? rhythm_kind::week_table
                      : best.parameters > 0 ? rhythm_kind::harmonics
                                            : rhythm_kind::none;
    out.rhythm.components = model.components;
    out.rhythm.week_table = model.week_table;
    if (none && std::isfinite(none->error) && none->error > 0)
        out.rhythm.variance_share = std::max(0.0, 1 - best.error / none->error);
    if (!model.week_table.empty()) model.week_table = filled_table(model.week_table);
    out.model = std::move(model);
    return out;
}

// ---------------------------------------------------------------------------------------
// Non-calendar cycle.

fit_cycle find_cycle(const std::vector<sim_time>& t, const std::vector<double>& e,
                     const std::vector<std::int64_t>& slots, sim_duration cadence,
                     sim_time origin) {
    fit_cycle c;
    const grid_series g = on_grid(e, slots);
    const std::size_t n = g.values.size();
    if (n < 32 || g.variance <= 0) return c;
    const std::vector<double> p = periodogram(g.values); // p[j-1]: j cycles in n slots
    const double nd = static_cast<double>(n);
    std::vector<bool> excluded(p.size() + 1, false);
    // Calendar harmonics (any daily one; weekly up to 6; yearly up to 3) are the rhythm's.
    for (const auto& f : families) {
        const double base = nd * static_cast<double>(cadence) / static_cast<double>(f.period);
        const int top = f.period == ms_per_day ? 1 << 20 : f.max_k;
        for (int k = 1; k <= top && k * base <= nd / 2 + 2; ++k)
            for (double j = std::ceil(k * base - 1); j <= std::floor(k * base + 1); ++j)
                if (j >= 1 && j <= static_cast<double>(p.size()))
                    excluded[static_cast<std::size_t>(j)] = true;
    }
    std::size_t best = 0;
    const auto top_j = static_cast<std::size_t>(nd / 2.2);
    for (std::size_t j = 3; j <= std::min(top_j, p.size()); ++j)
        if (!excluded[j] && (best == 0 || p[j - 1] > p[best - 1])) best = j;
    if (best == 0 || p[best - 1] <= 0) return c;
    const std::size_t w = std::max<std::size_t>(10, best / 10);
    std::vector<double> around;
    for (std::size_t j = best > w ? best - w : 1; j <= std::min(best + w, p.size()); ++j)
        if (j + 2 < best || j > best + 2) around.push_back(p[j - 1]);
    const double background = median(around);
    c.candidate_period =
        static_cast<sim_duration>(nd * static_cast<double>(cadence) / static_cast<double>(best));
    c.peak_ratio =
        background > 0 ? p[best - 1] / background : std::numeric_limits<double>::infinity();
    if (c.peak_ratio < 20) return c;

    // Refine the frequency by least squares of the residual on cos/sin at the points' times.
    double rss0 = 0;
    for (double x : e) rss0 += x * x;
    auto fit_at = [&](double cycles_per_ms, double& a, double& b) {
        Eigen::Matrix2d gm = Eigen::Matrix2d::Zero();
        Eigen::Vector2d xy = Eigen::Vector2d::Zero();
        for (std::size_t i = 0; i < t.size(); ++i) {
            const double theta = two_pi * cycles_per_ms * static_cast<double>(t[i] - origin);
            const Eigen::Vector2d x(std::cos(theta), std::sin(theta));
            gm += x * x.transpose();
            xy += x * e[i];
        }
        const Eigen::Vector2d beta = gm.ldlt().solve(xy);
        a = beta(0), b = beta(1);
        return rss0 - beta.dot(xy);
    };
    const double span = nd * static_cast<double>(cadence);
    double f_best = static_cast<double>(best) / span, rss_best = rss0, a = 0, b = 0;
    for (double width : {1.0, 0.1}) { // ±1 Fourier bin in 20 steps, then ±0.1 bin
        const double centre = f_best;
        for (int s = -10; s <= 10; ++s) {
            const double f = centre + width * s / 10.0 / span;
            if (f <= 0) continue;
            double aa = 0, bb = 0;
            const double rss = fit_at(f, aa, bb);
            if (rss < rss_best) rss_best = rss, f_best = f;
        }
    }
    const auto period = static_cast<sim_duration>(std::llround(1 / f_best));
    if (period < 2 * cadence) return c;
    c.variance_share = rss0 > 0 ? 1 - fit_at(1.0 / static_cast<double>(period), a, b) / rss0 : 0;
    if (c.variance_share < 0.05) return c;
    c.found = true;
    c.component = cosine_of(a, b, period, origin, "cycle");
    return c;
}

// ---------------------------------------------------------------------------------------
// Regimes.

/// Newey-West (1987) long-run variance of `x` (in time order, gaps ignored): the variance
/// times 1 + 2·Σ (1 - k/(B+1))·r_k over B = `bandwidth` lags (Bartlett weights; the sample
/// ACF r_k by FFTW).
double long_run_variance(const std::vector<double>& x, std::size_t bandwidth) {
    if (x.size() < 2) return 0;
    const double v = sample_moments(x).stddev;
    const std::vector<double> r = autocorrelation(x, std::min(bandwidth, x.size() - 1));
    double sum = 1;
    for (std::size_t k = 1; k < r.size(); ++k)
        sum += 2 * (1 - static_cast<double>(k) / static_cast<double>(bandwidth + 1)) * r[k];
    return v * v * std::max(sum, 1.0);
}

/// Binary segmentation of x[a, b) (see fit_regime). The CUSUM S_k = Σ_{i<k}(x_i - mean)
/// runs from 0 to 0; its highest and lowest points are where a level change most likely
/// starts and ends (one of them at an end of the segment for a single change). The cuts are
/// kept when the range max S - min S over √(m·σ²_LR) exceeds 2.303, the 0.1 % point of
/// Kuiper's V, the range of a Brownian bridge (strict, as segmentation tests many times), with
/// σ²_LR the long-run variance of x less the means of the parts the cuts make (under the
/// alternative, so the shift itself does not inflate it).
void segment(const std::vector<double>& x, std::size_t a, std::size_t b, std::size_t bandwidth,
             std::size_t min_len, std::vector<std::size_t>& cuts, int depth) {
    const std::size_t m = b - a;
    if (depth > 8 || m < 2 * min_len) return;
    const auto first = x.begin() + static_cast<std::ptrdiff_t>(a);
    const double mean = std::accumulate(first, x.begin() + static_cast<std::ptrdiff_t>(b), 0.0) /
                        static_cast<double>(m);
    double s = 0, high = 0, low = 0;
    std::size_t at_high = 0, at_low = 0; // offsets in [0, m]
    for (std::size_t k = 1; k <= m; ++k) {
        s += x[a + k - 1] - mean;
        if (s > high) high = s, at_high = k;
        if (s < low) low = s, at_low = k;
    }
    std::vector<std::size_t> local; // cuts as offsets, each at least min_len from the others
    for (std::size_t k : {std::min(at_high, at_low), std::max(at_high, at_low)}) {
        const std::size_t previous = local.empty() ? 0 : local.back();
        if (k >= previous + min_len && k + min_len <= m) local.push_back(k);
    }
    if (local.empty()) return;
    std::vector<double> centred(first, x.begin() + static_cast<std::ptrdiff_t>(b));
    std::vector<std::size_t> bounds{0};
    bounds.insert(bounds.end(), local.begin(), local.end());
    bounds.push_back(m);
    for (std::size_t p = 0; p + 1 < bounds.size(); ++p) {
        const auto lo = centred.begin() + static_cast<std::ptrdiff_t>(bounds[p]);
        const auto hi = centred.begin() + static_cast<std::ptrdiff_t>(bounds[p + 1]);
        const double part_mean = std::accumulate(lo, hi, 0.0) / static_cast<double>(hi - lo);
        std::for_each(lo, hi, [part_mean](double& v) { v -= part_mean; });
    }
    const double lrv = long_run_variance(centred, bandwidth);
    if (lrv <= 0 || (high - low) / std::sqrt(static_cast<double>(m) * lrv) < 2.303) return;
    for (std::size_t k : local) cuts.push_back(a + k);
    for (std::size_t p = 0; p + 1 < bounds.size(); ++p)
        segment(x, a + bounds[p], a + bounds[p + 1], bandwidth, min_len, cuts, depth + 1);
}

double weighted_median(std::vector<std::pair<double, double>> vw) {
    std::sort(vw.begin(), vw.end());
    double total = 0;
    for (const auto& p : vw) total += p.second;
    double acc = 0;
    for (const auto& p : vw)
        if ((acc += p.second) >= total / 2) return p.first;
    return vw.empty() ? 0 : vw.back().first;
}

struct regime_result {
    std::vector<fit_regime> rows;
    std::vector<double> adjusted; ///< the residual with regimes taken out
    double baseline = 0;
};

regime_result find_regimes(const std::vector<sim_time>& t, const std::vector<double>& r,
                           sim_duration cadence) {
    regime_result out;
    out.adjusted = r;
    const std::size_t n = r.size();
    const std::size_t per_day =
        static_cast<std::size_t>(std::max<sim_duration>(ms_per_day / cadence, 1));
    const std::size_t min_len = std::max<std::size_t>(12, std::min(per_day, n / 10));
    if (n < 2 * min_len) return out;
    const std::size_t bandwidth = std::max<std::size_t>(1, min_len / 2);
    std::vector<std::size_t> cuts{0, n};
    segment(r, 0, n, bandwidth, min_len, cuts, 0);
    std::sort(cuts.begin(), cuts.end());
    // Spread: squared deviations from each level segment's mean.
    std::vector<double> sq(n);
    for (std::size_t s = 0; s + 1 < cuts.size(); ++s) {
        const double m = mean_of({r.begin() + static_cast<std::ptrdiff_t>(cuts[s]),
                                  r.begin() + static_cast<std::ptrdiff_t>(cuts[s + 1])});
        for (std::size_t i = cuts[s]; i < cuts[s + 1]; ++i) sq[i] = (r[i] - m) * (r[i] - m);
    }
    const std::vector<std::size_t> level_cuts = cuts;
    for (std::size_t s = 0; s + 1 < level_cuts.size(); ++s)
        segment(sq, level_cuts[s], level_cuts[s + 1], bandwidth, min_len, cuts, 0);
    std::sort(cuts.begin(), cuts.end());
    if (cuts.size() <= 2) return out;

    // Level regimes are judged on the level pass's segments, spread regimes on the final ones.
    struct seg {
        std::size_t a, b;
        double mean, sd;
        std::size_t parent; ///< the level segment holding it
    };
    auto make_segments = [&r](const std::vector<std::size_t>& bounds) {
        std::vector<seg> out;
        for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
            const std::vector<double> part(r.begin() + static_cast<std::ptrdiff_t>(bounds[s]),
                                           r.begin() + static_cast<std::ptrdiff_t>(bounds[s + 1]));
            out.push_back({bounds[s], bounds[s + 1], mean_of(part), sd_of(part), 0});
        }
        return out;
    };
    const std::vector<seg> levels = make_segments(level_cuts);
    std::vector<seg> finals = make_segments(cuts);
    std::vector<std::pair<double, double>> means, sds;
    for (const seg& l : levels) means.emplace_back(l.mean, static_cast<double>(l.b - l.a));
    for (seg& f : finals) {
        while (levels[f.parent].b <= f.a) ++f.parent;
        sds.emplace_back(f.sd, static_cast<double>(f.b - f.a));
    }
    const double base_mean = weighted_median(means), base_sd = weighted_median(sds);
    if (base_sd <= 0) return out;
    fit_regime level, spread;
    level.level = true;
    spread.level = false;
    double level_scale = 0, spread_scale = 0;
    sim_duration regime_time = 0;
    bool any = false;
    auto add = [&](fit_regime& row, const seg& s, double shift, double ratio) {
        any = true;
        const sim_duration d = t[s.b - 1] - t[s.a] + cadence;
        regime_time += d;
        if (row.count == 0) {
            row.duration_lo = row.duration_hi = d;
            row.shift_lo = row.shift_hi = shift;
        }
        row.count += 1;
        row.duration_lo = std::min(row.duration_lo, d);
        row.duration_hi = std::max(row.duration_hi, d);
        row.shift_lo = std::min(row.shift_lo, shift);
        row.shift_hi = std::max(row.shift_hi, shift);
        (row.level ? level_scale : spread_scale) += ratio;
        for (std::size_t i = s.a; i < s.b; ++i)
            out.adjusted[i] = (r[i] - s.mean) / ratio + base_mean;
    };
    std::vector<bool> shifted(levels.size(), false);
    for (std::size_t l = 0; l < levels.size(); ++l) {
        const seg& s = levels[l];
        if (std::abs(s.mean - base_mean) <= base_sd) continue;
        shifted[l] = true;
        add(level, s, s.mean - base_mean, std::clamp(s.sd / base_sd, 0.1, 10.0));
    }
    for (const seg& f : finals) {
        const double ratio = f.sd / base_sd;
        if (shifted[f.parent] || (ratio <= 1.5 && ratio >= 1 / 1.5)) continue;
        seg s = f;
        s.mean = levels[f.parent].mean;
        add(spread, s, 0.0, ratio);
    }
    if (!any) return out;
    out.baseline = base_mean;
    for (double& x : out.adjusted) x -= base_mean;
    const double normal_days =
        std::max(static_cast<double>(t.back() - t.front() + cadence - regime_time),
                 static_cast<double>(cadence)) /
        ms_per_day;
    if (level.count > 0) {
        level.scale = level_scale / static_cast<double>(level.count);
        level.rate_per_day = static_cast<double>(level.count) / normal_days;
        out.rows.push_back(level);
    }
    if (spread.count > 0) {
        spread.scale = spread_scale / static_cast<double>(spread.count);
        spread.rate_per_day = static_cast<double>(spread.count) / normal_days;
        out.rows.push_back(spread);
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// Residual correlation and marginal.

/// Lags 1..48, then ×1.25 up to `top`.
std::vector<std::size_t> acf_lags_for(std::size_t grid, std::size_t points) {
    std::vector<std::size_t> lags;
    const std::size_t top = std::min<std::size_t>({grid / 8, 2000});
    const std::size_t dense = std::min<std::size_t>(48, std::max<std::size_t>(points / 4, 1));
    for (std::size_t k = 1; k <= dense; ++k) lags.push_back(k);
    for (double k = 60; k <= static_cast<double>(top); k *= 1.25)
        lags.push_back(static_cast<std::size_t>(k));
    return lags;
}

/// The correlation a Gaussian copula passes on: for X = T(Z) with T the quantile map (Φ then
/// the quantiles), corr(T(Z₁), T(Z₂)) = Σⱼ aⱼ²ρʲ / Var T when corr(Z₁, Z₂) = ρ, aⱼ = E[T(Z)hⱼ(Z)]
/// over the normalised Hermite polynomials hⱼ = Heⱼ/√j! (the NORTA / ARTA correlation map:
/// Cario & Nelson 1996, "Autoregressive to anything", Operations Research Letters 19(2)).
struct copula_correlation {
    std::vector<double> a2; ///< aⱼ², j = 1..
    double variance = 0;

    copula_correlation(const std::vector<double>& q, const std::vector<double>& p) {
        constexpr double z_max = 8.5, step = 0.005;
        constexpr std::size_t terms = 40;
        std::vector<double> a(terms + 1, 0.0);
        double m1 = 0, m2 = 0;
        for (double z = -z_max; z <= z_max; z += step) {
            const double w = step * std::exp(-z * z / 2) / std::sqrt(2 * std::numbers::pi);
            const double t = quantile_map(q, p, z);
            m1 += w * t;
            m2 += w * t * t;
            double h0 = 1, h1 = z; // h_{j+1} = (z·h_j − √j·h_{j−1}) / √(j+1)
            for (std::size_t j = 1; j <= terms; ++j) {
                a[j] += w * t * h1;
                const double next = (z * h1 - std::sqrt(static_cast<double>(j)) * h0) /
                                    std::sqrt(static_cast<double>(j + 1));
                h0 = h1;
                h1 = next;
            }
        }
        variance = m2 - m1 * m1;
        for (std::size_t j = 1; j <= terms; ++j) a2.push_back(a[j] * a[j]);
    }
    double operator()(double rho) const {
        double s = 0, power = 1;
        for (double c : a2) s += c * (power *= rho);
        return variance > 0 ? s / variance : rho;
    }
    /// The latent ρ whose image is `target` (bisection; capped at ±0.9999).
    double inverse(double target) const {
        if (!(variance > 0)) return target;
        double lo = -0.9999, hi = 0.9999;
        if (target >= (*this)(hi)) return hi;
        if (target <= (*this)(lo)) return lo;
        for (int i = 0; i < 60; ++i) {
            const double mid = (lo + hi) / 2;
            ((*this)(mid) < target ? lo : hi) = mid;
        }
        return (lo + hi) / 2;
    }
};

/// What the latent residual's autocorrelation must be at a lag, when the caller knows better
/// than the residual's own (the copula of the whole signal); nullopt: the residual's own.
using acf_target = std::function<std::optional<double>(std::size_t lag)>;

fit_residual fit_residual_model(const std::vector<double>& r,
                                const std::vector<std::int64_t>& slots,
                                const acf_target& target = {}) {
    fit_residual out;
    out.sd = sd_of(r);
    const std::size_t n = r.size();
    out.probabilities = marginal_probabilities();
    out.quantiles = sample_quantiles_at(r, out.probabilities);
    const grid_series z = on_grid(normal_scores(r), slots);
    for (std::size_t k : acf_lags_for(z.values.size(), n))
        if (const auto a = masked_acf(z, k)) {
            out.lags.push_back(k);
            out.acf.push_back(*a);
        }
    // The values' own (Pearson) correlation is what the generated series must show once the
    // latent process goes through the quantile map, which weakens it (a heavy tail, most):
    // fit the latent process to the correlations that map onto the values' ones.
    const copula_correlation map(out.quantiles, out.probabilities);
    const grid_series raw = on_grid(r, slots);
    for (std::size_t i = 0; i < out.lags.size(); ++i) {
        if (const auto a = masked_acf(raw, out.lags[i])) out.acf[i] = map.inverse(*a);
        if (target)
            if (const auto t = target(out.lags[i])) out.acf[i] = std::clamp(*t, -0.9999, 0.9999);
    }
    out.lag1 = !out.lags.empty() && out.lags.front() == 1 ? out.acf.front() : 0;
    std::vector<std::pair<double, double>> parts;
    if (out.lags.size() >= 3 && out.lag1 >= 0.05) {
        const exponential_fit one = fit_acf_exponentials(out.lags, out.acf, 1);
        out.rmse_one = one.rmse;
        parts = one.parts;
        if (out.lags.size() >= 8) {
            const exponential_fit two = fit_acf_exponentials(out.lags, out.acf, 2);
            out.rmse_two = two.rmse;
            const double floor = std::max(0.02, 2 / std::sqrt(static_cast<double>(n)));
            if (one.rmse > floor && two.rmse < 0.9 * one.rmse && two.parts.size() == 2)
                parts = two.parts;
        }
    }
    double share = 0;
    for (const auto& p : parts) share += p.first;
    if (parts.empty() || share <= 0) { // white: one part with φ = 0 carries the marginal
        parts = {{1.0, 0.0}};
        share = 1;
    }
    out.noise_share = 1 - share;
    if (out.noise_share < 0.02) {
        for (auto& p : parts) p.first /= share;
        out.noise_share = 0;
    }
    // Quantile-based shape (robust to the spikes that dominate moments): Bowley's skewness
    // and the 1 %..99 % range in interquartile ranges (Gaussian: 0 and 3.45).
    const std::vector<double> q100 = sample_quantiles(r, 101);
    const double iqr = q100[75] - q100[25];
    out.robust_sd = iqr / 1.349;
    out.gaussian = iqr > 0 && std::abs(q100[75] + q100[25] - 2 * q100[50]) / iqr <= 0.1 &&
                   (q100[99] - q100[1]) / iqr <= 4.0;
    if (out.noise_share > 0) {
        if (out.gaussian || parts.size() == 2) {
            out.noise_sd = std::sqrt(out.noise_share) * (out.gaussian ? out.sd : out.robust_sd);
        } else { // the white share keeps the residual's shape: an independent part (φ = 0)
            parts.insert(parts.begin(), {out.noise_share, 0.0});
            out.white_part = true;
        }
    }
    for (const auto& [c, phi] : parts) {
        fit_ou o;
        o.phi = phi;
        o.share = c;
        o.stationary_sd = std::sqrt(c) * out.sd;
        o.innovation_sd = o.stationary_sd * std::sqrt(std::max(0.0, 1 - phi * phi));
        out.ou.push_back(std::move(o));
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// Quantisation and bounds.

int decimals_of(double r) {
    for (int d = 0; d <= 9; ++d) {
        const double scaled = r * std::pow(10.0, d);
        if (std::abs(scaled - std::round(scaled)) <= 1e-6 * std::max(1.0, scaled)) return d;
    }
    return 9;
}

fit_quantisation fit_quantisation_of(const std::vector<double>& v, double residual_sd) {
    fit_quantisation q;
    q.integer = std::all_of(v.begin(), v.end(), [](double x) { return x == std::round(x); });
    q.resolution = value_resolution(v);
    if (q.integer && q.resolution < 1) q.resolution = 1;
    // Without a grid: three significant decimals of the spread, at least three decimals.
    const double spread = sd_of(v);
    q.precision = q.resolution > 0 ? decimals_of(q.resolution)
                  : spread > 0
                      ? std::clamp(3 - static_cast<int>(std::floor(std::log10(spread))), 3, 9)
                      : 3;
    if (q.integer) q.precision = 0;
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    const double sd = std::max(sd_of(v), residual_sd);
    const auto at_lo = static_cast<std::size_t>(std::count(v.begin(), v.end(), *lo));
    const auto at_hi = static_cast<std::size_t>(std::count(v.begin(), v.end(), *hi));
    const std::size_t floor_count = std::max<std::size_t>(3, v.size() / 200);
    if (at_lo >= floor_count) {
        q.min = *lo;
        q.min_reason =
            fmt::format("{} values ({:.2g} %) sit at the minimum {}", at_lo,
                        100.0 * static_cast<double>(at_lo) / static_cast<double>(v.size()), *lo);
    } else if (*lo >= 0 && *lo <= 2 * sd) {
        q.min = 0;
        q.min_reason = fmt::format("never negative (least value {})", *lo);
    }
    if (at_hi >= floor_count && *hi > *lo) {
        q.max = *hi;
        q.max_reason =
            fmt::format("{} values ({:.2g} %) sit at the maximum {}", at_hi,
                        100.0 * static_cast<double>(at_hi) / static_cast<double>(v.size()), *hi);
    }
    return q;
}

// ---------------------------------------------------------------------------------------
// Labelled anomalies.

std::vector<fit_anomaly> fit_anomalies(const std::vector<sim_time>& t, const std::vector<double>& y,
                                       const std::vector<bool>& anomalous, const normal_model& m,
                                       const std::vector<double>& residual, double baseline,
                                       const fit_timing& timing, std::size_t& windows,
                                       std::size_t& quiet) {
    windows = quiet = 0;
    if (anomalous.empty()) return {};
    const std::vector<double> rq = sample_quantiles(residual, 1001); // 0.1 % steps
    const double sd = sd_of(residual);
    const double lo = std::min(rq.empty() ? 0 : rq[1], -3 * sd);
    const double hi = std::max(rq.empty() ? 0 : rq[999], 3 * sd);
    struct episode {
        bool spike;
        double magnitude;
        sim_duration duration;
    };
    std::vector<episode> found;
    for (std::size_t i = 0; i < t.size();) {
        if (!anomalous[i]) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < t.size() && anomalous[j]) ++j;
        ++windows;
        // Runs of excess of one sign, bridging up to two points back within the normal range.
        const std::size_t before = found.size();
        for (std::size_t k = i; k < j;) {
            const double ek = y[k] - m.at(t[k]) - baseline;
            if (ek <= hi && ek >= lo) {
                ++k;
                continue;
            }
            const bool up = ek > hi;
            std::vector<double> run{ek};
            std::size_t last = k, next = k + 1, quiet_points = 0;
            for (; next < j && quiet_points <= 2; ++next) {
                const double en = y[next] - m.at(t[next]) - baseline;
                if (up ? en > hi : en < lo) {
                    for (std::size_t q = last + 1; q <= next; ++q)
                        run.push_back(y[q] - m.at(t[q]) - baseline);
                    last = next, quiet_points = 0;
                } else {
                    ++quiet_points;
                }
            }
            if (last - k + 1 <= 2) {
                const double peak = up ? *std::max_element(run.begin(), run.end())
                                       : *std::min_element(run.begin(), run.end());
                found.push_back({true, peak, 0});
            } else {
                found.push_back({false, median(run), t[last] - t[k] + timing.cadence});
            }
            k = last + 1;
        }
        if (found.size() == before) ++quiet;
        i = j;
    }
    const double days =
        std::max(static_cast<double>(timing.end - timing.start + timing.cadence), 1.0) / ms_per_day;
    std::vector<fit_anomaly> rows;
    for (bool spike : {true, false}) {
        fit_anomaly a;
        a.kind = spike ? "spike" : "level_shift";
        bool ups = false, downs = false;
        for (const episode& ep : found) {
            if (ep.spike != spike) continue;
            const double mag = std::abs(ep.magnitude);
            if (a.count == 0) {
                a.magnitude_lo = a.magnitude_hi = mag;
                a.duration_lo = a.duration_hi = ep.duration;
            }
            ++a.count;
            a.magnitude_lo = std::min(a.magnitude_lo, mag);
            a.magnitude_hi = std::max(a.magnitude_hi, mag);
            a.duration_lo = std::min(a.duration_lo, ep.duration);
            a.duration_hi = std::max(a.duration_hi, ep.duration);
            (ep.magnitude >= 0 ? ups : downs) = true;
        }
        if (a.count == 0) continue;
        a.direction = ups && downs ? "both" : ups ? "up" : "down";
        a.rate_per_day = static_cast<double>(a.count) / days;
        rows.push_back(a);
    }
    return rows;
}

} // namespace

// ---------------------------------------------------------------------------------------

fit_timing fit_cadence(const std::vector<sim_time>& times) {
    fit_timing f;
    f.points = times.size();
    if (times.empty()) return f;
    f.start = times.front();
    f.end = times.back();
    if (times.size() < 2) return f;
    std::vector<double> intervals(times.size() - 1);
    for (std::size_t i = 1; i < times.size(); ++i)
        intervals[i - 1] = static_cast<double>(times[i] - times[i - 1]);
    const double med = median(intervals);
    // Jittered intervals stay within (0, 2c): their mean there is the cadence, far more
    // precisely than their median.
    double sum = 0;
    std::size_t count = 0;
    for (double d : intervals)
        if (d < 2 * med) sum += d, ++count;
    double c = count > 0 ? sum / static_cast<double>(count) : med;
    // A round cadence within 0.1 % is the one meant (60 000.4 ms is a minute).
    for (const sim_duration unit :
         {ms_per_hour, sim_duration{60'000}, ms_per_second, sim_duration{100}, sim_duration{10}}) {
        const double round = std::round(c / static_cast<double>(unit)) * static_cast<double>(unit);
        if (round > 0 && std::abs(round - c) <= 0.001 * c) {
            c = round;
            break;
        }
    }
    f.cadence = std::max<sim_duration>(1, static_cast<sim_duration>(std::llround(c)));
    std::vector<double> deviations;
    for (double d : intervals)
        if (d < 2 * c) deviations.push_back(std::abs(d - static_cast<double>(f.cadence)));
    const double md = median(deviations);
    f.median_deviation = static_cast<sim_duration>(std::llround(md));
    if (md > 0) {
        const double j = md / (2 - std::numbers::sqrt2);
        const sim_duration cap = (f.cadence - 1) / 2; // strictly below cadence / 2
        f.jitter = std::clamp<sim_duration>(static_cast<sim_duration>(std::llround(j)), 0, cap);
    }
    // A gap: longer than 1.5 cadences and than jitter can stretch an interval (c + 2j).
    const double gap = std::max(1.5 * static_cast<double>(f.cadence),
                                static_cast<double>(f.cadence + 2 * f.jitter));
    for (double d : intervals)
        if (d > gap) {
            ++f.gaps;
            f.longest_gap = std::max(f.longest_gap, static_cast<sim_duration>(d));
        }
    return f;
}

std::vector<double> marginal_probabilities() {
    static constexpr double tails[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03};
    std::vector<double> p{0};
    for (double t : tails) p.push_back(t);
    for (int i = 2; i <= 38; ++i) p.push_back(0.025 * i); // 0.05 .. 0.95
    for (auto it = std::rbegin(tails); it != std::rend(tails); ++it) p.push_back(1 - *it);
    p.push_back(1);
    return p;
}

std::vector<double> sample_quantiles(std::vector<double> v, std::size_t count) {
    std::vector<double> p(count);
    for (std::size_t i = 0; i < count; ++i)
        p[i] = count == 1 ? 0 : static_cast<double>(i) / static_cast<double>(count - 1);
    return sample_quantiles_at(std::move(v), p);
}

std::vector<double> normal_scores(const std::vector<double>& v) {
    const std::size_t n = v.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&v](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<double> z(n);
    const boost::math::normal standard;
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i;
        while (j < n && v[order[j]] == v[order[i]]) ++j;
        const double rank =
            (static_cast<double>(i) + static_cast<double>(j - 1)) / 2 + 1; // average
        const double score = boost::math::quantile(standard, (rank - 0.5) / static_cast<double>(n));
        for (std::size_t k = i; k < j; ++k) z[order[k]] = score;
        i = j;
    }
    return z;
}

double value_resolution(const std::vector<double>& values) {
    std::vector<double> u = values;
    std::sort(u.begin(), u.end());
    u.erase(std::unique(u.begin(), u.end()), u.end());
    if (u.size() < 2) return 0;
    const double range = u.back() - u.front();
    double gap = std::numeric_limits<double>::infinity();
    for (std::size_t i = 1; i < u.size(); ++i) gap = std::min(gap, u[i] - u[i - 1]);
    if (!(gap > 1e-6 * range)) return 0;
    for (int divisor : {1, 2, 3, 4, 5, 10}) {
        double r = gap / divisor;
        // Snap to the decimal it is meant to be (0.07 - 0.06 is 0.010000000000000009).
        const int d = decimals_of(r);
        if (d < 9) r = std::round(r * std::pow(10.0, d)) / std::pow(10.0, d);
        const bool on_grid = std::all_of(u.begin(), u.end(), [r](double x) {
            const double k = x / r;
            return std::abs(k - std::round(k)) <= 1e-6 + 1e-9 * std::abs(k);
        });
        if (on_grid) return r;
    }
    return 0;
}

exponential_fit fit_acf_exponentials(const std::vector<std::size_t>& lags,
                                     const std::vector<double>& acf, int parts) {
    exponential_fit best;
    best.rmse = std::numeric_limits<double>::infinity();
    const auto m = static_cast<Eigen::Index>(lags.size());
    if (m == 0) return best;
    const Eigen::Map<const Eigen::VectorXd> rho(acf.data(), m);
    auto powers = [&](double phi) {
        Eigen::VectorXd p(m);
        for (Eigen::Index i = 0; i < m; ++i)
            p(i) = std::pow(phi, static_cast<double>(lags[static_cast<std::size_t>(i)]));
        return p;
    };
    auto rmse_of = [&](const Eigen::VectorXd& fitted) {
        return std::sqrt((rho - fitted).squaredNorm() / static_cast<double>(m));
    };
    // φ = 1 - e^u on a grid of u from ln(1e-4) to 0 (φ from 0.9999 down to 0).
    auto phi_of = [](double u) { return 1 - std::exp(u); };
    const double u_lo = std::log(1e-4), u_hi = 0;
    auto try_one = [&](double u) {
        const double phi = phi_of(u);
        const Eigen::VectorXd p = powers(phi);
        const double den = p.squaredNorm();
        const double c = den > 0 ? std::clamp(p.dot(rho) / den, 0.0, 1.0) : 0;
        const double e = rmse_of(c * p);
        if (e < best.rmse) best = {{{c, phi}}, e};
    };
    auto try_two = [&](double u1, double u2) {
        const double f1 = phi_of(u1), f2 = phi_of(u2); // u1 > u2: f1 < f2 (fast, slow)
        if (!(f1 < f2)) return;
        Eigen::MatrixXd x(m, 2);
        x.col(0) = powers(f1);
        x.col(1) = powers(f2);
        Eigen::Vector2d c = x.colPivHouseholderQr().solve(rho);
        if (c(0) < 0 || c(1) < 0) return; // a one-part fit covers the boundary
        if (c.sum() > 1) {                // on the line c1 + c2 = 1
            const Eigen::VectorXd d = x.col(0) - x.col(1);
            const double c1 = std::clamp(d.dot(rho - x.col(1)) / d.squaredNorm(), 0.0, 1.0);
            c = Eigen::Vector2d(c1, 1 - c1);
        }
        const double e = rmse_of(x * c);
        if (e < best.rmse) best = {{{c(0), f1}, {c(1), f2}}, e};
    };
    constexpr int steps = 120;
    const double h = (u_hi - u_lo) / steps;
    if (parts == 1) {
        for (int i = 0; i <= steps; ++i) try_one(u_lo + i * h);
        for (double width = h; width > h / 1000; width /= 10) {
            const double centre = std::log(1 - best.parts.front().second);
            for (int i = -10; i <= 10; ++i) try_one(std::min(u_hi, centre + i * width / 5));
        }
        return best;
    }
    for (int i = 0; i <= steps; ++i)
        for (int j = 0; j < i; ++j) try_two(u_lo + i * h, u_lo + j * h);
    if (best.parts.size() != 2) {
        const exponential_fit one = fit_acf_exponentials(lags, acf, 1);
        return one;
    }
    for (double width = h; width > h / 1000; width /= 10) {
        const double c1 = std::log(1 - best.parts[0].second),
                     c2 = std::log(1 - best.parts[1].second);
        for (int i = -5; i <= 5; ++i)
            for (int j = -5; j <= 5; ++j)
                try_two(std::min(u_hi, c1 + i * width / 2.5), std::min(u_hi, c2 + j * width / 2.5));
    }
    return best;
}

namespace {
/// The value-scale facts a copula fit matches: the values' quantile map and the values.
struct copula_scale {
    const copula_correlation* map;
    const std::vector<double>* values;
};

field_fit fit_additive(std::string column, const std::vector<sim_time>& times,
                       const std::vector<double>& values, const std::vector<bool>& anomalous,
                       const fit_timing& timing, const copula_scale* copula = nullptr);

/// Why the whole signal is better fitted as a Gaussian copula, or nullptr: when values pile up
/// at a bound (at least 0.5 % of them at the least or greatest value: counts at 0, a
/// saturated sensor) or the additive residual has a long one-sided tail (its 0.1 % or 99.9 %
/// quantile more than 4 interquartile ranges from the median, a Gaussian's being 2.3, and 1.5
/// times as far as the other), one residual shape
/// added to the rhythm cannot give the values' distribution. A significant trend keeps the
/// additive model (a drift is added after the map, in value units).
const char* copula_reason(const field_fit& additive, const std::vector<double>& values) {
    if (additive.trend.written || values.empty()) return nullptr;
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    const auto at_lo = std::count(values.begin(), values.end(), *lo);
    const auto at_hi = std::count(values.begin(), values.end(), *hi);
    const double atom = 0.005 * static_cast<double>(values.size());
    if (static_cast<double>(at_lo) >= atom || static_cast<double>(at_hi) >= atom)
        return "values pile up at a bound";
    const fit_residual& r = additive.residual;
    const auto quantile = [&r](double p) {
        for (std::size_t i = 0; i < r.probabilities.size(); ++i)
            if (std::abs(r.probabilities[i] - p) < 1e-12) return r.quantiles[i];
        return 0.0;
    };
    const double iqr = quantile(0.75) - quantile(0.25), median = quantile(0.5);
    const double up = quantile(0.999) - median, down = median - quantile(0.001);
    // One-sided: a symmetric excess is more often the rhythm missing a step than the data's
    // shape.
    if (iqr > 0 && std::max(up, down) > 4 * iqr && std::max(up, down) > 1.5 * std::min(up, down))
        return "the additive residual has a long one-sided tail";
    return nullptr;
}
} // namespace

field_fit fit_field(std::string column, const std::vector<sim_time>& times,
                    const std::vector<double>& values, const std::vector<bool>& anomalous,
                    const fit_timing& timing) {
    field_fit additive = fit_additive(column, times, values, anomalous, timing);
    const char* reason = copula_reason(additive, values);
    if (!reason) return additive;
    std::vector<double> normal;
    for (std::size_t i = 0; i < values.size(); ++i)
        if (anomalous.empty() || !anomalous[i]) normal.push_back(values[i]);
    // Normal scores of every value, against the normal values' distribution.
    const std::vector<double> scores = normal_scores(values);
    const std::vector<double> probabilities = marginal_probabilities();
    const std::vector<double> marginal = sample_quantiles_at(normal, probabilities);
    const copula_correlation map(marginal, probabilities);
    const copula_scale scale{&map, &values};
    field_fit latent = fit_additive(std::move(column), times, scores, anomalous, timing, &scale);
    latent.copula = true;
    latent.copula_reason = reason;
    latent.marginal_probabilities = probabilities;
    latent.marginal = marginal;
    // What is measured in value units stays the additive fit's: bounds, grid, anomalies. A
    // trend or a level regime would be added after the map, in value units: left out.
    latent.quantisation = additive.quantisation;
    latent.anomalies = additive.anomalies;
    latent.windows = additive.windows;
    latent.windows_without_excess = additive.windows_without_excess;
    latent.min = additive.min, latent.max = additive.max;
    latent.mean = additive.mean, latent.sd = additive.sd;
    latent.trend.written = false;
    latent.regimes.clear();
    return latent;
}

namespace {
field_fit fit_additive(std::string column, const std::vector<sim_time>& times,
                       const std::vector<double>& values, const std::vector<bool>& anomalous,
                       const fit_timing& timing, const copula_scale* copula) {
    field_fit f;
    f.column = std::move(column);
    f.points = values.size();
    const moments all = sample_moments(values);
    f.mean = all.mean;
    f.sd = all.stddev;
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    f.min = *lo;
    f.max = *hi;

    // The normal points: those not labelled.
    std::vector<sim_time> t;
    std::vector<double> y;
    for (std::size_t i = 0; i < values.size(); ++i)
        if (anomalous.empty() || !anomalous[i]) t.push_back(times[i]), y.push_back(values[i]);
    f.labelled = values.size() - y.size();
    const std::vector<std::int64_t> slots = grid_slots(t, timing.start, timing.cadence);

    // The rhythm is fitted twice: the second time to values whose residual from the first is
    // clipped at Tukey's far-out fences (quartiles ∓ 3 IQR), so that a few huge spikes do not
    // decide it; the level is then set on the raw values.
    rhythm_choice choice = choose_rhythm(t, y, slots, timing.start, timing.cadence);
    {
        std::vector<double> first(y.size());
        for (std::size_t i = 0; i < y.size(); ++i) first[i] = y[i] - choice.model.at(t[i]);
        const std::vector<double> quartiles = sample_quantiles(first, 5);
        const double iqr = quartiles[3] - quartiles[1];
        const double lo = quartiles[1] - 3 * iqr, hi = quartiles[3] + 3 * iqr;
        if (iqr > 0 && std::any_of(first.begin(), first.end(),
                                   [lo, hi](double v) { return v < lo || v > hi; })) {
            std::vector<double> clipped(y.size());
            for (std::size_t i = 0; i < y.size(); ++i)
                clipped[i] = y[i] - first[i] + std::clamp(first[i], lo, hi);
            choice = choose_rhythm(t, clipped, slots, timing.start, timing.cadence);
        }
    }
    f.rhythm = std::move(choice.rhythm);
    f.trend = choice.trend;
    normal_model model = std::move(choice.model);

    std::vector<double> e(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) e[i] = y[i] - model.at(t[i]);
    f.cycle = find_cycle(t, e, slots, timing.cadence, timing.start);
    if (f.cycle.found) {
        model.components.push_back(f.cycle.component);
        for (std::size_t i = 0; i < y.size(); ++i) e[i] -= cosine_at(f.cycle.component, t[i]);
    }
    const double offset = mean_of(e); // what clipping moved the level by
    for (double& v : e) v -= offset;
    model.level += offset;
    f.trend.level += offset;

    if (copula) {
        // The values' autocorrelation at lag k, through the inverse of the map, is the latent
        // total's; less what the (latent) rhythm contributes, it is the residual's: ρ_e(k) =
        // (ρ_Z(k)·Var Z − Cov_m(k)) / Var e, rhythm and residual uncorrelated.
        std::vector<double> raw, m(t.size());
        for (std::size_t i = 0; i < values.size(); ++i)
            if (anomalous.empty() || !anomalous[i]) raw.push_back((*copula->values)[i]);
        for (std::size_t i = 0; i < t.size(); ++i) m[i] = model.at(t[i]);
        const grid_series gx = on_grid(raw, slots), gm = on_grid(m, slots), gz = on_grid(y, slots);
        const double var_e = sd_of(e) * sd_of(e);
        const acf_target target = [&](std::size_t lag) -> std::optional<double> {
            const auto rx = masked_acf(gx, lag);
            const auto rm = masked_acf(gm, lag);
            if (!rx || !rm || !(var_e > 0)) return std::nullopt;
            const double rho_z = copula->map->inverse(*rx);
            return (rho_z * gz.variance - *rm * gm.variance) / var_e;
        };
        f.residual = fit_residual_model(e, slots, target);
        f.quantisation = fit_quantisation_of(values, f.residual.sd);
        return f; // no regimes (a shift would be added in value units) nor anomalies here
    }

    regime_result regimes = find_regimes(t, e, timing.cadence);
    f.regimes = std::move(regimes.rows);
    f.regime_baseline = regimes.baseline;
    f.trend.level += regimes.baseline;
    model.level += regimes.baseline;

    f.residual = fit_residual_model(regimes.adjusted, slots);
    f.quantisation = fit_quantisation_of(values, f.residual.sd);
    f.anomalies = fit_anomalies(times, values, anomalous, model, regimes.adjusted, 0.0, timing,
                                f.windows, f.windows_without_excess);
    return f;
}

} // namespace

} // namespace synthfeed
