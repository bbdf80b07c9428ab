// `synthfeed preview`'s pieces: the min/max columns, the axes, the episode bands and the SVG.
#include <gtest/gtest.h>

#include <regex>

#include "src/analysis/preview.hpp"
#include "src/core/errors.hpp"
#include "src/core/text_escape.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;

namespace {

/// Two fields, in a profile whose name XML must escape; a level shift of x from 1h to 2h, a dropout
/// from 3h to 4h (windows, so the test knows where they are) and spikes of y by rate.
const std::string two_fields =
    "name = \"p <&>\"\nseed = 7\n[[group]]\nname = \"g\"\ncount = 3\nid = \"d-{index}\"\n"
    "interval = \"1s\"\n"
    "[[group.field]]\nname = \"x\"\nsignal = { kind = \"constant\", value = 10.0 }\n"
    "[[group.field]]\nname = \"y\"\nsignal = { kind = \"sine\", mean = 0.0, amplitude = "
    "1.0, period = \"1h\" }\n"
    "[[group.anomaly]]\nkind = \"level_shift\"\nfield = \"x\"\nmagnitude = 5.0\n"
    "windows = [ { start = \"1h\", end = \"2h\" } ]\n"
    "[[group.anomaly]]\nkind = \"dropout\"\nwindows = [ { start = \"3h\", end = \"4h\" } ]\n"
    "[[group.anomaly]]\nkind = \"spike\"\nfield = \"y\"\nrate = \"4/day\"\nmagnitude = 3.0\n";

preview_chart chart_of(const profile& p, sim_duration span, std::string_view device = "") {
    const device_directory ids(p);
    preview_request r = select_device(p, ids, device, "");
    r.start = test_start;
    r.duration = span;
    return make_preview(p, ids, r);
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

} // namespace

TEST(Preview, ColumnsCoverTheAxisAndClampOutside) {
    const time_columns axis{1000, 2000, 10};
    EXPECT_EQ(axis.column_of(1000), 0u);
    EXPECT_EQ(axis.column_of(1099), 0u);
    EXPECT_EQ(axis.column_of(1100), 1u);
    EXPECT_EQ(axis.column_of(1999), 9u);
    EXPECT_EQ(axis.column_of(5000), 9u);
    EXPECT_EQ(axis.column_of(0), 0u);
    EXPECT_DOUBLE_EQ(axis.position_of(1500), 5.0);
}

TEST(Preview, DrawsTheChosenDeviceWithOnePanelPerFieldAndItsEpisodes) {
    const profile p = profile_from(two_fields);
    const preview_chart c = chart_of(p, 6 * ms_per_hour, "d-1");
    ASSERT_EQ(c.fields.size(), 2u);
    EXPECT_EQ(c.fields[0].name, "x");
    EXPECT_EQ(c.fields[0].columns.size(), chart_plot_width);
    const value_range x = range_of(c.fields[0].columns);
    EXPECT_DOUBLE_EQ(x.lo, 10.0);
    EXPECT_DOUBLE_EQ(x.hi, 15.0); // the level shift
    // The dropout's hour (3h to 4h of 6h) leaves its columns silent and empty.
    const value_column& silent = c.fields[0].columns[chart_plot_width * 7 / 12];
    EXPECT_TRUE(silent.silenced);
    EXPECT_FALSE(silent.has_values());
    bool shift = false, dropout = false;
    for (const chart_episode& e : c.episodes) {
        EXPECT_TRUE(e.id.starts_with("d-1:")) << e.id;
        if (e.kind == anomaly_kind::level_shift) {
            shift = true;
            EXPECT_EQ(e.id, "d-1:0:0");
            EXPECT_EQ(e.field, 0);
            EXPECT_EQ(e.start, test_start + ms_per_hour);
        }
        if (e.kind == anomaly_kind::dropout) {
            dropout = true;
            EXPECT_EQ(e.field, -1); // shades every panel
        }
    }
    EXPECT_TRUE(shift);
    EXPECT_TRUE(dropout);
    EXPECT_NE(c.title.find("d-1"), std::string::npos);
}

TEST(Preview, AMonthAtOneSecondStaysSmallAndKeepsItsExtremes) {
    const profile p = profile_from(two_fields);
    const preview_chart c = chart_of(p, 30 * ms_per_day);
    const value_range y = range_of(c.fields[1].columns);
    EXPECT_GT(y.hi, 3.5); // a spike of 3 on the sine's ±1 survives the reduction
    const std::string svg = preview_svg(c);
    EXPECT_LT(svg.size(), 400'000u) << "2.6 million ticks should draw as ~2 points a pixel";
    EXPECT_EQ(count(svg, "class=\"panel\""), 2u);
}

TEST(Preview, SvgHasPanelsBandsWithIdsAndEscapedNames) {
    const profile p = profile_from(two_fields);
    const preview_chart c = chart_of(p, 6 * ms_per_hour);
    const std::string svg = preview_svg(c);
    EXPECT_TRUE(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "));
    EXPECT_EQ(count(svg, "<g class=\"panel\""), 2u);
    EXPECT_NE(svg.find("<title>p &lt;&amp;&gt;: d-0</title>"), std::string::npos);
    EXPECT_EQ(svg.find("p <&>"), std::string::npos) << "a raw name would break the XML";
    // The level shift shades x's panel only; the dropout shades both.
    EXPECT_EQ(count(svg, "data-kind=\"level_shift\" data-episodes=\"d-0:0:0\" data-count=\"1\""),
              1u);
    EXPECT_EQ(count(svg, "data-kind=\"dropout\" data-episodes=\"d-0:1:0\" data-count=\"1\""), 2u);
    EXPECT_NE(svg.find("<title>level_shift (value): 2026-01-01T01:00:00Z to "
                       "2026-01-01T02:00:00Z\nd-0:0:0</title>"),
              std::string::npos);
    EXPECT_NE(svg.find("class=\"legend-kind\" data-kind=\"dropout\""), std::string::npos);
    EXPECT_NE(svg.find(">2026-01-01T02:00:00Z</text>"), std::string::npos); // a time label
    for (const char* external : {"href", "src=", "url(", "<script"})
        EXPECT_EQ(svg.find(external), std::string::npos) << external;
    const std::string html = preview_html(c);
    EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
    EXPECT_NE(html.find(svg.substr(svg.find("<svg "))), std::string::npos);
}

TEST(Preview, SameChartSameBytes) {
    const profile p = profile_from(two_fields);
    EXPECT_EQ(preview_svg(chart_of(p, ms_per_day)), preview_svg(chart_of(p, ms_per_day)));
}

TEST(Preview, EpisodesOfAKindThatTouchOnThePixelGridShareABand) {
    preview_chart c;
    c.axis = {0, 1000, 100}; // 10 ms a column
    c.fields.resize(2);
    c.episodes = {{0, 1, anomaly_kind::spike, 0, "a"},
                  {15, 16, anomaly_kind::spike, 0, "b"},       // 1.5 columns on: merged
                  {500, 600, anomaly_kind::spike, 0, "c"},     // far: a band of its own
                  {510, 520, anomaly_kind::stuck_at, 0, "d"},  // another kind: its own
                  {700, 5000, anomaly_kind::dropout, -1, "e"}, // every panel, clamped
                  {10, 20, anomaly_kind::spike, 1, "f"}};      // the other panel
    const auto bands = episode_bands(c, 0);
    ASSERT_EQ(bands.size(), 4u);
    EXPECT_EQ(bands[0].members.size(), 2u);
    EXPECT_EQ(bands[0].members[1]->id, "b");
    EXPECT_DOUBLE_EQ(bands[0].x0, 0);
    EXPECT_EQ(bands[1].members[0]->id, "c");
    EXPECT_EQ(bands[2].kind, anomaly_kind::stuck_at);
    EXPECT_EQ(bands[3].kind, anomaly_kind::dropout);
    EXPECT_DOUBLE_EQ(bands[3].x1, 100);
    EXPECT_EQ(episode_bands(c, 1).size(), 2u); // f and the dropout
}

TEST(Preview, TimeTicksAreRoundUtcSteps) {
    const sim_time day = test_start;
    EXPECT_EQ(
        time_ticks(day, day + 3 * ms_per_day, 6),
        (std::vector<sim_time>{day, day + ms_per_day, day + 2 * ms_per_day, day + 3 * ms_per_day}));
    const auto hours = time_ticks(day + 1, day + 6 * ms_per_hour, 6);
    ASSERT_FALSE(hours.empty());
    EXPECT_EQ(hours.front(), day + ms_per_hour);
    for (const sim_time t : time_ticks(day, day + 30 * ms_per_day, 6)) {
        EXPECT_EQ(t % ms_per_day, 0);
    }
    EXPECT_LE(time_ticks(day, day + 30 * ms_per_day, 6).size(), 6u);
    EXPECT_EQ(time_ticks(day + 10, day + 20, 6).size(), 1u);
    EXPECT_EQ(axis_time(day + 6 * ms_per_hour), "2026-01-01T06:00:00Z");
    EXPECT_EQ(axis_time(day + 250), "2026-01-01T00:00:00.250Z");
}

TEST(Preview, ValueAxisIsRound) {
    const value_axis a = value_axis_for(2.3, 7.9);
    EXPECT_DOUBLE_EQ(a.lo, 2);
    EXPECT_DOUBLE_EQ(a.hi, 8);
    EXPECT_EQ(a.ticks, (std::vector<double>{2, 4, 6, 8}));
    EXPECT_EQ(a.decimals, 0);
    const value_axis flat = value_axis_for(10, 10);
    EXPECT_LT(flat.lo, 10);
    EXPECT_GT(flat.hi, 10);
    EXPECT_EQ(value_axis_for(0.01, 0.05).decimals, 2);
    const value_axis none = value_axis_for(1, 0); // no data
    EXPECT_DOUBLE_EQ(none.lo, 0);
    EXPECT_DOUBLE_EQ(none.hi, 1);
}

TEST(Preview, FormatsFromTheExtension) {
    EXPECT_EQ(preview_format_of("a/preview.html"), preview_format::html);
    EXPECT_EQ(preview_format_of("x.SVG"), preview_format::svg);
    EXPECT_EQ(preview_format_of("x.png"), preview_format::png);
    EXPECT_EQ(preview_format_of("x.pdf"), std::nullopt);
    EXPECT_EQ(preview_format_of("html"), std::nullopt);
}

TEST(Preview, UnknownDeviceOrGroupNamesTheFlagAndTheClosest) {
    const profile p = profile_from(two_fields);
    const device_directory ids(p);
    try {
        select_device(p, ids, "d-7", "");
        FAIL() << "no error";
    } catch (const config_error& e) {
        EXPECT_EQ(e.where().origin, "--device");
        EXPECT_NE(std::string(e.what()).find("did you mean \"d-0\"?"), std::string::npos)
            << e.what();
    }
    try {
        select_device(p, ids, "", "gg");
        FAIL() << "no error";
    } catch (const config_error& e) {
        EXPECT_EQ(e.where().origin, "--group");
        EXPECT_NE(std::string(e.what()).find("did you mean \"g\"?"), std::string::npos);
    }
    EXPECT_EQ(select_device(p, ids, "d-2", "").local, 2u);
}

TEST(Preview, XmlTextEscapesItsFiveCharacters) {
    EXPECT_EQ(escaped("a<b>&\"c'", text_context::xml_text), "a&lt;b&gt;&amp;&quot;c&#39;");
    EXPECT_EQ(escaped("plain", text_context::xml_text), "plain");
}
