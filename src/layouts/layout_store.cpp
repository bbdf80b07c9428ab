#include "src/layouts/layout_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>

namespace synthfeed {

std::size_t device_series::row_at_or_after(std::uint64_t seq) const noexcept {
    const auto it =
        std::lower_bound(rows.begin(), rows.end(), seq,
                         [](const series_row& r, std::uint64_t s) { return r.seq < s; });
    return static_cast<std::size_t>(it - rows.begin());
}

layout_store::layout_store(const profile& p, std::uint64_t max_rows) : max_rows_(max_rows) {
    for (const group_spec& g : p.groups) {
        layout_group& l = groups_.emplace_back();
        l.name = g.name;
        for (std::size_t f = 0; f < g.fields.size(); ++f) {
            if (g.fields[f].format != field_format::number) continue;
            l.fields.push_back(f);
            l.field_names.push_back(g.fields[f].name);
            l.decimals.push_back(g.fields[f].integer ? 0 : g.fields[f].precision);
        }
    }
}

device_series& layout_store::series_of(const layout_row& row, std::string_view device_id) {
    const auto [it, inserted] = index_.try_emplace(row.device, devices_.size());
    if (inserted) {
        device_series& d = devices_.emplace_back();
        d.device = row.device;
        d.group = row.group;
        d.id = std::string(device_id);
    }
    return devices_[it->second];
}

layout_store::added layout_store::add(std::string_view device_id, std::string_view record) {
    const auto row = read_layout_row(record, values_, episodes_);
    if (!row || row->group >= groups_.size()) return added::unreadable;
    const layout_group& g = groups_[row->group];
    if (!g.fields.empty() && g.fields.back() >= row->values.size()) return added::unreadable;
    if (row->emitted && rows_ >= max_rows_) return added::full;
    device_series& d = series_of(*row, device_id);
    for (const layout_episode& e : row->episodes) {
        // The live episode is almost always among the device's latest.
        auto it = std::find_if(d.episodes.rbegin(), d.episodes.rend(),
                               [&](const episode_span& s) { return s.id == e; });
        if (it == d.episodes.rend()) {
            d.episodes.push_back({e, row->seq, 0});
            it = d.episodes.rbegin();
        }
        it->first_seq = std::min(it->first_seq, row->seq); // a delayed first message
        it->messages += row->emitted ? 1 : 0;
    }
    if (!row->emitted) return added::no_row;
    d.rows.push_back({row->seq, row->ts});
    d.anomalous.push_back(row->is_anomaly ? 1 : 0);
    for (std::size_t f : g.fields) d.values.push_back(row->values[f]);
    ++rows_;
    return added::row;
}

void layout_store::finish() {
    std::sort(devices_.begin(), devices_.end(),
              [](const device_series& a, const device_series& b) { return a.device < b.device; });
    index_.clear();
    for (device_series& d : devices_) {
        const auto by_seq = [&](std::size_t a, std::size_t b) {
            return d.rows[a].seq < d.rows[b].seq;
        };
        std::vector<std::size_t> order(d.rows.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        if (std::is_sorted(order.begin(), order.end(), by_seq)) continue;
        std::stable_sort(order.begin(), order.end(), by_seq); // delayed messages, back in place
        const std::size_t width = d.width();
        device_series sorted;
        for (std::size_t i : order) {
            sorted.rows.push_back(d.rows[i]);
            sorted.anomalous.push_back(d.anomalous[i]);
            sorted.values.insert(sorted.values.end(), d.values.begin() + i * width,
                                 d.values.begin() + (i + 1) * width);
        }
        d.rows = std::move(sorted.rows);
        d.anomalous = std::move(sorted.anomalous);
        d.values = std::move(sorted.values);
    }
}

std::string file_name_part(std::string_view name) {
    static constexpr char hex[] = "0123456789ABCDEF";
    constexpr std::size_t longest = 120, kept = 100;
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || (c == '.' && i > 0);
        if (plain) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    if (out.size() <= longest) return out;
    std::size_t cut = kept; // never inside a %XX
    if (out[cut - 1] == '%')
        cut -= 1;
    else if (out[cut - 2] == '%')
        cut -= 2;
    std::uint64_t hash = 14695981039346656037ull; // FNV-1a, 64 bits
    for (const char c : name) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    out.resize(cut);
    out.push_back('~');
    for (int shift = 60; shift >= 0; shift -= 4) out.push_back(hex[(hash >> shift) & 15]);
    return out;
}

void append_layout_value(std::string& out, double v, int decimals) {
    if (!std::isfinite(v)) return;
    char text[32];
    out.append(text, write_fixed(text, v, decimals));
}

std::string write_text_file(const std::filesystem::path& path, std::string_view text) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return path.parent_path().string() + ": " + ec.message();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) return path.string() + ": " + std::strerror(errno);
    return "";
}

} // namespace synthfeed
