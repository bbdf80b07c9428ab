#pragma once
/// `synthfeed fit SERIES.csv --out PROFILE.toml [--column C]... [--time-column T]
/// [--labels FILE|COLUMN] [--train-fraction F] [--seed N] [--name NAME]`: a profile fitted to
/// a real series (src/analysis/fit_series.hpp for the model, fit_profile.hpp for the TOML).

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace synthfeed {

/// The flags as typed; checked by command_fit so that errors name the flag.
struct fit_flags {
    std::string series;
    std::string out;
    std::string time_column;
    std::vector<std::string> columns;
    std::string labels;
    double train_fraction = 1;
    std::uint64_t seed = 1;
    std::string name;
    std::vector<std::string> command_line; ///< quoted in the profile's header
};

/// Adds `fit` to `app`, writing its flags to `f`.
CLI::App* add_fit_command(CLI::App& app, fit_flags& f);

/// Fits every chosen column of f.series and writes the profile to f.out; prints a summary to
/// stderr. Throws config_error (exit 2) for bad flags or input, naming file:line and the
/// column or flag, and run_error (exit 1) when the profile cannot be written.
int command_fit(const fit_flags& f);

} // namespace synthfeed
