#pragma once
/// Ground truth as text: per-message label lines (JSONL, or CSV with is_anomaly as
/// GutenTAG/TimeEval read it) and per-episode lines (JSONL); for the benchmark layouts
/// (TimeEval, NAB), one layout_row per tick for the layout writer to collect.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "devices/group_model.hpp"
#include "src/config/profile.hpp"
#include "src/core/byte_buffer.hpp"
#include "src/core/time.hpp"
#include "src/labels/layout_row.hpp"

namespace synthfeed {

enum class label_format { jsonl, csv, timeeval, nab };
inline constexpr vocabulary label_formats{std::array{
    kind_row<label_format>{label_format::jsonl, "jsonl", "", "one JSON object per message"},
    kind_row<label_format>{
        label_format::csv, "csv", "",
        "device_id,seq,ts,is_anomaly,label,episodes,emitted,faults (is_anomaly as "
        "TimeEval/GutenTAG)"},
    kind_row<label_format>{label_format::timeeval, "timeeval", "",
                           "a directory: a CSV per device with values and is_anomaly, and "
                           "TimeEval's datasets.csv"},
    kind_row<label_format>{label_format::nab, "nab", "",
                           "a directory: NAB's data/ CSVs per device and field, "
                           "labels/combined_labels.json and combined_windows.json"},
}};
static_assert(label_formats.in_enum_order());

/// Whether a label format is a benchmark layout: a directory written at the end of the run
/// from layout_rows (src/layouts), rather than a line per tick to a sink.
constexpr bool writes_layout(label_format f) noexcept {
    return f == label_format::timeeval || f == label_format::nab;
}

/// Names truth: labels ("normal", "spike", "level_shift+spike") and episode ids
/// ("<device_id>:<anomaly index>:<episode number>", unique and stable for a profile + seed;
/// "<device_id>:injected:<injection id>" for episodes injected through the control API).
class truth_names {
  public:
    /// `injections` (optional) names the kinds of injected episodes.
    explicit truth_names(const profile& p, const injection_board* injections = nullptr);

    /// "normal", or the kinds of the live value and fraud episodes joined by '+'.
    void append_label(byte_buffer& out, std::uint32_t group,
                      std::span<const episode_ref> live) const;
    /// The kinds of the live transport faults, each quoted when `quoted`, joined by `sep`.
    void append_faults(byte_buffer& out, std::uint32_t group, std::span<const episode_ref> live,
                       char sep, bool quoted) const;
    /// The first live value or fraud episode (the one "episode" names), if any.
    const episode_ref* first_labelled_episode(std::uint32_t group,
                                              std::span<const episode_ref> live) const noexcept;
    /// Device ids keep to an alphabet no format reserves (checked at load), so episode ids
    /// are written as they are, in JSON strings and CSV cells alike.
    void append_episode_id(byte_buffer& out, std::string_view device_id, episode_ref e) const;
    /// Closes the label string and adds the "episode" member: the first labelled episode's
    /// id, or null (`","episode":"<id>"` or `","episode":null`).
    void append_episode_member(byte_buffer& out, std::string_view device_id, std::uint32_t group,
                               std::span<const episode_ref> live) const;

  private:
    anomaly_kind kind(std::uint32_t group, episode_ref e) const noexcept {
        return episode_kind(profile_->groups[group], injections_, e);
    }

    const profile* profile_;
    const injection_board* injections_;
};

/// Encodes one label line per generated tick (emitted or silenced by a dropout); for a layout
/// format (writes_layout), one layout_row instead.
class label_encoder {
  public:
    label_encoder(const profile& p, label_format format,
                  const injection_board* injections = nullptr);

    /// A header line to write before the first label (CSV only).
    std::string header() const;
    void encode(byte_buffer& out, const tick_view& t, std::string_view device_id,
                timestamp_formatter& ts) const;

  private:
    void encode_layout_row(byte_buffer& out, const tick_view& t) const;

    const profile* profile_;
    const injection_board* injections_;
    truth_names names_;
    label_format format_;
    bool has_faults_ = false; ///< the profile has [[group.fault]]s: JSONL lines list "faults"
};

/// Encodes one JSON line per anomaly episode.
class episode_encoder {
  public:
    explicit episode_encoder(const profile& p, const injection_board* injections = nullptr);
    /// `cause_device_id`: for a cascade, the gateway whose episode caused this one.
    void encode(byte_buffer& out, const episode_view& e, std::string_view device_id,
                std::string_view cause_device_id = {}) const;

  private:
    const profile* profile_;
    const injection_board* injections_;
    truth_names names_;
    /// Per group: its name, then each field's, as JSON strings escaped once (RFC 8259).
    std::vector<std::vector<std::string>> quoted_names_;
};

} // namespace synthfeed
