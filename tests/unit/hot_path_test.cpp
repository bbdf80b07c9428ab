// The hand-written hot-path pieces agree with the standard library they replace.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "src/core/byte_buffer.hpp"
#include "src/core/rng.hpp"
#include "src/core/time.hpp"
#include "src/engine/radix_sort.hpp"

using namespace synthfeed;

namespace {
std::string fixed(double v, int precision) {
    char buf[40];
    return {buf, write_fixed(buf, v, precision)};
}
std::string reference(double v, int precision) {
    char buf[64];
    // Ties away from zero, as write_fixed documents.
    const double scale = std::pow(10.0, precision);
    if (std::abs(v) * scale >= 1e14) // beyond exact integers: plain to_chars, as write_fixed does
        return {buf,
                std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, precision).ptr};
    const double rounded = std::round(std::abs(v) * scale) / scale * (v < 0 ? -1 : 1);
    auto end =
        std::to_chars(buf, buf + sizeof buf, rounded, std::chars_format::fixed, precision).ptr;
    std::string s(buf, end);
    if (s.starts_with("-") && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
    return s;
}
} // namespace

TEST(HotPath, WriteFixedMatchesToChars) {
    EXPECT_EQ(fixed(4.25, 1), "4.3");
    EXPECT_EQ(fixed(-0.04, 1), "0.0");
    EXPECT_EQ(fixed(-12.5, 0), "-13");
    EXPECT_EQ(fixed(0.001, 3), "0.001");
    EXPECT_EQ(fixed(123456.789, 2), "123456.79");
    EXPECT_EQ(fixed(NAN, 2), "null");
    EXPECT_EQ(fixed(1e17, 2), "100000000000000000.00");
    const rng_stream s{3};
    for (std::uint64_t i = 0; i < 100'000; ++i) {
        const double v = (s.uniform(i) - 0.5) * std::pow(10.0, static_cast<int>(i % 12) - 3);
        const int precision = static_cast<int>(i % 10);
        ASSERT_EQ(fixed(v, precision), reference(v, precision)) << v << " p=" << precision;
    }
}

TEST(HotPath, CopyShortCopiesExactlyNBytes) {
    std::string source(80, '\0');
    for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<char>('!' + i);
    for (std::size_t n = 0; n <= 70; ++n) {
        std::string out(80, '.');
        char* end = copy_short(out.data() + 3, source.data() + 5, n);
        ASSERT_EQ(end, out.data() + 3 + n);
        ASSERT_EQ(out.substr(0, 3), "...") << n;
        ASSERT_EQ(out.substr(3, n), source.substr(5, n)) << n;
        ASSERT_EQ(out.substr(3 + n), std::string(77 - n, '.')) << n;
    }
}

TEST(HotPath, LogUnitIntervalWithinOneUlpOfLibm) {
    EXPECT_EQ(detail::log_unit_interval(1.0), 0.0);
    EXPECT_EQ(detail::log_unit_interval(0.0), -std::numeric_limits<double>::infinity());
    EXPECT_NEAR(detail::log_unit_interval(0x1.0p-1074), std::log(0x1.0p-1074), 1e-12);
    const rng_stream s{5};
    for (std::uint64_t i = 0; i < 200'000; ++i) {
        // Uniform over [0, 1) and over the exponents down to 2^-60.
        const double y = i % 2 ? 1 - s.uniform(i) : std::ldexp(1 - s.uniform(i), -(int)(i % 61));
        const double expected = std::log(y);
        const double got = detail::log_unit_interval(y);
        ASSERT_LE(std::abs(got - expected),
                  std::nextafter(std::abs(expected), INFINITY) - std::abs(expected))
            << y;
    }
}

TEST(HotPath, RoundEvenAndCosTurns) {
    EXPECT_EQ(round_even(2.5), 2.0);
    EXPECT_EQ(round_even(3.5), 4.0);
    EXPECT_EQ(round_even(-1.4), -1.0);
    EXPECT_EQ(round_even(1e300), 1e300);
    for (int i = -2000; i <= 2000; ++i) {
        const double turns = i / 997.0;
        ASSERT_NEAR(cos_turns(turns), std::cos(2 * M_PI * turns), 1e-12);
        ASSERT_NEAR(sin_turns(turns), std::sin(2 * M_PI * turns), 1e-12);
    }
}

TEST(HotPath, RadixSortMatchesStdSort) {
    const rng_stream s{11};
    for (unsigned bits : {5u, 11u, 23u, 40u, 64u}) {
        std::vector<std::uint64_t> keys, scratch;
        for (std::uint64_t i = 0; i < 50'000; ++i)
            keys.push_back(bits == 64 ? s.bits(i) : s.bits(i) >> (64 - bits));
        auto expected = keys;
        std::sort(expected.begin(), expected.end());
        radix_sort(keys, scratch, bits);
        ASSERT_EQ(keys, expected) << bits;
    }
    EXPECT_EQ(bits_for(1), 1u);
    EXPECT_EQ(bits_for(1024), 10u);
    EXPECT_EQ(bits_for(1025), 11u);
}

TEST(HotPath, TimestampFormatterAcrossDays) {
    timestamp_formatter f;
    char buf[timestamp_length];
    const sim_time base = *parse_timestamp("2024-02-28T23:59:59.999Z");
    for (sim_time t : {base, base + 1, base + ms_per_day, base + 2 * ms_per_day + 1}) {
        f.format(t, buf);
        EXPECT_EQ(std::string(buf, timestamp_length), format_timestamp(t));
    }
    f.format(base + 1, buf);
    EXPECT_EQ(std::string(buf, timestamp_length), "2024-02-29T00:00:00.000Z");
}
