#pragma once
// What `cadereau run` leaves behind for people: impacts.json for tools, and
// report.html for a crisis manager, with the max-depth map (closed roads,
// assets hit), the water levels at the gauges, the consequence timeline and
// the key figures.

#include "cadereau/scenarios/scenario.h"
#include "cadereau/sim/engine/engine.h"

#include <filesystem>
#include <string>
#include <vector>

namespace cadereau::server {

struct ReportInputs {
  const scenarios::Scenario* scenario = nullptr;
  const sim::engine::Engine* engine = nullptr;
  std::filesystem::path dir;                  // where everything goes
  std::vector<std::string> snapshots;         // PNG files in dir, shown at the end
};

// DIR/impacts.json: every record with t_s, clock, kind, target, x_m, y_m,
// detail, people and chain (its causes back to the hazard).
void write_impacts_json(const ReportInputs& in);
// DIR/map.png, DIR/gauges.svg, DIR/timeline.svg and DIR/report.html.
void write_report(const ReportInputs& in);

// The key figures, also printed at the end of a run.
struct KeyFigures {
  double flooded_km2 = 0.0;          // max depth >= 0.10 m
  double max_depth_m = 0.0;
  int roads_closed = 0;              // ever closed by water
  double roads_closed_km = 0.0;
  double people_at_risk = 0.0;       // in vehicles caught by water
  int vehicles_caught = 0;
  int assets_failed = 0;             // out of service at some point
  double people_without_power = 0.0; // peak
  double people_cut_off = 0.0;       // peak, zones unreachable or with degraded access
  double people_flooded_homes = 0.0; // peak
};
KeyFigures key_figures(const sim::engine::Engine& engine);

}  // namespace cadereau::server
