#pragma once
/// Checks a stream read back from a sink against what synthfeed promised: per device, every
/// seq exactly once (gaps, duplicates), in order, and joined to its label. Used by
/// `synthfeed verify`; knows nothing about where the records came from.
///
/// With labels, transport faults the labels announce (`"faults":[...]`) explain what would
/// otherwise be a problem: a `duplicate` tick's second copy, the late arrival of an
/// `out_of_order`/`late` tick (and of a duplicate's copy), a `dropped` tick's absence and, at
/// the level of counts, the unparsable lines of `malformed` ticks. Only what the labels do not
/// explain fails the check.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synthfeed {

/// (device_id, seq) parsed from one payload (JSON or CSV as synthfeed writes them).
struct message_identity {
    std::string device_id;
    std::uint64_t seq = 0;
};

/// Extracts device_id and seq from a JSON object or a CSV line "device_id,seq,ts,...".
/// JSON is parsed strictly: the whole payload must be one complete, valid JSON object with a
/// string `device_id` and a non-negative integer `seq` (a truncated payload never parses,
/// whatever prefix it keeps). A CSV line needs its seq column closed by a comma.
std::optional<message_identity> parse_message_identity(std::string_view payload);

/// Transport faults a label line lists (bits of `label_identity::faults`); clock_skew and
/// schema_drift leave (device_id, seq) alone and are not tracked.
enum label_fault : std::uint8_t {
    fault_duplicate = 1,    ///< the message is sent twice
    fault_out_of_order = 2, ///< sent after later messages of its device
    fault_late = 4,         ///< sent long after later messages of its device
    fault_malformed = 8,    ///< payload truncated: does not parse
    fault_dropped = 16,     ///< never sent (`"emitted":false`)
};

struct label_identity {
    std::string device_id;
    std::uint64_t seq = 0;
    bool emitted = true;
    bool anomalous = false;
    std::uint8_t faults = 0; ///< label_fault bits
};

/// Extracts the fields of a JSONL label line (or a CSV label row
/// `device_id,seq,ts,is_anomaly,label,episodes,emitted[,faults]`, faults joined by `|`).
std::optional<label_identity> parse_label_identity(std::string_view line);

/// Per device. Problem counts are those the labels do not explain (without labels: all).
struct device_report {
    std::string device_id;
    std::uint64_t messages = 0;
    std::uint64_t duplicates = 0;   ///< copies beyond the first of a seq (unexplained)
    std::uint64_t out_of_order = 0; ///< seq lower than one seen before it, same stream (unexpl.)
    std::uint64_t missing = 0;      ///< seqs expected (by labels, or inside [min, max]) but absent
    std::uint64_t unlabelled = 0;   ///< messages with no label line (labels given)
    std::uint64_t unexpected = 0;   ///< messages whose label says they were silenced
    std::uint64_t explained_duplicates = 0;   ///< second copies of `duplicate` ticks
    std::uint64_t explained_out_of_order = 0; ///< reordering a fault label accounts for
    std::uint64_t malformed = 0; ///< absent `malformed` ticks (their payload did not parse)

    std::uint64_t problems() const noexcept {
        return duplicates + out_of_order + missing + unlabelled + unexpected;
    }
};

/// What the labels account for (all zero without labels).
struct explained_faults {
    std::uint64_t duplicates = 0; ///< extra copies of ticks labelled `duplicate`
    std::uint64_t reordered = 0;  ///< out-of-order arrivals involving an out_of_order/late tick
                                  ///< (or a duplicate's second copy)
    std::uint64_t unparsable = 0; ///< unparsable lines covered by `malformed` ticks
    std::uint64_t dropped = 0;    ///< absent ticks labelled `dropped` (`"emitted":false`)
    std::uint64_t malformed = 0;  ///< absent `malformed` ticks matched by unparsable lines
};

struct verify_report {
    // What was observed, explained or not.
    std::uint64_t messages = 0;
    std::uint64_t unparsable = 0;
    std::uint64_t labels = 0;
    std::uint64_t anomalous_labels = 0;
    std::uint64_t devices = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t missing = 0;
    std::uint64_t unlabelled = 0;
    std::uint64_t unexpected = 0;
    bool labels_checked = false;
    explained_faults explained;
    // What the labels do not explain (equal to the observed counts without labels).
    std::uint64_t unexplained_duplicates = 0;
    std::uint64_t unexplained_out_of_order = 0;
    std::uint64_t unexplained_missing = 0;
    std::uint64_t unexplained_unparsable = 0;
    std::vector<device_report> worst; ///< devices with unexplained problems, most first (≤ 20)

    /// No unexplained loss, duplication or unparsable line (and, when strict, no unexplained
    /// reordering).
    bool ok(bool strict_order) const noexcept {
        return unexplained_unparsable == 0 && unexplained_duplicates == 0 &&
               unexplained_missing == 0 && unexpected == 0 &&
               (!labels_checked || unlabelled == 0) &&
               (!strict_order || unexplained_out_of_order == 0);
    }
    std::string text(bool strict_order = false) const;
    std::string json(bool strict_order = false) const;
};

class stream_checker {
  public:
    /// `stream` distinguishes independent ordered streams (Kafka partitions).
    void add_message(std::string_view payload, int stream = 0);
    void add_label(std::string_view line);
    /// Messages and labels may come in any order: everything is judged here.
    verify_report report() const;

  private:
    /// A message that arrived after a higher seq of its device in the same stream.
    struct reorder_event {
        std::uint64_t seq;
        std::uint64_t highest_before; ///< the stream's highest seq when it arrived
        bool copy;                    ///< an earlier copy of this seq had arrived already
    };
    struct device_state {
        /// Per seq: copies in the low 7 bits (saturating), `raised_high` if one arrived as its
        /// stream's new highest seq.
        std::vector<std::uint8_t> seen;
        std::map<int, std::uint64_t> last; ///< highest seq per stream
        std::uint64_t messages = 0;
        std::vector<reorder_event> reordered;
        /// Per seq: 0 no label, 1 emitted, 2 silenced; label_fault bits shifted by 2.
        std::vector<std::uint8_t> labelled;
    };
    static constexpr std::uint8_t copies_mask = 0x7f, raised_high = 0x80;

    std::map<std::string, device_state, std::less<>> devices_;
    std::uint64_t messages_ = 0, unparsable_ = 0, labels_ = 0, anomalous_ = 0;
    bool have_labels_ = false;
    std::string scratch_; ///< decoded device id when it had JSON escapes
};

} // namespace synthfeed
