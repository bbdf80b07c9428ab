#pragma once
/// A worker: the devices one pipeline thread advances, and the tick consumer that encodes
/// their messages into a window batch (payload, label line, record headers) and sorts it
/// canonically. Messages due after their window (out_of_order, late, delayed duplicates) are
/// held back, with their bytes, until the window they are due in.
///
/// Shapes: times are sim_time ms; device indices are global (device_directory); a batch's
/// entries point into its own buffers. Errors: none on the hot path (std::bad_alloc only).
///
/// Concurrency: a worker is used by one pipeline thread at a time. It shares the encoders and
/// the group models read-only with the other workers; the device blocks it advances are its
/// own, so no locking is needed.

#include <cstdint>
#include <memory>
#include <vector>

#include "devices/group_model.hpp"
#include "src/config/profile.hpp"
#include "src/encode/message_encoder.hpp"
#include "src/engine/pipeline.hpp"
#include "src/engine/window_batch.hpp"
#include "src/labels/label_encoder.hpp"

namespace synthfeed::engine_detail {

struct shared_encoders {
    const device_directory* ids;
    const message_encoder* messages;
    const label_encoder* labels;     // null when no label sink
    const episode_encoder* episodes; // null when no episode sink
    const truth_names* headers;      // null unless --label-headers
    const profile* plan;
    const injection_board* injections;
};

/// Devices of one shard (global index ≡ shard_index mod shard_count), dealt round-robin to
/// the workers: `locals[worker][group]` lists group-local indices.
struct device_assignment {
    std::vector<std::vector<std::vector<std::uint32_t>>> locals;
    std::uint64_t devices = 0; ///< in this shard
};
device_assignment assign_devices(const profile& p, const device_directory& ids, unsigned workers,
                                 std::uint32_t shard_index, std::uint32_t shard_count);

class worker : public window_producer {
  public:
    /// A worker over `locals_per_group` (group-local device indices, per group) of the shared
    /// `models`, which must outlive it.
    static std::unique_ptr<worker> make(const shared_encoders& enc,
                                        std::vector<group_model>& models,
                                        std::vector<std::vector<std::uint32_t>> locals_per_group);

    /// Bytes of device state the worker holds.
    virtual std::size_t state_bytes() const noexcept = 0;
};

} // namespace synthfeed::engine_detail
