#pragma once
/// `synthfeed score --follow`'s join: the label, episode and detection lines of a run and a
/// detector accumulated as they arrive, in any order across the three streams (a detection
/// may come before or after its label), and turned into the truth and detections of the
/// offline scorer on demand. Lines are parsed once, on arrival, by the offline parsers
/// (label_parser, parse_episode, detection_parser); a line they refuse is counted, its
/// message returned, and skipped: bad input never stops a live score.
///
/// The end's snapshot holds every line received, so its score equals the offline score of the
/// same lines written to files (truth_builder's order does not depend on the order of arrival).

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "src/score/score_detections.hpp"
#include "src/score/score_truth.hpp"

namespace synthfeed {

/// The three streams live scoring consumes.
enum class live_stream : std::uint8_t { labels, episodes, detections };
inline constexpr std::size_t live_stream_count = 3;

/// What one stream has brought.
struct live_stream_counts {
    std::uint64_t lines = 0; ///< messages received, the bad ones and a CSV header included
    std::uint64_t bad = 0;   ///< refused: unparsable, a key missing or ill-typed, a repeat
};

/// The truth and the detections joined to it, as of one moment.
struct live_snapshot {
    truth_set truth;
    detection_set detections;
    /// Labels left out: arrived after the moment's settling time (scored later).
    std::uint64_t unsettled_labels = 0;
    /// Labels left out: they name an episode not received (yet).
    std::uint64_t waiting_labels = 0;
};

/// Accumulates the three streams. Not thread-safe: one thread adds and takes snapshots.
class live_scorer {
  public:
    using clock = std::chrono::steady_clock;

    /// `sources` name the streams (by live_stream) in messages: "SOURCE:N: key: message", N
    /// counting the stream's messages from 1.
    explicit live_scorer(std::array<std::string, live_stream_count> sources);

    /// Adds one message of `s` that arrived at `now` (not before the previous one's). Returns
    /// the reason when the line was refused, else none.
    std::optional<std::string> add(live_stream s, std::string_view line, clock::time_point now);

    /// The truth from every episode and from the labels that arrived at or before `settled`
    /// (every label without it) and whose episodes have arrived; every detection joined to it
    /// (rows of labels left out count as unmatched or of unknown devices). O(lines received).
    live_snapshot snapshot(std::optional<clock::time_point> settled = std::nullopt) const;

    const live_stream_counts& counts(live_stream s) const noexcept {
        return counts_[static_cast<std::size_t>(s)];
    }

  private:
    struct arrived_label {
        label_line line;
        clock::time_point at;
        std::uint64_t number; ///< of the message in its stream
    };
    struct arrived_row {
        detection_row row;
        std::uint64_t number;
    };

    std::array<std::string, live_stream_count> sources_;
    std::array<live_stream_counts, live_stream_count> counts_{};
    label_parser labels_parser_;
    detection_parser rows_parser_;
    std::vector<truth_episode> episodes_;
    std::unordered_set<std::string> episode_ids_;
    std::vector<arrived_label> labels_; ///< in arrival order, so `at` never falls
    std::vector<arrived_row> rows_;
};

} // namespace synthfeed
