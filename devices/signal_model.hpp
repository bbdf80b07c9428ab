#pragma once
/// One field of one device: signal + drift + noise, with anomaly effects, as a pure function of
/// (per-device key, tick, event time) plus a few doubles of sequential state.

#include <cstdint>

#include "src/config/profile.hpp"
#include "src/core/rng.hpp"

namespace synthfeed {

/// Sequential state of one field of one device (24 bytes): the key and two slots. A signal
/// or a sum part that carries state claims a slot (signal_spec::state_slot, given by the
/// loader); a random-walk drift takes the second.
struct field_state {
    rng_stream key;    ///< per device and field; all draws derive from it
    double signal = 0; ///< slot 0: walk / ou / counter value, state index; else the level
    double drift = 0;  ///< slot 1: a second part, random-walk drift bias; states: when the
                       ///< current state ends (ms)
};

/// What active anomalies do to a field at one tick.
struct field_effects {
    double offset = 0;        ///< level shift, trend, spike
    double noise_factor = 1;  ///< variance change (in a sum, also the ou parts' deviation)
    double cycle_factor = 1;  ///< regime: periodic parts' amplitude multiplied
    double time_scale = 1;    ///< frequency change: periodic signals run this much faster
    sim_time warp_origin = 0; ///< ... from this instant
    double input = 0;         ///< derived fields: the value of the field they derive from
};

/// Draws the device's value of a spread parameter (fixed per device, stable across runs).
inline double device_param(const rng_stream& key, const spread_param& p, unsigned slot) noexcept {
    constexpr std::uint64_t param_base = 1ULL << 62; // far above any tick's draw counters
    if (!p.varies()) return p.lo;
    return p.lo + (p.hi - p.lo) * key.uniform(param_base + slot);
}

/// Q(Φ(z)): the distribution given by quantiles `q` (at probabilities `p`, increasing from 0
/// to 1; empty: evenly spaced) at the normal CDF of `z`, linear between quantiles. `q` holds at
/// least two values. Maps a standard normal variable onto that distribution (a Gaussian copula).
double quantile_map(const std::vector<double>& q, const std::vector<double>& p, double z) noexcept;

/// Sets up the field's state for one device.
field_state init_field(const field_spec& spec, rng_stream key) noexcept;

/// Advances the field by one tick and returns its value (before stuck-at, which the device
/// model applies). `elapsed` is ts minus the run start; `interval` the nominal cadence.
double next_field_value(const field_spec& spec, field_state& state, std::uint64_t tick, sim_time ts,
                        sim_duration elapsed, sim_duration interval,
                        const field_effects& effects) noexcept;

/// Applies quantisation, clamping and integer rounding: what a real sensor reports. Inline:
/// it runs for every field of every tick.
inline double finish_field_value(const field_spec& spec, double value) noexcept {
    if (spec.resolution > 0) {
        // The loader stores 1/resolution; a spec built elsewhere computes it here.
        const double inverse =
            spec.inverse_resolution > 0 ? spec.inverse_resolution : 1 / spec.resolution;
        value = round_even(value * inverse) * spec.resolution;
    }
    if (spec.min && value < *spec.min) value = *spec.min;
    if (spec.max && value > *spec.max) value = *spec.max;
    if (spec.integer) value = round_even(value);
    return value;
}

} // namespace synthfeed
