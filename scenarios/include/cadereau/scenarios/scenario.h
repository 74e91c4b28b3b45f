#pragma once
// A crisis scenario: a YAML file naming the territory, the start date and
// time, the duration, the weather and the stream inflows, and a timeline of
// events (a road closed by the police at 08:40, a light plan switched).
//
//   name: Flash flood of 3 October 1988, weekday morning peak
//   territory: demo                   # the demo territory, or a folder (relative to this file)
//   start: 1988-10-03T07:30:00        # local time of the territory
//   duration: 2h                      # 7200, "90min", "1h30"
//   seed: 42
//   flood_cell_m: 20                  # optional: a coarser flood grid than the DEM's, for speed
//   rain:                             # hyetographs, mm/h
//     - gauge: rg-mas-de-ponge        # cells nearest this rain gauge (Thiessen polygons)
//       mm_h: [[07:30, 0], [08:00, 120], [09:00, 60], [09:30, 0]]
//       area: [807000, 6303800, 813000, 6305000]   # optional: only inside this box
//     - zone: zone-B3                 # or a population zone's area; neither: the whole territory
//       mm_h: [[0, 20], [3600, 0]]
//   inflows:                          # hydrographs, m3/s
//     - name: cadereau d'Alès
//       at: lg-ales-amont             # a sensor id, or [x, y] in the territory CRS
//       m3_s: [[07:30, 0], [08:10, 480], [09:30, 0]]
//   events:
//     - at: "08:40"
//       action: close_road            # see engine::Verb (sim/engine/action.h)
//       target: "E12"
//       by: police
//
// Rain falls as given: the flood model has no infiltration, so on permeable
// ground give the effective rain. Each cell takes the last entry covering it.
// Times are clock times "HH:MM[:SS]" of the start day (at or after the start;
// past midnight goes on to 24:00 and beyond) or numbers of seconds since the
// start. Keys for the exercise features (players, roles, injects,
// objectives) are accepted and kept for them. Every error names the file and
// the line: "scenario.yaml:12: unknown gauge 'rg-x'".

#include "cadereau/scenarios/msel.h"
#include "cadereau/sim/engine/engine.h"
#include "cadereau/sim/flood/time_series.h"
#include "cadereau/twin/territory.h"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cadereau::scenarios {

struct RainSpec {
  enum class Over { territory, gauge, zone };
  Over over = Over::territory;
  std::string id;                 // gauge or zone id
  std::optional<twin::Box> area;  // only inside this box (territory CRS)
  sim::flood::TimeSeries mm_h;    // seconds since the start
  std::string where;              // "file:line"
};

struct InflowSpec {
  std::string name;
  std::optional<std::string> sensor;      // at: a sensor id
  std::optional<twin::MapPoint> location; // at: [x, y]
  sim::flood::TimeSeries m3_s;
  std::string where;
};

struct Scenario {
  std::filesystem::path file;
  std::string text;               // the YAML as read, recorded with a run so it can be re-driven
  std::string name;
  std::string description;
  std::string territory;          // "demo" or a folder
  std::string start;              // as written, ISO 8601 local time
  double start_clock_s = 0.0;     // seconds after midnight
  double duration_s = 0.0;
  double exchange_s = 10.0;
  double access_every_s = 300.0;
  double flood_cell_m = 0.0;      // 0: the territory's DEM cells
  std::string flood_cell_where;   // "file:line" of flood_cell_m
  std::uint64_t seed = 42;
  bool traffic = true;
  // traffic_model: microscopic (default) or mesoscopic (traffic_model.h).
  sim::traffic::TrafficModelKind traffic_model = sim::traffic::TrafficModelKind::microscopic;
  // SUMO additional files of light programs (a green-wave plan.add.xml),
  // loaded when the traffic starts: each light runs the last program given
  // for it. Resolved against the scenario's folder; where each was written.
  std::vector<std::filesystem::path> light_plans;
  std::vector<std::string> light_plans_where;
  std::vector<RainSpec> rain;
  std::vector<InflowSpec> inflows;
  std::vector<sim::engine::TimedAction> events;
  // An exercise's injects, as an MSEL would give them (msel.h): each entry
  // has number, time (the Designated Scenario Time), type, mode, from, to
  // (a cell or a list of cells), message, expected, objective, notes, effect.
  std::vector<Inject> injects;

  // The territory folder: the scenario's, resolved against its file, or
  // demo_folder when it says "demo".
  std::filesystem::path territory_folder(const std::filesystem::path& demo_folder = {}) const;
};

// Reads and checks a scenario file on its own (UTF-8 text, syntax, values,
// times). Throws cadereau::Error "FILE:LINE: what is wrong".
Scenario read_scenario(const std::filesystem::path& file);
// The same from text; `file` names it in errors and resolves relative paths.
Scenario parse_scenario(const std::string& text, const std::filesystem::path& file);

// Checks the scenario against its territory (gauges, zones, sensors, edges,
// lights exist; inflows fall inside the DEM; the flood cell is not finer
// than the DEM's) and builds the engine's setup.
// Throws cadereau::Error "FILE:LINE: ..." on the offending entry.
sim::engine::EngineSetup engine_setup(const Scenario& scenario, const twin::Territory& territory);

// "08:40" for a time in seconds since the scenario's start.
std::string clock_of(const Scenario& scenario, double t_s);

// A time as users write it: "HH:MM[:SS]" on the day that starts at
// start_clock_s (seconds after midnight; 24:00 and beyond run into the next
// day), or a number of seconds since the start. Nothing when it is neither.
std::optional<double> time_since_start_s(const std::string& text, double start_clock_s);
// The whole of `text` as a finite number, or nothing ("1.2.3", "1e400" and
// "12 m" are not numbers).
std::optional<double> parse_number(std::string_view text);
// A duration as scenarios write it: "2h", "90min", "1h30", "45s", or seconds.
std::optional<double> parse_duration_s(const std::string& text);
// The time of day, in seconds after midnight, of an ISO 8601 date and time
// ("1988-10-03T07:00:00", a trailing zone allowed); nothing when it has none.
std::optional<double> clock_of_iso(const std::string& iso);

// The flagship scenario shipped with Cadereau (scenarios/flash-flood-1988.yaml):
// a 1988-type flash flood during the weekday morning peak, on the demo territory.
std::string flagship_scenario_text();

}  // namespace cadereau::scenarios
