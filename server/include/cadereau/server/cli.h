#pragma once
// The `cadereau` command line. Each command's logic lives here so that tests
// call it directly; main() only forwards argv and the exit code.

#include <iosfwd>
#include <string>
#include <vector>

namespace cadereau::server {

// Runs one command line (args excludes the program name). Writes results to
// out, errors to err; returns the process exit code: 0 ok, 1 failure, 2 usage.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cadereau::server
