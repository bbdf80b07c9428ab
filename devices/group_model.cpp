#include "devices/group_model.hpp"

#include <cctype>
#include <cmath>
#include <string>
#include <unordered_set>

#include "devices/arrivals.hpp"
#include "src/config/profile_loader.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

// Device-key counters: tick k's jitter uses counter k; the phase lives far above.
constexpr std::uint64_t phase_counter = 1ULL << 62;

constexpr std::uint64_t fnv1a(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char ch : s) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
    return h;
}

} // namespace

device_directory::device_directory(const profile& p) {
    offsets_.reserve(p.device_count() + 1);
    offsets_.push_back(0);
    for (const auto& g : p.groups) {
        group_first_.push_back(offsets_.size() - 1);
        for (std::uint64_t i = 0; i < g.count; ++i) {
            // The loader checked the alphabet of every id (is_device_id_char).
            const std::string id = format_device_id(g.id_template, g.name, i);
            chars_.insert(chars_.end(), id.begin(), id.end());
            offsets_.push_back(chars_.size());
        }
    }
    std::unordered_set<std::string_view> seen;
    seen.reserve(size());
    for (std::uint64_t i = 0; i < size(); ++i) {
        if (!seen.insert(id(i)).second)
            throw config_error({p.path, 0, 0}, "group.id",
                               "device id \"" + std::string(id(i)) +
                                   "\" is produced twice; give each group a distinct id template");
    }
}

group_model::group_model(const profile& p, std::uint32_t group_index, std::uint64_t first_global,
                         sim_time run_start)
    : anomalies_(p.groups[group_index].anomalies), spec_(&p.groups[group_index]),
      index_(group_index), first_global_(first_global), run_start_(run_start),
      group_key_(rng_stream{p.seed}.child(fnv1a(p.groups[group_index].name))) {
    if (spec_->parent >= 0) {
        const auto parent = static_cast<std::size_t>(spec_->parent);
        parent_key_ = rng_stream{p.seed}.child(fnv1a(p.groups[parent].name));
        parent_count_ = p.groups[parent].count;
        for (std::size_t g = 0; g < parent; ++g) parent_first_ += p.groups[g].count;
    }
    if (spec_->transactions)
        transactions_ =
            std::make_shared<const transaction_model>(*spec_->transactions, group_key_.child(3));
    for (std::size_t a = 0; a < anomalies_.size(); ++a) {
        anomaly_spec& spec = anomalies_[a];
        if (spec.kind == anomaly_kind::compromised_merchant) {
            draw_compromises(spec, group_key_.child(5000 + a));
            continue;
        }
        // Offsets become times now that the run start is known, so windows given both ways
        // are walked in one time order (the loader sorted and checked those of one kind).
        bool mixed = false;
        for (const auto& w : spec.windows) mixed |= w.relative != spec.windows.front().relative;
        if (!mixed) continue;
        for (auto& w : spec.windows) {
            if (w.relative) w.start += run_start, w.end += run_start;
            w.relative = false;
        }
        if (const auto overlap = sort_windows(spec.windows))
            throw config_error({p.path, 0, 0},
                               "group[" + std::to_string(group_index) + "] " +
                                   std::string(to_string(spec.kind)) + " windows",
                               "window " + std::to_string(overlap->second) + " overlaps window " +
                                   std::to_string(overlap->first) +
                                   " once its offsets start at the run start: " +
                                   std::string(window_overlap_reason));
    }
}

void group_model::draw_compromises(anomaly_spec& spec, const rng_stream& key) const {
    // Merchant compromises over the first year of the run; each catches a share of the cards
    // (drawn by geometric skips: work in proportion to the cards caught, not the fleet), each
    // of which shops there during part of the window.
    const sim_time horizon = run_start_ + 366 * ms_per_day;
    const std::uint32_t merchants = spec_->transactions->merchants;
    const auto cards = spec_->count;
    std::vector<std::vector<std::uint32_t>> by_card(cards);
    const double log_miss = std::log1p(-std::min(spec.participation, 1 - 1e-12));
    sim_time t = run_start_;
    for (std::uint64_t n = 0;; ++n) {
        const double gap = key.exponential(4 * n) / spec.events_per_ms;
        if (!(gap < static_cast<double>(horizon - t))) break; // also: no cast of a huge gap
        t += static_cast<sim_duration>(gap);
        anomaly_window w;
        w.start = t;
        w.end = t + spec.event_length;
        w.magnitude = std::floor(key.uniform(4 * n + 1) * merchants);
        const rng_stream caught = key.child(n + 1);
        const auto index = static_cast<std::uint32_t>(spec.windows.size());
        double card = -1;
        for (std::uint64_t k = 0;; ++k) {
            card += 1 + std::floor(std::log1p(-caught.uniform(k)) / log_miss);
            if (card >= static_cast<double>(cards)) break;
            const auto local = static_cast<std::uint32_t>(card);
            w.devices.push_back(local);
            by_card[local].push_back(index);
        }
        spec.windows.push_back(std::move(w));
    }
    spec.device_windows_start.push_back(0);
    for (const auto& list : by_card) {
        spec.device_windows.insert(spec.device_windows.end(), list.begin(), list.end());
        spec.device_windows_start.push_back(static_cast<std::uint32_t>(spec.device_windows.size()));
    }
}

sim_time group_model::next_arrival_time(const device_cursor& c, const anomaly_state* anomalies,
                                        sim_time ts, const fraud_effects& fraud) const noexcept {
    // Draws: a stream per tick. During fraud the intensity is flat (every candidate is kept).
    const rng_stream draws = c.key.child(17).child(c.tick);
    if (!transactions_) // an event sensor
        return next_arrival(draws, ts, peak_rate(*spec_->arrivals),
                            [&](sim_time t) { return seasonal_rate(*spec_->arrivals, t); });
    const double peak =
        fraud.active ? transactions_->intensity(ts, fraud) : transactions_->peak_intensity();
    sim_time next = next_arrival(draws, ts, peak, [&](sim_time t) {
        return fraud.active ? peak : transactions_->intensity(t, fraud);
    });
    for (std::size_t a = 0; anomalies && a < anomalies_.size(); ++a)
        if (class_of(anomalies_[a].kind) == anomaly_class::fraud && anomalies[a].start > ts &&
            anomalies[a].start < next)
            next = anomalies[a].start;
    return next;
}

double group_model::driver_at(sim_time ts) const noexcept {
    const driver_spec& d = *spec_->driver;
    const rng_stream knots = group_key_.child(77);
    // Smooth noise: normal draws at knots `every` apart, joined by cosine easing.
    const sim_time k = ts >= 0 ? ts / d.every : (ts - d.every + 1) / d.every;
    const double x = static_cast<double>(ts - k * d.every) / static_cast<double>(d.every);
    const double ease = (1 - cos_turns(x / 2)) / 2;
    const auto knot = static_cast<std::uint64_t>(k);
    const double noise = knots.normal(knot) * (1 - ease) + knots.normal(knot + 1) * ease;
    return d.daily_amplitude * cos_turns(day_turns(ts, d.daily_peak)) + d.stddev * noise;
}

sim_time group_model::tick_time(const device_cursor& c, std::uint64_t tick) const noexcept {
    const group_spec& g = *spec_;
    // Offset by the jitter bound so the earliest possible message is at the run start.
    sim_time t = run_start_ + g.jitter + static_cast<sim_time>(tick) * g.interval + c.phase;
    if (g.jitter > 0) {
        // floor(y) by truncation and a correction: exact, and no libm call on every tick.
        const double y = (2 * c.key.uniform(tick) - 1) * static_cast<double>(g.jitter) + 0.5;
        auto offset = static_cast<sim_duration>(y);
        if (static_cast<double>(offset) > y) --offset;
        t += offset;
    }
    return t;
}

device_block group_model::make_block(std::vector<std::uint32_t> locals) const {
    const group_spec& g = *spec_;
    device_block b;
    b.locals = std::move(locals);
    b.cursors.resize(b.locals.size());
    b.fields.reserve(b.locals.size() * g.fields.size());
    b.anomalies.reserve(b.locals.size() * anomalies_.size());
    b.values.resize(g.fields.size());
    b.active.reserve(anomalies_.size());
    for (std::size_t i = 0; i < b.locals.size(); ++i) {
        device_cursor& c = b.cursors[i];
        c.key = group_key_.child(b.locals[i]);
        c.tick = 0;
        if (spec_->random_phase)
            c.phase = static_cast<sim_duration>(c.key.uniform(phase_counter) *
                                                static_cast<double>(spec_->interval));
        // Event sensors and cards start with a Poisson gap; sensors on the interval grid.
        c.next_ts = spec_->arrivals || transactions_
                        ? next_arrival_time(c, nullptr, run_start_ - 1, fraud_effects{})
                        : tick_time(c, 0);
        for (std::size_t f = 0; f < g.fields.size(); ++f)
            b.fields.push_back(init_field(g.fields[f], c.key.child(100 + f)));
        for (std::size_t a = 0; a < anomalies_.size(); ++a)
            b.anomalies.push_back(first_episode(anomalies_[a], episode_key(c, b.locals[i], a),
                                                run_start_, schedule_local(b.locals[i], a)));
    }
    return b;
}

} // namespace synthfeed
