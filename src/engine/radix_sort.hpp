#pragma once
/// LSD radix sort of 64-bit keys, 11 bits a pass, passes limited to the bits in use. The
/// engine sorts each window's messages by a packed (time, device, index) key with it: about
/// four times faster than std::sort on the entries themselves at 64k messages.

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

namespace synthfeed {

/// Sorts `keys` stably by bits [from_bit, bits), using `scratch` as the second buffer (LSD:
/// keys equal in those bits keep their order, so a caller may leave bits below `from_bit`
/// unsorted when the input is already in order there).
inline void radix_sort(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& scratch,
                       unsigned bits, unsigned from_bit = 0) {
    constexpr unsigned digit_bits = 11;
    constexpr std::size_t buckets = std::size_t{1} << digit_bits;
    scratch.resize(keys.size());
    std::array<std::uint32_t, buckets> count;
    for (unsigned shift = from_bit; shift < bits; shift += digit_bits) {
        count.fill(0);
        for (std::uint64_t k : keys) ++count[(k >> shift) & (buckets - 1)];
        if (count[(keys.empty() ? 0 : keys[0] >> shift) & (buckets - 1)] == keys.size())
            continue; // every key shares this digit: the pass would not move anything
        std::uint32_t sum = 0;
        for (auto& c : count) {
            const std::uint32_t n = c;
            c = sum;
            sum += n;
        }
        for (std::uint64_t k : keys) scratch[count[(k >> shift) & (buckets - 1)]++] = k;
        keys.swap(scratch);
    }
}

/// Bits needed to hold values below n (at least 1).
inline unsigned bits_for(std::uint64_t n) noexcept {
    return n <= 1 ? 1u : static_cast<unsigned>(std::bit_width(n - 1));
}

} // namespace synthfeed
