#pragma once
/// The records one worker produces for one window and the emitter consumes: message entries
/// (40 bytes each, pointing into the batch's byte buffers) and episode entries.
///
/// Shapes: `message_entry::order` packs (emission time - window start, in ms) << 32 | device
/// index, so one unsigned compare gives canonical order (event time, then device index).
/// A sorted batch ends with an entry whose order is `end_of_batch`. Times are sim_time
/// milliseconds. No errors: these are plain records.
///
/// Concurrency: a batch is written by one worker thread, then read by the emitter thread only
/// after the pipeline has handed it over (see pipeline.hpp); never both at once.

#include <cstdint>
#include <vector>

#include "src/core/byte_buffer.hpp"
#include "src/core/time.hpp"

namespace synthfeed::engine_detail {

/// One message (or silenced tick) of a window, pointing into the batch's buffers. 40 bytes:
/// entries are written, sorted, gathered and merged once per message.
struct message_entry {
    /// Canonical order in one compare: (emission time - window start) << 32 | device. The
    /// emission time is the event time plus any out_of_order/late delay; windows are at most a
    /// day (< 2^32 ms) and profiles at most 10^9 devices.
    std::uint64_t order;
    std::uint32_t payload_offset, payload_length;
    std::uint32_t label_offset, label_length;
    std::uint32_t header_offset; ///< seq, label, episode, faults texts back to back
    std::uint16_t group;
    std::uint8_t emitted;
    std::uint8_t copy; ///< a duplicate fault's second copy: sent, but its tick is labelled once
    std::uint16_t seq_length, label_text_length, episode_length, faults_length;
};

/// Ends every sorted batch, so merging needs no bounds checks.
inline constexpr std::uint64_t end_of_batch = UINT64_MAX;
inline constexpr std::uint64_t device_mask = 0xffff'ffff;

/// The `order` of a message due at `offset` ms into its window, for device `device`.
constexpr std::uint64_t order_key(sim_duration offset, std::uint64_t device) noexcept {
    return (static_cast<std::uint64_t>(offset) << 32) | device;
}

struct episode_entry {
    sim_time first_ts;
    std::uint64_t device;
    std::uint32_t group;
    std::uint32_t anomaly;
    std::uint32_t kind;
    std::uint32_t offset, length;
    /// When the first label line naming it goes out: the earliest due time of its ticks in
    /// this window (a delayed tick's label goes out with its message), at most the window's
    /// end when the episode goes on past it. A run cut short writes the episode line only if
    /// that label made it: no label names a missing episode. An episode line may lack a label
    /// only when a cut falls between a window's end and the episode's next tick, or between
    /// two messages of its device due in the same millisecond.
    sim_time label_due;
    std::uint32_t episode;
    sim_time end;
};

/// Canonical order of (time, device) pairs.
inline bool before(sim_time ts_a, std::uint64_t dev_a, sim_time ts_b,
                   std::uint64_t dev_b) noexcept {
    return ts_a < ts_b || (ts_a == ts_b && dev_a < dev_b);
}

/// What one worker produced for one window: messages sorted canonically, then an
/// end_of_batch entry.
struct window_batch {
    std::vector<message_entry> messages;
    std::vector<episode_entry> episodes;
    byte_buffer payloads;
    byte_buffer label_lines;
    byte_buffer episode_lines;
    byte_buffer header_text;

    void clear() noexcept {
        header_text.clear();
        messages.clear();
        episodes.clear();
        payloads.clear();
        label_lines.clear();
        episode_lines.clear();
    }
};

} // namespace synthfeed::engine_detail
