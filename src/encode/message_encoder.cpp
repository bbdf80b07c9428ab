#include "src/encode/message_encoder.hpp"

#include <algorithm>

#include "src/config/profile_loader.hpp"
#include "src/core/rng.hpp"
#include "src/core/text_escape.hpp"

namespace synthfeed {
namespace {

constexpr std::size_t number_room = 32;
const transport_effects no_faults{};

/// The device's clock as the payload shows it: skewed, but never outside the instants every
/// format can write (a skew cannot push it before 1970 or past max_event_time).
sim_time payload_time(const tick_view& t, const transport_effects& fx) noexcept {
    return std::clamp<sim_time>(t.ts + fx.clock_skew, 0, max_event_time);
}

/// A value Influx can carry: finite, and within int64 when written as an integer.
bool influx_holds(double v, bool integer) noexcept {
    return integer ? fits_int64(v) : std::isfinite(v);
}

/// The padding's key: "pad", or "pad_2", … when a field of any group has that name (CSV
/// columns are shared by every group, so no group may hold it).
std::string padding_key(const profile& p) {
    auto taken = [&](const std::string& key) {
        for (const auto& g : p.groups)
            for (const auto& f : g.fields)
                if (f.name == key) return true;
        return false;
    };
    std::string key = "pad";
    for (int n = 2; taken(key); ++n) key = "pad_" + std::to_string(n);
    return key;
}

} // namespace

std::optional<payload_format> parse_payload_format(std::string_view name) {
    if (const auto* row = payload_formats.find(name)) return row->kind;
    return std::nullopt;
}

message_encoder::message_encoder(const profile& p, payload_format format, bool label_in_payload,
                                 const injection_board* injections)
    : format_(format), label_in_payload_(label_in_payload), names_(p, injections) {
    for (const auto& g : p.groups)
        for (const auto& f : g.fields)
            if (std::find(csv_fields_.begin(), csv_fields_.end(), f.name) == csv_fields_.end())
                csv_fields_.push_back(f.name);
    for (const auto& g : p.groups) {
        group_layout& l = groups_.emplace_back();
        l.influx_measurement = escaped(g.name, text_context::influx_measurement);
        for (std::size_t i = 0; i < g.fields.size(); ++i) {
            const auto& f = g.fields[i];
            const std::string renamed = renamed_field_name(g, i);
            l.json_keys.push_back(",\"" + escaped(f.name, text_context::json_string) + "\":");
            if (format == payload_format::json)
                l.renamed_keys.push_back(",\"" + escaped(renamed, text_context::json_string) +
                                         "\":");
            else
                l.renamed_keys.push_back(escaped(renamed, text_context::influx_key) + "=");
            l.influx_keys.push_back(escaped(f.name, text_context::influx_key) + "=");
            l.decimals.push_back(f.integer ? 0 : f.precision);
            l.integer.push_back(f.integer ? 1 : 0);
            l.fields.push_back(&f);
            auto& symbols = l.symbols.emplace_back();
            std::size_t longest = 0;
            for (const auto& text : f.text) {
                if (format == payload_format::csv)
                    symbols.push_back(escaped(text, text_context::csv_cell));
                else
                    symbols.push_back("\"" +
                                      escaped(text, format == payload_format::json
                                                        ? text_context::json_string
                                                        : text_context::influx_string) +
                                      "\"");
                longest = std::max(longest, symbols.back().size());
            }
            const std::size_t room = number_room + longest + f.hex_prefix.size() + 2;
            l.value_room += room;
            l.json_room += room + std::max(l.json_keys.back().size(), l.renamed_keys.back().size());
            l.numeric = l.numeric && f.format == field_format::number;
        }
        for (const auto& name : csv_fields_) {
            int column = -1;
            for (std::size_t i = 0; i < g.fields.size(); ++i)
                if (g.fields[i].name == name) column = static_cast<int>(i);
            l.csv_columns.push_back(column);
        }
    }
    if (p.pad_to == 0) return;
    pad_.to = p.pad_to;
    pad_.key = padding_key(p);
    switch (format) { // the key needs no escaping: letters, digits and '_'
    case payload_format::json:
        pad_.open = ",\"" + pad_.key + "\":\"", pad_.close = "\"";
        break;
    case payload_format::csv:
        pad_.open = ",";
        break;
    case payload_format::influx:
        pad_.open = "," + pad_.key + "=\"", pad_.close = "\"";
        break;
    }
    // Letters need no escaping in any format; drawn once (not a run of one letter, which
    // compression would erase in a broker's batches).
    pad_.letters.resize(pad_.to);
    for (std::size_t i = 0; i < pad_.to; ++i)
        pad_.letters[i] = static_cast<char>('A' + mix64(i) % 26);
}

void message_encoder::append_padding(byte_buffer& out, std::size_t start, std::size_t tail) const {
    const std::size_t length = out.size() - start + tail;
    // A CSV row keeps the column even when it is long enough: every row has the header's cells.
    if (length >= pad_.to && format_ != payload_format::csv) return;
    const std::size_t framed = length + pad_.open.size() + pad_.close.size();
    out.append(pad_.open);
    out.append(std::string_view(pad_.letters).substr(0, framed < pad_.to ? pad_.to - framed : 0));
    out.append(pad_.close);
}

std::string message_encoder::header() const {
    if (format_ != payload_format::csv) return "";
    std::string h = "device_id,seq,ts";
    for (const auto& f : csv_fields_) {
        h += ',';
        append_escaped(h, f, text_context::csv_cell);
    }
    if (label_in_payload_) h += ",label,episode";
    if (pad_.to != 0) h += "," + pad_.key;
    return h;
}

char* message_encoder::write_symbol(char* p, const group_layout& l, std::size_t field,
                                    double v) const noexcept {
    const field_spec& f = *l.fields[field];
    if (f.format == field_format::text) {
        const std::string& text = l.symbols[field][static_cast<std::size_t>(v)];
        std::memcpy(p, text.data(), text.size());
        return p + text.size();
    }
    const bool quoted = format_ != payload_format::csv;
    if (quoted) *p++ = '"';
    std::memcpy(p, f.hex_prefix.data(), f.hex_prefix.size());
    p += f.hex_prefix.size();
    auto bits = static_cast<std::uint32_t>(v);
    for (int shift = 28; shift >= 0; shift -= 4) *p++ = "0123456789abcdef"[(bits >> shift) & 15];
    if (quoted) *p++ = '"';
    return p;
}

char* message_encoder::write_json_values(char* p, const tick_view& t, const group_layout& l,
                                         const transport_effects& fx) const noexcept {
    for (std::size_t i = 0; i < t.values.size(); ++i) {
        const std::string& key =
            static_cast<int>(i) == fx.renamed_field ? l.renamed_keys[i] : l.json_keys[i];
        std::memcpy(p, key.data(), key.size());
        p += key.size();
        if (l.fields[i]->format != field_format::number) {
            p = write_symbol(p, l, i, t.values[i]);
            continue;
        }
        // A retyped value is a string; a non-finite one stays null either way.
        const bool as_string =
            static_cast<int>(i) == fx.retyped_field && std::isfinite(t.values[i]);
        if (as_string) *p++ = '"';
        p = write_fixed(p, t.values[i], l.decimals[i]);
        if (as_string) *p++ = '"';
    }
    return p;
}

void message_encoder::encode(byte_buffer& out, const tick_view& t, std::string_view device_id,
                             timestamp_formatter& ts) const {
    const group_layout& l = groups_[t.group];
    const transport_effects& fx = t.transport ? *t.transport : no_faults;
    const std::size_t start = out.size();
    switch (format_) {
    case payload_format::json: {
        // Device ids keep to an alphabet no format reserves (checked at load): copied as is.
        char* p = out.reserve(device_id.size() + 80 + l.json_room);
        std::memcpy(p, "{\"device_id\":\"", 14);
        p = copy_short(p + 14, device_id.data(), device_id.size());
        std::memcpy(p, "\",\"seq\":", 8);
        p = write_uint(p + 8, t.seq);
        std::memcpy(p, ",\"ts\":\"", 7);
        p += 7;
        ts.format(payload_time(t, fx), p);
        p += timestamp_length;
        *p++ = '"';
        if (l.numeric && fx.renamed_field < 0 && fx.retyped_field < 0) { // the common case
            for (std::size_t i = 0; i < t.values.size(); ++i) {
                const std::string& key = l.json_keys[i];
                p = write_fixed(copy_short(p, key.data(), key.size()), t.values[i], l.decimals[i]);
            }
        } else {
            p = write_json_values(p, t, l, fx);
        }
        out.commit_to(p);
        if (label_in_payload_) {
            out.append(",\"label\":\"");
            names_.append_label(out, t.group, t.episodes);
            names_.append_episode_member(out, device_id, t.group, t.episodes);
        }
        if (pad_.to != 0) append_padding(out, start, 1); // before the closing brace
        out.push_back('}');
        return;
    }
    case payload_format::csv: {
        out.append(device_id);
        char* p = out.reserve(64 + 3 * l.csv_columns.size() + l.value_room);
        *p++ = ',';
        p = write_uint(p, t.seq);
        *p++ = ',';
        ts.format(payload_time(t, fx), p);
        p += timestamp_length;
        for (int column : l.csv_columns) {
            *p++ = ',';
            if (column < 0) continue;
            const auto c = static_cast<std::size_t>(column);
            if (l.fields[c]->format != field_format::number) {
                p = write_symbol(p, l, c, t.values[c]);
                continue;
            }
            if (!std::isfinite(t.values[c])) continue; // an empty cell: CSV has no NaN
            // A fixed header cannot rename a column: either drift shows as a quoted value.
            const bool drifted = column == fx.renamed_field || column == fx.retyped_field;
            if (drifted) *p++ = '"';
            p = write_fixed(p, t.values[c], l.decimals[c]);
            if (drifted) *p++ = '"';
        }
        out.commit_to(p);
        if (label_in_payload_) {
            out.push_back(',');
            names_.append_label(out, t.group, t.episodes);
            out.push_back(',');
            if (const episode_ref* first = names_.first_labelled_episode(t.group, t.episodes))
                names_.append_episode_id(out, device_id, *first);
        }
        if (pad_.to != 0) append_padding(out, start, 0);
        return;
    }
    case payload_format::influx: {
        out.append(l.influx_measurement);
        out.append(",device_id=");
        out.append(device_id);
        out.push_back(' ');
        std::size_t room = 64 + l.value_room;
        for (std::size_t i = 0; i < l.influx_keys.size(); ++i)
            room += std::max(l.influx_keys[i].size(), l.renamed_keys[i].size()) + 1;
        char* p = out.reserve(room);
        char* const fields_start = p;
        for (std::size_t i = 0; i < t.values.size(); ++i) {
            const double v = t.values[i];
            const bool number = l.fields[i]->format == field_format::number;
            const bool retyped = static_cast<int>(i) == fx.retyped_field;
            // What line protocol cannot hold (NaN, ±inf, an integer beyond int64) is left out
            // of the line: a point may carry any subset of its fields.
            if (number && !influx_holds(v, l.integer[i] && !retyped)) continue;
            if (p != fields_start) *p++ = ',';
            const std::string& key =
                static_cast<int>(i) == fx.renamed_field ? l.renamed_keys[i] : l.influx_keys[i];
            std::memcpy(p, key.data(), key.size());
            p += key.size();
            if (!number) {
                p = write_symbol(p, l, i, v);
            } else if (retyped) { // a string field
                *p++ = '"';
                p = write_fixed(p, v, l.decimals[i]);
                *p++ = '"';
            } else {
                p = write_fixed(p, v, l.decimals[i]);
                if (l.integer[i]) *p++ = 'i';
            }
        }
        if (p != fields_start) *p++ = ',';
        std::memcpy(p, "seq=", 4);
        p = write_uint(p + 4, t.seq);
        *p++ = 'i';
        out.commit_to(p);
        if (label_in_payload_) {
            out.append(",label=\"");
            names_.append_label(out, t.group, t.episodes);
            out.push_back('"');
        }
        // Influx timestamps are nanoseconds; event times are whole milliseconds (at most
        // max_event_time, so the product fits a signed 64-bit integer).
        const auto ms = static_cast<std::uint64_t>(payload_time(t, fx));
        if (pad_.to != 0) { // before " <ms>000000"
            // Counted here rather than by a second write_uint, which would stop the compiler
            // inlining the one on every message's path (1 % of the JSON encoder, measured).
            std::size_t digits = 1;
            for (auto rest = ms; rest >= 10; rest /= 10) ++digits;
            append_padding(out, start, 7 + digits);
        }
        p = out.reserve(32);
        *p++ = ' ';
        p = write_uint(p, ms);
        std::memcpy(p, "000000", 6);
        out.commit_to(p + 6);
        return;
    }
    }
}

} // namespace synthfeed
