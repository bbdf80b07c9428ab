#include "src/analysis/fit_profile.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace synthfeed {
namespace {

constexpr std::array reserved_names{"device_id", "seq", "ts", "label", "episode", "group", "time"};
constexpr std::array weekdays{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr sim_duration ms_per_minute = 60'000;
constexpr sim_duration ms_per_week = 7 * ms_per_day;

/// A number for TOML: six significant digits, never inf or nan (0 instead).
std::string num(double v, int digits = 6) {
    if (!std::isfinite(v)) return "0";
    if (v == 0) return "0"; // not "-0"
    return fmt::format("{:.{}g}", v, digits);
}

/// A TOML basic string (the names written are sanitised; quotes and backslashes escaped).
std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;
        out += c;
    }
    return out + '"';
}

std::string percent(double share) {
    return fmt::format("{:.1f} %", 100 * share);
}

/// Lines of `values`, `per_line` a line, each indented by `indent`, comma-separated.
std::string value_lines(const std::vector<std::string>& values, std::size_t per_line,
                        const std::string& indent) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i % per_line == 0) out += indent;
        out += values[i];
        out += i + 1 < values.size() ? (i % per_line == per_line - 1 ? ",\n" : ", ") : "\n";
    }
    return out;
}

/// A range written as "lo..hi" (or one duration when they agree).
std::string duration_range(sim_duration lo, sim_duration hi) {
    return lo == hi ? fit_duration(lo) : fit_duration(lo) + ".." + fit_duration(hi);
}

std::string number_range(double lo, double hi) {
    return lo == hi ? num(lo) : "[" + num(lo) + ", " + num(hi) + "]";
}

class writer {
  public:
    explicit writer(const fitted_profile& p) : p_(p) {}

    std::string text() {
        header();
        group();
        for (std::size_t f = 0; f < p_.fields.size(); ++f) field(p_.fields[f], p_.field_names[f]);
        for (std::size_t f = 0; f < p_.fields.size(); ++f) regimes(p_.fields[f], p_.field_names[f]);
        for (std::size_t f = 0; f < p_.fields.size(); ++f)
            anomalies(p_.fields[f], p_.field_names[f]);
        return out_;
    }

  private:
    template <class... Args>
    void line(fmt::format_string<Args...> f, Args&&... args) {
        out_ += fmt::format(f, std::forward<Args>(args)...);
        out_ += '\n';
    }

    void header() {
        const fit_timing& t = p_.timing;
        line("# A synthfeed profile fitted by `synthfeed fit` to {}:", p_.source);
        if (p_.rows_used < p_.rows_total)
            line("#   its first {} of {} rows (--train-fraction {}), {} .. {}.", p_.rows_used,
                 p_.rows_total, num(p_.train_fraction), format_timestamp(t.start),
                 format_timestamp(t.end));
        else
            line("#   {} rows, {} .. {}.", p_.rows_used, format_timestamp(t.start),
                 format_timestamp(t.end));
        if (!p_.labels.empty())
            line("#   Anomaly labels from {}: labelled rows are left out of the normal model.",
                 p_.labels);
        line("#   Command: {}", p_.command);
        line("# Each field's value is the sum of its signal's parts, plus noise and drift, then");
        line("# quantised and clamped; comments say what each number came from. Check it with");
        line("# `synthfeed validate`, measure it with `synthfeed compare {} THIS.toml`.",
             p_.source);
        line("name = {}", quoted(p_.name));
        line("seed = {}", p_.seed);
        line("start = {}   # the first timestamp", quoted(format_timestamp(t.start)));
        line("");
    }

    void group() {
        const fit_timing& t = p_.timing;
        line("[[group]]");
        line("name = {}", quoted(p_.name));
        line("count = 1");
        std::string gaps = t.gaps == 0 ? "no gaps"
                                       : fmt::format("{} gap(s) longer than 1.5 intervals, the "
                                                     "longest {} (not reproduced)",
                                                     t.gaps, fit_duration(t.longest_gap));
        line("interval = {}   # median of {} intervals; {}", quoted(fit_duration(t.cadence)),
             t.points > 0 ? t.points - 1 : 0, gaps);
        if (t.jitter == 0)
            line("jitter = \"0s\"   # regular: the median interval deviates {} from it",
                 fit_duration(t.median_deviation));
        else
            line("jitter = {}   # median |interval - {}| = {} = (2 - √2) × jitter for "
                 "uniform offsets in ±jitter{}",
                 quoted(fit_duration(t.jitter)), fit_duration(t.cadence),
                 fit_duration(t.median_deviation),
                 t.jitter == (t.cadence - 1) / 2 ? " (capped below interval / 2)" : "");
        line("phase = \"aligned\"   # the first message at `start`, as in the data");
        line("");
    }

    void field(const field_fit& f, const std::string& name) {
        line("  # ---- {}: {} points{}, mean {}, sd {}, range {} .. {}", f.column, f.points,
             f.labelled > 0 ? fmt::format(" ({} labelled anomalous)", f.labelled) : "",
             num(f.mean, 4), num(f.sd, 4), num(f.min), num(f.max));
        line("  [[group.field]]");
        line("  name = {}{}", quoted(name),
             name == f.column ? "" : fmt::format("   # column \"{}\"", f.column));
        const fit_quantisation& q = f.quantisation;
        if (q.integer) line("  type = \"int\"   # every value is whole");
        if (q.resolution > 0 && !(q.integer && q.resolution == 1))
            line("  resolution = {}   # every value is a multiple of it", num(q.resolution, 9));
        line("  precision = {}", q.precision);
        if (q.min) line("  min = {}   # {}", num(*q.min, 9), q.min_reason);
        if (q.max) line("  max = {}   # {}", num(*q.max, 9), q.max_reason);
        const fit_trend& tr = f.trend;
        if (tr.written)
            line("  drift = {{ kind = \"linear\", per_day = {} }}   # least-squares slope, t = {} "
                 "with AR(1)-corrected error: {} over the series",
                 num(tr.per_day, 4), num(tr.t_stat, 3),
                 num(tr.per_day * static_cast<double>(p_.timing.end - p_.timing.start) / ms_per_day,
                     3));
        else
            line("  # no drift: the least-squares slope {} a day has t = {} (needs |t| ≥ 3 and "
                 "a move of ¼ sd)",
                 num(tr.fitted_per_day, 3), num(tr.t_stat, 3));
        line("  [group.field.signal]");
        line("  kind = \"sum\"");
        if (f.copula) {
            line("  # a Gaussian copula: the parts below are in normal scores of the values, and "
                 "their total is mapped through the values' quantiles ({})",
                 f.copula_reason);
            std::vector<std::string> values, probabilities;
            for (double x : f.marginal) values.push_back(num(x, 6));
            for (double x : f.marginal_probabilities) probabilities.push_back(num(x, 6));
            line("  marginal.probabilities = [");
            out_ += value_lines(probabilities, 8, "    ");
            line("  ]");
            line("  marginal.quantiles = [");
            out_ += value_lines(values, 8, "    ");
            line("  ]");
        }
        level(f);
        rhythm(f);
        cycle(f);
        ou_parts(f);
        line("");
    }

    void level(const field_fit& f) {
        line("    [[group.field.signal.components]]");
        line("    kind = \"constant\"");
        line("    value = {}   # level at the start (least squares with the rhythm{})",
             num(f.trend.level, 7), f.regimes.empty() ? "" : ", outside regimes");
    }

    void rhythm(const field_fit& f) {
        const fit_rhythm& r = f.rhythm;
        line("    # rhythm: {}, chosen by held-out error (5-fold blocked cross-validation; "
             "the simplest within 0.5 % of the best)",
             r.chosen);
        for (const auto& c : r.candidates)
            line("    #   {}: {} parameters, held-out RMSE {}", c.name, c.parameters,
                 num(c.held_out_rmse, 4));
        if (r.kind == rhythm_kind::none) return;
        line("    #   it removes {} of the held-out error of level and trend alone",
             percent(r.variance_share));
        if (r.kind == rhythm_kind::week_table) schedule(r.week_table);
        if (!r.components.empty()) {
            line("    [[group.field.signal.components]]");
            line("    kind = \"seasonal\"   # harmonic regression: A·cos(2π(t - peak)/period)");
            line("    mean = 0");
            line("    components = [");
            for (const auto& c : r.components) component(c);
            line("    ]");
        }
    }

    void component(const fit_component& c) {
        line("      {{ amplitude = {}, period = {}, peak = {} }},   # {}", num(c.amplitude, 5),
             quoted(period_text(c.period)), quoted(fit_peak(c.peak, c.period)), c.source);
    }

    static std::string period_text(sim_duration period) {
        if (period == ms_per_year) return "1y";
        return fit_duration(period);
    }

    void schedule(const std::vector<double>& table) {
        std::size_t empty = 0;
        std::vector<std::string> points;
        for (std::size_t h = 0; h < table.size(); ++h) {
            if (std::isnan(table[h])) {
                ++empty;
                continue;
            }
            points.push_back(
                fmt::format("[\"{} {:02}:30\", {}]", weekdays[h / 24], h % 24, num(table[h], 5)));
        }
        line("    [[group.field.signal.components]]");
        line("    kind = \"schedule\"   # hour-of-week means minus the level, at each hour's "
             "middle{}",
             empty > 0 ? fmt::format(" ({} hours without data left out)", empty) : "");
        line("    period = \"7d\"");
        line("    interpolate = \"linear\"");
        line("    points = [");
        out_ += value_lines(points, 4, "      ");
        line("    ]");
    }

    void cycle(const field_fit& f) {
        const fit_cycle& c = f.cycle;
        if (!c.found) {
            if (c.candidate_period > 0)
                line("    # no other cycle: the strongest periodogram peak ({}) stands {} times "
                     "above its neighbours (needs 20) and explains {} (needs 5 %)",
                     fit_duration(c.candidate_period), num(c.peak_ratio, 3),
                     percent(c.variance_share));
            return;
        }
        line("    [[group.field.signal.components]]");
        line("    kind = \"seasonal\"   # a periodogram peak {} times its neighbours; the cosine "
             "explains {} of the residual",
             num(c.peak_ratio, 3), percent(c.variance_share));
        line("    mean = 0");
        line("    components = [");
        component(c.component);
        line("    ]");
    }

    void ou_parts(const field_fit& f) {
        const fit_residual& r = f.residual;
        const std::string cadence = fit_duration(p_.timing.cadence);
        line("    # residual: sd {}; lag-1 autocorrelation of its normal scores {} at {}; ACF "
             "fit over {} lags: RMSE {} with one AR(1) part{}",
             num(r.sd, 4), num(r.lag1, 3), cadence, r.lags.size(), num(r.rmse_one, 3),
             r.rmse_two > 0 ? fmt::format(", {} with two", num(r.rmse_two, 3)) : "");
        // One latent Gaussian process for the whole residual, mapped once through its
        // quantiles: the marginal is the residual's exactly (a sum of parts, each mapped
        // through its own, would convolve their shapes), the correlation the ACF fit's.
        std::vector<const fit_ou*> correlated;
        for (std::size_t i = 0; i < r.ou.size(); ++i)
            if (!(r.white_part && i == 0)) correlated.push_back(&r.ou[i]);
        double white = 1;
        for (const fit_ou* o : correlated) white -= o->share;
        line("    [[group.field.signal.components]]");
        line("    kind = \"ou\"   # the residual: a latent Gaussian process through its quantiles");
        if (correlated.empty()) {
            line("    reversion = 1   # independent draws: no correlation left to fit");
        } else if (correlated.size() == 1 && white < 0.02) {
            const fit_ou& o = *correlated.front();
            line("    reversion = {}   # lag-1 autocorrelation {} at {} → reversion 1 - {}",
                 num(std::max(1 - o.phi, 1e-6), 6), num(o.phi, 4), cadence, num(o.phi, 4));
        } else {
            std::vector<std::string> reversions, shares;
            for (const fit_ou* o : correlated) {
                reversions.push_back(num(std::clamp(1 - o->phi, 1e-6, 1 - 1e-6), 6));
                shares.push_back(num(o->share, 4));
                line("    # an AR(1) with lag-1 autocorrelation {} at {} holds {} of the latent "
                     "variance",
                     num(o->phi, 4), cadence, percent(o->share));
            }
            line("    # {} of it is white (drawn fresh each tick)", percent(std::max(white, 0.0)));
            line("    reversion = [{}]", fmt::join(reversions, ", "));
            line("    shares = [{}]", fmt::join(shares, ", "));
        }
        line("    # the residual's quantiles, denser in the tails");
        std::vector<std::string> values, probabilities;
        for (double x : r.quantiles) values.push_back(num(x, 6));
        for (double x : r.probabilities) probabilities.push_back(num(x, 6));
        line("    marginal.probabilities = [");
        out_ += value_lines(probabilities, 8, "      ");
        line("    ]");
        line("    marginal.quantiles = [");
        out_ += value_lines(values, 8, "      ");
        line("    ]");
    }

    void regimes(const field_fit& f, const std::string& name) {
        for (const fit_regime& g : f.regimes) {
            line("[[group.regime]]   # {}: {} lasting {} shift(s) of the residual (binary "
                 "segmentation, CUSUM range at 0.1 %)",
                 f.column, g.count, g.level ? "level" : "spread");
            line("field = {}", quoted(name));
            line("rate = {}   # {} episode(s) over the normal time",
                 quoted(fit_rate(g.rate_per_day)), g.count);
            line("duration = {}", quoted(duration_range(g.duration_lo, g.duration_hi)));
            if (g.level)
                line("shift = [{}, {}]   # segment mean - baseline", num(g.shift_lo),
                     num(g.shift_hi));
            line("scale = {}   # segment sd / baseline sd (mean)", num(g.scale, 4));
            line("");
        }
    }

    void anomalies(const field_fit& f, const std::string& name) {
        if (f.windows > 0 && f.anomalies.empty())
            line("# {}: {} labelled window(s), none showing values outside the normal residual's "
                 "0.1 %..99.9 % range: no anomaly rows",
                 f.column, f.windows);
        for (const fit_anomaly& a : f.anomalies) {
            line("[[group.anomaly]]   # {}: {} episode(s) in {} labelled window(s){}", f.column,
                 a.count, f.windows,
                 f.windows_without_excess > 0
                     ? fmt::format(" ({} showed nothing unusual)", f.windows_without_excess)
                     : "");
            line("kind = {}   # {}", quoted(a.kind),
                 a.kind == "spike" ? "runs of excess over the normal model of 1 or 2 points"
                                   : "runs of excess over the normal model of 3 points or more");
            line("field = {}", quoted(name));
            line("rate = {}   # {} episode(s) in {} days of series",
                 quoted(fit_rate(a.rate_per_day)), a.count,
                 num(static_cast<double>(p_.timing.end - p_.timing.start + p_.timing.cadence) /
                         ms_per_day,
                     4));
            line("duration = {}", quoted(duration_range(a.duration_lo, a.duration_hi)));
            line("magnitude = {}   # {} over the normal model's prediction",
                 number_range(a.magnitude_lo, a.magnitude_hi),
                 a.kind == "spike" ? "the extreme excess" : "the median excess");
            line("direction = {}", quoted(a.direction));
            line("");
        }
    }

    const fitted_profile& p_;
    std::string out_;
};

} // namespace

std::string fitted_profile_toml(const fitted_profile& p) {
    return writer(p).text();
}

std::string profile_field_name(std::string_view column) {
    std::string name;
    for (char c : column) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        name += ok ? c : '_';
    }
    if (name.empty() ||
        std::find(reserved_names.begin(), reserved_names.end(), name) != reserved_names.end())
        name = "value_" + name;
    return name;
}

std::string profile_group_name(std::string_view name) {
    std::string out;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        out += ok ? c : '_';
    }
    return out.empty() ? "series" : out;
}

std::string fit_duration(sim_duration d) {
    if (d <= 0) return "0s";
    std::string out;
    const std::pair<sim_duration, const char*> units[] = {{ms_per_day, "d"},
                                                          {ms_per_hour, "h"},
                                                          {ms_per_minute, "m"},
                                                          {ms_per_second, "s"},
                                                          {1, "ms"}};
    for (const auto& u : units)
        if (d >= u.first) {
            out += std::to_string(d / u.first) + u.second;
            d %= u.first;
        }
    return out;
}

std::string fit_peak(sim_duration peak, sim_duration period) {
    if (period == ms_per_day || period == ms_per_week) {
        // To the minute, wrapped into the period.
        sim_duration m = (peak + ms_per_minute / 2) / ms_per_minute * ms_per_minute;
        m %= period;
        const sim_duration in_day = m % ms_per_day;
        const std::string hhmm =
            fmt::format("{:02}:{:02}", in_day / ms_per_hour, in_day % ms_per_hour / ms_per_minute);
        if (period == ms_per_day) return hhmm;
        // The epoch fell on a Thursday (index 3 from Monday).
        return fmt::format("{} {}", weekdays[static_cast<std::size_t>((m / ms_per_day + 3) % 7)],
                           hhmm);
    }
    if (period == ms_per_year) { // "day N HH:MM": the offset from the epoch, 1 January 1970
        const sim_duration m = (peak + ms_per_minute / 2) / ms_per_minute * ms_per_minute % period;
        const sim_duration in_day = m % ms_per_day;
        return fmt::format("day {} {:02}:{:02}", m / ms_per_day + 1, in_day / ms_per_hour,
                           in_day % ms_per_hour / ms_per_minute);
    }
    return fit_duration((peak + 500) / 1000 * 1000 % period); // to the second
}

std::string fit_rate(double per_day) {
    if (per_day >= 1 || per_day <= 0) return num(per_day, 3) + "/day";
    return num(per_day * 7, 3) + "/week";
}

} // namespace synthfeed
