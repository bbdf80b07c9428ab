#pragma once
/// The man page of the command line, in roff (man(7) macros), from the same description of
/// the CLI11 app as the completion scripts.

#include <string>
#include <string_view>

#include "src/cli/command_model.hpp"

namespace synthfeed {

/// A section 1 page for `c`: NAME, SYNOPSIS, DESCRIPTION, the program's OPTIONS, one
/// subsection of COMMANDS for each command with its arguments and options (and their fixed
/// values), and ENVIRONMENT, every variable that sets an option. ASCII only: other
/// characters are written as groff escapes, so the page renders without preconv.
std::string man_page(const command_doc& c, std::string_view version);

} // namespace synthfeed
