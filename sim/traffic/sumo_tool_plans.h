#pragma once
// Plans from SUMO's own tools, as starting points and references for the
// search: tlsCycleAdaptation.py -u (Webster's cycle and splits on the demand,
// one cycle for all lights), tlsCoordinator.py (offsets along the routes) and
// the two together. Each runs as a child process with a time limit; a tool
// that is missing or fails leaves its plan out with the reason.

#include "cadereau/sim/traffic/greenwave.h"

#include <filesystem>
#include <string>
#include <vector>

namespace cadereau::sim::traffic {

struct ToolPlan {
  std::string name;
  std::vector<std::filesystem::path> additionals;  // in loading order
  std::string error;                               // why there is no plan; empty when there is
};

// Runs the tools on options' network and demand (tlsCycleAdaptation counts
// the hour from begin_s; tlsCoordinator reads the first route file only),
// writing their files and logs in dir.
std::vector<ToolPlan> sumo_tool_plans(const GreenwaveOptions& options, double begin_s, const std::filesystem::path& dir);

// The programs in effect at the lights after loading the additional files
// over base (one program per light): a <tlLogic> with phases replaces the
// light's program, one without phases (as tlsCoordinator.py writes) only
// moves its offset.
std::vector<twin::TrafficLight> programs_after(const std::vector<twin::TrafficLight>& base,
                                               const std::vector<std::filesystem::path>& additionals);

}  // namespace cadereau::sim::traffic
