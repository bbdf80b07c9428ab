// scaled_counts: the fleet resized from the command line (--devices), before the profile is
// read again with the new counts so that every check on a count runs on them.
#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "src/config/profile_loader.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {
namespace {

/// `total` devices shared by groups of `weights` devices in proportion: largest remainder,
/// ties to the earlier group, then at least 1 each, taken from the largest share. Needs
/// total >= weights.size() > 0, total <= max_devices_per_profile and each weight at most
/// max_devices_per_group, so that total × weight fits 64 bits.
std::vector<std::uint64_t> apportion(std::uint64_t total,
                                     const std::vector<std::uint64_t>& weights) {
    const std::uint64_t sum = std::accumulate(weights.begin(), weights.end(), std::uint64_t{0});
    std::vector<std::uint64_t> shares(weights.size()), remainders(weights.size());
    std::uint64_t given = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const std::uint64_t exact = total * weights[i];
        shares[i] = exact / sum;
        remainders[i] = exact % sum;
        given += shares[i];
    }
    std::vector<std::size_t> order(weights.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return remainders[a] > remainders[b]; });
    for (std::size_t k = 0; given < total; ++k, ++given) ++shares[order[k]];
    for (auto& share : shares) {
        if (share > 0) continue;
        // A group below one device takes one from the largest share (the first of equals),
        // which holds two or more since total >= the number of groups.
        --*std::max_element(shares.begin(), shares.end());
        share = 1;
    }
    return shares;
}

std::vector<std::string> group_names(const profile& p) {
    std::vector<std::string> names;
    for (const auto& g : p.groups) names.push_back(g.name);
    return names;
}

} // namespace

group_counts scaled_counts(const profile& p, std::optional<std::uint64_t> total,
                           const group_counts& named, const std::string& origin) {
    auto fail = [&](const std::string& message) {
        throw config_error({origin, 0, 0}, "", message);
    };
    auto check_group = [&](const std::string& name, std::uint64_t count) {
        if (count < 1 || count > max_devices_per_group)
            fail(fmt::format("group \"{}\" would hold {} devices; a group holds 1 to {}",
                             name.substr(0, 40), count, max_devices_per_group));
    };
    for (const auto& [name, count] : named) {
        // Clang 14 cannot capture a structured binding in a lambda: compare by a reference.
        const std::string& wanted = name;
        const bool known = std::any_of(p.groups.begin(), p.groups.end(),
                                       [&](const group_spec& g) { return g.name == wanted; });
        if (!known) {
            const std::vector<std::string> names = group_names(p);
            const std::string closest = closest_match(name, names);
            fail(fmt::format("no group \"{}\" in the profile ({}groups: {})", name.substr(0, 40),
                             closest.empty() ? "" : "did you mean \"" + closest + "\"? ",
                             fmt::join(names, ", ")));
        }
        check_group(name, count);
    }
    group_counts counts;
    std::vector<std::uint64_t> weights;
    std::uint64_t fixed = 0;
    for (const auto& g : p.groups) {
        if (const auto it = named.find(g.name); it != named.end()) {
            counts[g.name] = it->second;
            fixed += it->second;
        } else {
            weights.push_back(g.count);
        }
    }
    auto too_many = [&](std::uint64_t devices) {
        fail(fmt::format("the groups would hold {} devices in all; at most {} are supported",
                         devices, max_devices_per_profile));
    };
    if (total) {
        if (*total > max_devices_per_profile) too_many(*total);
        if (weights.empty() && *total != fixed)
            fail(fmt::format("every group is named, and together they hold {} devices, not {}",
                             fixed, *total));
        if (*total < fixed + weights.size())
            fail(fmt::format("a fleet of {} is too small{} for {} {}{}: each needs at least one "
                             "device",
                             *total,
                             named.empty() ? "" : fmt::format(" (the groups named take {})", fixed),
                             weights.size(), named.empty() ? "" : "other ",
                             weights.size() == 1 ? "group" : "groups"));
        if (!weights.empty()) {
            const std::vector<std::uint64_t> shares = apportion(*total - fixed, weights);
            std::size_t next = 0;
            for (const auto& g : p.groups)
                if (!named.contains(g.name)) counts[g.name] = shares[next++];
        }
    }
    std::uint64_t devices = 0;
    for (const auto& g : p.groups) {
        const auto it = counts.find(g.name);
        const std::uint64_t count = it == counts.end() ? g.count : it->second;
        check_group(g.name, count);
        devices += count;
    }
    if (devices > max_devices_per_profile) too_many(devices);
    return counts;
}

} // namespace synthfeed
