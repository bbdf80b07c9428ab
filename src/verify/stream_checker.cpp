#include "src/verify/stream_checker.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace synthfeed {
namespace {

std::optional<std::uint64_t> parse_uint(std::string_view s) {
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

std::vector<std::string_view> split(std::string_view line, char sep = ',') {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start <= line.size()) {
        const auto comma = std::min(line.find(sep, start), line.size());
        out.push_back(line.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

void grow(std::vector<std::uint8_t>& v, std::uint64_t index) {
    if (v.size() <= index) v.resize(std::max<std::size_t>(index + 1, v.size() * 2), 0);
}

std::uint8_t fault_bit(std::string_view name) noexcept {
    if (name == "duplicate") return fault_duplicate;
    if (name == "out_of_order") return fault_out_of_order;
    if (name == "late") return fault_late;
    if (name == "malformed") return fault_malformed;
    if (name == "dropped") return fault_dropped;
    return 0; // clock_skew, schema_drift, anything newer: no effect on (device_id, seq)
}

/// A strict RFC 8259 JSON reader over one line, without building anything: fast enough for
/// millions of messages, and it rejects every truncated text (nlohmann::json would too, at
/// several times the cost). Nesting deeper than `max_depth` is rejected.
class json_cursor {
  public:
    explicit json_cursor(std::string_view text) noexcept
        : p_(text.data()), end_(text.data() + text.size()) {}

    bool at_end() const noexcept { return p_ == end_; }
    char peek() const noexcept { return p_ < end_ ? *p_ : '\0'; }
    bool eat(char c) noexcept {
        if (p_ < end_ && *p_ == c) {
            ++p_;
            return true;
        }
        return false;
    }
    void ws() noexcept {
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
    }

    /// A string; `raw` is its text between the quotes, still escaped if `escaped`.
    bool string(std::string_view& raw, bool& escaped) noexcept {
        if (!eat('"')) return false;
        const char* start = p_;
        escaped = false;
        while (p_ < end_) {
            while (p_ < end_ && plain_char(*p_)) ++p_; // the common case, in a tight loop
            if (p_ == end_) break;
            const auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
                ++p_;
                return true;
            }
            if (c == '\\') {
                escaped = true;
                if (!escape()) return false;
            } else if (c < 0x20) {
                return false;
            } else if (c < 0x80) {
                ++p_;
            } else if (!utf8()) {
                return false;
            }
        }
        return false;
    }

    /// A number; `integer` when it has neither fraction nor exponent.
    bool number(std::string_view& raw, bool& integer) noexcept {
        const char* start = p_;
        eat('-');
        if (eat('0')) {
        } else if (digit()) {
            while (digit()) {
            }
        } else {
            return false;
        }
        integer = true;
        if (eat('.')) {
            integer = false;
            if (!digit()) return false;
            while (digit()) {
            }
        }
        if (eat('e') || eat('E')) {
            integer = false;
            if (!eat('+')) eat('-');
            if (!digit()) return false;
            while (digit()) {
            }
        }
        raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
        return true;
    }

    /// Any value, checked and skipped.
    bool value(int depth = 0) noexcept {
        std::string_view raw;
        bool flag = false;
        switch (peek()) {
        case '"':
            return string(raw, flag);
        case '{':
            return container('}', depth);
        case '[':
            return container(']', depth);
        case 't':
            return literal("true");
        case 'f':
            return literal("false");
        case 'n':
            return literal("null");
        default:
            return number(raw, flag);
        }
    }

    bool literal(std::string_view word) noexcept {
        if (static_cast<std::size_t>(end_ - p_) < word.size() ||
            std::string_view(p_, word.size()) != word)
            return false;
        p_ += word.size();
        return true;
    }

  private:
    static constexpr int max_depth = 512;

    /// ASCII that stands for itself inside a string.
    static bool plain_char(char ch) noexcept {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
    }

    bool digit() noexcept {
        if (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
            ++p_;
            return true;
        }
        return false;
    }

    bool hex4(unsigned& v) noexcept {
        if (end_ - p_ < 4) return false;
        v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = *p_++;
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<unsigned>(c - 'A' + 10);
            else
                return false;
        }
        return true;
    }

    /// At a backslash: one escape, surrogates paired.
    bool escape() noexcept {
        ++p_;
        if (p_ == end_) return false;
        switch (*p_++) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            return true;
        case 'u': {
            unsigned v = 0;
            if (!hex4(v)) return false;
            if (v >= 0xDC00 && v <= 0xDFFF) return false; // a lone low surrogate
            if (v < 0xD800 || v > 0xDBFF) return true;
            unsigned low = 0;
            return eat('\\') && eat('u') && hex4(low) && low >= 0xDC00 && low <= 0xDFFF;
        }
        default:
            return false;
        }
    }

    /// At a byte >= 0x80: one well-formed UTF-8 sequence (no overlongs, no surrogates).
    bool utf8() noexcept {
        const auto b0 = static_cast<unsigned char>(*p_);
        int more = 0;
        unsigned char lo = 0x80, hi = 0xBF; // range of the second byte
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            more = 1;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            more = 2;
            if (b0 == 0xE0) lo = 0xA0;
            if (b0 == 0xED) hi = 0x9F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            more = 3;
            if (b0 == 0xF0) lo = 0x90;
            if (b0 == 0xF4) hi = 0x8F;
        } else {
            return false;
        }
        if (end_ - p_ <= more) return false;
        for (int i = 1; i <= more; ++i) {
            const auto b = static_cast<unsigned char>(p_[i]);
            if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
        }
        p_ += more + 1;
        return true;
    }

    bool container(char close, int depth) noexcept {
        if (depth >= max_depth) return false;
        ++p_;
        ws();
        if (eat(close)) return true;
        for (;;) {
            if (close == '}') {
                std::string_view key;
                bool escaped = false;
                if (!string(key, escaped)) return false;
                ws();
                if (!eat(':')) return false;
                ws();
            }
            if (!value(depth + 1)) return false;
            ws();
            if (eat(close)) return true;
            if (!eat(',')) return false;
            ws();
        }
    }

    const char* p_;
    const char* end_;
};

/// Walks a line that must be exactly one JSON object. For each top-level member calls
/// `member(key, key_escaped, cursor)`, which consumes the value (or returns false). False when
/// the line is not one complete, valid object.
template <class Member>
bool scan_object(std::string_view line, Member&& member) {
    json_cursor c(line);
    c.ws();
    if (!c.eat('{')) return false;
    c.ws();
    if (!c.eat('}')) {
        for (;;) {
            std::string_view key;
            bool escaped = false;
            if (!c.string(key, escaped)) return false;
            c.ws();
            if (!c.eat(':')) return false;
            c.ws();
            if (!member(key, escaped, c)) return false;
            c.ws();
            if (c.eat('}')) break;
            if (!c.eat(',')) return false;
            c.ws();
        }
    }
    c.ws();
    return c.at_end();
}

/// A string value if there is one (then `is_string`), else any value skipped.
bool string_member(json_cursor& c, std::string_view& raw, bool& escaped, bool& is_string) {
    is_string = c.peek() == '"';
    return is_string ? c.string(raw, escaped) : c.value();
}

/// A non-negative integer value that fits in 64 bits (then `is_uint`), else any value skipped.
bool uint_member(json_cursor& c, std::uint64_t& v, bool& is_uint) {
    is_uint = false;
    if (c.peek() != '-' && (c.peek() < '0' || c.peek() > '9')) return c.value();
    std::string_view raw;
    bool integer = false;
    if (!c.number(raw, integer)) return false;
    if (integer && raw.front() != '-') {
        if (auto parsed = parse_uint(raw)) {
            v = *parsed;
            is_uint = true;
        }
    }
    return true;
}

enum class parsed { no, yes, escaped }; // escaped: valid, but needs a decoding parser

/// device_id and seq of a JSON payload, strictly. The id views the payload.
parsed parse_json_identity(std::string_view payload, std::string_view& id, std::uint64_t& seq) {
    bool have_id = false, have_seq = false, needs_decoding = false;
    const bool valid =
        scan_object(payload, [&](std::string_view key, bool key_escaped, json_cursor& c) {
            if (key_escaped) { // could spell "seq": let a full parser decide
                needs_decoding = true;
                return c.value();
            }
            if (key == "device_id") {
                bool escaped = false;
                if (!string_member(c, id, escaped, have_id)) return false;
                needs_decoding |= escaped;
                return true;
            }
            if (key == "seq") return uint_member(c, seq, have_seq);
            return c.value();
        });
    if (!valid) return parsed::no;
    if (needs_decoding) return parsed::escaped;
    return have_id && have_seq ? parsed::yes : parsed::no;
}

/// The same with nlohmann::json, for the rare payload whose names or id carry escapes.
std::optional<message_identity> parse_json_identity_slowly(std::string_view payload) {
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    const auto id = j.find("device_id");
    const auto seq = j.find("seq");
    if (id == j.end() || seq == j.end() || !id->is_string() || !seq->is_number_unsigned())
        return std::nullopt;
    return message_identity{id->get<std::string>(), seq->get<std::uint64_t>()};
}

/// device_id and seq of a CSV payload "device_id,seq,ts,...": the seq must be followed by a
/// comma, so a row cut short inside its first two columns is not read as another seq.
bool parse_csv_identity(std::string_view payload, std::string_view& id, std::uint64_t& seq) {
    const auto c1 = payload.find(',');
    if (c1 == std::string_view::npos || c1 == 0) return false;
    const auto c2 = payload.find(',', c1 + 1);
    if (c2 == std::string_view::npos) return false;
    const auto v = parse_uint(payload.substr(c1 + 1, c2 - c1 - 1));
    if (!v) return false;
    id = payload.substr(0, c1);
    seq = *v;
    return true;
}

/// The identity of one payload; the id views `payload` or `scratch`.
bool identify(std::string_view payload, std::string& scratch, std::string_view& id,
              std::uint64_t& seq) {
    if (payload.empty()) return false;
    if (payload.front() != '{') return parse_csv_identity(payload, id, seq);
    switch (parse_json_identity(payload, id, seq)) {
    case parsed::yes:
        return true;
    case parsed::no:
        return false;
    case parsed::escaped:
        break;
    }
    auto slow = parse_json_identity_slowly(payload);
    if (!slow) return false;
    scratch = std::move(slow->device_id);
    id = scratch;
    seq = slow->seq;
    return true;
}

std::optional<label_identity> parse_label_slowly(std::string_view line) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    const auto id = j.find("device_id");
    const auto seq = j.find("seq");
    if (id == j.end() || seq == j.end() || !id->is_string() || !seq->is_number_unsigned())
        return std::nullopt;
    label_identity l;
    l.device_id = id->get<std::string>();
    l.seq = seq->get<std::uint64_t>();
    if (const auto e = j.find("emitted"); e != j.end() && e->is_boolean())
        l.emitted = e->get<bool>();
    if (const auto k = j.find("label"); k != j.end() && k->is_string())
        l.anomalous = k->get<std::string>() != "normal";
    if (const auto f = j.find("faults"); f != j.end() && f->is_array())
        for (const auto& name : *f)
            if (name.is_string()) l.faults |= fault_bit(name.get<std::string>());
    return l;
}

} // namespace

std::optional<message_identity> parse_message_identity(std::string_view payload) {
    std::string scratch;
    std::string_view id;
    std::uint64_t seq = 0;
    if (!identify(payload, scratch, id, seq)) return std::nullopt;
    return message_identity{std::string(id), seq};
}

std::optional<label_identity> parse_label_identity(std::string_view line) {
    if (line.empty()) return std::nullopt;
    if (line.front() != '{') { // CSV: device_id,seq,ts,is_anomaly,label,episodes,emitted[,faults]
        const auto cols = split(line);
        if (cols.size() < 7) return std::nullopt;
        const auto seq = parse_uint(cols[1]);
        if (!seq || cols[0].empty()) return std::nullopt;
        label_identity l{std::string(cols[0]), *seq, cols[6] == "1", cols[3] == "1"};
        if (cols.size() > 7 && !cols[7].empty())
            for (const auto name : split(cols[7], '|')) l.faults |= fault_bit(name);
        return l;
    }
    std::string_view id, label = "normal";
    std::uint64_t seq = 0;
    bool have_id = false, have_seq = false, emitted = true, needs_decoding = false;
    std::uint8_t faults = 0;
    const bool valid =
        scan_object(line, [&](std::string_view key, bool key_escaped, json_cursor& c) {
            bool escaped = false, is_string = false;
            if (key_escaped) {
                needs_decoding = true;
                return c.value();
            }
            if (key == "device_id") {
                if (!string_member(c, id, escaped, have_id)) return false;
                needs_decoding |= escaped;
                return true;
            }
            if (key == "seq") return uint_member(c, seq, have_seq);
            if (key == "emitted") {
                if (c.literal("true")) return true;
                if (!c.literal("false")) return c.value();
                emitted = false;
                return true;
            }
            if (key == "label") {
                std::string_view text;
                if (!string_member(c, text, escaped, is_string)) return false;
                if (is_string) label = text;
                needs_decoding |= escaped;
                return true;
            }
            if (key == "faults" && c.peek() == '[') {
                c.eat('[');
                c.ws();
                if (c.eat(']')) return true;
                for (;;) {
                    std::string_view name;
                    if (c.peek() == '"') {
                        if (!c.string(name, escaped)) return false;
                        needs_decoding |= escaped;
                        faults |= fault_bit(name);
                    } else if (!c.value(1)) {
                        return false;
                    }
                    c.ws();
                    if (c.eat(']')) return true;
                    if (!c.eat(',')) return false;
                    c.ws();
                }
            }
            return c.value();
        });
    if (!valid) return std::nullopt;
    if (needs_decoding) return parse_label_slowly(line);
    if (!have_id || !have_seq) return std::nullopt;
    return label_identity{std::string(id), seq, emitted, label != "normal", faults};
}

void stream_checker::add_message(std::string_view payload, int stream) {
    std::string_view id;
    std::uint64_t seq = 0;
    if (!identify(payload, scratch_, id, seq)) {
        ++unparsable_;
        return;
    }
    ++messages_;
    auto it = devices_.find(id);
    if (it == devices_.end()) it = devices_.emplace(std::string(id), device_state{}).first;
    device_state& d = it->second;
    ++d.messages;
    grow(d.seen, seq);
    std::uint8_t& seen = d.seen[seq];
    const bool copy = (seen & copies_mask) != 0;
    if ((seen & copies_mask) < copies_mask) ++seen;
    auto [last, first] = d.last.emplace(stream, seq);
    if (first || seq > last->second) {
        last->second = seq;
        seen |= raised_high;
    } else if (seq < last->second) {
        d.reordered.push_back({seq, last->second, copy});
    }
}

void stream_checker::add_label(std::string_view line) {
    const auto l = parse_label_identity(line);
    if (!l) return;
    have_labels_ = true;
    ++labels_;
    anomalous_ += l->anomalous;
    auto it = devices_.find(l->device_id);
    if (it == devices_.end()) it = devices_.emplace(l->device_id, device_state{}).first;
    grow(it->second.labelled, l->seq);
    it->second.labelled[l->seq] =
        static_cast<std::uint8_t>((l->emitted ? 1 : 2) | (l->faults << 2));
}

verify_report stream_checker::report() const {
    verify_report r;
    r.messages = messages_;
    r.unparsable = unparsable_;
    r.labels = labels_;
    r.anomalous_labels = anomalous_;
    r.labels_checked = have_labels_;
    constexpr std::uint8_t displaced = fault_out_of_order | fault_late;
    std::uint64_t malformed_absent = 0; // labelled malformed, emitted, not among the messages
    std::uint64_t malformed_lines = 0;  // the unparsable lines those may account for
    std::vector<device_report> problems;
    for (const auto& [id, device] : devices_) {
        // A named reference: clang 14 cannot capture a structured binding in a lambda (P1091).
        const auto& d = device;
        device_report dr;
        dr.device_id = id;
        dr.messages = d.messages;
        const auto faults_of = [&](std::size_t s) -> std::uint8_t {
            return s < d.labelled.size() ? static_cast<std::uint8_t>(d.labelled[s] >> 2) : 0;
        };
        const std::size_t span = std::max(d.seen.size(), d.labelled.size());
        // Without labels, the expected seqs are 0..max seen: gaps inside count as missing.
        std::uint64_t max_seen = 0;
        for (std::size_t s = 0; s < d.seen.size(); ++s)
            if (d.seen[s]) max_seen = s;
        std::uint64_t missing = 0;
        for (std::size_t s = 0; s < span; ++s) {
            const unsigned copies = s < d.seen.size() ? d.seen[s] & copies_mask : 0u;
            const std::uint8_t label = s < d.labelled.size() ? d.labelled[s] & 3 : 0;
            const std::uint8_t faults = faults_of(s);
            if (copies > 1) {
                const unsigned explained = (faults & fault_duplicate) ? 1u : 0u;
                dr.explained_duplicates += explained;
                dr.duplicates += copies - 1u - explained;
            }
            if (have_labels_) {
                if (label == 1 && copies == 0) {
                    ++missing;
                    if (faults & fault_malformed) {
                        ++dr.malformed;
                        malformed_lines += (faults & fault_duplicate) ? 2 : 1;
                    } else {
                        ++dr.missing;
                    }
                }
                if (label == 2 && copies > 0) ++dr.unexpected;
                if (label == 2 && copies == 0 && (faults & fault_dropped)) ++r.explained.dropped;
                if (label == 0 && copies > 0) ++dr.unlabelled;
            } else if (copies == 0 && s < max_seen && d.messages > 0) {
                ++dr.missing;
                ++missing;
            }
        }
        // A late arrival is explained when its own tick was held back (out_of_order, late) or
        // it is a duplicate's second copy; or when every higher seq that came before it in
        // its stream was itself held back. Only reordering that involves no such tick is a
        // problem. (Devices spread over several streams are judged a little more strictly.)
        for (const reorder_event& e : d.reordered) {
            const std::uint8_t own = faults_of(e.seq);
            bool explained = (own & displaced) || (e.copy && (own & fault_duplicate));
            if (!explained && have_labels_) {
                explained = true;
                for (std::uint64_t h = e.seq + 1; h <= e.highest_before && explained; ++h)
                    if ((d.seen[h] & raised_high) && !(faults_of(h) & displaced)) explained = false;
            }
            ++(explained ? dr.explained_out_of_order : dr.out_of_order);
        }
        if (d.messages > 0 || missing > 0) ++r.devices;
        r.duplicates += dr.duplicates + dr.explained_duplicates;
        r.explained.duplicates += dr.explained_duplicates;
        r.unexplained_duplicates += dr.duplicates;
        r.out_of_order += dr.out_of_order + dr.explained_out_of_order;
        r.explained.reordered += dr.explained_out_of_order;
        r.unexplained_out_of_order += dr.out_of_order;
        r.missing += missing;
        r.unexplained_missing += dr.missing;
        r.unlabelled += dr.unlabelled;
        r.unexpected += dr.unexpected;
        malformed_absent += dr.malformed;
        if (dr.problems() > 0) problems.push_back(dr);
    }
    // Malformed payloads cannot be told apart, so they are matched by count: each absent
    // malformed tick needs an unparsable line (two when it was also duplicated at most), and
    // each unparsable line needs such a tick.
    r.explained.unparsable = std::min(unparsable_, malformed_lines);
    r.unexplained_unparsable = unparsable_ - r.explained.unparsable;
    r.explained.malformed = std::min(malformed_absent, unparsable_);
    r.unexplained_missing += malformed_absent - r.explained.malformed;
    std::sort(problems.begin(), problems.end(), [](const device_report& a, const device_report& b) {
        return a.problems() > b.problems();
    });
    if (problems.size() > 20) problems.resize(20);
    r.worst = std::move(problems);
    return r;
}

std::string verify_report::text(bool strict_order) const {
    std::string out = fmt::format("verify: {} messages from {} devices; {} unparsable\n"
                                  "  missing {}   duplicates {}   out of order {}\n",
                                  messages, devices, unparsable, missing, duplicates, out_of_order);
    if (labels_checked) {
        out += fmt::format(
            "  labels {} ({} anomalous): {} messages without a label, {} silenced ticks present\n",
            labels, anomalous_labels, unlabelled, unexpected);
        out += fmt::format("  faults explained by labels: duplicates {}, reordered {}, unparsable "
                           "{}, dropped {}, malformed ticks {}\n",
                           explained.duplicates, explained.reordered, explained.unparsable,
                           explained.dropped, explained.malformed);
        out += fmt::format("  not explained by labels: missing {}, duplicates {}, out of order "
                           "{}{}, unparsable {}\n",
                           unexplained_missing, unexplained_duplicates, unexplained_out_of_order,
                           strict_order ? "" : " (fails only with --strict-order)",
                           unexplained_unparsable);
    } else {
        out += "  no labels given: seq gaps are counted as missing (dropout episodes included)\n";
    }
    for (const auto& d : worst)
        out += fmt::format(
            "  device {}: messages {} missing {} duplicates {} out of order {} unlabelled {}\n",
            d.device_id, d.messages, d.missing, d.duplicates, d.out_of_order, d.unlabelled);
    out += ok(strict_order) ? "  result: ok\n" : "  result: FAILED\n";
    return out;
}

std::string verify_report::json(bool strict_order) const {
    nlohmann::ordered_json j;
    j["ok"] = ok(strict_order);
    j["messages"] = messages;
    j["devices"] = devices;
    j["unparsable"] = unparsable;
    j["missing"] = missing;
    j["duplicates"] = duplicates;
    j["out_of_order"] = out_of_order;
    j["labels_checked"] = labels_checked;
    j["labels"] = labels;
    j["anomalous_labels"] = anomalous_labels;
    j["unlabelled"] = unlabelled;
    j["silenced_but_present"] = unexpected;
    j["explained"] = {{"duplicates", explained.duplicates},
                      {"reordered", explained.reordered},
                      {"unparsable", explained.unparsable},
                      {"dropped", explained.dropped},
                      {"malformed", explained.malformed}};
    j["unexplained"] = {{"missing", unexplained_missing},
                        {"duplicates", unexplained_duplicates},
                        {"out_of_order", unexplained_out_of_order},
                        {"unparsable", unexplained_unparsable}};
    auto& w = j["worst_devices"] = nlohmann::ordered_json::array();
    for (const auto& d : worst)
        w.push_back({{"device_id", d.device_id},
                     {"messages", d.messages},
                     {"missing", d.missing},
                     {"duplicates", d.duplicates},
                     {"out_of_order", d.out_of_order},
                     {"unlabelled", d.unlabelled},
                     {"silenced_but_present", d.unexpected}});
    return j.dump(2) + "\n";
}

} // namespace synthfeed
