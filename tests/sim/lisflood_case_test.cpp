#include "cadereau/sim/flood/flood_model.h"
#include "cadereau/sim/flood/lisflood_case.h"
#include "cadereau/twin/error.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace cadereau::sim::flood;
using cadereau::Error;
using cadereau::testing::TempDir;
using cadereau::testing::write_text;

namespace {

// The error's message must name the file and the line.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A 6 x 4 ESRI ASCII grid of 10 m cells, lower-left corner (1000, 2000), a nodata corner.
const char* kDem =
    "ncols 6\n"
    "nrows 4\n"
    "xllcorner 1000\n"
    "yllcorner 2000\n"
    "cellsize 10\n"
    "NODATA_value -9999\n"
    "-9999 5 5 5 5 5\n"
    "4 4 4 4 4 4\n"
    "3 3 3 3 3 3\n"
    "2 2 2 2 2 2\n";

const char* kPar =
    "# a small case\n"
    "DEMfile   dem\n"
    "bdyfile   case.bdy\n"
    "bcifile   case.bci\n"
    "stagefile case.stage\n"
    "resroot   res\n"
    "dirroot   out\\acc\n"
    "acceleration\n"
    "sim_time  3600.0\n"
    "initial_tstep 0.5\n"
    "saveint   600\n"
    "massint   60\n"
    "fpfric    0.04\n"
    "elevoff\n"
    "#cuda\n"
    "frobnicate 3\n";

// Tabs and trailing blanks as in the distributed Carlisle file; the second series in hours.
const char* kBdy =
    "#inflow hydrographs\n"
    "up1\t\t\n"
    "\t3\tseconds\t\t\n"
    "\t0\t0\t\n"
    "\t2.0\t600\n"
    "\t2.0\t7200\n"
    "up2\n"
    "2 hours\n"
    "1.5 0\n"
    "0.5 1\n";

const char* kBci =
    "W  2000  2040  FREE 0.0006\n"
    "P  1025  2015  QVAR up1\n"
    "P  1035  2015  QFIX 0.5\n";

}  // namespace

TEST_CASE("LISFLOOD-FP .par: needed ignored unsupported and unknown keywords", "[unit][flood][lisflood]") {
  TempDir dir;
  write_text(dir / "case.par", std::string(kPar) + "manningfile n.asc\n");
  const LisfloodPar par = read_lisflood_par(dir / "case.par");
  CHECK(par.dem_file == "dem");
  CHECK(par.bdy_file == "case.bdy");
  CHECK(par.bci_file == "case.bci");
  CHECK(par.stage_file == "case.stage");
  CHECK(par.sim_time_s == 3600.0);
  REQUIRE(par.manning_n);
  CHECK(*par.manning_n == 0.04);
  CHECK(par.save_interval_s == 600.0);
  CHECK(par.mass_interval_s == 60.0);
  CHECK(par.initial_step_s == 0.5);
  std::vector<std::string> ignored;
  for (const auto& k : par.ignored) ignored.push_back(k.name);
  CHECK(ignored == std::vector<std::string>{"resroot", "dirroot", "acceleration", "elevoff"});
  REQUIRE(par.unknown.size() == 1);
  CHECK(par.unknown[0].name == "frobnicate");
  CHECK(par.unknown[0].where == (dir / "case.par").string() + ":16");
  REQUIRE(par.unsupported.size() == 1);
  CHECK(par.unsupported[0].name == "manningfile");
}

TEST_CASE("LISFLOOD-FP .par: bad input names the file and line", "[unit][flood][lisflood]") {
  TempDir dir;
  const auto p = dir / "bad.par";
  write_text(p, "DEMfile dem\nsim_time ten\n");
  CHECK_THAT(error_of([&] { read_lisflood_par(p); }), Catch::Contains(p.string() + ":2") && Catch::Contains("ten"));
  write_text(p, "DEMfile dem\nsim_time -5\n");
  CHECK_THAT(error_of([&] { read_lisflood_par(p); }), Catch::Contains(p.string() + ":2"));
  write_text(p, "sim_time 10\n");
  CHECK_THAT(error_of([&] { read_lisflood_par(p); }), Catch::Contains("DEMfile"));
  write_text(p, "DEMfile dem\n");
  CHECK_THAT(error_of([&] { read_lisflood_par(p); }), Catch::Contains("sim_time"));
  write_text(p, "DEMfile dem\nsim_time 10\nfpfric 0.03\nfpfric 0.04\n");
  CHECK_THAT(error_of([&] { read_lisflood_par(p); }), Catch::Contains(p.string() + ":4") && Catch::Contains("repeats"));
  CHECK_THAT(error_of([&] { read_lisflood_par(dir / "missing.par"); }), Catch::Contains("cannot open"));
}

TEST_CASE("LISFLOOD-FP .bdy: series by name with time units and tabs", "[unit][flood][lisflood]") {
  TempDir dir;
  write_text(dir / "case.bdy", kBdy);
  const auto series = read_lisflood_bdy(dir / "case.bdy");
  REQUIRE(series.size() == 2);
  const TimeSeries& up1 = series.at("up1");
  CHECK(up1.times_s() == std::vector<double>{0, 600, 7200});
  CHECK(up1.at(300.0) == Approx(1.0));
  const TimeSeries& up2 = series.at("up2");
  CHECK(up2.times_s() == std::vector<double>{0, 3600});  // hours converted to seconds
  CHECK(up2.at(1800.0) == Approx(1.0));
}

TEST_CASE("LISFLOOD-FP .bdy: bad input names the file and line", "[unit][flood][lisflood]") {
  TempDir dir;
  const auto p = dir / "bad.bdy";
  write_text(p, "header\nq\n3 seconds\n0 0\n1 100\n2 50\n");
  CHECK_THAT(error_of([&] { read_lisflood_bdy(p); }), Catch::Contains(p.string() + ":6") && Catch::Contains("forward"));
  write_text(p, "header\nq\n3 seconds\n0 0\n1 100\n");
  CHECK_THAT(error_of([&] { read_lisflood_bdy(p); }), Catch::Contains(p.string() + ":3") && Catch::Contains("3 rows"));
  write_text(p, "header\nq\n2 fortnights\n0 0\n1 100\n");
  CHECK_THAT(error_of([&] { read_lisflood_bdy(p); }), Catch::Contains(p.string() + ":3") && Catch::Contains("fortnights"));
  write_text(p, "header\nq\n2 seconds\n0 0\nx 100\n");
  CHECK_THAT(error_of([&] { read_lisflood_bdy(p); }), Catch::Contains(p.string() + ":5") && Catch::Contains("'x'"));
  write_text(p, "header\nq\n1 seconds\n0 0\nq\n1 seconds\n0 0\n");
  CHECK_THAT(error_of([&] { read_lisflood_bdy(p); }), Catch::Contains(p.string() + ":5") && Catch::Contains("repeats"));
}

TEST_CASE("LISFLOOD-FP .bci and .stage", "[unit][flood][lisflood]") {
  TempDir dir;
  write_text(dir / "case.bci", kBci);
  const LisfloodBci bci = read_lisflood_bci(dir / "case.bci");
  REQUIRE(bci.points.size() == 2);
  CHECK(bci.points[0].location.x_m == 1025.0);
  CHECK(bci.points[0].location.y_m == 2015.0);
  CHECK(bci.points[0].type == LisfloodBoundaryType::qvar);
  CHECK(bci.points[0].series == "up1");
  CHECK(bci.points[1].type == LisfloodBoundaryType::qfix);
  CHECK(bci.points[1].value == 0.5);
  REQUIRE(bci.edges.size() == 1);
  CHECK(bci.edges[0].edge == LisfloodEdge::west);
  CHECK(bci.edges[0].type == LisfloodBoundaryType::free);
  CHECK(bci.edges[0].value == 0.0006);
  CHECK(bci.edges[0].from_m == 2000.0);
  CHECK(bci.edges[0].to_m == 2040.0);

  const auto bad = dir / "bad.bci";
  write_text(bad, "P 1 2 QVAR a\nP 1 2 QVAX a\n");
  CHECK_THAT(error_of([&] { read_lisflood_bci(bad); }), Catch::Contains(bad.string() + ":2") && Catch::Contains("QVAX"));
  write_text(bad, "P 1\n");
  CHECK_THAT(error_of([&] { read_lisflood_bci(bad); }), Catch::Contains(bad.string() + ":1") && Catch::Contains("y"));
  write_text(bad, "X 1 2 FREE\n");
  CHECK_THAT(error_of([&] { read_lisflood_bci(bad); }), Catch::Contains(bad.string() + ":1"));

  write_text(dir / "case.stage", "2\n1015 2035\n1055.5 2005\n");
  const auto stages = read_lisflood_stage(dir / "case.stage");
  REQUIRE(stages.size() == 2);
  CHECK(stages[1].x_m == 1055.5);
  CHECK(stages[1].y_m == 2005.0);
  write_text(bad, "3\n1 2\n3 4\n");
  CHECK_THAT(error_of([&] { read_lisflood_stage(bad); }), Catch::Contains(bad.string() + ":3") && Catch::Contains("3 points"));
}

TEST_CASE("LISFLOOD-FP stage output: one series per point, header skipped", "[unit][flood][lisflood]") {
  TempDir dir;
  write_text(dir / "run.stage", "Stage output, depth (m)\nTime; stages 1 to 2\n     3.000    0.0000    0.1000\n"
                                "   102.000    1.2500    0.2000\n   201.500    0.5000    0.0000\n");
  const auto series = read_lisflood_stage_output(dir / "run.stage");
  REQUIRE(series.size() == 2);
  CHECK(series[0].times_s() == std::vector<double>{3.0, 102.0, 201.5});
  CHECK(series[0].values()[1] == 1.25);
  CHECK(series[1].at(201.5) == 0.0);
  const auto bad = dir / "bad.stage";
  write_text(bad, "0 1 2\n10 1\n");
  CHECK_THAT(error_of([&] { read_lisflood_stage_output(bad); }), Catch::Contains(bad.string() + ":2"));
  write_text(bad, "0 1\n10 x\n");
  CHECK_THAT(error_of([&] { read_lisflood_stage_output(bad); }), Catch::Contains(bad.string() + ":2") && Catch::Contains("'x'"));
  write_text(bad, "header only\n");
  CHECK_THAT(error_of([&] { read_lisflood_stage_output(bad); }), Catch::Contains("no data row"));
}

TEST_CASE("A LISFLOOD-FP case becomes a flood setup that conserves its inflow", "[unit][flood][lisflood]") {
  TempDir dir;
  write_text(dir / "case.par", kPar);
  write_text(dir / "dem.asc", kDem);  // the .par says "dem": found with the ".asc" suffix
  write_text(dir / "case.bdy", kBdy);
  write_text(dir / "case.bci", kBci);
  write_text(dir / "case.stage", "1\n1015 2035\n");
  LisfloodCaseOptions options;
  options.crs_if_missing = cadereau::twin::Crs::from_epsg(27700);
  const LisfloodCase lc = read_lisflood_case(dir / "case.par", options);
  CHECK(lc.dem_path.filename() == "dem.asc");
  CHECK(lc.dem.grid().cols == 6);
  CHECK(lc.dem.grid().rows == 4);
  CHECK(lc.dem.grid().x_min_m == 1000.0);
  CHECK(lc.dem.grid().y_max_m == 2040.0);
  CHECK(!lc.dem.crs().empty());
  CHECK(lc.stages.size() == 1);

  SECTION("closed edges, discharge = q per width x cell size") {
    LisfloodSetupOptions closed;
    closed.edges = LisfloodEdgePolicy::closed;
    const FloodSetup s = make_flood_setup(lc, closed);
    CHECK(s.manning_n == 0.04);
    CHECK_FALSE(s.open_boundaries);
    REQUIRE(s.inflows.size() == 2);
    CHECK(s.inflows[0].discharge_m3_s.at(600.0) == Approx(2.0 * 10.0));  // 2 m2/s x 10 m
    CHECK(s.inflows[1].discharge_m3_s.at(1e6) == Approx(0.5 * 10.0));
    FloodModel m(s);
    m.advance_to(1200.0);
    const MassBalance mb = m.mass_balance();
    // up1: 0 -> 20 m3/s over 600 s then held: 6000 + 12000 m3; QFIX: 5 m3/s x 1200 s.
    CHECK(mb.inflow_m3 == Approx(6000.0 + 12000.0 + 6000.0).epsilon(1e-12));
    CHECK(mb.error_rel() < 1e-12);
    CHECK(m.max_depth_m() > 0.0);
  }
  SECTION("by default a FREE segment opens its own edge only") {
    const FloodSetup s = make_flood_setup(lc);
    CHECK_FALSE(s.open_boundaries);
    CHECK(s.open_edges.west + s.open_edges.east + s.open_edges.north + s.open_edges.south == 1);
  }
  SECTION("a FREE edge opens every edge under the all_free_if_any policy") {
    LisfloodSetupOptions so;
    so.edges = LisfloodEdgePolicy::all_free_if_any;
    CHECK(make_flood_setup(lc, so).open_boundaries);
  }
}

TEST_CASE("LISFLOOD-FP cases the model cannot represent are refused with file:line", "[unit][flood][lisflood]") {
  TempDir dir;
  write_text(dir / "case.par", kPar);
  write_text(dir / "dem.asc", kDem);
  write_text(dir / "case.bdy", kBdy);
  write_text(dir / "case.stage", "0\n");

  write_text(dir / "case.bci", "P 1025 2015 QVAR nosuch\n");
  CHECK_THAT(error_of([&] { read_lisflood_case(dir / "case.par"); }),
             Catch::Contains("case.bci:1") && Catch::Contains("nosuch") && Catch::Contains("up1, up2"));

  write_text(dir / "case.bci", "P 1025 2015 QVAR up1\nP 1025 2025 HFIX 4.5\n");
  const LisfloodCase lc = read_lisflood_case(dir / "case.par");
  CHECK_THAT(error_of([&] { make_flood_setup(lc); }), Catch::Contains("case.bci:2") && Catch::Contains("HFIX"));

  write_text(dir / "case.bci", "N 1000 1060 HFIX 5\n");
  CHECK_THAT(error_of([&] { make_flood_setup(read_lisflood_case(dir / "case.par")); }),
             Catch::Contains("case.bci:1") && Catch::Contains("HFIX"));

  write_text(dir / "case.bci", "");
  write_text(dir / "case.par", std::string(kPar) + "rainfall rain.txt\n");
  CHECK_THAT(error_of([&] { make_flood_setup(read_lisflood_case(dir / "case.par")); }),
             Catch::Contains("case.par:17") && Catch::Contains("rainfall"));

  write_text(dir / "case.par", "DEMfile nodem\nsim_time 10\n");
  CHECK_THAT(error_of([&] { read_lisflood_case(dir / "case.par"); }),
             Catch::Contains("nodem") && Catch::Contains("not found"));
}
