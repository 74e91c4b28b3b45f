#pragma once
// `cadereau flood`: the flood model alone on any GDAL raster, with the
// outputs other tools read (see DESIGN.md): summary.json, probes.csv,
// max_depth.tif, arrival_time.tif (plus max_speed.tif and max_hazard.tif).

#include "cadereau/sim/flood/flood_model.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::sim::flood {

struct Probe {
  std::string name;
  twin::MapPoint location;
};

struct FloodRunOptions {
  std::filesystem::path dem;
  double until_s = 0.0;
  std::filesystem::path out;
  double manning_n = 0.03;
  std::optional<std::filesystem::path> manning_raster;
  struct Inflow {
    twin::MapPoint location;
    std::filesystem::path csv;
  };
  std::vector<Inflow> inflows;
  std::optional<std::filesystem::path> rain_csv;  // uniform, CSV time_s,intensity_mm_h
  // Rain per zone: a raster of whole zone numbers on any grid (warped onto the
  // DEM with nearest neighbour when it is not on it; nodata or negative = no
  // zone) and one hyetograph CSV per zone number found in the domain.
  std::optional<std::filesystem::path> rain_zones;
  struct RainZone {
    int zone = 0;
    std::filesystem::path csv;
  };
  std::vector<RainZone> rain_zone_csvs;
  // Per-cell multiplier of all rain (a radar pattern), warped bilinearly onto
  // the DEM when it is not on it; nodata = 1.
  std::optional<std::filesystem::path> rain_factor;
  std::optional<double> initial_wse_m;
  std::optional<std::filesystem::path> initial_depth;
  std::vector<Probe> probes;
  double probe_every_s = 60.0;
  int threads = 0;
  Scheme scheme = Scheme::finite_volume;
  bool open_boundaries = false;

  // Recording (twin/recording.h) when set: the run's events (start, inflow
  // and rain changes, end), depth frames every frame_every_s, the mass
  // balance and the probes as time series, and keyframes of the full state
  // every keyframe_every_s and at the end, so that a replay can seek.
  std::optional<std::filesystem::path> record;
  double frame_every_s = 60.0;
  double keyframe_every_s = 600.0;
  // Replay and what-if: start from this state (its time included) instead of
  // the initial conditions; the recording then names its parent and fork point.
  std::optional<FloodState> start_state;
  std::string parent_recording;
  std::optional<double> fork_sim_s;
};

// Names inside a flood recording.
inline constexpr const char* kDepthFrame = "depth_m";
inline constexpr const char* kStateDepth = "depth_m";
inline constexpr const char* kStateDischargeEast = "discharge_east_m2_s";
inline constexpr const char* kStateDischargeNorth = "discharge_north_m2_s";

struct FloodRunSummary {
  std::size_t cells = 0;
  std::size_t wet_cells = 0;
  std::uint64_t steps = 0;
  double sim_s = 0.0;
  double wall_s = 0.0;
  double cell_updates_per_s = 0.0;
  MassBalance mass;
  double max_depth_m = 0.0;
  double record_wall_s = 0.0;  // of wall_s, the time spent recording
};

// Bounds of the inputs a run accepts: past them the input is a mistake (degrees
// read as metres, mm given as m, a typo), and the model would crawl on it.
inline constexpr double kMaxRunDuration_s = 7 * 86400.0;  // a scenario's duration as well
inline constexpr double kMinCell_m = 0.1;
inline constexpr double kMaxCell_m = 1000.0;
inline constexpr double kMaxRain_mm_h = 1000.0;
inline constexpr double kMaxInitialDepth_m = 100.0;
inline constexpr double kMaxRainFactor = 100.0;
inline constexpr double kMaxInflow_m3_s = 1e5;

// Throws cadereau::Error naming `where` (the file) unless the DEM has a
// projected CRS (or none: then only its cell size can tell) and cells within
// [kMinCell_m, kMaxCell_m].
void require_metric_dem(const twin::Raster& dem, const std::string& where);

// After model.advance_to(target_s) from t0_s: throws cadereau::Error naming
// `where` and the cell (its x/y in the DEM's CRS, depth and speed) when the
// model stalled on tiny steps (bad_input) or its water stopped being finite
// (internal).
void check_progress(const FloodModel& model, double t0_s, double target_s, const std::string& where);

// Progress: (sim time reached, until). Throws cadereau::Error on bad input,
// naming the file and line.
FloodRunSummary run_flood(const FloodRunOptions& options,
                          const std::function<void(double, double)>& progress = nullptr);

// The inputs of a run as JSON (paths made absolute; out, record and the
// start state left out): stored in a recording so that `cadereau replay`
// rebuilds the same run.
std::string flood_options_to_json(const FloodRunOptions& options);
// Throws cadereau::Error naming `where` when the text is not such JSON.
FloodRunOptions flood_options_from_json(const std::string& json, const std::string& where);

}  // namespace cadereau::sim::flood
