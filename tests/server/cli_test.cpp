#include "cadereau/server/cli.h"
#include "cadereau/twin/raster.h"
#include "cli_run.h"
#include "test_support.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>

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

TEST_CASE("cadereau demo builds the territory, forecasts a flash flood and renders it", "[integration][cli]") {
  cadereau::testing::TempDir tmp;
  const Run r = run({"demo", "--out", (tmp / "demo").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("EPSG:2154") && Catch::Contains("impassable") &&
                        Catch::Contains("assets out of service"));
  const std::string impacts = cadereau::testing::read_text(tmp / "demo" / "flood" / "impacts.json");
  // The underpass of the route de Sommières sits in the cadereau d'Alès: it goes first.
  CHECK_THAT(impacts, Catch::Contains("\"assets_out\"") && Catch::Contains("tremie-sommieres"));
  const cadereau::twin::Raster max_depth = cadereau::twin::read_raster(tmp / "demo" / "flood" / "max_depth.tif");
  CHECK(max_depth.crs().epsg() == 2154);
  CHECK(max_depth.stats().max > 1.0);
  CHECK(std::filesystem::file_size(tmp / "demo" / "territory.png") > 100000);
}
