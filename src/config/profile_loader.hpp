#pragma once
/// Reads a TOML profile into a validated fleet plan. Every problem is a config_error naming
/// file, line, column and key.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/config/env_interpolation.hpp"
#include "src/config/profile.hpp"

namespace synthfeed {

/// The top-level tables that hold connector options ([kafka], [mqtt]): the caller passes the
/// registry's names (connector_table_names()), so config never depends on connectors. They
/// are read as raw properties into profile::connectors; the connectors check them.
using connector_table_names_t = std::span<const std::string_view>;

/// The most devices a group, and a profile, may hold: the engine packs a device index in 32
/// bits, and a group of 10^8 already takes gigabytes of device state.
inline constexpr std::uint64_t max_devices_per_group = 100'000'000;
inline constexpr std::uint64_t max_devices_per_profile = 1'000'000'000;

/// Device counts by group name that replace the profiles' own `count` (--devices). Each is
/// from 1 to max_devices_per_group (scaled_counts gives such); names the profile lacks are
/// ignored. Every check the loader makes on a count then runs on the new one.
using group_counts = std::map<std::string, std::uint64_t, std::less<>>;

/// Loads and validates the profile at `path` (after `${VAR:-default}` interpolation).
profile load_profile(const std::string& path, connector_table_names_t connector_tables = {},
                     const env_lookup& lookup = process_env, const group_counts& counts = {});

/// Parses profile text; `origin` is the name used in error messages.
profile parse_profile(std::string_view text, const std::string& origin,
                      connector_table_names_t connector_tables = {},
                      const env_lookup& lookup = process_env, const group_counts& counts = {});

/// The classes `names` name (value, transport, fraud, drift, regime), given to `flag`
/// (repeatable); config_error naming the flag (exit 2) for any other name.
class_selection flag_classes(const char* flag, std::span<const std::string> names);

/// Marks every episode spec of a class in `classes` removed (anomaly_spec::removed): the
/// clean twin of a run. Returns how many specs it marked.
std::size_t remove_episode_classes(profile& p, const class_selection& classes) noexcept;

/// The count of each group of `p` for a fleet of `total` devices (when given) with the groups
/// of `named` at exactly theirs: the other groups share what is left in proportion to their
/// counts in `p`, by largest remainder (ties to the earlier group), at least 1 each, so the
/// fleet holds exactly `total`. Throws config_error at `origin` (the flag) for a group `p`
/// lacks, a total the named groups leave too little of, or a count beyond the bounds above.
group_counts scaled_counts(const profile& p, std::optional<std::uint64_t> total,
                           const group_counts& named, const std::string& origin);

/// The most stages a `stages` load may have: the pacer walks them whenever it waits.
inline constexpr std::size_t max_load_stages = 1000;

/// Parses a k6-style stage "DUR:RATE" ("30s:1000", "1m30s:2.5e4"); nullopt on bad syntax.
/// The rate is not range-checked here: find_stage_problem does that for flags and TOML alike.
std::optional<load_stage> parse_stage(std::string_view text);

/// What keeps stages from shaping a load, and the index of the stage at fault (the count of
/// stages when it is the list: none, or more than max_load_stages).
struct stage_problem {
    std::size_t index = 0;
    std::string message;
};
/// The first problem of `stages` (a target outside 0..max_target_rate, a last target of 0,
/// which would hold for ever), or nullopt.
std::optional<stage_problem> find_stage_problem(const std::vector<load_stage>& stages);

/// Formats a device id from a group's template ({index}, {index:05}, {index:x}, {group}; the
/// loader checked the template, so this does not throw for a loaded profile).
std::string format_device_id(const std::string& id_template, const std::string& group,
                             std::uint64_t index);

/// The magnitude of a value anomaly of `kind` when none is given (its row in kinds.hpp):
/// variance 3 (times the noise), frequency 2 (times as fast), the others 1 (field units).
double default_magnitude(anomaly_kind kind) noexcept;

/// Why `magnitude` cannot size a value anomaly of `kind` (profile or control API), or empty.
std::string magnitude_problem(anomaly_kind kind, double magnitude);

/// Device ids keep to [A-Za-z0-9-_.:/@+#]: every format, topic and key carries them as they
/// are (line protocol tag values, CSV cells and JSON strings reserve none of these).
inline constexpr std::string_view device_id_alphabet = "[A-Za-z0-9-_.:/@+#]";
inline bool is_device_id_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == '@' || c == '+' || c == '#';
}

/// The ids of the first and last device of each group. An index adds only digits and hex
/// letters, so together they hold every character, and the longest id, any device of the
/// profile can have: what address and escaping checks need, without the whole id table.
std::vector<std::string> boundary_device_ids(const profile& p);

/// Sorts episode windows by start (stable). Returns the original indices of the first pair
/// (earlier, later) that overlaps and shares a device, leaving the windows unsorted: a device
/// is in one episode of a spec at a time, so labels and episode lines come from one set.
std::optional<std::pair<std::size_t, std::size_t>>
sort_windows(std::vector<anomaly_window>& windows);
inline constexpr std::string_view window_overlap_reason =
    "a device is in one episode of a spec at a time (split the spec in two, or merge the "
    "windows)";

/// The key a schema_drift rename gives field `field` of `g`: "<name>_v2", or _v3, … when the
/// group already has a field of that name (so a message never holds one key twice).
std::string renamed_field_name(const group_spec& g, std::size_t field);

} // namespace synthfeed
