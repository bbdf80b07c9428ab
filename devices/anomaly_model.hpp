#pragma once
/// Episode scheduling for one anomaly spec on one device: Poisson arrivals or explicit windows,
/// each episode's duration and magnitude drawn from keyed streams.

#include <algorithm>
#include <cstdint>

#include "devices/signal_model.hpp"
#include "src/config/profile.hpp"
#include "src/core/rng.hpp"

namespace synthfeed {

/// The current (or next) episode of one anomaly spec on one device (40 bytes).
struct anomaly_state {
    sim_time start = 0;
    sim_time end = 0;       ///< exclusive; start == end until a zero-length episode snaps to a tick
    double magnitude = 0;   ///< signed
    double stuck_value = 0; ///< stuck_at: the value frozen at the episode's first tick
    std::uint32_t episode = 0; ///< per device and spec, from 0
    std::uint16_t next_window = 0;
    std::uint8_t announced = 0; ///< the first tick inside has been seen
    std::uint8_t exhausted = 0; ///< no further episodes
};

/// Schedules episode 0 for device `local` of its group.
anomaly_state first_episode(const anomaly_spec& spec, const rng_stream& key, sim_time run_start,
                            std::uint32_t local) noexcept;

/// Replaces `state` with the following episode.
void next_episode(const anomaly_spec& spec, anomaly_state& state, const rng_stream& key,
                  sim_time run_start, std::uint32_t local) noexcept;

/// Adds what a concept drift does at `ts`: its shift and noise factor, reached over its ramp.
inline void apply_drift_effect(const anomaly_spec& spec, sim_time start, sim_time ts,
                               field_effects& e) noexcept {
    const double progress =
        spec.ramp > 0
            ? std::min(1.0, static_cast<double>(ts - start) / static_cast<double>(spec.ramp))
            : 1.0;
    e.offset += spec.magnitude.lo * progress;
    e.noise_factor *= 1 + (spec.noise_scale - 1) * progress;
}

/// Adds what a live regime does: its level shift (drawn per episode), its noise factor and its
/// periodic amplitude factor.
inline void apply_regime_effect(const anomaly_spec& spec, double shift, field_effects& e) noexcept {
    e.offset += shift;
    e.noise_factor *= spec.noise_scale;
    e.cycle_factor *= spec.cycle_scale;
}

/// How transport faults change one tick's message (defaults: untouched).
struct transport_effects {
    sim_duration emit_delay = 0;       ///< out_of_order, late: sent this long after its event time
    sim_duration duplicate_delay = -1; ///< duplicate: a copy follows this much later (-1: none)
    sim_duration clock_skew = 0;       ///< the device clock's error, added to the payload's ts
    double keep_fraction = 1;          ///< malformed: the share of the payload kept
    int renamed_field = -1;            ///< schema_drift rename: this field under a new key
    int retyped_field = -1;            ///< schema_drift type: this field as a string
};

/// Applies a live transport fault of `effect` (its kind's row in kinds.hpp); a silenced tick
/// is handled by the caller.
inline void apply_transport_effect(transport_effect effect, int field, double magnitude,
                                   transport_effects& t) noexcept {
    switch (effect) {
    case transport_effect::duplicate:
        t.duplicate_delay = static_cast<sim_duration>(magnitude);
        break;
    case transport_effect::delay:
        t.emit_delay = std::max(t.emit_delay, static_cast<sim_duration>(magnitude));
        break;
    case transport_effect::clock_skew:
        t.clock_skew += static_cast<sim_duration>(magnitude);
        break;
    case transport_effect::truncate:
        t.keep_fraction = magnitude;
        break;
    case transport_effect::schema_change:
        (magnitude == static_cast<double>(schema_change::rename) ? t.renamed_field
                                                                 : t.retyped_field) = field;
        break;
    case transport_effect::none:
    case transport_effect::silence: // the caller does not send the tick
        break;
    }
}

/// Adds what a live value anomaly of `effect` (its kind's row in kinds.hpp) does to its field's
/// value at `ts`. A freeze and a silence act elsewhere: on the finished value, on the tick.
inline void apply_episode_effect(value_effect effect, double magnitude, sim_time start,
                                 sim_time end, sim_time ts, field_effects& e) noexcept {
    switch (effect) {
    case value_effect::offset:
        e.offset += magnitude;
        break;
    case value_effect::ramp:
        e.offset += magnitude * static_cast<double>(ts - start) / static_cast<double>(end - start);
        break;
    case value_effect::noise_factor:
        e.noise_factor *= magnitude;
        break;
    case value_effect::time_warp:
        e.time_scale = magnitude;
        e.warp_origin = start;
        break;
    case value_effect::none:
    case value_effect::freeze:
    case value_effect::silence:
        break;
    }
}

} // namespace synthfeed
