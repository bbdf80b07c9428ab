#include "src/config/toml_reader.hpp"

#include "src/core/text_escape.hpp"

#include <cmath>

namespace synthfeed {
namespace {

const char* type_name(toml::node_type t) {
    switch (t) {
    case toml::node_type::table:
        return "table";
    case toml::node_type::array:
        return "array";
    case toml::node_type::string:
        return "string";
    case toml::node_type::integer:
        return "integer";
    case toml::node_type::floating_point:
        return "float";
    case toml::node_type::boolean:
        return "boolean";
    default:
        return "date/time";
    }
}

} // namespace

toml_reader::toml_reader(const toml::table& table, std::string file, std::string path)
    : table_(&table), file_(std::move(file)), path_(std::move(path)) {}

std::string toml_reader::key_path(std::string_view key) const {
    if (path_.empty()) return std::string(key);
    return path_ + "." + std::string(key);
}

void toml_reader::fail_at(const toml::node& node, std::string_view key,
                          const std::string& message) const {
    const auto& region = node.source();
    throw config_error(
        {file_, static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)},
        key_path(key), message);
}

void toml_reader::fail(std::string_view key, const std::string& message) const {
    if (const toml::node* n = table_->get(key)) fail_at(*n, key, message);
    fail_at(*table_, key, message);
}

const toml::node* toml_reader::lookup(std::string_view key) {
    seen_.emplace(key);
    return table_->get(key);
}

std::optional<std::string> toml_reader::optional_string(std::string_view key) {
    const toml::node* n = lookup(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(key, std::string("expected a string, got ") + type_name(n->type()));
    const std::string& text = n->as_string()->get();
    if (find_control_character(text) != std::string::npos) fail(key, control_character_message);
    return text;
}

std::string toml_reader::string(std::string_view key) {
    auto s = optional_string(key);
    if (!s) fail(key, "is required");
    return *s;
}

std::string toml_reader::choice(std::string_view key,
                                std::initializer_list<std::string_view> choices,
                                std::string_view fallback) {
    return choice(key, std::span<const std::string_view>(choices.begin(), choices.size()),
                  fallback);
}

std::string toml_reader::choice(std::string_view key, std::span<const std::string_view> choices,
                                std::string_view fallback) {
    auto s = optional_string(key);
    if (!s) {
        if (fallback.empty()) fail(key, "is required");
        return std::string(fallback);
    }
    std::string list;
    for (auto c : choices) {
        if (c == *s) return *s;
        list += (list.empty() ? "" : ", ") + std::string(c);
    }
    fail(key, "unknown value \"" + *s + "\" (expected one of: " + list + ")");
}

std::optional<double> toml_reader::optional_number(std::string_view key) {
    const toml::node* n = lookup(key);
    if (!n) return std::nullopt;
    double v = 0;
    if (auto i = n->as_integer())
        v = static_cast<double>(i->get());
    else if (auto f = n->as_floating_point())
        v = f->get();
    else
        fail(key, std::string("expected a number, got ") + type_name(n->type()));
    if (!std::isfinite(v)) fail(key, "must be a finite number");
    return v;
}

double toml_reader::number(std::string_view key, double fallback) {
    return optional_number(key).value_or(fallback);
}

std::int64_t toml_reader::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                  std::int64_t max) {
    const toml::node* n = lookup(key);
    if (!n) return fallback;
    auto i = n->as_integer();
    if (!i) fail(key, std::string("expected an integer, got ") + type_name(n->type()));
    if (i->get() < min || i->get() > max)
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                      " (got " + std::to_string(i->get()) + ")");
    return i->get();
}

bool toml_reader::boolean(std::string_view key, bool fallback) {
    const toml::node* n = lookup(key);
    if (!n) return fallback;
    auto b = n->as_boolean();
    if (!b) fail(key, std::string("expected true or false, got ") + type_name(n->type()));
    return b->get();
}

sim_duration toml_reader::duration(std::string_view key, sim_duration fallback) {
    auto s = optional_string(key);
    if (!s) return fallback;
    auto d = parse_duration(*s);
    if (!d)
        fail(key,
             "invalid duration \"" + *s + "\" (examples: \"250ms\", \"1s\", \"1h30m\", \"2d\")");
    return *d;
}

spread_param toml_reader::spread(std::string_view key, spread_param fallback) {
    const toml::node* n = lookup(key);
    if (!n) return fallback;
    auto as_double = [&](const toml::node& v) -> std::optional<double> {
        if (auto i = v.as_integer()) return static_cast<double>(i->get());
        if (auto f = v.as_floating_point())
            return std::isfinite(f->get()) ? std::optional(f->get()) : std::nullopt;
        return std::nullopt;
    };
    if (auto arr = n->as_array()) {
        if (arr->size() != 2) fail(key, "a per-device range is written [low, high]");
        auto lo = as_double(*arr->get(0));
        auto hi = as_double(*arr->get(1));
        if (!lo || !hi) fail(key, "a per-device range holds two finite numbers");
        if (*lo > *hi) fail(key, "range low is above high");
        return {*lo, *hi};
    }
    auto v = as_double(*n);
    if (!v)
        fail(key,
             std::string("expected a finite number or [low, high], got ") + type_name(n->type()));
    return {*v, *v};
}

std::optional<toml_reader> toml_reader::table(std::string_view key) {
    const toml::node* n = lookup(key);
    if (!n) return std::nullopt;
    auto t = n->as_table();
    if (!t) fail(key, std::string("expected a table, got ") + type_name(n->type()));
    return toml_reader(*t, file_, key_path(key));
}

std::vector<toml_reader> toml_reader::tables(std::string_view key) {
    std::vector<toml_reader> out;
    const toml::node* n = lookup(key);
    if (!n) return out;
    if (auto t = n->as_table()) {
        out.emplace_back(*t, file_, key_path(key));
        return out;
    }
    auto arr = n->as_array();
    if (!arr) fail(key, std::string("expected tables, got ") + type_name(n->type()));
    for (std::size_t i = 0; i < arr->size(); ++i) {
        auto t = arr->get(i)->as_table();
        if (!t) fail_at(*arr->get(i), key, "expected a table");
        out.emplace_back(*t, file_, key_path(key) + "[" + std::to_string(i) + "]");
    }
    return out;
}

const toml::array* toml_reader::array(std::string_view key) {
    const toml::node* n = lookup(key);
    if (!n) return nullptr;
    auto arr = n->as_array();
    if (!arr) fail(key, std::string("expected an array, got ") + type_name(n->type()));
    return arr;
}

void toml_reader::reject_unknown_keys() const {
    for (auto&& [k, v] : *table_) {
        const std::string key(k.str());
        if (seen_.contains(key)) continue;
        const std::string best = closest_match(key, seen_);
        std::string message = "unknown key";
        if (!best.empty()) message += " (did you mean \"" + best + "\"?)";
        const auto& region = k.source().begin.line ? k.source() : v.source();
        throw config_error(
            {file_, static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)},
            key_path(key), message);
    }
}

} // namespace synthfeed
