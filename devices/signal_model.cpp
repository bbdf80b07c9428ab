#include "devices/signal_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace synthfeed {
namespace {

// Draw counters: each tick owns a block of four, params live far above any tick.
constexpr std::uint64_t draws_per_tick = 4;
enum draw : std::uint64_t { draw_noise = 0, draw_signal = 1, draw_drift = 2 };

// Parameter slots: stable numbers so adding a parameter never reshuffles another's draw.
enum slot : unsigned {
    slot_level = 0,
    slot_step = 1,
    slot_rate = 2,
    slot_noise = 3,
    slot_drift = 4,
    slot_component = 8 // + component index
};

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

/// `mean` is the device's level, drawn once by init_field.
double periodic_signal(const signal_spec& s, const rng_stream& key, double mean,
                       sim_time t) noexcept {
    double v = mean;
    for (std::size_t i = 0; i < s.components.size(); ++i) {
        const auto& c = s.components[i];
        const double a = device_param(key, c.amplitude, slot_component + static_cast<unsigned>(i));
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

double noise_draw(const noise_spec& n, const rng_stream& key, std::uint64_t counter) noexcept {
    const double scale = device_param(key, n.scale, slot_noise);
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

} // namespace

field_state init_field(const field_spec& spec, rng_stream key) noexcept {
    field_state s{key, 0, 0};
    s.signal = device_param(key, spec.signal.level, slot_level);
    if (spec.signal.kind == signal_kind::states) {
        s.signal = 0;
        s.drift = std::numeric_limits<double>::quiet_NaN(); // set on the first tick
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
        value = state.signal;
        break;
    case signal_kind::seasonal:
    case signal_kind::sine:
    case signal_kind::square:
    case signal_kind::sawtooth: {
        sim_time t = ts;
        if (effects.time_scale != 1)
            t = effects.warp_origin +
                static_cast<sim_time>(static_cast<double>(ts - effects.warp_origin) *
                                      effects.time_scale);
        value = periodic_signal(s, key, state.signal, t);
        break;
    }
    case signal_kind::schedule:
        value = schedule_signal(s, ts);
        break;
    case signal_kind::random_walk: {
        if (tick > 0) {
            double v = state.signal +
                       device_param(key, s.step, slot_step) * key.normal(base + draw_signal);
            // Reflect at the bounds so the walk keeps its variance instead of sticking.
            if (s.max && v > *s.max) v = 2 * *s.max - v;
            if (s.min && v < *s.min) v = 2 * *s.min - v;
            if (s.max && v > *s.max) v = *s.max;
            state.signal = v;
        }
        value = state.signal;
        break;
    }
    case signal_kind::ou: {
        const double mean = device_param(key, s.level, slot_level);
        if (tick > 0)
            state.signal = mean + (1 - s.reversion) * (state.signal - mean) +
                           device_param(key, s.step, slot_step) * key.normal(base + draw_signal);
        value = state.signal;
        break;
    }
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
        value += effects.noise_factor * noise_draw(spec.noise, key, base + draw_noise);
    return value + effects.offset;
}

} // namespace synthfeed
