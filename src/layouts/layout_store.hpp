#pragma once
/// What a benchmark label layout (TimeEval, NAB) collects during a run: per device, the rows
/// of its messages (seq, time, is_anomaly and the values of the group's numeric fields) and
/// the labelled episodes it saw, each with its first tick and its number of messages. The
/// layout writers turn it into files at the end of the run.
///
/// What a row is: one message sent. A tick a dropout silenced sends none, so it has no row
/// (its values do not exist); a dropout shows in the rows as the gap in time, and its
/// episode, found from its silenced ticks, starts at the device's next row. Transport faults
/// change how a message travels, not what it says: a row has the message's true time and
/// values, once, whatever a duplicate, delay, clock skew, schema drift or cut payload did to
/// its copy on the wire. Text and hex fields (a transaction's merchant, a state machine's
/// state) are not numbers: no layout writes them.
///
/// Shapes: devices by global index; each device's rows by seq once finish() has run (a
/// delayed message's row arrives late). Errors: add() reports a record it cannot read or a
/// row past the limit; nothing throws. Memory: about 24 bytes a row plus 8 a numeric value.
///
/// Concurrency: one thread (the engine's emitter feeds it, the writers read it after).

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/config/profile.hpp"
#include "src/labels/layout_row.hpp"

namespace synthfeed {

/// The numeric fields of a group, the values a layout writes.
struct layout_group {
    std::string name;
    std::vector<std::size_t> fields;      ///< indices into the group's fields
    std::vector<std::string> field_names; ///< their names
    std::vector<int> decimals;            ///< digits after the point, as messages print them
};

struct series_row {
    std::uint64_t seq = 0;
    sim_time ts = 0;
};

/// A labelled episode as one device saw it.
struct episode_span {
    layout_episode id;
    std::uint64_t first_seq = 0; ///< its first tick, sent or silenced
    std::uint64_t messages = 0;  ///< the messages it labelled
};

struct device_series {
    std::uint64_t device = 0; ///< global index
    std::uint32_t group = 0;
    std::string id;
    std::vector<series_row> rows;
    std::vector<std::uint8_t> anomalous; ///< per row: is_anomaly
    std::vector<double> values;          ///< rows × the group's numeric fields, row-major
    std::vector<episode_span> episodes;  ///< in order of their first record

    std::size_t width() const noexcept { return rows.empty() ? 0 : values.size() / rows.size(); }
    /// The first row at or after `seq` (rows.size() when none).
    std::size_t row_at_or_after(std::uint64_t seq) const noexcept;
};

class layout_store {
  public:
    /// Keeps at most `max_rows` rows.
    layout_store(const profile& p, std::uint64_t max_rows);

    enum class added { row, no_row, full, unreadable };
    /// Takes one label record of the run (a layout_row). `no_row`: a silenced tick, whose
    /// episodes count but which has no row; `full`: the row limit is reached.
    added add(std::string_view device_id, std::string_view record);

    /// Orders each device's rows by seq and the devices by global index; call once, at the end.
    void finish();

    std::span<const device_series> devices() const noexcept { return devices_; }
    const layout_group& group(std::uint32_t g) const noexcept { return groups_[g]; }
    std::uint64_t rows() const noexcept { return rows_; }

  private:
    device_series& series_of(const layout_row& row, std::string_view device_id);

    std::vector<layout_group> groups_;
    std::vector<device_series> devices_;
    std::unordered_map<std::uint64_t, std::size_t> index_; ///< global index -> devices_
    std::uint64_t max_rows_;
    std::uint64_t rows_ = 0;
    std::vector<double> values_; ///< read_layout_row's scratch
    std::vector<layout_episode> episodes_;
};

/// A device id, group or field name as one part of a file name: characters other than
/// letters, digits, '-', '_' and '.' (and a leading '.') as %XX, so ids holding '/' or ':'
/// stay one portable name and two names never meet. Past 120 characters, the first 100 (an
/// escape kept whole) then '~' and the 16 hex digits of the name's FNV-1a hash: a file name
/// stays within the 255 bytes file systems allow.
std::string file_name_part(std::string_view name);

/// Appends a value as messages print it (`decimals` after the point); nothing for a
/// non-finite one: an empty cell, which pandas reads as NaN.
void append_layout_value(std::string& out, double v, int decimals);

/// Writes `text` to `path`, creating its directory; returns "" or what failed.
std::string write_text_file(const std::filesystem::path& path, std::string_view text);

} // namespace synthfeed
