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

namespace {
/// A schedule's counts at many instants, through and past its stages.
std::vector<std::uint64_t> allowed_over(const load_schedule& l, double seconds) {
    std::vector<std::uint64_t> counts;
    for (double t = 0; t <= seconds; t += 0.25) counts.push_back(l.allowed(t));
    return counts;
}
} // namespace

TEST(LoadSchedule, StageFlagsGiveTheStagesTablesSchedule) {
    // What `--stage 30s:1000,1m:5000,0s:200,10s:800` builds (cli.cpp's flag_stages)...
    load_spec flags;
    flags.shape = load_shape::stages;
    for (const char* text : {"30s:1000", "1m:5000", "0s:200", "10s:800"}) {
        const auto stage = parse_stage(text);
        ASSERT_TRUE(stage) << text;
        flags.stages.push_back(*stage);
    }
    EXPECT_FALSE(find_stage_problem(flags.stages));
    // ... is the profile's table, stage for stage, so the schedules are one.
    const load_spec table = load_from(
        "shape = \"stages\"\nstages = [{ duration = \"30s\", target = 1000 }, { duration = "
        "\"1m\", target = 5000 }, { duration = \"0s\", target = 200 }, { duration = \"10s\", "
        "target = 800 }]");
    EXPECT_EQ(table.shape, load_shape::stages);
    EXPECT_EQ(table.stages, flags.stages);
    EXPECT_EQ(allowed_over(load_schedule(table), 200), allowed_over(load_schedule(flags), 200));
}

TEST(LoadSchedule, StagesRampFromZeroLikeK6) {
    const load_schedule l(load_from("shape = \"stages\"\nstages = [{ duration = \"30s\", target "
                                    "= 1000 }, { duration = \"1m\", target = 5000 }, { duration "
                                    "= \"0s\", target = 200 }]"));
    EXPECT_DOUBLE_EQ(l.rate_at(0), 0); // k6's arrival-rate executors start at 0
    EXPECT_DOUBLE_EQ(l.rate_at(15), 500);
    EXPECT_DOUBLE_EQ(l.rate_at(60), 3000);
    EXPECT_DOUBLE_EQ(l.rate_at(90), 200); // a 0s stage jumps; the last target holds
    EXPECT_DOUBLE_EQ(l.rate_at(1000), 200);
    EXPECT_EQ(l.allowed(30.0), 15000u);
    EXPECT_EQ(l.allowed(90.0), 15000u + 180000u);
    EXPECT_EQ(l.allowed(100.0), 15000u + 180000u + 2000u);
    for (int s = 1; s < 120; ++s) {
        const double target = l.rate_at(s + 0.5);
        ASSERT_NEAR(in_second(l, s), target, 0.02 * target + 1) << "second " << s;
    }
    // One stage from 0 is the ramp shape from 0; a 0s first stage is a constant rate.
    const load_schedule one(load_from("shape = \"stages\"\nstages = [{ duration = \"1m\", target "
                                      "= 6000 }]"));
    const load_schedule ramp(load_from("shape = \"ramp\"\nto = 6000\nover = \"1m\""));
    for (double t = 0; t < 100; t += 0.37)
        ASSERT_NEAR(one.cumulative(t), ramp.cumulative(t), 1e-6 * (1 + ramp.cumulative(t))) << t;
    const load_schedule jump(load_from("shape = \"stages\"\nstages = [{ duration = \"0s\", target "
                                       "= 500 }]"));
    EXPECT_EQ(jump.allowed(10.0), 5000u);
}

TEST(LoadSchedule, BadStagesAreConfigErrors) {
    const char* bad[] = {
        "shape = \"stages\"",                                                 // none
        "shape = \"stages\"\nstages = []",                                    // none
        "shape = \"stages\"\nstages = [{ target = 5 }]",                      // no duration
        "shape = \"stages\"\nstages = [{ duration = \"1s\" }]",               // no target
        "shape = \"stages\"\nstages = [{ duration = \"1s\", target = -1 }]",  // negative
        "shape = \"stages\"\nstages = [{ duration = \"1s\", target = 2e9 }]", // above 1e9
        "shape = \"stages\"\nstages = [{ duration = \"1s\", target = 5 }, { duration = \"1s\", "
        "target = 0 }]", // the last holds 0 for ever
        "shape = \"stages\"\nstages = [{ duration = \"1s\", target = 5, ramp = 1 }]", // unknown
    };
    for (const char* table : bad) EXPECT_THROW(load_from(table), config_error) << table;
    for (const char* text : {"30s", "30s:", ":5", "5:10", "30s:1k", "30s:10:5", "1 s:5"})
        EXPECT_FALSE(parse_stage(text)) << text;
    EXPECT_TRUE(parse_stage("1m30s:2.5e4"));
    // Stages ramping down to 0 on the way are fine; only the last one holds.
    EXPECT_NO_THROW(load_from("shape = \"stages\"\nstages = [{ duration = \"1s\", target = 0 }, "
                              "{ duration = \"1s\", target = 5 }]"));
}
