#include <gtest/gtest.h>

#include "src/core/time.hpp"

using namespace synthfeed;

TEST(Time, ParsesDurations) {
    EXPECT_EQ(parse_duration("250ms"), 250);
    EXPECT_EQ(parse_duration("1h30m"), 5'400'000);
    EXPECT_EQ(parse_duration("1.5s"), 1500);
    EXPECT_EQ(parse_duration("2d"), 2 * ms_per_day);
    EXPECT_FALSE(parse_duration("-1s"));
    EXPECT_FALSE(parse_duration("1"));
    EXPECT_FALSE(parse_duration("0.5ms"));
    EXPECT_FALSE(parse_duration("nans"));
}

TEST(Time, RoundTripsTimestamps) {
    const auto t = parse_timestamp("2026-03-01T12:34:56.789Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(format_timestamp(*t), "2026-03-01T12:34:56.789Z");
    EXPECT_EQ(parse_timestamp("2026-03-01T14:34:56.789+02:00"), t);
    EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), 0);
    EXPECT_FALSE(parse_timestamp("2026-13-01T00:00:00Z"));
}

TEST(Time, ParsesRates) {
    EXPECT_DOUBLE_EQ(*parse_rate("0.5/day"), 0.5 / ms_per_day);
    EXPECT_DOUBLE_EQ(*parse_rate("2/h"), 2.0 / 3'600'000);
    EXPECT_FALSE(parse_rate("2 per hour"));
}
