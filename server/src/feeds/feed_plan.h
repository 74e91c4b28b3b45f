#pragma once
// What a feed simulator publishes for a scenario: one reading per sensor
// every `every_s` of scenario time, as the territory's devices would send
// them (DESIGN.md, "Live feeds"):
// - a rain gauge: rain_mm fallen since its previous reading, integrated from
//   the scenario's hyetograph at the gauge (its own `gauge:` entry, else the
//   last zone or area entry covering it, else the territory-wide one);
// - a level gauge that carries one of the scenario's inflows: the stage its
//   rating curve gives for that inflow, so that a live twin turning the
//   stage back into a flow gets the scenario's flow exactly;
// - any other level gauge: its depth above the bed in a recording of the
//   same scenario (series gauge_<id>_wse_m, bed as the engine took it).
// Traffic counters are not played: a recording keeps no per-counter count.
// Noise, gaps and duplicates are drawn from one generator seeded by `seed`,
// in the plan's order, so a plan is the same on every run.

#include "cadereau/scenarios/scenario.h"
#include "cadereau/twin/territory.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cadereau::twin {
class RecordingReader;
}

namespace cadereau::server::feeds {

struct FeedPlanOptions {
  double from_s = 0.0;       // scenario time of the first round of readings, s after its start
  double until_s = 0.0;      // of the last round (included)
  double every_s = 300.0;    // between two readings of a sensor, scenario s
  double noise = 0.0;        // Gaussian sigma: metres on levels, a ratio on rain (0.05: 5 %)
  double gaps = 0.0;         // share of readings not published, 0..1
  double duplicates = 0.0;   // share of published readings sent twice (same deduplicationId), 0..1
  std::uint64_t seed = 1;
  std::vector<std::string> sensors;  // only these sensor ids; every sensor that can be played when empty
};

struct PlannedReading {
  double t_s = 0.0;  // scenario time
  std::string sensor;
  std::string dev_eui;
  std::optional<double> water_level_m;
  std::optional<double> rain_mm;
  bool dropped = false;     // a gap: not published
  bool duplicated = false;  // published a second time
};

struct FeedPlan {
  std::vector<PlannedReading> readings;                    // by time, then sensor
  std::vector<std::pair<std::string, std::string>> played;   // sensor id, where its readings come from
  std::vector<std::pair<std::string, std::string>> skipped;  // sensor id, why it is not played
};

// The plan for `scenario` on `territory`; `recording` (may be null) is a run
// of the same scenario. Throws Error (bad_input): an unknown sensor id, a
// sensor without a dev_eui, a sensor asked for that cannot be played (a
// traffic counter, a level gauge without a recording), a window the
// recording does not cover, a recording without a gauge's series or bed.
FeedPlan plan_feed(const scenarios::Scenario& scenario, const twin::Territory& territory,
                   const twin::RecordingReader* recording, const FeedPlanOptions& options);

// The stage (m above the gauge's datum) at which a rating curve gives
// `discharge_m3_s`: the inverse of twin::rated_discharge_m3_s on a curve
// whose discharge rises with stage (the first stage below its first point,
// its last segment's slope beyond its last).
double rated_stage_m(const std::vector<std::pair<double, double>>& rating, double discharge_m3_s);

}  // namespace cadereau::server::feeds
