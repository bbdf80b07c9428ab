#include "src/engine/worker.hpp"

#include <algorithm>
#include <string>

#include "src/engine/radix_sort.hpp"

namespace synthfeed::engine_detail {
namespace {

/// A message whose emission time falls in a later window than its event time (an out_of_order
/// or late fault, a delayed duplicate): it keeps its own bytes until then.
struct deferred_message {
    sim_time due; ///< emission time
    std::uint64_t device;
    message_entry entry;
    std::string payload, label, headers;
};

// In an unnamed namespace, as before the split: with internal linkage GCC inlines on_tick
// into group_model::advance (it runs once a tick); as a public member it did not.
/// A worker's devices and the tick consumer that fills its window batch.
class device_worker final : public worker {
  public:
    device_worker(const shared_encoders& enc, std::vector<group_model>& models,
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

    std::size_t state_bytes() const noexcept override {
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
        return order_key(due - from_, device);
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

} // namespace

std::unique_ptr<worker> worker::make(const shared_encoders& enc, std::vector<group_model>& models,
                                     std::vector<std::vector<std::uint32_t>> locals_per_group) {
    return std::make_unique<device_worker>(enc, models, std::move(locals_per_group));
}

device_assignment assign_devices(const profile& p, const device_directory& ids, unsigned workers,
                                 std::uint32_t shard_index, std::uint32_t shard_count) {
    device_assignment a;
    a.locals.assign(workers, std::vector<std::vector<std::uint32_t>>(p.groups.size()));
    for (std::uint32_t g = 0; g < p.groups.size(); ++g)
        for (std::uint64_t local = 0; local < p.groups[g].count; ++local) {
            const std::uint64_t global = ids.first_of_group(g) + local;
            if (global % shard_count != shard_index) continue;
            a.locals[a.devices++ % workers][g].push_back(static_cast<std::uint32_t>(local));
        }
    return a;
}

} // namespace synthfeed::engine_detail
