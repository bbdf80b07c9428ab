#pragma once
/// Payload encoders: JSON (default), CSV and InfluxDB line protocol, written by hand into
/// reusable buffers because they run once per message.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/group_model.hpp"
#include "src/config/profile.hpp"
#include "src/core/byte_buffer.hpp"
#include "src/core/time.hpp"
#include "src/labels/label_encoder.hpp"

namespace synthfeed {

enum class payload_format { json, csv, influx };
inline constexpr vocabulary payload_formats{std::array{
    kind_row<payload_format>{payload_format::json, "json", "", "one JSON object per line"},
    kind_row<payload_format>{payload_format::csv, "csv", "",
                             "a header line, then one row per message"},
    kind_row<payload_format>{payload_format::influx, "influx", "",
                             "InfluxDB line protocol, nanosecond timestamps"},
}};
static_assert(payload_formats.in_enum_order());

std::optional<payload_format> parse_payload_format(std::string_view name);

/// Encodes one message per emitted tick. Immutable after construction; safe to share.
///
/// With profile::pad_to set (--pad-to), a payload shorter than that gets a padding of letters
/// so it is pad_to bytes long (a few more when even an empty padding would overshoot): a last
/// JSON member `"pad":"…"`, a last line-protocol string field `pad="…"`, or a last CSV column
/// `pad`, which every row has (empty in a row long enough already). The key is "pad", or
/// "pad_2", … when a field of the profile has that name. The letters are the same for every
/// message, as kafka-producer-perf-test's are.
class message_encoder {
  public:
    message_encoder(const profile& p, payload_format format, bool label_in_payload,
                    const injection_board* injections = nullptr);

    /// A line to write once before the first message (CSV header), or empty.
    std::string header() const;
    void encode(byte_buffer& out, const tick_view& t, std::string_view device_id,
                timestamp_formatter& ts) const;

  private:
    /// Every name and text value of a group, escaped for the format once, at construction.
    struct group_layout {
        std::vector<std::string> json_keys;    ///< ,"name":
        std::vector<std::string> renamed_keys; ///< the key under schema drift's rename
        std::vector<std::string> influx_keys;  ///< name=
        std::vector<int> csv_columns;          ///< field index per CSV column, -1 when absent
        std::vector<int> decimals;             ///< digits after the point (0 for integers)
        std::vector<std::uint8_t> integer;     ///< influx marks integers with an i suffix
        std::vector<const field_spec*> fields;
        std::vector<std::vector<std::string>> symbols; ///< text fields: each value, escaped
        std::size_t value_room = 0; ///< bytes enough for every value of a message
        std::size_t json_room = 0;  ///< ... and their JSON keys
        bool numeric = true;        ///< every field a number: the fast path
        std::string influx_measurement;
    };

    /// Field values of a JSON message when some are strings or drifted (the slow path).
    char* write_json_values(char* p, const tick_view& t, const group_layout& l,
                            const transport_effects& fx) const noexcept;
    char* write_symbol(char* p, const group_layout& l, std::size_t field, double v) const noexcept;
    /// Appends the padding of the payload begun at `start`, which `tail` more bytes will end.
    void append_padding(byte_buffer& out, std::size_t start, std::size_t tail) const;

    /// What brings each payload to pad_to bytes; `to` 0: no padding.
    struct padding {
        std::size_t to = 0;
        std::string key;         ///< the member, field or column name
        std::string open, close; ///< around the letters: `,"pad":"` and `"` in JSON
        std::string letters;     ///< `to` of them; a payload takes the share it needs
    };

    payload_format format_;
    bool label_in_payload_;
    truth_names names_;
    std::vector<std::string> csv_fields_;
    std::vector<group_layout> groups_;
    padding pad_;
};

} // namespace synthfeed
