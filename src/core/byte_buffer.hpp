#pragma once
/// A growable byte buffer for the hot path: callers reserve space, write through a raw
/// pointer and commit. It never shrinks, so a reused buffer stops allocating after warm-up.

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

/// Writes an unsigned integer; returns the end. Needs 20 bytes.
inline char* write_uint(char* p, std::uint64_t v) noexcept {
    return std::to_chars(p, p + 20, v).ptr;
}

namespace detail {
inline constexpr char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
}

/// Writes v with exactly `precision` decimals (0..9, ties away from zero); returns the end.
/// Needs 32 bytes. Non-finite values are written as "null" (JSON has no NaN).
inline char* write_fixed(char* p, double v, int precision) noexcept {
    static constexpr double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (!std::isfinite(v)) {
        std::memcpy(p, "null", 4);
        return p + 4;
    }
    const double scaled = std::abs(v) * pow10[precision];
    // Beyond 1e14 units the scaling product may be off by one in the last digit: use the exact
    // path.
    if (scaled >= 1e14) return std::to_chars(p, p + 32, v, std::chars_format::fixed, precision).ptr;
    auto units = static_cast<std::uint64_t>(scaled + 0.5);
    if (v < 0 && units != 0) *p++ = '-';
    // Digits right to left, two at a time, into a scratch area; at least precision + 1 digits.
    char digits[24];
    char* d = digits + sizeof digits;
    while (units >= 100) {
        d -= 2;
        std::memcpy(d, detail::digit_pairs + (units % 100) * 2, 2);
        units /= 100;
    }
    if (units >= 10) {
        d -= 2;
        std::memcpy(d, detail::digit_pairs + units * 2, 2);
    } else {
        *--d = static_cast<char>('0' + units);
    }
    const auto min_digits = static_cast<std::ptrdiff_t>(precision) + 1;
    while (digits + sizeof digits - d < min_digits) *--d = '0';
    const std::size_t integer_digits =
        static_cast<std::size_t>(digits + sizeof digits - d) - static_cast<std::size_t>(precision);
    std::memcpy(p, d, integer_digits);
    p += integer_digits;
    if (precision > 0) {
        *p++ = '.';
        std::memcpy(p, d + integer_digits, static_cast<std::size_t>(precision));
        p += precision;
    }
    return p;
}

} // namespace synthfeed
