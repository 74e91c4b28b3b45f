#include "cadereau/data/demo_territory.h"

#include "demand.h"
#include "places.h"
#include "process.h"
#include "streets.h"
#include "terrain.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/road_network.h"
#include "cadereau/twin/territory.h"
#include "cadereau/twin/vector.h"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <map>
#include <system_error>

namespace cadereau::data {

namespace {

using namespace detail;
namespace fs = std::filesystem;

// Land-cover classes and their Manning n (s m^-1/3). Buildings are not in the
// DEM, so built-up classes carry an equivalent roughness for the blocks
// (Syme 2008; Néelz & Pender 2013 use 0.1-0.2 for dense blocks); open ground
// follows Chow (1959) tables.
enum class Cover : std::uint8_t {
  garrigue = 1,     // Mediterranean scrub on limestone: medium brush, Chow 0.05-0.07
  historic = 2,     // the Écusson's continuous blocks: equivalent roughness
  residential = 3,  // houses, gardens and walls
  agricultural = 4, // vineyards and fields of the Vistre plain, Chow 0.03-0.05
  street = 5,       // asphalt carriageway and pavements, Chow 0.013-0.016
  water = 6,        // cadereau and Vistre beds: stony, weedy natural channels, Chow 0.030-0.040
  park = 7,         // lawns and sports grounds: short grass, Chow 0.025-0.035
  industrial = 8,   // paved yards and warehouses
};

struct CoverInfo {
  Cover cover;
  const char* name;
  double manning;
};

constexpr std::array<CoverInfo, 8> kCovers = {{
    {Cover::garrigue, "garrigue", 0.065},
    {Cover::historic, "dense historic centre", 0.15},
    {Cover::residential, "residential", 0.08},
    {Cover::agricultural, "agricultural plain", 0.045},
    {Cover::street, "streets and roads", 0.016},
    {Cover::water, "watercourse channel", 0.035},
    {Cover::park, "parks and sports grounds", 0.035},
    {Cover::industrial, "industrial and commercial", 0.06},
}};

double manning_of(Cover c) {
  for (const auto& info : kCovers)
    if (info.cover == c) return info.manning;
  return 0.035;
}

// Cells of streets sit 0.15 m below the surrounding ground (kerbs), so that
// water runs along the streets as it did in 1988; not near the channels,
// where the carved bed alone sets the low line.
constexpr double kKerb_m = 0.15;
constexpr double kKerbClearance_m = 40.0;

Cover classify(const TerrainModel& terrain, const StreetPlan& plan, twin::MapPoint p) {
  if (terrain.in_channel(p, 2.0)) return Cover::water;
  switch (block_kind_at(plan, p)) {
    case BlockKind::historic: return Cover::historic;
    case BlockKind::town:
    case BlockKind::suburb: return Cover::residential;
    case BlockKind::industrial: return Cover::industrial;
    case BlockKind::park: return Cover::park;
    case BlockKind::none: break;
  }
  if (town_contains(p)) return Cover::residential;
  return p.y_m > 6303300.0 ? Cover::garrigue : Cover::agricultural;
}

std::vector<SignalSite> signal_sites(const twin::RoadNetwork& net, const StreetPlan& plan) {
  std::map<std::string, int> node_by_id;
  for (std::size_t k = 0; k < plan.nodes.size(); ++k) node_by_id[plan.nodes[k].id] = static_cast<int>(k);
  std::vector<SignalSite> sites;
  for (const auto& tls : net.traffic_lights()) {
    SignalSite s;
    s.tls_id = tls.id;
    const auto it = node_by_id.find(tls.id);
    if (const twin::Junction* j = net.find_junction(tls.id)) {
      s.position = j->position;
    } else if (it != node_by_id.end()) {
      s.position = plan.nodes[static_cast<std::size_t>(it->second)].position;
    } else {
      fail("demo territory", "traffic light '{}' in the network matches no junction", tls.id);
    }
    s.name = it != node_by_id.end() ? junction_name(plan, it->second) : tls.id;
    sites.push_back(std::move(s));
  }
  return sites;
}

}  // namespace

DemoSummary write_demo_territory(const fs::path& folder, const DemoOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) fail(folder.string(), "cannot create the territory folder: {}", ec.message());
  const twin::Crs crs = twin::Crs::lambert93();
  DemoSummary summary;
  summary.folder = folder;

  const TerrainModel terrain(options.seed);
  const twin::GridSpec grid = territory_grid(options.cell_size_m);
  summary.dem_cols = grid.cols;
  summary.dem_rows = grid.rows;

  spdlog::info("demo territory: street plan");
  const StreetPlan plan = plan_streets(options.seed);
  const fs::path nodes_xml = folder / "network.nod.xml";
  const fs::path edges_xml = folder / "network.edg.xml";
  write_plain_xml(plan, nodes_xml, edges_xml);

  spdlog::info("demo territory: terrain {}x{} cells of {} m", grid.cols, grid.rows, options.cell_size_m);
  twin::Raster dem = make_dem(terrain, grid, crs);
  twin::Raster roads(grid, crs, 0.0f);
  burn_roads(plan, roads, 1.0f);
  twin::Raster landcover(grid, crs, 0.0f);
  twin::Raster manning(grid, crs, 0.0f);
  for (int row = 0; row < grid.rows; ++row) {
    for (int col = 0; col < grid.cols; ++col) {
      const twin::MapPoint p = grid.cell_centre({col, row});
      Cover c = classify(terrain, plan, p);
      if (c != Cover::water && roads.at(col, row) > 0.0f) {
        c = Cover::street;
        if (terrain.channel_distance_m(p) > kKerbClearance_m) dem.at(col, row) -= static_cast<float>(kKerb_m);
      }
      landcover.at(col, row) = static_cast<float>(static_cast<int>(c));
      manning.at(col, row) = static_cast<float>(manning_of(c));
    }
  }
  twin::write_geotiff(dem, folder / "dem.tif", {twin::PixelType::float32});
  twin::write_geotiff(landcover, folder / "landcover.tif", {twin::PixelType::byte});
  twin::write_geotiff(manning, folder / "manning.tif", {twin::PixelType::float32});

  spdlog::info("demo territory: netconvert ({} junctions, {} street segments)", plan.nodes.size(), plan.segments.size());
  const fs::path net_xml = folder / "network.net.xml";
  run_tool("netconvert", "netconvert",
           {"--node-files", nodes_xml.filename().string(), "--edge-files", edges_xml.filename().string(),
            "--output-file", net_xml.filename().string(), "--output.street-names", "true", "--tls.default-type",
            "static", "--tls.cycle.time", "90", "--junctions.corner-detail", "5"},
           folder, folder / "netconvert.log");
  drop_schema_reference(net_xml);
  const twin::RoadNetwork net = twin::RoadNetwork::load(net_xml);
  summary.network_edges = static_cast<int>(net.edges().size());
  summary.traffic_lights = static_cast<int>(net.traffic_lights().size());

  spdlog::info("demo territory: buildings, assets, sensors, zones");
  const auto buildings = make_buildings(terrain, plan, options.seed);
  const auto zones = make_zones(buildings);
  const auto assets = make_assets(terrain, signal_sites(net, plan));
  twin::validate_assets(assets, folder / "assets.geojson");
  const auto sensors = make_sensors(terrain, plan);
  for (const auto& s : sensors)
    if (!s.edge_id.empty() && !net.find_edge(s.edge_id))
      fail("demo territory", "traffic counter '{}' names edge '{}', which netconvert did not build", s.id, s.edge_id);
  twin::write_vector(twin::to_features(buildings), crs, folder / "buildings.geojson", "buildings");
  twin::write_vector(twin::to_features(assets), crs, folder / "assets.geojson", "assets");
  twin::write_vector(twin::to_features(sensors), crs, folder / "sensors.geojson", "sensors");
  twin::write_vector(twin::to_features(zones), crs, folder / "zones.geojson", "zones");
  summary.buildings = static_cast<int>(buildings.size());
  summary.assets = static_cast<int>(assets.size());
  summary.sensors = static_cast<int>(sensors.size());
  summary.zones = static_cast<int>(zones.size());
  for (const auto& z : zones) summary.population += z.population;

  spdlog::info("demo territory: morning-peak demand ({} vehicles), duarouter", options.peak_vehicles);
  const fs::path trips_xml = folder / "trips.xml";
  const fs::path routes_xml = folder / "demand.rou.xml";
  summary.trips = write_trips(plan, assets, options.peak_vehicles, options.seed, trips_xml);
  run_tool("duarouter", "duarouter",
           {"--net-file", net_xml.filename().string(), "--route-files", trips_xml.filename().string(),
            "--output-file", routes_xml.filename().string(), "--ignore-errors", "false", "--routing-algorithm", "astar",
            "--no-step-log", "true", "--seed", std::to_string(options.seed % 2147483647ULL)},
           folder, folder / "duarouter.log");
  fs::remove(folder / "demand.rou.alt.xml", ec);
  drop_schema_reference(routes_xml);

  twin::TerritoryManifest manifest;
  manifest.folder = folder;
  manifest.name = "Nîmes (demo)";
  manifest.crs = "EPSG:2154";
  manifest.vertical_datum = "NGF-IGN69";  // heights as IGN's RGE ALTI gives them
  manifest.extent = grid.extent();
  manifest.dem = folder / "dem.tif";
  manifest.manning = folder / "manning.tif";
  manifest.landcover = folder / "landcover.tif";
  manifest.buildings = folder / "buildings.geojson";
  manifest.assets = folder / "assets.geojson";
  manifest.sensors = folder / "sensors.geojson";
  manifest.zones = folder / "zones.geojson";
  manifest.network = net_xml;
  manifest.demand = {routes_xml};
  for (const auto& info : kCovers)
    manifest.landcover_classes[static_cast<int>(info.cover)] = twin::LandCoverClass{info.name, info.manning};
  twin::write_manifest(manifest, folder);

  summary.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info(
      "demo territory written to {} in {:.1f} s: DEM {}x{}, {} edges, {} traffic lights, {} buildings, {} assets, "
      "{} sensors, {} zones ({:.0f} inhabitants), {} trips",
      folder.string(), summary.elapsed_s, summary.dem_cols, summary.dem_rows, summary.network_edges, summary.traffic_lights,
      summary.buildings, summary.assets, summary.sensors, summary.zones, summary.population, summary.trips);
  return summary;
}

}  // namespace cadereau::data
