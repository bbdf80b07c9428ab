#pragma once
/// One tick as the benchmark label layouts (--labels-format timeeval, nab) collect it: the
/// label encoder writes it, in place of a label line, for every generated tick; the layout
/// writer (src/layouts) reads it back at the other end of the label stream. Both sides are
/// synthfeed's, of one build: the bytes are a plain binary record, never written to a file.
///
/// Shapes: `values` holds every field of the tick's group, in field order (text and hex
/// fields as their table index); `episodes` the live episodes of a labelled class (value and
/// fraud), each with the field it acts on (-1: the whole device, as a dropout or a fraud
/// typology). Errors: read_layout_row returns nullopt on bytes it did not write.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "src/core/byte_buffer.hpp"
#include "src/core/time.hpp"

namespace synthfeed {

/// A labelled episode live at a tick, as a layout tells episodes apart.
struct layout_episode {
    std::int32_t field = -1;   ///< the field it acts on; -1: every field of the device
    std::uint32_t anomaly = 0; ///< the spec index (injected_anomaly for an injection)
    std::uint32_t episode = 0;

    bool operator==(const layout_episode&) const = default;
};

struct layout_row {
    std::uint64_t device = 0; ///< global index
    std::uint64_t seq = 0;
    sim_time ts = 0;
    std::uint32_t group = 0;
    bool emitted = true;     ///< false: silenced by a dropout (no message, no value)
    bool is_anomaly = false; ///< the label rule: a live value or fraud episode
    std::span<const double> values;
    std::span<const layout_episode> episodes;
};

/// Appends `row` as a binary record.
void append_layout_row(byte_buffer& out, const layout_row& row);

/// Reads a record append_layout_row wrote; `values` and `episodes` hold the spans' data.
std::optional<layout_row> read_layout_row(std::string_view bytes, std::vector<double>& values,
                                          std::vector<layout_episode>& episodes);

} // namespace synthfeed
