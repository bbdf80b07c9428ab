#pragma once
/// Checks a stream read back from a sink against what synthfeed promised: per device, every
/// seq exactly once (gaps, duplicates), in order, and joined to its label. Used by
/// `synthfeed verify`; knows nothing about where the records came from.

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

/// Extracts device_id and seq from a JSON object or a CSV line "device_id,seq,...".
std::optional<message_identity> parse_message_identity(std::string_view payload);

struct label_identity {
    std::string device_id;
    std::uint64_t seq = 0;
    bool emitted = true;
    bool anomalous = false;
};

/// Extracts the fields of a JSONL label line (or a CSV label row).
std::optional<label_identity> parse_label_identity(std::string_view line);

struct device_report {
    std::string device_id;
    std::uint64_t messages = 0;
    std::uint64_t duplicates = 0;   ///< copies beyond the first of a seq
    std::uint64_t out_of_order = 0; ///< seq lower than one seen before it (same stream)
    std::uint64_t missing = 0;      ///< seqs expected (by labels, or inside [min, max]) but absent
    std::uint64_t unlabelled = 0;   ///< messages with no label line (labels given)
    std::uint64_t unexpected = 0;   ///< messages whose label says they were silenced
};

struct verify_report {
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
    std::vector<device_report> worst; ///< devices with problems, most problems first (≤ 20)

    /// No loss and no duplicates (and, when strict, no reordering).
    bool ok(bool strict_order) const noexcept {
        return unparsable == 0 && duplicates == 0 && missing == 0 && unexpected == 0 &&
               (!labels_checked || unlabelled == 0) && (!strict_order || out_of_order == 0);
    }
    std::string text() const;
    std::string json() const;
};

class stream_checker {
  public:
    /// `stream` distinguishes independent ordered streams (Kafka partitions).
    void add_message(std::string_view payload, int stream = 0);
    void add_label(std::string_view line);
    verify_report report() const;

  private:
    struct device_state {
        std::vector<std::uint8_t> seen;    ///< copies per seq (saturating)
        std::map<int, std::uint64_t> last; ///< last seq per stream
        std::uint64_t messages = 0;
        std::uint64_t out_of_order = 0;
        std::vector<std::uint8_t> labelled; ///< 0 none, 1 emitted, 2 silenced
    };
    std::map<std::string, device_state, std::less<>> devices_;
    std::uint64_t messages_ = 0, unparsable_ = 0, labels_ = 0, anomalous_ = 0;
    bool have_labels_ = false;
};

} // namespace synthfeed
