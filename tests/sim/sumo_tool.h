#pragma once
// Runs one of SUMO's command-line tools (netgenerate, netconvert, duarouter,
// the Python tools) in a test, its output kept in a log shown on failure.

#include "test_support.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace cadereau::testing {

// The tool's exit status; SUMO_HOME is set so that no schema is fetched from the web.
inline int run_command(const std::string& command, const std::filesystem::path& log) {
  ::setenv("SUMO_HOME", "/usr/share/sumo", 1);
  return std::system((command + " > \"" + log.string() + "\" 2>&1").c_str());
}

// Runs the tool and fails the test, showing its log, when it does not exit 0.
inline void run_tool(const std::string& command, const std::filesystem::path& log) {
  const int rc = run_command(command, log);
  INFO(command << "\n" << read_text(log));
  REQUIRE(rc == 0);
}

}  // namespace cadereau::testing
