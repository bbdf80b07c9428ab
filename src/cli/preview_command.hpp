#pragma once
/// `synthfeed preview PROFILE [--device ID | --group G] [--duration 3d] [--start TIME]
/// --out FILE`: one device's fields and episodes drawn as HTML, SVG or PNG (src/analysis).

#include <string>

#include "src/config/profile.hpp"

namespace CLI {
class App;
}

namespace synthfeed {

/// The flags as typed; checked by command_preview so that errors name the flag.
struct preview_flags {
    std::string profile;
    std::string device;
    std::string group;
    std::string duration = "3d";
    std::string start; ///< resolved as run's --start (by the caller)
    std::string out;
};

/// Adds `preview` to `app`, writing its flags to `f`.
CLI::App* add_preview_command(CLI::App& app, preview_flags& f);

/// Draws the device `f` selects of `p` over `duration` from `start` into f.out, and prints
/// the path written. Throws config_error (exit 2) naming --out, --device, --group or
/// --duration, and run_error (exit 1) when the file cannot be written.
int command_preview(const preview_flags& f, const profile& p, sim_time start,
                    sim_duration duration);

} // namespace synthfeed
