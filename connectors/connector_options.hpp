#pragma once
/// Connector options as data, in a vocabulary no connector owns. A connector declares a table
/// of the options it takes (name, type, default, help, secret or not, env twin); one merge
/// checks every source against it in rising precedence (the profile's `[<table>]`, env twins,
/// pass-through flags, the URI query), and `synthfeed list`, `--help` and `synthfeed validate`
/// read the same table. Adding an option is one row plus the code that uses its value.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/core/errors.hpp"

namespace synthfeed {

/// How an option's value is checked and converted.
enum class option_type {
    text,     ///< any text; `min` is the fewest bytes (1: not empty)
    flag,     ///< true or false (also 1/0, yes/no)
    integer,  ///< a whole number in [min, max], or one of the words in `choices`
    number,   ///< a finite real number greater than `min` and, when `max` > 0, at most `max`
    duration, ///< "10s", "250ms": [min, max] milliseconds (`max` 0: no upper bound)
    choice,   ///< one of `choices`
    file,     ///< the path of a readable file
};

/// One option of a connector: a row of its table.
struct connector_option {
    std::string_view name; ///< as in the URI query and the profile table: "qos"
    option_type type = option_type::text;
    std::string_view default_value = {}; ///< what applies when no source sets it; "" for none (or
                                         ///< a default the connector computes: `help` tells it)
    std::string_view help = {};          ///< one line, for `synthfeed list` and the READMEs
    bool secret = false;           ///< its value is never printed: not in errors, lists or logs
    std::string_view env = {};     ///< its env twin ("SYNTHFEED_MQTT_PASSWORD"), or none
    double min = 0;                ///< see option_type
    double max = 0;                ///< see option_type
    std::string_view choices = {}; ///< "block|drop"; for `integer`, words taken besides numbers
    /// A further rule: why `value` is refused, or empty. Runs after the type's own check.
    std::string (*check)(std::string_view value) = nullptr;
};

/// One option as given by a source: a profile table, an env variable, a flag or a URI.
struct connector_setting {
    std::string name;      ///< "qos", "linger.ms"
    std::string value;     ///< as text, percent-decoded when it came from a URI
    source_location where; ///< profile.toml:12:5, "SYNTHFEED_MQTT_PASSWORD", "-X", "--sink"
    /// What messages name beside `where`: the table ("mqtt", as "mqtt.qos") for a profile, the
    /// URI with its secrets masked for a URI; empty for env variables and flags.
    std::string context = {};
};

/// Settings a connector hands to its client library as they are (librdkafka properties); the
/// library checks them, and its own messages say what is wrong.
struct passthrough_options {
    std::string_view what;       ///< "librdkafka properties"
    std::string_view flag;       ///< the command-line flag taking name=value: "-X"
    std::string_view env_prefix; ///< "SYNTHFEED_RDKAFKA_": NAME in upper case, '_' for '.'
    /// Whether a name holds a secret (its value is never printed).
    bool (*is_secret)(std::string_view name);
    /// Checks settings with the library; config_error at the first bad one.
    void (*check)(const std::vector<connector_setting>& settings);
    /// Prints every name the library takes, with its default and help (`-X list`).
    void (*print_all)();
};

/// The options of one connector (shared by its schemes: mqtt:// and mqtts://).
struct option_table {
    std::string_view name; ///< the profile's [name] table, and the key of its settings: "mqtt"
    std::span<const connector_option> rows;
    const passthrough_options* passthrough = nullptr; ///< names not in `rows`, when any

    /// The row called `name`, or nullptr.
    const connector_option* find(std::string_view name) const noexcept;
};

/// A connector's options after the merge: for each row, the setting that won (the last one
/// given), checked. Getters take a row's name (std::logic_error for a name not in the table:
/// a bug) and fall back to the row's default.
class option_values {
  public:
    explicit option_values(const option_table& table);

    bool given(std::string_view name) const;
    std::string_view text(std::string_view name) const;
    bool flag(std::string_view name) const;
    std::int64_t integer(std::string_view name) const;
    double number(std::string_view name) const;
    std::chrono::milliseconds duration(std::string_view name) const;
    /// The setting that won, for messages about combinations of options; nullptr if none.
    const connector_setting* setting(std::string_view name) const;
    /// Pass-through settings, lowest precedence first (the library keeps the last of a name).
    const std::vector<connector_setting>& passthrough() const noexcept { return passthrough_; }

  private:
    friend option_values merge_options(const option_table&, const std::vector<connector_setting>&,
                                       const std::vector<connector_setting>&);
    std::size_t index_of(std::string_view name) const;

    const option_table* table_;
    std::vector<std::optional<connector_setting>> winners_;
    std::vector<connector_setting> passthrough_;
};

/// Merges `settings` (the profile's table, env, flags: lowest precedence first) and then
/// `uri_query` against `table`. Every setting is checked against its row, even one a later
/// source overrides; a name not in the table goes to the pass-through when the table has one
/// (never from a URI). Throws config_error at the setting's origin: an unknown name (with a
/// "did you mean"), a bad value. Secret values are never part of a message.
option_values merge_options(const option_table& table,
                            const std::vector<connector_setting>& settings,
                            const std::vector<connector_setting>& uri_query = {});

/// Why `value` does not suit `option`, or empty. Never quotes a secret's value.
std::string option_problem(const connector_option& option, std::string_view value);

/// What the environment sets for `table`: each row's env twin, then the pass-through
/// variables (sorted by name).
std::vector<connector_setting> environment_settings(const option_table& table);

/// Throws config_error for `s`: "profile.toml:3:1: mqtt.qos: PROBLEM" for a profile table,
/// "--sink: URI: qos: PROBLEM", "SYNTHFEED_X: name: PROBLEM" otherwise.
[[noreturn]] void fail_setting(const connector_setting& s, const std::string& problem);

/// `synthfeed list` lines for a table: one an option (name, default, help, secret, env twin),
/// then where pass-through names go.
std::string describe_options(const option_table& table);

/// The pieces of a comma-separated list ("a,b" → {"a", "b"}; "" → {""}).
std::vector<std::string> split_list(std::string_view text, char separator = ',');

} // namespace synthfeed
