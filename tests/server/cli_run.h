#pragma once
// Runs one `cadereau` command line in-process and keeps what it printed.

#include "cadereau/server/cli.h"

#include <sstream>
#include <string>
#include <vector>

namespace cadereau::testing {

struct CliRun {
  int code = 0;
  std::string out;
  std::string err;
};

inline CliRun run_cadereau(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  CliRun r;
  r.code = server::run_cli(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace cadereau::testing
