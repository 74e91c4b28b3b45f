#pragma once
// `cadereau run SCENARIO.yaml --out DIR` and `cadereau demo --out DIR`: a
// scenario run headless, as fast as possible, with everything written out.

#include "command_args.h"

#include "cadereau/scenarios/scenario.h"
#include "cadereau/sim/engine/engine.h"

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::server {

struct RunOptions {
  std::filesystem::path out;
  std::optional<std::filesystem::path> territory;  // overrides the scenario's
  int threads = 0;
  bool snapshots = true;
  // Only what a server reads: impacts.json, summary.json (and forecast.json
  // for a forecast); no recording, rasters, report or snapshots.
  bool brief = false;
  std::optional<double> save_state_at_s;             // write DIR/state at this time
  // Start from a saved state rather than the scenario's start: a forecast,
  // a replay from a keyframe, a what-if fork. `resume_where` names it.
  std::optional<sim::engine::EngineState> resume;
  std::string resume_where;
  std::string resume_kind = "forecast";  // how the report and the terminal call such a run
  std::optional<std::filesystem::path> recording;  // default DIR/recording.h5
  std::string parent_recording;                    // a fork's parent, recorded in its meta
  // Actions added to the scenario's events (a what-if), recorded with the run.
  std::vector<sim::engine::TimedAction> added_actions;
  double speed = 0.0;  // > 0: sim time runs at most this many times the wall clock (a paced replay)
  // Commands submitted to the engine at their times (an exercise's injects
  // re-run for its counterfactual), sorted by taken_s.
  std::vector<sim::engine::RecordedCommand> commands;
};

// Reads JSON lines {"at_s": S, "command": {...}} (sim/engine/command.h).
// Throws Error "FILE:LINE: ..." on a line that is not one.
std::vector<sim::engine::RecordedCommand> read_command_lines(const std::filesystem::path& file);

// What a recording of a scenario run keeps in its run_options_json to be
// re-driven: {"kind": "scenario", "scenario_file", "scenario_yaml",
// "territory" (absolute folder), "added_actions": [...]}.
inline constexpr const char* kScenarioRunKind = "scenario";

// Runs the scenario on the territory folder and writes DIR/recording.h5,
// impacts.json, max_depth.tif, arrival_time.tif, summary.json, report.html
// (with map.png, gauges.svg, timeline.svg) and the 3D snapshots. Progress
// goes to `progress`. Returns the exit status.
int run_scenario(const scenarios::Scenario& scenario, const std::filesystem::path& territory_dir,
                 const RunOptions& options, std::ostream& out, std::ostream& progress);

int run_command(Args& args, std::ostream& out, std::ostream& err);
int demo_command(Args& args, std::ostream& out, std::ostream& err);
// `cadereau forecast SCENARIO.yaml --state DIR --hours H --out OUT`: the
// worker that runs ahead from a saved state and writes the predicted impacts
// (impacts.json, and forecast.json: forecast_document.h).
int forecast_command(Args& args, std::ostream& out, std::ostream& err);

}  // namespace cadereau::server
