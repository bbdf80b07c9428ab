#include "src/labels/layout_row.hpp"

#include <cstring>

namespace synthfeed {
namespace {

/// The fixed part of a record; the values, then the episodes, follow it.
struct row_head {
    std::uint64_t device;
    std::uint64_t seq;
    sim_time ts;
    std::uint32_t group;
    std::uint32_t value_count;
    std::uint32_t episode_count;
    std::uint8_t emitted;
    std::uint8_t is_anomaly;
};

template <class T>
void append_raw(byte_buffer& out, const T* items, std::size_t n) {
    out.append({reinterpret_cast<const char*>(items), n * sizeof(T)});
}

} // namespace

void append_layout_row(byte_buffer& out, const layout_row& row) {
    row_head head;
    std::memset(&head, 0, sizeof head); // no uninitialised bytes, the padding included
    head.device = row.device;
    head.seq = row.seq;
    head.ts = row.ts;
    head.group = row.group;
    head.value_count = static_cast<std::uint32_t>(row.values.size());
    head.episode_count = static_cast<std::uint32_t>(row.episodes.size());
    head.emitted = row.emitted ? 1 : 0;
    head.is_anomaly = row.is_anomaly ? 1 : 0;
    append_raw(out, &head, 1);
    append_raw(out, row.values.data(), row.values.size());
    append_raw(out, row.episodes.data(), row.episodes.size());
}

std::optional<layout_row> read_layout_row(std::string_view bytes, std::vector<double>& values,
                                          std::vector<layout_episode>& episodes) {
    row_head head;
    if (bytes.size() < sizeof head) return std::nullopt;
    std::memcpy(&head, bytes.data(), sizeof head);
    const std::size_t value_bytes = std::size_t{head.value_count} * sizeof(double);
    const std::size_t episode_bytes = std::size_t{head.episode_count} * sizeof(layout_episode);
    if (bytes.size() != sizeof head + value_bytes + episode_bytes) return std::nullopt;
    values.resize(head.value_count);
    episodes.resize(head.episode_count);
    if (value_bytes) std::memcpy(values.data(), bytes.data() + sizeof head, value_bytes);
    if (episode_bytes)
        std::memcpy(episodes.data(), bytes.data() + sizeof head + value_bytes, episode_bytes);
    return layout_row{head.device,          head.seq, head.ts, head.group, head.emitted != 0,
                      head.is_anomaly != 0, values,   episodes};
}

} // namespace synthfeed
