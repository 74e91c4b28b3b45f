// Bad territories, generated (issue 17): the demo territory, written coarse,
// then one file of it changed at a time (the others linked, not copied). A
// network shifted a thousand kilometres, an extent that is not the DEM's,
// assets and gauges off the map, bow-tie zones, a demand cut short: each
// must be refused within seconds by `territory info` and by `run`, naming
// the file and the item at fault.

#include "bad_run.h"
#include "cadereau/data/demo_territory.h"
#include "cadereau/twin/raster.h"
#include "test_support.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <regex>
#include <string>
#include <vector>

using cadereau::testing::BadRun;
using cadereau::testing::TempDir;
using cadereau::testing::expect_refused;
using cadereau::testing::read_text;
using cadereau::testing::write_text;
namespace fs = std::filesystem;

namespace {

// The demo territory on 50 m cells with 200 vehicles: every file a real
// territory has, generated in a few seconds.
fs::path coarse_demo(const TempDir& tmp) {
  const fs::path dir = tmp / "base";
  cadereau::data::DemoOptions options;
  options.cell_size_m = 50.0;
  options.peak_vehicles = 200;
  cadereau::data::write_demo_territory(dir, options);
  return dir;
}

// One changed file of a territory: `write` makes it at the path given.
struct Variant {
  std::string label;
  std::string file;
  std::function<void(const fs::path&)> write;
  std::string named;
  std::vector<std::string> also = {};
};

// A folder with every file of `base` linked but `file`, which `write` makes.
fs::path variant_folder(const fs::path& base, const fs::path& dir, const Variant& v) {
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(base))
    if (entry.path().filename() != v.file) fs::create_symlink(entry.path(), dir / entry.path().filename());
  v.write(dir / v.file);
  return dir;
}

// A writer that edits the base's text of the same file.
std::function<void(const fs::path&)> edited(const fs::path& base_file, std::function<std::string(std::string)> edit) {
  return [base_file, edit](const fs::path& target) { write_text(target, edit(read_text(base_file))); };
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

// The GeoJSON feature with this id, moved to lon/lat, or edited by `change`.
std::function<std::string(std::string)> feature_edit(const std::string& id,
                                                     std::function<void(nlohmann::json& geometry)> change) {
  return [id, change](std::string text) {
    auto doc = nlohmann::json::parse(text);
    bool found = false;
    for (auto& f : doc["features"])
      if (f["properties"]["id"] == id) {
        change(f["geometry"]);
        found = true;
      }
    REQUIRE(found);
    return doc.dump();
  };
}
std::function<std::string(std::string)> moved_to(const std::string& id, double lon, double lat) {
  return feature_edit(id, [lon, lat](nlohmann::json& g) { g["coordinates"] = {lon, lat}; });
}

// The netOffset of the demo's network, shifted by (dx, dy) metres, or replaced.
std::function<std::string(std::string)> net_offset(std::function<std::string(double, double)> offset) {
  return [offset](std::string text) {
    static const std::regex pattern(R"re(netOffset="(-?[0-9.]+),(-?[0-9.]+)")re");
    std::smatch m;
    REQUIRE(std::regex_search(text, m, pattern));
    const std::string replacement = "netOffset=\"" + offset(std::stod(m[1]), std::stod(m[2])) + "\"";
    return text.replace(static_cast<std::size_t>(m.position(0)), static_cast<std::size_t>(m.length(0)), replacement);
  };
}
std::function<std::string(std::string)> net_shift(double dx_m, double dy_m) {
  return net_offset([=](double x, double y) { return fmt::format("{:.2f},{:.2f}", x - dx_m, y - dy_m); });
}

std::vector<Variant> territory_variants(const fs::path& base) {
  std::vector<Variant> v;
  const fs::path net = base / "network.net.xml", yaml = base / "territory.yaml", assets = base / "assets.geojson",
                 sensors = base / "sensors.geojson", zones = base / "zones.geojson", demand = base / "demand.rou.xml";
  const std::vector<std::string> net_words{"junctions lie outside", "netOffset"};
  // The network: a wrong netOffset moves every road off the DEM.
  v.push_back({"roads 1000 km east", "network.net.xml", edited(net, net_shift(1e6, 0)), "network.net.xml", net_words});
  v.push_back({"roads 1000 km north", "network.net.xml", edited(net, net_shift(0, 1e6)), "network.net.xml", net_words});
  v.push_back({"roads 1000 km west", "network.net.xml", edited(net, net_shift(-1e6, 0)), "network.net.xml", net_words});
  v.push_back({"roads 4 km east", "network.net.xml", edited(net, net_shift(4000, 0)), "network.net.xml", net_words});
  v.push_back({"netOffset with its signs flipped", "network.net.xml",
               edited(net, net_offset([](double x, double y) { return fmt::format("{:.2f},{:.2f}", -x, -y); })),
               "network.net.xml", net_words});
  v.push_back({"netOffset of zero", "network.net.xml", edited(net, net_offset([](double, double) { return "0.00,0.00"; })),
               "network.net.xml", net_words});
  v.push_back({"netOffset with x and y swapped", "network.net.xml",
               edited(net, net_offset([](double x, double y) { return fmt::format("{:.2f},{:.2f}", y, x); })),
               "network.net.xml", net_words});
  // The declared extent against the DEM's 807000 6299000 813000 6305000.
  const std::string extent = "extent: [807000, 6299000, 813000, 6305000]";
  for (const auto& [label, text] : std::vector<std::pair<std::string, std::string>>{
           {"extent 100 km east", "extent: [907000, 6299000, 913000, 6305000]"},
           {"extent of half the DEM", "extent: [807000, 6299000, 810000, 6302000]"},
           {"extent twice the DEM", "extent: [804000, 6296000, 816000, 6308000]"},
           {"extent in degrees", "extent: [4.33, 43.78, 4.41, 43.84]"},
           {"extent with x and y swapped", "extent: [6299000, 807000, 6305000, 813000]"},
           {"extent of a metre", "extent: [807000, 6299000, 807001, 6299001]"}})
    v.push_back({label, "territory.yaml", edited(yaml, [extent, text = text](std::string t) { return replace_once(t, extent, text); }),
                 "territory.yaml", {"'extent'", "dem.tif"}});
  // Assets, gauges and counters off the map (GeoJSON is lon/lat).
  v.push_back({"substation in Paris", "assets.geojson", edited(assets, moved_to("sub-nord", 2.35, 48.85)),
               "assets.geojson", {"'sub-nord'", "outside the DEM"}});
  v.push_back({"telecom node at 0,0", "assets.geojson", edited(assets, moved_to("tel-centre", 0.0, 0.0)),
               "assets.geojson", {"'tel-centre'"}});
  v.push_back({"substation just east of the map", "assets.geojson", edited(assets, moved_to("sub-vistre", 4.50, 43.81)),
               "assets.geojson", {"'sub-vistre'"}});
  v.push_back({"asset name in Latin-1", "assets.geojson",
               edited(assets, [](std::string t) { return replace_once(t, "N\xC3\xAEmes-Nord", "N\xEEmes-Nord"); }),
               "assets.geojson", {"sub-nord"}});
  v.push_back({"level gauge in Marseille", "sensors.geojson", edited(sensors, moved_to("lg-ales-amont", 5.37, 43.30)),
               "sensors.geojson", {"'lg-ales-amont'", "level_gauge"}});
  v.push_back({"rain gauge at 0,0", "sensors.geojson", edited(sensors, moved_to("rg-camplanier", 0.0, 0.0)),
               "sensors.geojson", {"'rg-camplanier'"}});
  v.push_back({"traffic counter 20 km south", "sensors.geojson", edited(sensors, moved_to("tc-01", 4.36, 43.62)),
               "sensors.geojson", {"'tc-01'"}});
  // Population zones: a bow-tie (two vertices swapped), a figure of eight
  // that touches itself, a zone elsewhere.
  const auto zone_doc = nlohmann::json::parse(read_text(zones));
  const std::string zone_id = zone_doc["features"][0]["properties"]["id"];
  v.push_back({"bow-tie zone", "zones.geojson", edited(zones, feature_edit(zone_id, [](nlohmann::json& g) {
                 auto& ring = g["coordinates"][0];
                 std::swap(ring[1], ring[2]);
               })),
               "zones.geojson", {zone_id, "crosses itself"}});
  v.push_back({"zone touching itself", "zones.geojson", edited(zones, feature_edit(zone_id, [](nlohmann::json& g) {
                 auto ring = g["coordinates"][0];  // p0 p1 p2 p3 p0
                 nlohmann::json eight = nlohmann::json::array();
                 const double cx = 0.5 * (ring[0][0].get<double>() + ring[2][0].get<double>());
                 const double cy = 0.5 * (ring[0][1].get<double>() + ring[2][1].get<double>());
                 for (const auto& p : {ring[0], ring[1], nlohmann::json{cx, cy}, ring[2], ring[3], nlohmann::json{cx, cy},
                                       ring[0]})
                   eight.push_back(p);
                 g["coordinates"][0] = eight;
               })),
               "zones.geojson", {zone_id, "crosses itself"}});
  v.push_back({"zone in Lyon", "zones.geojson", edited(zones, feature_edit(zone_id, [](nlohmann::json& g) {
                 for (auto& p : g["coordinates"][0]) {
                   p[0] = p[0].get<double>() + 0.47;
                   p[1] = p[1].get<double>() + 1.95;
                 }
               })),
               "zones.geojson", {zone_id, "entirely outside"}});
  // The demand: cut short, emptied, for another network.
  const std::string demand_text = read_text(demand);
  for (const auto& [label, keep] : std::vector<std::pair<std::string, std::size_t>>{
           {"demand cut at half", demand_text.size() / 2},
           {"demand cut at three quarters", demand_text.size() * 3 / 4},
           {"demand cut inside its header", 60},
           {"demand missing its last line", demand_text.rfind("</routes>")}})
    v.push_back({label, "demand.rou.xml",
                 [text = demand_text.substr(0, keep)](const fs::path& p) { write_text(p, text); }, "demand.rou.xml",
                 {"truncated"}});
  v.push_back({"empty demand", "demand.rou.xml", [](const fs::path& p) { write_text(p, ""); }, "demand.rou.xml",
               {"empty"}});
  v.push_back({"demand with no vehicle", "demand.rou.xml", [](const fs::path& p) { write_text(p, "<routes/>\n"); },
               "demand.rou.xml", {"no vehicle"}});
  v.push_back({"demand that is an additional file", "demand.rou.xml",
               [](const fs::path& p) { write_text(p, "<additional><vType id=\"car\"/></additional>\n"); },
               "demand.rou.xml", {"<additional>"}});
  v.push_back({"demand over an edge the network lacks", "demand.rou.xml",
               edited(demand, [](std::string t) { return replace_once(t, "<route edges=\"", "<route edges=\"nowhere_1 "); }),
               "demand.rou.xml", {"'nowhere_1'", "t00000"}});
  v.push_back({"demand of binary bytes", "demand.rou.xml",
               [](const fs::path& p) { write_text(p, std::string("\x89PNG\r\n\x1a\n\0\0\0", 11)); }, "demand.rou.xml"});
  // Rasters in the wrong place or without a CRS.
  const cadereau::twin::Raster dem = cadereau::twin::read_raster(base / "dem.tif");
  v.push_back({"DEM without a CRS", "dem.tif",
               [dem](const fs::path& p) {
                 auto r = dem;
                 r.set_crs(cadereau::twin::Crs());
                 write_geotiff(r, p);
               },
               "dem.tif", {"no coordinate reference system"}});
  v.push_back({"DEM labelled UTM 31N", "dem.tif",
               [dem](const fs::path& p) {
                 auto r = dem;
                 r.set_crs(cadereau::twin::Crs::from_user_input("EPSG:32631"));
                 write_geotiff(r, p);
               },
               "dem.tif"});
  for (const char* layer : {"manning.tif", "landcover.tif"}) {
    const cadereau::twin::Raster raster = cadereau::twin::read_raster(base / layer);
    v.push_back({std::string(layer) + " 200 km away", layer,
                 [raster](const fs::path& p) {
                   auto g = raster.grid();
                   g.x_min_m += 200000.0;
                   cadereau::twin::Raster r(g, raster.crs(), 0.05f);
                   write_geotiff(r, p);
                 },
                 layer, {"covers 0 of the DEM"}});
  }
  // A manifest saved in Latin-1 (line 2: the name).
  v.push_back({"territory.yaml in Latin-1", "territory.yaml",
               edited(yaml, [](std::string t) { return replace_once(t, "N\xC3\xAEmes", "N\xEEmes"); }), "territory.yaml:2",
               {"UTF-8"}});
  return v;
}

}  // namespace

TEST_CASE("Generated bad territories are refused by territory info, naming the file and the item",
          "[integration][robustness]") {
  TempDir tmp;
  const fs::path base = coarse_demo(tmp);
  // The base is sound: what follows is refused for its change alone.
  const auto sound = cadereau::testing::run_cadereau({"territory", "info", base.string()});
  INFO(sound.err);
  REQUIRE(sound.code == 0);
  CHECK_THAT(sound.out, !Catch::Contains("Warning"));

  const auto variants = territory_variants(base);
  std::vector<BadRun> cases;
  int n = 0;
  for (const auto& v : variants) {
    const fs::path dir = variant_folder(base, tmp / fmt::format("v{:02d}", ++n), v);
    cases.push_back({v.label, {"territory", "info", dir.string()}, v.named, v.also});
  }
  REQUIRE(cases.size() >= 35);
  expect_refused(cases);
}

TEST_CASE("Roads partly off the DEM load with a warning that names the network",
          "[integration][robustness]") {
  TempDir tmp;
  const fs::path base = coarse_demo(tmp);
  // The demo's roads keep about 700 m from the DEM's east edge.
  const Variant v{"roads 1 km east", "network.net.xml", edited(base / "network.net.xml", net_shift(1000, 0)),
                  "network.net.xml"};
  const fs::path dir = variant_folder(base, tmp / "shifted", v);
  const auto r = cadereau::testing::run_cadereau({"territory", "info", dir.string()});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("Warning    ") && Catch::Contains("network.net.xml: ") &&
                        Catch::Contains("junctions lie outside the DEM dem.tif") && Catch::Contains("never flood"));
}

TEST_CASE("A run on a bad territory, or with a scenario at odds with it, names the file and the line",
          "[integration][robustness]") {
  TempDir tmp;
  const fs::path base = coarse_demo(tmp);
  const std::string scenario = R"(name: Generated run
territory: TERRITORY
start: 1988-10-03T07:00:00
duration: 10min
flood_cell_m: 50
inflows:
  - name: cadereau d'Alès
    at: lg-ales-amont
    m3_s: [[07:00, 20], [07:10, 80]]
events:
  - at: "07:02"
    action: light_flashing
    target: J9_9
)";
  auto scenario_for = [&](const fs::path& territory, const std::string& name, const std::string& text) {
    std::string s = replace_once(text, "TERRITORY", territory.string());
    const fs::path file = tmp / name;
    write_text(file, s);
    return file.string();
  };
  std::vector<BadRun> cases;
  int n = 0;
  auto run_on = [&](const Variant& v) {
    const fs::path dir = variant_folder(base, tmp / fmt::format("run{:02d}", ++n), v);
    const auto file = scenario_for(dir, fmt::format("run{:02d}.yaml", n), scenario);
    cases.push_back({"run: " + v.label, {"run", file, "--out", (tmp / "out").string(), "--no-snapshots"}, v.named, v.also});
  };
  for (const auto& v : territory_variants(base))
    if (v.label == "roads 1000 km east" || v.label == "demand cut at half" || v.label == "substation in Paris" ||
        v.label == "bow-tie zone" || v.label == "extent 100 km east")
      run_on(v);
  // SUMO refuses a vehicle of an unknown type: the demand is blamed, not the network.
  run_on({"vehicle of an unknown type", "demand.rou.xml",
          edited(base / "demand.rou.xml", [](std::string t) { return replace_once(t, "type=\"car\" depart", "type=\"lorry\" depart"); }),
          "demand.rou.xml", {"SUMO did not start", "lorry"}});

  // The scenario against a sound territory: its file and line are named.
  auto scenario_case = [&](const std::string& label, const std::string& from, const std::string& to,
                           const std::string& line, std::vector<std::string> also) {
    const auto file = scenario_for(base, fmt::format("s{:02d}.yaml", ++n), replace_once(scenario, from, to));
    also.push_back(fs::path(file).filename().string() + ":" + line);
    cases.push_back({"scenario: " + label, {"run", file, "--out", (tmp / "out").string(), "--no-snapshots"},
                     fs::path(file).filename().string(), also});
  };
  scenario_case("a light program the light lacks", "    action: light_flashing\n    target: J9_9\n",
                "    action: light_program\n    target: J9_9\n    program: night\n", "11", {"'night'", "J9_9"});
  scenario_case("a light that does not exist", "target: J9_9", "target: J99_99", "11", {"J99_99"});
  scenario_case("a road that does not exist", "    action: light_flashing\n    target: J9_9\n",
                "    action: close_road\n    target: h99_99\n", "11", {"h99_99"});
  scenario_case("a flood cell finer than the DEM", "flood_cell_m: 50", "flood_cell_m: 20", "5", {"finer than"});
  scenario_case("a flood cell of 10 m on a 50 m DEM", "flood_cell_m: 50", "flood_cell_m: 10", "5", {"50 m"});
  scenario_case("a Latin-1 name", "name: Generated run", "name: Crue g\xE9n\xE9r\xE9" "e", "1", {"0xE9", "UTF-8"});
  scenario_case("a Latin-1 inflow name", "cadereau d'Al\xC3\xA8s", "cadereau d'Al\xE8s", "7", {"0xE8"});
  scenario_case("an unknown gauge", "at: lg-ales-amont", "at: lg-nowhere", "7", {"lg-nowhere"});
  scenario_case("an inflow off the DEM", "at: lg-ales-amont", "at: [900000, 6302000]", "7", {"outside"});
  REQUIRE(cases.size() >= 15);
  expect_refused(cases, 10.0);
}
