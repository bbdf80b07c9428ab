#pragma once
/// `synthfeed fit`: the fitted model written as a commented synthfeed profile: one group of
/// one device, one field per column, each field's signal a `sum` of a constant level, the
/// calendar rhythm (seasonal harmonics or an hour-of-week schedule), a non-calendar cycle and
/// one or two `ou` parts carrying the residual's marginal, with noise, drift, quantisation,
/// bounds, regimes and anomalies, each number followed by a comment saying what it came from.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/analysis/fit_series.hpp"

namespace synthfeed {

/// Everything the profile says.
struct fitted_profile {
    std::string name; ///< profile and group name (profile_group_name applied)
    std::uint64_t seed = 1;
    std::string source;  ///< the CSV path
    std::string command; ///< the command line, quoted in the header
    std::size_t rows_total = 0, rows_used = 0;
    double train_fraction = 1;
    std::string labels; ///< where labels came from, or empty
    fit_timing timing;
    std::vector<field_fit> fields;
    std::vector<std::string> field_names; ///< one per field (profile_field_name applied)
};

/// The profile as TOML text.
std::string fitted_profile_toml(const fitted_profile& p);

/// A column name as a field name: characters other than letters, digits and `_-.` become
/// `_`; a name synthfeed reserves (ts, seq, device_id, …) or an empty one gets a `value_`
/// prefix.
std::string profile_field_name(std::string_view column);

/// A group name from a file name: letters, digits and `_-.` kept, others `_`; "series" when
/// nothing is left.
std::string profile_group_name(std::string_view name);

/// A duration as synthfeed reads it, largest units first: "1d2h30m", "250ms", "0s".
std::string fit_duration(sim_duration d);

/// A peak (offset from the epoch within `period`) in the calendar form of its period: "14:30"
/// for a day, "Mon 09:00" for a week, "day 172 06:00" for a year (to the minute; the loader
/// counts a day of the year from 1 January 1970, which a 365.2425-day year keeps to);
/// otherwise a duration.
std::string fit_peak(sim_duration peak, sim_duration period);

/// An event rate readable at a glance: "3.2/day", or "0.41/week" below one a day.
std::string fit_rate(double per_day);

} // namespace synthfeed
