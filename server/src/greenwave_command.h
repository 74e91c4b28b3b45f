#pragma once
// `cadereau greenwave`: plans and evaluates a coordinated light plan along a
// corridor with SUMO (contract in DESIGN.md; the logic is
// sim::traffic::run_greenwave).

#include <iosfwd>
#include <string>
#include <vector>

namespace cadereau::server {

// The usage lines of the command, for the CLI's help text.
extern const char* const kGreenwaveUsage;

// args: the words after "greenwave". Returns 0 ok, 2 on a usage error (told
// on err); cadereau::Error from the planner propagates to the caller.
int greenwave_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cadereau::server
