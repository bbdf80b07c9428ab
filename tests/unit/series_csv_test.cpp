// The CSV series reader: time columns in every supported form, gaps, cadence, and the errors.

#include <gtest/gtest.h>

#include "src/analysis/series_csv.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

TEST(SeriesCsv, ReadsNabStyleTimesAndValues) {
    const auto t = parse_series_csv("timestamp,value\n2015-02-26 21:42:53,104\n"
                                    "2015-02-26 21:47:53,100\n2015-02-26 21:52:53,99\n",
                                    "nab.csv");
    EXPECT_EQ(t.time_column, "timestamp");
    EXPECT_EQ(t.times[0], *parse_timestamp("2015-02-26T21:42:53Z"));
    EXPECT_EQ(t.cadence(), 5 * 60'000);
    const series s = numeric_series(t, "value");
    EXPECT_EQ(s.values, (std::vector<double>{104, 100, 99}));
    EXPECT_EQ(default_value_column(t, ""), "value");
}

TEST(SeriesCsv, DetectsAnUnnamedTimeColumnInAnyForm) {
    for (const std::string first : {"2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00",
                                    "2026-01-01T00:00:00", "1767225600", "1767225600000"}) {
        const auto t = parse_series_csv("x,when\n1.5," + first + "\n2.5,1767225660\n", "t.csv");
        EXPECT_EQ(t.time_column, "when") << first;
        EXPECT_EQ(t.times[0], 1'767'225'600'000) << first;
    }
}

TEST(SeriesCsv, TimeColumnCanBeNamed) {
    const auto t =
        parse_series_csv("a,b,v\n1767225600,1767225600,1\n1767225601,1767225605,2\n", "t.csv", "b");
    EXPECT_EQ(t.time_column, "b");
    EXPECT_EQ(t.cadence(), 5000);
    EXPECT_THROW(parse_series_csv("a,v\n1767225600,1\n1767225601,2\n", "t.csv", "bb"),
                 config_error);
}

TEST(SeriesCsv, GapsAndIrregularCadenceAreAllowed) {
    const auto t = parse_series_csv("ts,v\n1767225600,1\n1767225660,\n1767225720,3\n"
                                    "1767229200,4\n1767229260,5\n",
                                    "t.csv");
    EXPECT_EQ(t.cadence(), 60'000); // the median interval
    EXPECT_EQ(numeric_series(t, "v").values, (std::vector<double>{1, 3, 4, 5}));
}

TEST(SeriesCsv, KeepsTheFirstDeviceOfSynthfeedCsv) {
    const auto t = parse_series_csv("device_id,seq,ts,x\nd-0,0,2026-01-01T00:00:00.000Z,1\n"
                                    "d-1,0,2026-01-01T00:00:00.500Z,9\n"
                                    "d-0,1,2026-01-01T00:00:01.000Z,2\n",
                                    "run.csv");
    EXPECT_EQ(numeric_series(t, "x").values, (std::vector<double>{1, 2}));
    EXPECT_EQ(default_value_column(t, ""), "x"); // seq is synthfeed's envelope
}

TEST(SeriesCsv, TextColumnsAreNamedWhenAskedFor) {
    const auto t = parse_series_csv("ts,v,note\n1767225600,1,a\n1767225601,2,b\n", "t.csv");
    try {
        numeric_series(t, "note");
        FAIL() << "no error";
    } catch (const config_error& e) {
        EXPECT_STREQ(e.what(), "t.csv:2: note: \"a\" is not a number: column \"note\" must be "
                               "numeric");
    }
}

/// The message of the config_error parsing `text` raises ("" when none).
std::string error_of(const std::string& text) {
    try {
        numeric_series(parse_series_csv(text, "bad.csv"), "v");
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

TEST(SeriesCsv, MalformedFilesAreLocatedErrors) {
    EXPECT_EQ(error_of(""), "bad.csv:1: empty file: expected a header row and data rows");
    EXPECT_EQ(error_of("1767225600,1\n1767225601,2\n").substr(0, 25), "bad.csv:1: no header row:");
    EXPECT_EQ(error_of("a,v\nx,1\ny,2\n").substr(0, 25), "bad.csv:1: no time column");
    EXPECT_EQ(error_of("ts,v\n1767225600,1\n1767225601,abc\n").substr(0, 17), "bad.csv:3: v: \"ab");
    EXPECT_EQ(error_of("ts,v\n1767225601,1\n1767225600,2\n").substr(0, 23),
              "bad.csv:3: ts: unsorted");
    EXPECT_EQ(error_of("ts,v\n1767225600,1\n1767225600,2\n").substr(0, 24),
              "bad.csv:3: ts: duplicate");
    EXPECT_EQ(error_of("ts,v\n1767225600,1\n").substr(0, 24), "bad.csv:2: 1 data row(s)");
    EXPECT_EQ(error_of("ts,v\n1767225600,1\n1767225601\n").substr(0, 18), "bad.csv:3: 1 cells");
    EXPECT_EQ(error_of("ts,v\nnever,1\n1767225601,2\n").substr(0, 25),
              "bad.csv:2: ts: \"never\" is");
}

} // namespace
} // namespace synthfeed
