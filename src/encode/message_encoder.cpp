#include "src/encode/message_encoder.hpp"

#include <algorithm>

namespace synthfeed {
namespace {

constexpr std::size_t number_room = 32;
/// A field renamed by schema drift appears with this suffix ("temp_c" -> "temp_c_v2").
constexpr std::string_view renamed_suffix = "_v2";
const transport_effects no_faults{};

/// A text or hex field's value (transaction feeds): a table entry, or prefix + 8 hex digits.
char* write_symbol(char* p, double v, const field_spec& f, bool quoted) noexcept {
    if (quoted) *p++ = '"';
    if (f.format == field_format::text) {
        const std::string& text = f.text[static_cast<std::size_t>(v)];
        std::memcpy(p, text.data(), text.size());
        p += text.size();
    } else {
        std::memcpy(p, f.hex_prefix.data(), f.hex_prefix.size());
        p += f.hex_prefix.size();
        auto bits = static_cast<std::uint32_t>(v);
        for (int shift = 28; shift >= 0; shift -= 4)
            *p++ = "0123456789abcdef"[(bits >> shift) & 15];
    }
    if (quoted) *p++ = '"';
    return p;
}

} // namespace

std::optional<payload_format> parse_payload_format(std::string_view name) {
    if (name == "json") return payload_format::json;
    if (name == "csv") return payload_format::csv;
    if (name == "influx") return payload_format::influx;
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
        l.influx_measurement = g.name;
        for (std::size_t i = 0; i < g.fields.size(); ++i) {
            const auto& f = g.fields[i];
            l.json_keys.push_back(",\"" + f.name + "\":");
            l.influx_keys.push_back((i ? "," : "") + f.name + "=");
            l.decimals.push_back(f.integer ? 0 : f.precision);
            l.integer.push_back(f.integer ? 1 : 0);
            l.fields.push_back(&f);
            std::size_t longest = 0;
            for (const auto& t : f.text) longest = std::max(longest, t.size());
            l.value_room += number_room + longest + f.hex_prefix.size();
            l.json_room += number_room + longest + f.hex_prefix.size() + l.json_keys.back().size() +
                           renamed_suffix.size();
            l.numeric = l.numeric && f.format == field_format::number;
        }
        for (const auto& name : csv_fields_) {
            int column = -1;
            for (std::size_t i = 0; i < g.fields.size(); ++i)
                if (g.fields[i].name == name) column = static_cast<int>(i);
            l.csv_columns.push_back(column);
        }
    }
}

std::string message_encoder::header() const {
    if (format_ != payload_format::csv) return "";
    std::string h = "device_id,seq,ts";
    for (const auto& f : csv_fields_) h += "," + f;
    if (label_in_payload_) h += ",label,episode";
    return h;
}

char* message_encoder::write_json_values(char* p, const tick_view& t, const group_layout& l,
                                         const transport_effects& fx) const noexcept {
    for (std::size_t i = 0; i < t.values.size(); ++i) {
        const std::string& key = l.json_keys[i];
        std::memcpy(p, key.data(), key.size());
        p += key.size();
        if (static_cast<int>(i) == fx.renamed_field) { // ,"name": -> ,"name_v2":
            std::memcpy(p - 2, renamed_suffix.data(), renamed_suffix.size());
            p += renamed_suffix.size() - 2;
            std::memcpy(p, "\":", 2);
            p += 2;
        }
        if (l.fields[i]->format != field_format::number) {
            p = write_symbol(p, t.values[i], *l.fields[i], true);
            continue;
        }
        const bool as_string = static_cast<int>(i) == fx.retyped_field;
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
    switch (format_) {
    case payload_format::json: {
        char* p = out.reserve(device_id.size() + 80 + l.json_room);
        std::memcpy(p, "{\"device_id\":\"", 14);
        p += 14;
        p = copy_short(p, device_id.data(), device_id.size());
        std::memcpy(p, "\",\"seq\":", 8);
        p = write_uint(p + 8, t.seq);
        std::memcpy(p, ",\"ts\":\"", 7);
        p += 7;
        ts.format(t.ts + fx.clock_skew, p);
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
        out.push_back('}');
        return;
    }
    case payload_format::csv: {
        char* p = out.reserve(device_id.size() + 64 + l.csv_columns.size() + l.value_room);
        std::memcpy(p, device_id.data(), device_id.size());
        p += device_id.size();
        *p++ = ',';
        p = write_uint(p, t.seq);
        *p++ = ',';
        ts.format(t.ts + fx.clock_skew, p);
        p += timestamp_length;
        for (int column : l.csv_columns) {
            *p++ = ',';
            if (column >= 0) {
                const auto c = static_cast<std::size_t>(column);
                if (l.fields[c]->format != field_format::number) {
                    p = write_symbol(p, t.values[c], *l.fields[c], false);
                    continue;
                }
                // A fixed header cannot rename a column: either drift shows as a quoted value.
                const bool drifted = column == fx.renamed_field || column == fx.retyped_field;
                if (drifted) *p++ = '"';
                p = write_fixed(p, t.values[c], l.decimals[c]);
                if (drifted) *p++ = '"';
            }
        }
        out.commit_to(p);
        if (label_in_payload_) {
            out.push_back(',');
            names_.append_label(out, t.group, t.episodes);
            out.push_back(',');
            if (const episode_ref* first = names_.first_labelled_episode(t.group, t.episodes))
                names_.append_episode_id(out, device_id, *first);
        }
        return;
    }
    case payload_format::influx: {
        out.append(l.influx_measurement);
        out.append(",device_id=");
        out.append(device_id);
        out.push_back(' ');
        std::size_t room = 64 + l.value_room;
        for (const auto& k : l.influx_keys) room += k.size();
        char* p = out.reserve(room);
        for (std::size_t i = 0; i < t.values.size(); ++i) {
            const std::string& key = l.influx_keys[i];
            std::memcpy(p, key.data(), key.size());
            p += key.size();
            if (static_cast<int>(i) == fx.renamed_field) { // name= -> name_v2=
                std::memcpy(p - 1, renamed_suffix.data(), renamed_suffix.size());
                p += renamed_suffix.size() - 1;
                *p++ = '=';
            }
            if (l.fields[i]->format != field_format::number) {
                p = write_symbol(p, t.values[i], *l.fields[i], true);
                continue;
            }
            if (static_cast<int>(i) == fx.retyped_field) { // a string field
                *p++ = '"';
                p = write_fixed(p, t.values[i], l.decimals[i]);
                *p++ = '"';
                continue;
            }
            p = write_fixed(p, t.values[i], l.decimals[i]);
            if (l.integer[i]) *p++ = 'i';
        }
        std::memcpy(p, ",seq=", 5);
        p = write_uint(p + 5, t.seq);
        *p++ = 'i';
        out.commit_to(p);
        if (label_in_payload_) {
            out.append(",label=\"");
            names_.append_label(out, t.group, t.episodes);
            out.push_back('"');
        }
        p = out.reserve(32);
        *p++ = ' ';
        // Influx timestamps are nanoseconds; event times are whole milliseconds.
        p = write_uint(p, static_cast<std::uint64_t>(t.ts + fx.clock_skew));
        std::memcpy(p, "000000", 6);
        out.commit_to(p + 6);
        return;
    }
    }
}

} // namespace synthfeed
