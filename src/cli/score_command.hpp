#pragma once
/// `synthfeed score --truth LABELS --episodes EPISODES --detections DETECTIONS
/// [--threshold X | --threshold 'f1>=0.8']... [--json PATH] [--include-class C]...
/// [--alpha A] [--cardinality one|reciprocal] [--bias flat|front|middle|back]`: a detector's
/// output graded against a run's ground truth (src/score). The table goes to stderr; exit 0,
/// 99 when a pass/fail threshold fails, 2 on bad input (file:line and the key).
/// With `--follow`, the three are Kafka topics read as they grow (src/cli/score_follow.hpp):
/// bad lines are counted and skipped, and the same table ends it.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "src/config/profile.hpp"

namespace CLI {
class App;
}

namespace synthfeed {

/// The flags as typed; checked by command_score so that errors name the flag.
struct score_flags {
    std::string truth, episodes, detections, json;
    std::vector<std::string> thresholds;
    std::vector<std::string> include_classes;
    std::string alpha = "0";
    std::string cardinality = "one";
    std::string bias = "flat";
    std::string profile;                 ///< names the group of devices without episodes
    std::vector<std::string> devices;    ///< --devices as the run was given
    bool follow = false;                 ///< --follow: the three are topics, read live
    std::string max_delay = "30s";       ///< --follow: how late a detection may come
    std::string idle = "10s";            ///< --follow: end when nothing arrived for this long
    std::string http;                    ///< --follow: HOST:PORT of /metrics, /livez, /readyz
    std::vector<std::string> properties; ///< --follow: -X librdkafka name=value
};

/// Reads a profile resized by --devices values, as `run` reads it.
using profile_reader =
    std::function<profile(const std::string& path, const std::vector<std::string>& devices)>;

/// Adds `score` to `app`, writing its flags to `f`.
CLI::App* add_score_command(CLI::App& app, score_flags& f);

/// Reads, scores and reports; with --profile, `read` reads it. Throws config_error (exit 2) on
/// bad flags or input. With --follow, `stop` (set by SIGTERM/SIGINT) ends the reading.
int command_score(const score_flags& f, const profile_reader& read, const std::atomic<bool>& stop);

} // namespace synthfeed
