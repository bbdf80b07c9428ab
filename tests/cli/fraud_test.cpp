// The transaction feed and its fraud typologies, end to end through the binary with the
// shipped card_fraud profile (fixed seed): each typology shapes what its label claims, and
// ids carry no trace of the label.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "src/core/time.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;
using json = nlohmann::json;

namespace {

const std::string card_fraud = source_path("profiles/card_fraud.toml");

struct transaction {
    json message;
    json label;
    sim_time ts;
};

struct fraud_run {
    std::map<std::string, std::vector<transaction>> by_card; ///< in seq order
    std::map<std::string, json> episodes;
    std::map<std::string, std::vector<const transaction*>> by_episode;
};

const fraud_run& run() {
    static const fraud_run r = [] {
        const auto o = run_to_files(card_fraud, "--duration 4d --shard 0/4 --threads 2", "fraud");
        EXPECT_EQ(o.exit_code, 0);
        fraud_run f;
        std::map<std::pair<std::string, std::uint64_t>, json> labels;
        for (const auto& line : lines(o.labels)) {
            json l = json::parse(line);
            labels.emplace(
                std::pair{l["device_id"].get<std::string>(), l["seq"].get<std::uint64_t>()},
                std::move(l));
        }
        for (const auto& line : lines(o.data)) {
            json m = json::parse(line);
            const std::string card = m["device_id"];
            json label = labels.at({card, m["seq"].get<std::uint64_t>()});
            const sim_time ts = *parse_timestamp(m["ts"].get<std::string>());
            f.by_card[card].push_back({std::move(m), std::move(label), ts});
        }
        for (auto& [card, txs] : f.by_card)
            std::sort(txs.begin(), txs.end(), [](const auto& a, const auto& b) {
                return a.message["seq"] < b.message["seq"];
            });
        for (const auto& line : lines(o.episodes)) {
            json e = json::parse(line);
            f.episodes.emplace(e["episode"].get<std::string>(), std::move(e));
        }
        for (const auto& [card, txs] : f.by_card)
            for (const auto& t : txs)
                for (const auto& id : t.label["episodes"])
                    f.by_episode[id.get<std::string>()].push_back(&t);
        return f;
    }();
    return r;
}

/// Episodes of one typology that have at least `min_transactions`.
std::vector<std::pair<const json*, const std::vector<const transaction*>*>>
episodes_of(const std::string& kind, std::size_t min_transactions = 1) {
    std::vector<std::pair<const json*, const std::vector<const transaction*>*>> out;
    for (const auto& [id, e] : run().episodes) {
        if (e["kind"] != kind) continue;
        auto it = run().by_episode.find(id);
        if (it != run().by_episode.end() && it->second.size() >= min_transactions)
            out.push_back({&e, &it->second});
    }
    return out;
}

bool fraudulent(const transaction& t) {
    return t.label["label"] != "normal";
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

double km_between(const json& a, const json& b) {
    constexpr double to_rad = 3.14159265358979323846 / 180;
    const double dlat = (b["lat"].get<double>() - a["lat"].get<double>()) * to_rad;
    const double dlon = (b["lon"].get<double>() - a["lon"].get<double>()) * to_rad;
    const double h =
        std::sin(dlat / 2) * std::sin(dlat / 2) + std::cos(a["lat"].get<double>() * to_rad) *
                                                      std::cos(b["lat"].get<double>() * to_rad) *
                                                      std::sin(dlon / 2) * std::sin(dlon / 2);
    return 2 * 6371 * std::asin(std::sqrt(h));
}

/// The card's usual fingerprint: the most common one on its legitimate transactions.
std::string usual_device(const std::string& card) {
    std::map<std::string, int> seen;
    for (const auto& t : run().by_card.at(card))
        if (!fraudulent(t)) ++seen[t.message["device_fingerprint"].get<std::string>()];
    return std::max_element(seen.begin(), seen.end(),
                            [](const auto& a, const auto& b) { return a.second < b.second; })
        ->first;
}

} // namespace

TEST(Fraud, EveryTypologyOccursAsAFraudEpisodeAndLabelsItsTransactions) {
    std::map<std::string, int> kinds;
    for (const auto& [id, e] : run().episodes) {
        EXPECT_EQ(e["class"], "fraud");
        ++kinds[e["kind"].get<std::string>()];
    }
    for (const char* kind : {"card_testing", "account_takeover", "velocity_burst",
                             "impossible_travel", "compromised_merchant"}) {
        EXPECT_GT(kinds[kind], 20) << kind;
        for (const auto& [e, txs] : episodes_of(kind))
            for (const transaction* t : *txs) // overlapping typologies join with '+'
                ASSERT_NE(("+" + t->label["label"].get<std::string>() + "+")
                              .find("+" + std::string(kind) + "+"),
                          std::string::npos);
    }
}

TEST(Fraud, CardTestingIsBurstsOfTinyOnlineAuthorisations) {
    const auto bursts = episodes_of("card_testing", 3);
    ASSERT_GT(bursts.size(), 50u);
    std::vector<double> gaps_in_bursts, usual_gaps;
    for (const auto& [e, txs] : bursts) {
        for (std::size_t i = 0; i < txs->size(); ++i) {
            EXPECT_LE((*txs)[i]->message["amount"].get<double>(), 5.0);
            EXPECT_EQ((*txs)[i]->message["channel"], "ecom");
            if (i) gaps_in_bursts.push_back(static_cast<double>((*txs)[i]->ts - (*txs)[i - 1]->ts));
        }
        const auto& card = run().by_card.at((*e)["device_id"].get<std::string>());
        for (std::size_t i = 1; i < card.size(); ++i)
            if (!fraudulent(card[i]) && !fraudulent(card[i - 1]))
                usual_gaps.push_back(static_cast<double>(card[i].ts - card[i - 1].ts));
    }
    EXPECT_LT(median(gaps_in_bursts), 5 * 60'000); // minutes apart at most
    EXPECT_GT(median(usual_gaps), 60 * 60'000);    // hours apart, usually
}

TEST(Fraud, AccountTakeoverIsANewDeviceElsewhereSpendingMore) {
    const auto takeovers = episodes_of("account_takeover");
    ASSERT_GT(takeovers.size(), 50u);
    std::vector<double> fraud_amounts, usual_amounts;
    for (const auto& [e, txs] : takeovers) {
        const std::string card = (*e)["device_id"];
        const std::string usual = usual_device(card);
        for (const transaction* t : *txs) {
            EXPECT_NE(t->message["device_fingerprint"], usual);
            fraud_amounts.push_back(t->message["amount"].get<double>());
        }
        for (const auto& t : run().by_card.at(card))
            if (!fraudulent(t)) usual_amounts.push_back(t.message["amount"].get<double>());
    }
    EXPECT_GT(median(fraud_amounts), 5 * median(usual_amounts));
}

TEST(Fraud, VelocityBurstsTransactFarFasterThanTheCardDoes) {
    const auto bursts = episodes_of("velocity_burst", 2);
    ASSERT_GT(bursts.size(), 50u);
    double burst_count = 0, burst_ms = 0;
    for (const auto& [e, txs] : bursts) {
        burst_count += static_cast<double>(txs->size());
        burst_ms += static_cast<double>(*parse_timestamp((*e)["end"].get<std::string>()) -
                                        *parse_timestamp((*e)["start"].get<std::string>()));
    }
    const double per_day_in_bursts = burst_count / burst_ms * ms_per_day;
    EXPECT_GT(per_day_in_bursts, 5 * 5.0); // the profile's cards average 5 a day
}

TEST(Fraud, ImpossibleTravelPutsOneCardInTwoFarPlacesMinutesApart) {
    const auto episodes = episodes_of("impossible_travel", 3);
    ASSERT_GT(episodes.size(), 50u);
    std::size_t impossible = 0;
    for (const auto& [e, txs] : episodes) {
        double fastest = 0; // km/h between consecutive card-present transactions
        for (std::size_t i = 1; i < txs->size(); ++i) {
            const auto& a = (*txs)[i - 1]->message;
            const auto& b = (*txs)[i]->message;
            if (a["channel"] != "pos" || b["channel"] != "pos") continue;
            const double hours =
                std::max(1.0, static_cast<double>((*txs)[i]->ts - (*txs)[i - 1]->ts)) / 3.6e6;
            fastest = std::max(fastest, km_between(a, b) / hours);
        }
        impossible += fastest > 1000; // faster than an airliner
    }
    EXPECT_GT(impossible, episodes.size() * 8 / 10);
}

TEST(Fraud, CompromisedMerchantsSeeManyCardsAtOnce) {
    std::map<std::string, std::set<std::string>> cards_at;
    for (const auto& [e, txs] : episodes_of("compromised_merchant"))
        for (const transaction* t : *txs) {
            char expected[16];
            std::snprintf(expected, sizeof expected, "m-%05d",
                          static_cast<int>((*e)["magnitude"].get<double>()));
            ASSERT_EQ(t->message["merchant_id"], expected);
            EXPECT_EQ(t->message["channel"], "pos");
            cards_at[expected].insert(t->message["device_id"].get<std::string>());
        }
    ASSERT_GE(cards_at.size(), 2u); // about one compromise a day
    for (const auto& [merchant, cards] : cards_at) EXPECT_GE(cards.size(), 10u) << merchant;
}

TEST(Fraud, IdsAndNonBehaviouralFieldsDoNotRevealTheLabel) {
    // A trivial classifier: learn the fraud share of each value of a feature on half of the
    // cards, score the other half with it. On ids and non-behavioural fields it must do no
    // better than chance; on a behavioural field (the control) it must, or the test is blind.
    // The run is shard 0/4 (cards 0, 4, 8, ...): alternate ones train.
    struct feature {
        const char* name;
        std::string (*of)(const transaction&);
        bool behavioural;
    };
    const std::vector<feature> features{
        {"card index mod 97",
         [](const transaction& t) {
             const std::string id = t.message["device_id"];
             return std::to_string(std::stoul(id.substr(5)) % 97);
         },
         false},
        {"last id digit",
         [](const transaction& t) { return t.message["device_id"].get<std::string>().substr(10); },
         false},
        {"id prefix",
         [](const transaction& t) {
             return t.message["device_id"].get<std::string>().substr(0, 7);
         },
         false},
        {"currency", [](const transaction& t) { return t.message["currency"].get<std::string>(); },
         false},
        {"control: amount band",
         [](const transaction& t) {
             return std::to_string(
                 static_cast<int>(std::log2(t.message["amount"].get<double>() + 1)));
         },
         true},
    };
    for (const auto& f : features) {
        std::map<std::string, std::pair<double, double>> train; // value -> (fraud, total)
        std::vector<std::pair<double, bool>> scored;            // (score, is fraud)
        for (const auto& [card, txs] : run().by_card) {
            const bool training = std::stoul(card.substr(5)) / 4 % 2 == 0;
            for (const auto& t : txs) {
                if (training) {
                    auto& [fraud, total] = train[f.of(t)];
                    fraud += fraudulent(t), total += 1;
                }
            }
        }
        for (const auto& [card, txs] : run().by_card) {
            if (std::stoul(card.substr(5)) / 4 % 2 == 0) continue;
            for (const auto& t : txs) {
                const auto it = train.find(f.of(t));
                const double score = it == train.end() ? 0 : it->second.first / it->second.second;
                scored.push_back({score, fraudulent(t)});
            }
        }
        // AUC by ranks (ties share their mean rank).
        std::sort(scored.begin(), scored.end());
        double positives = 0, negatives = 0, rank_sum = 0;
        for (std::size_t i = 0; i < scored.size();) {
            std::size_t j = i;
            while (j < scored.size() && scored[j].first == scored[i].first) ++j;
            const double mean_rank = (static_cast<double>(i + j) + 1) / 2;
            for (std::size_t k = i; k < j; ++k)
                if (scored[k].second)
                    rank_sum += mean_rank, positives += 1;
                else
                    negatives += 1;
            i = j;
        }
        ASSERT_GT(positives, 1000);
        const double auc = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
        if (f.behavioural)
            EXPECT_GT(auc, 0.6) << f.name;
        else
            EXPECT_NEAR(auc, 0.5, 0.05) << f.name;
    }
}
