#include "src/cli/score_command.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "devices/group_model.hpp"
#include "src/cli/score_follow.hpp"
#include "src/config/profile_loader.hpp"
#include "src/core/errors.hpp"
#include "src/score/score_report.hpp"
#include "src/telemetry/thresholds.hpp"

namespace synthfeed {
namespace {

/// Exit code of a failed pass/fail threshold, as `run --threshold` (k6's 99).
constexpr int exit_threshold_failed = 99;

/// A pass/fail criterion METRIC OP VALUE on the overall figures, in run's grammar.
struct score_threshold {
    std::string expression;
    threshold_parts parts;
    double value = 0;
};

score_threshold parse_score_threshold(const std::string& text) {
    const auto& names = report_metric_names();
    std::string list;
    for (const auto& n : names) list.append(list.empty() ? "" : ", ").append(n);
    const auto parts = split_threshold(text);
    if (!parts || !parts->option.empty())
        throw config_error({"--threshold", 0, 0}, text,
                           "expected a number (the score threshold) or METRIC OP VALUE, e.g. "
                           "'f1>=0.8' (metrics: " +
                               list + ")");
    if (std::find(names.begin(), names.end(), parts->metric) == names.end()) {
        const std::string hint = closest_match(parts->metric, names);
        throw config_error({"--threshold", 0, 0}, text,
                           "unknown metric \"" + parts->metric + "\"" +
                               (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)") +
                               "; metrics: " + list);
    }
    const auto v = finite_number(parts->value);
    if (!v)
        throw config_error({"--threshold", 0, 0}, text, "\"" + parts->value + "\" is not a number");
    return {text, *parts, *v};
}

score_options options_of(const score_flags& f, std::vector<score_threshold>& criteria) {
    score_options o;
    for (const auto& text : f.thresholds) {
        if (const auto v = finite_number(text)) {
            if (o.threshold)
                throw config_error({"--threshold", 0, 0}, text,
                                   "a second score threshold (one number; criteria are METRIC OP "
                                   "VALUE)");
            o.threshold = *v;
        } else {
            criteria.push_back(parse_score_threshold(text));
        }
    }
    const class_selection included = flag_classes("--include-class", f.include_classes);
    for (std::size_t c = 0; c < included.size(); ++c) o.classes[c] = o.classes[c] || included[c];
    const auto alpha = finite_number(f.alpha);
    if (!alpha || *alpha < 0 || *alpha > 1)
        throw config_error({"--alpha", 0, 0}, "",
                           "expected a number from 0 to 1, got \"" + f.alpha.substr(0, 40) + "\"");
    o.range.alpha = *alpha;
    if (!parse_cardinality(f.cardinality, o.range.cardinality))
        throw config_error({"--cardinality", 0, 0}, "",
                           "expected one or reciprocal, got \"" + f.cardinality.substr(0, 40) +
                               "\"");
    if (!parse_bias(f.bias, o.range.bias))
        throw config_error({"--bias", 0, 0}, "",
                           "expected flat, front, middle or back, got \"" + f.bias.substr(0, 40) +
                               "\"");
    return o;
}

/// Names the group of every truth device from the profile's fleet (as `run` formats its ids);
/// a device the fleet lacks fails, as the truth then belongs to another run.
void name_groups(truth_set& truth, const profile& p) {
    const device_directory ids(p);
    for (std::size_t g = 0; g < p.groups.size(); ++g) {
        const std::uint64_t first = ids.first_of_group(g);
        for (std::uint64_t i = first; i < first + p.groups[g].count; ++i) {
            const auto it = truth.device_index.find(std::string(ids.id(i)));
            if (it != truth.device_index.end()) truth.devices[it->second].group = p.groups[g].name;
        }
    }
    for (const truth_device& d : truth.devices)
        if (d.group.empty())
            throw config_error({"--profile", 0, 0}, p.path,
                               "device \"" + d.id.substr(0, 60) +
                                   "\" of the truth is not in this fleet (give --devices as the "
                                   "run had it)");
}

} // namespace

CLI::App* add_score_command(CLI::App& app, score_flags& f) {
    CLI::App* score = app.add_subcommand(
        "score", "grade a detector's output against a run's labels and episodes");
    score->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    score
        ->add_option("--truth", f.truth,
                     "the label file of run --labels (JSONL or CSV); with --follow, its topic "
                     "kafka://HOST:PORT/TOPIC")
        ->required();
    score
        ->add_option("--episodes", f.episodes,
                     "the episode file of run --episodes (JSONL); with --follow, its topic")
        ->required();
    score
        ->add_option("--detections", f.detections,
                     "the detector's output: JSONL or CSV with device_id, seq or ts, is_anomaly "
                     "or score; with --follow, its alert topic")
        ->required();
    score
        ->add_option("--threshold", f.thresholds,
                     "a number: predict score >= it (default: the best F1's); METRIC OP VALUE: "
                     "pass/fail, exit 99 when it fails, e.g. 'f1>=0.8' (repeatable)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    score->add_option("--json", f.json, "write every figure as JSON to PATH");
    score
        ->add_option("--include-class", f.include_classes,
                     "also score this label class: transport, drift or regime (repeatable; value "
                     "and fraud always)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    score->add_option("--alpha", f.alpha, "range recall's existence reward weight, 0..1")
        ->capture_default_str();
    score->add_option("--cardinality", f.cardinality, "range cardinality factor: one, reciprocal")
        ->capture_default_str();
    score->add_option("--bias", f.bias, "range positional bias: flat, front, middle, back")
        ->capture_default_str();
    score->add_option("--profile", f.profile,
                      "the run's profile: names the group of devices without episodes");
    score
        ->add_option("--devices", f.devices,
                     "with --profile: --devices as the run was given (N or GROUP=N, repeatable)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    score->add_flag("--follow", f.follow,
                    "live: read the three Kafka topics from their beginning as they grow, with "
                    "figures on stderr every second; end on SIGTERM/SIGINT or --idle, then "
                    "report as offline");
    score
        ->add_option("--max-delay", f.max_delay,
                     "--follow: how long after its label a detection may arrive; live figures "
                     "count a label only once it is this old (the end counts every one)")
        ->capture_default_str();
    score
        ->add_option("--idle", f.idle,
                     "--follow: end when, labels having come, no topic brought anything for "
                     "this long")
        ->capture_default_str();
    score->add_option("--http", f.http,
                      "--follow: serve /metrics (synthfeed_score_*), /livez, /readyz on "
                      "HOST:PORT (:PORT for 127.0.0.1)");
    score
        ->add_option("-X", f.properties,
                     "--follow: librdkafka property name=value for the consumers (repeatable)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    return score;
}

int command_score(const score_flags& f, const profile_reader& read, const std::atomic<bool>& stop) {
    std::vector<score_threshold> criteria;
    const score_options o = options_of(f, criteria);
    if (!f.devices.empty() && f.profile.empty())
        throw config_error({"--devices", 0, 0}, "", "needs --profile");
    if (!f.follow) {
        for (const auto& [flag, given] :
             {std::pair{"--http", !f.http.empty()}, std::pair{"-X", !f.properties.empty()},
              std::pair{"--truth", f.truth.starts_with("kafka:")}})
            if (given)
                throw config_error({flag, 0, 0}, "",
                                   "needs --follow (a topic is read live; offline reads files)");
    }
    std::optional<profile> fleet;
    if (!f.profile.empty()) fleet = read(f.profile, f.devices);
    const auto groups = [&fleet](truth_set& truth) {
        if (fleet) name_groups(truth, *fleet);
    };
    score_report report;
    if (f.follow) {
        report = follow_score(f, {o, groups, stop});
    } else {
        truth_set truth = read_truth(f.truth, f.episodes);
        groups(truth);
        const detection_set detections = read_detections(f.detections, truth);
        for (const auto& w : detections.warnings) fmt::print(stderr, "synthfeed: warning: {}\n", w);
        report = score_detections(truth, detections, o);
    }
    print_report(report, stderr);
    if (!f.json.empty()) {
        std::ofstream out(f.json);
        out << report_json(
            report, {{"truth", f.truth}, {"episodes", f.episodes}, {"detections", f.detections}});
        if (!out) throw run_error(f.json, "write failed");
    }
    bool failed = false;
    for (const auto& c : criteria) {
        const auto v = report_metric(report, c.parts.metric);
        const bool ok = v && threshold_holds(c.parts.op, *v, c.value);
        fmt::print(stderr, "threshold  {} {} ({})\n", c.expression, ok ? "passed" : "FAILED",
                   v ? fmt::format("{:.6g}", *v) : "no value");
        failed |= !ok;
    }
    return failed ? exit_threshold_failed : exit_ok;
}

} // namespace synthfeed
