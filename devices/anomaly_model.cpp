#include "devices/anomaly_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace synthfeed {
namespace {

constexpr sim_time never = std::numeric_limits<sim_time>::max() / 2;

// Draws of episode n: counters n*4 + k.
enum episode_draw : std::uint64_t {
    draw_gap = 0,
    draw_length = 1,
    draw_magnitude = 2,
    draw_sign = 3
};

void draw_shape(const anomaly_spec& spec, anomaly_state& s, const rng_stream& key) noexcept {
    const std::uint64_t base = std::uint64_t{s.episode} * 4;
    const double m = spec.magnitude.lo +
                     (spec.magnitude.hi - spec.magnitude.lo) * key.uniform(base + draw_magnitude);
    // Only shifts and skews have a sign; factors, delays and fractions do not. Read from the
    // kind's row, so a new kind that acts as an existing one needs no change here.
    const anomaly_kind_row& row = anomaly_kinds[spec.kind];
    const bool skew = row.transport == transport_effect::clock_skew;
    const bool signed_kind = !row.factor && (row.label_class == anomaly_class::value || skew);
    bool down = spec.direction == anomaly_direction::down;
    if (spec.direction == anomaly_direction::both) down = key.uniform(base + draw_sign) < 0.5;
    s.magnitude = signed_kind && down ? -m : m;
    // Delays and skews are whole milliseconds, so the truth states exactly what was applied.
    if (skew || row.transport == transport_effect::duplicate ||
        row.transport == transport_effect::delay)
        s.magnitude = std::round(s.magnitude);
    s.announced = 0;
}

sim_duration draw_duration(const anomaly_spec& spec, const rng_stream& key,
                           std::uint32_t episode) noexcept {
    const auto span = static_cast<double>(spec.duration_hi - spec.duration_lo);
    return spec.duration_lo +
           static_cast<sim_duration>(
               std::floor(span * key.uniform(std::uint64_t{episode} * 4 + draw_length) + 0.5));
}

void schedule_poisson(const anomaly_spec& spec, anomaly_state& s, const rng_stream& key,
                      sim_time after) noexcept {
    const double gap = key.exponential(std::uint64_t{s.episode} * 4 + draw_gap) / spec.rate_per_ms;
    if (!(gap < static_cast<double>(never - after))) {
        s.start = s.end = never;
        s.exhausted = 1;
        return;
    }
    s.start = after + static_cast<sim_duration>(gap);
    s.end = s.start + draw_duration(spec, key, s.episode);
    draw_shape(spec, s, key);
}

void schedule_window(const anomaly_spec& spec, anomaly_state& s, const rng_stream& key,
                     sim_time run_start, std::uint32_t local) noexcept {
    const bool indexed = !spec.device_windows_start.empty();
    const std::size_t first = indexed ? spec.device_windows_start[local] : 0;
    const std::size_t count =
        indexed ? spec.device_windows_start[local + 1] - first : spec.windows.size();
    while (s.next_window < count) {
        const std::size_t index =
            indexed ? spec.device_windows[first + s.next_window] : s.next_window;
        ++s.next_window;
        const anomaly_window& w = spec.windows[index];
        if (!indexed && !w.devices.empty() &&
            !std::binary_search(w.devices.begin(), w.devices.end(), local))
            continue;
        const sim_time offset = w.relative ? run_start : 0;
        s.start = w.start + offset;
        s.end = w.end + offset;
        if (spec.duration_hi > 0) { // each device's episode: part of the window, at random
            const sim_duration length =
                std::min(draw_duration(spec, key, s.episode), s.end - s.start);
            s.start +=
                static_cast<sim_duration>(key.uniform(std::uint64_t{s.episode} * 4 + draw_gap) *
                                          static_cast<double>(s.end - s.start - length));
            s.end = s.start + length;
        }
        draw_shape(spec, s, key);
        if (w.magnitude) s.magnitude = *w.magnitude;
        return;
    }
    s.start = s.end = never;
    s.exhausted = 1;
}

} // namespace

anomaly_state first_episode(const anomaly_spec& spec, const rng_stream& key, sim_time run_start,
                            std::uint32_t local) noexcept {
    anomaly_state s;
    if (spec.rate_per_ms > 0)
        schedule_poisson(spec, s, key, run_start);
    else
        schedule_window(spec, s, key, run_start, local);
    return s;
}

void next_episode(const anomaly_spec& spec, anomaly_state& s, const rng_stream& key,
                  sim_time run_start, std::uint32_t local) noexcept {
    ++s.episode;
    if (spec.rate_per_ms > 0)
        schedule_poisson(spec, s, key, s.end);
    else
        schedule_window(spec, s, key, run_start, local);
}

} // namespace synthfeed
