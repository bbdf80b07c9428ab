#include "src/engine/engine.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <spdlog/spdlog.h>

#include "src/engine/emitter.hpp"
#include "src/engine/load_schedule.hpp"
#include "src/engine/pacer.hpp"
#include "src/engine/pipeline.hpp"
#include "src/engine/worker.hpp"

namespace synthfeed {
namespace {

using engine_detail::clock;
using engine_detail::device_assignment;
using engine_detail::drain_clock;
using engine_detail::emitter;
using engine_detail::message_limits;
using engine_detail::pacer;
using engine_detail::pipeline;
using engine_detail::pipeline_depth;
using engine_detail::shared_encoders;
using engine_detail::window_producer;
using engine_detail::worker;

constexpr double messages_per_window = 65536;
constexpr double paced_window_wall_ms = 20;

/// How many times its nominal rate a group may send while fraud reshapes its cards: a window
/// must hold the busiest stretch in memory, not the average one (card_testing's magnitude is
/// attempts per hour, the others multiply the card's own rate).
double burst_factor(const group_spec& g) noexcept {
    double factor = 1;
    for (const auto& a : g.anomalies) {
        if (a.kind == anomaly_kind::velocity_burst || a.kind == anomaly_kind::account_takeover)
            factor = std::max(factor, std::max(2.0, a.magnitude.hi));
        else if (a.kind == anomaly_kind::card_testing)
            factor = std::max(factor, a.magnitude.hi / 3.6e6 * static_cast<double>(g.interval));
    }
    return factor;
}

/// The encoders of one run; the workers share them read-only.
struct run_encoders {
    run_encoders(const profile& p, const run_options& o, const injection_board& injections)
        : messages(p, o.format, o.label_in_payload, &injections), labels(p, o.labels, &injections),
          episodes(p, &injections), headers(p, &injections) {}

    /// What the workers use: label, episode and header encoders only when their output is on.
    shared_encoders shared(const profile& p, const device_directory& ids, const run_options& o,
                           const run_sinks& sinks,
                           const injection_board& injections) const noexcept {
        return {&ids,
                &messages,
                sinks.labels ? &labels : nullptr,
                sinks.episodes ? &episodes : nullptr,
                o.label_headers ? &headers : nullptr,
                &p,
                &injections};
    }

    message_encoder messages;
    label_encoder labels;
    episode_encoder episodes;
    truth_names headers;
};

std::vector<group_model> make_models(const profile& p, const device_directory& ids,
                                     sim_time start) {
    std::vector<group_model> models;
    for (std::uint32_t g = 0; g < p.groups.size(); ++g)
        models.emplace_back(p, g, ids.first_of_group(g), start);
    return models;
}

/// One worker per thread over its share of the devices; they all advance `models`.
std::vector<std::unique_ptr<worker>> make_workers(const shared_encoders& enc,
                                                  std::vector<group_model>& models,
                                                  device_assignment& shard, run_stats& stats) {
    std::vector<std::unique_ptr<worker>> workers;
    for (auto& locals : shard.locals)
        workers.push_back(worker::make(enc, models, std::move(locals)));
    std::size_t state_bytes = 0;
    for (const auto& w : workers) state_bytes += w->state_bytes();
    spdlog::debug("{} devices in this shard, {} bytes of device state", shard.devices, state_bytes);
    stats.devices.store(shard.devices, std::memory_order_relaxed);
    return workers;
}

std::vector<window_producer*> producers(const std::vector<std::unique_ptr<worker>>& workers) {
    std::vector<window_producer*> out;
    for (const auto& w : workers) out.push_back(w.get());
    return out;
}

void write_preambles(const run_sinks& sinks, const run_encoders& encoders) {
    if (sinks.data) sinks.data->write_preamble(encoders.messages.header());
    if (sinks.labels) sinks.labels->write_preamble(encoders.labels.header());
}

/// Where event time stops: the end of --duration, at most the last instant every output can
/// write (max_event_time); at once for a shard without devices.
sim_time run_end(const profile& p, const run_options& o, std::uint64_t devices) {
    const sim_time horizon = max_event_time + 1;
    sim_time end = o.duration && *o.duration < horizon - o.start ? o.start + *o.duration : horizon;
    if (devices == 0) { // else --count would walk event time to the horizon, finding nothing
        spdlog::warn("shard {}/{} holds none of the profile's {} devices: nothing to generate",
                     o.shard_index, o.shard_count, p.device_count());
        end = o.start;
    }
    if (o.duration && end == horizon)
        spdlog::warn("--duration reaches past {}, the last instant line protocol can write; the "
                     "run stops there",
                     format_timestamp(max_event_time));
    return end;
}

message_limits limits_of(const run_options& o) {
    message_limits limits;
    limits.count = o.count.value_or(UINT64_MAX);
    // A load shape with a wall-time limit fixes the exact number of messages: integer
    // accounting of the schedule, not however many the clock lets through.
    if (o.load.shape != load_shape::none && o.wall_limit)
        limits.schedule =
            load_schedule(o.load).allowed(std::chrono::duration<double>(*o.wall_limit).count());
    return limits;
}

/// --run-for as the drain clock's hard end (max: none): generation stops then, whatever the
/// achieved rate; what the schedule wanted and did not get is the shortfall.
clock::time_point hard_end(const run_options& o, clock::time_point schedule_start) {
    return o.wall_limit ? schedule_start + *o.wall_limit : clock::time_point::max();
}

void announce_running(run_control* control, const load_spec& load) {
    if (!control) return;
    control->target_rate.store(load.shape == load_shape::constant ? load.rate : 0);
    control->running.store(true);
}

/// Publishes waiting injection requests so that workers apply them from `window` on: the
/// earliest window not yet handed to them, so "now" is at most pipeline_depth windows away.
void schedule_injections(injection_queue& queue, injection_board& board, const pipeline& pipe,
                         std::int64_t window, emitter& out) {
    for (auto& [request, answer] : queue.take()) {
        injected_episode e = request.episode;
        e.start = pipe.window_start(window);
        e.end = e.start + std::max<sim_duration>(1, request.duration);
        e.first_window = window;
        const auto id = board.publish(e);
        if (!id) {
            answer.set_value({false, 0, 0, 0, "too many injected episodes in this run"});
            continue;
        }
        spdlog::info("control: injected {} episode {} from {}", to_string(e.kind), *id,
                     format_timestamp(e.start));
        out.note_event(fmt::format("injected {} episode {} from {} to {}", to_string(e.kind), *id,
                                   format_timestamp(e.start), format_timestamp(e.end)),
                       true);
        answer.set_value({true, *id, e.start, e.end, {}});
    }
}

/// Lets the workers go on with the window `pipeline_depth` after w, with the injections
/// requested meanwhile; returns the first window not yet requested.
std::int64_t request_next_window(pipeline& pipe, std::int64_t w, run_control* control,
                                 injection_board& injections, emitter& out) {
    const std::int64_t next = w + static_cast<std::int64_t>(pipeline_depth);
    if (control) schedule_injections(control->injections, injections, pipe, next, out);
    pipe.request(next);
    return next + 1;
}

/// Answers the injection requests still waiting when the run ends.
void refuse_injections(run_control* control) {
    if (!control) return;
    for (auto& [request, answer] : control->injections.take())
        answer.set_value({false, 0, 0, 0, "the run is ending"});
}

} // namespace

sim_duration window_length(const profile& p, double speed, double target_rate) noexcept {
    double peak_rate = 0; // messages per second, with every group at its busiest
    for (const auto& g : p.groups)
        peak_rate += static_cast<double>(g.count) * 1000.0 / static_cast<double>(g.interval) *
                     burst_factor(g);
    const double rate_per_ms = peak_rate / 1000.0;
    double ms =
        rate_per_ms > 0 ? messages_per_window / rate_per_ms : static_cast<double>(ms_per_day);
    if (target_rate > 0) {
        // Paced by count: about paced_window_wall_ms of wall time at the target rate (at
        // least one message), whatever --speed says, since event time then runs at the
        // rate's pace, not the clock's.
        const double messages = std::max(1.0, target_rate * paced_window_wall_ms / 1000);
        if (rate_per_ms > 0) ms = std::min(ms, messages / rate_per_ms);
    } else if (speed > 0) {
        ms = std::min(ms, paced_window_wall_ms * speed);
    }
    return static_cast<sim_duration>(std::clamp(ms, 1.0, static_cast<double>(ms_per_day)));
}

run_summary run_engine(const profile& p, const device_directory& ids, const run_options& o,
                       const run_sinks& sinks, run_stats& stats, const std::atomic<bool>& stop,
                       run_control* control) {
    const auto wall_start = clock::now();
    injection_board injections;
    const run_encoders encoders(p, o, injections);
    std::vector<group_model> models = make_models(p, ids, o.start);
    // Shard devices: global index ≡ shard_index (mod shard_count); then round-robin to workers.
    device_assignment shard = engine_detail::assign_devices(p, ids, std::max(1u, o.threads),
                                                            o.shard_index, o.shard_count);
    const std::vector<std::unique_ptr<worker>> workers =
        make_workers(encoders.shared(p, ids, o, sinks, injections), models, shard, stats);
    write_preambles(sinks, encoders);

    const sim_duration window = window_length(p, o.speed, load_schedule(o.load).peak_rate());
    const sim_time end = run_end(p, o, shard.devices);
    pipeline pipe(producers(workers), o.start, window, end);
    pacer pace(o.start, o.speed, o.load);
    const message_limits limits = limits_of(o);
    drain_clock drain(stop, hard_end(o, clock::now()), o.grace, control); // the pacer's start
    emitter out(
        {&p, &ids, sinks, o.start, o.label_headers, o.progress_every, limits, wall_start, control},
        stats, pace, drain);
    announce_running(control, o.load);

    // Injections go into the first window not yet requested from the workers, whenever the
    // emitter sees one waiting (also while it sleeps or pauses).
    std::int64_t first_free = static_cast<std::int64_t>(pipeline_depth);
    if (control)
        out.on_injections(
            [&] { schedule_injections(control->injections, injections, pipe, first_free, out); });
    pipe.request(first_free - 1);
    for (std::int64_t w = 0; !out.finished() && !pipe.past_end(w); ++w) {
        // Workers slower than the schedule: the sinks, the control plane, the lag and the
        // stop are still served while the window is being generated.
        while (!drain.stopping() && !pipe.ready(w, std::chrono::milliseconds(10)))
            out.serve_sinks();
        if (drain.stopping()) break;
        out.emit_window(pipe.wait(w), pipe.window_start(w), pipe.window_end(w),
                        pipe.past_end(w + 1));
        if (!out.finished()) first_free = request_next_window(pipe, w, control, injections, out);
        out.serve_sinks();
    }
    const bool interrupted = stop.load();
    refuse_injections(control);
    return out.drain_and_summarise(interrupted);
}

} // namespace synthfeed
