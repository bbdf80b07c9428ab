// libFuzzer target: profile text -> parse_profile -> what a run builds from the plan.
//
// The input is TOML text (before ${VAR} interpolation; every variable is unset, so only
// `${X:-default}` forms survive). config_error is the documented refusal of a bad profile;
// any other exception escaping, a crash, a sanitizer report, a leak or a hang is a finding.
//
// When a profile parses, the harness builds, cheaply, what `synthfeed validate` and the start
// of `synthfeed run` build: the device directory (small fleets only), every payload, label and
// episode encoder, a group_model per group, the load schedule and the window length; then it
// generates and encodes a few ticks of the first and last device of every group.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector_registry.hpp"
#include "devices/group_model.hpp"
#include "src/config/profile_loader.hpp"
#include "src/core/byte_buffer.hpp"
#include "src/core/errors.hpp"
#include "src/core/time.hpp"
#include "src/encode/message_encoder.hpp"
#include "src/engine/engine.hpp"
#include "src/engine/load_schedule.hpp"
#include "src/labels/label_encoder.hpp"

namespace {

using namespace synthfeed;

/// Fleets up to this size get a device_directory (it formats every id).
constexpr std::uint64_t max_directory_devices = 4096;
/// Ticks generated per device at most (the harness stops advancing past it).
constexpr sim_duration max_span = 31 * ms_per_day;

std::optional<std::string> no_env(const std::string&) {
    return std::nullopt;
}

/// Receives ticks and episodes from group_model::advance and encodes them every way a run can.
struct sink {
    const profile* plan;
    std::vector<const message_encoder*> messages;
    std::vector<const label_encoder*> labels;
    const episode_encoder* episodes;
    const truth_names* names;
    std::string id;
    byte_buffer out;
    timestamp_formatter ts;
    std::size_t ticks = 0;

    void on_tick(const tick_view& t) {
        ++ticks;
        out.clear();
        if (t.emitted)
            for (const message_encoder* m : messages) m->encode(out, t, id, ts);
        for (const label_encoder* l : labels) l->encode(out, t, id, ts);
        // What --label-headers writes.
        names->append_label(out, t.group, t.episodes);
        if (const episode_ref* first = names->first_labelled_episode(t.group, t.episodes))
            names->append_episode_id(out, id, *first);
        names->append_faults(out, t.group, t.episodes, ',', false);
        names->append_episode_member(out, id, t.group, t.episodes);
    }
    void on_episode(const episode_view& v) {
        out.clear();
        episodes->encode(out, v, id, v.cause_device == UINT64_MAX ? std::string_view{} : "gw-0");
    }
};

void exercise(const profile& p) {
    const std::uint64_t devices = p.device_count();
    std::optional<device_directory> ids;
    if (devices <= max_directory_devices) ids.emplace(p); // may throw config_error
    (void)p.nominal_rate();
    (void)window_length(p, 0);
    (void)window_length(p, 1);
    (void)window_length(p, 1000);
    if (p.load.shape != load_shape::none) {
        const load_schedule s(p.load);
        for (double t : {0.0, 0.5, 1.0, 30.0, 3600.0}) {
            (void)s.rate_at(t);
            (void)s.allowed(t);
        }
        for (std::uint64_t k : {0ULL, 1ULL, 1000ULL}) (void)s.due_time(k);
    }

    const sim_time start = p.start.value_or(*parse_timestamp("2026-01-01T00:00:00Z"));
    const injection_board injections;
    const message_encoder json(p, payload_format::json, false, &injections);
    const message_encoder json_labelled(p, payload_format::json, true, &injections);
    const message_encoder csv(p, payload_format::csv, false, &injections);
    const message_encoder influx(p, payload_format::influx, false, &injections);
    const label_encoder jsonl_labels(p, label_format::jsonl, &injections);
    const label_encoder csv_labels(p, label_format::csv, &injections);
    const episode_encoder episodes(p, &injections);
    const truth_names names(p, &injections);
    (void)json.header();
    (void)csv.header();
    (void)influx.header();
    (void)jsonl_labels.header();
    (void)csv_labels.header();

    sink out{&p,
             {&json, &json_labelled, &csv, &influx},
             {&jsonl_labels, &csv_labels},
             &episodes,
             &names,
             {},
             {},
             {},
             0};
    std::uint64_t first_global = 0;
    for (std::uint32_t g = 0; g < p.groups.size(); ++g) {
        const group_spec& spec = p.groups[g];
        // A compromised_merchant spec draws its windows for every card up front.
        const bool per_card_setup =
            std::any_of(spec.anomalies.begin(), spec.anomalies.end(), [](const anomaly_spec& a) {
                return a.kind == anomaly_kind::compromised_merchant;
            });
        if (!(per_card_setup && spec.count > max_directory_devices)) {
            const group_model model(p, g, first_global, start);
            std::vector<std::uint32_t> locals{0};
            if (spec.count > 1) locals.push_back(static_cast<std::uint32_t>(spec.count - 1));
            device_block block = model.make_block(locals);
            const sim_time until =
                start + std::min<sim_duration>(max_span, 2 * spec.interval + 2 * spec.jitter + 1);
            for (std::size_t i = 0; i < locals.size(); ++i) {
                out.id = format_device_id(spec.id_template, spec.name, locals[i]);
                if (ids && out.id != ids->id(first_global + locals[i])) __builtin_trap();
                model.advance(block, i, until, out);
            }
        }
        first_global += spec.count;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        static const std::vector<std::string_view> tables = connector_table_names();
        const profile p = parse_profile(text, "fuzz.toml", tables, no_env);
        exercise(p);
    } catch (const config_error&) {
        // The documented refusal of a bad profile.
    }
    return 0;
}
