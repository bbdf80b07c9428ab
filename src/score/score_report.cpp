#include "src/score/score_report.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace synthfeed {
namespace {

constexpr double ms_per_day = 86'400'000.0;

/// One device in row terms: its emitted ticks (rows), their truth and prediction.
struct device_rows {
    std::vector<std::size_t> tick;       ///< row -> tick index
    std::vector<std::uint8_t> actual;    ///< carries an episode of a selected class
    std::vector<std::uint8_t> predicted; ///< value >= threshold
    std::vector<double> scores;          ///< value, NaN without a row
};

device_rows rows_of(const truth_set& t, std::size_t d, const std::vector<double>& values,
                    const score_options& o, double threshold) {
    device_rows r;
    const auto& ticks = t.devices[d].ticks;
    for (std::size_t i = 0; i < ticks.size(); ++i) {
        if (!ticks[i].emitted) continue;
        r.tick.push_back(i);
        r.actual.push_back(anomalous(t, ticks[i], o.classes));
        r.scores.push_back(values[i]);
        r.predicted.push_back(!std::isnan(values[i]) && values[i] >= threshold);
    }
    return r;
}

/// Per episode of a selected class on a device: its first row and message count.
struct device_episode {
    std::uint32_t episode;
    episode_rows rows;
};

std::vector<device_episode> episodes_of(const truth_set& t, std::size_t d, const device_rows& r,
                                        const std::vector<std::uint32_t>& device_episodes,
                                        const class_selection& classes) {
    std::vector<device_episode> out;
    std::map<std::uint32_t, std::size_t> slot;
    const auto& ticks = t.devices[d].ticks;
    for (const std::uint32_t e : device_episodes) {
        if (!classes[static_cast<std::size_t>(t.episodes[e].label_class())]) continue;
        // First row at or after the start (label ts rise with seq).
        const auto first = std::partition_point(r.tick.begin(), r.tick.end(), [&](std::size_t i) {
            return ticks[i].ts < t.episodes[e].start;
        });
        slot[e] = out.size();
        out.push_back({e, {static_cast<std::size_t>(first - r.tick.begin()), 0}});
    }
    for (std::size_t row = 0; row < r.tick.size(); ++row) {
        const truth_tick& tick = ticks[r.tick[row]];
        for (const std::uint32_t* e = t.episodes_begin(tick); e != t.episodes_end(tick); ++e) {
            const auto it = slot.find(*e);
            if (it == slot.end()) continue;
            episode_rows& er = out[it->second].rows;
            if (er.messages++ == 0) er.first = row;
        }
    }
    return out;
}

/// The delay of one episode (seconds), or none when it was missed.
std::optional<double> episode_delay(const truth_set& t, std::size_t d, const device_rows& r,
                                    const device_episode& e,
                                    const std::vector<index_range>& windows) {
    if (e.rows.first >= r.tick.size()) return std::nullopt;
    std::size_t end = e.rows.first + std::max<std::size_t>(e.rows.messages, 1) - 1;
    for (const index_range& w : windows)
        if (w.first <= e.rows.first && e.rows.first <= w.last) end = std::max(end, w.last);
    end = std::min(end, r.tick.size() - 1);
    for (std::size_t row = e.rows.first; row <= end; ++row)
        if (r.predicted[row]) {
            const sim_time ts = t.devices[d].ticks[r.tick[row]].ts;
            return static_cast<double>(std::max<sim_time>(0, ts - t.episodes[e.episode].start)) /
                   1000.0;
        }
    return std::nullopt;
}

void add_delay(delay_stats& s, std::optional<double> delay) {
    ++s.episodes;
    if (delay) {
        ++s.detected;
        s.seconds.push_back(*delay);
    }
}

void merge_delay(delay_stats& into, const delay_stats& from) {
    into.episodes += from.episodes;
    into.detected += from.detected;
    into.seconds.insert(into.seconds.end(), from.seconds.begin(), from.seconds.end());
}

/// Scores one device into `b` (and the class and kind blocks of `report`).
void score_device(const truth_set& t, std::size_t d, const device_rows& r,
                  const std::vector<std::uint32_t>& device_episodes, const score_options& o,
                  score_block& b, score_report& report,
                  std::array<std::vector<nab_point>, nab_profiles.size()>* nab_points,
                  std::uint32_t& window_ids) {
    const auto& ticks = t.devices[d].ticks;
    ++b.devices;
    b.messages += r.tick.size();
    if (!ticks.empty())
        b.device_days += static_cast<double>(ticks.back().ts - ticks.front().ts) / ms_per_day;
    b.point += count_confusion(r.actual, r.predicted);
    std::vector<index_range> real, predicted;
    append_ranges(r.actual, real);
    append_ranges(r.predicted, predicted);
    b.range += range_rewards(real, predicted, o.range);

    const std::vector<device_episode> episodes = episodes_of(t, d, r, device_episodes, o.classes);
    std::vector<episode_rows> rows;
    for (const auto& e : episodes) rows.push_back(e.rows);
    const std::vector<index_range> windows = nab_windows(rows, r.tick.size());
    for (std::size_t p = 0; p < nab_profiles.size(); ++p) {
        b.nab[p] += nab_device(windows, r.predicted, nab_profiles[p]);
        if (nab_points)
            append_nab_points(windows, r.scores, nab_profiles[p], window_ids, (*nab_points)[p]);
    }
    window_ids += static_cast<std::uint32_t>(windows.size());

    for (const index_range& p : predicted) {
        bool touches = false;
        for (std::size_t row = p.first; row <= p.last && !touches; ++row) touches = r.actual[row];
        for (const index_range& w : windows) touches |= w.first <= p.last && p.first <= w.last;
        b.false_alarms += !touches;
    }

    for (const device_episode& e : episodes) {
        const std::optional<double> delay = episode_delay(t, d, r, e, windows);
        add_delay(b.delay, delay);
        const truth_episode& te = t.episodes[e.episode];
        add_delay(report.classes[std::string(to_string(te.label_class()))].delay, delay);
        add_delay(report.kinds[std::string(to_string(te.kind))].delay, delay);
    }

    // Per class and kind: messages, detected messages, range recall of their own ranges.
    for (std::size_t c = 0; c < o.classes.size(); ++c) {
        if (!o.classes[c]) continue;
        for (const anomaly_kind_row& k : anomaly_kinds) {
            if (static_cast<std::size_t>(k.label_class) != c) continue;
            std::vector<std::uint8_t> of_kind(r.tick.size(), 0);
            bool any = false;
            for (std::size_t row = 0; row < r.tick.size(); ++row) {
                const truth_tick& tick = ticks[r.tick[row]];
                for (const std::uint32_t* e = t.episodes_begin(tick); e != t.episodes_end(tick);
                     ++e)
                    if (t.episodes[*e].kind == k.kind) of_kind[row] = 1;
                any |= of_kind[row];
            }
            if (!any) continue;
            recall_block& rb = report.kinds[std::string(k.name)];
            std::vector<index_range> kind_ranges;
            append_ranges(of_kind, kind_ranges);
            rb.real_ranges += kind_ranges.size();
            rb.range_recall_sum += range_recall_sum(kind_ranges, predicted, o.range);
            for (std::size_t row = 0; row < r.tick.size(); ++row) {
                rb.messages += of_kind[row];
                rb.detected_messages += of_kind[row] && r.predicted[row];
            }
        }
    }
}

/// Class blocks from their kinds (messages, ranges); delays were added per episode.
void roll_up_classes(score_report& report) {
    for (const auto& [name, kb] : report.kinds) {
        const auto kind = parse_anomaly_kind(name);
        if (!kind) continue;
        recall_block& cb = report.classes[std::string(to_string(class_of(*kind)))];
        cb.messages += kb.messages;
        cb.detected_messages += kb.detected_messages;
        cb.range_recall_sum += kb.range_recall_sum;
        cb.real_ranges += kb.real_ranges;
    }
}

nlohmann::json optional_number(std::optional<double> v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json delay_json(const delay_stats& s) {
    return {{"episodes", s.episodes},
            {"detected", s.detected},
            {"missed", s.missed()},
            {"p50", optional_number(s.percentile(0.5))},
            {"p95", optional_number(s.percentile(0.95))},
            {"max", optional_number(s.max())}};
}

nlohmann::json block_json(const score_block& b) {
    nlohmann::json nab = nlohmann::json::object();
    for (std::size_t p = 0; p < nab_profiles.size(); ++p)
        nab[std::string(nab_profiles[p].name)] = {{"score", optional_number(b.nab[p].normalised())},
                                                  {"raw", b.nab[p].raw},
                                                  {"null", b.nab[p].null},
                                                  {"perfect", b.nab[p].perfect},
                                                  {"windows", b.nab[p].windows},
                                                  {"detected_windows", b.nab[p].detected_windows}};
    return {{"devices", b.devices},
            {"messages", b.messages},
            {"point",
             {{"tp", b.point.tp},
              {"fp", b.point.fp},
              {"fn", b.point.fn},
              {"tn", b.point.tn},
              {"precision", b.point.precision()},
              {"recall", b.point.recall()},
              {"f1", b.point.f1()}}},
            {"range",
             {{"precision", b.range.precision()},
              {"recall", b.range.recall()},
              {"f1", b.range.f1()},
              {"real_ranges", b.range.real_ranges},
              {"predicted_ranges", b.range.predicted_ranges}}},
            {"nab", nab},
            {"delay_seconds", delay_json(b.delay)},
            {"false_alarms", b.false_alarms},
            {"device_days", b.device_days},
            {"false_alarms_per_device_day", b.false_alarms_per_device_day()}};
}

nlohmann::json recall_json(const recall_block& b) {
    return {{"messages", b.messages},
            {"detected_messages", b.detected_messages},
            {"point_recall",
             b.messages ? static_cast<double>(b.detected_messages) / static_cast<double>(b.messages)
                        : 0.0},
            {"range_recall",
             b.real_ranges ? b.range_recall_sum / static_cast<double>(b.real_ranges) : 0.0},
            {"real_ranges", b.real_ranges},
            {"delay_seconds", delay_json(b.delay)}};
}

std::string shown(std::optional<double> v, const char* format = "{:.4f}") {
    return v ? fmt::format(fmt::runtime(format), *v) : "-";
}

void print_block_row(std::FILE* out, const std::string& name, const score_block& b) {
    fmt::print(out,
               "{:<16} {:>9} {:>7.4f} {:>7.4f} {:>7.4f} {:>7.4f} {:>7.4f} {:>7.4f} {:>8} "
               "{:>6}/{:<6} {:>9} {:>9} {:>8.3f}\n",
               name.substr(0, 16), b.messages, b.point.precision(), b.point.recall(), b.point.f1(),
               b.range.precision(), b.range.recall(), b.range.f1(),
               shown(b.nab[0].normalised(), "{:.2f}"), b.delay.detected, b.delay.episodes,
               shown(b.delay.percentile(0.5), "{:.3g}s"), shown(b.delay.max(), "{:.3g}s"),
               b.false_alarms_per_device_day());
}

} // namespace

std::optional<double> delay_stats::percentile(double q) const {
    if (seconds.empty()) return std::nullopt;
    std::vector<double> sorted = seconds;
    std::sort(sorted.begin(), sorted.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::optional<double> delay_stats::max() const {
    if (seconds.empty()) return std::nullopt;
    return *std::max_element(seconds.begin(), seconds.end());
}

score_report score_detections(const truth_set& t, const detection_set& d, const score_options& o) {
    score_report report;
    report.options = o;
    report.mode = d.mode;
    report.detection_rows = d.rows;
    report.unknown_device_rows = d.unknown_device_rows;
    report.unparsable_score_rows = d.unparsable_score_rows;
    report.outside_span_rows = d.outside_span_rows;
    report.unmatched_rows = d.unmatched_rows;
    report.silenced_rows = d.silenced_rows;
    report.repeated_rows = d.repeated_rows;
    if (o.threshold) {
        report.threshold = *o.threshold;
        report.threshold_source = "given";
    } else if (d.mode == detection_mode::binary) {
        report.threshold = 0.5;
        report.threshold_source = "is_anomaly";
    } else {
        std::vector<scored_point> points;
        for (std::size_t dev = 0; dev < t.devices.size(); ++dev) {
            const auto& ticks = t.devices[dev].ticks;
            for (std::size_t i = 0; i < ticks.size(); ++i)
                if (ticks[i].emitted)
                    points.push_back({d.values[dev][i], anomalous(t, ticks[i], o.classes)});
        }
        report.sweep = sweep_thresholds(points);
        report.threshold =
            report.sweep->best_threshold.value_or(std::numeric_limits<double>::infinity());
        report.threshold_source = "best_f1";
    }

    std::vector<std::vector<std::uint32_t>> device_episodes(t.devices.size());
    for (std::uint32_t e = 0; e < t.episodes.size(); ++e) {
        const auto it = t.device_index.find(t.episodes[e].device_id);
        if (it != t.device_index.end()) device_episodes[it->second].push_back(e);
        report.scored_episodes += o.classes[static_cast<std::size_t>(t.episodes[e].label_class())];
    }
    std::array<std::vector<nab_point>, nab_profiles.size()> nab_points;
    std::uint32_t window_ids = 0;
    for (std::size_t dev = 0; dev < t.devices.size(); ++dev) {
        for (const truth_tick& tick : t.devices[dev].ticks) report.silenced_ticks += !tick.emitted;
        const device_rows r = rows_of(t, dev, d.values[dev], o, report.threshold);
        score_block device;
        score_device(t, dev, r, device_episodes[dev], o, device, report,
                     report.sweep ? &nab_points : nullptr, window_ids);
        const std::string& group =
            t.devices[dev].group.empty() ? "(no episodes)" : t.devices[dev].group;
        for (score_block* b : {&report.overall, &report.groups[group]}) {
            b->devices += device.devices;
            b->messages += device.messages;
            b->point += device.point;
            b->range += device.range;
            for (std::size_t p = 0; p < nab_profiles.size(); ++p) b->nab[p] += device.nab[p];
            merge_delay(b->delay, device.delay);
            b->false_alarms += device.false_alarms;
            b->device_days += device.device_days;
        }
    }
    if (report.sweep)
        for (std::size_t p = 0; p < nab_profiles.size(); ++p)
            report.nab_optimised[p] = nab_sweep(nab_points[p], window_ids, nab_profiles[p]);
    roll_up_classes(report);
    return report;
}

std::string report_json(const score_report& r, const std::map<std::string, std::string>& inputs) {
    nlohmann::json j;
    j["inputs"] = inputs;
    j["inputs"]["detection_rows"] = r.detection_rows;
    j["inputs"]["unknown_device_rows"] = r.unknown_device_rows;
    j["inputs"]["unparsable_score_rows"] = r.unparsable_score_rows;
    j["inputs"]["outside_span_rows"] = r.outside_span_rows;
    j["inputs"]["unmatched_rows"] = r.unmatched_rows;
    j["inputs"]["silenced_rows"] = r.silenced_rows;
    j["inputs"]["repeated_rows"] = r.repeated_rows;
    j["inputs"]["silenced_ticks"] = r.silenced_ticks;
    j["inputs"]["scored_episodes"] = r.scored_episodes;
    nlohmann::json classes = nlohmann::json::array();
    for (std::size_t c = 0; c < r.options.classes.size(); ++c)
        if (r.options.classes[c]) classes.push_back(anomaly_class_names[c]);
    j["options"] = {{"classes", classes},
                    {"mode", r.mode == detection_mode::binary ? "is_anomaly" : "score"},
                    {"threshold", std::isfinite(r.threshold) ? nlohmann::json(r.threshold)
                                                             : nlohmann::json(nullptr)},
                    {"threshold_source", r.threshold_source},
                    {"alpha", r.options.range.alpha},
                    {"cardinality", to_string(r.options.range.cardinality)},
                    {"bias", to_string(r.options.range.bias)}};
    if (r.sweep) {
        nlohmann::json nab = nlohmann::json::object();
        for (std::size_t p = 0; p < nab_profiles.size(); ++p)
            nab[std::string(nab_profiles[p].name)] = {
                {"threshold", optional_number(r.nab_optimised[p].threshold)},
                {"score", optional_number(r.nab_optimised[p].sums.normalised())}};
        j["sweep"] = {{"best_f1", r.sweep->best_f1},
                      {"threshold", optional_number(r.sweep->best_threshold)},
                      {"precision", r.sweep->best_precision},
                      {"recall", r.sweep->best_recall},
                      {"auc_pr", r.sweep->auc_pr},
                      {"auc_pr_interpolation", "step (average precision)"},
                      {"thresholds", r.sweep->thresholds},
                      {"nab", nab}};
    } else {
        j["sweep"] = nullptr;
    }
    j["overall"] = block_json(r.overall);
    j["groups"] = nlohmann::json::object();
    for (const auto& [name, b] : r.groups) j["groups"][name] = block_json(b);
    j["classes"] = nlohmann::json::object();
    for (const auto& [name, b] : r.classes) j["classes"][name] = recall_json(b);
    j["kinds"] = nlohmann::json::object();
    for (const auto& [name, b] : r.kinds) j["kinds"][name] = recall_json(b);
    return j.dump(2) + "\n";
}

void print_report(const score_report& r, std::FILE* out) {
    fmt::print(out, "threshold  {} ({})\n",
               std::isfinite(r.threshold) ? fmt::format("{:g}", r.threshold) : "none",
               r.threshold_source);
    if (r.sweep)
        fmt::print(out,
                   "sweep      best F1 {:.4f} at {}, AUC-PR {:.4f} (step), NAB standard {} at {}\n",
                   r.sweep->best_f1, shown(r.sweep->best_threshold, "{:g}"), r.sweep->auc_pr,
                   shown(r.nab_optimised[0].sums.normalised(), "{:.2f}"),
                   shown(r.nab_optimised[0].threshold, "{:g}"));
    fmt::print(out,
               "{:<16} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>13} {:>9} {:>9} {:>8}\n",
               "slice", "messages", "P", "R", "F1", "rangeP", "rangeR", "rangeF1", "NAB",
               "episodes", "delay p50", "delay max", "FA/day");
    print_block_row(out, "overall", r.overall);
    for (const auto& [name, b] : r.groups) print_block_row(out, "group " + name, b);
    fmt::print(out, "{:<24} {:>9} {:>8} {:>8} {:>13} {:>9} {:>9}\n", "class / kind", "messages",
               "R", "rangeR", "episodes", "delay p50", "delay max");
    auto recall_row = [out](const std::string& name, const recall_block& b) {
        fmt::print(out, "{:<24} {:>9} {:>8.4f} {:>8.4f} {:>6}/{:<6} {:>9} {:>9}\n",
                   name.substr(0, 24), b.messages,
                   b.messages
                       ? static_cast<double>(b.detected_messages) / static_cast<double>(b.messages)
                       : 0.0,
                   b.real_ranges ? b.range_recall_sum / static_cast<double>(b.real_ranges) : 0.0,
                   b.delay.detected, b.delay.episodes, shown(b.delay.percentile(0.5), "{:.3g}s"),
                   shown(b.delay.max(), "{:.3g}s"));
    };
    for (const auto& [name, b] : r.classes) recall_row("class " + name, b);
    for (const auto& [name, b] : r.kinds) recall_row("  " + name, b);
    if (r.unknown_device_rows + r.unparsable_score_rows + r.outside_span_rows + r.unmatched_rows +
        r.silenced_rows + r.repeated_rows)
        fmt::print(out,
                   "detections {} rows: {} of unknown devices, {} with a score that is not a "
                   "number, {} outside the truth's span, {} matching no message, {} on "
                   "silenced ticks, {} repeated (not scored)\n",
                   r.detection_rows, r.unknown_device_rows, r.unparsable_score_rows,
                   r.outside_span_rows, r.unmatched_rows, r.silenced_rows, r.repeated_rows);
}

const std::vector<std::string>& report_metric_names() {
    static const std::vector<std::string> names{
        "precision",         "recall",    "f1",           "range_precision",
        "range_recall",      "range_f1",  "nab_standard", "nab_reward_low_fp",
        "nab_reward_low_fn", "best_f1",   "auc_pr",       "missed_episodes",
        "delay_p50",         "delay_p95", "delay_max",    "false_alarms_per_device_day"};
    return names;
}

std::optional<double> report_metric(const score_report& r, std::string_view name) {
    const score_block& b = r.overall;
    if (name == "precision") return b.point.precision();
    if (name == "recall") return b.point.recall();
    if (name == "f1") return b.point.f1();
    if (name == "range_precision") return b.range.precision();
    if (name == "range_recall") return b.range.recall();
    if (name == "range_f1") return b.range.f1();
    for (std::size_t p = 0; p < nab_profiles.size(); ++p)
        if (name == "nab_" + std::string(nab_profiles[p].name)) return b.nab[p].normalised();
    if (name == "best_f1") return r.sweep ? std::optional(r.sweep->best_f1) : std::nullopt;
    if (name == "auc_pr") return r.sweep ? std::optional(r.sweep->auc_pr) : std::nullopt;
    if (name == "missed_episodes") return static_cast<double>(b.delay.missed());
    if (name == "delay_p50") return b.delay.percentile(0.5);
    if (name == "delay_p95") return b.delay.percentile(0.95);
    if (name == "delay_max") return b.delay.max();
    if (name == "false_alarms_per_device_day") return b.false_alarms_per_device_day();
    return std::nullopt;
}

} // namespace synthfeed
