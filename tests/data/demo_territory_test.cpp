// The demo territory against what it claims to be: Nîmes-like terrain in
// Lambert-93 (hills > town > plain, cadereau thalwegs descending to the Vistre),
// a SUMO network that SUMO accepts with a signalised arterial, assets with a
// valid dependency graph, demand that runs, and byte-identical regeneration.

#include "cadereau/data/demo_territory.h"
#include "cadereau/twin/assets.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/raster.h"
#include "cadereau/twin/road_network.h"
#include "cadereau/twin/territory.h"

#include "test_support.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using cadereau::twin::MapPoint;
using cadereau::twin::Raster;

namespace {

// The published layout of the demo (Lambert-93, metres).
constexpr double kXMin_m = 807000.0;
constexpr double kYMin_m = 6299000.0;
constexpr double kXMax_m = 813000.0;
constexpr double kYMax_m = 6305000.0;
struct Valley {
  const char* name;
  double x_m;
};
constexpr Valley kValleys[] = {{"cadereau d'Alès", 809200.0}, {"cadereau d'Uzès", 811600.0},
                               {"cadereau de Camplanier", 807950.0}};

// The shared territory: the ctest fixture's, or one generated here once.
const fs::path& territory() {
  static std::unique_ptr<cadereau::testing::TempDir> own;
  static fs::path folder = [] {
    if (auto shared = cadereau::testing::demo_territory(); shared && fs::exists(*shared / "territory.yaml"))
      return *shared;
    own = std::make_unique<cadereau::testing::TempDir>();
    cadereau::data::write_demo_territory(own->path() / "demo");
    return own->path() / "demo";
  }();
  return folder;
}

// Logs of the SUMO runs, out of the shared territory folder.
const fs::path& scratch() {
  static cadereau::testing::TempDir dir;
  return dir.path();
}

const Raster& dem() {
  static const Raster r = cadereau::twin::read_raster(territory() / "dem.tif");
  return r;
}

double value_at(const Raster& r, double x_m, double y_m) {
  const auto c = r.grid().cell_at({x_m, y_m});
  if (!c) throw std::out_of_range("sample outside the demo grid");
  return r.at(*c);
}

double mean_over(const Raster& r, double y0_m, double y1_m) {
  double sum = 0.0;
  int n = 0;
  for (double y = y0_m + 5.0; y < y1_m; y += 10.0)
    for (double x = kXMin_m + 5.0; x < kXMax_m; x += 10.0) {
      sum += value_at(r, x, y);
      ++n;
    }
  return sum / n;
}

double min_across(const Raster& r, double x0_m, double x1_m, double y_m) {
  double m = std::numeric_limits<double>::infinity();
  for (double x = x0_m; x <= x1_m; x += r.grid().cell_w_m) m = std::min(m, value_at(r, x, y_m));
  return m;
}

std::string sumo_home_prefix() { return std::getenv("SUMO_HOME") ? "" : "SUMO_HOME=/usr/share/sumo "; }

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

// A SUMO output without its "generated on <time>" header line.
std::string without_timestamp(const std::string& text) {
  const auto pos = text.find("generated on ");
  if (pos == std::string::npos) return text;
  const auto end = text.find('\n', pos);
  return text.substr(0, pos) + text.substr(end == std::string::npos ? text.size() : end);
}

}  // namespace

TEST_CASE("demo rasters are on the 6 km Lambert-93 grid at 10 m", "[integration]") {
  const Raster& d = dem();
  CHECK(d.crs().label() == "EPSG:2154");
  CHECK(d.grid().cols == 600);
  CHECK(d.grid().rows == 600);
  CHECK(d.grid().x_min_m == Approx(kXMin_m).margin(1e-6));
  CHECK(d.grid().y_min_m() == Approx(kYMin_m).margin(1e-6));
  CHECK(d.grid().x_max_m() == Approx(kXMax_m).margin(1e-6));
  CHECK(d.grid().y_max_m == Approx(kYMax_m).margin(1e-6));
  const auto stats = d.stats();
  CHECK(stats.valid_cells == 360000u);
  CHECK(stats.min > 20.0);   // the Vistre bed, m NGF
  CHECK(stats.max < 200.0);  // the garrigue tops

  const auto manifest = cadereau::twin::read_manifest(territory());
  REQUIRE(manifest.landcover);
  REQUIRE(manifest.manning);
  const Raster cover = cadereau::twin::read_raster(*manifest.landcover);
  const Raster n = cadereau::twin::read_raster(*manifest.manning);
  CHECK(cover.grid().same_as(d.grid()));
  CHECK(n.grid().same_as(d.grid()));
  // Every class is declared, and the Manning raster agrees with the declared n.
  std::map<int, int> class_cells;
  int undeclared = 0;
  int disagreeing = 0;
  for (std::size_t k = 0; k < cover.values().size(); ++k) {
    const int c = static_cast<int>(cover.values()[k]);
    ++class_cells[c];
    const auto it = manifest.landcover_classes.find(c);
    if (it == manifest.landcover_classes.end()) {
      ++undeclared;
    } else if (std::abs(n.values()[k] - it->second.manning) > 1e-6) {
      ++disagreeing;
    }
  }
  CHECK(undeclared == 0);
  CHECK(disagreeing == 0);
  CHECK(class_cells.size() >= 7);
  // Streets are a few percent of the territory, as in a 150 m grid town.
  const double street_share = static_cast<double>(class_cells[5]) / 360000.0;
  CHECK(street_share > 0.04);
  CHECK(street_share < 0.25);
}

TEST_CASE("demo terrain: garrigue above the town above the Vistre plain", "[integration]") {
  const Raster& d = dem();
  const double hills = mean_over(d, 6304200.0, kYMax_m);
  const double town = mean_over(d, 6301200.0, 6303400.0);
  const double plain = mean_over(d, kYMin_m, 6300300.0);
  INFO("hills " << hills << " m, town " << town << " m, plain " << plain << " m");
  CHECK(hills > town + 40.0);
  CHECK(town > plain + 8.0);
  CHECK(plain > 25.0);
  CHECK(plain < 36.0);
  CHECK(d.stats().max > 140.0);  // garrigue tops around 150-180 m
}

TEST_CASE("demo terrain: each cadereau thalweg descends to the Vistre", "[integration]") {
  const Raster& d = dem();
  for (const auto& v : kValleys) {
    INFO(v.name);
    double previous = std::numeric_limits<double>::infinity();
    for (double y = 6304800.0; y >= 6300300.0; y -= 200.0) {
      const double bed = min_across(d, v.x_m - 150.0, v.x_m + 150.0, y);
      INFO("y = " << y << ": bed " << bed << " m, previous " << previous << " m");
      CHECK(bed <= previous + 0.5);
      previous = bed;
    }
    // A valley, not a slope: in the garrigue the bed is well below its sides.
    const double y_hills = 6304500.0;
    const double bed = min_across(d, v.x_m - 150.0, v.x_m + 150.0, y_hills);
    const double sides = (value_at(d, v.x_m - 400.0, y_hills) + value_at(d, v.x_m + 400.0, y_hills)) / 2.0;
    CHECK(sides - bed > 10.0);
  }
}

TEST_CASE("demo terrain: the Vistre runs below the plain", "[integration]") {
  const Raster& d = dem();
  for (double x = 807500.0; x <= 812500.0; x += 500.0) {
    double bed = std::numeric_limits<double>::infinity();
    for (double y = 6299450.0; y <= 6300100.0; y += 10.0) bed = std::min(bed, value_at(d, x, y));
    double plain = 0.0;
    int n = 0;
    for (double y = 6299100.0; y <= 6299350.0; y += 10.0, ++n) plain += value_at(d, x, y);
    plain /= n;
    INFO("x = " << x << ": Vistre bed " << bed << " m, plain " << plain << " m");
    CHECK(bed < plain - 1.5);
  }
}

TEST_CASE("demo network: SUMO accepts it, with a signalised arterial", "[integration]") {
  const fs::path net_file = territory() / "network.net.xml";
  const fs::path log = scratch() / "sumo-net-check.log";
  const std::string cmd = sumo_home_prefix() + "sumo -n '" + net_file.string() + "' --no-step-log --end 1 > '" +
                          log.string() + "' 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  CHECK(cadereau::testing::read_text(log).find("Error") == std::string::npos);

  const auto net = cadereau::twin::RoadNetwork::load(net_file);
  CHECK(net.edges().size() >= 1500);
  CHECK(net.traffic_lights().size() >= 20);
  CHECK(net.traffic_lights().size() <= 80);
  // The arterial: one named avenue, >= 3.5 km, >= 10 signalised junctions.
  std::set<std::string> signals;
  double arterial_length_m = 0.0;
  for (const auto& e : net.edges()) {
    if (e.name != "avenue du Languedoc") continue;
    arterial_length_m += e.length_m() / 2.0;  // both directions
    for (const auto& j : {e.from_junction, e.to_junction})
      if (net.find_traffic_light(j)) signals.insert(j);
  }
  CHECK(arterial_length_m > 3400.0);
  CHECK(signals.size() >= 10);
  // Roads lie on the territory: net coordinates shifted back to Lambert-93.
  const auto b = net.bounds();
  CHECK(b.x_min_m > kXMin_m);
  CHECK(b.x_max_m < kXMax_m);
  CHECK(b.y_min_m > kYMin_m);
  CHECK(b.y_max_m < kYMax_m);
}

TEST_CASE("demo vector layers are RFC 7946 GeoJSON that a GIS opens as is", "[integration]") {
  const auto manifest = cadereau::twin::read_manifest(territory());
  CHECK(manifest.vertical_datum == "NGF-IGN69");
  for (const char* layer : {"assets.geojson", "sensors.geojson", "zones.geojson", "buildings.geojson"}) {
    INFO(layer);
    const auto json = nlohmann::json::parse(cadereau::testing::read_text(territory() / layer));
    CHECK_FALSE(json.contains("crs"));
    const auto& geometry = json["features"].at(0)["geometry"];
    auto lon_lat = geometry["coordinates"];
    while (lon_lat[0].is_array()) lon_lat = lon_lat[0];  // a polygon's first vertex
    CHECK(lon_lat[0].get<double>() == Approx(4.36).margin(0.1));  // Nîmes
    CHECK(lon_lat[1].get<double>() == Approx(43.83).margin(0.1));
  }
  const auto assets = nlohmann::json::parse(cadereau::testing::read_text(territory() / "assets.geojson"));
  for (const auto& a : assets["features"]) CHECK(a["properties"]["needs_road_access"].is_boolean());
}

TEST_CASE("demo assets, sensors and zones load and hang together", "[integration]") {
  const auto t = cadereau::twin::Territory::load(territory());
  REQUIRE(t.network);
  CHECK_NOTHROW(cadereau::twin::validate_assets(t.assets, territory() / "assets.geojson"));

  std::map<cadereau::twin::AssetType, int> by_type;
  std::map<std::string, const cadereau::twin::Asset*> by_id;
  std::set<std::string> driven_tls;
  for (const auto& a : t.assets) {
    ++by_type[a.type];
    by_id[a.id] = &a;
    if (a.type == cadereau::twin::AssetType::traffic_signal) {
      CHECK(t.network->find_traffic_light(a.tls_id) != nullptr);
      driven_tls.insert(a.tls_id);
    }
    CHECK(t.grid().extent().contains(a.location));
  }
  using cadereau::twin::AssetType;
  CHECK(by_type[AssetType::hospital] >= 1);
  CHECK(by_type[AssetType::school] >= 6);
  CHECK(by_type[AssetType::substation] == 3);
  CHECK(by_type[AssetType::underpass] >= 3);
  CHECK(by_type[AssetType::crisis_post] == 1);
  for (const auto& tls : t.network->traffic_lights()) CHECK(driven_tls.count(tls.id) == 1);

  // Who needs power: every one of them depends on a substation.
  for (const auto& a : t.assets) {
    if (a.type != AssetType::hospital && a.type != AssetType::school && a.type != AssetType::pumping_station &&
        a.type != AssetType::telecom_node && a.type != AssetType::traffic_signal && a.type != AssetType::crisis_post)
      continue;
    INFO(a.id);
    const bool powered = std::any_of(a.depends_on.begin(), a.depends_on.end(), [&](const std::string& d) {
      return by_id.count(d) && by_id[d]->type == AssetType::substation;
    });
    CHECK(powered);
  }
  // Some schools stand in a cadereau valley, lower than the town around them.
  int schools_in_valleys = 0;
  for (const auto& a : t.assets) {
    if (a.type != AssetType::school) continue;
    for (const auto& v : kValleys)
      if (std::abs(a.location.x_m - v.x_m) < 120.0) ++schools_in_valleys;
  }
  CHECK(schools_in_valleys >= 2);

  bool mas_de_ponge = false;
  int counters = 0;
  for (const auto& s : t.sensors) {
    if (s.kind == cadereau::twin::SensorKind::rain_gauge && s.name == "Mas-de-Ponge") mas_de_ponge = true;
    if (s.kind == cadereau::twin::SensorKind::traffic_counter) {
      ++counters;
      INFO(s.id << " on " << s.edge_id);
      CHECK(t.network->find_edge(s.edge_id) != nullptr);
    }
  }
  CHECK(mas_de_ponge);
  CHECK(counters >= 6);

  // Nîmes has about 148,000 inhabitants.
  CHECK(t.total_population() >= 130000.0);
  CHECK(t.total_population() <= 160000.0);
  CHECK(t.buildings.size() >= 2000);
  REQUIRE(t.landcover);
  // Buildings stand in blocks, not on streets or in channel beds (up to raster discretisation).
  int misplaced = 0;
  for (const auto& b : t.buildings) {
    const auto c = t.grid().cell_at(b.footprint.centroid());
    REQUIRE(c.has_value());
    const int cover = static_cast<int>(t.landcover->at(*c));
    if (cover == 5 || cover == 6) ++misplaced;
  }
  CHECK(misplaced <= static_cast<int>(t.buildings.size()) / 100);
}

TEST_CASE("demo demand: routed morning peak that SUMO runs", "[integration]") {
  const fs::path routes = territory() / "demand.rou.xml";
  const std::string text = cadereau::testing::read_text(routes);
  const int vehicles = count_of(text, "<vehicle ");
  CHECK(vehicles >= 5000);
  CHECK(count_of(text, "<route ") == vehicles);  // duarouter found a route for every trip
  // Departures sorted, within 07:00-09:00.
  double last_s = 0.0;
  bool sorted = true;
  for (auto pos = text.find("depart=\""); pos != std::string::npos; pos = text.find("depart=\"", pos + 1)) {
    const double t = std::atof(text.c_str() + pos + 8);
    if (t < last_s || t < 25200.0 || t > 32400.0) sorted = false;
    last_s = t;
  }
  CHECK(sorted);

  const fs::path log = scratch() / "sumo-demand-check.log";
  const std::string cmd = sumo_home_prefix() + "sumo -n '" + (territory() / "network.net.xml").string() + "' -r '" +
                          routes.string() + "' --begin 25200 --end 25800 --no-step-log > '" + log.string() + "' 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  const std::string out = cadereau::testing::read_text(log);
  INFO(out.substr(0, 2000));
  CHECK(out.find("Error") == std::string::npos);
}

TEST_CASE("demo network and demand load in plain sumo with SUMO_HOME unset", "[integration]") {
  // SUMO validates a routes file that names its schema, and without
  // SUMO_HOME looks for the schema on the web; offline that fails with
  // "invalid document structure". The demo's files name none.
  if (std::system("command -v sumo > /dev/null 2>&1") != 0) {
    WARN("sumo is not on PATH: the plain-sumo check is skipped");
    return;
  }
  for (const char* file : {"network.net.xml", "demand.rou.xml"}) {
    const std::string text = cadereau::testing::read_text(territory() / file);
    const auto root = text.find(std::string(file[0] == 'n' ? "<net " : "<routes"));
    REQUIRE(root != std::string::npos);
    INFO(file);
    CHECK(text.substr(root, text.find('>', root) - root).find("noNamespaceSchemaLocation") == std::string::npos);
  }
  const fs::path log = scratch() / "sumo-without-home.log";
  const std::string cmd = "env -u SUMO_HOME sumo -n '" + (territory() / "network.net.xml").string() + "' -r '" +
                          (territory() / "demand.rou.xml").string() + "' --begin 25200 --end 25320 --no-step-log > '" +
                          log.string() + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  const std::string out = cadereau::testing::read_text(log);
  INFO(cmd << "\n" << out.substr(0, 2000));
  CHECK(rc == 0);
  CHECK(out.find("Error") == std::string::npos);
}

TEST_CASE("demo territory is deterministic", "[integration]") {
  cadereau::testing::TempDir a;
  cadereau::testing::TempDir b;
  cadereau::data::DemoOptions options;
  options.peak_vehicles = 800;  // the generator is the same; keep the routing short
  const auto sa = cadereau::data::write_demo_territory(a.path(), options);
  const auto sb = cadereau::data::write_demo_territory(b.path(), options);
  CHECK(sa.network_edges == sb.network_edges);
  CHECK(sa.traffic_lights == sb.traffic_lights);
  CHECK(sa.buildings == sb.buildings);
  CHECK(sa.trips == sb.trips);
  CHECK(sa.network_edges >= 1500);
  CHECK(sa.trips == 800);
  CHECK(sa.population == Approx(148000.0).margin(1.0));
  CHECK(sa.elapsed_s < 60.0);
  const auto da = cadereau::twin::read_raster(a.path() / "dem.tif");
  const auto db = cadereau::twin::read_raster(b.path() / "dem.tif");
  CHECK(da.values() == db.values());
  for (const char* file : {"dem.tif", "network.nod.xml", "network.edg.xml", "assets.geojson", "buildings.geojson", "trips.xml",
                           "landcover.tif"}) {
    INFO(file);
    CHECK(cadereau::testing::read_text(a.path() / file) == cadereau::testing::read_text(b.path() / file));
  }
  for (const char* file : {"network.net.xml", "demand.rou.xml"}) {
    INFO(file);
    CHECK(without_timestamp(cadereau::testing::read_text(a.path() / file)) ==
          without_timestamp(cadereau::testing::read_text(b.path() / file)));
  }
  // A different seed gives a different town.
  cadereau::testing::TempDir c;
  options.seed = 1989;
  cadereau::data::write_demo_territory(c.path(), options);
  CHECK(cadereau::testing::read_text(a.path() / "network.nod.xml") !=
        cadereau::testing::read_text(c.path() / "network.nod.xml"));
}

TEST_CASE("demo generation without SUMO on PATH fails with a clear error", "[integration]") {
  cadereau::testing::TempDir dir;
  const char* old_path = std::getenv("PATH");
  const std::string saved = old_path ? old_path : "";
  ::setenv("PATH", (dir.path() / "no-tools-here").c_str(), 1);
  cadereau::data::DemoOptions options;
  options.cell_size_m = 20.0;
  std::string message;
  try {
    cadereau::data::write_demo_territory(dir.path() / "demo", options);
  } catch (const cadereau::Error& e) {
    message = e.what();
  }
  ::setenv("PATH", saved.c_str(), 1);
  INFO(message);
  CHECK(message.find("netconvert") != std::string::npos);
  CHECK(message.find("PATH") != std::string::npos);
  // The rasters come before the network: the DEM is there, on a 20 m grid.
  const auto d = cadereau::twin::read_raster(dir.path() / "demo" / "dem.tif");
  CHECK(d.grid().cols == 300);
  CHECK(d.grid().rows == 300);
  CHECK(d.grid().cell_w_m == Approx(20.0).margin(1e-9));
}
