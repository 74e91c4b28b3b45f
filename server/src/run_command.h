#pragma once
// `cadereau run SCENARIO.yaml --out DIR` and `cadereau demo --out DIR`: a
// scenario run headless, as fast as possible, with everything written out.

#include "command_args.h"

#include "cadereau/scenarios/scenario.h"

#include <filesystem>
#include <iosfwd>
#include <optional>

namespace cadereau::server {

struct RunOptions {
  std::filesystem::path out;
  std::optional<std::filesystem::path> territory;  // overrides the scenario's
  int threads = 0;
  bool snapshots = true;
  std::optional<double> save_state_at_s;             // write DIR/state at this time
  std::optional<std::filesystem::path> resume_from;  // a forecast: start from this state
};

// Runs the scenario on the territory folder and writes DIR/recording.h5,
// impacts.json, max_depth.tif, arrival_time.tif, summary.json, report.html
// (with map.png, gauges.svg, timeline.svg) and the 3D snapshots. Progress
// goes to `progress`. Returns the exit status.
int run_scenario(const scenarios::Scenario& scenario, const std::filesystem::path& territory_dir,
                 const RunOptions& options, std::ostream& out, std::ostream& progress);

int run_command(Args& args, std::ostream& out, std::ostream& err);
int demo_command(Args& args, std::ostream& out, std::ostream& err);
// `cadereau forecast SCENARIO.yaml --state DIR --hours H --out OUT`: the
// worker that runs ahead from a saved state and writes the predicted impacts.
int forecast_command(Args& args, std::ostream& out, std::ostream& err);

}  // namespace cadereau::server
