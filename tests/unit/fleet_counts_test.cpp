// --devices: how a fleet is scaled (scaled_counts) and how the loader takes the new counts,
// running every check it makes on a count again.
#include <gtest/gtest.h>

#include "src/core/errors.hpp"
#include "tests/test_support.hpp"

using namespace synthfeed;
using namespace synthfeed::testing;

namespace {

/// A profile of groups with these names and counts (ids "<name>-<index>").
profile fleet_of(const std::vector<std::pair<std::string, int>>& groups,
                 const std::string& extra = "") {
    std::string text = "name = \"f\"\n";
    for (const auto& [name, count] : groups)
        text += "[[group]]\nname = \"" + name + "\"\ncount = " + std::to_string(count) +
                "\n[[group.field]]\nname = \"x\"\nsignal = { kind = \"constant\" }\n" + extra;
    return profile_from(text);
}

group_counts scale(const profile& p, std::optional<std::uint64_t> total,
                   const group_counts& named = {}) {
    return scaled_counts(p, total, named, "--devices");
}

std::string error_of(const profile& p, std::optional<std::uint64_t> total,
                     const group_counts& named = {}) {
    try {
        scale(p, total, named);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST(FleetCounts, ATotalScalesEveryGroupInProportion) {
    const profile p = fleet_of({{"sensors", 900}, {"gateways", 100}});
    EXPECT_EQ(scale(p, 5000), (group_counts{{"sensors", 4500}, {"gateways", 500}}));
    EXPECT_EQ(scale(p, 10), (group_counts{{"sensors", 9}, {"gateways", 1}}));
    // Largest remainder: 7 × 2/3 = 4.67 and 7 × 1/3 = 2.33 make 5 and 2, exactly 7 in all.
    EXPECT_EQ(scale(fleet_of({{"a", 2}, {"b", 1}}), 7), (group_counts{{"a", 5}, {"b", 2}}));
    // Equal remainders go to the earlier group.
    EXPECT_EQ(scale(fleet_of({{"a", 1}, {"b", 1}}), 3), (group_counts{{"a", 2}, {"b", 1}}));
    // At least one device a group, taken from the largest.
    EXPECT_EQ(scale(fleet_of({{"a", 1000}, {"b", 1}, {"c", 1}}), 3),
              (group_counts{{"a", 1}, {"b", 1}, {"c", 1}}));
    EXPECT_EQ(scale(fleet_of({{"a", 1000}, {"b", 1}}), 50), (group_counts{{"a", 49}, {"b", 1}}));
}

TEST(FleetCounts, NamedGroupsKeepTheirsAndTheOthersShareTheRest) {
    const profile p = fleet_of({{"a", 10}, {"b", 30}, {"gw", 2}});
    EXPECT_EQ(scale(p, std::nullopt, {{"gw", 7}}), (group_counts{{"gw", 7}}));
    EXPECT_EQ(scale(p, 107, {{"gw", 7}}), (group_counts{{"a", 25}, {"b", 75}, {"gw", 7}}));
    EXPECT_EQ(scale(p, 6, {{"a", 1}, {"b", 2}, {"gw", 3}}),
              (group_counts{{"a", 1}, {"b", 2}, {"gw", 3}}));
}

TEST(FleetCounts, ImpossibleFleetsAreConfigErrorsNamingTheFlag) {
    const profile p = fleet_of({{"sensors", 900}, {"gateways", 100}});
    EXPECT_NE(error_of(p, 1).find("--devices: a fleet of 1"), std::string::npos) << error_of(p, 1);
    EXPECT_NE(error_of(p, 0).find(
                  "a fleet of 0 is too small for 2 groups: each needs at least one device"),
              std::string::npos);
    EXPECT_NE(error_of(p, 10, {{"gateways", 10}})
                  .find("a fleet of 10 is too small (the groups named take 10) for 1 other group"),
              std::string::npos);
    EXPECT_NE(error_of(p, std::nullopt, {{"sensor", 3}})
                  .find("no group \"sensor\" in the profile (did you mean \"sensors\"?"),
              std::string::npos);
    EXPECT_NE(error_of(p, std::nullopt, {{"sensors", 0}}).find("a group holds 1 to 100000000"),
              std::string::npos);
    EXPECT_NE(error_of(p, 2'000'000'000).find("at most 1000000000"), std::string::npos);
    // In proportion, one group would pass its bound.
    EXPECT_NE(error_of(fleet_of({{"a", 1}, {"b", 1}}), 1'000'000'000)
                  .find("group \"a\" would hold 500000000 devices"),
              std::string::npos);
    EXPECT_NE(error_of(p, 500, {{"sensors", 100}, {"gateways", 300}})
                  .find("every group is named, and together they hold 400 devices, not 500"),
              std::string::npos);
}

TEST(FleetCounts, TheLoaderChecksTheNewCounts) {
    const std::string windows = "[[group.anomaly]]\nkind = \"dropout\"\nwindows = [{ start = "
                                "\"1h\", end = \"2h\", devices = [\"g-4\"] }]\n";
    const std::string text = "name = \"f\"\n[[group]]\nname = \"g\"\ncount = 5\n[[group.field]]\n"
                             "name = \"x\"\nsignal = { kind = \"constant\" }\n" +
                             windows;
    auto load = [&](std::uint64_t count) {
        return parse_profile(text, "f.toml", {}, [](const std::string&) { return std::nullopt; },
                             {{"g", count}});
    };
    EXPECT_EQ(load(9).groups[0].count, 9u);
    EXPECT_EQ(load(9).groups[0].anomalies[0].windows[0].devices, std::vector<std::uint32_t>{4});
    try {
        load(4); // the window names device 4, past a group of 4
        ADD_FAILURE() << "no error";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("no device \"g-4\""), std::string::npos) << e.what();
    }
}
