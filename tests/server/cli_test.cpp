#include "cadereau/server/cli.h"
#include "cadereau/twin/raster.h"
#include "cli_run.h"
#include "test_support.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <sstream>


namespace {

using Run = cadereau::testing::CliRun;

Run run(const std::vector<std::string>& args) { return cadereau::testing::run_cadereau(args); }

}  // namespace

TEST_CASE("Usage errors exit 2 with a message", "[unit][cli]") {
  CHECK(run({}).code == 2);
  const Run unknown = run({"frobnicate"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command 'frobnicate'"));
  CHECK(run({"territory"}).code == 2);
  CHECK_THAT(run({"territory", "demo"}).err, Catch::Contains("--out"));
  CHECK_THAT(run({"territory", "demo", "--out", "x", "--cell-size", "abc"}).err, Catch::Contains("--cell-size abc"));
  const Run twice = run({"flood", "--dem", "a.tif", "--dem", "b.tif", "--until", "60", "--out", "x"});
  CHECK(twice.code == 2);
  CHECK_THAT(twice.err, Catch::Contains("--dem given twice"));
  CHECK(run({"help"}).code == 0);
}

TEST_CASE("territory info on a missing folder names it", "[unit][cli]") {
  cadereau::testing::TempDir tmp;
  const Run r = run({"territory", "info", (tmp / "nowhere").string()});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("nowhere") && Catch::Contains("not found"));
}

TEST_CASE("territory info describes the demo territory", "[integration][cli]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  const Run r = run({"territory", "info", dir->string()});
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("EPSG:2154") && Catch::Contains("traffic lights") && Catch::Contains("Population"));
}

TEST_CASE("cadereau flood runs on any GDAL raster and refuses bad input clearly", "[integration][cli]") {
  using namespace cadereau::twin;
  cadereau::testing::TempDir tmp;
  const GridSpec grid{30, 20, 810000.0, 6302000.0, 10.0, 10.0};
  Raster dem(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) dem.at(c, r) = static_cast<float>(30.0 - 0.05 * c);
  write_ascii_grid(dem, tmp / "dem.asc");
  cadereau::testing::write_text(tmp / "q.csv", "time_s,discharge_m3_s\n0,0\n120,5\n300,0\n");
  const std::string dem_path = (tmp / "dem.asc").string();
  const std::string inflow = fmt::format("{},{},{}", 810025.0, 6301905.0, (tmp / "q.csv").string());

  const Run ok = run({"flood", "--dem", dem_path, "--until", "300", "--out", (tmp / "out").string(), "--inflow", inflow,
                      "--probe", "p1,810025,6301905", "--probe-every", "30", "--manning", "0.04"});
  INFO(ok.err);
  CHECK(ok.code == 0);
  CHECK_THAT(ok.out, Catch::Contains("mass error"));
  const std::string summary = cadereau::testing::read_text(tmp / "out" / "summary.json");
  for (const char* key : {"cells", "wet_cells", "steps", "sim_s", "wall_s", "cell_updates_per_s", "volume_in_m3",
                          "volume_out_m3", "volume_final_m3", "mass_error_rel", "max_depth_m"})
    CHECK_THAT(summary, Catch::Contains(std::string("\"") + key + "\""));
  CHECK(std::filesystem::exists(tmp / "out" / "max_depth.tif"));
  CHECK(std::filesystem::exists(tmp / "out" / "arrival_time.tif"));

  const Run outside = run({"flood", "--dem", dem_path, "--until", "60", "--out", (tmp / "o2").string(), "--inflow",
                           fmt::format("1,2,{}", (tmp / "q.csv").string())});
  CHECK(outside.code == 1);
  CHECK_THAT(outside.err, Catch::Contains("outside"));

  const Run missing = run({"flood", "--dem", (tmp / "nope.tif").string(), "--until", "60", "--out", (tmp / "o3").string()});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Catch::Contains("nope.tif"));

  CHECK(run({"flood", "--dem", dem_path, "--until", "soon", "--out", (tmp / "o4").string()}).code == 2);
  CHECK(run({"flood", "--dem", dem_path}).code == 2);
  CHECK_THAT(run({"flood", "--dem", dem_path, "--until", "60", "--out", "x", "--probe", "a,b"}).err,
             Catch::Contains("--probe"));
}

TEST_CASE("cadereau flood rains per zone from a zone raster on another grid", "[integration][cli][flood]") {
  using namespace cadereau::twin;
  cadereau::testing::TempDir tmp;
  // A flat 10 x 6 DEM of 10 m cells; zones on a 5 x 3 grid of 20 m cells over the
  // same extent: zone 0 covers DEM columns 0-3 (24 cells), zone 1 columns 4-9 (36 cells).
  const GridSpec grid{10, 6, 810000.0, 6302000.0, 10.0, 10.0};
  write_ascii_grid(Raster(grid, Crs::lambert93(), 5.0f), tmp / "dem.asc");
  Raster zones(GridSpec{5, 3, 810000.0, 6302000.0, 20.0, 20.0}, Crs::lambert93(), 1.0f, -9999.0);
  for (int r = 0; r < 3; ++r) zones.at(0, r) = zones.at(1, r) = 0.0f;
  write_geotiff(zones, tmp / "zones.tif");
  zones.at(4, 2) = 2.0f;
  write_geotiff(zones, tmp / "zones3.tif");
  write_geotiff(Raster(grid, Crs::lambert93(), 0.5f), tmp / "half.tif");
  cadereau::testing::write_text(tmp / "a.csv", "time_s,intensity_mm_h\n0,36\n600,36\n");
  cadereau::testing::write_text(tmp / "b.csv", "time_s,intensity_mm_h\n0,72\n600,72\n");
  cadereau::testing::write_text(tmp / "u.csv", "time_s,intensity_mm_h\n0,18\n");
  const std::string dem = (tmp / "dem.asc").string(), a = "0," + (tmp / "a.csv").string(),
                    b = "1," + (tmp / "b.csv").string();
  auto rain_m3 = [&](const std::string& out) {
    return nlohmann::json::parse(cadereau::testing::read_text(tmp / out / "summary.json")).at("volume_rain_m3").get<double>();
  };

  const Run zoned = run({"flood", "--dem", dem, "--until", "600", "--out", (tmp / "zoned").string(), "--rain-zones",
                         (tmp / "zones.tif").string(), "--rain-zone", a, "--rain-zone", b});
  INFO(zoned.err);
  REQUIRE(zoned.code == 0);
  // 36 mm/h for 600 s on 24 cells of 100 m2, 72 mm/h on 36 cells.
  CHECK(rain_m3("zoned") == Approx(24 * 100 * 0.006 + 36 * 100 * 0.012).epsilon(1e-9));

  // Uniform rain adds to the zones', and the factor scales both.
  const Run scaled = run({"flood", "--dem", dem, "--until", "600", "--out", (tmp / "scaled").string(), "--rain",
                          (tmp / "u.csv").string(), "--rain-zones", (tmp / "zones.tif").string(), "--rain-zone", b,
                          "--rain-zone", a, "--rain-factor", (tmp / "half.tif").string()});
  INFO(scaled.err);
  REQUIRE(scaled.code == 0);
  CHECK(rain_m3("scaled") == Approx(0.5 * (57.6 + 60 * 100 * 0.003)).epsilon(1e-9));

  const Run missing = run({"flood", "--dem", dem, "--until", "600", "--out", (tmp / "missing").string(), "--rain-zones",
                           (tmp / "zones3.tif").string(), "--rain-zone", a, "--rain-zone", b});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Catch::Contains("zones3.tif") && Catch::Contains("zone 2 at DEM cell (8, 4)") &&
                              Catch::Contains("--rain-zone 2,FILE.csv"));

  const Run orphan = run({"flood", "--dem", dem, "--until", "600", "--out", (tmp / "orphan").string(), "--rain-zone", a});
  CHECK(orphan.code == 2);
  CHECK_THAT(orphan.err, Catch::Contains("--rain-zone needs --rain-zones"));
  const Run bad_k = run({"flood", "--dem", dem, "--until", "600", "--out", (tmp / "bad_k").string(), "--rain-zones",
                         (tmp / "zones.tif").string(), "--rain-zone", "1.5," + (tmp / "a.csv").string()});
  CHECK(bad_k.code == 2);
  CHECK_THAT(bad_k.err, Catch::Contains("whole number"));
}

TEST_CASE("cadereau demo runs the flagship flash flood on the demo territory", "[integration][cli]") {
  cadereau::testing::TempDir tmp;
  const auto dir = tmp / "demo";
  const Run r = run({"demo", "--out", dir.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("faster than real time") && Catch::Contains("closed by water") &&
                        Catch::Contains("assets out of service"));
  for (const char* file : {"recording.h5", "impacts.json", "impacts.geojson", "closed_roads.geojson", "max_depth.tif",
                           "arrival_time.tif", "summary.json", "report.html", "map.png", "gauges.svg", "timeline.svg"})
    CHECK(std::filesystem::exists(dir / file));
  const auto impacts = nlohmann::json::parse(cadereau::testing::read_text(dir / "impacts.json"));
  REQUIRE(impacts.is_array());
  std::set<std::string> kinds;
  bool chained = false;
  for (const auto& i : impacts) {
    kinds.insert(i["kind"].get<std::string>());
    for (const char* key : {"t_s", "kind", "target", "x_m", "y_m", "chain"}) REQUIRE(i.contains(key));
    CHECK_FALSE(i["target"].get<std::string>().empty());
    // A failed asset's chain goes back to a hazard: an inflow or the rain.
    if (i["kind"] == "asset_failed" && !i["chain"].empty()) {
      const std::string root = i["chain"].back()["kind"];
      chained = chained || root == "inflow" || root == "rain";
    }
  }
  CHECK(chained);
  // Somewhere emergency access is cut by a road closed by water, and the
  // chain says so: cut off <- road closed <- water <- inflow or rain.
  bool cut_by_water = false;
  for (const auto& i : impacts) {
    const std::string k = i["kind"];
    if (k != "zone_unreachable" && k != "zone_access_degraded" && k != "asset_cut_off") continue;
    const auto& chain = i["chain"];
    if (chain.size() < 3 || chain[0]["kind"] != "road_closed" || chain[1]["kind"] != "water") continue;
    const std::string root = chain[2]["kind"];
    cut_by_water = cut_by_water || root == "inflow" || root == "rain";
  }
  CHECK(cut_by_water);
  for (const char* k : {"inflow", "rain", "water", "road_closed", "asset_failed", "action"}) CHECK(kinds.count(k) == 1);
  const auto summary = nlohmann::json::parse(cadereau::testing::read_text(dir / "summary.json"));
  CHECK(summary["roads_closed"].get<int>() > 50);
  CHECK(summary["faster_than_real_time"].get<double>() > 1.0);
  CHECK(summary["mass_error_rel"].get<double>() < 1e-9);
  const cadereau::twin::Raster max_depth = cadereau::twin::read_raster(dir / "max_depth.tif");
  CHECK(max_depth.crs().epsg() == 2154);
  CHECK(max_depth.stats().max > 1.0);
  CHECK_THAT(cadereau::testing::read_text(dir / "report.html"),
             Catch::Contains("Key figures") && Catch::Contains("map.png") && Catch::Contains("\u2192"));
  // The recording holds every record as an event, with an intact chain.
  const Run verify = run({"replay", (dir / "recording.h5").string(), "--verify"});
  CHECK(verify.code == 0);
}

TEST_CASE("cadereau run refuses bad scenarios with file and line", "[integration][cli]") {
  cadereau::testing::TempDir tmp;
  const auto file = tmp / "bad.yaml";
  cadereau::testing::write_text(file, "name: bad\nterritory: demo\nstart: 2026-11-25T08:00:00\nduration: 1h\n"
                                      "inflows:\n  - at: lg-ales-amont\n    m3_s: [[0, 10], [600, -5]]\n");
  const Run r = run({"run", file.string(), "--out", (tmp / "out").string()});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("bad.yaml:7") && Catch::Contains("negative"));
  CHECK(run({"run", "--out", (tmp / "out").string()}).code == 2);
  CHECK(run({"run", file.string()}).code == 2);
  CHECK_THAT(run({"run", (tmp / "none.yaml").string(), "--out", (tmp / "o").string()}).err, Catch::Contains("none.yaml"));
}

TEST_CASE("cadereau run saves a state and cadereau forecast runs on from it", "[integration][cli]") {
  const auto territory = cadereau::testing::demo_territory();
  if (!territory) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  cadereau::testing::TempDir tmp;
  const auto scenario = tmp / "storm.yaml";
  cadereau::testing::write_text(scenario, "name: Short storm\nterritory: " + territory->string() +
                                              "\nstart: 2026-11-25T07:30:00\nduration: 10min\nflood_cell_m: 20\n"
                                              "inflows:\n  - name: cadereau d'Uzès\n    at: lg-uzes-amont\n"
                                              "    m3_s: [[0, 150], [600, 250]]\n");
  const Run r = run({"run", scenario.string(), "--out", (tmp / "run").string(), "--no-snapshots", "--save-state-at", "300"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  for (const char* f : {"engine.json", "flood.bin", "sumo_state.xml"}) CHECK(std::filesystem::exists(tmp / "run" / "state" / f));
  const Run f = run({"forecast", scenario.string(), "--state", (tmp / "run" / "state").string(), "--hours", "0.25", "--out",
                     (tmp / "fc").string(), "--no-snapshots"});
  INFO(f.err);
  REQUIRE(f.code == 0);
  CHECK_THAT(f.out, Catch::Contains("forecast from 07:35 to 07:50") && Catch::Contains("records predicted"));
  const auto impacts = nlohmann::json::parse(cadereau::testing::read_text(tmp / "fc" / "impacts.json"));
  double last = 0.0;
  for (const auto& i : impacts) last = std::max(last, i["t_s"].get<double>());
  CHECK(last > 600.0);  // past the end of the run it was saved from
  // Its report says it is a forecast, from which state and time; the run's does not.
  const std::string report = cadereau::testing::read_text(tmp / "fc" / "report.html");
  const auto banner_at = report.find("data-testid=\"forecast-banner\"");
  REQUIRE(banner_at != std::string::npos);
  const std::string banner = report.substr(banner_at, report.find("</div>", banner_at) - banner_at);
  CHECK_THAT(banner, Catch::Contains("Forecast") && Catch::Contains("saved at <strong>07:35</strong>") &&
                         Catch::Contains((tmp / "run" / "state").string()));
  CHECK_THAT(report, Catch::Contains("<title>Forecast: Short storm"));
  CHECK_THAT(cadereau::testing::read_text(tmp / "run" / "report.html"), !Catch::Contains("forecast-banner"));

  CHECK_THAT(run({"forecast", scenario.string(), "--state", (tmp / "nowhere").string(), "--hours", "1", "--out",
                  (tmp / "x").string()}).err,
             Catch::Contains("nowhere") && Catch::Contains("engine.json"));
  CHECK(run({"forecast", scenario.string(), "--state", (tmp / "run" / "state").string(), "--out", (tmp / "x").string()})
            .code == 2);
  CHECK(run({"run", scenario.string(), "--out", (tmp / "y").string(), "--save-state-at", "9000"}).code == 1);
}
