#pragma once
/// A payment-card transaction feed: each device is a card with a home town and favourite
/// merchants there; transactions arrive as a Poisson process with daily and weekly seasonality.
/// Fraud episodes reshape a card's transactions by typology. Ids never carry the truth: which
/// card or merchant is hit is drawn uniformly from keyed streams.
///
/// Concurrency: immutable after construction; shared by all workers.

#include <cstdint>
#include <vector>

#include "src/config/profile.hpp"
#include "src/core/rng.hpp"

namespace synthfeed {

/// The fraud typology live on a card's transaction, if any.
struct fraud_effects {
    bool active = false;
    fraud_pattern pattern = fraud_pattern::none;
    double magnitude = 0;
    rng_stream episode; ///< keyed by card, spec and episode: the fraudster's choices
};

class transaction_model {
  public:
    /// `group_key` keys the merchant population (locations, categories).
    transaction_model(const transaction_spec& spec, rng_stream group_key);

    /// Transactions per millisecond of a card at `ts` (seasonality and live fraud).
    double intensity(sim_time ts, const fraud_effects& fraud) const noexcept;
    /// The highest intensity without fraud (the daily peak on a weekend, if busier).
    double peak_intensity() const noexcept;

    /// Fills values[0..tx_field_count) for transaction `tick` of the card keyed `card`.
    void fill(double* values, const rng_stream& card, std::uint64_t tick,
              const fraud_effects& fraud) const noexcept;

  private:
    struct place {
        double lat, lon;
    };
    std::uint32_t home_town(const rng_stream& card) const noexcept;
    std::uint32_t pick_category(double u) const noexcept;
    /// A merchant of `category` in `town` (any merchant of the town when it has none).
    std::uint32_t merchant_in(std::uint32_t town, std::uint32_t category,
                              std::uint64_t choice) const noexcept;
    /// A town at least a quarter of the region away from `from`, chosen by `u`.
    std::uint32_t far_town(std::uint32_t from, double u) const noexcept;

    const transaction_spec* spec_;
    std::vector<place> towns_;
    std::vector<place> merchant_places_;
    std::vector<std::uint32_t> merchant_category_;
    std::vector<std::vector<std::uint32_t>> by_town_category_; ///< [town * categories + c]
    std::vector<double> cumulative_share_;
    std::uint32_t online_category_ = 0;     ///< card testing shops here
    std::uint32_t high_value_category_ = 0; ///< account takeovers buy here
};

} // namespace synthfeed
