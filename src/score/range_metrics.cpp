#include "src/score/range_metrics.hpp"

#include <algorithm>
#include <array>

#include "src/score/point_metrics.hpp"

namespace synthfeed {
namespace {

constexpr std::array<std::string_view, 2> cardinality_names{"one", "reciprocal"};
constexpr std::array<std::string_view, 4> bias_names{"flat", "front", "middle", "back"};

/// The enumerator whose name (in enum order in `names`) is `text`.
template <class E, std::size_t N>
bool parse_name(const std::array<std::string_view, N>& names, std::string_view text,
                E& out) noexcept {
    for (std::size_t i = 0; i < N; ++i)
        if (names[i] == text) {
            out = static_cast<E>(i);
            return true;
        }
    return false;
}

/// delta(k, L) for position k in 1..L.
double delta(range_bias b, std::size_t k, std::size_t length) noexcept {
    switch (b) {
    case range_bias::flat:
        return 1.0;
    case range_bias::front:
        return static_cast<double>(length - k + 1);
    case range_bias::back:
        return static_cast<double>(k);
    case range_bias::middle:
        return 2 * k <= length ? static_cast<double>(k) : static_cast<double>(length - k + 1);
    }
    return 1.0;
}

/// omega(x, x ∩ [first, last]): the positional weight of the overlap over x's whole weight.
double omega(const index_range& x, std::size_t first, std::size_t last, range_bias b) noexcept {
    const std::size_t length = x.length();
    if (b == range_bias::flat)
        return static_cast<double>(last - first + 1) / static_cast<double>(length);
    double mine = 0, total = 0;
    for (std::size_t k = 1; k <= length; ++k) {
        const double w = delta(b, k, length);
        total += w;
        const std::size_t index = x.first + k - 1;
        if (index >= first && index <= last) mine += w;
    }
    return total > 0 ? mine / total : 0.0;
}

/// The overlap reward of `x` against the sorted, disjoint `ys`, and whether any overlaps.
std::pair<double, bool> overlap_reward(const index_range& x, std::span<const index_range> ys,
                                       const range_options& o) noexcept {
    auto it = std::lower_bound(ys.begin(), ys.end(), x.first,
                               [](const index_range& y, std::size_t v) { return y.last < v; });
    double sum = 0;
    std::size_t count = 0;
    for (; it != ys.end() && it->first <= x.last; ++it) {
        ++count;
        sum += omega(x, std::max(x.first, it->first), std::min(x.last, it->last), o.bias);
    }
    const double gamma = o.cardinality == range_cardinality::reciprocal && count > 1
                             ? 1.0 / static_cast<double>(count)
                             : 1.0;
    return {gamma * sum, count > 0};
}

} // namespace

bool parse_cardinality(std::string_view text, range_cardinality& out) noexcept {
    return parse_name(cardinality_names, text, out);
}
bool parse_bias(std::string_view text, range_bias& out) noexcept {
    return parse_name(bias_names, text, out);
}
std::string_view to_string(range_cardinality c) noexcept {
    return cardinality_names[static_cast<std::size_t>(c)];
}
std::string_view to_string(range_bias b) noexcept {
    return bias_names[static_cast<std::size_t>(b)];
}

void append_ranges(std::span<const std::uint8_t> bits, std::vector<index_range>& out,
                   std::size_t offset) {
    for (std::size_t i = 0; i < bits.size();) {
        if (!bits[i]) {
            ++i;
            continue;
        }
        const std::size_t first = i;
        while (i < bits.size() && bits[i]) ++i;
        out.push_back({first + offset, i - 1 + offset});
    }
}

range_sums& range_sums::operator+=(const range_sums& o) noexcept {
    recall_sum += o.recall_sum;
    precision_sum += o.precision_sum;
    real_ranges += o.real_ranges;
    predicted_ranges += o.predicted_ranges;
    return *this;
}
double range_sums::recall() const noexcept {
    return real_ranges ? recall_sum / static_cast<double>(real_ranges) : 0.0;
}
double range_sums::precision() const noexcept {
    return predicted_ranges ? precision_sum / static_cast<double>(predicted_ranges) : 0.0;
}
double range_sums::f1() const noexcept {
    return f1_of(precision(), recall());
}

double range_recall_sum(std::span<const index_range> real, std::span<const index_range> predicted,
                        const range_options& o) {
    double sum = 0;
    for (const index_range& r : real) {
        const auto [reward, exists] = overlap_reward(r, predicted, o);
        sum += o.alpha * (exists ? 1.0 : 0.0) + (1 - o.alpha) * reward;
    }
    return sum;
}

range_sums range_rewards(std::span<const index_range> real, std::span<const index_range> predicted,
                         const range_options& o) {
    range_sums s;
    s.real_ranges = real.size();
    s.predicted_ranges = predicted.size();
    s.recall_sum = range_recall_sum(real, predicted, o);
    for (const index_range& p : predicted) s.precision_sum += overlap_reward(p, real, o).first;
    return s;
}

} // namespace synthfeed
