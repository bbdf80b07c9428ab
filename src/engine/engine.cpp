#include "src/engine/engine.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "src/engine/load_schedule.hpp"
#include "src/engine/pacer.hpp"
#include "src/engine/pipeline.hpp"
#include "src/engine/window_batch.hpp"
#include "src/engine/window_merge.hpp"
#include "src/engine/worker.hpp"

namespace synthfeed {
namespace {

using engine_detail::before;
using engine_detail::clock;
using engine_detail::device_mask;
using engine_detail::end_of_batch;
using engine_detail::episode_entry;
using engine_detail::idle_fn;
using engine_detail::message_entry;
using engine_detail::pacer;
using engine_detail::pipeline;
using engine_detail::pipeline_depth;
using engine_detail::window_batch;
using engine_detail::window_merge;
using engine_detail::window_producer;
using engine_detail::worker;

constexpr double messages_per_window = 65536;
constexpr double paced_window_wall_ms = 20;

enum class delivery { handed_over, abandoned };

/// When the run stops taking new work: a stop request (signal), the end of --run-for, or the
/// end of the run itself. From that moment the sinks have `grace` to deliver, /readyz answers
/// 503 and the log says so; nothing waits past it, so the process ends within `grace` of the
/// stop whatever the sinks do.
class drain_clock {
  public:
    drain_clock(const std::atomic<bool>& stop, clock::time_point hard_end,
                std::chrono::milliseconds grace, run_control* control)
        : stop_(stop), hard_end_(hard_end), grace_(grace), control_(control) {}

    /// True once the run is stopping; starts the drain the first time.
    bool stopping() noexcept {
        if (started_) return true;
        if (stop_.load(std::memory_order_relaxed)) {
            begin("stop requested");
        } else if (hard_end_ != clock::time_point::max() && clock::now() >= hard_end_) {
            begin("--run-for reached");
        }
        return started_;
    }
    void begin(const char* why) noexcept {
        if (started_) return;
        started_ = true;
        until_ = clock::now() + grace_;
        if (control_) {
            control_->running.store(false);
            control_->draining.store(true);
        }
        spdlog::info("draining ({}): sinks have {:.3g}s to deliver", why,
                     std::chrono::duration<double>(grace_).count());
    }
    /// The drain deadline (valid once stopping).
    deadline until() const noexcept { return until_; }

  private:
    const std::atomic<bool>& stop_;
    clock::time_point hard_end_;
    std::chrono::milliseconds grace_;
    run_control* control_;
    bool started_ = false;
    deadline until_{};
};

/// Sends with backpressure: a full queue is polled and retried, never dropped. Once the run
/// is stopping, a sink still full at the drain deadline is given up on: the caller counts the
/// message as failed, so nothing is lost silently.
/// `waiting` runs between retries (the progress line goes on while a sink is blocked).
delivery deliver(connector& c, const record& r, drain_clock& drain,
                 const std::function<void()>& waiting) noexcept {
    for (;;) {
        if (c.send(r) != send_result::queue_full) return delivery::handed_over;
        if (drain.stopping() && clock::now() >= drain.until()) return delivery::abandoned;
        c.poll(std::chrono::milliseconds(5));
        waiting();
    }
}

/// Publishes waiting injection requests so that workers apply them from `window` on: the
/// earliest window not yet handed to them, so "now" is at most pipeline_depth windows away.
void schedule_injections(injection_queue& queue, injection_board& board, const pipeline& pipe,
                         std::int64_t window) {
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
        answer.set_value({true, *id, e.start, e.end, {}});
    }
}

} // namespace

namespace {

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

} // namespace

sim_duration window_length(const profile& p, double speed) noexcept {
    double peak_rate = 0; // messages per second, with every group at its busiest
    for (const auto& g : p.groups)
        peak_rate += static_cast<double>(g.count) * 1000.0 / static_cast<double>(g.interval) *
                     burst_factor(g);
    const double rate_per_ms = peak_rate / 1000.0;
    double ms =
        rate_per_ms > 0 ? messages_per_window / rate_per_ms : static_cast<double>(ms_per_day);
    if (speed > 0) ms = std::min(ms, paced_window_wall_ms * speed);
    return static_cast<sim_duration>(std::clamp(ms, 1.0, static_cast<double>(ms_per_day)));
}

run_summary run_engine(const profile& p, const device_directory& ids, const run_options& o,
                       const run_sinks& sinks, run_stats& stats, const std::atomic<bool>& stop,
                       run_control* control) {
    const auto wall_start = clock::now();
    injection_board injections;
    const message_encoder message_enc(p, o.format, o.label_in_payload, &injections);
    const label_encoder label_enc(p, o.labels, &injections);
    const episode_encoder episode_enc(p, &injections);
    const truth_names header_names(p, &injections);
    const engine_detail::shared_encoders enc{&ids,
                                             &message_enc,
                                             sinks.labels ? &label_enc : nullptr,
                                             sinks.episodes ? &episode_enc : nullptr,
                                             o.label_headers ? &header_names : nullptr,
                                             &p,
                                             &injections};

    std::vector<group_model> models;
    for (std::uint32_t g = 0; g < p.groups.size(); ++g)
        models.emplace_back(p, g, ids.first_of_group(g), o.start);

    // Shard devices: global index ≡ shard_index (mod shard_count); then round-robin to workers.
    engine_detail::device_assignment shard = engine_detail::assign_devices(
        p, ids, std::max(1u, o.threads), o.shard_index, o.shard_count);
    const std::uint64_t position = shard.devices;
    std::vector<std::unique_ptr<worker>> workers;
    for (auto& locals : shard.locals)
        workers.push_back(worker::make(enc, models, std::move(locals)));
    std::size_t state_bytes = 0;
    for (const auto& w : workers) state_bytes += w->state_bytes();
    spdlog::debug("{} devices in this shard, {} bytes of device state", position, state_bytes);
    stats.devices.store(position, std::memory_order_relaxed);

    if (sinks.data) sinks.data->write_preamble(message_enc.header());
    if (sinks.labels) sinks.labels->write_preamble(label_enc.header());

    const sim_duration window = window_length(p, o.speed);
    // Event time stops at the last instant every output can write (max_event_time).
    const sim_time horizon = max_event_time + 1;
    sim_time end = o.duration && *o.duration < horizon - o.start ? o.start + *o.duration : horizon;
    if (position == 0) { // else --count would walk event time to the horizon, finding nothing
        spdlog::warn("shard {}/{} holds none of the profile's {} devices: nothing to generate",
                     o.shard_index, o.shard_count, p.device_count());
        end = o.start;
    }
    if (o.duration && end == horizon)
        spdlog::warn("--duration reaches past {}, the last instant line protocol can write; the "
                     "run stops there",
                     format_timestamp(max_event_time));
    std::vector<window_producer*> producers;
    for (const auto& w : workers) producers.push_back(w.get());
    pipeline pipe(producers, o.start, window, end);
    pacer pace(o.start, o.speed, o.load);
    const std::uint64_t count_limit = o.count.value_or(UINT64_MAX);
    // A load shape with a wall-time limit fixes the exact number of messages: integer
    // accounting of the schedule, not however many the clock lets through. A rate change
    // through the control API drops that figure and the clock decides instead.
    std::uint64_t schedule_limit = UINT64_MAX;
    if (o.load.shape != load_shape::none && o.wall_limit)
        schedule_limit =
            load_schedule(o.load).allowed(std::chrono::duration<double>(*o.wall_limit).count());
    std::uint64_t limit = std::min(count_limit, schedule_limit);
    const auto wall_end = o.wall_limit ? clock::now() + *o.wall_limit : clock::time_point::max();
    // --run-for is a hard limit; a load shape's exact message count gets a second's slack for
    // its last message.
    drain_clock drain(stop,
                      schedule_limit == UINT64_MAX || wall_end == clock::time_point::max()
                          ? wall_end
                          : wall_end + std::chrono::seconds(1),
                      o.grace, control);
    const idle_fn idle = [&](clock::duration d) {
        for (connector* c : {sinks.labels, sinks.episodes})
            if (c) c->poll(std::chrono::milliseconds(0));
        const auto until = clock::now() + d;
        for (auto now = clock::now(); now < until && !drain.stopping(); now = clock::now())
            sinks.data->poll(std::chrono::ceil<std::chrono::milliseconds>(until - now));
        return !drain.stopping();
    };

    run_summary summary;
    summary.profile = p.name;
    summary.seed = p.seed;
    summary.sim_start = o.start;
    summary.sim_end = o.start;

    std::uint64_t generated = 0, suppressed = 0, labels = 0;
    std::uint64_t abandoned = 0, truth_abandoned = 0; // given up on a full sink after a stop
    auto last_progress = wall_start;
    std::uint64_t last_progress_count = 0;
    bool finished = false;
    struct held_episode {
        episode_entry entry;
        std::string line;
    };
    std::vector<held_episode> held_episodes; // label due in a later window
    std::vector<std::pair<episode_entry, std::string_view>> window_episodes;
    std::array<record_header, 4> headers; // --label-headers: refilled per message
    if (control) {
        control->target_rate.store(o.load.shape == load_shape::constant ? o.load.rate : 0);
        control->running.store(true);
    }
    // Pause and rate changes from the control API, applied between messages.
    auto apply_control = [&] {
        if (!control) return;
        const double rate =
            control->requested_rate.exchange(std::numeric_limits<double>::quiet_NaN());
        if (!std::isnan(rate)) {
            pace.set_rate(rate, generated);
            schedule_limit = UINT64_MAX;
            limit = count_limit;
            control->target_rate.store(rate);
            spdlog::info("control: target rate set to {} msg/s", rate);
        }
        if (!control->paused.load()) return;
        const auto paused_at = clock::now();
        spdlog::info("control: paused");
        while (control->paused.load() && idle(std::chrono::milliseconds(20))) {
        }
        pace.shift(clock::now() - paused_at);
        spdlog::info("control: resumed");
    };
    auto report_progress = [&] {
        const auto now = clock::now();
        if (o.progress_every.count() <= 0 || now - last_progress < o.progress_every) return;
        const double span = std::chrono::duration<double>(now - last_progress).count();
        spdlog::info(progress_line(
            stats, sinks.data->counts(), std::chrono::duration<double>(now - wall_start).count(),
            static_cast<double>(generated - last_progress_count) / span, sinks.data->fleet()));
        last_progress = now;
        last_progress_count = generated;
    };
    const std::function<void()> progress_hook = [&] { report_progress(); };
    pipe.request(static_cast<std::int64_t>(pipeline_depth) - 1);

    for (std::int64_t w = 0; !finished && !pipe.past_end(w); ++w) {
        if (drain.stopping()) break;
        std::vector<window_batch*> batches = pipe.wait(w);
        window_merge merge(batches);
        const sim_time window_start = pipe.window_start(w);
        sim_time cut_ts = pipe.window_end(w);
        std::uint64_t cut_device = 0;
        sim_time last_ts = -1; // the last entry sent, to see a cut fall between equal keys
        std::uint64_t last_device = 0;
        bool split_tie = false;
        const window_batch* best = nullptr;
        for (std::uint64_t n = 0;; ++n) {
            const message_entry* next = merge.next(best);
            if (!next) break;
            const message_entry& m = *next;
            const sim_time ts = window_start + static_cast<sim_time>(m.order >> 32);
            const std::uint64_t device = m.order & device_mask;
            if (m.emitted && generated >= limit) {
                finished = true;
                cut_ts = ts, cut_device = device;
                split_tie = ts == last_ts && device == last_device;
                break;
            }
            last_ts = ts, last_device = device;
            if ((n & 1023) == 0) {
                apply_control();
                if (drain.stopping()) {
                    finished = true;
                    cut_ts = ts, cut_device = device;
                    break;
                }
                // Serve delivery reports as they come, so a broker sink's queue stays short.
                sinks.data->poll(std::chrono::milliseconds(0));
                stats.generated.store(generated, std::memory_order_relaxed);
                pace.observe_lag(ts, generated, stats);
                report_progress(); // paced windows can last longer than the progress interval
            }
            if (m.emitted && !pace.wait_for(ts, generated, idle, stats)) {
                finished = true;
                cut_ts = ts, cut_device = device;
                break;
            }
            const std::string_view id = ids.id(device);
            const std::string_view group = p.groups[m.group].name;
            if (m.emitted) {
                std::span<const record_header> header_span;
                if (o.label_headers) {
                    const std::string_view text = best->header_text.view(
                        m.header_offset, std::size_t{m.seq_length} + m.label_text_length +
                                             m.episode_length + m.faults_length);
                    std::size_t at = 0;
                    auto next_text = [&](std::size_t n) {
                        const std::string_view part = text.substr(at, n);
                        at += n;
                        return part;
                    };
                    headers = {record_header{"seq", next_text(m.seq_length)},
                               record_header{"label", next_text(m.label_text_length)},
                               record_header{"episode", next_text(m.episode_length)},
                               record_header{"faults", next_text(m.faults_length)}};
                    header_span = std::span(headers).first(m.faults_length ? 4 : 3);
                }
                if (deliver(*sinks.data,
                            record{id, best->payloads.view(m.payload_offset, m.payload_length), id,
                                   group, header_span},
                            drain, progress_hook) == delivery::abandoned)
                    ++abandoned;
                ++generated; // published to stats every 1024 messages and at window ends
            } else {
                ++suppressed;
            }
            if (sinks.labels && !m.copy) {
                if (deliver(*sinks.labels,
                            record{id,
                                   best->label_lines.view(m.label_offset, m.label_length),
                                   id,
                                   group,
                                   {}},
                            drain, progress_hook) == delivery::abandoned)
                    ++truth_abandoned;
                ++labels;
            }
            summary.sim_end = ts;
        }
        // Episode lines go out with the label line of their first tick: in order of when that
        // label is due (its event time, later for a delayed tick), merged across workers. One
        // whose label is due after this window waits for it; a run cut short never writes
        // one whose label did not make it. They are few, so a sort is enough.
        const bool last_window = pipe.past_end(w + 1);
        window_episodes.clear();
        for (held_episode& h : held_episodes) window_episodes.push_back({h.entry, h.line});
        for (window_batch* b : batches)
            for (const episode_entry& e : b->episodes)
                window_episodes.push_back({e, b->episode_lines.view(e.offset, e.length)});
        std::sort(window_episodes.begin(), window_episodes.end(), [](const auto& x, const auto& y) {
            const episode_entry &a = x.first, &b = y.first;
            return std::tie(a.label_due, a.device, a.first_ts, a.anomaly, a.episode) <
                   std::tie(b.label_due, b.device, b.first_ts, b.anomaly, b.episode);
        });
        std::vector<held_episode> still_held;
        for (const auto& [e, line] : window_episodes) {
            // A cut between two messages of one device due in the same millisecond (a delayed
            // one and a fresh one) cannot tell their episodes apart: both are kept, so no label
            // ever names a missing episode.
            const bool at_cut = split_tie && e.label_due == cut_ts && e.device == cut_device;
            if (finished ? !before(e.label_due, e.device, cut_ts, cut_device) && !at_cut
                         : !last_window && e.label_due >= pipe.window_end(w)) {
                if (!finished) still_held.push_back({e, std::string(line)});
                continue;
            }
            ++summary.episodes;
            ++summary.episodes_by_kind[e.kind];
            stats.episodes_by_kind[e.kind].fetch_add(1, std::memory_order_relaxed);
            if (sinks.episodes)
                if (deliver(
                        *sinks.episodes,
                        record{
                            ids.id(e.device), line, ids.id(e.device), p.groups[e.group].name, {}},
                        drain, progress_hook) == delivery::abandoned)
                    ++truth_abandoned;
        }
        held_episodes = std::move(still_held);
        stats.episodes.store(summary.episodes, std::memory_order_relaxed);
        stats.generated.store(generated, std::memory_order_relaxed);
        stats.suppressed.store(suppressed, std::memory_order_relaxed);
        stats.labels.store(labels, std::memory_order_relaxed);
        stats.sim_clock.store(summary.sim_end, std::memory_order_relaxed);
        if (generated >= limit) finished = true;
        if (!finished) {
            const std::int64_t next = w + static_cast<std::int64_t>(pipeline_depth);
            if (control) schedule_injections(control->injections, injections, pipe, next);
            pipe.request(next);
        }

        for (connector* c : {sinks.data, sinks.labels, sinks.episodes})
            if (c) c->poll(std::chrono::milliseconds(0));
        report_progress();
    }
    summary.interrupted = stop.load();
    if (control)
        for (auto& [request, answer] : control->injections.take())
            answer.set_value({false, 0, 0, 0, "the run is ending"});
    drain.begin("end of run");
    const deadline drain_until = drain.until();
    for (connector* c : {sinks.data, sinks.labels, sinks.episodes})
        if (c) summary.undelivered += c->drain(drain_until);

    const delivery_counts data = sinks.data->counts();
    summary.generated = generated;
    summary.delivered = data.delivered;
    summary.failed = data.failed + abandoned;
    summary.dropped = data.dropped;
    summary.bytes = data.bytes;
    summary.suppressed = suppressed;
    for (connector* c : {sinks.labels, sinks.episodes})
        if (c) summary.truth_failed += c->counts().failed;
    summary.truth_failed += truth_abandoned;
    summary.labels = labels;
    summary.elapsed_seconds = std::chrono::duration<double>(clock::now() - wall_start).count();
    summary.max_lag_seconds = pace.max_lag();
    if (const connection_counts* fleet = sinks.data->fleet())
        summary.connections = summarize(*fleet);
    return summary;
}

} // namespace synthfeed
