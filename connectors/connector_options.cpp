#include "connectors/connector_options.hpp"

#include "connectors/connector_context.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <unistd.h>

#include <fmt/format.h>

#include "src/core/time.hpp"

extern char** environ;

namespace synthfeed {
namespace {

std::optional<bool> parse_flag(std::string_view v) {
    if (v == "true" || v == "1" || v == "yes") return true;
    if (v == "false" || v == "0" || v == "no") return false;
    return std::nullopt;
}

std::optional<std::int64_t> parse_integer(std::string_view v) {
    std::int64_t n = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc{} || ptr != v.data() + v.size()) return std::nullopt;
    return n;
}

std::optional<double> parse_number(std::string_view v) {
    double n = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc{} || ptr != v.data() + v.size() || !std::isfinite(n))
        return std::nullopt;
    return n;
}

bool is_choice(std::string_view choices, std::string_view v) {
    if (choices.empty()) return false;
    for (const auto& c : split_list(choices, '|'))
        if (c == v) return true;
    return false;
}

/// "a|b|c" → "a, b or c".
std::string spelled_choices(std::string_view choices) {
    const auto words = split_list(choices, '|');
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i)
        out += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
    return out;
}

std::string number_text(double v) {
    return fmt::format("{:.15g}", v);
}

std::string unknown_option_problem(const option_table& table, std::string_view name,
                                   bool from_uri) {
    std::string known;
    std::vector<std::string_view> names;
    for (const auto& row : table.rows) {
        known += (known.empty() ? "" : ", ") + std::string(row.name);
        names.push_back(row.name);
    }
    const std::string closest = closest_match(name, names);
    std::string problem = "unknown option";
    if (!closest.empty()) problem += " (did you mean \"" + closest + "\"?)";
    problem += "; known: " + known;
    if (table.passthrough && from_uri)
        problem += "; " + std::string(table.passthrough->what) + " go in " +
                   std::string(table.passthrough->flag) + " name=value, " +
                   std::string(table.passthrough->env_prefix) + "NAME or the profile's [" +
                   std::string(table.name) + "] table";
    return problem;
}

} // namespace

std::vector<std::string> split_list(std::string_view text, char separator) {
    std::vector<std::string> out;
    std::size_t from = 0;
    for (;;) {
        const auto at = std::min(text.find(separator, from), text.size());
        out.emplace_back(text.substr(from, at - from));
        if (at == text.size()) return out;
        from = at + 1;
    }
}

const connector_option* option_table::find(std::string_view n) const noexcept {
    for (const auto& row : rows)
        if (row.name == n) return &row;
    return nullptr;
}

option_values::option_values(const option_table& table)
    : table_(&table), winners_(table.rows.size()) {}

std::size_t option_values::index_of(std::string_view name) const {
    if (const connector_option* row = table_->find(name))
        return static_cast<std::size_t>(row - table_->rows.data());
    throw std::logic_error("no option \"" + std::string(name) + "\" in the " +
                           std::string(table_->name) + " table");
}

bool option_values::given(std::string_view name) const {
    return winners_[index_of(name)].has_value();
}

std::string_view option_values::text(std::string_view name) const {
    const std::size_t i = index_of(name);
    return winners_[i] ? std::string_view(winners_[i]->value) : table_->rows[i].default_value;
}

bool option_values::flag(std::string_view name) const {
    return parse_flag(text(name)).value_or(false);
}

std::int64_t option_values::integer(std::string_view name) const {
    return parse_integer(text(name)).value_or(0);
}

double option_values::number(std::string_view name) const {
    return parse_number(text(name)).value_or(0);
}

std::chrono::milliseconds option_values::duration(std::string_view name) const {
    return std::chrono::milliseconds(parse_duration(text(name)).value_or(0));
}

const connector_setting* option_values::setting(std::string_view name) const {
    const auto& w = winners_[index_of(name)];
    return w ? &*w : nullptr;
}

void fail_setting(const connector_setting& s, const std::string& problem) {
    if (s.where.line > 0) throw config_error(s.where, s.context + "." + s.name, problem);
    throw config_error(s.where, s.context, s.name + ": " + problem);
}

std::string option_problem(const connector_option& o, std::string_view v) {
    if (v.find('\0') != std::string_view::npos) return "must not hold NUL (%00)";
    const bool unbounded = o.max == 0;
    std::string problem;
    switch (o.type) {
    case option_type::text:
        if (static_cast<double>(v.size()) < o.min)
            problem = o.min == 1 ? "must not be empty"
                                 : "must hold at least " + number_text(o.min) + " bytes";
        break;
    case option_type::flag:
        if (!parse_flag(v)) problem = "must be true or false";
        break;
    case option_type::integer: {
        if (is_choice(o.choices, v)) break;
        const auto n = parse_integer(v);
        if (!n || static_cast<double>(*n) < o.min ||
            (!unbounded && static_cast<double>(*n) > o.max))
            problem = "must be " + (o.choices.empty() ? "" : spelled_choices(o.choices) + " or ") +
                      "a whole number " +
                      (unbounded ? "of at least " + number_text(o.min)
                                 : "from " + number_text(o.min) + " to " + number_text(o.max));
        break;
    }
    case option_type::number: {
        const auto n = parse_number(v);
        if (!n || !(*n > o.min) || (!unbounded && *n > o.max))
            problem = "must be a number greater than " + number_text(o.min) +
                      (unbounded ? "" : " and at most " + number_text(o.max));
        break;
    }
    case option_type::duration: {
        const auto d = parse_duration(v);
        const auto lo = static_cast<sim_duration>(o.min), hi = static_cast<sim_duration>(o.max);
        if (!d || *d < lo || (!unbounded && *d > hi))
            problem = unbounded && lo <= 1 ? "must be a duration such as 10s"
                      : unbounded          ? "must be a duration of at least " + format_duration(lo)
                                  : "must be a duration from " + format_duration(lo) + " to " +
                                        format_duration(hi);
        break;
    }
    case option_type::choice:
        if (!is_choice(o.choices, v)) problem = "must be " + spelled_choices(o.choices);
        break;
    case option_type::file:
        if (::access(std::string(v).c_str(), R_OK) != 0)
            problem = o.secret ? "cannot read the file it names"
                               : "cannot read \"" + std::string(v) + "\"";
        break;
    }
    if (problem.empty() && o.check) problem = o.check(v);
    return problem;
}

option_values merge_options(const option_table& table,
                            const std::vector<connector_setting>& settings,
                            const std::vector<connector_setting>& uri_query) {
    option_values out(table);
    const auto take = [&](const connector_setting& s, bool from_uri) {
        const connector_option* row = table.find(s.name);
        if (!row && table.passthrough && !from_uri) {
            out.passthrough_.push_back(s);
            return;
        }
        if (!row) fail_setting(s, unknown_option_problem(table, s.name, from_uri));
        if (const std::string problem = option_problem(*row, s.value); !problem.empty())
            fail_setting(s, problem);
        out.winners_[static_cast<std::size_t>(row - table.rows.data())] = s;
    };
    for (const auto& s : settings) take(s, false);
    for (const auto& s : uri_query) take(s, true);
    return out;
}

std::vector<connector_setting> environment_settings(const option_table& table) {
    std::vector<connector_setting> out;
    for (const auto& row : table.rows)
        if (!row.env.empty())
            if (const char* v = std::getenv(std::string(row.env).c_str()))
                out.push_back({std::string(row.name), v, {std::string(row.env), 0, 0}});
    if (!table.passthrough || table.passthrough->env_prefix.empty()) return out;
    const std::string_view prefix = table.passthrough->env_prefix;
    std::vector<connector_setting> passed;
    for (char** e = environ; e && *e; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (!entry.starts_with(prefix) || eq == std::string_view::npos) continue;
        std::string name(entry.substr(prefix.size(), eq - prefix.size()));
        for (char& c : name)
            c = c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        passed.push_back({std::move(name),
                          std::string(entry.substr(eq + 1)),
                          {std::string(entry.substr(0, eq)), 0, 0}});
    }
    std::sort(passed.begin(), passed.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    out.insert(out.end(), passed.begin(), passed.end());
    return out;
}

std::string describe_options(const option_table& table) {
    std::string out;
    for (const auto& row : table.rows) {
        std::string help(row.help);
        if (row.secret) help += " (secret: never printed)";
        if (!row.env.empty()) help += "; env " + std::string(row.env);
        out += fmt::format("  {:<16} {:<10} {}\n", row.name,
                           row.default_value.empty() ? "-" : row.default_value, help);
    }
    if (const passthrough_options* p = table.passthrough)
        out += fmt::format("  any other name: one of the {} ({} name=value, {}NAME or [{}]; {} "
                           "list prints them)\n",
                           p->what, p->flag, p->env_prefix, table.name, p->flag);
    return out;
}

const std::vector<connector_setting>& connector_context::settings_of(std::string_view table) const {
    static const std::vector<connector_setting> none;
    const auto it = settings.find(table);
    return it == settings.end() ? none : it->second;
}

} // namespace synthfeed
