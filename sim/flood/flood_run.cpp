#include "cadereau/sim/flood/flood_run.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <cmath>
#include <fstream>

namespace cadereau::sim::flood {

namespace {

// The raster at `path`, on the DEM grid: as read when it already is, warped otherwise.
twin::Raster on_dem_grid(const std::filesystem::path& path, const twin::Raster& dem, twin::Resampling resampling) {
  return twin::onto_grid_of(twin::read_raster(path), dem, resampling, path);
}

std::string grid_words(const twin::GridSpec& g, const twin::Crs& crs) {
  return fmt::format("{} x {} cells of {:g} x {:g} m from x {:.2f}, y {:.2f} in {}", g.cols, g.rows, g.cell_w_m,
                     g.cell_h_m, g.x_min_m, g.y_max_m, crs.empty() ? std::string("no CRS") : crs.label());
}

// The zone raster and its hyetographs, refusing a zone in the domain that has none
// with the option that would give it.
RainZones read_rain_zones(const FloodRunOptions& options, const twin::Raster& dem) {
  const std::filesystem::path& path = *options.rain_zones;
  if (options.rain_zone_csvs.empty())
    fail("--rain-zones " + path.string(), "needs a hyetograph per zone: --rain-zone K,FILE.csv");
  RainZones zones;
  zones.zone = on_dem_grid(path, dem, twin::Resampling::nearest);
  int top = 0;
  for (const auto& z : options.rain_zone_csvs) {
    if (z.zone < 0) fail(fmt::format("--rain-zone {}", z.zone), "a zone number cannot be negative");
    top = std::max(top, z.zone);
  }
  zones.mm_h.resize(static_cast<std::size_t>(top) + 1);
  for (const auto& z : options.rain_zone_csvs) {
    TimeSeries& mm_h = zones.mm_h[static_cast<std::size_t>(z.zone)];
    if (!mm_h.empty()) fail(fmt::format("--rain-zone {}", z.zone), "zone {} is given twice", z.zone);
    mm_h = TimeSeries::read_csv(z.csv, "intensity_mm_h", 0.0, kMaxRain_mm_h);
  }
  const twin::GridSpec& grid = dem.grid();
  for (std::size_t i = 0; i < grid.cell_count(); ++i) {
    const float v = zones.zone.values()[i];
    if (dem.is_nodata(dem.values()[i]) || zones.zone.is_nodata(v) || std::isnan(v) || v < 0.0f) continue;
    const twin::CellIndex cell = grid.from_linear(i);
    const twin::MapPoint p = grid.cell_centre(cell);
    if (v != std::floor(v))
      fail(path.string(), "value {} at DEM cell ({}, {}) (x {:.2f}, y {:.2f}) is not a whole zone number", v, cell.col,
           cell.row, p.x_m, p.y_m);
    const auto k = static_cast<std::size_t>(v);
    if (k >= zones.mm_h.size() || zones.mm_h[k].empty())
      fail(path.string(), "zone {} at DEM cell ({}, {}) (x {:.2f}, y {:.2f}) has no hyetograph: give --rain-zone {},FILE.csv",
           k, cell.col, cell.row, p.x_m, p.y_m, k);
  }
  return zones;
}

// Refuses a raster value outside [min, max] inside the domain, naming the file and the cell.
void require_within(const twin::Raster& r, const twin::Raster& dem, double min, double max, const std::string& file,
                    const char* what, const char* unit) {
  const twin::GridSpec& grid = dem.grid();
  for (std::size_t i = 0; i < grid.cell_count(); ++i) {
    const float v = r.values()[i];
    if (dem.is_nodata(dem.values()[i]) || r.is_nodata(v) || (v >= min && v <= max)) continue;
    const twin::CellIndex cell = grid.from_linear(i);
    const twin::MapPoint p = grid.cell_centre(cell);
    const std::string bound = v > max   ? fmt::format("is above {:g}{}, the most a run takes", max, unit)
                              : v < min ? fmt::format("is below {:g}{}", min, unit)
                                        : std::string("is not a number");
    fail(file, "{} {}{} at cell ({}, {}) (x {:.2f}, y {:.2f}) {}", what, v, unit, cell.col, cell.row, p.x_m, p.y_m, bound);
  }
}

}  // namespace

void require_metric_dem(const twin::Raster& dem, const std::string& where) {
  if (!dem.crs().empty() && dem.crs().is_geographic())
    fail(where,
         "the DEM's CRS {} is geographic: its cells are in degrees, not metres; reproject it to a projected CRS in "
         "metres first, e.g. gdalwarp -t_srs EPSG:2154 in.tif out.tif",
         dem.crs().label());
  const twin::GridSpec& g = dem.grid();
  for (const double size_m : {g.cell_w_m, g.cell_h_m})
    if (!(size_m >= kMinCell_m && size_m <= kMaxCell_m))
      fail(where,
           "cells of {:g} x {:g} m are outside [{:g}, {:g}] m (degrees read as metres?); reproject it to a projected "
           "CRS in metres, e.g. gdalwarp -t_srs EPSG:2154 in.tif out.tif",
           g.cell_w_m, g.cell_h_m, kMinCell_m, kMaxCell_m);
}

void check_progress(const FloodModel& model, double t0_s, double target_s, const std::string& where) {
  const twin::GridSpec& grid = model.grid();
  auto cell_words = [&](std::size_t i) {
    const twin::CellIndex cell = grid.from_linear(i);
    const twin::MapPoint p = grid.cell_centre(cell);
    return fmt::format("cell ({}, {}) at x {:.2f}, y {:.2f} with {:.3g} m of water moving at {:.3g} m/s", cell.col,
                       cell.row, p.x_m, p.y_m, model.depth_m(i), model.speed_m_s(i));
  };
  if (const auto bad = model.first_non_finite_cell(); bad || !std::isfinite(model.time_s()))
    fail_as(ErrorCategory::internal, where, "the water stopped being finite between {:g} s and {:g} s, first at {}",
            t0_s, target_s, bad ? cell_words(*bad) : std::string("an unknown cell"));
  if (model.stalled())
    fail(where,
         "the time step fell below {:g} s for {} steps in a row at {:g} s, limited by {}: the run would crawl; check "
         "the inputs there (a spike or pit in the DEM, an inflow too large for one cell)",
         FloodModel::kMinStep_s, FloodModel::kMaxTinySteps, model.time_s(), cell_words(model.fastest_cell()));
  if (model.time_s() < target_s)
    fail_as(ErrorCategory::internal, where, "stopped at {:g} s short of {:g} s", model.time_s(), target_s);
}

FloodRunSummary run_flood(const FloodRunOptions& options, const std::function<void(double, double)>& progress) {
  if (!(options.until_s > 0.0)) fail("--until", "{} s: the run must last a positive time", options.until_s);
  if (!(options.probe_every_s > 0.0)) fail("--probe-every", "{} s must be positive", options.probe_every_s);

  if (!(options.until_s <= kMaxRunDuration_s))
    fail("--until", "{:g} s is longer than the {:g} s (7 days) a run may last", options.until_s, kMaxRunDuration_s);

  FloodSetup setup;
  setup.dem = twin::read_raster(options.dem);
  require_metric_dem(setup.dem, options.dem.string());
  setup.manning_n = options.manning_n;
  setup.threads = options.threads;
  setup.scheme = options.scheme;
  setup.open_boundaries = options.open_boundaries;
  if (options.manning_raster) {
    setup.manning = on_dem_grid(*options.manning_raster, setup.dem, twin::Resampling::bilinear);
    require_within(*setup.manning, setup.dem, 0.0, 1.0, options.manning_raster->string(), "Manning n", "");
  }
  for (const auto& inflow : options.inflows) {
    PointInflow p;
    p.label = inflow.csv.filename().string();
    p.location = inflow.location;
    p.discharge_m3_s = TimeSeries::read_csv(inflow.csv, "discharge_m3_s", 0.0, kMaxInflow_m3_s);
    setup.inflows.push_back(std::move(p));
  }
  if (options.rain_csv) setup.rain_mm_h = TimeSeries::read_csv(*options.rain_csv, "intensity_mm_h", 0.0, kMaxRain_mm_h);
  if (options.rain_zones)
    setup.rain_zones = read_rain_zones(options, setup.dem);
  else if (!options.rain_zone_csvs.empty())
    fail(fmt::format("--rain-zone {}", options.rain_zone_csvs.front().zone), "needs --rain-zones RASTER");
  if (options.rain_factor) {
    setup.rain_factor = on_dem_grid(*options.rain_factor, setup.dem, twin::Resampling::bilinear);
    require_within(*setup.rain_factor, setup.dem, 0.0, kMaxRainFactor, options.rain_factor->string(), "rain factor", "");
  }
  setup.initial_wse_m = options.initial_wse_m;
  if (options.initial_wse_m) {
    twin::Raster depth = setup.dem;
    for (float& v : depth.values())
      if (!depth.is_nodata(v)) v = static_cast<float>(std::max(0.0, *options.initial_wse_m - v));
    require_within(depth, setup.dem, 0.0, kMaxInitialDepth_m, fmt::format("--initial-wse {:g}", *options.initial_wse_m),
                    "initial depth", " m");
  }
  if (options.initial_depth) {
    twin::Raster d = twin::read_raster(*options.initial_depth);
    // Depths are not warped: resampling them would make or lose water.
    const bool same_crs = d.crs().empty() || setup.dem.crs().empty() || d.crs().equivalent_to(setup.dem.crs());
    if (!d.grid().same_as(setup.dem.grid(), 1e-6 * setup.dem.grid().cell_w_m) || !same_crs)
      fail(options.initial_depth->string(), "initial depths must be on the DEM's grid: it has {}, the DEM {}",
           grid_words(d.grid(), d.crs()), grid_words(setup.dem.grid(), setup.dem.crs()));
    require_within(d, setup.dem, 0.0, kMaxInitialDepth_m, options.initial_depth->string(), "initial depth", " m");
    setup.initial_depth = std::move(d);
  }

  // The inputs as the recording logs them, before the setup moves into the model.
  const std::vector<PointInflow> inflow_inputs = options.record ? setup.inflows : std::vector<PointInflow>{};
  const std::optional<TimeSeries> rain_input = options.record ? setup.rain_mm_h : std::nullopt;
  const std::vector<TimeSeries> zone_rain_inputs =
      options.record && setup.rain_zones ? setup.rain_zones->mm_h : std::vector<TimeSeries>{};

  FloodModel model(std::move(setup));
  if (options.start_state) {
    model.restore(*options.start_state);
    if (!(model.time_s() < options.until_s))
      fail("--until", "{} s: the run starts from a state at {} s and must end after it", options.until_s, model.time_s());
  }
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

  if (options.record && !(options.frame_every_s > 0.0))
    fail("--frame-every", "{} s must be positive", options.frame_every_s);
  if (options.record && !(options.keyframe_every_s > 0.0))
    fail("--keyframe-every", "{} s must be positive", options.keyframe_every_s);
  std::unique_ptr<twin::Recorder> recorder;
  std::uint64_t start_seq = 0;
  // Breakpoints of the inputs, logged as inject events when the run passes them.
  struct InputChange {
    double time_s;
    std::string payload;
  };
  std::vector<InputChange> input_changes;
  std::size_t next_change = 0;
  const double t_start = model.time_s();
  double record_wall_s = 0.0;
  auto record_state = [&](bool frame, bool keyframe) {
    if (!frame && !keyframe) return;
    const auto started = std::chrono::steady_clock::now();
    const double t = model.time_s();
    if (frame) {
      const twin::Raster depth = model.depth_raster();
      recorder->append_frame(kDepthFrame, t, depth.values());
      const MassBalance mass = model.mass_balance();
      recorder->append_sample("volume_stored_m3", t, mass.stored_m3);
      recorder->append_sample("volume_in_m3", t, mass.rain_m3 + mass.inflow_m3);
      recorder->append_sample("volume_out_m3", t, mass.outflow_m3);
      recorder->append_sample("mass_error_rel", t, mass.error_rel());
      recorder->append_sample("wet_cells", t, static_cast<double>(model.wet_cells()));
      for (const auto& pc : probe_cells) recorder->append_sample("probe_" + pc.probe->name + "_depth_m", t, model.depth_m(pc.cell));
    }
    if (keyframe) {
      const FloodState state = model.capture();
      recorder->append_keyframe(t, {{kStateDepth, state.depth_m, {}},
                                    {kStateDischargeEast, state.discharge_east_m2_s, {}},
                                    {kStateDischargeNorth, state.discharge_north_m2_s, {}}});
    }
    record_wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  auto log_input_changes = [&](double up_to_s) {
    for (; next_change < input_changes.size() && input_changes[next_change].time_s <= up_to_s; ++next_change)
      recorder->append(twin::EventKind::inject, std::max(input_changes[next_change].time_s, t_start), "flood",
                       input_changes[next_change].payload, start_seq);
  };
  if (options.record) {
    twin::RecordingLayout layout;
    layout.meta.territory = options.dem.stem().string();
    layout.meta.scenario = "flood";
    layout.meta.crs_wkt = model.crs().wkt();
    layout.meta.parent_recording = options.parent_recording;
    layout.meta.fork_sim_s = options.fork_sim_s;
    layout.meta.run_options_json = flood_options_to_json(options);
    layout.frames.push_back({kDepthFrame, model.grid(), model.crs().wkt(), "m", FloodModel::kNodata, "water depth"});
    layout.series = {"volume_stored_m3", "volume_in_m3", "volume_out_m3", "mass_error_rel", "wet_cells"};
    layout.series_info = {
        {"volume_stored_m3", {"m3", "water in the domain", ""}},
        {"volume_in_m3", {"m3", "rain and inflows since the start of the run", ""}},
        {"volume_out_m3", {"m3", "water gone out through open boundaries since the start of the run", ""}},
        {"mass_error_rel", {"1", "relative mass-balance error (a ratio)", ""}},
        {"wet_cells", {"cells", "cells wetter than 1 mm", ""}}};
    for (const auto& pc : probe_cells) {
      if (pc.probe->name.find('/') != std::string::npos)
        fail("--probe " + pc.probe->name, "a recorded probe name cannot hold '/'");
      layout.series.push_back("probe_" + pc.probe->name + "_depth_m");
      layout.series_info["probe_" + pc.probe->name + "_depth_m"] = {
          "m", fmt::format("water depth at probe {} ({:.2f}, {:.2f})", pc.probe->name, pc.probe->location.x_m,
                           pc.probe->location.y_m),
          ""};
    }
    const std::size_t cells = model.grid().cell_count();
    using Field = twin::KeyframeFieldLayout;
    layout.keyframe_fields = {{kStateDepth, Field::Type::float64_array, cells},
                              {kStateDischargeEast, Field::Type::float64_array, cells},
                              {kStateDischargeNorth, Field::Type::float64_array, cells}};
    recorder = std::make_unique<twin::Recorder>(*options.record, std::move(layout));

    nlohmann::json start_event{{"event", "run_start"},
                               {"cells", model.grid().cell_count()},
                               {"until_s", options.until_s},
                               {"scheme", scheme_id(options.scheme)}};
    if (!options.parent_recording.empty()) {
      start_event["parent_recording"] = options.parent_recording;
      if (options.fork_sim_s) start_event["fork_sim_s"] = *options.fork_sim_s;
    }
    start_seq = recorder->append(twin::EventKind::simulation_event, t_start, "flood", start_event.dump());
    for (const auto& inflow : inflow_inputs) {
      const auto& ts = inflow.discharge_m3_s;
      for (std::size_t k = 0; k < ts.times_s().size(); ++k) {
        // A fork starts with the value in force, then the changes after it.
        if (ts.times_s()[k] < t_start && k + 1 < ts.times_s().size() && ts.times_s()[k + 1] <= t_start) continue;
        const double at_s = std::max(ts.times_s()[k], t_start);
        input_changes.push_back({at_s, nlohmann::json{{"event", "inflow"},
                                                      {"label", inflow.label},
                                                      {"x_m", inflow.location.x_m},
                                                      {"y_m", inflow.location.y_m},
                                                      {"at_s", at_s},
                                                      {"discharge_m3_s", ts.at(at_s)}}
                                           .dump()});
      }
    }
    // Uniform rain, then each zone's (zone -1 stands for the uniform one).
    for (int zone = -1; zone < static_cast<int>(zone_rain_inputs.size()); ++zone) {
      if (zone < 0 && !rain_input) continue;
      const TimeSeries& ts = zone < 0 ? *rain_input : zone_rain_inputs[static_cast<std::size_t>(zone)];
      const auto& times = ts.times_s();
      for (std::size_t k = 0; k < times.size(); ++k) {
        if (times[k] < t_start && k + 1 < times.size() && times[k + 1] <= t_start) continue;
        const double at_s = std::max(times[k], t_start);
        nlohmann::json event{{"event", "rain"}, {"at_s", at_s}, {"intensity_mm_h", ts.at(at_s)}};
        if (zone >= 0) event["zone"] = zone;
        input_changes.push_back({at_s, event.dump()});
      }
    }
    std::stable_sort(input_changes.begin(), input_changes.end(),
                     [](const InputChange& a, const InputChange& b) { return a.time_s < b.time_s; });
    log_input_changes(t_start);
    record_state(true, true);
  }

  // Stops fall on whole multiples of each period, so a run restarted from a
  // keyframe takes the same sub-steps as the straight run: replays match it exactly.
  constexpr double kNever = std::numeric_limits<double>::infinity();
  auto next_after = [](double t, double every) { return (std::floor(t / every + 1e-9) + 1.0) * every; };
  double next_probe = next_after(model.time_s(), options.probe_every_s);
  double next_frame = recorder ? next_after(model.time_s(), options.frame_every_s) : kNever;
  double next_key = recorder ? next_after(model.time_s(), options.keyframe_every_s) : kNever;

  const auto start = std::chrono::steady_clock::now();
  write_probes();
  while (model.time_s() < options.until_s) {
    const double target = std::min({options.until_s, next_probe, next_frame, next_key});
    const double t0 = model.time_s();
    model.advance_to(target);
    check_progress(model, t0, target, options.dem.string());
    const double t = model.time_s();
    const bool end = t >= options.until_s;
    if (std::abs(t - next_probe) < 1e-9 || end) write_probes();
    if (t >= next_probe - 1e-9) next_probe = next_after(t, options.probe_every_s);
    if (recorder) {
      log_input_changes(t);
      const bool frame = t >= next_frame - 1e-9 || end;
      const bool keyframe = t >= next_key - 1e-9 || end;
      record_state(frame, keyframe);
      if (t >= next_frame - 1e-9) next_frame = next_after(t, options.frame_every_s);
      if (t >= next_key - 1e-9) next_key = next_after(t, options.keyframe_every_s);
    }
    if (progress) progress(t, options.until_s);
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  probes.close();
  if (recorder) {
    const MassBalance mass = model.mass_balance();
    recorder->append(twin::EventKind::simulation_event, model.time_s(), "flood",
                     nlohmann::json{{"event", "run_end"},
                                    {"steps", model.steps()},
                                    {"wall_s", wall_s},
                                    {"max_depth_m", model.max_depth_m()},
                                    {"wet_cells", model.wet_cells()},
                                    {"mass_error_rel", mass.error_rel()}}
                         .dump(),
                     start_seq);
    recorder->close();
  }

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
  s.record_wall_s = record_wall_s;

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
  if (options.record) j["record_wall_s"] = s.record_wall_s;
  j["scheme"] = options.scheme == Scheme::finite_volume ? "finite_volume_hll" : scheme_id(options.scheme);
  const auto summary_path = options.out / "summary.json";
  std::ofstream summary(summary_path);
  summary << j.dump(2) << "\n";
  if (!summary) fail(summary_path.string(), "cannot write");
  return s;
}

std::string flood_options_to_json(const FloodRunOptions& o) {
  auto abs = [](const std::filesystem::path& p) { return std::filesystem::absolute(p).lexically_normal().string(); };
  nlohmann::json j;
  j["dem"] = abs(o.dem);
  j["until_s"] = o.until_s;
  j["manning_n"] = o.manning_n;
  if (o.manning_raster) j["manning_raster"] = abs(*o.manning_raster);
  j["inflows"] = nlohmann::json::array();
  for (const auto& i : o.inflows) j["inflows"].push_back({{"x_m", i.location.x_m}, {"y_m", i.location.y_m}, {"csv", abs(i.csv)}});
  if (o.rain_csv) j["rain_csv"] = abs(*o.rain_csv);
  if (o.rain_zones) j["rain_zones"] = abs(*o.rain_zones);
  j["rain_zone_csvs"] = nlohmann::json::array();
  for (const auto& z : o.rain_zone_csvs) j["rain_zone_csvs"].push_back({{"zone", z.zone}, {"csv", abs(z.csv)}});
  if (o.rain_factor) j["rain_factor"] = abs(*o.rain_factor);
  if (o.initial_wse_m) j["initial_wse_m"] = *o.initial_wse_m;
  if (o.initial_depth) j["initial_depth"] = abs(*o.initial_depth);
  j["probes"] = nlohmann::json::array();
  for (const auto& p : o.probes) j["probes"].push_back({{"name", p.name}, {"x_m", p.location.x_m}, {"y_m", p.location.y_m}});
  j["probe_every_s"] = o.probe_every_s;
  j["threads"] = o.threads;
  j["scheme"] = scheme_id(o.scheme);
  j["open_boundaries"] = o.open_boundaries;
  j["frame_every_s"] = o.frame_every_s;
  j["keyframe_every_s"] = o.keyframe_every_s;
  return j.dump();
}

FloodRunOptions flood_options_from_json(const std::string& text, const std::string& where) {
  FloodRunOptions o;
  try {
    const auto j = nlohmann::json::parse(text);
    o.dem = j.at("dem").get<std::string>();
    o.until_s = j.at("until_s").get<double>();
    o.manning_n = j.at("manning_n").get<double>();
    if (j.contains("manning_raster")) o.manning_raster = j["manning_raster"].get<std::string>();
    for (const auto& i : j.at("inflows"))
      o.inflows.push_back({{i.at("x_m").get<double>(), i.at("y_m").get<double>()}, i.at("csv").get<std::string>()});
    if (j.contains("rain_csv")) o.rain_csv = j["rain_csv"].get<std::string>();
    // Optional keys: absent when the run had no such rain.
    if (j.contains("rain_zones")) o.rain_zones = j["rain_zones"].get<std::string>();
    if (j.contains("rain_zone_csvs"))
      for (const auto& z : j["rain_zone_csvs"])
        o.rain_zone_csvs.push_back({z.at("zone").get<int>(), z.at("csv").get<std::string>()});
    if (j.contains("rain_factor")) o.rain_factor = j["rain_factor"].get<std::string>();
    if (j.contains("initial_wse_m")) o.initial_wse_m = j["initial_wse_m"].get<double>();
    if (j.contains("initial_depth")) o.initial_depth = j["initial_depth"].get<std::string>();
    for (const auto& p : j.at("probes"))
      o.probes.push_back({p.at("name").get<std::string>(), {p.at("x_m").get<double>(), p.at("y_m").get<double>()}});
    o.probe_every_s = j.at("probe_every_s").get<double>();
    o.threads = j.at("threads").get<int>();
    const auto scheme = j.at("scheme").get<std::string>();
    const auto known = scheme_from_id(scheme);
    if (!known) fail(where, "unknown flood scheme '{}'", scheme);
    o.scheme = *known;
    o.open_boundaries = j.at("open_boundaries").get<bool>();
    o.frame_every_s = j.at("frame_every_s").get<double>();
    o.keyframe_every_s = j.at("keyframe_every_s").get<double>();
  } catch (const nlohmann::json::exception& e) {
    fail(where, "the recorded flood options are not readable: {}", e.what());
  }
  return o;
}

}  // namespace cadereau::sim::flood
