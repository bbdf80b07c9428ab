#include "src/cli/command_model.hpp"

#include <algorithm>

#include <CLI/CLI.hpp>

#include "connectors/connector_registry.hpp"
#include "src/encode/message_encoder.hpp"
#include "src/labels/label_encoder.hpp"

namespace synthfeed {
namespace {

template <class Row, std::size_t N>
value_hint choices_of(const vocabulary<Row, N>& table) {
    value_hint hint{value_kind::choice, {}, {}};
    for (const Row& row : table)
        hint.choices.push_back({std::string(row.name), std::string(row.summary)});
    return hint;
}

/// The scheme prefixes of the connectors ("stdout:", "kafka://"); only those that can read a
/// stream back when `readable`.
value_hint stream_uris(bool readable) {
    value_hint hint{value_kind::uri, {}, {}};
    for (const auto& k : connector_kinds()) {
        if (readable && !k.read) continue;
        const bool authority = k.synopsis.find("://") != std::string_view::npos;
        hint.choices.push_back(
            {std::string(k.scheme) + (authority ? "://" : ":"), std::string(k.description)});
    }
    return hint;
}

/// Values cli.cpp checks itself after parsing, so that an error names the flag and its env
/// twin: CLI11 cannot tell them. (An option with a CLI::IsMember check needs no entry here.)
/// tests/cli/completion_test.cpp completes each of these, so a renamed option fails there.
value_hint known_values(std::string_view command, std::string_view option) {
    if (option == "--format") return choices_of(payload_formats);
    if (option == "--labels-format") return choices_of(label_formats);
    if (option == "profile" || option == "profiles") return {value_kind::file, {}, "*.toml"};
    if (command == "fit") {
        if (option == "series") return {value_kind::file, {}, "*.csv"};
        if (option == "--out") return {value_kind::file, {}, "*.toml"};
        if (option == "--labels") return {value_kind::file, {}, "*.json"};
    }
    if (option == "--summary-json" || option == "--json") return {value_kind::file, {}, ""};
    if (command == "score" &&
        (option == "--truth" || option == "--episodes" || option == "--detections"))
        return {value_kind::file, {}, ""};
    if (command == "score" && option == "--profile") return {value_kind::file, {}, "*.toml"};
    if (command == "verify" && (option == "source" || option == "--labels"))
        return stream_uris(true);
    if (option == "--sink" || option == "--labels" || option == "--episodes")
        return stream_uris(false);
    return {};
}

/// The values of a CLI::IsMember check, which CLI11 shows in the type name: "TEXT:{a,b,c}".
std::vector<value_choice> member_values(const std::string& type_name) {
    std::vector<value_choice> values;
    const auto open = type_name.find(":{");
    if (open == std::string::npos || type_name.back() != '}') return values;
    std::string_view list(type_name);
    list = list.substr(open + 2, list.size() - open - 3);
    while (!list.empty()) {
        const auto comma = std::min(list.find(','), list.size());
        values.push_back({std::string(list.substr(0, comma)), ""});
        list.remove_prefix(std::min(comma + 1, list.size()));
    }
    return values;
}

/// "-h", "--help": the short names, then the long ones.
std::vector<std::string> option_names(const CLI::Option& opt) {
    std::vector<std::string> names;
    for (const auto& s : opt.get_snames()) names.push_back("-" + s);
    for (const auto& l : opt.get_lnames()) names.push_back("--" + l);
    return names;
}

/// The longest of `names`, which says most ("--help" rather than "-h").
const std::string& longest(const std::vector<std::string>& names) {
    return *std::max_element(names.begin(), names.end(),
                             [](const auto& a, const auto& b) { return a.size() < b.size(); });
}

option_doc describe_option(const CLI::App& app, const CLI::Option& opt) {
    option_doc d;
    d.names = option_names(opt);
    if (opt.get_positional() && d.names.empty()) d.positional = opt.get_name(true);
    const std::string type = opt.get_type_name();
    d.value_name = type.substr(0, type.find(':'));
    d.description = opt.get_description();
    d.envname = opt.get_envname();
    d.required = opt.get_required();
    d.repeatable = opt.get_items_expected_max() > 1 ||
                   opt.get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
    d.ends_parsing = &opt == app.get_help_ptr() || &opt == app.get_version_ptr();
    for (const CLI::Option* other : opt.get_excludes())
        if (const auto names = option_names(*other); !names.empty())
            d.excludes.push_back(longest(names));
    std::sort(d.excludes.begin(), d.excludes.end());
    if (opt.get_items_expected_max() == 0) { // a flag
        d.value.kind = value_kind::none;
    } else if (auto members = member_values(type); !members.empty()) {
        d.value = {value_kind::choice, std::move(members), {}};
    } else {
        d.value = known_values(app.get_name(), d.display_name());
    }
    return d;
}

bool is_hidden(const CLI::Option& opt) {
    return opt.get_group().empty();
}

command_doc describe_command(const CLI::App& app) {
    command_doc c;
    c.name = app.get_name();
    c.description = app.get_description();
    c.footer = app.get_footer();
    for (const CLI::Option* opt : app.get_options()) {
        if (is_hidden(*opt)) continue;
        option_doc d = describe_option(app, *opt);
        (d.names.empty() ? c.positionals : c.options).push_back(std::move(d));
    }
    const CLI::App* parent = app.get_parent();
    if (parent != nullptr && app.get_fallthrough()) {
        auto defined_here = [&](const std::string& name) {
            return std::any_of(c.options.begin(), c.options.end(), [&](const option_doc& o) {
                return std::find(o.names.begin(), o.names.end(), name) != o.names.end();
            });
        };
        for (const CLI::Option* opt : parent->get_options()) {
            if (is_hidden(*opt) || !opt->nonpositional()) continue;
            option_doc d = describe_option(*parent, *opt);
            if (std::none_of(d.names.begin(), d.names.end(), defined_here))
                c.inherited.push_back(std::move(d));
        }
    }
    for (const CLI::App* sub :
         app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); }))
        c.commands.push_back(describe_command(*sub));
    return c;
}

} // namespace

const std::string& option_doc::display_name() const {
    return names.empty() ? positional : longest(names);
}

command_doc describe_command_line(const CLI::App& app) {
    return describe_command(app);
}

} // namespace synthfeed
