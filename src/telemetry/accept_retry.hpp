#pragma once
/// How the HTTP listener carries on after accept() fails (EMFILE at the descriptor limit,
/// ECONNABORTED, ENOBUFS): it waits before trying again, the wait doubling from 10 ms to 1 s
/// while failures go on, and reports each kind of error at most once a second, so that a
/// failure repeated at every retry is one log line, not a flood.

#include <chrono>
#include <cstdint>
#include <map>

namespace synthfeed {

class accept_retry {
  public:
    using clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds first_delay{10};
    static constexpr std::chrono::milliseconds max_delay{1000};
    static constexpr std::chrono::seconds report_interval{1};

    /// What to do after one failure.
    struct step {
        std::chrono::milliseconds delay; ///< before the next accept()
        bool report = false;             ///< the first failure of its kind this second
        std::uint64_t unreported = 0;    ///< earlier failures of its kind not reported
    };

    /// Called when accept() failed with `error` (an errno value) at `now`.
    step failed(int error, clock::time_point now);
    /// Called when accept() went through: the next failure waits first_delay again.
    void succeeded() noexcept { delay_ = first_delay; }

  private:
    struct report_state {
        clock::time_point last;
        std::uint64_t unreported = 0;
    };
    std::chrono::milliseconds delay_ = first_delay;
    std::map<int, report_state> reports_;
};

} // namespace synthfeed
