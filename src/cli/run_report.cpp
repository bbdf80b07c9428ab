#include "src/cli/run_report.hpp"

#include <fstream>
#include <iterator>

#include <build_info.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "connectors/connector_registry.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {

std::string version_with_build() {
    return fmt::format("{} ({})", SYNTHFEED_VERSION, SYNTHFEED_BUILD);
}

std::vector<std::string> masked_command_line(int argc, const char* const* argv) {
    std::vector<std::string> out;
    auto shown_uri = [](std::string_view text) {
        try {
            return shown_sink_uri(text);
        } catch (const config_error&) {
            return std::string("***"); // unreadable: it may hold anything
        }
    };
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i > 0 && std::string_view(argv[i - 1]) == "-X") {
            out.push_back(shown_flag_setting("-X", arg));
        } else if (arg.starts_with("-X") && arg.size() > 2) {
            out.push_back("-X" + shown_flag_setting("-X", arg.substr(2)));
        } else if (const auto eq = arg.find('=');
                   arg.starts_with("--") && eq != arg.npos && arg.find("://") != arg.npos) {
            out.push_back(std::string(arg.substr(0, eq + 1)) + shown_uri(arg.substr(eq + 1)));
        } else if (arg.find("://") != arg.npos) {
            out.push_back(shown_uri(arg));
        } else {
            out.emplace_back(arg);
        }
    }
    return out;
}

std::string sha256_of_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr)) return {};
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

std::string joined(const std::vector<std::string>& items, std::size_t shown) {
    std::string text;
    for (std::size_t i = 0; i < std::min(shown, items.size()); ++i)
        text.append(i ? ", " : "").append(items[i]);
    if (items.size() > shown) text += fmt::format(" and {} more", items.size() - shown);
    return text;
}

std::string rate_text(double rate) {
    return rate >= 100 ? fmt::format("{:.0f}", rate) : fmt::format("{:.3g}", rate);
}
std::string per_second(double rate) {
    return rate_text(rate) + "/s";
}

std::string duration_text(sim_duration d) {
    return d == 0 ? "0s" : format_duration(d);
}

std::string fleet_text(const profile& p) {
    std::vector<std::string> groups;
    for (const auto& g : p.groups)
        groups.push_back(fmt::format("{} {} every {}{}", g.name, g.count,
                                     g.arrivals || g.transactions ? "~" : "",
                                     duration_text(g.interval)));
    return joined(groups);
}

std::string load_text(const load_spec& l) {
    switch (l.shape) {
    case load_shape::none:
        return "none (each device at its interval, paced by --speed)";
    case load_shape::constant:
        return "constant " + per_second(l.rate);
    case load_shape::ramp:
        return fmt::format("ramp {}→{} over {}", per_second(l.from), per_second(l.to),
                           duration_text(l.over));
    case load_shape::step: {
        std::vector<std::string> steps;
        for (double rate : l.steps) steps.push_back(per_second(rate));
        return fmt::format("step {} every {}", joined(steps), duration_text(l.every));
    }
    case load_shape::spike:
        return fmt::format("spike {}, {} at {} for {}", per_second(l.rate), per_second(l.peak),
                           duration_text(l.at), duration_text(l.lasting));
    case load_shape::cycle:
        return fmt::format("cycle {} ± {} every {}", per_second(l.rate), per_second(l.amplitude),
                           duration_text(l.period));
    case load_shape::stages: {
        std::vector<std::string> stages;
        for (const auto& s : l.stages)
            stages.push_back(duration_text(s.duration) + "→" + per_second(s.target));
        return "stages " + joined(stages);
    }
    }
    return "";
}

void check_thresholds_fit(const std::vector<threshold>& thresholds, const run_options& o) {
    const bool paced = o.load.shape != load_shape::none || o.speed > 0;
    for (const threshold& t : thresholds)
        if (t.relative_to_target && !paced)
            throw config_error({"--threshold", 0, 0}, t.expression,
                               "this run has no target rate (it runs as fast as it can): give "
                               "--rate, --speed or a [load] table, or a rate in msg/s");
}

void judge(run_summary& s, const std::vector<threshold>& thresholds) {
    const threshold_inputs in = inputs_of(s);
    for (const threshold& t : thresholds) {
        s.thresholds.push_back(evaluate(t, in));
        s.delivery_judged_by_thresholds |= t.metric->on_delivery;
    }
}

threshold_watch::threshold_watch(const std::vector<threshold>& thresholds, const connector& data,
                                 const run_stats& stats, std::atomic<bool>& stop)
    : data_(data), stats_(stats), stop_(stop) {
    for (const threshold& t : thresholds)
        if (t.abort_on_fail) watched_.push_back(t);
    if (!watched_.empty()) thread_ = std::jthread([this](std::stop_token s) { watch(s); });
}

threshold_watch::~threshold_watch() {
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
    }
}

std::string threshold_watch::crossed() const {
    const threshold* t = crossed_.load();
    return t ? t->expression : std::string();
}

void threshold_watch::watch(std::stop_token token) {
    threshold_inputs in;
    while (!token.stop_requested()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const delivery_counts c = data_.counts();
        in.latency = summarize(data_.latency());
        in.failed = c.failed;
        in.dropped = c.dropped;
        in.in_doubt = c.in_doubt;
        in.lag_max = std::max(in.lag_max, stats_.lag_seconds.load());
        for (const threshold& t : watched_) {
            const threshold_verdict v = evaluate(t, in);
            if (v.passed) continue;
            spdlog::error("threshold {} crossed ({}): stopping the run (abort_on_fail)",
                          t.expression, v.shown);
            crossed_.store(&t);
            stop_.store(true);
            return;
        }
    }
}

} // namespace synthfeed
