// accept_retry: the listener's wait after a failed accept() (doubling, capped, reset by a
// success) and its reports (one a second per kind of error, counting those left out), driven by
// time points the test chooses.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "src/telemetry/accept_retry.hpp"

using namespace synthfeed;
using namespace std::chrono_literals;

namespace {

const accept_retry::clock::time_point t0{};

std::vector<long> delays_of(accept_retry& retry, int failures) {
    std::vector<long> ms;
    for (int i = 0; i < failures; ++i) ms.push_back(retry.failed(EMFILE, t0).delay.count());
    return ms;
}

} // namespace

TEST(accept_retry, waits_longer_while_failures_go_on_up_to_a_second) {
    accept_retry retry;
    EXPECT_EQ(delays_of(retry, 10),
              (std::vector<long>{10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000}));
}

TEST(accept_retry, a_success_starts_the_waits_over) {
    accept_retry retry;
    delays_of(retry, 5);
    retry.succeeded();
    EXPECT_EQ(delays_of(retry, 2), (std::vector<long>{10, 20}));
}

TEST(accept_retry, reports_each_kind_of_error_once_a_second_with_the_count_left_out) {
    accept_retry retry;
    EXPECT_TRUE(retry.failed(EMFILE, t0).report);
    EXPECT_FALSE(retry.failed(EMFILE, t0 + 10ms).report);
    EXPECT_FALSE(retry.failed(EMFILE, t0 + 999ms).report);
    // Another kind is news of its own.
    EXPECT_TRUE(retry.failed(ECONNABORTED, t0 + 999ms).report);

    const auto later = retry.failed(EMFILE, t0 + 1s);
    EXPECT_TRUE(later.report);
    EXPECT_EQ(later.unreported, 2u);
    EXPECT_EQ(retry.failed(EMFILE, t0 + 2500ms).unreported, 0u);
}
