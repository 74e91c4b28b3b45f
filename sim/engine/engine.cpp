#include "cadereau/sim/engine/engine.h"

#include "engine_impl.h"

#include "cadereau/sim/traffic/greenwave.h"
#include "cadereau/sim/traffic/traffic_model.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/geometry.h"
#include "cadereau/twin/spatial_index.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>

namespace cadereau::sim::engine {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::size_t kNoCell = std::numeric_limits<std::size_t>::max();

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Pregnolato et al. (2017), depth-disruption function for cars: the safe
// speed in km/h for a depth of water in mm, zero from about 300 mm.
double pregnolato_speed_kmh(double depth_m) {
  const double d = depth_m * 1000.0;
  return std::max(0.0, 0.0009 * d * d - 0.5529 * d + 86.9448);
}

// Hazard records are written when a forcing first passes each of these
// levels, so chains name the flow that was running, without a record per step.
constexpr double kInflowLevels_m3_s[] = {1, 10, 25, 50, 100, 200, 300, 400, 500, 750, 1000, 2000};
constexpr double kRainLevels_mm_h[] = {1, 10, 20, 50, 100, 150, 200};

// Water deeper than this connects a cell to a source for the chain of causes.
constexpr double kConnectedDepth_m = 0.01;

}  // namespace

Engine::Engine(const twin::Territory& territory, EngineSetup setup)
    : territory_(territory), setup_(std::move(setup)), impl_(std::make_unique<Impl>()) {
  auto& im = *impl_;
  if (!(setup_.duration_s > 0.0)) fail("engine", "duration {} s must be positive", setup_.duration_s);
  if (!(setup_.exchange_s > 0.0)) fail("engine", "exchange step {} s must be positive", setup_.exchange_s);
  if (!(setup_.level_nudge.radius_m >= 0.0) || !std::isfinite(setup_.level_nudge.radius_m))
    fail("engine", "nudging radius {} m must be a finite distance", setup_.level_nudge.radius_m);
  if (!(setup_.level_nudge.gain > 0.0 && setup_.level_nudge.gain <= 1.0))
    fail("engine", "nudging gain {} is outside (0, 1]", setup_.level_nudge.gain);
  if (!(setup_.nudge_max_age_s >= 0.0)) fail("engine", "nudging age limit {} s must not be negative", setup_.nudge_max_age_s);

  // Flood model on the territory grid.
  flood::FloodSetup fs;
  fs.dem = territory.dem;
  if (territory.manning) fs.manning = territory.manning;
  const twin::GridSpec& dem_grid = territory.dem.grid();
  if (setup_.flood_cell_m > 0.0 && std::abs(setup_.flood_cell_m - dem_grid.cell_w_m) > 1e-6) {
    if (setup_.flood_cell_m < dem_grid.cell_w_m)
      fail("engine", "flood cell {} m is finer than the DEM's {} m", setup_.flood_cell_m, dem_grid.cell_w_m);
    twin::GridSpec coarse;
    coarse.x_min_m = dem_grid.x_min_m;
    coarse.y_max_m = dem_grid.y_max_m;
    coarse.cell_w_m = coarse.cell_h_m = setup_.flood_cell_m;
    coarse.cols = static_cast<int>(std::floor(dem_grid.cols * dem_grid.cell_w_m / setup_.flood_cell_m));
    coarse.rows = static_cast<int>(std::floor(dem_grid.rows * dem_grid.cell_h_m / setup_.flood_cell_m));
    fs.dem = twin::warp_to_grid(territory.dem, coarse, territory.crs, twin::Resampling::average);
    if (fs.manning) fs.manning = twin::warp_to_grid(*fs.manning, coarse, territory.crs, twin::Resampling::average);
  }
  if (setup_.rain_zones && setup_.rain_zones->zone.grid().cols != fs.dem.grid().cols)
    setup_.rain_zones->zone =
        twin::warp_to_grid(setup_.rain_zones->zone, fs.dem.grid(), territory.crs, twin::Resampling::nearest);
  fs.manning_n = setup_.manning_n;
  fs.inflows = setup_.inflows;
  fs.rain_mm_h = setup_.rain_mm_h;
  fs.rain_zones = setup_.rain_zones;
  fs.threads = setup_.flood_threads;
  flood_ = std::make_unique<flood::FloodModel>(std::move(fs));
  const twin::GridSpec& grid = flood_->grid();
  for (const auto& inflow : setup_.inflows) im.inflow_cell.push_back(grid.linear(*grid.cell_at(inflow.location)));
  im.inflow_root.assign(setup_.inflows.size(), 0);
  if (setup_.rain_zones) {
    const std::size_t n = setup_.rain_zones->mm_h.size();
    if (setup_.rain_zone_labels.size() != n)
      fail("engine", "{} rain zones but {} labels", n, setup_.rain_zone_labels.size());
    im.zone_rain_root.assign(n, 0);
    im.zone_rain_level.assign(n, 0);
  }
  im.inflow_level.assign(setup_.inflows.size(), 0);

  impacts_ = std::make_unique<impact::ImpactModel>(territory.assets, territory.zones, log_);
  for (const auto& a : territory.assets) {
    auto c = grid.cell_at(a.location);
    im.asset_cell.push_back(c ? grid.linear(*c) : kNoCell);
  }
  for (const auto& s : territory.sensors) {
    if (s.kind != twin::SensorKind::level_gauge) continue;
    auto c = grid.cell_at(s.location);
    if (!c) continue;
    GaugeSeries g;
    g.id = s.id;
    g.name = s.name;
    g.location = s.location;
    g.bed_m = flood_->bed_m(grid.linear(*c));
    gauges_.push_back(std::move(g));
    im.gauge_cell.push_back(grid.linear(*c));
  }

  // Residents per building: a zone's population shared over its residential
  // buildings by floor area (footprint x storeys of 3 m).
  {
    std::vector<double> zone_floor(territory.zones.size(), 0.0);
    struct Pending {
      std::size_t cell, zone;
      double floor;
    };
    std::vector<Pending> pending;
    for (const auto& b : territory.buildings) {
      if (b.use != "residential") continue;
      const twin::MapPoint c = b.footprint.centroid();
      auto cell = grid.cell_at(c);
      if (!cell) continue;
      for (std::size_t z = 0; z < territory.zones.size(); ++z)
        if (territory.zones[z].area.contains(c)) {
          const double floor = b.footprint.area_m2() * std::max(1.0, std::round(b.height_m / 3.0));
          pending.push_back({grid.linear(*cell), z, floor});
          zone_floor[z] += floor;
          break;
        }
    }
    for (const auto& p : pending)
      im.buildings.push_back({p.cell, p.zone, territory.zones[p.zone].population * p.floor / zone_floor[p.zone]});
  }

  // Actions: known verbs and targets.
  im.actions = setup_.actions;
  std::stable_sort(im.actions.begin(), im.actions.end(),
                   [](const TimedAction& a, const TimedAction& b) { return a.t_s < b.t_s; });
  im.action_taken_s.assign(im.actions.size(), std::numeric_limits<double>::quiet_NaN());
  for (const auto& a : im.actions) {
    if (!(a.t_s >= 0.0) || a.t_s > setup_.duration_s)
      fail(action_where(a), "action at {} s is outside the run (0 to {} s)", a.t_s, setup_.duration_s);
    if (!setup_.traffic) fail(action_where(a), "action '{}' needs the traffic model, which is off", to_string(a.verb));
  }

  if (setup_.traffic) {
    if (!territory.network || !territory.manifest.network)
      fail(territory.manifest.folder.string(), "the traffic model needs a road network in territory.yaml");
    traffic::TrafficOptions to;
    to.net = *territory.manifest.network;
    to.routes = territory.manifest.demand;
    to.additionals = setup_.light_plans;
    for (const auto& plan : setup_.light_plans)
      for (const auto& program : traffic::read_programs(plan)) im.plan_programs[program.id].push_back(program.program_id);
    to.seed = setup_.seed;
    to.kind = setup_.traffic_model;
    // A resumed run starts SUMO at the saved time: SUMO then skips the trips
    // of the demand that departed before it, which the saved state holds (on
    // the road) or no longer holds (arrived, or caught by the water). Started
    // earlier, SUMO would insert every one of those again after the load.
    to.begin_s = setup_.traffic_begin_s + (setup_.resume ? setup_.resume->time_s() : 0.0);
    // SUMO's periodic rerouting of every vehicle, and its routing of every
    // trip again as it enters, cost more than the rest of the traffic model
    // together: vehicles keep the demand's routes, and only those whose
    // route crosses a closed road re-plan, on current travel times
    // (refreshed every 10 s), when it closes or as they depart.
    to.rerouting_period_s = 0.0;
    to.route_on_insertion = false;
    to.extra_sumo_options = {"--time-to-teleport", "300", "--device.rerouting.adaptation-interval", "10",
                            // Forecasts and restarted session workers resume from saved
                            // states: keep the random streams in them, and positions and
                            // speeds to the last bit (SUMO rounds them to 2 decimals by
                            // default, enough for a resumed run to take another course).
                            "--save-state.rng", "true", "--save-state.precision", "17"};
    // Counters' edges get their calibrators when SUMO starts.
    if (setup_.follow_counts) to.counted_edges = counted_edges();
    for (const auto& edge : to.counted_edges) im.counted.push_back({edge, {}});
    im.traffic = std::make_unique<traffic::TrafficModel>(std::move(to));
    const auto& net = *territory.network;
    for (const auto& a : im.actions) check_action_target(a);
    im.edge_cells = twin::compute_edge_cells(net, grid);
    im.edges.resize(net.edges().size());
    edge_max_depth_.assign(net.edges().size(), 0.0);
    im.origins = traffic::emergency_origins(territory.assets);
    im.destinations = traffic::zone_centroids(territory.zones);
    for (std::size_t a = 0; a < territory.assets.size(); ++a)
      if (territory.assets[a].needs_road_access) {
        im.destinations.push_back({territory.assets[a].id, territory.assets[a].location});
        im.destination_asset.push_back(a);
      }
  }
  gauges_.shrink_to_fit();

  if (setup_.recording) {
    std::vector<std::string> traffic_edges;
    if (im.traffic && setup_.traffic_every_s > 0.0)
      for (const auto& e : im.traffic->network().edges()) traffic_edges.push_back(e.id);
    im.recording = std::make_unique<EngineRecording>(*setup_.recording, setup_, territory, grid, flood_->crs(), gauges_,
                                                     std::move(traffic_edges), setup_.keyframe_every_s > 0.0);
    im.observers.push_back(im.recording.get());
  }
  if (setup_.resume) {
    resume(*setup_.resume, setup_.resume_where.empty() ? std::string("saved state") : setup_.resume_where);
    setup_.resume.reset();  // the water and SUMO's state are not needed twice
    im.next_frame_s = im.next_keyframe_s = im.next_traffic_s = time_s_;
  } else {
    exchange(0.0);
  }
}

Engine::~Engine() {
  // The flood worker holds a reference to the flood model: it goes first.
  if (impl_) impl_->flood_worker.reset();
}

const traffic::TrafficModel* Engine::traffic() const { return impl_->traffic.get(); }

long Engine::vehicles_arrived() const { return impl_->traffic ? impl_->traffic->arrived_total() : 0; }

std::vector<std::size_t> Engine::closed_edges() const {
  std::vector<std::size_t> out;
  for (std::size_t e = 0; e < impl_->edges.size(); ++e)
    if (impl_->edges[e].closed_by_water || impl_->edges[e].closed_by_action) out.push_back(e);
  return out;
}

std::vector<std::size_t> Engine::edges_ever_flooded() const {
  std::vector<std::size_t> out;
  for (std::size_t e = 0; e < impl_->edges.size(); ++e)
    if (impl_->edges[e].ever_flooded) out.push_back(e);
  return out;
}

void Engine::run() {
  advance_to(setup_.duration_s);
  const auto started = Clock::now();
  for (EngineObserver* o : impl_->observers) o->on_end(time_s_);
  timings_.recording_s += seconds_since(started);
}

void Engine::add_observer(EngineObserver& observer) { impl_->observers.push_back(&observer); }

void Engine::flush_recording() {
  if (impl_->recording) impl_->recording->recorder().flush();
}

void Engine::advance_to(double t_s) {
  const auto started = Clock::now();
  t_s = std::min(t_s, setup_.duration_s);
  while (time_s_ < t_s - 1e-9) {
    const double next = std::min(t_s, (std::floor(time_s_ / setup_.exchange_s + 1e-9) + 1.0) * setup_.exchange_s);
    exchange(next);
    if (setup_.progress) setup_.progress(time_s_, setup_.duration_s);
  }
  timings_.total_s += seconds_since(started);
}

void Engine::exchange(double t_s) {
  auto& im = *impl_;
  const std::size_t first_new = log_.size();
  // Commands queued since the last exchange take effect over this one.
  apply_commands();
  // The flood and the traffic move from the last exchange time to t_s side
  // by side, each on its own core: over the interval SUMO drives with the
  // closures decided at its start, and the flood needs nothing from SUMO.
  auto started = Clock::now();
  if (im.traffic) {
    if (!im.flood_worker) im.flood_worker = std::make_unique<FloodWorker>(*flood_);
    im.flood_worker->start(t_s);
    try {
      run_due_access();
      const auto t0 = Clock::now();
      im.traffic->step_to(setup_.traffic_begin_s + t_s);
      timings_.traffic_s += seconds_since(t0);
    } catch (...) {
      im.flood_worker->wait();
      throw;
    }
    timings_.flood_s += im.flood_worker->wait();
  } else {
    flood_->advance_to(t_s);
    timings_.flood_s += seconds_since(started);
  }
  timings_.step_wall_s += seconds_since(started);
  time_s_ = t_s;

  note_hazards(t_s);
  apply_due_actions(t_s);

  started = Clock::now();
  sample_water(t_s);
  if (im.traffic) follow_units(t_s);
  if (!im.counted.empty()) sample_counts(t_s);
  timings_.coupling_s += seconds_since(started);

  started = Clock::now();
  impacts_->advance_to(t_s);
  timings_.impacts_s += seconds_since(started);
  react_to_new_records(first_new);

  if (im.traffic) {
    // Vehicles on their way to a road closed now re-plan; vehicles entering
    // later are routed around it as they depart.
    started = Clock::now();
    im.traffic->reroute_around_closures();
    timings_.coupling_s += seconds_since(started);
    if (t_s >= im.next_access_s - 1e-9) {
      // The routing runs at the start of the next exchange, on SUMO as it is
      // now, beside the flood's advance rather than after it; the last one
      // of the run has no next exchange.
      im.access_due_s = t_s;
      im.next_access_s = t_s + setup_.access_every_s;
      if (t_s >= setup_.duration_s - 1e-9) run_due_access();
    }
  }
  started = Clock::now();
  report_exchange(t_s);
  timings_.recording_s += seconds_since(started);
}

void Engine::note_hazards(double t_s) {
  auto& im = *impl_;
  // A hazard level passed after a change of forcing answers to that change
  // (and so does everything its water does), as did the levels before it.
  auto changed_by = [&](std::uint64_t root) -> std::vector<std::uint64_t> {
    if (!root) return {};
    const impact::Impact& r = log_.at(root);
    return r.kind == impact::kind::forcing_changed ? std::vector<std::uint64_t>{root} : r.causes;
  };
  for (std::size_t k = 0; k < setup_.inflows.size(); ++k) {
    const double q = setup_.inflows[k].discharge_m3_s.at(t_s);
    std::size_t& level = im.inflow_level[k];
    if (level >= std::size(kInflowLevels_m3_s) || q < kInflowLevels_m3_s[level]) continue;
    while (level < std::size(kInflowLevels_m3_s) && q >= kInflowLevels_m3_s[level]) ++level;
    im.inflow_root[k] = log_.add(t_s, impact::kind::inflow, setup_.inflows[k].label, setup_.inflows[k].location,
                                 fmt::format("{:.0f} m3/s", q), changed_by(im.inflow_root[k]));
  }
  auto rain_record = [&](double mm_h, std::size_t& level, std::uint64_t& root, const std::string& over) {
    if (level >= std::size(kRainLevels_mm_h) || mm_h < kRainLevels_mm_h[level]) return;
    while (level < std::size(kRainLevels_mm_h) && mm_h >= kRainLevels_mm_h[level]) ++level;
    const twin::Box box = flood_->grid().extent();
    root = log_.add(t_s, impact::kind::rain, over, {(box.x_min_m + box.x_max_m) / 2.0, (box.y_min_m + box.y_max_m) / 2.0},
                    fmt::format("{:.0f} mm/h", mm_h), changed_by(root));
  };
  if (setup_.rain_mm_h) rain_record(setup_.rain_mm_h->at(t_s), im.rain_level, im.rain_root, "territory");
  for (std::size_t z = 0; z < im.zone_rain_root.size(); ++z)
    rain_record(setup_.rain_zones->mm_h[z].at(t_s), im.zone_rain_level[z], im.zone_rain_root[z],
                setup_.rain_zone_labels[z]);
}

std::vector<std::uint64_t> Engine::water_causes(std::size_t cell) {
  auto& im = *impl_;
  if (im.masks_at_s != time_s_) {
    // Whose water is it? Each wet cell takes the inflow it is nearest to
    // along wet cells (more than a centimetre deep): one breadth-first search
    // from every inflow cell at once.
    const twin::GridSpec& grid = flood_->grid();
    im.source_of.assign(grid.cell_count(), -1);
    std::vector<std::size_t> frontier, next;
    const std::size_t cols = static_cast<std::size_t>(grid.cols), rows = static_cast<std::size_t>(grid.rows);
    for (std::size_t k = 0; k < im.inflow_cell.size(); ++k)
      if (im.source_of[im.inflow_cell[k]] < 0) {
        im.source_of[im.inflow_cell[k]] = static_cast<int>(k);
        frontier.push_back(im.inflow_cell[k]);
      }
    while (!frontier.empty()) {
      next.clear();
      for (std::size_t i : frontier) {
        const std::size_t r = i / cols, c = i % cols;
        auto visit = [&](std::size_t j) {
          if (im.source_of[j] >= 0 || flood_->depth_m(j) < kConnectedDepth_m) return;
          im.source_of[j] = im.source_of[i];
          next.push_back(j);
        };
        if (c > 0) visit(i - 1);
        if (c + 1 < cols) visit(i + 1);
        if (r > 0) visit(i - cols);
        if (r + 1 < rows) visit(i + cols);
      }
      frontier.swap(next);
    }
    im.masks_at_s = time_s_;
  }
  std::vector<std::uint64_t> causes;
  const int source = im.source_of[cell];
  if (source >= 0 && im.inflow_root[static_cast<std::size_t>(source)])
    causes.push_back(im.inflow_root[static_cast<std::size_t>(source)]);
  // Rain falling on the place itself.
  if (setup_.rain_zones) {
    const float k = setup_.rain_zones->zone.values()[cell];
    if (k >= 0.0f && static_cast<std::size_t>(k) < im.zone_rain_root.size() && im.zone_rain_root[static_cast<std::size_t>(k)])
      causes.push_back(im.zone_rain_root[static_cast<std::size_t>(k)]);
  }
  if (im.rain_root) causes.push_back(im.rain_root);
  return causes;
}

void Engine::sample_water(double t_s) {
  auto& im = *impl_;
  // Gauges.
  for (std::size_t g = 0; g < gauges_.size(); ++g) {
    gauges_[g].t_s.push_back(t_s);
    gauges_[g].wse_m.push_back(gauges_[g].bed_m + flood_->depth_m(im.gauge_cell[g]));
  }
  // Assets.
  for (std::size_t a = 0; a < im.asset_cell.size(); ++a) {
    if (im.asset_cell[a] == kNoCell) continue;
    const double depth = flood_->depth_m(im.asset_cell[a]);
    const bool crosses = depth >= territory_.assets[a].flood_threshold_m ||
                         impacts_->status(a) != impact::AssetStatus::in_service;
    impacts_->observe_water(a, t_s, depth, crosses ? water_causes(im.asset_cell[a]) : std::vector<std::uint64_t>{});
  }
  // Roads.
  if (!im.traffic) return;
  const auto& net = *territory_.network;
  for (std::size_t e = 0; e < im.edges.size(); ++e) {
    double depth = 0.0;
    std::size_t deepest = kNoCell;
    for (std::uint32_t cell : im.edge_cells.of(e))
      if (flood_->depth_m(cell) > depth) depth = flood_->depth_m(cell), deepest = cell;
    edge_max_depth_[e] = std::max(edge_max_depth_[e], depth);
    auto& ef = im.edges[e];
    const std::string& id = net.edges()[e].id;
    // Where the road is deepest (the point of its shape nearest to its deepest
    // cell), else its middle: where the records put the water, the closure
    // and the cars caught.
    const auto& shape = net.edges()[e].shape;
    const twin::MapPoint place =
        deepest != kNoCell ? twin::nearest_on_polyline(shape, flood_->grid().cell_centre(flood_->grid().from_linear(deepest)))
        : shape.empty()    ? twin::MapPoint{}
                           : shape[shape.size() / 2];
    if (!ef.closed_by_water && depth >= setup_.road_closed_depth_m) {
      ef.water_record = log_.add(t_s, impact::kind::water, id, place,
                                 fmt::format("{:.2f} m of water > {:.2f} m", depth, setup_.road_closed_depth_m),
                                 water_causes(deepest));
      ef.closed_by_water = true;
      ef.ever_flooded = true;
      // Cars on the road as the water rises are caught there.
      const auto caught = im.traffic->vehicles_on_edge(id);
      if (!ef.closed_by_action) {
        im.traffic->set_edge_access(id, traffic::Access::closed);
      }
      ef.closure_record =
          log_.add(t_s, impact::kind::road_closed, id, place,
                   net.edges()[e].name.empty() ? "impassable" : net.edges()[e].name + ", impassable", {ef.water_record});
      if (!caught.empty()) {
        for (const auto& v : caught) {
          im.traffic->remove_vehicle(v.id);
          unit_caught(v.id, id, place, ef.closure_record);
        }
        stalled_vehicles_ += static_cast<long>(caught.size());
        const double people = static_cast<double>(caught.size()) * setup_.vehicle_occupancy;
        people_at_risk_ += people;
        log_.add(t_s, impact::kind::people_at_risk, id, place,
                 fmt::format("{} vehicle{} caught in the water", caught.size(), caught.size() > 1 ? "s" : ""),
                 {ef.closure_record}, people);
      }
    } else if (ef.closed_by_water && depth < setup_.road_reopen_depth_m) {
      ef.water_record = log_.add(t_s, impact::kind::water_receded, id, place,
                                 fmt::format("water down to {:.2f} m", depth), {ef.water_record});
      ef.closed_by_water = false;
      if (!ef.closed_by_action) {
        im.traffic->set_edge_access(id, traffic::Access::open);
        log_.add(t_s, impact::kind::road_reopened, id, place, "", {ef.water_record});
      }
    }
    // Below the closure depth, the safe speed falls with the depth.
    if (!ef.closed_by_water) {
      const double limit = pregnolato_speed_kmh(depth);
      const double own_kmh = net.edges()[e].speed_m_s() * 3.6;
      const double wanted = limit < own_kmh ? std::max(5.0, std::floor(limit / 5.0) * 5.0) : 0.0;
      if (wanted != ef.limit_kmh) {
        if (wanted > 0.0)
          im.traffic->set_speed_limit(id, wanted / 3.6);
        else
          im.traffic->restore_speed_limit(id);
        ef.limit_kmh = wanted;
      }
    }
  }
  // People in flooded homes, per zone.
  std::vector<double> people(territory_.zones.size(), 0.0);
  std::vector<std::size_t> any_cell(territory_.zones.size(), kNoCell);
  for (const auto& b : im.buildings)
    if (flood_->depth_m(b.cell) >= setup_.building_flooded_depth_m) {
      people[b.zone] += b.people;
      any_cell[b.zone] = b.cell;
    }
  for (std::size_t z = 0; z < people.size(); ++z)
    if (people[z] > 0.0) impacts_->observe_zone_flooding(z, t_s, people[z], water_causes(any_cell[z]));
}

void Engine::run_due_access() {
  auto& im = *impl_;
  if (!im.access_due_s) return;
  const auto started = Clock::now();
  update_access(*im.access_due_s);
  im.access_due_s.reset();
  timings_.access_s += seconds_since(started);
}

void Engine::update_access(double t_s) {
  auto& im = *impl_;
  const auto& net = *territory_.network;
  const traffic::AccessMatrix m = im.traffic->emergency_access(im.origins, im.destinations);
  const bool baseline = im.baseline_route.empty();
  if (baseline) im.baseline_route.resize(im.destinations.size());
  for (std::size_t d = 0; d < im.destinations.size(); ++d) {
    double best = kInf;
    std::size_t best_origin = 0;
    // A hospital is not its own help: help for it comes from elsewhere.
    for (std::size_t o = 0; o < im.origins.size(); ++o)
      if (im.origins[o].id != im.destinations[d].id && m.travel_time_s[o][d] < best)
        best = m.travel_time_s[o][d], best_origin = o;
    if (baseline && std::isfinite(best) && !m.destination_edges[d].empty()) {
      if (auto r = im.traffic->route(m.origin_edges[best_origin], m.destination_edges[d], "emergency"))
        for (const auto& edge : r->edges)
          if (auto idx = net.edge_index(edge)) im.baseline_route[d].push_back(*idx);
    }
    // Causes: the closures on the way the emergency services took before the crisis.
    std::vector<std::uint64_t> causes;
    for (std::size_t e : im.baseline_route[d])
      if ((im.edges[e].closed_by_water || im.edges[e].closed_by_action) && im.edges[e].closure_record)
        causes.push_back(im.edges[e].closure_record);
    if (d < territory_.zones.size())
      impacts_->observe_zone_access(d, t_s, best, causes);
    else
      impacts_->observe_asset_access(im.destination_asset[d - territory_.zones.size()], t_s, best, causes);
  }
}

void Engine::apply_due_actions(double t_s) {
  auto& im = *impl_;
  const auto& net = *territory_.network;
  while (im.next_action < im.actions.size() && im.actions[im.next_action].t_s <= t_s + 1e-9) {
    const TimedAction& a = im.actions[im.next_action];
    im.applying_taken_s = im.action_taken_s[im.next_action++];
    auto& tm = *im.traffic;
    const std::string verb = to_string(a.verb);
    const std::string detail = a.by.empty() ? verb : fmt::format("{} by {}", verb, a.by);
    const auto edge = net.edge_index(a.target);
    twin::MapPoint place;
    if (edge && !net.edges()[*edge].shape.empty()) place = net.edges()[*edge].shape.front();
    if (const twin::Junction* j = edge ? nullptr : net.find_junction(a.target)) place = j->position;
    switch (a.verb) {
      case Verb::close_road:
      case Verb::close_road_to_traffic:
      case Verb::lower_bollard: {
        if (a.verb == Verb::close_road) tm.set_edge_access(a.target, traffic::Access::closed);
        if (a.verb == Verb::close_road_to_traffic) tm.set_edge_access(a.target, traffic::Access::emergency_only);
        if (a.verb == Verb::lower_bollard) tm.lower_bollard(a.target);
        im.edges[*edge].closed_by_action = true;
        im.edges[*edge].action_verb = a.verb;
        const auto id = log_.add(t_s, impact::kind::action, a.target, place, detail, {});
        note_command(id, a);
        im.edges[*edge].closure_record =
            log_.add(t_s, impact::kind::road_closed, a.target, place,
                     a.verb == Verb::close_road ? "closed" : "closed to all but emergency vehicles", {id});
        break;
      }
      case Verb::reopen_road:
      case Verb::raise_bollard: {
        im.edges[*edge].closed_by_action = false;
        im.edges[*edge].action_verb.reset();
        const auto id = log_.add(t_s, impact::kind::action, a.target, place, detail, {});
        note_command(id, a);
        if (!im.edges[*edge].closed_by_water) {
          tm.set_edge_access(a.target, traffic::Access::open);
          log_.add(t_s, impact::kind::road_reopened, a.target, place, "", {id});
        }
        break;
      }
      default:
        apply_to_traffic(a);
        note_command(log_.add(t_s, impact::kind::action, a.target, place,
                              a.verb == Verb::light_program ? detail + " " + a.program : detail, {}),
                     a);
    }
  }
}

void Engine::apply_to_traffic(const TimedAction& a) {
  auto& tm = *impl_->traffic;
  switch (a.verb) {
    case Verb::speed_limit: tm.set_speed_limit(a.target, a.value / 3.6); break;
    case Verb::restore_speed_limit: tm.restore_speed_limit(a.target); break;
    case Verb::light_program: tm.set_light_program(a.target, a.program); break;
    case Verb::light_off: tm.set_light_off(a.target); break;
    case Verb::light_flashing: tm.set_light_flashing(a.target); break;
    case Verb::restore_light: tm.restore_light(a.target); break;
    default: break;  // the actions on road access, handled by apply_due_actions
  }
}

void Engine::react_to_new_records(std::size_t) {
  auto& im = *impl_;
  // A traffic light whose controller fails goes dark; it comes back with it.
  for (; im.reacted < log_.size(); ++im.reacted) {
    const impact::Impact& r = log_.all()[im.reacted];
    if (!im.traffic || (r.kind != impact::kind::asset_failed && r.kind != impact::kind::asset_recovered)) continue;
    const auto a = impacts_->asset_index(r.target);
    if (!a || territory_.assets[*a].type != twin::AssetType::traffic_signal) continue;
    const std::string& tls = territory_.assets[*a].tls_id;
    if (!territory_.network->find_traffic_light(tls)) continue;
    if (r.kind == impact::kind::asset_failed)
      im.traffic->set_light_off(tls);
    else
      im.traffic->restore_light(tls);
  }
}

void Engine::report_exchange(double t_s) {
  auto& im = *impl_;
  const std::size_t first = im.recorded;
  im.recorded = log_.size();
  std::vector<std::string> commands(log_.size() - first);
  for (std::size_t i = first; i < log_.size(); ++i)
    if (const auto c = im.command_of_record.find(log_.all()[i].id); c != im.command_of_record.end()) {
      commands[i - first] = std::move(c->second);
      im.command_of_record.erase(c);
    }
  std::vector<RecordedCommand> observations;
  observations.swap(im.observations_taken);
  std::vector<EngineNote> notes;
  {
    std::lock_guard lock(im.pending_mutex);
    notes.swap(im.notes);
  }
  // Frames keep their cadence from the start, whoever is watching.
  const bool frame_due = t_s >= im.next_frame_s - 1e-9;
  if (frame_due) im.next_frame_s = t_s + setup_.frame_every_s;
  const bool traffic_due = im.traffic && setup_.traffic_every_s > 0.0 && t_s >= im.next_traffic_s - 1e-9;
  if (traffic_due) im.next_traffic_s = t_s + setup_.traffic_every_s;
  if (im.observers.empty()) return;

  ExchangeReport report;
  report.t_s = t_s;
  report.new_records = std::span<const impact::Impact>(log_.all()).subspan(first);
  report.record_commands = commands;
  report.observations = observations;
  report.notes = notes;
  report.kpis.roads_closed = closed_edges().size();
  report.kpis.people_at_risk = people_at_risk_;
  for (std::size_t a = 0; a < territory_.assets.size(); ++a)
    report.kpis.assets_out_of_service += impacts_->status(a) == impact::AssetStatus::out_of_service;
  report.kpis.vehicles_running = im.traffic ? im.traffic->expected_vehicles() : 0;
  report.kpis.volume_nudged_in_m3 = nudged_.added_m3;
  report.kpis.volume_nudged_out_m3 = nudged_.removed_m3;
  std::vector<GaugeLevel> gauges;
  for (const auto& g : gauges_) gauges.push_back({g.id, g.wse_m.back(), g.wse_m.back() - g.bed_m});
  report.gauges = gauges;
  std::optional<twin::Raster> depth;
  if (frame_due) {
    depth = flood_->depth_raster();
    report.depth = &*depth;
  }
  std::vector<RoadTraffic> traffic;
  if (traffic_due) {
    const auto& edges = im.traffic->network().edges();
    const auto states = im.traffic->edge_states();
    traffic.resize(states.size());
    for (std::size_t i = 0; i < states.size(); ++i) {
      const double limit = edges[i].speed_m_s();
      traffic[i].vehicles = states[i].vehicles;
      if (states[i].vehicles > 0 && limit > 0.0)
        traffic[i].speed_ratio = static_cast<float>(std::clamp(states[i].mean_speed_m_s / limit, 0.0, 1.0));
    }
    report.traffic = traffic;
  }
  for (EngineObserver* o : im.observers) o->on_exchange(report);
  if (im.recording && setup_.keyframe_every_s > 0.0 && t_s >= im.next_keyframe_s - 1e-9) {
    im.recording->keyframe(t_s, capture_state());
    im.next_keyframe_s = t_s + setup_.keyframe_every_s;
  }
}

}  // namespace cadereau::sim::engine
