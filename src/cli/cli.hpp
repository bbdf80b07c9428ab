#pragma once
/// The command line: `synthfeed run | validate | list | --version`. Returns the exit code
/// (0 ok, 1 runtime failure or undelivered messages, 2 usage or configuration error).

namespace synthfeed {

int run_cli(int argc, char** argv);

} // namespace synthfeed
