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

/// Writes v with exactly `precision` decimals (round half away from zero); returns the end.
/// Needs 32 bytes. Non-finite values are written as "null" (JSON has no NaN).
inline char* write_fixed(char* p, double v, int precision) noexcept {
    static constexpr double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    if (!std::isfinite(v)) {
        std::memcpy(p, "null", 4);
        return p + 4;
    }
    const double scaled = std::abs(v) * pow10[precision];
    if (scaled >= 9e15) return std::to_chars(p, p + 32, v, std::chars_format::fixed, precision).ptr;
    const auto units = static_cast<std::uint64_t>(scaled + 0.5);
    if (v < 0 && units != 0) *p++ = '-';
    const auto scale = static_cast<std::uint64_t>(pow10[precision]);
    p = write_uint(p, units / scale);
    if (precision > 0) {
        *p++ = '.';
        std::uint64_t frac = units % scale;
        for (int i = precision - 1; i >= 0; --i) {
            p[i] = static_cast<char>('0' + frac % 10);
            frac /= 10;
        }
        p += precision;
    }
    return p;
}

} // namespace synthfeed
