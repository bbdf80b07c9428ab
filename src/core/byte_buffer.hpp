#pragma once
/// A growable byte buffer for the hot path: callers reserve space, write through a raw
/// pointer and commit. It never shrinks, so a reused buffer stops allocating after warm-up.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace synthfeed {

class byte_buffer {
  public:
    /// Space for at least n more bytes; write there, then commit().
    char* reserve(std::size_t n) {
        if (size_ + n > capacity_) grow(size_ + n);
        return data_.get() + size_;
    }
    void commit(std::size_t n) noexcept { size_ += n; }
    void commit_to(const char* end) noexcept {
        size_ = static_cast<std::size_t>(end - data_.get());
    }

    void append(std::string_view s) {
        if (s.empty()) return; // memcpy from or to null is undefined even for 0 bytes
        std::memcpy(reserve(s.size()), s.data(), s.size());
        size_ += s.size();
    }
    void push_back(char c) {
        *reserve(1) = c;
        ++size_;
    }

    const char* data() const noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    void clear() noexcept { size_ = 0; }
    std::string_view view() const noexcept { return {data_.get(), size_}; }
    std::string_view view(std::size_t offset, std::size_t length) const noexcept {
        return {data_.get() + offset, length};
    }

  private:
    void grow(std::size_t needed) {
        std::size_t cap = capacity_ ? capacity_ * 2 : 4096;
        while (cap < needed) cap *= 2;
        auto bigger = std::make_unique_for_overwrite<char[]>(cap);
        if (size_) std::memcpy(bigger.get(), data_.get(), size_);
        data_ = std::move(bigger);
        capacity_ = cap;
    }

    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

namespace detail {
/// Copies n bytes, Width <= n <= 2 * Width, as two fixed-width moves that may overlap.
template <std::size_t Width>
inline void copy_ends(char* dst, const char* src, std::size_t n) noexcept {
    char head[Width], tail[Width];
    std::memcpy(head, src, Width);
    std::memcpy(tail, src + n - Width, Width);
    std::memcpy(dst, head, Width);
    std::memcpy(dst + n - Width, tail, Width);
}
} // namespace detail

/// Copies n bytes and returns the end of the copy: inline for the short keys and ids of a
/// message (overlapping word moves, as libc does inside memcpy, without the call).
inline char* copy_short(char* dst, const char* src, std::size_t n) noexcept {
    if (n > 32)
        std::memcpy(dst, src, n);
    else if (n >= 16)
        detail::copy_ends<16>(dst, src, n);
    else if (n >= 8)
        detail::copy_ends<8>(dst, src, n);
    else if (n >= 4)
        detail::copy_ends<4>(dst, src, n);
    else if (n >= 2)
        detail::copy_ends<2>(dst, src, n);
    else if (n == 1)
        *dst = *src;
    return dst + n;
}

/// Writes an unsigned integer; returns the end. Needs 20 bytes.
inline char* write_uint(char* p, std::uint64_t v) noexcept {
    return std::to_chars(p, p + 20, v).ptr;
}

namespace detail {
inline constexpr char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/// Writes the decimal digits of v so that the last one is just before `end`.
inline void write_digits_backwards(char* end, std::uint64_t v) noexcept {
    while (v >= 100) {
        end -= 2;
        std::memcpy(end, digit_pairs + (v % 100) * 2, 2);
        v /= 100;
    }
    if (v >= 10) {
        std::memcpy(end - 2, digit_pairs + v * 2, 2);
    } else {
        end[-1] = static_cast<char>('0' + v);
    }
}
} // namespace detail

/// Magnitudes from here on are written in exponent notation: in fixed notation with 9
/// decimals they would not fit the 32-byte slot (the same switch as JavaScript's
/// Number.prototype.toString, ECMA-262 §6.1.6.1.20).
inline constexpr double exponent_notation_from = 1e21;

/// Largest magnitude an integer field can be written as a signed 64-bit integer (InfluxDB's
/// `i` values); 2^63 itself does not fit.
inline bool fits_int64(double v) noexcept {
    return v > -9223372036854775808.0 && v < 9223372036854775808.0;
}

/// Writes v with exactly `precision` decimals (0..9, ties away from zero); returns the end.
/// Needs 32 bytes. |v| >= 1e21 is written in exponent notation, the shortest form that reads
/// back as the same double ("1e+30"). Non-finite values are written as "null" (JSON has no
/// NaN); formats without null test std::isfinite first.
inline char* write_fixed(char* p, double v, int precision) noexcept {
    static constexpr double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (!std::isfinite(v)) {
        std::memcpy(p, "null", 4);
        return p + 4;
    }
    if (std::abs(v) >= exponent_notation_from) return std::to_chars(p, p + 32, v).ptr;
    const double scaled = std::abs(v) * pow10[precision];
    // Beyond 1e14 units the scaling product may be off by one in the last digit: use the exact
    // path (at most 1 + 21 + 1 + 9 = 32 characters below 1e21).
    if (scaled >= 1e14) return std::to_chars(p, p + 32, v, std::chars_format::fixed, precision).ptr;
    auto units = static_cast<std::uint64_t>(scaled + 0.5);
    if (v < 0 && units != 0) *p++ = '-';
    // Integer and fractional parts split by constant divisors (multiplications), then each
    // written straight into the output right to left, two digits at a time: two short
    // independent chains instead of one long one, and no scratch copy to stall on.
    const auto decimals = static_cast<unsigned>(precision);
    std::uint64_t whole = units, fraction = 0;
    switch (decimals) {
    case 0:
        break;
    case 1:
        whole = units / 10;
        break;
    case 2:
        whole = units / 100;
        break;
    case 3:
        whole = units / 1000;
        break;
    default:
        whole = units / static_cast<std::uint64_t>(pow10[decimals]);
        break;
    }
    fraction = units - whole * static_cast<std::uint64_t>(pow10[decimals]);
    unsigned whole_digits = 1;
    for (std::uint64_t bound = 10; whole >= bound && whole_digits < 19; bound *= 10) ++whole_digits;
    char* q = p + whole_digits;
    char* const end = q + (decimals > 0 ? decimals + 1 : 0);
    detail::write_digits_backwards(q, whole);
    if (decimals > 0) {
        *q = '.';
        char* f = end;
        unsigned left = decimals;
        for (; left >= 2; left -= 2) {
            f -= 2;
            std::memcpy(f, detail::digit_pairs + (fraction % 100) * 2, 2);
            fraction /= 100;
        }
        if (left) *--f = static_cast<char>('0' + fraction);
    }
    return end;
}

} // namespace synthfeed
