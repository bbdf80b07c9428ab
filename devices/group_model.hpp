#pragma once
/// Runtime model of one device group: per-device state for a subset of its devices and the
/// tick loop that turns (seed, device, tick) into values, truth labels and new episodes.
///
/// Concurrency: a group_model is immutable after construction and shared by all workers; each
/// worker owns the device_block it advances, so no locking is needed.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "devices/anomaly_model.hpp"
#include "devices/injection.hpp"
#include "devices/signal_model.hpp"
#include "devices/transaction_model.hpp"
#include "src/config/profile.hpp"
#include "src/core/rng.hpp"

namespace synthfeed {

/// Every device id of a profile, packed; global index = position over groups in order.
class device_directory {
  public:
    /// Formats every id; throws config_error when two devices would share an id.
    explicit device_directory(const profile& p);

    std::string_view id(std::uint64_t global) const noexcept {
        return {chars_.data() + offsets_[global], offsets_[global + 1] - offsets_[global]};
    }
    std::uint64_t size() const noexcept { return offsets_.size() - 1; }
    std::uint64_t first_of_group(std::size_t group) const noexcept { return group_first_[group]; }

  private:
    std::vector<char> chars_;
    std::vector<std::uint64_t> offsets_;
    std::vector<std::uint64_t> group_first_;
};

/// An episode that is live at a tick: which anomaly spec, which of its episodes (or
/// injected_anomaly and the injection id).
struct episode_ref {
    std::uint32_t anomaly;
    std::uint32_t episode;
};

/// The kind of an episode of group `g`: its spec's, or the run-time injection's.
inline anomaly_kind episode_kind(const group_spec& g, const injection_board* injections,
                                 episode_ref e) noexcept {
    return e.anomaly == injected_anomaly ? (*injections)[e.episode].kind
                                         : g.anomalies[e.anomaly].kind;
}

/// One generated tick of one device.
struct tick_view {
    std::uint32_t group;
    std::uint64_t device; ///< global index
    std::uint64_t seq;
    sim_time ts;
    bool emitted; ///< false while a dropout silences the device (the seq is skipped)
    std::span<const double> values;
    std::span<const episode_ref> episodes; ///< in anomaly-spec order
    const transport_effects* transport;    ///< faults applied to this tick's message
};

/// An episode whose first tick has just been generated.
struct episode_view {
    std::uint32_t group;
    std::uint64_t device;
    std::uint32_t anomaly;
    std::uint32_t episode;
    sim_time start;
    sim_time end;
    double magnitude;
    sim_time first_ts;
    std::uint64_t cause_device = UINT64_MAX; ///< a cascade: the gateway whose episode this is
};

struct device_cursor {
    rng_stream key;
    std::uint64_t tick = 0;
    sim_time next_ts = 0;
    sim_time prev_ts = INT64_MIN; ///< the previous tick's event time (none yet: INT64_MIN)
    sim_duration phase = 0;       ///< the device's offset on the interval grid (random phase)
};

/// State for the devices of one group that one worker owns.
struct device_block {
    std::vector<std::uint32_t> locals;
    std::vector<device_cursor> cursors;
    std::vector<field_state> fields;      ///< locals.size() × field count
    std::vector<anomaly_state> anomalies; ///< locals.size() × anomaly count
    std::vector<double> values;           ///< scratch: one tick's values
    std::vector<episode_ref> active;      ///< scratch: one tick's live episodes
    /// Values frozen by injected stuck_at episodes, keyed by (injection id, block position).
    std::unordered_map<std::uint64_t, double> injected_stuck;

    /// Bytes of state per device, for the memory budget.
    std::size_t bytes_per_device(std::size_t field_count,
                                 std::size_t anomaly_count) const noexcept {
        return sizeof(std::uint32_t) + sizeof(device_cursor) + field_count * sizeof(field_state) +
               anomaly_count * sizeof(anomaly_state);
    }
};

class group_model {
  public:
    group_model(const profile& p, std::uint32_t group_index, std::uint64_t first_global,
                sim_time run_start);

    const group_spec& spec() const noexcept { return *spec_; }
    std::uint32_t index() const noexcept { return index_; }
    std::uint64_t first_global() const noexcept { return first_global_; }

    /// Creates state for the given local device indices (ascending).
    device_block make_block(std::vector<std::uint32_t> locals) const;

    /// Event time of a device's tick.
    sim_time tick_time(const device_cursor& c, std::uint64_t tick) const noexcept;
    /// Event time of a Poisson device's next event (an event sensor's, a card's transaction)
    /// after `ts`, by thinning at the current intensity; for a card, the start of its next
    /// fraud episode if that comes first (an episode opens with a transaction). `anomalies`
    /// may be null before the device's episodes are scheduled.
    sim_time next_arrival_time(const device_cursor& c, const anomaly_state* anomalies, sim_time ts,
                               const fraud_effects& fraud) const noexcept;

    /// Generates every tick of block device `i` with event time before `until`, calling
    /// out.on_episode(episode_view) for each episode's first tick, then out.on_tick(tick_view).
    /// `injections` are run-time episodes (any group; those targeting this device apply).
    template <class Output>
    void advance(device_block& b, std::size_t i, sim_time until, Output& out,
                 std::span<const injected_episode> injections = {}) const noexcept;

    /// The group's shared latent driver at `ts` (0 without [group.driver]).
    double driver_at(sim_time ts) const noexcept;

  private:
    void draw_compromises(anomaly_spec& spec, const rng_stream& key) const;
    /// Episode draws of spec `a` for a device: its own, or for a cascade its gateway's (so the
    /// children see exactly the gateway's episodes).
    rng_stream episode_key(const device_cursor& c, std::uint32_t local,
                           std::size_t a) const noexcept {
        const anomaly_spec& spec = anomalies_[a];
        if (spec.cause_group < 0) return anomaly_key(c, a);
        return parent_key_.child(parent_local(local)).child(1000 + spec.cause_anomaly);
    }
    /// The device index episode windows are matched against (the gateway's for a cascade).
    std::uint32_t schedule_local(std::uint32_t local, std::size_t a) const noexcept {
        return anomalies_[a].cause_group < 0 ? local : parent_local(local);
    }
    std::uint64_t cause_device(std::uint32_t local, std::size_t a) const noexcept {
        return anomalies_[a].cause_group < 0 ? UINT64_MAX : parent_first_ + parent_local(local);
    }
    /// Gateways serve contiguous blocks of children.
    std::uint32_t parent_local(std::uint32_t local) const noexcept {
        return static_cast<std::uint32_t>(std::uint64_t{local} * parent_count_ / spec_->count);
    }
    rng_stream anomaly_key(const device_cursor& c, std::size_t a) const noexcept {
        return c.key.child(1000 + a);
    }

    /// The group's episode specs, with compromised_merchant windows drawn for this run.
    std::vector<anomaly_spec> anomalies_;
    std::shared_ptr<const transaction_model> transactions_; ///< transaction groups only
    const group_spec* spec_;
    std::uint32_t index_;
    std::uint64_t first_global_;
    sim_time run_start_;
    rng_stream group_key_;  ///< keyed by group name, so adding a group never reshuffles another
    rng_stream parent_key_; ///< the gateway group's key (cascades)
    std::uint64_t parent_count_ = 1; ///< gateways
    std::uint64_t parent_first_ = 0; ///< global index of the first gateway
};

template <class Output>
void group_model::advance(device_block& b, std::size_t i, sim_time until, Output& out,
                          std::span<const injected_episode> injections) const noexcept {
    const group_spec& g = *spec_;
    const std::size_t field_count = g.fields.size();
    const std::size_t anomaly_count = anomalies_.size();
    device_cursor& c = b.cursors[i];
    field_state* fields = b.fields.data() + i * field_count;
    anomaly_state* anomalies = b.anomalies.data() + i * anomaly_count;
    const std::uint32_t local = b.locals[i];
    const std::uint64_t global = first_global_ + local;
    std::array<field_effects, 16> small_effects;
    std::vector<field_effects> large_effects;
    field_effects* effects = small_effects.data();
    if (field_count > small_effects.size()) {
        large_effects.resize(field_count);
        effects = large_effects.data();
    }

    while (c.next_ts < until) {
        const sim_time ts = c.next_ts;
        bool emitted = true;
        transport_effects transport;
        fraud_effects fraud;
        bool removed_fraud = false; // the live fraud is removed (--no-anomalies): send nothing
        b.active.clear();
        for (std::size_t f = 0; f < field_count; ++f) effects[f] = field_effects{};

        for (std::size_t a = 0; a < anomaly_count; ++a) {
            const anomaly_spec& spec = anomalies_[a];
            anomaly_state& st = anomalies[a];
            for (;;) {
                if (st.exhausted || ts < st.start) break;
                if (ts >= st.end) {
                    if (!st.announced && st.start == st.end) { // zero-length: snap to this tick
                        st.start = ts;
                        st.end = ts + 1;
                    } else {
                        next_episode(spec, st, episode_key(c, local, a), run_start_,
                                     schedule_local(local, a));
                        continue;
                    }
                }
                if (spec.removed) {
                    // Scheduled as in the labelled run but inert and untold; a removed fraud
                    // still paces the card's arrivals, so that later seqs and times match.
                    st.announced = 1;
                    if (class_of(spec.kind) == anomaly_class::fraud && !fraud.active) {
                        fraud = {true, anomaly_kinds[spec.kind].fraud, st.magnitude,
                                 anomaly_key(c, a).child(st.episode)};
                        removed_fraud = true;
                    }
                    break;
                }
                if (!st.announced) {
                    st.announced = 1;
                    out.on_episode(episode_view{index_, global, static_cast<std::uint32_t>(a),
                                                st.episode, st.start, st.end, st.magnitude, ts,
                                                cause_device(local, a)});
                }
                b.active.push_back({static_cast<std::uint32_t>(a), st.episode});
                if (silences(spec.kind))
                    emitted = false;
                else if (class_of(spec.kind) == anomaly_class::transport)
                    apply_transport_effect(anomaly_kinds[spec.kind].transport, spec.field,
                                           st.magnitude, transport);
                else if (class_of(spec.kind) == anomaly_class::fraud) {
                    if (!fraud.active)
                        fraud = {true, anomaly_kinds[spec.kind].fraud, st.magnitude,
                                 anomaly_key(c, a).child(st.episode)};
                } else if (class_of(spec.kind) == anomaly_class::drift)
                    apply_drift_effect(spec, st.start, ts, effects[spec.field]);
                else if (class_of(spec.kind) == anomaly_class::regime)
                    apply_regime_effect(spec, st.magnitude, effects[spec.field]);
                else
                    apply_episode_effect(anomaly_kinds[spec.kind].value, st.magnitude, st.start,
                                         st.end, ts, effects[spec.field]);
                break;
            }
        }
        // Injected episodes: live from their start (a spike: on the first tick from there).
        for (const injected_episode& inj : injections) {
            if (ts < inj.start || !inj.targets(index_, global)) continue;
            const bool first = c.prev_ts < inj.start;
            const bool spike = anomaly_kinds[inj.kind].zero_length; // one tick
            if (spike ? !first : ts >= inj.end) continue;
            const sim_time start = spike ? ts : inj.start, end = spike ? ts + 1 : inj.end;
            if (first)
                out.on_episode(episode_view{index_, global, injected_anomaly, inj.id, start, end,
                                            inj.magnitude, ts});
            b.active.push_back({injected_anomaly, inj.id});
            if (silences(inj.kind))
                emitted = false;
            else
                apply_episode_effect(anomaly_kinds[inj.kind].value, inj.magnitude, start, end, ts,
                                     effects[inj.field]);
        }

        if (transactions_) {
            transactions_->fill(b.values.data(), c.key, c.tick,
                                removed_fraud ? fraud_effects{} : fraud);
            emitted = emitted && !removed_fraud;
        } else {
            const sim_duration elapsed = ts - run_start_;
            const double shared = g.driver ? driver_at(ts) : 0;
            for (std::size_t f = 0; f < field_count; ++f) {
                const field_spec& spec = g.fields[f];
                if (spec.signal.from >= 0)
                    effects[f].input = b.values[static_cast<std::size_t>(spec.signal.from)];
                const double raw =
                    next_field_value(spec, fields[f], c.tick, ts, elapsed, g.interval, effects[f]) +
                    spec.driver * shared;
                b.values[f] = finish_field_value(spec, raw);
            }
        }
        // stuck_at freezes the reported value at the episode's first tick.
        for (const episode_ref& r : b.active) {
            if (r.anomaly == injected_anomaly) {
                const injected_episode& inj = injections[r.episode];
                if (anomaly_kinds[inj.kind].value != value_effect::freeze) continue;
                // try_emplace keeps the value captured at the episode's first tick.
                const auto frozen = b.injected_stuck.try_emplace(
                    (std::uint64_t{r.episode} << 32) | i, b.values[inj.field]);
                b.values[inj.field] = frozen.first->second;
                continue;
            }
            const anomaly_spec& spec = anomalies_[r.anomaly];
            if (anomaly_kinds[spec.kind].value != value_effect::freeze) continue;
            anomaly_state& st = anomalies[r.anomaly];
            if (st.announced == 1) {
                st.stuck_value = b.values[spec.field];
                st.announced = 2; // captured
            }
            b.values[spec.field] = st.stuck_value;
        }

        out.on_tick(tick_view{index_, global, c.tick, ts, emitted,
                              std::span<const double>(b.values.data(), field_count),
                              std::span<const episode_ref>(b.active), &transport});
        ++c.tick;
        c.prev_ts = ts;
        c.next_ts = g.arrivals || transactions_ ? next_arrival_time(c, anomalies, ts, fraud)
                                                : tick_time(c, c.tick);
    }
}

} // namespace synthfeed
