#include "src/score/live_score.hpp"

#include "src/core/errors.hpp"

namespace synthfeed {

live_scorer::live_scorer(std::array<std::string, live_stream_count> sources)
    : sources_(std::move(sources)),
      labels_parser_(sources_[static_cast<std::size_t>(live_stream::labels)]),
      rows_parser_(sources_[static_cast<std::size_t>(live_stream::detections)]) {}

std::optional<std::string> live_scorer::add(live_stream s, std::string_view line,
                                            clock::time_point now) {
    live_stream_counts& c = counts_[static_cast<std::size_t>(s)];
    const std::uint64_t n = ++c.lines;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    const std::string& source = sources_[static_cast<std::size_t>(s)];
    if (line.empty()) {
        ++c.bad;
        return source + ":" + std::to_string(n) + ": an empty message";
    }
    try {
        switch (s) {
        case live_stream::labels:
            if (auto l = labels_parser_.parse(line, n)) labels_.push_back({std::move(*l), now, n});
            break;
        case live_stream::episodes: {
            truth_episode e = parse_episode(line, source, n);
            if (!episode_ids_.insert(e.id).second)
                input_error(source, n, "episode", "\"" + e.id.substr(0, 60) + "\" appears twice");
            episodes_.push_back(std::move(e));
            break;
        }
        case live_stream::detections:
            if (auto r = rows_parser_.parse(line, n)) rows_.push_back({std::move(*r), n});
            break;
        }
    } catch (const config_error& e) { // the offline parsers' refusal: counted, not fatal
        ++c.bad;
        return e.what();
    }
    return std::nullopt;
}

live_snapshot live_scorer::snapshot(std::optional<clock::time_point> settled) const {
    live_snapshot out;
    truth_builder b;
    for (const truth_episode& e : episodes_) b.add_episode(e);
    const std::string& labels = sources_[static_cast<std::size_t>(live_stream::labels)];
    for (const arrived_label& l : labels_) {
        if (settled && l.at > *settled)
            ++out.unsettled_labels;
        else if (!b.knows_episodes(l.line))
            ++out.waiting_labels;
        else
            b.add_label(l.line, labels, l.number);
    }
    out.truth = std::move(b).finish();
    detection_joiner joiner(out.truth, sources_[static_cast<std::size_t>(live_stream::detections)]);
    for (const arrived_row& r : rows_) joiner.add(r.row, r.number);
    out.detections = std::move(joiner).finish();
    return out;
}

} // namespace synthfeed
