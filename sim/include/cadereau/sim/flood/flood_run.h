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
  std::optional<std::filesystem::path> rain_csv;
  std::optional<double> initial_wse_m;
  std::optional<std::filesystem::path> initial_depth;
  std::vector<Probe> probes;
  double probe_every_s = 60.0;
  int threads = 0;
  Scheme scheme = Scheme::finite_volume;
  bool open_boundaries = false;
};

struct FloodRunSummary {
  std::size_t cells = 0;
  std::size_t wet_cells = 0;
  std::uint64_t steps = 0;
  double sim_s = 0.0;
  double wall_s = 0.0;
  double cell_updates_per_s = 0.0;
  MassBalance mass;
  double max_depth_m = 0.0;
};

// Progress: (sim time reached, until). Throws cadereau::Error on bad input,
// naming the file and line.
FloodRunSummary run_flood(const FloodRunOptions& options,
                          const std::function<void(double, double)>& progress = nullptr);

}  // namespace cadereau::sim::flood
