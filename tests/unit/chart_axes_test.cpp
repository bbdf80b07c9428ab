// The axes shared by `synthfeed preview` and the `synthfeed compare` plots (chart_axes.hpp), and
// svg_plot drawing them: round ticks around the data, a valid plot for constant or no data.
// (preview_test.cpp checks value_axis_for and time_ticks on the preview's own cases.)
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "src/analysis/chart_axes.hpp"
#include "src/analysis/svg_plot.hpp"

using namespace synthfeed;

namespace {

/// The numbers of `svg`'s <text class="`cls`"> labels, in order (log_y's "1e" prefix dropped),
/// and the y (or x) attribute each is drawn at.
struct labels {
    std::vector<double> values, at;
};
labels tick_labels(const std::string& svg, const std::string& cls, const char* coordinate) {
    labels l;
    const std::regex text("<text class=\"" + cls + "\"([^>]*)>(?:1e)?([^<]*)</text>");
    const std::regex attr(std::string(" ") + coordinate + "=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), text); it != std::sregex_iterator();
         ++it) {
        const std::string attributes = (*it)[1], label = (*it)[2];
        std::smatch m;
        if (!std::regex_search(attributes, m, attr)) {
            ADD_FAILURE() << "no " << coordinate << " in " << attributes;
            continue;
        }
        l.at.push_back(std::stod(m[1]));
        l.values.push_back(std::stod(label));
    }
    return l;
}

/// The step of `ticks`: at least two, ascending, 1, 2 or 5 × 10^k apart, each a multiple of it.
double expect_round(const std::vector<double>& ticks) {
    EXPECT_GE(ticks.size(), 2u);
    if (ticks.size() < 2 || !(ticks[1] > ticks[0])) return 0;
    // The difference of two ticks is the step but for rounding: snap it to 1, 2 or 5 × 10^k.
    const double measured = ticks[1] - ticks[0];
    const double unit = std::pow(10, std::floor(std::log10(measured) + 1e-6));
    const double step = std::round(measured / unit) * unit;
    EXPECT_NEAR(measured, step, step * 1e-6);
    EXPECT_TRUE(step == unit || step == 2 * unit || step == 5 * unit) << step;
    for (std::size_t i = 0; i < ticks.size(); ++i) {
        EXPECT_NEAR(ticks[i] / step, std::round(ticks[i] / step), 1e-6) << ticks[i];
        EXPECT_NEAR(ticks[i], ticks[0] + static_cast<double>(i) * step, step * 1e-6) << ticks[i];
    }
    return step;
}

plot_spec spec_of(std::vector<double> x, std::vector<double> y, bool log_y = false) {
    return {"t", "x", "y", log_y, {{"s", "#000", std::move(x), std::move(y)}}};
}

constexpr int width = 640, height = 320; // svg_plot's default size
constexpr double plot_left = 64, plot_right = width - 16, plot_top = 28, plot_bottom = height - 44;

} // namespace

TEST(ChartAxes, ValueAxisBracketsTheDataInRoundSteps) {
    for (int k = -6; k <= 6; ++k)
        for (const double lo : {-4.2, 0.0, 0.013, 1.7, 96.0})
            for (const double span : {0.001, 0.37, 1.0, 2.9, 8.0}) {
                const double a = lo * std::pow(10, k), b = a + span * std::pow(10, k);
                const value_axis axis = value_axis_for(a, b);
                SCOPED_TRACE(fmt::format("[{}, {}]", a, b));
                const double step = expect_round(axis.ticks);
                // Out to the step's multiples but for a last bit lost dividing by the step.
                EXPECT_LE(axis.lo, a + step * 1e-9);
                EXPECT_GE(axis.hi, b - step * 1e-9);
                EXPECT_DOUBLE_EQ(axis.ticks.front(), axis.lo);
                EXPECT_DOUBLE_EQ(axis.ticks.back(), axis.hi);
                EXPECT_GE(axis.ticks.size(), 3u);
                EXPECT_LE(axis.ticks.size(), 6u);
                // The decimals print every tick to within a millionth of the step.
                for (const double t : axis.ticks) {
                    EXPECT_NEAR(std::stod(fmt::format("{:.{}f}", t, axis.decimals)), t,
                                step * 1e-6);
                }
            }
    // A NaN bound, or one so large that rounding out would overflow: no axis of its own.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (const auto& [lo, hi] :
         {std::pair{nan, 1.0}, std::pair{-1e308, 1.0}, std::pair{0.0, 1e308}}) {
        const value_axis axis = value_axis_for(lo, hi);
        EXPECT_DOUBLE_EQ(axis.lo, 0);
        EXPECT_DOUBLE_EQ(axis.hi, 1);
    }
}

TEST(ChartAxes, PlotTicksAreRoundNumbersInsideThePlot) {
    std::vector<double> x, y;
    for (int i = 0; i <= 100; ++i) {
        x.push_back(3 + 0.145 * i);                 // 3 .. 17.5
        y.push_back(0.013 + 0.974 * (i % 7) / 6.0); // 0.013 .. 0.987
    }
    x.push_back(std::numeric_limits<double>::quiet_NaN()); // skipped
    y.push_back(1e9);
    const std::string svg = svg_plot(spec_of(x, y));
    const labels xs = tick_labels(svg, "x-tick", "x"), ys = tick_labels(svg, "y-tick", "y");
    expect_round(xs.values);
    expect_round(ys.values);
    ASSERT_FALSE(ys.values.empty());
    EXPECT_LE(ys.values.front(), 0.013);
    EXPECT_GE(ys.values.back(), 0.987);
    EXPECT_LT(ys.values.back(), 1.5); // the NaN x's 1e9 is not plotted
    ASSERT_FALSE(xs.values.empty());
    EXPECT_LE(xs.values.front(), 3);
    EXPECT_GE(xs.values.back(), 17.5);
    EXPECT_NE(svg.find(">0.5</text>"), std::string::npos) << svg; // the axis's decimals
    for (const double at : xs.at) {
        EXPECT_GE(at, plot_left - 0.1);
        EXPECT_LE(at, plot_right + 0.1);
    }
    for (const double at : ys.at) { // the label's baseline sits 4 px below its tick
        EXPECT_GE(at - 4, plot_top - 0.1);
        EXPECT_LE(at - 4, plot_bottom + 0.1);
    }
    // The first and last ticks are the plot's edges.
    EXPECT_NEAR(xs.at.front(), plot_left, 0.1);
    EXPECT_NEAR(xs.at.back(), plot_right, 0.1);
    EXPECT_NEAR(ys.at.front() - 4, plot_bottom, 0.1);
    EXPECT_NEAR(ys.at.back() - 4, plot_top, 0.1);
}

TEST(ChartAxes, LogPlotLabelsPowersOfTen) {
    const std::string svg = svg_plot(spec_of({1, 2, 3, 4}, {1e-6, 1e-3, 0, 0.1}, true));
    const labels ys = tick_labels(svg, "y-tick", "y");
    expect_round(ys.values);
    for (const double e : ys.values) {
        EXPECT_EQ(e, std::round(e)) << svg; // whole exponents for a span of decades
    }
    EXPECT_NE(svg.find(">1e-6</text>"), std::string::npos) << svg;
}

TEST(ChartAxes, ConstantAndEmptySeriesPlotFinitely) {
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<plot_spec> specs = {
        spec_of({0, 1, 2, 3}, {5, 5, 5, 5}),
        spec_of({2, 2}, {-0.25, -0.25}),
        spec_of({}, {}),
        spec_of({1, 2}, {inf, std::numeric_limits<double>::quiet_NaN()}),
        spec_of({1, 2}, {0, -1}, true), // nothing positive to take the log of
        {"no series", "x", "y", false, {}},
    };
    for (const plot_spec& spec : specs) {
        const std::string svg = svg_plot(spec);
        SCOPED_TRACE(svg);
        EXPECT_EQ(svg.find("nan"), std::string::npos);
        EXPECT_EQ(svg.find("inf"), std::string::npos);
        EXPECT_EQ(svg.rfind("</svg>\n"), svg.size() - 7);
        expect_round(tick_labels(svg, "x-tick", "x").values);
        expect_round(tick_labels(svg, "y-tick", "y").values);
    }
    // A constant sits inside its axis, not on an edge.
    const labels ys = tick_labels(svg_plot(specs[0]), "y-tick", "y");
    ASSERT_FALSE(ys.values.empty());
    EXPECT_LT(ys.values.front(), 5);
    EXPECT_GT(ys.values.back(), 5);
}
