#include "cadereau/sim/flood/flood_run.h"

#include "cadereau/twin/error.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>

namespace cadereau::sim::flood {

FloodRunSummary run_flood(const FloodRunOptions& options, const std::function<void(double, double)>& progress) {
  if (!(options.until_s > 0.0)) fail("--until", "{} s: the run must last a positive time", options.until_s);
  if (!(options.probe_every_s > 0.0)) fail("--probe-every", "{} s must be positive", options.probe_every_s);

  FloodSetup setup;
  setup.dem = twin::read_raster(options.dem);
  setup.manning_n = options.manning_n;
  setup.threads = options.threads;
  setup.scheme = options.scheme;
  setup.open_boundaries = options.open_boundaries;
  if (options.manning_raster) {
    twin::Raster m = twin::read_raster(*options.manning_raster);
    if (!m.grid().same_as(setup.dem.grid(), 1e-6 * setup.dem.grid().cell_w_m)) {
      if (m.crs().empty() || setup.dem.crs().empty())
        fail(options.manning_raster->string(), "is not on the DEM grid and one of them has no CRS to warp with");
      m = twin::warp_to_grid(m, setup.dem.grid(), setup.dem.crs(), twin::Resampling::bilinear);
    }
    setup.manning = std::move(m);
  }
  for (const auto& inflow : options.inflows) {
    PointInflow p;
    p.label = inflow.csv.filename().string();
    p.location = inflow.location;
    p.discharge_m3_s = TimeSeries::read_csv(inflow.csv, "discharge_m3_s", 0.0);
    setup.inflows.push_back(std::move(p));
  }
  if (options.rain_csv) setup.rain_mm_h = TimeSeries::read_csv(*options.rain_csv, "intensity_mm_h", 0.0);
  setup.initial_wse_m = options.initial_wse_m;
  if (options.initial_depth) {
    twin::Raster d = twin::read_raster(*options.initial_depth);
    if (!d.grid().same_as(setup.dem.grid(), 1e-6 * setup.dem.grid().cell_w_m))
      fail(options.initial_depth->string(), "initial depth raster is {} x {} cells; it must be on the DEM grid ({} x {})",
           d.grid().cols, d.grid().rows, setup.dem.grid().cols, setup.dem.grid().rows);
    setup.initial_depth = std::move(d);
  }

  FloodModel model(std::move(setup));
  struct ProbeCell {
    const Probe* probe;
    std::size_t cell;
  };
  std::vector<ProbeCell> probe_cells;
  for (const auto& p : options.probes) {
    const auto cell = model.grid().cell_at(p.location);
    if (!cell)
      fail("--probe " + p.name, "point ({:.2f}, {:.2f}) is outside the DEM", p.location.x_m, p.location.y_m);
    probe_cells.push_back({&p, model.grid().linear(*cell)});
  }

  std::filesystem::create_directories(options.out);
  const auto probes_path = options.out / "probes.csv";
  std::ofstream probes(probes_path);
  if (!probes) fail(probes_path.string(), "cannot write");
  probes << "time_s,probe,depth_m,speed_m_s,wse_m\n";
  auto write_probes = [&] {
    for (const auto& pc : probe_cells) {
      const double h = model.depth_m(pc.cell);
      probes << fmt::format("{:.3f},{},{:.6f},{:.6f},{:.6f}\n", model.time_s(), pc.probe->name, h,
                            model.speed_m_s(pc.cell), model.bed_m(pc.cell) + h);
    }
  };

  const auto start = std::chrono::steady_clock::now();
  write_probes();
  double next_report = options.probe_every_s;
  while (model.time_s() < options.until_s) {
    const double target = std::min(options.until_s, next_report);
    model.advance_to(target);
    if (std::abs(model.time_s() - next_report) < 1e-9 || model.time_s() >= options.until_s) write_probes();
    next_report += options.probe_every_s;
    if (progress) progress(model.time_s(), options.until_s);
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  probes.close();

  twin::write_geotiff(model.max_depth_raster(), options.out / "max_depth.tif");
  twin::write_geotiff(model.arrival_time_raster(), options.out / "arrival_time.tif");
  twin::write_geotiff(model.max_speed_raster(), options.out / "max_speed.tif");
  twin::write_geotiff(model.max_hazard_raster(), options.out / "max_hazard.tif");

  FloodRunSummary s;
  s.cells = model.grid().cell_count();
  s.wet_cells = model.wet_cells();
  s.steps = model.steps();
  s.sim_s = model.time_s();
  s.wall_s = wall_s;
  s.cell_updates_per_s = wall_s > 0.0 ? static_cast<double>(model.cell_updates()) / wall_s : 0.0;
  s.mass = model.mass_balance();
  s.max_depth_m = model.max_depth_m();

  nlohmann::json j;
  j["cells"] = s.cells;
  j["wet_cells"] = s.wet_cells;
  j["steps"] = s.steps;
  j["sim_s"] = s.sim_s;
  j["wall_s"] = s.wall_s;
  j["cell_updates_per_s"] = s.cell_updates_per_s;
  j["volume_initial_m3"] = s.mass.initial_m3;
  j["volume_in_m3"] = s.mass.rain_m3 + s.mass.inflow_m3;
  j["volume_rain_m3"] = s.mass.rain_m3;
  j["volume_inflow_m3"] = s.mass.inflow_m3;
  j["volume_out_m3"] = s.mass.outflow_m3;
  j["volume_final_m3"] = s.mass.stored_m3;
  j["mass_error_rel"] = s.mass.error_rel();
  j["max_depth_m"] = s.max_depth_m;
  j["scheme"] = options.scheme == Scheme::local_inertial ? "local_inertial" : "finite_volume_hll";
  const auto summary_path = options.out / "summary.json";
  std::ofstream summary(summary_path);
  summary << j.dump(2) << "\n";
  if (!summary) fail(summary_path.string(), "cannot write");
  return s;
}

}  // namespace cadereau::sim::flood
