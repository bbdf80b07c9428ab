#pragma once
/// The synthetic side of `synthfeed compare`: a series generated in-process from a profile,
/// or read back from a file that `synthfeed run` wrote (JSON lines or CSV with a header).

#include <cstdint>
#include <string>

#include "src/analysis/series_csv.hpp"
#include "src/config/profile.hpp"

namespace synthfeed {

/// Where a field lives in a profile: its group and its index there.
struct profile_field {
    std::uint32_t group = 0;
    std::size_t field = 0;
    std::string name;
};

/// The field of `p` to compare: `requested` when given (config_error at --field, with "did
/// you mean", when no group has it), else the one named `real_column`, else the profile's
/// only field. Transaction groups, whose fields are derived, are not searched.
profile_field choose_profile_field(const profile& p, const std::string& requested,
                                   const std::string& real_column);

/// What device 0 of the field's group generates with the profile's seed replaced by `seed`
/// and its interval by `cadence` (ms), from `start` until `count` values are emitted or
/// `count` cadences have passed (dropouts leave fewer). Values are the model's, before the
/// encoder rounds them to the field's precision. Runs group_model directly, as one worker
/// of the engine would, so no sink or pacing is involved.
series generate_profile_series(profile p, const profile_field& where, std::uint64_t seed,
                               sim_time start, sim_duration cadence, std::size_t count);

/// The series of one field in a file `synthfeed run` wrote: JSON lines (`--format json`, a
/// line per message with "ts" and the field as members) or CSV with a header (read by
/// read_series_csv). Only the first device's messages are kept. `requested` names the field;
/// without it, the one named `real_column`, else the only numeric field other than seq.
/// Throws config_error at file:line for an unreadable file, a bad line, or no such field.
series read_synthetic_file(const std::string& path, const std::string& requested,
                           const std::string& real_column);

} // namespace synthfeed
