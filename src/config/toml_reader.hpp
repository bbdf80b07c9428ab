#pragma once
/// Typed, position-aware reading of one TOML table: every value read is checked for type and
/// range, every key not read is reported as unknown with a "did you mean" hint.

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "src/config/profile.hpp"
#include "src/core/errors.hpp"

namespace synthfeed {

/// Why profile text may not hold control characters.
inline constexpr const char* control_character_message =
    "must not hold control characters (U+0000-U+001F, U+007F): every output writes one "
    "message per line, and line protocol cannot carry them";

class toml_reader {
  public:
    /// `path` names the table in messages, e.g. "group[0].field[1]".
    toml_reader(const toml::table& table, std::string file, std::string path);

    bool has(std::string_view key) const { return table_->contains(key); }

    std::string string(std::string_view key);
    std::optional<std::string> optional_string(std::string_view key);
    /// Reads a string that must be one of `choices`.
    std::string choice(std::string_view key, std::initializer_list<std::string_view> choices,
                       std::string_view fallback);
    std::string choice(std::string_view key, std::span<const std::string_view> choices,
                       std::string_view fallback);
    /// Reads a kind of `table` by name, offering the rows `keep` accepts; required unless
    /// `fallback` names one. The error lists the names offered, in table order.
    template <class Row, std::size_t N, class Keep>
    decltype(Row::kind) kind(std::string_view key, const vocabulary<Row, N>& table, Keep keep,
                             std::string_view fallback = "") {
        std::vector<std::string_view> names;
        for (const Row& row : table)
            if (keep(row)) names.push_back(row.name);
        return table.find(choice(key, names, fallback))->kind;
    }
    double number(std::string_view key, double fallback);
    std::optional<double> optional_number(std::string_view key);
    std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                         std::int64_t max);
    bool boolean(std::string_view key, bool fallback);
    sim_duration duration(std::string_view key, sim_duration fallback);
    /// A number, or [lo, hi] for a per-device spread.
    spread_param spread(std::string_view key, spread_param fallback);
    std::optional<toml_reader> table(std::string_view key);
    /// Elements of an array of tables (also accepts a single table).
    std::vector<toml_reader> tables(std::string_view key);
    const toml::array* array(std::string_view key);
    /// The value at `key` (marked as read), or nullptr.
    const toml::node* node(std::string_view key) { return lookup(key); }

    /// Fails for the first key that was never read.
    void reject_unknown_keys() const;

    /// An error at the value of `key` (or at this table when the key is absent).
    [[noreturn]] void fail(std::string_view key, const std::string& message) const;
    /// An error at an arbitrary node inside this table.
    [[noreturn]] void fail_at(const toml::node& node, std::string_view key,
                              const std::string& message) const;

    const std::string& file() const noexcept { return file_; }
    const std::string& path() const noexcept { return path_; }
    std::string key_path(std::string_view key) const;

  private:
    const toml::node* lookup(std::string_view key);

    const toml::table* table_;
    std::string file_;
    std::string path_;
    std::set<std::string, std::less<>> seen_;
};

} // namespace synthfeed
