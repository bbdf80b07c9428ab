// pacer: wall-clock pacing by --speed and by load shape, lag, pause and rate changes, driven
// by a fake clock that only the test (and the idle callback) moves: no wall-clock timing.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "src/engine/pacer.hpp"

using namespace synthfeed;
using namespace std::chrono_literals;
using engine_detail::idle_fn;
using engine_detail::pacer;
using engine_detail::wake;
using steady = std::chrono::steady_clock;

namespace {

steady::time_point fake_time;
steady::time_point fake_now() noexcept {
    return fake_time;
}

double seconds_since(steady::time_point t0) {
    return std::chrono::duration<double>(fake_time - t0).count();
}

/// Serves "the sinks" by moving the fake clock on by the nap it is given; records the naps.
struct fake_idle {
    std::vector<steady::duration> naps;
    bool stopping = false;
    idle_fn fn() {
        return [this](steady::duration d) {
            naps.push_back(d);
            fake_time += d;
            return stopping ? engine_detail::wake::stop : engine_detail::wake::due;
        };
    }
};

class Pacer : public ::testing::Test {
  protected:
    void SetUp() override { fake_time = steady::time_point{} + 1000h; }
    const steady::time_point t0 = steady::time_point{} + 1000h;
    static constexpr sim_time sim_start = 1'767'225'600'000; // 2026-01-01T00:00:00Z
    run_stats stats;
    fake_idle idle;
};

load_spec constant_rate(double rate) {
    load_spec l;
    l.shape = load_shape::constant;
    l.rate = rate;
    return l;
}

} // namespace

TEST_F(Pacer, SpeedZeroNeverWaits) {
    pacer pace(sim_start, 0, load_spec{}, &fake_now);
    const idle_fn fn = idle.fn();
    EXPECT_EQ(wake::due, pace.wait_for(sim_start + 86'400'000, 0, fn, stats));
    EXPECT_EQ(wake::due, pace.wait_for(sim_start + 2 * 86'400'000, 1, fn, stats));
    EXPECT_TRUE(idle.naps.empty());
    EXPECT_EQ(fake_time, t0);
    EXPECT_EQ(pace.max_lag(), 0);
}

TEST_F(Pacer, SpeedMapsEventTimeToWallTimeInShortNaps) {
    pacer pace(sim_start, 2, load_spec{}, &fake_now); // 2 simulated seconds per wall second
    const idle_fn fn = idle.fn();
    ASSERT_EQ(wake::due, pace.wait_for(sim_start + 10'000, 0, fn, stats));
    EXPECT_EQ(fake_time - t0, 5s); // event time 10 s is due at wall time 5 s
    ASSERT_EQ(idle.naps.size(), 500u);
    for (const auto nap : idle.naps) EXPECT_LE(nap, 10ms); // the sinks are served every 10 ms
    EXPECT_EQ(pace.max_lag(), 0);

    // Up to the simulated "now" everything is due without another wait.
    EXPECT_EQ(wake::due, pace.wait_for(sim_start + 10'000, 1, fn, stats));
    EXPECT_EQ(idle.naps.size(), 500u);
    // Later event times wait again.
    ASSERT_EQ(wake::due, pace.wait_for(sim_start + 10'020, 2, fn, stats));
    EXPECT_EQ(fake_time - t0, 5010ms);
}

TEST_F(Pacer, LateMessagesGoAtOnceAndRecordTheirLag) {
    pacer pace(sim_start, 1, load_spec{}, &fake_now);
    const idle_fn fn = idle.fn();
    fake_time += 3s;
    EXPECT_EQ(wake::due, pace.wait_for(sim_start + 1000, 0, fn, stats)); // due at 1 s, now 3 s
    EXPECT_TRUE(idle.naps.empty());
    EXPECT_DOUBLE_EQ(stats.lag_seconds.load(), 2.0);
    EXPECT_DOUBLE_EQ(pace.max_lag(), 2.0);

    // observe_lag sees a run that has fallen behind, where wait_for would not look.
    fake_time += 2s;
    pace.observe_lag(sim_start + 2000, 1, stats); // due at 2 s, now 5 s
    EXPECT_DOUBLE_EQ(stats.lag_seconds.load(), 3.0);
    EXPECT_DOUBLE_EQ(pace.max_lag(), 3.0);
    // Ahead of schedule is no lag, and the worst lag stays.
    pace.observe_lag(sim_start + 9000, 2, stats);
    EXPECT_DOUBLE_EQ(stats.lag_seconds.load(), 0.0);
    EXPECT_DOUBLE_EQ(pace.max_lag(), 3.0);
}

TEST_F(Pacer, LoadShapeLetsMessagesOutByCount) {
    pacer pace(sim_start, 0, constant_rate(100), &fake_now); // --speed is ignored by count
    // Message k is due once ∫ rate reaches k: at k / rate, the first one at once.
    EXPECT_NEAR(pace.due(0), 0, 1e-6);
    EXPECT_NEAR(pace.due(1), 0.01, 1e-6);
    EXPECT_NEAR(pace.due(249), 2.49, 1e-6);
    const idle_fn fn = idle.fn();
    for (std::uint64_t k = 0; k < 100; ++k) {
        ASSERT_EQ(wake::due, pace.wait_for(sim_start, k, fn, stats)) << k;
        EXPECT_NEAR(seconds_since(t0), pace.due(k), 1e-6) << k; // sent when due, not later
    }
    EXPECT_NEAR(seconds_since(t0), 0.99, 1e-6);
    EXPECT_EQ(pace.max_lag(), 0);
}

TEST_F(Pacer, ACountScheduleThatFellBehindLetsTheBacklogOutAtOnce) {
    pacer pace(sim_start, 0, constant_rate(100), &fake_now);
    const idle_fn fn = idle.fn();
    fake_time += 2s; // 200 messages due by now
    for (std::uint64_t k = 0; k < 200; ++k)
        ASSERT_EQ(wake::due, pace.wait_for(sim_start, k, fn, stats));
    EXPECT_TRUE(idle.naps.empty());
    EXPECT_EQ(fake_time - t0, 2s);
    EXPECT_NEAR(pace.max_lag(), 2.0, 1e-6);                         // message 0 was due at once
    ASSERT_EQ(wake::due, pace.wait_for(sim_start, 200, fn, stats)); // the next one waits its turn
    EXPECT_NEAR(seconds_since(t0), 2.0, 1e-6);
    ASSERT_EQ(wake::due, pace.wait_for(sim_start, 201, fn, stats));
    EXPECT_NEAR(seconds_since(t0), 2.01, 1e-6);
}

TEST_F(Pacer, AStoppingIdleEndsTheWait) {
    pacer pace(sim_start, 1, load_spec{}, &fake_now);
    idle.stopping = true;
    EXPECT_EQ(wake::stop, pace.wait_for(sim_start + 60'000, 0, idle.fn(), stats));
    EXPECT_EQ(idle.naps.size(), 1u); // gave up at the first nap
}

TEST_F(Pacer, APauseShiftsTheSchedule) {
    pacer pace(sim_start, 1, load_spec{}, &fake_now);
    const idle_fn fn = idle.fn();
    fake_time += 2s; // paused for 2 s
    pace.shift(2s);
    ASSERT_EQ(wake::due, pace.wait_for(sim_start + 1000, 0, fn, stats));
    EXPECT_EQ(fake_time - t0, 3s); // due at 1 s of schedule, 3 s of wall time
    EXPECT_EQ(pace.max_lag(), 0);
}

TEST_F(Pacer, ARateChangeCountsFromWhereTheRunIs) {
    pacer pace(sim_start, 0, load_spec{}, &fake_now);
    const idle_fn fn = idle.fn();
    fake_time += 4s;
    pace.set_rate(10, 50);                // 50 messages sent so far
    EXPECT_NEAR(pace.due(50), 4.0, 1e-6); // the first message at the new rate goes at once
    EXPECT_NEAR(pace.due(60), 5.0, 1e-6);
    ASSERT_EQ(wake::due, pace.wait_for(sim_start, 50, fn, stats));
    EXPECT_NEAR(seconds_since(t0), 4.0, 1e-6);
    ASSERT_EQ(wake::due, pace.wait_for(sim_start, 60, fn, stats));
    EXPECT_NEAR(seconds_since(t0), 5.0, 1e-6);
}

TEST_F(Pacer, AControlRequestEndsALongWaitAtOnce) {
    // One message an hour: a rate change or a pause must not wait for the next one.
    pacer pace(sim_start, 0, constant_rate(1.0 / 3600), &fake_now);
    int naps = 0;
    const idle_fn wakes_on_third_nap = [&](steady::duration d) {
        fake_time += d;
        return ++naps == 3 ? wake::control : wake::due;
    };
    ASSERT_EQ(wake::due, pace.wait_for(sim_start, 0, wakes_on_third_nap, stats)); // due at once
    naps = 0;
    const auto before = fake_time;
    EXPECT_EQ(wake::control, pace.wait_for(sim_start, 1, wakes_on_third_nap, stats));
    EXPECT_EQ(fake_time - before, 30ms); // three 10 ms naps, not an hour
}

TEST_F(Pacer, ShortfallIsWhatWasDueByTheStopAndNotSent) {
    pacer pace(sim_start, 0, constant_rate(100), &fake_now);
    EXPECT_FALSE(pace.shortfall_estimated());
    // 200 messages are due before 2 s; 150 went out.
    EXPECT_EQ(pace.shortfall(sim_start, 150, 0, t0 + 2s), 50u);
    EXPECT_NEAR(pace.lag_at(sim_start, 150, t0 + 2s), 0.5, 1e-6); // message 150 was due at 1.5 s
    EXPECT_EQ(pace.shortfall(sim_start, 150, 0, t0 + 1s), 0u);    // ahead: nothing owed
    EXPECT_EQ(pace.shortfall(sim_start, 200, 0, t0 + 2s), 0u);
}

TEST_F(Pacer, ShortfallBySpeedIsEstimatedFromTheLag) {
    pacer pace(sim_start, 2, load_spec{}, &fake_now); // 2 simulated seconds per wall second
    EXPECT_TRUE(pace.shortfall_estimated());
    // At wall 3 s the simulated "now" is 6 s; the oldest unsent message is at 1 s: 2.5 wall
    // seconds behind, 5 simulated seconds of a fleet sending 10 msg per simulated second.
    EXPECT_NEAR(pace.lag_at(sim_start + 1000, 0, t0 + 3s), 2.5, 1e-9);
    EXPECT_EQ(pace.shortfall(sim_start + 1000, 0, 10, t0 + 3s), 50u);
    EXPECT_EQ(pace.shortfall(sim_start + 7000, 0, 10, t0 + 3s), 0u);
}

TEST_F(Pacer, CheckpointsComeAboutEveryTenMillisecondsOfTheTargetRate) {
    EXPECT_EQ(pacer(sim_start, 0, constant_rate(1e6), &fake_now).checkpoint_every(0), 1024u);
    EXPECT_EQ(pacer(sim_start, 0, constant_rate(1000), &fake_now).checkpoint_every(0), 8u);
    EXPECT_EQ(pacer(sim_start, 0, constant_rate(1), &fake_now).checkpoint_every(0), 1u);
    EXPECT_EQ(pacer(sim_start, 1, load_spec{}, &fake_now).checkpoint_every(5000), 32u);
    EXPECT_EQ(pacer(sim_start, 0, load_spec{}, &fake_now).checkpoint_every(5000), 1024u);
}
