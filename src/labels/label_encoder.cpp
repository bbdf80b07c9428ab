#include "src/labels/label_encoder.hpp"

#include "src/core/text_escape.hpp"

namespace synthfeed {
namespace {

/// Classes that make a tick's "label" (and is_anomaly): labelled_classes of kinds.hpp, value
/// anomalies and fraud. Transport faults are listed apart ("faults"); drift episodes only by
/// id ("episodes").
bool labels_tick(anomaly_class c) noexcept {
    return labelled_classes[static_cast<std::size_t>(c)];
}

void append_timestamp(byte_buffer& out, sim_time t, timestamp_formatter& ts) {
    ts.format(t, out.reserve(timestamp_length));
    out.commit(timestamp_length);
}

/// Device ids and kind names keep to characters JSON strings carry as they are.
void append_quoted(byte_buffer& out, std::string_view s) {
    out.push_back('"');
    out.append(s);
    out.push_back('"');
}

std::string json_string(std::string_view s) {
    return '"' + escaped(s, text_context::json_string) + '"';
}

} // namespace

truth_names::truth_names(const profile& p, const injection_board* injections)
    : profile_(&p), injections_(injections) {}

const episode_ref*
truth_names::first_labelled_episode(std::uint32_t group,
                                    std::span<const episode_ref> live) const noexcept {
    for (const episode_ref& e : live)
        if (labels_tick(class_of(kind(group, e)))) return &e;
    return nullptr;
}

void truth_names::append_label(byte_buffer& out, std::uint32_t group,
                               std::span<const episode_ref> live) const {
    bool any = false;
    for (std::size_t i = 0; i < live.size(); ++i) {
        const anomaly_kind k = kind(group, live[i]);
        if (!labels_tick(class_of(k))) continue;
        bool repeated = false;
        for (std::size_t j = 0; j < i; ++j) repeated |= kind(group, live[j]) == k;
        if (repeated) continue;
        if (any) out.push_back('+');
        out.append(to_string(k));
        any = true;
    }
    if (!any) out.append("normal");
}

void truth_names::append_faults(byte_buffer& out, std::uint32_t group,
                                std::span<const episode_ref> live, char sep, bool quoted) const {
    bool any = false;
    for (const episode_ref& e : live) {
        const anomaly_kind k = kind(group, e);
        if (class_of(k) != anomaly_class::transport) continue;
        if (any) out.push_back(sep);
        if (quoted) out.push_back('"');
        out.append(to_string(k));
        if (quoted) out.push_back('"');
        any = true;
    }
}

void truth_names::append_episode_id(byte_buffer& out, std::string_view device_id,
                                    episode_ref e) const {
    out.append(device_id);
    if (e.anomaly == injected_anomaly) out.append(":injected");
    char* p = out.reserve(42);
    if (e.anomaly != injected_anomaly) {
        *p++ = ':';
        p = write_uint(p, e.anomaly);
    }
    *p++ = ':';
    p = write_uint(p, e.episode);
    out.commit_to(p);
}

void truth_names::append_episode_member(byte_buffer& out, std::string_view device_id,
                                        std::uint32_t group,
                                        std::span<const episode_ref> live) const {
    if (const episode_ref* first = first_labelled_episode(group, live)) {
        out.append("\",\"episode\":\"");
        append_episode_id(out, device_id, *first);
        out.push_back('"');
    } else {
        out.append("\",\"episode\":null");
    }
}

label_encoder::label_encoder(const profile& p, label_format format,
                             const injection_board* injections)
    : profile_(&p), injections_(injections), names_(p, injections), format_(format) {
    for (const auto& g : p.groups)
        for (const auto& a : g.anomalies)
            has_faults_ |= class_of(a.kind) == anomaly_class::transport;
}

std::string label_encoder::header() const {
    return format_ == label_format::csv
               ? "device_id,seq,ts,is_anomaly,label,episodes,emitted,faults"
               : "";
}

void label_encoder::encode_layout_row(byte_buffer& out, const tick_view& t) const {
    // At most a few episodes are live at a tick: a small array, no allocation.
    std::array<layout_episode, 16> small;
    std::vector<layout_episode> large;
    std::size_t n = 0;
    for (const episode_ref& e : t.episodes) {
        if (!labels_tick(class_of(episode_kind(profile_->groups[t.group], injections_, e))))
            continue;
        const int field = e.anomaly == injected_anomaly
                              ? (*injections_)[e.episode].field
                              : profile_->groups[t.group].anomalies[e.anomaly].field;
        const layout_episode live{field, e.anomaly, e.episode};
        if (n < small.size())
            small[n] = live;
        else
            large.push_back(live);
        ++n;
    }
    if (!large.empty()) large.insert(large.begin(), small.begin(), small.end());
    append_layout_row(out, {t.device, t.seq, t.ts, t.group, t.emitted, n > 0, t.values,
                            large.empty() ? std::span<const layout_episode>(small).first(n)
                                          : std::span<const layout_episode>(large)});
}

void label_encoder::encode(byte_buffer& out, const tick_view& t, std::string_view device_id,
                           timestamp_formatter& ts) const {
    if (writes_layout(format_)) return encode_layout_row(out, t);
    if (format_ == label_format::csv) {
        out.append(device_id);
        char* p = out.reserve(24);
        *p++ = ',';
        p = write_uint(p, t.seq);
        *p++ = ',';
        out.commit_to(p);
        append_timestamp(out, t.ts, ts);
        const episode_ref* first = names_.first_labelled_episode(t.group, t.episodes);
        out.append(first ? ",1," : ",0,");
        names_.append_label(out, t.group, t.episodes);
        out.push_back(',');
        for (std::size_t i = 0; i < t.episodes.size(); ++i) {
            if (i) out.push_back('|');
            names_.append_episode_id(out, device_id, t.episodes[i]);
        }
        out.append(t.emitted ? ",1," : ",0,");
        names_.append_faults(out, t.group, t.episodes, '|', false);
        return;
    }
    out.append("{\"device_id\":\"");
    out.append(device_id);
    char* p = out.reserve(40);
    std::memcpy(p, "\",\"seq\":", 8);
    p = write_uint(p + 8, t.seq);
    std::memcpy(p, ",\"ts\":\"", 7);
    out.commit_to(p + 7);
    append_timestamp(out, t.ts, ts);
    out.append("\",\"label\":\"");
    names_.append_label(out, t.group, t.episodes);
    names_.append_episode_member(out, device_id, t.group, t.episodes);
    out.append(",\"episodes\":[");
    for (std::size_t i = 0; i < t.episodes.size(); ++i) {
        if (i) out.push_back(',');
        out.push_back('"');
        names_.append_episode_id(out, device_id, t.episodes[i]);
        out.push_back('"');
    }
    out.push_back(']');
    out.append(t.emitted ? ",\"emitted\":true" : ",\"emitted\":false");
    if (has_faults_) {
        out.append(",\"faults\":[");
        names_.append_faults(out, t.group, t.episodes, ',', true);
        out.push_back(']');
    }
    out.push_back('}');
}

episode_encoder::episode_encoder(const profile& p, const injection_board* injections)
    : profile_(&p), injections_(injections), names_(p, injections) {
    for (const auto& g : p.groups) {
        auto& names = quoted_names_.emplace_back();
        names.push_back(json_string(g.name));
        for (const auto& f : g.fields) names.push_back(json_string(f.name));
    }
}

void episode_encoder::encode(byte_buffer& out, const episode_view& e, std::string_view device_id,
                             std::string_view cause_device_id) const {
    const group_spec& g = profile_->groups[e.group];
    const bool injected = e.anomaly == injected_anomaly;
    const anomaly_kind kind = episode_kind(g, injections_, {e.anomaly, e.episode});
    const int field = injected ? (*injections_)[e.episode].field : g.anomalies[e.anomaly].field;
    timestamp_formatter ts;
    out.append("{\"episode\":\"");
    names_.append_episode_id(out, device_id, {e.anomaly, e.episode});
    out.append("\",\"device_id\":");
    append_quoted(out, device_id);
    const std::vector<std::string>& names = quoted_names_[e.group];
    out.append(",\"group\":");
    out.append(names[0]);
    out.append(",\"field\":");
    if (field >= 0)
        out.append(names[static_cast<std::size_t>(field) + 1]);
    else
        out.append("null");
    out.append(",\"kind\":");
    append_quoted(out, to_string(kind));
    out.append(",\"class\":\"");
    out.append(to_string(class_of(kind)));
    out.append("\",\"start\":\"");
    append_timestamp(out, e.start, ts);
    if (e.end - e.start >= open_ended) { // a drift for good
        out.append("\",\"end\":null,\"magnitude\":");
    } else {
        out.append("\",\"end\":\"");
        append_timestamp(out, e.end, ts);
        out.append("\",\"magnitude\":");
    }
    out.commit_to(write_fixed(out.reserve(32), e.magnitude, 6));
    if (injected) out.append(",\"injected\":true");
    if (!cause_device_id.empty()) { // a cascade: the gateway episode that caused it
        out.append(",\"cause\":\"");
        names_.append_episode_id(out, cause_device_id,
                                 {g.anomalies[e.anomaly].cause_anomaly, e.episode});
        out.push_back('"');
    }
    out.push_back('}');
}

} // namespace synthfeed
