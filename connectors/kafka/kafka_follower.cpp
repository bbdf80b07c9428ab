#include "connectors/kafka/kafka_follower.hpp"

#include <map>
#include <vector>

#include <spdlog/spdlog.h>

#include "connectors/kafka/kafka_consumer.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

using steady = std::chrono::steady_clock;

/// How often the topic's partitions are looked up: while it is missing, and once it exists.
constexpr std::chrono::milliseconds missing_recheck{500}, present_recheck{5000};
/// At most this many records per poll: its first wait, then what is already fetched.
constexpr std::size_t max_records_per_poll = 10'000;

class kafka_follower final : public stream_follower {
  public:
    kafka_follower(const sink_uri& uri, const connector_context& ctx)
        : options_(kafka_reader_options(uri, ctx, "score --follow")),
          consumer_(open_kafka_consumer(options_, ctx, "synthfeed-score")),
          give_up_(steady::now() + std::chrono::milliseconds(options_.connect_timeout_ms)) {}

    std::size_t poll(std::chrono::milliseconds timeout, const record_visitor& visit) override {
        if (steady::now() >= next_lookup_) look_up_partitions();
        std::size_t n = 0;
        for (auto wait = timeout; n < max_records_per_poll; wait = std::chrono::milliseconds(0)) {
            rd_kafka_message_t* m =
                rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(wait.count()));
            if (!m) break;
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                next_[m->partition] = m->offset + 1;
                visit(std::string_view(static_cast<const char*>(m->payload), m->len), m->partition);
                ++n;
            } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                spdlog::warn("score --follow: {}: {}", options_.topic_template,
                             rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
        }
        return n;
    }

  private:
    /// Assigns partitions the topic has gained since the last look (all of them at first),
    /// each from its beginning; those already assigned resume where they were.
    void look_up_partitions() {
        std::vector<int> partitions;
        const rd_kafka_resp_err_t err =
            kafka_topic_partitions(consumer_.get(), options_.topic_template, 2000, partitions);
        const bool answered = err == RD_KAFKA_RESP_ERR_NO_ERROR ||
                              err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                              err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
        reached_ = reached_ || answered;
        if (!reached_ && steady::now() >= give_up_)
            throw run_error("kafka", "no answer from " + options_.bootstrap + " within " +
                                         std::to_string(options_.connect_timeout_ms) +
                                         " ms: " + rd_kafka_err2str(err));
        next_lookup_ = steady::now() + (partitions.empty() ? missing_recheck : present_recheck);
        bool grown = false;
        for (const int p : partitions) grown |= next_.emplace(p, RD_KAFKA_OFFSET_BEGINNING).second;
        if (!grown) return;
        rd_kafka_topic_partition_list_t* assignment =
            rd_kafka_topic_partition_list_new(static_cast<int>(next_.size()));
        for (const auto& [partition, offset] : next_)
            rd_kafka_topic_partition_list_add(assignment, options_.topic_template.c_str(),
                                              partition)
                ->offset = offset;
        const rd_kafka_resp_err_t ae = rd_kafka_assign(consumer_.get(), assignment);
        rd_kafka_topic_partition_list_destroy(assignment);
        if (ae != RD_KAFKA_RESP_ERR_NO_ERROR)
            throw run_error("kafka", "cannot assign the partitions of " + options_.topic_template +
                                         ": " + rd_kafka_err2str(ae));
        spdlog::info("score --follow: reading {} ({} partitions) from its beginning",
                     options_.topic_template, next_.size());
    }

    kafka_options options_;
    kafka_consumer_ptr consumer_;
    steady::time_point give_up_;
    steady::time_point next_lookup_{};
    bool reached_ = false;
    std::map<int, std::int64_t> next_; ///< assigned partition → next offset to read
};

} // namespace

std::unique_ptr<stream_follower> follow_kafka_topic(const sink_uri& uri,
                                                    const connector_context& ctx) {
    return std::make_unique<kafka_follower>(uri, ctx);
}

} // namespace synthfeed
