#include "src/engine/emitter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>
#include <tuple>

#include <spdlog/spdlog.h>

namespace synthfeed::engine_detail {

void drain_clock::begin(const char* why, bool cut_short) noexcept {
    if (started_) return;
    started_ = true;
    cut_short_ = cut_short;
    stopped_at_ = std::min(clock::now(), hard_end_);
    until_ = clock::now() + grace_;
    if (control_) {
        control_->running.store(false);
        control_->draining.store(true);
    }
    spdlog::info("draining ({}): sinks have {:.3g}s to deliver", why,
                 std::chrono::duration<double>(grace_).count());
}

bool drain_clock::start_if_due() noexcept {
    if (stop_.load(std::memory_order_relaxed)) {
        begin("stop requested", true);
    } else if (hard_end_ != clock::time_point::max() && clock::now() >= hard_end_) {
        begin("--run-for reached", true);
    }
    return started_;
}

delivery deliver_when_full(connector& c, const record& r, drain_clock& drain,
                           const waiting_fn& waiting) noexcept {
    for (;;) {
        if (drain.stopping() && clock::now() >= drain.until()) return delivery::abandoned;
        c.poll(std::chrono::milliseconds(5));
        waiting();
        if (c.send(r) != send_result::queue_full) return delivery::handed_over;
    }
}

namespace {

/// A message's --label-headers, as views into its batch: seq, label, episode and (when it has
/// any) faults.
std::span<const record_header> record_headers(const message_entry& m, const window_batch& from,
                                              std::array<record_header, 4>& headers) noexcept {
    const std::string_view text =
        from.header_text.view(m.header_offset, std::size_t{m.seq_length} + m.label_text_length +
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
    return std::span(headers).first(m.faults_length ? 4 : 3);
}

} // namespace

emitter::emitter(const emitter_setup& setup, run_stats& stats, pacer& pace, drain_clock& drain)
    : setup_(setup), stats_(stats), pace_(pace), drain_(drain),
      idle_([this](clock::duration d) { return idle(d); }), waiting_([this] { while_blocked(); }),
      limit_(std::min(setup.limits.count, setup.limits.schedule)),
      nominal_rate_(setup.plan->nominal_rate() * static_cast<double>(stats.devices.load()) /
                    static_cast<double>(std::max<std::uint64_t>(1, setup.plan->device_count()))),
      next_unsent_ts_(setup.sim_start), last_progress_(setup.wall_start) {
    checkpoint_mask_ = pace_.checkpoint_every(nominal_rate_) - 1;
    summary_.profile = setup.plan->name;
    summary_.seed = setup.plan->seed;
    summary_.sim_start = setup.sim_start;
    summary_.sim_end = setup.sim_start;
}

void emitter::emit_window(std::span<window_batch* const> batches, sim_time window_start,
                          sim_time window_end, bool last_window) {
    cut_ = {window_end, 0, false};
    window_merge merge(batches);
    send_messages(merge, window_start);
    if (!finished_) next_unsent_ts_ = window_end; // the next window's messages come at or after
    send_episode_lines(batches, window_end, last_window);
    publish_counts();
    if (generated_ >= limit_) finished_ = true;
}

void emitter::send_messages(window_merge& merge, sim_time window_start) {
    const run_sinks& sinks = setup_.sinks;
    const device_directory& ids = *setup_.ids;
    sim_time last_ts = -1; // the last entry sent, to see a cut fall between equal keys
    std::uint64_t last_device = 0;
    const window_batch* from = nullptr;
    for (std::uint64_t n = 0;; ++n) {
        const message_entry* next = merge.next(from);
        if (!next) break;
        const message_entry& m = *next;
        const sim_time ts = window_start + static_cast<sim_time>(m.order >> 32);
        const std::uint64_t device = m.order & device_mask;
        if (m.emitted && generated_ >= limit_)
            return cut_at(ts, device, ts == last_ts && device == last_device);
        last_ts = ts, last_device = device;
        next_unsent_ts_ = ts;
        if ((n & checkpoint_mask_) == 0 && !checkpoint(ts)) return cut_at(ts, device);
        if (m.emitted) {
            wake w;
            while ((w = pace_.wait_for(ts, generated_, idle_, stats_)) == wake::control)
                apply_control(); // then wait again, under the new rate
            if (w == wake::stop) return cut_at(ts, device);
        }
        const std::string_view id = ids.id(device);
        const std::string_view group = setup_.plan->groups[m.group].name;
        if (m.emitted) {
            const std::span<const record_header> headers = setup_.label_headers
                                                               ? record_headers(m, *from, headers_)
                                                               : std::span<const record_header>{};
            if (deliver(*sinks.data,
                        record{id, from->payloads.view(m.payload_offset, m.payload_length), id,
                               group, headers},
                        drain_, waiting_) == delivery::abandoned)
                ++abandoned_;
            ++generated_; // published to stats every 1024 messages and at window ends
        } else {
            ++suppressed_;
        }
        if (sinks.labels && !m.copy) {
            if (deliver(
                    *sinks.labels,
                    record{
                        id, from->label_lines.view(m.label_offset, m.label_length), id, group, {}},
                    drain_, waiting_) == delivery::abandoned)
                ++truth_abandoned_;
            ++labels_;
        }
        summary_.sim_end = ts;
    }
}

/// Every checkpoint_mask_ + 1 messages: control requests, the stop check, delivery reports,
/// counters, lag and progress. False once the run is stopping.
bool emitter::checkpoint(sim_time ts) {
    apply_control();
    if (drain_.stopping()) return false;
    // Serve delivery reports as they come, so a broker sink's queue stays short.
    setup_.sinks.data->poll(std::chrono::milliseconds(0));
    stats_.generated.store(generated_, std::memory_order_relaxed);
    stats_.sim_clock.store(ts, std::memory_order_relaxed);
    observe_schedule();
    report_progress(); // paced windows can last longer than the progress interval
    return true;
}

/// Episode lines go out with the label line of their first tick: in order of when that label
/// is due (its event time, later for a delayed tick), merged across workers. One whose label
/// is due after this window waits for it; a run cut short never writes one whose label did not
/// make it. They are few, so a sort is enough.
void emitter::send_episode_lines(std::span<window_batch* const> batches, sim_time window_end,
                                 bool last_window) {
    window_episodes_.clear();
    for (held_episode& h : held_episodes_) window_episodes_.push_back({h.entry, h.line});
    for (window_batch* b : batches)
        for (const episode_entry& e : b->episodes)
            window_episodes_.push_back({e, b->episode_lines.view(e.offset, e.length)});
    std::sort(window_episodes_.begin(), window_episodes_.end(), [](const auto& x, const auto& y) {
        const episode_entry &a = x.first, &b = y.first;
        return std::tie(a.label_due, a.device, a.first_ts, a.anomaly, a.episode) <
               std::tie(b.label_due, b.device, b.first_ts, b.anomaly, b.episode);
    });
    const device_directory& ids = *setup_.ids;
    std::vector<held_episode> still_held;
    for (const auto& [e, line] : window_episodes_) {
        // A cut between two messages of one device due in the same millisecond (a delayed
        // one and a fresh one) cannot tell their episodes apart: both are kept, so no label
        // ever names a missing episode.
        const bool at_cut = cut_.split_tie && e.label_due == cut_.ts && e.device == cut_.device;
        if (finished_ ? !before(e.label_due, e.device, cut_.ts, cut_.device) && !at_cut
                      : !last_window && e.label_due >= window_end) {
            if (!finished_) still_held.push_back({e, std::string(line)});
            continue;
        }
        ++summary_.episodes;
        ++summary_.episodes_by_kind[e.kind];
        stats_.episodes_by_kind[e.kind].fetch_add(1, std::memory_order_relaxed);
        if (setup_.sinks.episodes)
            if (deliver(*setup_.sinks.episodes,
                        record{ids.id(e.device),
                               line,
                               ids.id(e.device),
                               setup_.plan->groups[e.group].name,
                               {}},
                        drain_, waiting_) == delivery::abandoned)
                ++truth_abandoned_;
    }
    held_episodes_ = std::move(still_held);
}

void emitter::publish_counts() noexcept {
    stats_.episodes.store(summary_.episodes, std::memory_order_relaxed);
    stats_.generated.store(generated_, std::memory_order_relaxed);
    stats_.suppressed.store(suppressed_, std::memory_order_relaxed);
    stats_.labels.store(labels_, std::memory_order_relaxed);
    stats_.sim_clock.store(summary_.sim_end, std::memory_order_relaxed);
}

/// A pause or a rate change waits to be applied (not while a pause is being held: a rate
/// change then waits for the resume, so that it counts from the resumed schedule).
bool emitter::control_pending() const noexcept {
    const run_control* control = setup_.control;
    if (!control) return false;
    if (schedule_injections_ && control->injections.any()) return true;
    return !pausing_ && (control->paused.load(std::memory_order_relaxed) ||
                         !std::isnan(control->requested_rate.load(std::memory_order_relaxed)));
}

void emitter::take_injections() {
    if (schedule_injections_ && setup_.control->injections.any()) schedule_injections_();
}

/// Pause and rate changes from the control API, applied between messages.
void emitter::apply_control() {
    run_control* control = setup_.control;
    if (!control) return;
    take_injections();
    apply_rate();
    if (!control->paused.load()) return;
    const auto paused_at = clock::now();
    spdlog::info("control: paused");
    note_event("pause", false);
    pausing_ = true;
    while (control->paused.load() && idle(std::chrono::milliseconds(20)) != wake::stop)
        take_injections(); // answered now, applied from the next window not yet generated
    pausing_ = false;
    pace_.shift(clock::now() - paused_at);
    spdlog::info("control: resumed");
    note_event("resume", false);
    apply_rate(); // one requested while paused
}

void emitter::apply_rate() {
    run_control* control = setup_.control;
    const double rate = control->requested_rate.exchange(std::numeric_limits<double>::quiet_NaN());
    if (std::isnan(rate)) return;
    pace_.set_rate(rate, generated_);
    checkpoint_mask_ = pace_.checkpoint_every(nominal_rate_) - 1;
    limit_ = setup_.limits.count; // the clock decides from now on
    control->target_rate.store(rate);
    spdlog::info("control: target rate set to {} msg/s", rate);
    note_event(fmt::format("rate {} msg/s", rate), false);
}

/// Lag and shortfall of the oldest unsent message, now, for the progress line and /metrics.
void emitter::observe_schedule() {
    pace_.observe_lag(next_unsent_ts_, generated_, stats_);
    stats_.shortfall.store(
        pace_.shortfall(next_unsent_ts_, generated_, nominal_rate_, clock::now()),
        std::memory_order_relaxed);
}

void emitter::note_event(std::string what, bool changes_content) {
    summary_.events.push_back(
        {std::chrono::duration<double>(clock::now() - setup_.wall_start).count(), std::move(what),
         changes_content});
}

/// While a full sink holds the oldest unsent message back: lag keeps growing, and the
/// progress line says so.
void emitter::while_blocked() {
    // Once draining, the schedule is over: waiting on the sink is no longer lag.
    if (!drain_.stopping()) observe_schedule();
    stats_.generated.store(generated_, std::memory_order_relaxed);
    stats_.sim_clock.store(next_unsent_ts_, std::memory_order_relaxed);
    report_progress();
}

void emitter::report_progress() {
    const auto now = clock::now();
    if (setup_.progress_every.count() <= 0 || now - last_progress_ < setup_.progress_every) return;
    const double span = std::chrono::duration<double>(now - last_progress_).count();
    const connector& data = *setup_.sinks.data;
    const std::uint64_t bytes = data.counts().bytes;
    spdlog::info(progress_line(stats_, data,
                               std::chrono::duration<double>(now - setup_.wall_start).count(),
                               static_cast<double>(generated_ - last_progress_count_) / span,
                               static_cast<double>(bytes - last_progress_bytes_) / 1e6 / span));
    last_progress_ = now;
    last_progress_count_ = generated_;
    last_progress_bytes_ = bytes;
}

wake emitter::idle(clock::duration d) {
    const run_sinks& sinks = setup_.sinks;
    for (connector* c : {sinks.labels, sinks.episodes})
        if (c) c->poll(std::chrono::milliseconds(0));
    const auto until = clock::now() + d;
    // Stops and control requests are looked for before each nap, not after the last one: a
    // message due before the --run-for end still goes out when the nap that waited for it
    // overshoots the end by the timer's grain.
    for (auto now = clock::now(); now < until; now = clock::now()) {
        if (drain_.stopping()) return wake::stop;
        if (control_pending()) return wake::control;
        // Sinks poll in whole milliseconds; the last fraction is slept exactly.
        if (until - now < std::chrono::milliseconds(1))
            std::this_thread::sleep_for(until - now);
        else
            sinks.data->poll(std::chrono::floor<std::chrono::milliseconds>(until - now));
    }
    return wake::due;
}

void emitter::serve_sinks() {
    for (connector* c : {setup_.sinks.data, setup_.sinks.labels, setup_.sinks.episodes})
        if (c) c->poll(std::chrono::milliseconds(0));
    apply_control();
    observe_schedule();
    report_progress();
}

/// What the schedule wanted by the stop and did not get: a run cut short by a stop or
/// --run-for while behind. A run that ended by itself (--count, --duration, the load shape's
/// total) sent everything it wanted.
void emitter::report_shortfall(run_summary& summary) const {
    stats_.shortfall.store(0, std::memory_order_relaxed); // the final figure replaces the live one
    const clock::time_point at = drain_.stopped_at();
    summary.sending_seconds = pace_.seconds_at(at);
    summary.target_rate = pace_.mean_target_rate(at, nominal_rate_);
    if (!drain_.cut_short()) return;
    std::uint64_t shortfall = pace_.shortfall(next_unsent_ts_, generated_, nominal_rate_, at);
    if (limit_ != UINT64_MAX)
        shortfall = std::min(shortfall, limit_ - std::min(limit_, generated_));
    summary.shortfall = shortfall;
    stats_.shortfall.store(shortfall, std::memory_order_relaxed);
    summary.shortfall_estimated = pace_.shortfall_estimated();
    summary.lag_at_end_seconds = std::max(0.0, pace_.lag_at(next_unsent_ts_, generated_, at));
    // Behind by less than a pacer's nap is the clock's grain, not a sink that could not keep up.
    if (shortfall > 0 && summary.lag_at_end_seconds >= 0.01)
        spdlog::warn("the run ended {:.3f}s behind its schedule: {}{} messages it wanted were not "
                     "sent (shortfall); the sink or the generator could not keep up",
                     summary.lag_at_end_seconds, summary.shortfall_estimated ? "about " : "",
                     shortfall);
}

run_summary emitter::drain_and_summarise(bool interrupted) {
    const run_sinks& sinks = setup_.sinks;
    run_summary summary = summary_;
    summary.interrupted = interrupted;
    drain_.begin("end of run");
    report_shortfall(summary);
    const deadline drain_until = drain_.until();
    for (connector* c : {sinks.data, sinks.labels, sinks.episodes})
        if (c) summary.undelivered += c->drain(drain_until);

    const delivery_counts data = sinks.data->counts();
    summary.generated = generated_;
    summary.delivered = data.delivered;
    summary.failed = data.failed + abandoned_;
    summary.dropped = data.dropped;
    summary.in_doubt = data.in_doubt;
    summary.bytes = data.bytes;
    const std::array<std::pair<const char*, connector*>, 3> streams{
        {{"data", sinks.data}, {"labels", sinks.labels}, {"episodes", sinks.episodes}}};
    for (const auto& [stream, c] : streams)
        if (c)
            summary.sinks.push_back(
                {stream, std::string(c->name()), {}, c->counts(), summarize(c->latency())});
    summary.sinks.front().counts.failed += abandoned_;
    summary.suppressed = suppressed_;
    for (connector* c : {sinks.labels, sinks.episodes})
        if (c) summary.truth_failed += c->counts().failed;
    summary.truth_failed += truth_abandoned_;
    summary.labels = labels_;
    summary.elapsed_seconds =
        std::chrono::duration<double>(clock::now() - setup_.wall_start).count();
    summary.max_lag_seconds = pace_.max_lag();
    if (const connection_counts* fleet = sinks.data->fleet())
        summary.connections = summarize(*fleet);
    return summary;
}

} // namespace synthfeed::engine_detail
