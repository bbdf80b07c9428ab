#pragma once
/// The command line as data: each command of the CLI11 app with its options, positional
/// arguments and what their values can be. The shell completion scripts and the man page are
/// rendered from it, so they name exactly what the parser accepts and cannot drift from it.

#include <cstddef>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace synthfeed {

/// What the value of an option or positional argument can be, as completion offers it.
enum class value_kind {
    none,   ///< a flag: it takes no value
    text,   ///< free text (a number, a duration, name=value): nothing to offer
    choice, ///< one of `value_hint::choices`
    file,   ///< a path, matching `value_hint::pattern` when it is set
    uri,    ///< a stream URI: a scheme prefix of `value_hint::choices` ("kafka://") or a path
};

/// One value offered for an option: its name and, when known, one line on it.
struct value_choice {
    std::string name;
    std::string summary;
};

/// How to complete a value.
struct value_hint {
    value_kind kind = value_kind::text;
    std::vector<value_choice> choices;
    std::string pattern; ///< file: a glob such as "*.toml"; empty for any file
};

/// One option or positional argument of a command.
struct option_doc {
    std::vector<std::string> names; ///< "-h", "--help"; empty for a positional argument
    std::string positional;         ///< a positional argument's name ("profile")
    std::string value_name;         ///< as --help shows it: "TEXT", "UINT", …
    std::string description;
    std::string envname; ///< the environment variable that sets it, if any
    bool required = false;
    bool repeatable = false;           ///< may be given more than once, each value kept
    bool ends_parsing = false;         ///< --help, --version: nothing else matters after it
    std::vector<std::string> excludes; ///< names of the options it cannot go with
    value_hint value;

    bool takes_value() const { return value.kind != value_kind::none; }
    /// "--sink" (the longest name) or "profile".
    const std::string& display_name() const;
};

/// A command (the program itself, or one of its subcommands) with what it accepts.
struct command_doc {
    std::string name;
    std::string description;
    std::string footer;
    std::vector<option_doc> options;     ///< in definition order
    std::vector<option_doc> positionals; ///< in order
    /// Options of the parent the command takes too (CLI11's fallthrough: --log-level after
    /// `run`), the ones it does not define itself.
    std::vector<option_doc> inherited;
    std::vector<command_doc> commands; ///< visible subcommands, in definition order
};

/// Describes `app` and its visible subcommands (hidden ones, in no group, are left out).
command_doc describe_command_line(const CLI::App& app);

} // namespace synthfeed
