#include "devices/signal_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace synthfeed {
namespace {

// Draw counters: each tick owns a block of four, params live far above any tick.
constexpr std::uint64_t draws_per_tick = 4;
enum draw : std::uint64_t { draw_noise = 0, draw_signal = 1, draw_drift = 2, draw_white = 3 };

// Parameter slots: stable numbers so adding a parameter never reshuffles another's draw.
enum slot : unsigned {
    slot_level = 0,
    slot_step = 1,
    slot_rate = 2,
    slot_noise = 3,
    slot_drift = 4,
    slot_component = 8 // + component index
};

/// Sum parts draw from their own keys, children of the field's.
constexpr std::uint64_t part_key_base = 300;
/// The counter of a marginal ou part's first value (a stationary start), far from any tick's.
constexpr std::uint64_t initial_draw = (1ULL << 62) + 100;

double& slot_of(field_state& state, int slot) noexcept {
    return slot == 0 ? state.signal : state.drift;
}

/// (t - peak) mod period, in [0, period): a floating-point quotient guess corrected in integers,
/// so the result is exact (as with %) without a division on every tick.
sim_duration phase_in_period(sim_time t, const periodic_component& c) noexcept {
    const sim_duration x = t - c.peak, period = c.period;
    if (c.inverse_period == 0) [[unlikely]] { // a component not made by the profile loader
        const sim_duration r = x % period;
        return r < 0 ? r + period : r;
    }
    const auto guess = static_cast<sim_duration>(static_cast<double>(x) * c.inverse_period);
    sim_duration r = x - guess * period; // off by at most a period either way
    if (r < 0) r += period;
    if (r < 0) r += period;
    if (r >= period) r -= period;
    return r;
}

double fraction_of_period(sim_time t, const periodic_component& c) noexcept {
    return static_cast<double>(phase_in_period(t, c)) / static_cast<double>(c.period);
}

/// `mean` is the device's level, drawn once by init_field; a regime scales the amplitudes.
double periodic_signal(const signal_spec& s, const rng_stream& key, double mean, sim_time t,
                       double amplitude_factor) noexcept {
    double v = mean;
    for (std::size_t i = 0; i < s.components.size(); ++i) {
        const auto& c = s.components[i];
        // × 1 is exact: without a regime the value is bit for bit what it was.
        const double a = amplitude_factor *
                         device_param(key, c.amplitude, slot_component + static_cast<unsigned>(i));
        const double x = fraction_of_period(t, c);
        switch (s.kind) {
        case signal_kind::seasonal:
            v += a * cos_turns(x);
            break;
        case signal_kind::sine:
            v += a * sin_turns(x);
            break;
        case signal_kind::square:
            v += x < s.duty ? a : -a;
            break;
        case signal_kind::sawtooth:
            v += a * (2 * x - 1);
            break;
        case signal_kind::constant: // not periodic: no components
        case signal_kind::random_walk:
        case signal_kind::ou:
        case signal_kind::schedule:
        case signal_kind::counter:
        case signal_kind::states:
        case signal_kind::derived:
        case signal_kind::sum:
            break;
        }
    }
    return v;
}

double schedule_signal(const signal_spec& s, sim_time t) noexcept {
    sim_duration within = t % s.schedule_period;
    if (within < 0) within += s.schedule_period;
    const auto& pts = s.points;
    // The last point before `within`, wrapping to the previous period's last point.
    auto next =
        std::upper_bound(pts.begin(), pts.end(), within,
                         [](sim_duration w, const schedule_point& p) { return w < p.offset; });
    const schedule_point& prev = next == pts.begin() ? pts.back() : *(next - 1);
    if (!s.interpolate) return prev.value;
    const schedule_point& following = next == pts.end() ? pts.front() : *next;
    sim_duration span = following.offset - prev.offset;
    sim_duration into = within - prev.offset;
    if (span <= 0) span += s.schedule_period;
    if (into < 0) into += s.schedule_period;
    return prev.value +
           (following.value - prev.value) * static_cast<double>(into) / static_cast<double>(span);
}

/// The noise at one tick; `value` is the signal it is added to (relative noise grows with it).
double noise_draw(const noise_spec& n, const rng_stream& key, std::uint64_t counter, sim_time ts,
                  double value) noexcept {
    double scale = device_param(key, n.scale, slot_noise);
    if (n.relative != 0) scale += n.relative * std::abs(value);
    if (!n.hourly.empty()) {
        const sim_duration in_day = ((ts % ms_per_day) + ms_per_day) % ms_per_day;
        scale *= n.hourly[static_cast<std::size_t>(in_day / 3'600'000)];
    }
    switch (n.kind) {
    case noise_kind::gaussian:
        return scale * key.normal(counter);
    case noise_kind::uniform:
        return scale * (2 * key.uniform(counter) - 1);
    case noise_kind::laplace:
        return scale * key.laplace(counter);
    case noise_kind::student_t:
        return scale * key.student_t(counter, n.df);
    case noise_kind::none:
        break;
    }
    return 0;
}

/// A state machine's value at `ts`: moves on when the current state's dwell is over (the
/// next state by its odds, the dwell drawn from the new state's range).
double next_state(const signal_spec& s, field_state& state, const rng_stream& key,
                  std::uint64_t base, sim_time ts) noexcept {
    auto dwell_in = [&](std::size_t st, double u) {
        const auto [lo, hi] = s.dwell[st];
        return static_cast<double>(lo) + u * static_cast<double>(hi - lo);
    };
    if (std::isnan(state.drift)) { // first tick: part way through a dwell in the first state
        state.drift = static_cast<double>(ts) +
                      dwell_in(0, key.uniform(base + draw_drift)) * key.uniform(base + draw_signal);
        return state.signal;
    }
    if (static_cast<double>(ts) >= state.drift) {
        const auto& odds = s.next_state[static_cast<std::size_t>(state.signal)];
        const double u = key.uniform(base + draw_signal);
        const auto next =
            static_cast<std::size_t>(std::upper_bound(odds.begin(), odds.end(), u) - odds.begin());
        state.signal = static_cast<double>(std::min(next, odds.size() - 1));
        state.drift = static_cast<double>(ts) + dwell_in(static_cast<std::size_t>(state.signal),
                                                         key.uniform(base + draw_drift));
    }
    return state.signal;
}

/// The sequential value a signal (or sum part) starts from: a walk's start, an ou's mean, a
/// marginal ou's stationary draw.
double initial_value(const signal_spec& s, const rng_stream& key,
                     std::uint64_t time_scale = 0) noexcept {
    if (s.kind == signal_kind::ou && !s.marginal.empty())
        return key.normal(initial_draw + time_scale);
    return device_param(key, s.level, slot_level);
}

/// The first state slot of a signal or part (a signal built outside the loader has none
/// assigned: a sequential one keeps its value in the first).
int first_slot(const signal_spec& s) noexcept {
    return std::max(s.state_slot, 0);
}

/// Sets the state of signal (or part) `s` to its first values.
void initialise_slots(const signal_spec& s, const rng_stream& key, field_state& state) noexcept {
    if (s.reversions.empty()) {
        slot_of(state, first_slot(s)) = initial_value(s, key);
        return;
    }
    for (std::size_t i = 0; i < s.reversions.size(); ++i)
        slot_of(state, first_slot(s) + static_cast<int>(i)) = initial_value(s, key, i);
}

/// The latent unit-variance value of a marginal ou with several time scales: each AR(1)
/// advanced in its slot, the white share drawn fresh.
double latent_mixture(const signal_spec& s, const rng_stream& key, field_state& state,
                      std::uint64_t tick) noexcept {
    const std::uint64_t base = tick * draws_per_tick;
    double z = 0, used = 0;
    for (std::size_t i = 0; i < s.reversions.size(); ++i) {
        double& zi = slot_of(state, first_slot(s) + static_cast<int>(i));
        const double phi = 1 - s.reversions[i];
        if (tick > 0)
            zi = phi * zi +
                 std::sqrt(1 - phi * phi) * key.normal(base + (i == 0 ? draw_signal : draw_drift));
        z += std::sqrt(s.shares[i]) * zi;
        used += s.shares[i];
    }
    if (used < 1) z += std::sqrt(1 - used) * key.normal(base + draw_white);
    return z;
}

/// A signal's value at one tick, for every kind a sum may hold. `level` is the device's level
/// (constant, periodic); a walk or an ou keeps its value in the state's slot(s). In a sum
/// (`in_sum`) the noise factor also scales an ou part's deviation from its mean.
double part_value(const signal_spec& s, const rng_stream& key, double level, field_state& state,
                  std::uint64_t tick, sim_time ts, const field_effects& effects,
                  bool in_sum) noexcept {
    const std::uint64_t base = tick * draws_per_tick;
    double* slot = &slot_of(state, first_slot(s));
    switch (s.kind) {
    case signal_kind::constant:
        return level;
    case signal_kind::seasonal:
    case signal_kind::sine:
    case signal_kind::square:
    case signal_kind::sawtooth: {
        sim_time t = ts;
        if (effects.time_scale != 1)
            t = effects.warp_origin +
                static_cast<sim_time>(static_cast<double>(ts - effects.warp_origin) *
                                      effects.time_scale);
        return periodic_signal(s, key, level, t, effects.cycle_factor);
    }
    case signal_kind::schedule:
        return schedule_signal(s, ts);
    case signal_kind::random_walk: {
        if (tick > 0) {
            double v =
                *slot + device_param(key, s.step, slot_step) * key.normal(base + draw_signal);
            // Reflect at the bounds so the walk keeps its variance instead of sticking.
            if (s.max && v > *s.max) v = 2 * *s.max - v;
            if (s.min && v < *s.min) v = 2 * *s.min - v;
            if (s.max && v > *s.max) v = *s.max;
            *slot = v;
        }
        return *slot;
    }
    case signal_kind::ou: {
        const double phi = 1 - s.reversion;
        if (!s.marginal.empty()) {
            // A unit-variance AR(1): z' = φz + √(1−φ²)ε (or a mixture of time scales), mapped
            // through Φ and the quantiles.
            if (s.reversions.empty() && tick > 0)
                *slot = phi * *slot + std::sqrt(1 - phi * phi) * key.normal(base + draw_signal);
            const double z = s.reversions.empty() ? *slot : latent_mixture(s, key, state, tick);
            const double x = quantile_map(s.marginal, s.marginal_probabilities, z);
            if (!in_sum || effects.noise_factor == 1) return x;
            const double median = quantile_map(s.marginal, s.marginal_probabilities, 0);
            return median + effects.noise_factor * (x - median);
        }
        const double mean = device_param(key, s.level, slot_level);
        if (tick > 0)
            *slot = mean + phi * (*slot - mean) +
                    device_param(key, s.step, slot_step) * key.normal(base + draw_signal);
        if (!in_sum || effects.noise_factor == 1) return *slot;
        return mean + effects.noise_factor * (*slot - mean);
    }
    case signal_kind::counter:
    case signal_kind::states:
    case signal_kind::derived:
    case signal_kind::sum:
        break; // not summable: next_field_value handles them
    }
    return 0;
}

rng_stream part_key(const field_state& state, std::size_t part) noexcept {
    return state.key.child(part_key_base + part);
}

} // namespace

double quantile_map(const std::vector<double>& q, const std::vector<double>& p, double z) noexcept {
    const double u = 0.5 * std::erfc(-z * std::numbers::sqrt2 / 2);
    if (!p.empty()) {
        const auto i = static_cast<std::size_t>(
            std::clamp<std::ptrdiff_t>(std::upper_bound(p.begin(), p.end(), u) - p.begin() - 1, 0,
                                       static_cast<std::ptrdiff_t>(p.size()) - 2));
        const double frac = std::clamp((u - p[i]) / (p[i + 1] - p[i]), 0.0, 1.0);
        return q[i] + frac * (q[i + 1] - q[i]);
    }
    const double pos = u * static_cast<double>(q.size() - 1);
    const auto i = std::min(static_cast<std::size_t>(pos), q.size() - 2);
    const double frac = std::min(1.0, pos - static_cast<double>(i));
    return q[i] + frac * (q[i + 1] - q[i]);
}

field_state init_field(const field_spec& spec, rng_stream key) noexcept {
    field_state s{key, 0, 0};
    const signal_spec& sig = spec.signal;
    switch (sig.kind) {
    case signal_kind::states:
        s.signal = 0;
        s.drift = std::numeric_limits<double>::quiet_NaN(); // set on the first tick
        break;
    case signal_kind::sum:
        for (std::size_t i = 0; i < sig.parts.size(); ++i)
            if (sig.parts[i].state_slot >= 0) initialise_slots(sig.parts[i], part_key(s, i), s);
        break;
    case signal_kind::constant:
    case signal_kind::seasonal:
    case signal_kind::sine:
    case signal_kind::square:
    case signal_kind::sawtooth:
    case signal_kind::random_walk:
    case signal_kind::ou:
    case signal_kind::schedule:
    case signal_kind::counter:
    case signal_kind::derived:
        initialise_slots(sig, key, s);
        break;
    }
    return s;
}

double next_field_value(const field_spec& spec, field_state& state, std::uint64_t tick, sim_time ts,
                        sim_duration elapsed, sim_duration interval,
                        const field_effects& effects) noexcept {
    const signal_spec& s = spec.signal;
    const rng_stream& key = state.key;
    const std::uint64_t base = tick * draws_per_tick;
    double value = 0;
    switch (s.kind) {
    case signal_kind::constant:
    case signal_kind::seasonal:
    case signal_kind::sine:
    case signal_kind::square:
    case signal_kind::sawtooth:
    case signal_kind::schedule:
    case signal_kind::random_walk:
    case signal_kind::ou:
        // The level was drawn once (state.signal); walks and ou keep their value there.
        value = part_value(s, key, state.signal, state, tick, ts, effects, false);
        break;
    case signal_kind::sum:
        for (std::size_t i = 0; i < s.parts.size(); ++i) {
            const signal_spec& p = s.parts[i];
            const rng_stream pkey = part_key(state, i);
            value += part_value(p, pkey, device_param(pkey, p.level, slot_level), state, tick, ts,
                                effects, true);
        }
        if (!s.marginal.empty()) value = quantile_map(s.marginal, s.marginal_probabilities, value);
        break;
    case signal_kind::states:
        return next_state(s, state, key, base, ts);
    case signal_kind::derived: {
        if (s.table.empty()) {
            value = s.offset + s.scale * effects.input;
        } else {
            const auto i = static_cast<std::size_t>(
                std::clamp(effects.input, 0.0, static_cast<double>(s.table.size() - 1)));
            value = s.table[i];
        }
        break;
    }
    case signal_kind::counter: {
        if (tick > 0) {
            const double expected =
                device_param(key, s.rate, slot_rate) * static_cast<double>(interval) / 1000.0;
            const double jitter =
                s.rate_noise > 0 ? s.rate_noise * key.normal(base + draw_signal) : 0;
            state.signal += std::max(0.0, expected * (1 + jitter));
        }
        value = state.signal;
        break;
    }
    }

    const drift_spec& d = spec.drift;
    switch (d.kind) {
    case drift_kind::none:
        break;
    case drift_kind::linear:
        value +=
            device_param(key, d.amount, slot_drift) * static_cast<double>(elapsed) / ms_per_day;
        break;
    case drift_kind::exponential:
        value += device_param(key, d.amount, slot_drift) *
                 std::expm1(static_cast<double>(elapsed) / static_cast<double>(d.tau));
        break;
    case drift_kind::random_walk:
        if (tick > 0)
            state.drift += device_param(key, d.amount, slot_drift) * key.normal(base + draw_drift);
        value += state.drift;
        break;
    }

    if (spec.noise.kind != noise_kind::none)
        value += effects.noise_factor * noise_draw(spec.noise, key, base + draw_noise, ts, value);
    return value + effects.offset;
}

} // namespace synthfeed
