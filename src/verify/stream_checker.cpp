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

std::vector<std::string_view> split_csv(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start <= line.size()) {
        const auto comma = std::min(line.find(',', start), line.size());
        out.push_back(line.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

void grow(std::vector<std::uint8_t>& v, std::uint64_t index) {
    if (v.size() <= index) v.resize(std::max<std::size_t>(index + 1, v.size() * 2), 0);
}

} // namespace

std::optional<message_identity> parse_message_identity(std::string_view payload) {
    if (payload.empty()) return std::nullopt;
    if (payload.front() != '{') { // CSV as synthfeed writes it: device_id,seq,ts,...
        const auto cols = split_csv(payload);
        if (cols.size() < 2) return std::nullopt;
        const auto seq = parse_uint(cols[1]);
        if (!seq || cols[0].empty()) return std::nullopt;
        return message_identity{std::string(cols[0]), *seq};
    }
    // Fast path for synthfeed's own layout, then a full parse for anything else.
    constexpr std::string_view head = "{\"device_id\":\"";
    if (payload.starts_with(head)) {
        const auto end_id = payload.find('"', head.size());
        constexpr std::string_view seq_key = "\",\"seq\":";
        if (end_id != std::string_view::npos && payload.substr(end_id).starts_with(seq_key)) {
            const auto digits_start = end_id + seq_key.size();
            auto digits_end = digits_start;
            while (digits_end < payload.size() && payload[digits_end] >= '0' &&
                   payload[digits_end] <= '9')
                ++digits_end;
            if (auto seq = parse_uint(payload.substr(digits_start, digits_end - digits_start)))
                return message_identity{
                    std::string(payload.substr(head.size(), end_id - head.size())), *seq};
        }
    }
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("device_id") || !j.contains("seq") ||
        !j["device_id"].is_string() || !j["seq"].is_number_unsigned())
        return std::nullopt;
    return message_identity{j["device_id"].get<std::string>(), j["seq"].get<std::uint64_t>()};
}

std::optional<label_identity> parse_label_identity(std::string_view line) {
    if (line.empty()) return std::nullopt;
    if (line.front() != '{') { // CSV: device_id,seq,ts,is_anomaly,label,episodes,emitted
        const auto cols = split_csv(line);
        if (cols.size() < 7) return std::nullopt;
        const auto seq = parse_uint(cols[1]);
        if (!seq) return std::nullopt;
        return label_identity{std::string(cols[0]), *seq, cols[6] == "1", cols[3] == "1"};
    }
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("device_id") || !j.contains("seq"))
        return std::nullopt;
    label_identity l;
    l.device_id = j["device_id"].get<std::string>();
    l.seq = j["seq"].get<std::uint64_t>();
    l.emitted = j.value("emitted", true);
    l.anomalous = j.value("label", std::string("normal")) != "normal";
    return l;
}

void stream_checker::add_message(std::string_view payload, int stream) {
    const auto id = parse_message_identity(payload);
    if (!id) {
        ++unparsable_;
        return;
    }
    ++messages_;
    auto it = devices_.find(id->device_id);
    if (it == devices_.end()) it = devices_.emplace(id->device_id, device_state{}).first;
    device_state& d = it->second;
    ++d.messages;
    grow(d.seen, id->seq);
    if (d.seen[id->seq] < 255) ++d.seen[id->seq];
    auto [last, first] = d.last.emplace(stream, id->seq);
    if (!first) {
        if (id->seq < last->second)
            ++d.out_of_order;
        else
            last->second = id->seq;
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
    it->second.labelled[l->seq] = l->emitted ? 1 : 2;
}

verify_report stream_checker::report() const {
    verify_report r;
    r.messages = messages_;
    r.unparsable = unparsable_;
    r.labels = labels_;
    r.anomalous_labels = anomalous_;
    r.labels_checked = have_labels_;
    std::vector<device_report> problems;
    for (const auto& [id, d] : devices_) {
        device_report dr{id, d.messages, 0, d.out_of_order, 0, 0, 0};
        const std::size_t span = std::max(d.seen.size(), d.labelled.size());
        // Without labels, the expected seqs are 0..max seen: gaps inside count as missing.
        std::uint64_t max_seen = 0;
        for (std::size_t s = 0; s < d.seen.size(); ++s)
            if (d.seen[s]) max_seen = s;
        for (std::size_t s = 0; s < span; ++s) {
            const std::uint8_t copies = s < d.seen.size() ? d.seen[s] : 0;
            const std::uint8_t label = s < d.labelled.size() ? d.labelled[s] : 0;
            if (copies > 1) dr.duplicates += copies - 1u;
            if (have_labels_) {
                if (label == 1 && copies == 0) ++dr.missing;
                if (label == 2 && copies > 0) ++dr.unexpected;
                if (label == 0 && copies > 0) ++dr.unlabelled;
            } else if (copies == 0 && s < max_seen && d.messages > 0) {
                ++dr.missing;
            }
        }
        if (d.messages > 0 || dr.missing > 0) ++r.devices;
        r.duplicates += dr.duplicates;
        r.out_of_order += dr.out_of_order;
        r.missing += dr.missing;
        r.unlabelled += dr.unlabelled;
        r.unexpected += dr.unexpected;
        if (dr.duplicates + dr.out_of_order + dr.missing + dr.unlabelled + dr.unexpected > 0)
            problems.push_back(dr);
    }
    std::sort(problems.begin(), problems.end(), [](const device_report& a, const device_report& b) {
        return a.duplicates + a.missing + a.out_of_order + a.unexpected >
               b.duplicates + b.missing + b.out_of_order + b.unexpected;
    });
    if (problems.size() > 20) problems.resize(20);
    r.worst = std::move(problems);
    return r;
}

std::string verify_report::text() const {
    std::string out = fmt::format("verify: {} messages from {} devices; {} unparsable\n"
                                  "  missing {}   duplicates {}   out of order {}\n",
                                  messages, devices, unparsable, missing, duplicates, out_of_order);
    if (labels_checked)
        out += fmt::format(
            "  labels {} ({} anomalous): {} messages without a label, {} silenced ticks present\n",
            labels, anomalous_labels, unlabelled, unexpected);
    else
        out += "  no labels given: seq gaps are counted as missing (dropout episodes included)\n";
    for (const auto& d : worst)
        out += fmt::format(
            "  device {}: messages {} missing {} duplicates {} out of order {} unlabelled {}\n",
            d.device_id, d.messages, d.missing, d.duplicates, d.out_of_order, d.unlabelled);
    return out;
}

std::string verify_report::json() const {
    nlohmann::ordered_json j;
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
    auto& w = j["worst_devices"] = nlohmann::ordered_json::array();
    for (const auto& d : worst)
        w.push_back({{"device_id", d.device_id},
                     {"messages", d.messages},
                     {"missing", d.missing},
                     {"duplicates", d.duplicates},
                     {"out_of_order", d.out_of_order},
                     {"unlabelled", d.unlabelled}});
    return j.dump(2) + "\n";
}

} // namespace synthfeed
