// Load shapes: the schedule arithmetic that paces emission, checked exactly (no timing).
#include <gtest/gtest.h>

#include <cmath>

#include "src/core/errors.hpp"
#include "src/engine/load_schedule.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;

namespace {
load_spec load_from(const std::string& table) {
    return profile_from("name = \"l\"\n[load]\n" + table +
                        "\n[[group]]\nname = \"g\"\n[[group.field]]\nname = \"x\"\nsignal = { kind "
                        "= \"constant\" }\n")
        .load;
}
/// Messages the schedule lets out during second s (integer accounting).
double in_second(const load_schedule& l, int s) {
    return static_cast<double>(l.allowed(s + 1) - l.allowed(s));
}
} // namespace

TEST(LoadSchedule, ConstantRateCountsExactly) {
    const load_schedule l(load_from("shape = \"constant\"\nrate = 50000"));
    EXPECT_EQ(l.allowed(10.0), 500000u);
    EXPECT_EQ(l.allowed(0.5), 25000u);
    // Odd rates: no rounding drift over a long run.
    const load_schedule odd(load_from("rate = 333.3"));
    EXPECT_EQ(odd.allowed(3600.0), static_cast<std::uint64_t>(333.3 * 3600 + 1e-6));
    for (std::uint64_t k : {0ull, 1ull, 999ull, 123456ull}) {
        EXPECT_LT(l.allowed(l.due_time(k) - 1e-6), k + 1);
        EXPECT_GE(l.allowed(l.due_time(k) + 1e-6), k + 1);
    }
}

TEST(LoadSchedule, RampTracksItsTargetWithinTwoPercentPerSecond) {
    const load_schedule l(load_from("shape = \"ramp\"\nfrom = 1000\nto = 101000\nover = \"100s\""));
    for (int s = 1; s < 120; ++s) {
        const double target = l.rate_at(s + 0.5); // mean rate over [s, s+1) of a linear ramp
        ASSERT_NEAR(in_second(l, s), target, 0.02 * target) << "second " << s;
    }
    EXPECT_DOUBLE_EQ(l.rate_at(150), 101000);
}

TEST(LoadSchedule, StepSpikeAndCycle) {
    const load_schedule step(
        load_from("shape = \"step\"\nrates = [1000, 5000, 20000]\nevery = \"10s\""));
    EXPECT_EQ(step.allowed(10.0), 10000u);
    EXPECT_EQ(step.allowed(20.0), 60000u);
    EXPECT_EQ(step.allowed(40.0), 460000u); // the last step holds
    for (int s = 1; s < 40; ++s) {
        const double target = step.rate_at(s + 0.5);
        ASSERT_NEAR(in_second(step, s), target, 0.02 * target) << "second " << s;
    }
    const load_schedule spike(
        load_from("shape = \"spike\"\nbase = 1000\npeak = 50000\nat = \"10s\"\nfor = \"5s\""));
    EXPECT_EQ(spike.allowed(10.0), 10000u);
    EXPECT_EQ(spike.allowed(15.0), 260000u);
    EXPECT_EQ(spike.allowed(20.0), 265000u);
    const load_schedule cycle(
        load_from("shape = \"cycle\"\nmean = 10000\namplitude = 5000\nperiod = \"60s\""));
    EXPECT_NEAR(static_cast<double>(cycle.allowed(60.0)), 600000.0,
                1.0); // whole periods average to the mean
    EXPECT_NEAR(cycle.rate_at(15), 15000, 1e-6);
}

TEST(LoadSchedule, BadShapesAreConfigErrors) {
    EXPECT_THROW(load_from("shape = \"ramp\"\nto = -5"), config_error);
    EXPECT_THROW(load_from("shape = \"step\"\nrates = []"), config_error);
    EXPECT_THROW(load_from("shape = \"cycle\"\nmean = 10\namplitude = 20"), config_error);
    EXPECT_THROW(load_from("shape = \"wave\""), config_error);
    EXPECT_THROW(load_from("rate = 10\nratee = 5"), config_error);
}
