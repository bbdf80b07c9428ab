#include "src/engine/load_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace synthfeed {
namespace {

/// k6 stages: the rate at `t`, or with `integral` set, its integral from 0 to `t` (one walk
/// over the stages serves both: each is a trapezoid, a 0 ms stage a jump).
double walk_stages(const std::vector<load_stage>& stages, double t, bool integral) noexcept {
    double begin = 0, rate = 0, total = 0;
    for (const load_stage& s : stages) {
        const double length = static_cast<double>(s.duration) / 1000;
        if (length > 0 && t < begin + length) {
            const double into = t - begin;
            const double at_t = rate + (s.target - rate) * into / length;
            return integral ? total + (rate + at_t) / 2 * into : at_t;
        }
        total += (rate + s.target) / 2 * length;
        begin += length;
        rate = s.target;
    }
    return integral ? total + rate * (t - begin) : rate; // the last target holds
}

} // namespace

double load_schedule::rate_at(double t) const noexcept {
    const load_spec& s = spec_;
    switch (s.shape) {
    case load_shape::none:
        return 0;
    case load_shape::constant:
        return s.rate;
    case load_shape::ramp: {
        const double over = static_cast<double>(s.over) / 1000;
        return t >= over ? s.to : s.from + (s.to - s.from) * t / over;
    }
    case load_shape::step: {
        const auto i = static_cast<std::size_t>(t / (static_cast<double>(s.every) / 1000));
        return s.steps[std::min(i, s.steps.size() - 1)];
    }
    case load_shape::spike: {
        const double at = static_cast<double>(s.at) / 1000,
                     end = at + static_cast<double>(s.lasting) / 1000;
        return t >= at && t < end ? s.peak : s.rate;
    }
    case load_shape::cycle:
        return s.rate + s.amplitude * std::sin(2 * std::numbers::pi * t /
                                               (static_cast<double>(s.period) / 1000));
    case load_shape::stages:
        return walk_stages(s.stages, t, false);
    }
    return 0;
}

double load_schedule::peak_rate() const noexcept {
    const load_spec& s = spec_;
    switch (s.shape) {
    case load_shape::none:
        return 0;
    case load_shape::constant:
        return s.rate;
    case load_shape::ramp:
        return std::max(s.from, s.to);
    case load_shape::step:
        return s.steps.empty() ? 0 : *std::max_element(s.steps.begin(), s.steps.end());
    case load_shape::spike:
        return std::max(s.rate, s.peak);
    case load_shape::cycle:
        return s.rate + s.amplitude;
    case load_shape::stages: {
        double peak = 0;
        for (const auto& stage : s.stages) peak = std::max(peak, stage.target);
        return peak;
    }
    }
    return 0;
}

double load_schedule::cumulative(double t) const noexcept {
    if (t <= 0) return 0;
    const load_spec& s = spec_;
    switch (s.shape) {
    case load_shape::none:
        return 0;
    case load_shape::constant:
        return s.rate * t;
    case load_shape::ramp: {
        const double over = static_cast<double>(s.over) / 1000;
        const double ramp_time = std::min(t, over);
        const double ramp =
            s.from * ramp_time + (s.to - s.from) * ramp_time * ramp_time / (2 * over);
        return ramp + (t > over ? s.to * (t - over) : 0);
    }
    case load_shape::step: {
        const double every = static_cast<double>(s.every) / 1000;
        double total = 0;
        for (std::size_t i = 0; i < s.steps.size(); ++i) {
            const double begin = static_cast<double>(i) * every;
            if (t <= begin) break;
            const double end = i + 1 == s.steps.size() ? t : std::min(t, begin + every);
            total += s.steps[i] * (end - begin);
        }
        return total;
    }
    case load_shape::spike: {
        const double at = static_cast<double>(s.at) / 1000,
                     end = at + static_cast<double>(s.lasting) / 1000;
        const double inside = std::max(0.0, std::min(t, end) - at);
        return s.rate * (t - inside) + s.peak * inside;
    }
    case load_shape::cycle: {
        const double period = static_cast<double>(s.period) / 1000;
        const double w = 2 * std::numbers::pi / period;
        return s.rate * t + s.amplitude * (1 - std::cos(w * t)) / w;
    }
    case load_shape::stages:
        return walk_stages(s.stages, t, true);
    }
    return 0;
}

double load_schedule::due_time(std::uint64_t index) const noexcept {
    // cumulative() is non-decreasing: bisect for the first t with cumulative(t) >= index.
    const double target = static_cast<double>(index);
    double lo = 0, hi = 1;
    while (cumulative(hi) < target) {
        lo = hi;
        hi *= 2;
        if (hi > 1e9) return hi; // a schedule that never gets there (rate 0)
    }
    for (int i = 0; i < 60 && hi - lo > 1e-7; ++i) {
        const double mid = (lo + hi) / 2;
        (cumulative(mid) >= target ? hi : lo) = mid;
    }
    return hi;
}

} // namespace synthfeed
