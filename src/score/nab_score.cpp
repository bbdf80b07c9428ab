#include "src/score/nab_score.hpp"

#include <algorithm>
#include <cmath>

namespace synthfeed {
namespace {

/// The reward of a detection at `row`, given the window it is in (if any) and the last window
/// that ended before it (if any).
double row_reward(std::size_t row, const index_range* in, const index_range* previous,
                  const nab_profile& p) noexcept {
    if (in != nullptr) {
        const double width = static_cast<double>(in->length());
        const double position = -static_cast<double>(in->last - row + 1) / width;
        return p.tp * nab_scaled_sigmoid(position) / nab_scaled_sigmoid(-1.0);
    }
    if (previous == nullptr) return p.fp * nab_scaled_sigmoid(3.0);
    const double span = std::max(static_cast<double>(previous->length()) - 1.0, 1.0);
    return p.fp * nab_scaled_sigmoid(static_cast<double>(row - previous->last) / span);
}

/// Walks the rows of a device with the window each is in and the last one before it.
template <class F>
void walk_rows(std::span<const index_range> windows, std::size_t rows, F f) {
    std::size_t w = 0;
    const index_range* previous = nullptr;
    for (std::size_t row = 0; row < rows; ++row) {
        while (w < windows.size() && windows[w].last < row) previous = &windows[w++];
        const bool inside = w < windows.size() && windows[w].first <= row;
        f(row, inside ? &windows[w] : nullptr, previous, inside ? w : windows.size());
    }
}

} // namespace

double nab_scaled_sigmoid(double relative_position) noexcept {
    if (relative_position >= 3.0) return -1.0;
    return 2.0 / (1.0 + std::exp(5.0 * relative_position)) - 1.0;
}

std::vector<index_range> nab_windows(std::span<const episode_rows> episodes, std::size_t rows) {
    std::vector<index_range> windows;
    if (episodes.empty() || rows == 0) return windows;
    const std::size_t share = std::max<std::size_t>(1, rows / (10 * episodes.size()));
    for (const episode_rows& e : episodes) {
        if (e.first >= rows) continue;
        const std::size_t length = std::max(e.messages, share);
        windows.push_back({e.first, std::min(e.first + length - 1, rows - 1)});
    }
    std::sort(windows.begin(), windows.end(),
              [](const index_range& a, const index_range& b) { return a.first < b.first; });
    std::vector<index_range> merged;
    for (const index_range& w : windows) {
        if (!merged.empty() && w.first <= merged.back().last)
            merged.back().last = std::max(merged.back().last, w.last);
        else
            merged.push_back(w);
    }
    return merged;
}

nab_sums& nab_sums::operator+=(const nab_sums& o) noexcept {
    raw += o.raw;
    null += o.null;
    perfect += o.perfect;
    windows += o.windows;
    detected_windows += o.detected_windows;
    return *this;
}

std::optional<double> nab_sums::normalised() const noexcept {
    if (windows == 0 || perfect == null) return std::nullopt;
    return 100.0 * (raw - null) / (perfect - null);
}

nab_sums nab_device(std::span<const index_range> windows, std::span<const std::uint8_t> predicted,
                    const nab_profile& p) noexcept {
    nab_sums s;
    s.windows = windows.size();
    s.null = -p.fn * static_cast<double>(windows.size());
    s.perfect = p.tp * static_cast<double>(windows.size());
    std::vector<double> best(windows.size(), -p.fn);
    std::vector<bool> hit(windows.size(), false);
    walk_rows(
        windows, predicted.size(),
        [&](std::size_t row, const index_range* in, const index_range* previous, std::size_t w) {
            if (!predicted[row]) return;
            const double reward = row_reward(row, in, previous, p);
            if (in != nullptr) {
                best[w] = std::max(best[w], reward);
                hit[w] = true;
            } else {
                s.raw += reward;
            }
        });
    for (std::size_t w = 0; w < windows.size(); ++w) {
        s.raw += best[w];
        s.detected_windows += hit[w];
    }
    return s;
}

void append_nab_points(std::span<const index_range> windows, std::span<const double> scores,
                       const nab_profile& p, std::uint32_t first_window_id,
                       std::vector<nab_point>& out) {
    walk_rows(
        windows, scores.size(),
        [&](std::size_t row, const index_range* in, const index_range* previous, std::size_t w) {
            if (std::isnan(scores[row])) return;
            std::optional<std::uint32_t> id;
            if (in != nullptr) id = first_window_id + static_cast<std::uint32_t>(w);
            out.push_back({scores[row], row_reward(row, in, previous, p), id});
        });
}

nab_best nab_sweep(std::vector<nab_point>& points, std::uint64_t windows, const nab_profile& p) {
    std::sort(points.begin(), points.end(),
              [](const nab_point& a, const nab_point& b) { return a.score > b.score; });
    nab_best best;
    nab_sums current;
    current.windows = windows;
    current.null = -p.fn * static_cast<double>(windows);
    current.perfect = p.tp * static_cast<double>(windows);
    current.raw = current.null;
    best.sums = current;
    std::vector<double> window_best(windows, -p.fn);
    for (auto it = points.begin(); it != points.end();) {
        const double threshold = it->score;
        for (; it != points.end() && it->score == threshold; ++it) {
            if (!it->window) {
                current.raw += it->reward;
                continue;
            }
            double& b = window_best[*it->window];
            if (b == -p.fn) ++current.detected_windows; // a TP reward is never below 0
            if (it->reward > b) {
                current.raw += it->reward - b;
                b = it->reward;
            }
        }
        if (current.raw > best.sums.raw) {
            best.threshold = threshold;
            best.sums = current;
        }
    }
    return best;
}

} // namespace synthfeed
