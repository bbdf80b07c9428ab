#include "src/telemetry/accept_retry.hpp"

#include <algorithm>
#include <utility>

namespace synthfeed {

accept_retry::step accept_retry::failed(int error, clock::time_point now) {
    step s{delay_};
    delay_ = std::min(max_delay, delay_ * 2);
    const auto [it, first] = reports_.try_emplace(error, report_state{now, 0});
    report_state& r = it->second;
    if (first || now - r.last >= report_interval) {
        s.report = true;
        s.unreported = std::exchange(r.unreported, 0);
        r.last = now;
    } else {
        ++r.unreported;
    }
    return s;
}

} // namespace synthfeed
