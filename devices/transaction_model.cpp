#include "devices/transaction_model.hpp"

#include "devices/arrivals.hpp"

#include <algorithm>
#include <cmath>

namespace synthfeed {
namespace {

// Per-card constants live far above any transaction's draw counters.
constexpr std::uint64_t card_constants = 1ULL << 62;
enum card_constant : std::uint64_t { home = 0, home_lat = 1, home_lon = 2, fingerprint = 3 };

// Draws of transaction k: counters k * 8 + d.
constexpr std::uint64_t draws_per_transaction = 8;
enum transaction_draw : std::uint64_t {
    draw_category = 0,
    draw_merchant = 1,
    draw_channel = 2,
    draw_amount = 3,
    draw_fraud = 4,
};

constexpr double town_radius_deg = 0.05; // about 5 km: shops and homes around a town centre

double jitter(const rng_stream& key, std::uint64_t counter) noexcept {
    return (2 * key.uniform(counter) - 1) * town_radius_deg;
}

} // namespace

transaction_model::transaction_model(const transaction_spec& spec, rng_stream group_key)
    : spec_(&spec) {
    const rng_stream town_key = group_key.child(1);
    for (std::uint32_t t = 0; t < spec.towns; ++t)
        towns_.push_back({spec.lat_lo + (spec.lat_hi - spec.lat_lo) * town_key.uniform(2 * t),
                          spec.lon_lo + (spec.lon_hi - spec.lon_lo) * town_key.uniform(2 * t + 1)});
    double total = 0;
    for (const auto& c : spec.categories) total += c.share;
    double sum = 0;
    for (std::size_t c = 0; c < spec.categories.size(); ++c) {
        sum += spec.categories[c].share / total;
        cumulative_share_.push_back(sum);
        if (spec.categories[c].ecommerce > spec.categories[online_category_].ecommerce)
            online_category_ = static_cast<std::uint32_t>(c);
        if (spec.categories[c].median_amount > spec.categories[high_value_category_].median_amount)
            high_value_category_ = static_cast<std::uint32_t>(c);
    }
    const auto categories = static_cast<std::uint32_t>(spec.categories.size());
    by_town_category_.resize(std::size_t{spec.towns} * categories);
    const rng_stream merchant_key = group_key.child(2);
    for (std::uint32_t m = 0; m < spec.merchants; ++m) {
        const std::uint32_t town = m % spec.towns; // every town has merchants
        const place& centre = towns_[town];
        merchant_places_.push_back({centre.lat + jitter(merchant_key, 3 * m),
                                    centre.lon + jitter(merchant_key, 3 * m + 1)});
        const std::uint32_t category = pick_category(merchant_key.uniform(3 * m + 2));
        merchant_category_.push_back(category);
        by_town_category_[std::size_t{town} * categories + category].push_back(m);
    }
}

double transaction_model::intensity(sim_time ts, const fraud_effects& fraud) const noexcept {
    const arrival_spec& s = spec_->arrivals;
    double rate = seasonal_rate(s, ts);
    if (fraud.active) {
        switch (fraud.pattern) {
        case fraud_pattern::card_testing: // magnitude: attempts per hour, day or night
            rate = fraud.magnitude / static_cast<double>(ms_per_hour);
            break;
        case fraud_pattern::velocity_burst:
            rate = s.rate_per_ms * fraud.magnitude;
            break;
        case fraud_pattern::account_takeover:
            rate = s.rate_per_ms * 2;
            break;
        case fraud_pattern::impossible_travel:
            rate = s.rate_per_ms * 20; // minutes apart: hundreds of km is out of reach
            break;
        case fraud_pattern::compromised_merchant: // the usual rate, at one merchant
        case fraud_pattern::none:
            break;
        }
    }
    return std::max(rate, s.rate_per_ms * 1e-3); // never stalls a card completely
}

double transaction_model::peak_intensity() const noexcept {
    return peak_rate(spec_->arrivals);
}

std::uint32_t transaction_model::home_town(const rng_stream& card) const noexcept {
    return static_cast<std::uint32_t>(card.uniform(card_constants + home) * spec_->towns);
}

std::uint32_t transaction_model::pick_category(double u) const noexcept {
    const auto it = std::upper_bound(cumulative_share_.begin(), cumulative_share_.end(), u);
    return static_cast<std::uint32_t>(std::min<std::ptrdiff_t>(
        it - cumulative_share_.begin(), static_cast<std::ptrdiff_t>(cumulative_share_.size()) - 1));
}

std::uint32_t transaction_model::merchant_in(std::uint32_t town, std::uint32_t category,
                                             std::uint64_t choice) const noexcept {
    const auto& list = by_town_category_[std::size_t{town} * spec_->categories.size() + category];
    if (!list.empty()) return list[choice % list.size()];
    // No merchant of that category there: any merchant of the town.
    const std::uint32_t per_town = (spec_->merchants - town + spec_->towns - 1) / spec_->towns;
    return town + spec_->towns * static_cast<std::uint32_t>(choice % per_town);
}

std::uint32_t transaction_model::far_town(std::uint32_t from, double u) const noexcept {
    const auto n = static_cast<std::uint32_t>(towns_.size());
    const double span = std::hypot(spec_->lat_hi - spec_->lat_lo, spec_->lon_hi - spec_->lon_lo);
    const auto start = static_cast<std::uint32_t>(u * n);
    std::uint32_t best = (from + 1) % n;
    double best_distance = -1;
    for (std::uint32_t i = 0; i < n; ++i) { // the first far enough, else the farthest
        const std::uint32_t t = (start + i) % n;
        const double d =
            std::hypot(towns_[t].lat - towns_[from].lat, towns_[t].lon - towns_[from].lon);
        if (d >= span / 4) return t;
        if (d > best_distance) best = t, best_distance = d;
    }
    return best;
}

void transaction_model::fill(double* v, const rng_stream& card, std::uint64_t tick,
                             const fraud_effects& fraud) const noexcept {
    const transaction_spec& s = *spec_;
    const std::uint64_t base = tick * draws_per_transaction;
    const std::uint32_t town = home_town(card);
    std::uint32_t category = pick_category(card.uniform(base + draw_category));
    // A card keeps to three favourite merchants per category in its town.
    std::uint64_t choice = card.bits(card_constants + 16 + category) +
                           static_cast<std::uint64_t>(card.uniform(base + draw_merchant) * 3);
    bool ecommerce = card.uniform(base + draw_channel) < s.categories[category].ecommerce;
    double amount = s.categories[category].median_amount *
                    std::exp(s.categories[category].amount_sigma * card.normal(base + draw_amount));
    std::uint32_t merchant = merchant_in(town, category, choice);
    place where{towns_[town].lat + jitter(card, card_constants + home_lat),
                towns_[town].lon + jitter(card, card_constants + home_lon)};
    std::uint64_t device = card.bits(card_constants + fingerprint);

    if (fraud.active) {
        const rng_stream& f = fraud.episode;
        const double u = f.uniform(base + draw_fraud);
        switch (fraud.pattern) {
        case fraud_pattern::card_testing: // tiny authorisations at random web shops
            category = online_category_;
            merchant = merchant_in(static_cast<std::uint32_t>(u * towns_.size()), category,
                                   f.bits(base + 2));
            ecommerce = true;
            amount = 0.5 + 4.5 * card.uniform(base + draw_amount);
            device = f.bits(0);
            where = towns_[far_town(town, f.uniform(1))];
            break;
        case fraud_pattern::account_takeover: // a new device elsewhere buys expensive goods
            category = high_value_category_;
            merchant = merchant_in(static_cast<std::uint32_t>(u * towns_.size()), category,
                                   f.bits(base + 2));
            ecommerce = true;
            amount *= fraud.magnitude;
            device = f.bits(0);
            where = towns_[far_town(town, f.uniform(1))];
            break;
        case fraud_pattern::impossible_travel: // a cloned card used far away, turn about
            if (tick % 2 == 0) {
                const std::uint32_t away = far_town(town, f.uniform(1));
                merchant = merchant_in(away, category, f.bits(base + 2));
                ecommerce = false;
            }
            break;
        case fraud_pattern::compromised_merchant: // the card shops where it is skimmed
            merchant = static_cast<std::uint32_t>(fraud.magnitude) % s.merchants;
            category = merchant_category_[merchant];
            ecommerce = false;
            break;
        case fraud_pattern::velocity_burst: // ordinary purchases, far too many of them
        case fraud_pattern::none:
            break;
        }
    }
    if (!ecommerce) where = merchant_places_[merchant];
    v[tx_amount] = std::max(0.01, std::round(amount * 100) / 100);
    v[tx_currency] = 0;
    v[tx_merchant] = merchant;
    v[tx_category] = category;
    v[tx_mcc] = category;
    v[tx_channel] = ecommerce ? 1 : 0;
    v[tx_lat] = where.lat;
    v[tx_lon] = where.lon;
    v[tx_device] = static_cast<double>(device & 0xffffffffu);
}

} // namespace synthfeed
