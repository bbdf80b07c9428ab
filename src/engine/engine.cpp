#include "src/engine/engine.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "src/engine/load_schedule.hpp"
#include "src/engine/pipeline.hpp"
#include "src/engine/radix_sort.hpp"
#include "src/engine/window_batch.hpp"
#include "src/engine/window_merge.hpp"

namespace synthfeed {
namespace {

using clock = std::chrono::steady_clock;
using engine_detail::before;
using engine_detail::device_mask;
using engine_detail::end_of_batch;
using engine_detail::episode_entry;
using engine_detail::message_entry;
using engine_detail::pipeline;
using engine_detail::pipeline_depth;
using engine_detail::window_batch;
using engine_detail::window_merge;
using engine_detail::window_producer;

constexpr double messages_per_window = 65536;
constexpr double paced_window_wall_ms = 20;

/// A message whose emission time falls in a later window than its event time (an out_of_order
/// or late fault, a delayed duplicate): it keeps its own bytes until then.
struct deferred_message {
    sim_time due; ///< emission time
    std::uint64_t device;
    message_entry entry;
    std::string payload, label, headers;
};

struct shared_encoders {
    const device_directory* ids;
    const message_encoder* messages;
    const label_encoder* labels;     // null when no label sink
    const episode_encoder* episodes; // null when no episode sink
    const truth_names* headers;      // null unless --label-headers
    const profile* plan;
    const injection_board* injections;
};

/// A worker's devices and the tick consumer that fills its window batch.
class worker final : public window_producer {
  public:
    worker(const shared_encoders& enc, std::vector<group_model>& models,
           std::vector<std::vector<std::uint32_t>> locals_per_group)
        : enc_(enc), models_(models) {
        for (std::size_t g = 0; g < models.size(); ++g)
            blocks_.push_back(models[g].make_block(std::move(locals_per_group[g])));
    }

    /// Fills `out` with the messages emitted in [from, until): this window's ticks and earlier
    /// delayed ones. In the `last` window everything still held back is emitted.
    void generate(std::int64_t window, sim_time from, sim_time until, bool last,
                  window_batch& out) override {
        out.clear();
        batch_ = &out;
        open_.clear();
        open_device_ = UINT64_MAX;
        from_ = from;
        until_ = until;
        last_ = last;
        release_deferred();
        // Devices are advanced in ascending index order, so without held-back messages in
        // front the batch is already in device order within each millisecond.
        const bool device_ordered = out.messages.empty();
        const auto injections = enc_.injections->for_window(window);
        for (std::size_t g = 0; g < models_.size(); ++g) {
            device_block& b = blocks_[g];
            for (std::size_t i = 0; i < b.locals.size(); ++i)
                models_[g].advance(b, i, until, *this, injections);
        }
        for (episode_entry& e : out.episodes) {
            if (e.end > until) e.label_due = std::min(e.label_due, until); // goes on
            if (e.label_due == INT64_MAX) e.label_due = e.first_ts;        // no tick names it
        }
        sort_canonically(from, until, out.messages, device_ordered);
        message_entry sentinel{};
        sentinel.order = end_of_batch;
        out.messages.push_back(sentinel);
    }

    std::size_t state_bytes() const noexcept {
        std::size_t total = 0;
        for (std::size_t g = 0; g < blocks_.size(); ++g)
            total += blocks_[g].locals.size() *
                     blocks_[g].bytes_per_device(models_[g].spec().fields.size(),
                                                 models_[g].spec().anomalies.size());
        return total;
    }

    // Tick consumer interface used by group_model::advance.
    void on_tick(const tick_view& t) {
        const std::string_view id = enc_.ids->id(t.device);
        const transport_effects& fx = *t.transport;
        // Written where it will stay: an entry built on the stack from narrow fields and then
        // copied stalls on store forwarding (perf: the copy's wide load).
        message_entry& e = batch_->messages.emplace_back();
        e.group = static_cast<std::uint16_t>(t.group);
        e.emitted = t.emitted ? 1 : 0;
        if (t.emitted) {
            e.payload_offset = static_cast<std::uint32_t>(batch_->payloads.size());
            enc_.messages->encode(batch_->payloads, t, id, payload_ts_);
            e.payload_length =
                static_cast<std::uint32_t>(batch_->payloads.size() - e.payload_offset);
            if (fx.keep_fraction < 1) { // malformed: cut short, so it no longer parses
                std::uint32_t cut = std::clamp<std::uint32_t>(
                    static_cast<std::uint32_t>(e.payload_length * fx.keep_fraction), 1,
                    e.payload_length - 1);
                // ... but stays valid UTF-8: the cut never splits a character.
                const char* payload = batch_->payloads.data() + e.payload_offset;
                while (cut > 1 && (static_cast<unsigned char>(payload[cut]) & 0xC0) == 0x80) --cut;
                e.payload_length = cut;
            }
        }
        if (enc_.labels) {
            e.label_offset = static_cast<std::uint32_t>(batch_->label_lines.size());
            enc_.labels->encode(batch_->label_lines, t, id, label_ts_);
            e.label_length =
                static_cast<std::uint32_t>(batch_->label_lines.size() - e.label_offset);
        }
        if (enc_.headers && t.emitted) {
            byte_buffer& h = batch_->header_text;
            e.header_offset = static_cast<std::uint32_t>(h.size());
            h.commit_to(write_uint(h.reserve(20), t.seq));
            e.seq_length = static_cast<std::uint16_t>(h.size() - e.header_offset);
            enc_.headers->append_label(h, t.group, t.episodes);
            e.label_text_length =
                static_cast<std::uint16_t>(h.size() - e.header_offset - e.seq_length);
            if (const episode_ref* first =
                    enc_.headers->first_labelled_episode(t.group, t.episodes))
                enc_.headers->append_episode_id(h, id, *first);
            e.episode_length = static_cast<std::uint16_t>(h.size() - e.header_offset -
                                                          e.seq_length - e.label_text_length);
            enc_.headers->append_faults(h, t.group, t.episodes, ',', false);
            e.faults_length = static_cast<std::uint16_t>(h.size() - e.header_offset - e.seq_length -
                                                         e.label_text_length - e.episode_length);
        }
        const sim_time due = t.ts + fx.emit_delay;
        // This tick's label names its live episodes: those opened in this window are in open_
        // (a device's ticks are generated together), and their label may be due now.
        if (t.device != open_device_) open_.clear(), open_device_ = t.device;
        if (!t.episodes.empty() && !open_.empty()) {
            for (const episode_ref& live : t.episodes)
                for (const open_episode& o : open_)
                    if (o.anomaly == live.anomaly && o.episode == live.episode) {
                        sim_time& d = batch_->episodes[o.index].label_due;
                        d = std::min(d, due);
                    }
            std::erase_if(open_, [&](const open_episode& o) {
                return batch_->episodes[o.index].end <= t.ts;
            });
        }
        const bool duplicate = t.emitted && fx.duplicate_delay >= 0;
        if (due < until_ && !duplicate) [[likely]] {
            e.order = order_in_window(due, t.device);
            return;
        }
        message_entry entry = e; // delayed or duplicated: placed again by due time
        batch_->messages.pop_back();
        place(entry, due, t.device);
        if (duplicate) {
            entry.copy = 1;
            entry.label_length = 0;
            place(entry, due + fx.duplicate_delay, t.device);
        }
    }

    void on_episode(const episode_view& v) {
        const anomaly_kind kind =
            episode_kind(enc_.plan->groups[v.group], enc_.injections, {v.anomaly, v.episode});
        episode_entry e{
            v.first_ts, v.device, v.group,   v.anomaly, static_cast<std::uint32_t>(kind),
            0,          0,        INT64_MAX, v.episode, v.end};
        if (v.device != open_device_) open_.clear(), open_device_ = v.device;
        open_.push_back({v.anomaly, v.episode, batch_->episodes.size()});
        if (enc_.episodes) {
            e.offset = static_cast<std::uint32_t>(batch_->episode_lines.size());
            enc_.episodes->encode(batch_->episode_lines, v, enc_.ids->id(v.device),
                                  v.cause_device == UINT64_MAX ? std::string_view{}
                                                               : enc_.ids->id(v.cause_device));
            e.length = static_cast<std::uint32_t>(batch_->episode_lines.size() - e.offset);
        }
        batch_->episodes.push_back(e);
    }

  private:
    /// An episode the current device opened in this window, still live: its label_due falls
    /// as its ticks are generated. At most one per anomaly spec (plus injections) at a time.
    struct open_episode {
        std::uint32_t anomaly, episode;
        std::size_t index; ///< into batch_->episodes
    };
    std::vector<open_episode> open_;
    std::uint64_t open_device_ = UINT64_MAX;

    /// message_entry::order for an entry due at `due` (in this window).
    std::uint64_t order_in_window(sim_time due, std::uint64_t device) const noexcept {
        return (static_cast<std::uint64_t>(due - from_) << 32) | device;
    }

    /// Puts an entry due at `due` in this window, or holds it (with its bytes) for the window
    /// it is due in.
    void place(message_entry e, sim_time due, std::uint64_t device) {
        if (due < until_) {
            e.order = order_in_window(due, device);
            batch_->messages.push_back(e);
        } else {
            hold_back(e, due, device);
        }
    }

    /// An entry due after this window: held with its bytes, or (in the last window) sent at
    /// its end.
    [[gnu::noinline]] void hold_back(message_entry e, sim_time due, std::uint64_t device) {
        if (last_) { // the run ends with this window: what is held back goes out at its end
            place(e, until_ - 1, device);
            return;
        }
        const auto& b = *batch_;
        deferred_.push_back(
            {due, device, e, std::string(b.payloads.view(e.payload_offset, e.payload_length)),
             std::string(b.label_lines.view(e.label_offset, e.label_length)),
             std::string(b.header_text.view(e.header_offset,
                                            std::size_t{e.seq_length} + e.label_text_length +
                                                e.episode_length + e.faults_length))});
    }

    /// Moves held-back messages due in this window into the batch, in the order they were held.
    void release_deferred() {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < deferred_.size(); ++i) {
            deferred_message& d = deferred_[i];
            if (d.due >= until_ && !last_) {
                if (kept != i) deferred_[kept] = std::move(d); // a self-move would empty it
                ++kept;
                continue;
            }
            message_entry e = d.entry;
            e.payload_offset = static_cast<std::uint32_t>(batch_->payloads.size());
            batch_->payloads.append(d.payload);
            e.label_offset = static_cast<std::uint32_t>(batch_->label_lines.size());
            batch_->label_lines.append(d.label);
            e.header_offset = static_cast<std::uint32_t>(batch_->header_text.size());
            batch_->header_text.append(d.headers);
            place(e, std::min(d.due, until_ - 1), d.device);
        }
        deferred_.resize(kept);
    }

    /// Orders entries by (event time, device) with a radix sort of packed keys; falls back to
    /// std::sort when time span, device count and batch size do not fit in 64 bits. When the
    /// entries are already in device order, a stable sort on time alone is enough (half the
    /// passes for a typical window).
    void sort_canonically(sim_time from, sim_time until, std::vector<message_entry>& entries,
                          bool device_ordered) {
        const unsigned index_bits = bits_for(entries.size());
        const unsigned device_bits = device_ordered ? 0 : bits_for(enc_.ids->size());
        const unsigned time_bits = bits_for(static_cast<std::uint64_t>(until - from));
        if (index_bits + device_bits + time_bits > 64) {
            std::sort(
                entries.begin(), entries.end(),
                [](const message_entry& a, const message_entry& b) { return a.order < b.order; });
            return;
        }
        keys_.clear();
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const std::uint64_t order = entries[i].order;
            keys_.push_back(((order >> 32) << (device_bits + index_bits)) |
                            (device_bits ? (order & device_mask) << index_bits : 0) | i);
        }
        // The index bits are never sorted on: they only point back at the entry.
        radix_sort(keys_, scratch_keys_, index_bits + device_bits + time_bits, index_bits);
        // The gather reads entries in time order, which jumps between devices: prefetch a
        // few keys ahead, or every read waits on memory.
        constexpr std::size_t prefetch_distance = 8;
        const std::uint64_t index_mask = (std::uint64_t{1} << index_bits) - 1;
        const std::size_t n = keys_.size();
        sorted_.resize(n); // no fill once the vector has been this large
        for (std::size_t j = 0; j < n; ++j) {
            if (j + prefetch_distance < n)
                __builtin_prefetch(&entries[keys_[j + prefetch_distance] & index_mask]);
            sorted_[j] = entries[keys_[j] & index_mask];
        }
        entries.swap(sorted_);
    }

    std::vector<std::uint64_t> keys_, scratch_keys_;
    std::vector<message_entry> sorted_;
    shared_encoders enc_;
    std::vector<group_model>& models_;
    std::vector<device_block> blocks_;
    window_batch* batch_ = nullptr;
    sim_time from_ = 0, until_ = 0;
    bool last_ = false;
    std::vector<deferred_message> deferred_;
    timestamp_formatter payload_ts_;
    timestamp_formatter label_ts_;
};

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

/// Waits for up to the given time while serving the sinks; false once the run is stopping.
using idle_fn = std::function<bool(clock::duration)>;

/// Paces emission to the wall clock at `speed` and measures how late it runs.
class pacer {
  public:
    pacer(sim_time sim_start, double speed, const load_spec& load)
        : sim_start_(sim_start), speed_(speed), schedule_(load),
          by_count_(load.shape != load_shape::none), wall_start_(clock::now()) {}

    /// Waits, serving the sinks through `idle`, until message number `index` (event time `ts`)
    /// is due; false once the run is stopping. With a load shape, message k is due once floor(∫
    /// rate) > k (integer accounting); with --speed, when the wall clock reaches its event time.
    bool wait_for(sim_time ts, std::uint64_t index, const idle_fn& idle, run_stats& stats) {
        if (by_count_) return wait_for_count(index, idle, stats);
        if (speed_ <= 0 || ts <= due_until_) return true;
        const auto due = wall_start_ + std::chrono::duration_cast<clock::duration>(
                                           std::chrono::duration<double, std::milli>(
                                               static_cast<double>(ts - sim_start_) / speed_));
        if (!sleep_until(due, idle, stats)) return false;
        // Everything up to the simulated "now" is due without looking at the clock again.
        due_until_ =
            sim_start_ +
            static_cast<sim_time>(
                std::chrono::duration<double, std::milli>(clock::now() - wall_start_).count() *
                speed_);
        return true;
    }

    double elapsed_seconds() const {
        return std::chrono::duration<double>(clock::now() - wall_start_).count();
    }
    /// The largest lag behind the schedule seen so far (seconds).
    double max_lag() const noexcept { return max_lag_; }

    /// Records how late message `index` (event time `ts`) is being sent now. wait_for sees lag
    /// only when it has to sleep, which a run that has fallen behind never does.
    void observe_lag(sim_time ts, std::uint64_t index, run_stats& stats) {
        if (by_count_) {
            record_lag(elapsed_seconds() - due(index), stats);
        } else if (speed_ > 0) {
            record_lag(elapsed_seconds() - static_cast<double>(ts - sim_start_) / speed_ / 1000,
                       stats);
        }
    }

  private:
  public:
    /// Holds the schedule still for a pause: everything due shifts by `d`.
    void shift(clock::duration d) noexcept { wall_start_ += d; }

    /// Switches to a constant `rate` from now on, message `index` onwards (control API).
    void set_rate(double rate, std::uint64_t index) {
        load_spec constant;
        constant.shape = load_shape::constant;
        constant.rate = rate;
        schedule_ = load_schedule(constant);
        by_count_ = true;
        base_time_ = elapsed_seconds();
        base_index_ = index;
        allowed_ = index;
    }

  private:
    std::uint64_t allowed_at(double t) const noexcept {
        return base_index_ + schedule_.allowed(t - base_time_);
    }
    double due(std::uint64_t index) const noexcept {
        return base_time_ + schedule_.due_time(index - base_index_);
    }

    bool wait_for_count(std::uint64_t index, const idle_fn& idle, run_stats& stats) {
        if (index < allowed_) return true;
        allowed_ = allowed_at(elapsed_seconds());
        if (index < allowed_) {
            record_lag(elapsed_seconds() - due(index), stats);
            return true;
        }
        const auto due_at = wall_start_ + std::chrono::duration_cast<clock::duration>(
                                              std::chrono::duration<double>(due(index)));
        if (!sleep_until(due_at, idle, stats)) return false;
        allowed_ = std::max(index + 1, allowed_at(elapsed_seconds()));
        return true;
    }

    bool sleep_until(clock::time_point due, const idle_fn& idle, run_stats& stats) {
        auto now = clock::now();
        record_lag(std::chrono::duration<double>(now - due).count(), stats);
        while (now < due) {
            // Short naps that serve the sinks: keepalives, acknowledgements, reconnects and
            // connect_rate go on while a slow schedule waits.
            if (!idle(std::min<clock::duration>(due - now, std::chrono::milliseconds(10))))
                return false;
            now = clock::now();
        }
        return true;
    }

    void record_lag(double lag, run_stats& stats) noexcept {
        lag = std::max(0.0, lag);
        max_lag_ = std::max(max_lag_, lag);
        stats.lag_seconds.store(lag, std::memory_order_relaxed);
    }

    double max_lag_ = 0;
    sim_time sim_start_;
    double speed_;
    load_schedule schedule_;
    bool by_count_;
    clock::time_point wall_start_;
    sim_time due_until_ = INT64_MIN;
    std::uint64_t allowed_ = 0;
    double base_time_ = 0;         ///< schedule origin (seconds after start), moved by set_rate
    std::uint64_t base_index_ = 0; ///< messages sent before the schedule origin
};

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
    const shared_encoders enc{&ids,
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
    const unsigned threads = std::max(1u, o.threads);
    std::vector<std::vector<std::vector<std::uint32_t>>> assignment(
        threads, std::vector<std::vector<std::uint32_t>>(p.groups.size()));
    std::uint64_t position = 0;
    for (std::uint32_t g = 0; g < p.groups.size(); ++g)
        for (std::uint64_t local = 0; local < p.groups[g].count; ++local) {
            const std::uint64_t global = ids.first_of_group(g) + local;
            if (global % o.shard_count != o.shard_index) continue;
            assignment[position++ % threads][g].push_back(static_cast<std::uint32_t>(local));
        }
    std::vector<worker> workers;
    workers.reserve(threads);
    for (unsigned t = 0; t < threads; ++t)
        workers.emplace_back(enc, models, std::move(assignment[t]));
    std::size_t state_bytes = 0;
    for (const auto& w : workers) state_bytes += w.state_bytes();
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
    for (worker& w : workers) producers.push_back(&w);
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
