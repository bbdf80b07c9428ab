#include "src/cli/score_follow.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <prometheus/collectable.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include "connectors/connector_registry.hpp"
#include "src/core/errors.hpp"
#include "src/core/time.hpp"
#include "src/score/live_score.hpp"
#include "src/telemetry/http_server.hpp"
#include "src/telemetry/metrics.hpp"

namespace synthfeed {
namespace {

using live_clock = live_scorer::clock;
using prometheus::MetricFamily;
using prometheus::MetricType;
using std::chrono::milliseconds;

/// How often the live figures are recomputed (at least three times the last recomputation's
/// own time apart, so that a large truth never keeps the topics waiting), and how long each
/// topic is waited for in a round.
constexpr milliseconds refresh_interval{1000};
constexpr milliseconds poll_wait{50};
constexpr std::uint64_t warnings_per_topic = 5;

constexpr std::array<live_stream, live_stream_count> streams{
    live_stream::labels, live_stream::episodes, live_stream::detections};
constexpr std::array<const char*, live_stream_count> stream_names{"labels", "episodes",
                                                                  "detections"};

milliseconds duration_flag(const char* flag, const std::string& text, bool zero_allowed) {
    const auto d = parse_duration(text);
    if (!d || (*d == 0 && !zero_allowed))
        throw config_error({flag, 0, 0}, "",
                           std::string("expected a ") + (zero_allowed ? "" : "positive ") +
                               "duration such as 30s or 2m, got \"" + text.substr(0, 40) + "\"");
    return milliseconds(*d);
}

/// What one recomputation found, as the progress line and /metrics show it.
struct live_figures {
    std::array<live_stream_counts, live_stream_count> counts{};
    std::uint64_t messages = 0, episodes = 0, detected_episodes = 0;
    std::uint64_t unsettled_labels = 0, waiting_labels = 0, unjoined_rows = 0;
    confusion point;
    range_sums range;
    std::array<std::optional<double>, nab_profiles.size()> nab{};
    bool final = false;
};

live_figures figures_of(const live_scorer& s, const live_snapshot& snap, const score_report& r,
                        bool final) {
    live_figures f;
    for (const live_stream st : streams) f.counts[static_cast<std::size_t>(st)] = s.counts(st);
    f.messages = r.overall.messages;
    f.episodes = r.overall.delay.episodes;
    f.detected_episodes = r.overall.delay.detected;
    f.unsettled_labels = snap.unsettled_labels;
    f.waiting_labels = snap.waiting_labels;
    f.unjoined_rows =
        r.unknown_device_rows + r.unparsable_score_rows + r.outside_span_rows + r.unmatched_rows;
    f.point = r.overall.point;
    f.range = r.overall.range;
    for (std::size_t p = 0; p < nab_profiles.size(); ++p) f.nab[p] = r.overall.nab[p].normalised();
    f.final = final;
    return f;
}

std::string progress_line(const live_figures& f) {
    std::uint64_t bad = 0;
    for (const auto& c : f.counts) bad += c.bad;
    const auto lines = [&f](live_stream s) { return f.counts[static_cast<std::size_t>(s)].lines; };
    return fmt::format("score  {} labels, {} episodes, {} detections ({} bad) | {} messages: P "
                       "{:.4f} R {:.4f} F1 {:.4f}  range P {:.4f} R {:.4f} F1 {:.4f}  episodes "
                       "found {}/{}\n",
                       lines(live_stream::labels), lines(live_stream::episodes),
                       lines(live_stream::detections), bad, f.messages, f.point.precision(),
                       f.point.recall(), f.point.f1(), f.range.precision(), f.range.recall(),
                       f.range.f1(), f.detected_episodes, f.episodes);
}

/// The synthfeed_score_* metrics, from the last figures published. publish() on the scoring
/// thread, Collect() on the HTTP server's.
class score_metrics final : public prometheus::Collectable {
  public:
    void publish(const live_figures& f) {
        const std::lock_guard lock(mutex_);
        figures_ = f;
    }

    std::vector<MetricFamily> Collect() const override {
        live_figures f;
        {
            const std::lock_guard lock(mutex_);
            f = figures_;
        }
        std::vector<MetricFamily> out;
        auto lines = prom::family("synthfeed_score_lines_total", "Messages received per topic.",
                                  MetricType::Counter);
        auto bad = prom::family("synthfeed_score_bad_lines_total",
                                "Messages refused (unparsable, a key missing or ill-typed, a "
                                "repeated episode) and skipped, per topic.",
                                MetricType::Counter);
        for (std::size_t s = 0; s < live_stream_count; ++s) {
            prom::add(lines, static_cast<double>(f.counts[s].lines), {{"topic", stream_names[s]}});
            prom::add(bad, static_cast<double>(f.counts[s].bad), {{"topic", stream_names[s]}});
        }
        out.push_back(std::move(lines));
        out.push_back(std::move(bad));
        const auto gauge = [&out](const char* name, const char* help, double v) {
            auto g = prom::family(name, help, MetricType::Gauge);
            prom::add(g, v);
            out.push_back(std::move(g));
        };
        gauge("synthfeed_score_messages",
              "Messages scored: the emitted ticks of the labels counted so far (those at least "
              "--max-delay old whose episodes have come).",
              static_cast<double>(f.messages));
        gauge("synthfeed_score_episodes", "Episodes of the scored classes on the counted labels.",
              static_cast<double>(f.episodes));
        gauge("synthfeed_score_episodes_detected", "Of those, episodes detected.",
              static_cast<double>(f.detected_episodes));
        gauge("synthfeed_score_point_precision", "Point-wise precision, tp/(tp+fp).",
              f.point.precision());
        gauge("synthfeed_score_point_recall", "Point-wise recall, tp/(tp+fn).", f.point.recall());
        gauge("synthfeed_score_point_f1", "Point-wise F1.", f.point.f1());
        gauge("synthfeed_score_range_precision", "Range-based precision (Tatbul et al. 2018).",
              f.range.precision());
        gauge("synthfeed_score_range_recall", "Range-based recall (Tatbul et al. 2018).",
              f.range.recall());
        gauge("synthfeed_score_range_f1", "Range-based F1.", f.range.f1());
        auto nab = prom::family("synthfeed_score_nab", "NAB score, 0 null to 100 perfect.",
                                MetricType::Gauge);
        for (std::size_t p = 0; p < nab_profiles.size(); ++p)
            if (f.nab[p])
                prom::add(nab, *f.nab[p], {{"profile", std::string(nab_profiles[p].name)}});
        out.push_back(std::move(nab));
        auto pending = prom::family("synthfeed_score_pending_labels",
                                    "Labels received but not counted yet: younger than "
                                    "--max-delay, or naming an episode not received.",
                                    MetricType::Gauge);
        prom::add(pending, static_cast<double>(f.unsettled_labels), {{"reason", "max_delay"}});
        prom::add(pending, static_cast<double>(f.waiting_labels), {{"reason", "episode"}});
        out.push_back(std::move(pending));
        gauge("synthfeed_score_unjoined_detections",
              "Detection rows that join no counted message (yet).",
              static_cast<double>(f.unjoined_rows));
        gauge("synthfeed_score_final", "1 once the topics have ended and every line is scored.",
              f.final ? 1 : 0);
        return out;
    }

    std::string text() const { return prometheus::TextSerializer().Serialize(Collect()); }

  private:
    mutable std::mutex mutex_;
    live_figures figures_;
};

http_handler metrics_handler(const score_metrics& metrics) {
    return [&metrics](const http_request_view& r) -> http_answer {
        const std::string path = r.target.substr(0, r.target.find('?'));
        if (r.method != "GET") return http_reply{405, "text/plain; charset=utf-8", "GET only\n"};
        if (path == "/metrics")
            return http_reply{200, "text/plain; version=0.0.4; charset=utf-8", metrics.text()};
        if (path == "/livez" || path == "/readyz")
            return http_reply{200, "text/plain; charset=utf-8", "ok\n"};
        return http_reply{404, "text/plain; charset=utf-8", "not found\n"};
    };
}

/// One --follow: the three followers, the join and its figures. Used on the calling thread
/// only (the HTTP server reads the metrics under their own lock).
class follow_session {
  public:
    follow_session(const score_flags& f, const follow_context& c, milliseconds max_delay)
        : context_(c), max_delay_(max_delay), scorer_(open(f)) {
        if (f.http.empty()) return;
        http_ = std::make_unique<http_server>(f.http, metrics_handler(metrics_));
        spdlog::info("http: /metrics, /livez, /readyz on {} (port {})", f.http, http_->port());
    }

    /// Waits a little on each topic in turn and adds what came.
    void poll_topics() {
        for (const live_stream s : streams) {
            const std::size_t n = followers_[static_cast<std::size_t>(s)]->poll(
                poll_wait, [this, s](std::string_view line, int) {
                    if (const auto refused = scorer_.add(s, line, live_clock::now()))
                        warn_refused(s, *refused);
                });
            if (n) last_arrival_ = live_clock::now();
        }
    }

    /// Recomputes the live figures when due: metrics, and a progress line when they changed.
    void refresh_if_due(live_clock::time_point now) {
        if (now < next_refresh_) return;
        live_snapshot snap = scorer_.snapshot(now - max_delay_);
        const live_figures figures = figures_of(scorer_, snap, score(snap), /*final=*/false);
        metrics_.publish(figures);
        std::string line = progress_line(figures);
        if (line != last_line_) std::fputs(line.c_str(), stderr);
        last_line_ = std::move(line);
        const auto took = live_clock::now() - now;
        next_refresh_ =
            live_clock::now() + std::max<live_clock::duration>(refresh_interval, 3 * took);
    }

    /// How long no topic has brought anything, once labels have come (zero before).
    live_clock::duration idle_at(live_clock::time_point now) const {
        if (scorer_.counts(live_stream::labels).lines == 0) return {};
        return now - last_arrival_;
    }

    /// Scores every line received; warns about what was left out.
    score_report finish() {
        live_snapshot snap = scorer_.snapshot();
        score_report report = score(snap);
        const live_figures figures = figures_of(scorer_, snap, report, /*final=*/true);
        metrics_.publish(figures);
        std::fputs(progress_line(figures).c_str(), stderr);
        for (const auto& w : snap.detections.warnings)
            fmt::print(stderr, "synthfeed: warning: {}\n", w);
        if (snap.waiting_labels)
            fmt::print(stderr,
                       "synthfeed: warning: {} labels name an episode {} never brought (not "
                       "scored)\n",
                       snap.waiting_labels,
                       sources_[static_cast<std::size_t>(live_stream::episodes)]);
        const auto bad = [&figures](live_stream s) {
            return figures.counts[static_cast<std::size_t>(s)].bad;
        };
        if (const std::uint64_t all = bad(live_stream::labels) + bad(live_stream::episodes) +
                                      bad(live_stream::detections))
            fmt::print(stderr,
                       "synthfeed: warning: {} bad lines skipped (labels {}, episodes {}, "
                       "detections {})\n",
                       all, bad(live_stream::labels), bad(live_stream::episodes),
                       bad(live_stream::detections));
        return report;
    }

  private:
    /// Opens the three followers; the scorer, naming the topics as messages may show them.
    live_scorer open(const score_flags& f) {
        connector_context ctx;
        add_environment_settings(ctx);
        add_flag_settings(ctx, "-X", f.properties);
        check_connector_settings(ctx);
        const std::array<std::pair<const char*, const std::string*>, live_stream_count> topics{
            {{"--truth", &f.truth}, {"--episodes", &f.episodes}, {"--detections", &f.detections}}};
        for (std::size_t s = 0; s < live_stream_count; ++s) {
            ctx.origin = topics[s].first;
            followers_[s] = open_follower(*topics[s].second, ctx);
            sources_[s] = shown_sink_uri(*topics[s].second);
        }
        return live_scorer(sources_);
    }

    void warn_refused(live_stream s, const std::string& why) const {
        const std::uint64_t bad = scorer_.counts(s).bad;
        if (bad <= warnings_per_topic)
            fmt::print(stderr, "synthfeed: warning: {} (skipped{})\n", why,
                       bad == warnings_per_topic
                           ? "; further bad lines of this topic are only counted"
                           : "");
    }

    score_report score(live_snapshot& snap) const {
        if (context_.name_groups) context_.name_groups(snap.truth);
        return score_detections(snap.truth, snap.detections, context_.options);
    }

    const follow_context& context_;
    milliseconds max_delay_;
    std::array<std::unique_ptr<stream_follower>, live_stream_count> followers_;
    std::array<std::string, live_stream_count> sources_;
    live_scorer scorer_;
    score_metrics metrics_;
    std::unique_ptr<http_server> http_; ///< after metrics_: stops serving before they go
    live_clock::time_point last_arrival_ = live_clock::now(), next_refresh_ = last_arrival_;
    std::string last_line_;
};

} // namespace

score_report follow_score(const score_flags& f, const follow_context& c) {
    const milliseconds max_delay = duration_flag("--max-delay", f.max_delay, true);
    const milliseconds idle = duration_flag("--idle", f.idle, false);
    follow_session session(f, c, max_delay);
    while (!c.stop.load()) {
        session.poll_topics();
        const live_clock::time_point now = live_clock::now();
        session.refresh_if_due(now);
        if (session.idle_at(now) >= idle) {
            spdlog::info("score --follow: no topic brought anything for {}; scoring every line",
                         f.idle);
            break;
        }
    }
    if (c.stop.load()) spdlog::info("score --follow: stopped by a signal; scoring every line");
    return session.finish();
}

} // namespace synthfeed
