#include "devices/group_model.hpp"

#include <cctype>
#include <cmath>
#include <string>
#include <unordered_set>

#include "src/config/profile_loader.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

// Device-key counters: tick k's jitter uses counter k; the phase lives far above.
constexpr std::uint64_t phase_counter = 1ULL << 62;

constexpr std::uint64_t fnv1a(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char ch : s) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ULL;
    return h;
}

/// Ids travel unescaped in JSON, CSV, topics and keys, so they keep to a safe alphabet.
bool safe_id_char(char ch) noexcept {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.' ||
           ch == ':' || ch == '/' || ch == '@' || ch == '+' || ch == '#';
}

} // namespace

device_directory::device_directory(const profile& p) {
    offsets_.reserve(p.device_count() + 1);
    offsets_.push_back(0);
    for (const auto& g : p.groups) {
        group_first_.push_back(offsets_.size() - 1);
        for (std::uint64_t i = 0; i < g.count; ++i) {
            const std::string id = format_device_id(g.id_template, g.name, i);
            for (char ch : id)
                if (!safe_id_char(ch))
                    throw config_error({p.path, 0, 0}, "group.id",
                                       "device id \"" + id + "\" of group \"" + g.name +
                                           "\" has a character outside [A-Za-z0-9-_.:/@+#]");
            chars_.insert(chars_.end(), id.begin(), id.end());
            offsets_.push_back(chars_.size());
        }
    }
    std::unordered_set<std::string_view> seen;
    seen.reserve(size());
    for (std::uint64_t i = 0; i < size(); ++i) {
        if (!seen.insert(id(i)).second)
            throw config_error({p.path, 0, 0}, "group.id",
                               "device id \"" + std::string(id(i)) +
                                   "\" is produced twice; give each group a distinct id template");
    }
}

group_model::group_model(const profile& p, std::uint32_t group_index, std::uint64_t first_global,
                         sim_time run_start)
    : spec_(&p.groups[group_index]), index_(group_index), first_global_(first_global),
      run_start_(run_start),
      group_key_(rng_stream{p.seed}.child(fnv1a(p.groups[group_index].name))) {}

sim_time group_model::tick_time(const device_cursor& c, std::uint64_t tick) const noexcept {
    const group_spec& g = *spec_;
    // Offset by the jitter bound so the earliest possible message is at the run start.
    sim_time t = run_start_ + g.jitter + static_cast<sim_time>(tick) * g.interval;
    if (g.random_phase)
        t += static_cast<sim_duration>(c.key.uniform(phase_counter) *
                                       static_cast<double>(g.interval));
    if (g.jitter > 0)
        t += static_cast<sim_duration>(
            std::floor((2 * c.key.uniform(tick) - 1) * static_cast<double>(g.jitter) + 0.5));
    return t;
}

device_block group_model::make_block(std::vector<std::uint32_t> locals) const {
    const group_spec& g = *spec_;
    device_block b;
    b.locals = std::move(locals);
    b.cursors.resize(b.locals.size());
    b.fields.reserve(b.locals.size() * g.fields.size());
    b.anomalies.reserve(b.locals.size() * g.anomalies.size());
    b.values.resize(g.fields.size());
    b.active.reserve(g.anomalies.size());
    for (std::size_t i = 0; i < b.locals.size(); ++i) {
        device_cursor& c = b.cursors[i];
        c.key = group_key_.child(b.locals[i]);
        c.tick = 0;
        c.next_ts = tick_time(c, 0);
        for (std::size_t f = 0; f < g.fields.size(); ++f)
            b.fields.push_back(init_field(g.fields[f], c.key.child(100 + f)));
        for (std::size_t a = 0; a < g.anomalies.size(); ++a)
            b.anomalies.push_back(
                first_episode(g.anomalies[a], anomaly_key(c, a), run_start_, b.locals[i]));
    }
    return b;
}

} // namespace synthfeed
