#pragma once
/// Range-based precision and recall for time series: Tatbul, Lee, Zdonik, Alam, Gottschlich,
/// "Precision and Recall for Time Series", NeurIPS 2018 (equations 1-9), checked against the
/// `prts` package (tests/integration/test_score.py).
///
/// For real ranges R_1..R_Nr and predicted ranges P_1..P_Np (inclusive index ranges):
///   Recall_T    = (1/Nr) sum_i [ alpha * Existence(R_i) + (1 - alpha) * Overlap(R_i, P) ]
///   Precision_T = (1/Np) sum_j Overlap(P_j, R)          (the paper's alpha = 0 for precision)
///   Existence(R_i)  = 1 if R_i overlaps some P_j, else 0
///   Overlap(X, Ys)  = Cardinality(X, Ys) * sum_{Y overlapping X} omega(X, X ∩ Y)
///   Cardinality     = 1 when X overlaps at most one Y, else gamma: 1 (`one`) or
///                     1/(number of Ys X overlaps) (`reciprocal`)
///   omega(X, O)     = sum_{k in O} delta(k, |X|) / sum_{k=1..|X|} delta(k, |X|), positions
///                     k = 1..|X| within X
///   delta(k, L)     = flat: 1; front: L - k + 1; back: k; middle: k if k <= L/2, else
///                     L - k + 1
/// Recall is 0 without real ranges and precision 0 without predicted ones (as prts).

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace synthfeed {

/// A run of consecutive indices [first, last].
struct index_range {
    std::size_t first = 0, last = 0;
    std::size_t length() const noexcept { return last - first + 1; }
};

enum class range_cardinality { one, reciprocal };
enum class range_bias { flat, front, middle, back };

struct range_options {
    double alpha = 0; ///< existence reward weight in recall, 0..1
    range_cardinality cardinality = range_cardinality::one;
    range_bias bias = range_bias::flat;
};

/// Parses "one"/"reciprocal" and "flat"/"front"/"middle"/"back"; false when unknown.
bool parse_cardinality(std::string_view text, range_cardinality& out) noexcept;
bool parse_bias(std::string_view text, range_bias& out) noexcept;
std::string_view to_string(range_cardinality c) noexcept;
std::string_view to_string(range_bias b) noexcept;

/// The maximal runs of true in `bits`, appended to `out` with `offset` added.
void append_ranges(std::span<const std::uint8_t> bits, std::vector<index_range>& out,
                   std::size_t offset = 0);

/// Sums of per-range rewards, so that devices (scored apart) add up before dividing.
struct range_sums {
    double recall_sum = 0, precision_sum = 0;
    std::uint64_t real_ranges = 0, predicted_ranges = 0;

    range_sums& operator+=(const range_sums& o) noexcept;
    double recall() const noexcept;
    double precision() const noexcept;
    double f1() const noexcept;
};

/// The reward sums of `real` against `predicted` (both sorted and disjoint, as append_ranges
/// makes them). O(Nr + Np + total length).
range_sums range_rewards(std::span<const index_range> real, std::span<const index_range> predicted,
                         const range_options& o);

/// Recall_T's sum alone, for the real ranges of one kind against every predicted range.
double range_recall_sum(std::span<const index_range> real, std::span<const index_range> predicted,
                        const range_options& o);

} // namespace synthfeed
