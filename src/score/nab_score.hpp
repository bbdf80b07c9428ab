#pragma once
/// The Numenta Anomaly Benchmark score: Lavin & Ahmad, "Evaluating Real-time Anomaly Detection
/// Algorithms - the Numenta Anomaly Benchmark", ICMLA 2015, as nab/sweeper.py computes it.
///
/// Each device is one NAB data file; its messages (in seq order) are NAB's rows. Around each
/// episode a window of rows; a detection at row i:
///   in a window [l, r] of width w = r - l + 1: TP reward A_tp * S(-(r - i + 1)/w) / S(-1),
///     only the best (earliest) one of a window counting;
///   after a window whose last row is r' and width w': A_fp * S(|r' - i| / max(w' - 1, 1))
///     (negative; NAB divides by w' - 1, which a one-row window makes 0);
///   before any window: A_fp * S(3) = -A_fp;
/// a window without detection costs -A_fn. S(y) = 2 / (1 + e^(5y)) - 1 for y < 3, else -1
/// (NAB's scaled sigmoid: S(-1) = 0.98661, S(0) = 0). True negatives score 0 (NAB's tn weight
/// is never read by its scorer). No probationary period: synthfeed's devices need no warm-up
/// (NAB skips the first 15 % of each file's rows).
/// Normalised: 100 * (raw - null) / (perfect - null), with null = -A_fn * windows (no
/// detection) and perfect = A_tp * windows (each window hit on its first row).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "src/score/range_metrics.hpp"

namespace synthfeed {

/// An application profile of NAB's config/profiles.json.
struct nab_profile {
    std::string_view name;
    double tp, fp, fn;
};
inline constexpr std::array<nab_profile, 3> nab_profiles{{
    {"standard", 1.0, 0.11, 1.0},
    {"reward_low_fp", 1.0, 0.22, 1.0},
    {"reward_low_fn", 1.0, 0.11, 2.0},
}};

/// NAB's scaled sigmoid S(y) (above).
double nab_scaled_sigmoid(double relative_position) noexcept;

/// An episode in row terms: its first row (the first message at or after its start) and how
/// many of its messages there are (0 for a dropout, which sends none).
struct episode_rows {
    std::size_t first = 0;
    std::size_t messages = 0;
};

/// NAB windows of a device with `rows` rows: each episode's window starts at its first row and
/// spans max(its messages, share) rows, share = max(1, floor(0.1 * rows / episodes)) (NAB's
/// window size: 10 % of the file's length over its number of windows), cut at the last row.
/// Windows start at the episode rather than centred on it, as NAB's labels are: the truth is
/// exact, so a detection before the onset is a false alarm. Overlapping windows are merged
/// (as NAB's labeller merges them); episodes past the last row have none. Sorted.
std::vector<index_range> nab_windows(std::span<const episode_rows> episodes, std::size_t rows);

/// Raw NAB sums; they add across devices before normalising.
struct nab_sums {
    double raw = 0, null = 0, perfect = 0;
    std::uint64_t windows = 0, detected_windows = 0;

    nab_sums& operator+=(const nab_sums& o) noexcept;
    /// 100 * (raw - null) / (perfect - null); none without windows.
    std::optional<double> normalised() const noexcept;
};

/// The NAB sums of one device: `predicted` per row, `windows` from nab_windows.
nab_sums nab_device(std::span<const index_range> windows, std::span<const std::uint8_t> predicted,
                    const nab_profile& p) noexcept;

/// A row for the NAB threshold sweep: its score (NaN: never predicted) and its reward if
/// predicted, with the window it falls in (global id) or none.
struct nab_point {
    double score;
    double reward;
    std::optional<std::uint32_t> window;
};

/// Appends the sweep points of one device (window ids from `first_window_id`).
void append_nab_points(std::span<const index_range> windows, std::span<const double> scores,
                       const nab_profile& p, std::uint32_t first_window_id,
                       std::vector<nab_point>& out);

/// NAB's own threshold optimisation (nab/optimizer.py, exhaustively here): the threshold, over
/// every distinct score, predicting score >= threshold, that maximises the raw score, and that
/// score normalised. `windows` counts every window. `points` is reordered.
struct nab_best {
    std::optional<double> threshold;
    nab_sums sums;
};
nab_best nab_sweep(std::vector<nab_point>& points, std::uint64_t windows, const nab_profile& p);

} // namespace synthfeed
