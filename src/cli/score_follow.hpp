#pragma once
/// `synthfeed score --follow`: the label, episode and alert topics read from their beginning
/// as they grow (connectors' stream_follower), joined as they arrive (src/score/live_score),
/// and scored about once a second: a progress line on stderr and, with --http, the
/// synthfeed_score_* gauges on /metrics. Live figures count a label once it is --max-delay
/// old, so that a detection still on its way is not yet a miss. Reading ends on SIGTERM or
/// SIGINT, or when, labels having come, no topic brought anything for --idle; the report then
/// scores every line received, as `score` does with the same lines in files.
///
/// Bad lines (unparsable, a key missing or ill-typed, a repeated episode) are counted, the
/// first five of each topic warned about, and skipped. Errors: config_error (exit 2) for bad
/// flags, URIs or -X properties; run_error (exit 1) when a broker never answers.

#include <atomic>
#include <functional>

#include "src/cli/score_command.hpp"
#include "src/score/score_report.hpp"

namespace synthfeed {

/// What following needs beyond the flags.
struct follow_context {
    score_options options;
    std::function<void(truth_set&)> name_groups; ///< --profile's groups, on every truth scored
    const std::atomic<bool>& stop;               ///< set on SIGTERM/SIGINT
};

/// Follows the topics of `f` until stopped or idle; returns the report of every line received.
score_report follow_score(const score_flags& f, const follow_context& c);

} // namespace synthfeed
