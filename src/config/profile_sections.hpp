#pragma once
/// The readers of a profile's sections, one source file per section: load_fields.cpp (signal,
/// noise, drift, field), load_episodes.cpp (anomalies, faults, fraud, concept drift),
/// load_groups.cpp (groups, arrivals, transactions, drivers); the top level and [load] are in
/// profile_loader.cpp. Internal to src/config. Each reads one TOML table through toml_reader,
/// names kinds only through the tables of kinds.hpp, and throws config_error (file, line,
/// column, key) for any problem.

#include <string>
#include <string_view>
#include <vector>

#include "src/config/profile.hpp"
#include "src/config/profile_loader.hpp"
#include "src/config/toml_reader.hpp"

namespace synthfeed::profile_sections {

// Shared checks (profile_loader.cpp).
void require_non_negative(toml_reader& r, std::string_view key, spread_param p);
void require_positive(toml_reader& r, std::string_view key, spread_param p);
sim_duration positive_duration(toml_reader& r, std::string_view key, sim_duration fallback);
/// The first word of a row's `keys` ("scale df" → "scale").
std::string_view first_key(std::string_view keys) noexcept;

/// A [[group.field]] (load_fields.cpp).
field_spec read_field(toml_reader& r);

/// Episode tables of group `g` (load_episodes.cpp): [[group.anomaly]], [[group.fault]],
/// [[group.fraud]], [[group.drift]], [[group.regime]].
anomaly_spec read_anomaly(toml_reader& r, const group_spec& g);
anomaly_spec read_fault(toml_reader& r, const group_spec& g);
anomaly_spec read_fraud(toml_reader& r, const group_spec& g);
anomaly_spec read_concept_drift(toml_reader& r, const group_spec& g);
anomaly_spec read_regime(toml_reader& r, const group_spec& g);

/// A [[group]] (load_groups.cpp); `earlier` are the groups before it (parents); `counts`
/// replaces its `count` when it names the group (--devices).
group_spec read_group(toml_reader& r, const std::vector<group_spec>& earlier,
                      const group_counts& counts);
/// Why an id template cannot be used, or empty (load_groups.cpp).
std::string id_template_problem(std::string_view t);

} // namespace synthfeed::profile_sections
