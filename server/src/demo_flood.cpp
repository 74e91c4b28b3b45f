#include "demo_flood.h"

#include "cadereau/sim/flood/flood_model.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/spatial_index.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>
#include <map>
#include <ostream>

namespace cadereau::server {

namespace {

// Peak discharges of 3 October 1988 (cadereau d'Alès ~480 m3/s, d'Uzès ~220 m3/s);
// Camplanier's is scaled on its smaller catchment. The rise to the peak takes
// 40 minutes, as on the morning of the flood, and the recession 80 more.
struct Stream {
  const char* watercourse;
  double peak_m3_s;
};
constexpr Stream kStreams[] = {{"cadereau d'Alès", 480.0}, {"cadereau d'Uzès", 220.0}, {"cadereau de Camplanier", 80.0}};
constexpr double kRise_s = 2400.0;
constexpr double kRecession_s = 4800.0;

std::string clock(double t_s) {
  const int minutes = static_cast<int>(t_s / 60.0 + 0.5);
  return fmt::format("{:d}:{:02d}", minutes / 60, minutes % 60);
}

}  // namespace

void run_demo_flood(const twin::Territory& territory, const std::filesystem::path& dir, std::ostream& out,
                    const DemoFloodOptions& options) {
  namespace flood = sim::flood;
  if (!territory.network) fail(territory.manifest.folder.string(), "the flood forecast needs a road network");
  flood::FloodSetup setup;
  setup.dem = territory.dem;
  if (territory.manning) setup.manning = territory.manning;
  setup.manning_n = 0.05;
  // Inflows where each cadereau leaves the garrigue: its upstream level gauge.
  for (const auto& stream : kStreams) {
    const twin::Sensor* outlet = nullptr;
    for (const auto& s : territory.sensors)
      if (s.kind == twin::SensorKind::level_gauge && s.watercourse == stream.watercourse &&
          (!outlet || s.location.y_m > outlet->location.y_m))
        outlet = &s;
    if (!outlet) continue;
    flood::PointInflow inflow;
    inflow.label = stream.watercourse;
    inflow.location = outlet->location;
    inflow.discharge_m3_s = flood::TimeSeries({0.0, kRise_s, kRise_s + kRecession_s}, {0.0, stream.peak_m3_s, 0.0});
    setup.inflows.push_back(std::move(inflow));
  }
  if (setup.inflows.empty())
    fail(territory.manifest.folder.string(), "no level gauge names a cadereau: nowhere to bring the flood in");

  flood::FloodModel model(std::move(setup));
  const twin::GridSpec& grid = model.grid();
  const twin::RoadNetwork& network = *territory.network;
  const twin::EdgeCells edge_cells = twin::compute_edge_cells(network, grid);
  constexpr double kNever = std::numeric_limits<double>::infinity();
  std::vector<double> edge_closed_s(network.edges().size(), kNever);
  std::vector<double> asset_out_s(territory.assets.size(), kNever);
  std::vector<double> asset_depth_m(territory.assets.size(), 0.0);
  std::vector<std::size_t> asset_cell(territory.assets.size(), std::numeric_limits<std::size_t>::max());
  for (std::size_t a = 0; a < territory.assets.size(); ++a)
    if (auto c = grid.cell_at(territory.assets[a].location)) asset_cell[a] = grid.linear(*c);

  const auto start = std::chrono::steady_clock::now();
  for (double t = options.report_every_s; t <= options.duration_s + 1e-9; t += options.report_every_s) {
    model.advance_to(t);
    for (std::size_t e = 0; e < edge_closed_s.size(); ++e) {
      if (edge_closed_s[e] < kNever) continue;
      for (std::uint32_t cell : edge_cells.of(e))
        if (model.depth_m(cell) >= options.road_closed_depth_m) {
          edge_closed_s[e] = t;
          break;
        }
    }
    for (std::size_t a = 0; a < asset_cell.size(); ++a) {
      if (asset_cell[a] == std::numeric_limits<std::size_t>::max()) continue;
      const double depth = model.depth_m(asset_cell[a]);
      asset_depth_m[a] = std::max(asset_depth_m[a], depth);
      if (asset_out_s[a] == kNever && depth >= territory.assets[a].flood_threshold_m) asset_out_s[a] = t;
    }
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::filesystem::create_directories(dir);
  twin::write_geotiff(model.max_depth_raster(), dir / "max_depth.tif");
  twin::write_geotiff(model.arrival_time_raster(), dir / "arrival_time.tif");

  const auto max_depth = model.max_depth_raster();
  std::size_t flooded_cells = 0;
  for (float v : max_depth.values())
    if (!max_depth.is_nodata(v) && v >= 0.1f) ++flooded_cells;
  std::size_t closed = 0;
  double closed_km = 0.0, first_closure_s = kNever;
  for (std::size_t e = 0; e < edge_closed_s.size(); ++e)
    if (edge_closed_s[e] < kNever) {
      ++closed;
      closed_km += network.edges()[e].length_m() / 1000.0;
      first_closure_s = std::min(first_closure_s, edge_closed_s[e]);
    }
  const auto mass = model.mass_balance();
  out << fmt::format("   {} min of a 1988-like flash flood (peaks: Alès 480, Uzès 220, Camplanier 80 m3/s) "
                     "simulated in {:.1f} s, {} steps, mass error {:.1e}\n",
                     options.duration_s / 60.0, wall_s, model.steps(), mass.error_rel());
  out << fmt::format("   {:.2f} km2 under more than 10 cm of water, max depth {:.2f} m\n",
                     flooded_cells * grid.cell_w_m * grid.cell_h_m / 1e6, model.max_depth_m());
  out << fmt::format("   {} road edges ({:.1f} km) impassable at {:.1f} m{}\n", closed, closed_km,
                     options.road_closed_depth_m,
                     closed ? fmt::format(", the first at {}", clock(first_closure_s)) : std::string());

  std::vector<std::size_t> hit;
  for (std::size_t a = 0; a < asset_out_s.size(); ++a)
    if (asset_out_s[a] < kNever) hit.push_back(a);
  std::sort(hit.begin(), hit.end(), [&](std::size_t x, std::size_t y) { return asset_out_s[x] < asset_out_s[y]; });
  out << fmt::format("   {} assets out of service (water above their threshold):\n", hit.size());
  for (std::size_t a : hit) {
    const auto& asset = territory.assets[a];
    out << fmt::format("     {}  {} ({}): {:.2f} m > {:.2f} m\n", clock(asset_out_s[a]), asset.name,
                       twin::to_string(asset.type), asset_depth_m[a], asset.flood_threshold_m);
  }

  nlohmann::json j;
  j["duration_s"] = options.duration_s;
  j["wall_s"] = wall_s;
  j["mass_error_rel"] = mass.error_rel();
  j["max_depth_m"] = model.max_depth_m();
  j["road_closed_depth_m"] = options.road_closed_depth_m;
  j["roads_closed"] = nlohmann::json::array();
  for (std::size_t e = 0; e < edge_closed_s.size(); ++e)
    if (edge_closed_s[e] < kNever) j["roads_closed"].push_back({{"edge", network.edges()[e].id}, {"at_s", edge_closed_s[e]}});
  j["assets_out"] = nlohmann::json::array();
  for (std::size_t a : hit)
    j["assets_out"].push_back({{"asset", territory.assets[a].id},
                               {"at_s", asset_out_s[a]},
                               {"max_depth_m", asset_depth_m[a]},
                               {"threshold_m", territory.assets[a].flood_threshold_m}});
  std::ofstream file(dir / "impacts.json");
  file << j.dump(2) << "\n";
  if (!file) fail((dir / "impacts.json").string(), "cannot write");
}

}  // namespace cadereau::server
