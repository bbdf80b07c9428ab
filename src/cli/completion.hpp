#pragma once
/// Shell completion scripts and the man page, rendered from the CLI11 app the binary parses
/// with: `synthfeed completion bash|zsh` and the hidden `synthfeed man`. The build runs them
/// (cmake/generated_docs.cmake) so that the installed files match the binary they ship with.

#include <optional>
#include <string>

#include "src/cli/command_model.hpp"

namespace CLI {
class App;
}

namespace synthfeed {

/// A bash completion script for the command line `c` (complete -F _NAME NAME). It completes
/// commands, options, the values of options with a fixed set, paths and stream URIs. Needs
/// only bash 4.4 (not the bash-completion package).
std::string bash_completion(const command_doc& c);

/// A zsh completion script for `c` (#compdef NAME), with descriptions of options and values.
/// Autoloaded from $fpath, or sourced after compinit.
std::string zsh_completion(const command_doc& c);

/// Adds `completion SHELL` and the hidden `man` to `app`; parse `app` first, then run().
class doc_commands {
  public:
    /// `version` is what --version prints, for the man page's header.
    doc_commands(CLI::App& app, std::string version);
    doc_commands(const doc_commands&) = delete;
    doc_commands& operator=(const doc_commands&) = delete;

    /// When `completion` or `man` was given: prints what it asks for, returns the exit code.
    std::optional<int> run() const;

  private:
    CLI::App& app_;
    std::string version_;
    std::string shell_;
    CLI::App* completion_;
    CLI::App* man_;
};

} // namespace synthfeed
