#pragma once
// What `cadereau run` leaves behind for people: impacts.json for tools,
// impacts.geojson and closed_roads.geojson for GIS, and report.html for a
// crisis manager: the key figures, the max-depth map (streets closed, assets
// hit), the water at chosen times, the water levels at the gauges, the
// timeline and every consequence with its story from the hazard. A
// forecast's report says so, and from which saved state and time.

#include "cadereau/scenarios/scenario.h"
#include "cadereau/sim/engine/engine.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::server {

// Where a forecast starts: the state it was run on from.
// A run that started part way, from a saved state: a forecast, a replay from
// a keyframe, a what-if fork.
struct ForecastOrigin {
  std::string kind = "forecast";  // "forecast", "replay" or "what-if": how the report names the run
  std::string origin;             // the saved state: its folder, or a recording and the keyframe's time
  double from_s = 0.0;            // sim time of the state, s after the scenario's start
};

struct ReportInputs {
  const scenarios::Scenario* scenario = nullptr;
  const sim::engine::Engine* engine = nullptr;
  std::filesystem::path dir;                  // where everything goes
  std::vector<std::string> snapshots;         // PNG files in dir, shown at the end
  std::optional<ForecastOrigin> forecast;     // set when the run is a forecast
  std::filesystem::path recording;            // the run's recording (water at chosen times); none when empty
};

// DIR/impacts.json: every record with t_s, clock, kind, target, x_m, y_m,
// detail, people and chain (its causes back to the hazard).
void write_impacts_json(const ReportInputs& in);
// DIR/report.html with its pictures (map.png and map.svg, water_K.png,
// gauges.svg, timeline.svg), and the GIS layers impacts.geojson and
// closed_roads.geojson. Throws cadereau::Error naming a file it cannot write.
void write_report(const ReportInputs& in);

// The key figures, also printed at the end of a run.
struct KeyFigures {
  double flooded_km2 = 0.0;          // max depth >= 0.10 m
  double max_depth_m = 0.0;
  int streets_closed = 0;            // ever closed by water, by name
  int roads_closed = 0;              // sections ever closed by water, both directions counted once
  double roads_closed_km = 0.0;      // their length, each section once
  double people_at_risk = 0.0;       // in vehicles caught by water
  int vehicles_caught = 0;
  int assets_failed = 0;             // out of service at some point
  double people_without_power = 0.0; // peak
  double people_cut_off = 0.0;       // peak, zones unreachable or with degraded access
  double people_flooded_homes = 0.0; // peak
};
KeyFigures key_figures(const sim::engine::Engine& engine);

// Writes a whole text file. Throws Error naming it when it cannot.
void write_file(const std::filesystem::path& path, const std::string& text);

}  // namespace cadereau::server
