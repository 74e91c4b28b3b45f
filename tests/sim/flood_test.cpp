#include "cadereau/sim/flood/flood_model.h"
#include "cadereau/sim/flood/flood_run.h"
#include "cadereau/twin/error.h"
#include "flood_analytic.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

using namespace cadereau::sim::flood;
using cadereau::twin::Crs;
using cadereau::twin::GridSpec;
using cadereau::twin::MapPoint;
using cadereau::twin::Raster;
using cadereau::testing::TempDir;
using cadereau::testing::write_text;
using namespace cadereau::sim::flood::analytic;

namespace {

// Stoker: dam break on a wet bed, middle state from the rarefaction-shock pair.
struct Stoker {
  double h0, h1, hm, um, cm, shock_speed;
  Stoker(double left, double right) : h0(left), h1(right) {
    auto f = [&](double h) {
      return 2.0 * (std::sqrt(g * h0) - std::sqrt(g * h)) - (h - h1) * std::sqrt(g * (h + h1) / (2.0 * h * h1));
    };
    double lo = h1, hi = h0;
    for (int i = 0; i < 200; ++i) {
      const double mid = 0.5 * (lo + hi);
      (f(mid) > 0.0 ? lo : hi) = mid;
    }
    hm = 0.5 * (lo + hi);
    cm = std::sqrt(g * hm);
    um = 2.0 * (std::sqrt(g * h0) - cm);
    shock_speed = hm * um / (hm - h1);
  }
  double depth(double x, double t, double x0) const {
    const double c0 = std::sqrt(g * h0);
    const double xi = (x - x0) / t;
    if (xi <= -c0) return h0;
    if (xi <= um - cm) {
      const double a = 2.0 * c0 - xi;
      return a * a / (9.0 * g);
    }
    if (xi <= shock_speed) return hm;
    return h1;
  }
};

// A basin of 160 x 130 cells of 5 m (more than the step hands to a team of
// threads) with nodata holes, a bumpy bed, a Manning raster, rain, two
// inflows and two open edges: every kind of face and cell the step meets.
FloodSetup busy_basin(int threads, bool wide) {
  const GridSpec grid{160, 130, 810000.0, 6302000.0, 5.0, 5.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs::lambert93(), 0.0f, -9999.0);
  Raster manning(grid, Crs::lambert93(), 0.03f, -9999.0);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) {
      s.dem.at(c, r) = static_cast<float>(10.0 - 0.01 * c + 0.3 * std::sin(0.21 * r) * std::cos(0.17 * c));
      if ((r / 10 + c / 13) % 7 == 3 && r % 10 < 4) s.dem.at(c, r) = -9999.0f;  // buildings
      if (c > 80) manning.at(c, r) = 0.08f;
    }
  s.manning = manning;
  s.rain_mm_h = TimeSeries({0.0, 120.0, 240.0}, {0.0, 200.0, 0.0});
  s.inflows.push_back({"west", grid.cell_centre({2, 60}), TimeSeries({0.0, 60.0}, {0.0, 30.0})});
  s.inflows.push_back({"north", grid.cell_centre({120, 1}), TimeSeries({0.0, 60.0}, {0.0, 10.0})});
  s.open_edges.east = s.open_edges.south = true;
  s.threads = threads;
  s.wide_kernels = wide;
  return s;
}

}  // namespace

TEST_CASE("Lake at rest over an uneven bed with islands stays at rest", "[validation][flood]") {
  FloodModel model(lake_over_islands(Scheme::finite_volume));
  model.advance_to(300.0);
  const LakeRest rest = lake_rest(model);
  CHECK(rest.dry_cells > 10);
  CHECK(model.steps() > 100);
  CHECK(rest.max_speed_m_s < 1e-10);
  CHECK(rest.max_wse_error_m < 1e-12);
}

TEST_CASE("Dam break on a dry bed converges to Ritter's solution", "[validation][flood]") {
  const double h0 = 1.0, x0 = 500.0, t = 30.0;
  std::vector<double> errors;
  for (int cols : {200, 400, 800}) {
    FloodModel m(channel(cols, 1000.0, x0, h0, 0.0));
    m.advance_to(t);
    errors.push_back(l1_error(m, [&](double x) { return ritter_depth(x, t, x0, h0); }));
  }
  INFO("mean |h - h_Ritter| at 200, 400, 800 cells: " << errors[0] << ", " << errors[1] << ", " << errors[2] << " m");
  CHECK(errors[2] < 0.01);
  CHECK(errors[1] < errors[0]);
  CHECK(errors[2] < errors[1]);
}

TEST_CASE("Dam break on a wet bed converges to Stoker's solution", "[validation][flood]") {
  const double x0 = 500.0, t = 30.0;
  const Stoker exact(1.0, 0.1);
  std::vector<double> errors;
  for (int cols : {200, 400, 800}) {
    FloodModel m(channel(cols, 1000.0, x0, exact.h0, exact.h1));
    m.advance_to(t);
    errors.push_back(l1_error(m, [&](double x) { return exact.depth(x, t, x0); }));
  }
  INFO("Stoker middle depth " << exact.hm << " m; mean errors " << errors[0] << ", " << errors[1] << ", " << errors[2]);
  CHECK(exact.hm == Approx(0.3965).margin(2e-3));  // the classical value for h1/h0 = 0.1
  CHECK(errors[2] < 0.01);
  CHECK(errors[2] < errors[0]);
}

TEST_CASE("Mass is conserved with rain, inflow, friction and wetting and drying", "[validation][flood]") {
  const GridSpec grid{80, 60, 810000.0, 6302000.0, 10.0, 10.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c)
      s.dem.at(c, r) = static_cast<float>(50.0 - 0.05 * c * 10.0 * 0.1 + 0.5 * std::sin(0.3 * r) + 0.2 * std::cos(0.4 * c));
  s.manning_n = 0.05;
  s.rain_mm_h = TimeSeries({0.0, 300.0, 600.0}, {0.0, 60.0, 0.0});
  s.inflows.push_back({"upstream", grid.cell_centre({5, 30}), TimeSeries({0.0, 200.0, 900.0}, {0.0, 40.0, 0.0})});
  FloodModel model(s);
  model.advance_to(1200.0);
  const MassBalance mb = model.mass_balance();
  INFO("in " << mb.rain_m3 + mb.inflow_m3 << " m3, stored " << mb.stored_m3 << " m3, error " << mb.error_rel());
  CHECK(mb.inflow_m3 == Approx(0.5 * 900.0 * 40.0).epsilon(1e-12));
  CHECK(mb.rain_m3 == Approx(0.5 * 600.0 * 60.0 / 3.6e6 * 800.0 * 600.0).epsilon(1e-12));
  CHECK(mb.error_rel() < 1e-9);
  CHECK(model.max_depth_m() > 0.1);
}

TEST_CASE("Free outflow drains water through open edges and counts it", "[validation][flood]") {
  FloodSetup s = channel(100, 500.0, 250.0, 1.0, 0.0);
  s.open_boundaries = true;
  FloodModel model(s);
  model.advance_to(600.0);
  const MassBalance mb = model.mass_balance();
  CHECK(mb.outflow_m3 > 0.5 * mb.initial_m3);
  CHECK(mb.error_rel() < 1e-9);
}

TEST_CASE("One open edge drains through that edge only", "[validation][flood]") {
  // Water starts in the western half and runs east: an open east edge drains
  // it, an open west edge (where the water only thins) hardly does.
  auto outflow_m3 = [](bool east) {
    FloodSetup s = channel(100, 500.0, 250.0, 1.0, 0.0);
    (east ? s.open_edges.east : s.open_edges.west) = true;
    FloodModel model(s);
    model.advance_to(300.0);
    CHECK(model.mass_balance().error_rel() < 1e-9);
    return model.mass_balance().outflow_m3;
  };
  const double east = outflow_m3(true), west = outflow_m3(false);
  INFO("outflow through the east edge " << east << " m3, through the west edge " << west << " m3");
  CHECK(east > 100.0);
  CHECK(west < 0.2 * east);
}

TEST_CASE("Time series parse, interpolate and integrate", "[unit][flood]") {
  TempDir tmp;
  write_text(tmp / "q.csv", "time_s,discharge_m3_s\n0,0\n600,120\n1800,0\n");
  const TimeSeries q = TimeSeries::read_csv(tmp / "q.csv", "discharge_m3_s", 0.0);
  CHECK(q.at(300) == Approx(60.0));
  CHECK(q.at(-5) == 0.0);
  CHECK(q.at(5000) == 0.0);
  CHECK(q.integral(0, 1800) == Approx(0.5 * 1800 * 120));
  CHECK(q.integral(300, 900) == Approx(0.5 * (60 + 120) * 300 + 0.5 * (120 + 90) * 300));
}

TEST_CASE("Bad flood inputs get clear errors", "[unit][flood]") {
  TempDir tmp;
  write_text(tmp / "empty.csv", "");
  CHECK_THROWS_WITH(TimeSeries::read_csv(tmp / "empty.csv", "q", 0.0), Catch::Contains("empty.csv") && Catch::Contains("no data"));
  write_text(tmp / "text.csv", "time_s,q\n0,1\n60,lots\n");
  CHECK_THROWS_WITH(TimeSeries::read_csv(tmp / "text.csv", "q", 0.0), Catch::Contains("text.csv:3") && Catch::Contains("lots"));
  write_text(tmp / "back.csv", "0,1\n60,2\n30,3\n");
  CHECK_THROWS_WITH(TimeSeries::read_csv(tmp / "back.csv", "q", 0.0), Catch::Contains("back.csv:3") && Catch::Contains("forward"));
  write_text(tmp / "neg.csv", "0,1\n60,-2\n");
  CHECK_THROWS_WITH(TimeSeries::read_csv(tmp / "neg.csv", "intensity_mm_h", 0.0), Catch::Contains("neg.csv:2"));
  CHECK_THROWS_WITH(TimeSeries::read_csv(tmp / "none.csv", "q", 0.0), Catch::Contains("none.csv"));

  FloodSetup nodata;
  nodata.dem = Raster(GridSpec{10, 10, 0, 100, 10, 10}, Crs::lambert93(), -9999.0f, -9999.0);
  CHECK_THROWS_WITH(FloodModel(nodata), Catch::Contains("all nodata"));

  FloodSetup outside = channel(20, 100.0, 50.0, 1.0, 0.0);
  outside.inflows.push_back({"far", MapPoint{0.0, 0.0}, TimeSeries::constant(1.0)});
  CHECK_THROWS_WITH(FloodModel(outside), Catch::Contains("inflow 'far'") && Catch::Contains("outside"));

  FloodSetup rain = channel(20, 100.0, 50.0, 1.0, 0.0);
  rain.rain_mm_h = TimeSeries({0.0, 10.0}, {5.0, -1.0});
  CHECK_THROWS_WITH(FloodModel(rain), Catch::Contains("negative"));

  FloodSetup manning = channel(20, 100.0, 50.0, 1.0, 0.0);
  manning.manning = Raster(GridSpec{5, 5, 0, 100, 10, 10}, Crs::lambert93(), 0.03f);
  CHECK_THROWS_WITH(FloodModel(manning), Catch::Contains("Manning raster") && Catch::Contains("DEM grid"));
}

TEST_CASE("run_flood writes the outputs other tools read", "[integration][flood]") {
  TempDir tmp;
  const GridSpec grid{40, 30, 810000.0, 6302000.0, 10.0, 10.0};
  Raster dem(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) dem.at(c, r) = static_cast<float>(20.0 - 0.02 * c * 10.0);
  write_geotiff(dem, tmp / "dem.tif");
  write_text(tmp / "q.csv", "time_s,discharge_m3_s\n0,10\n600,10\n");
  FloodRunOptions o;
  o.dem = tmp / "dem.tif";
  o.until_s = 600.0;
  o.out = tmp / "out";
  o.inflows.push_back({grid.cell_centre({2, 15}), tmp / "q.csv"});
  o.probes.push_back({"source", grid.cell_centre({2, 15})});
  o.probes.push_back({"downstream", grid.cell_centre({35, 15})});
  o.probe_every_s = 60.0;
  const FloodRunSummary s = run_flood(o);
  CHECK(s.mass.inflow_m3 == Approx(6000.0));
  CHECK(s.mass.error_rel() < 1e-9);
  CHECK(std::filesystem::exists(tmp / "out" / "summary.json"));
  const Raster max_depth = cadereau::twin::read_raster(tmp / "out" / "max_depth.tif");
  CHECK(max_depth.crs().epsg() == 2154);
  CHECK(max_depth.grid().same_as(grid));
  const Raster arrival = cadereau::twin::read_raster(tmp / "out" / "arrival_time.tif");
  // Water arrives at the source first, downstream later.
  CHECK(arrival.at(2, 15) < arrival.at(20, 15));
  const std::string probes = cadereau::testing::read_text(tmp / "out" / "probes.csv");
  CHECK_THAT(probes, Catch::StartsWith("time_s,probe,depth_m,speed_m_s,wse_m\n"));
  CHECK_THAT(probes, Catch::Contains("600.000,downstream,"));
}

TEST_CASE("Thacker's planar surface in a paraboloid: moving shoreline over two periods", "[validation][flood]") {
  const double coarse = thacker_error(50, 2);
  const double fine = thacker_error(100, 2);
  INFO("mean |h - h_Thacker| over the wet area after 2 periods: " << coarse << " m (50x50), " << fine
                                                                   << " m (100x100); h0 = 0.1 m");
  CHECK(fine < 0.01);
  CHECK(fine < coarse);
}

TEST_CASE("A restored state is the captured one, and bad states are refused", "[unit][flood]") {
  FloodModel a(channel(50, 250.0, 100.0, 1.0, 0.0));
  a.advance_to(20.0);
  const FloodState s = a.capture();
  FloodModel b(channel(50, 250.0, 100.0, 1.0, 0.0));
  b.restore(s);
  CHECK(b.time_s() == 20.0);
  a.advance_to(40.0);
  b.advance_to(40.0);
  double worst = 0.0;
  for (std::size_t i = 0; i < a.grid().cell_count(); ++i) worst = std::max(worst, std::abs(a.depth_m(i) - b.depth_m(i)));
  CHECK(worst < 1e-12);

  FloodState bad = s;
  bad.depth_m.pop_back();
  CHECK_THROWS_WITH(b.restore(bad), Catch::Contains("cells"));
  bad = s;
  bad.depth_m[3] = -1.0;
  CHECK_THROWS_WITH(b.restore(bad), Catch::Contains("negative"));
}

TEST_CASE("Local-inertial scheme: lake at rest, mass, and agreement with the full equations on a slow floodplain",
          "[validation][flood]") {
  // A flat 400 x 200 m floodplain fed by 2 m3/s: slow, subcritical flow where
  // the inertial approximation holds.
  const GridSpec grid{80, 40, 810000.0, 6302000.0, 5.0, 5.0};
  auto floodplain = [&](Scheme scheme) {
    FloodSetup s;
    s.dem = Raster(grid, Crs::lambert93(), 0.0f);
    for (int r = 0; r < grid.rows; ++r)
      for (int c = 0; c < grid.cols; ++c) s.dem.at(c, r) = 0.0f;
    s.manning_n = 0.05;
    s.scheme = scheme;
    s.inflows.push_back({"breach", grid.cell_centre({0, 20}), TimeSeries::constant(2.0)});
    FloodModel m(s);
    m.advance_to(1800.0);
    return m;
  };
  const FloodModel fv = floodplain(Scheme::finite_volume);
  const FloodModel li = floodplain(Scheme::local_inertial);
  CHECK(li.mass_balance().error_rel() < 1e-9);
  CHECK(li.mass_balance().inflow_m3 == Approx(3600.0));
  for (int c : {5, 20}) {
    const std::size_t i = grid.linear({c, 20});
    INFO("column " << c << ": full " << fv.depth_m(i) << " m, inertial " << li.depth_m(i) << " m");
    CHECK(li.depth_m(i) == Approx(fv.depth_m(i)).epsilon(0.1));
  }
  // The 1 cm front, along the axis of the inflow.
  auto front_m = [&](const FloodModel& m) {
    int last = 0;
    for (int c = 0; c < grid.cols; ++c)
      if (m.depth_m(grid.linear({c, 20})) > 0.01) last = c;
    return (last + 0.5) * grid.cell_w_m;
  };
  INFO("1 cm front: full " << front_m(fv) << " m, inertial " << front_m(li) << " m");
  // The inertial front is steeper: its 1 cm contour trails by about a tenth here.
  CHECK(front_m(li) == Approx(front_m(fv)).epsilon(0.15));
  CHECK(li.steps() < fv.steps());

  FloodSetup lake;
  lake.dem = Raster(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) lake.dem.at(c, r) = static_cast<float>(0.5 * std::sin(0.3 * c) + 0.3 * std::cos(0.2 * r));
  lake.initial_wse_m = 0.4;
  lake.scheme = Scheme::local_inertial;
  FloodModel m(lake);
  m.advance_to(600.0);
  double max_speed = 0.0;
  for (std::size_t i = 0; i < grid.cell_count(); ++i) max_speed = std::max(max_speed, m.speed_m_s(i));
  CHECK(max_speed < 1e-10);
}

namespace {

// Three flat basins of 7 x 6 cells of 2 m, parted by nodata columns 7 and 15.
// Zone raster: west basin 0, middle basin 1, east basin in no zone (nodata);
// the walls hold zone 5, which has no hyetograph but lies outside the domain.
FloodSetup three_basins(Scheme scheme) {
  const GridSpec grid{23, 6, 810000.0, 6302000.0, 2.0, 2.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs::lambert93(), 10.0f, -9999.0);
  Raster zone(grid, Crs::lambert93(), -9999.0f, -9999.0);
  for (int r = 0; r < grid.rows; ++r) {
    s.dem.at(7, r) = s.dem.at(15, r) = -9999.0f;
    zone.at(7, r) = zone.at(15, r) = 5.0f;
    for (int c = 0; c < 7; ++c) zone.at(c, r) = 0.0f;
    for (int c = 8; c < 15; ++c) zone.at(c, r) = 1.0f;
  }
  s.manning_n = 0.03;
  s.scheme = scheme;
  s.rain_mm_h = TimeSeries::constant(5.0);
  s.rain_zones = RainZones{zone, {TimeSeries::constant(10.0), TimeSeries({0.0, 300.0, 600.0}, {0.0, 60.0, 0.0})}};
  return s;
}

}  // namespace

TEST_CASE("Rain zones rain their own hyetographs on top of the uniform rain", "[validation][flood]") {
  const double t_s = 900.0;
  // Uniform 5 mm/h everywhere; zone 0 adds 10 mm/h, zone 1 a 60 mm/h triangle over 600 s.
  const double uniform_m = 5.0 * t_s / 3.6e6;
  const double west_m = uniform_m + 10.0 * t_s / 3.6e6;
  const double middle_m = uniform_m + 0.5 * 600.0 * 60.0 / 3.6e6;
  for (Scheme scheme : {Scheme::finite_volume, Scheme::local_inertial}) {
    FloodModel model(three_basins(scheme));
    model.advance_to(t_s);
    const GridSpec& grid = model.grid();
    double worst_m = 0.0, fastest_m_s = 0.0;
    for (int r = 0; r < grid.rows; ++r)
      for (int c = 0; c < grid.cols; ++c) {
        const std::size_t i = grid.linear({c, r});
        if (c == 7 || c == 15) {
          CHECK(model.depth_m(i) == 0.0);
          continue;
        }
        const double expected_m = c < 7 ? west_m : c < 15 ? middle_m : uniform_m;
        worst_m = std::max(worst_m, std::abs(model.depth_m(i) - expected_m));
        fastest_m_s = std::max(fastest_m_s, model.speed_m_s(i));
      }
    INFO("scheme " << (scheme == Scheme::local_inertial ? "inertial" : "fv") << ": depths " << west_m << ", "
                   << middle_m << ", " << uniform_m << " m expected; worst error " << worst_m << " m");
    CHECK(worst_m < 1e-12);
    CHECK(fastest_m_s < 1e-9);
    const MassBalance mb = model.mass_balance();
    CHECK(mb.rain_m3 == Approx(42.0 * 4.0 * (west_m + middle_m + uniform_m)).epsilon(1e-12));
    CHECK(mb.error_rel() < 1e-9);
  }
}

TEST_CASE("Mass stays exact with rain zones from gauges, a factor raster and an inflow", "[validation][flood]") {
  const GridSpec grid{80, 60, 810000.0, 6302000.0, 10.0, 10.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs::lambert93(), 0.0f, -9999.0);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c)
      s.dem.at(c, r) = static_cast<float>(50.0 - 0.05 * c + 0.5 * std::sin(0.3 * r) + 0.2 * std::cos(0.4 * c));
  for (int r = 20; r < 30; ++r) s.dem.at(40, r) = -9999.0f;  // a building
  s.manning_n = 0.05;
  s.rain_mm_h = TimeSeries({0.0, 600.0}, {10.0, 0.0});
  s.rain_zones = nearest_gauge_zones(grid, {grid.cell_centre({10, 10}), grid.cell_centre({60, 15}), grid.cell_centre({40, 50})},
                                     {TimeSeries({0.0, 300.0, 600.0}, {0.0, 80.0, 0.0}), TimeSeries::constant(20.0),
                                      TimeSeries({0.0, 200.0, 400.0, 900.0}, {0.0, 150.0, 30.0, 0.0})});
  // A radar pattern: no rain in a strip, a storm cell at 3x, nodata (= 1) in a corner.
  Raster factor(grid, Crs::lambert93(), 1.0f, -1.0);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) {
      float f = 1.0f + 2.0f * static_cast<float>(std::exp(-((c - 55) * (c - 55) + (r - 20) * (r - 20)) / 50.0));
      if (c >= 20 && c < 25) f = 0.0f;
      if (c < 5 && r < 5) f = -1.0f;
      factor.at(c, r) = f;
    }
  s.rain_factor = factor;
  s.inflows.push_back({"upstream", grid.cell_centre({5, 30}), TimeSeries({0.0, 200.0, 900.0}, {0.0, 40.0, 0.0})});
  const double t_s = 1200.0;
  // The rain each cell receives, straight from the inputs.
  double expected_rain_m3 = 0.0;
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) {
      if (s.dem.is_nodata({c, r})) continue;
      const auto k = static_cast<std::size_t>(s.rain_zones->zone.at(c, r));
      const double f = factor.at(c, r) < 0.0f ? 1.0 : factor.at(c, r);
      expected_rain_m3 += f * (s.rain_mm_h->integral(0.0, t_s) + s.rain_zones->mm_h[k].integral(0.0, t_s)) / 3.6e6 * 100.0;
    }
  FloodModel model(s);
  model.advance_to(t_s);
  const MassBalance mb = model.mass_balance();
  INFO("rain " << mb.rain_m3 << " m3 (expected " << expected_rain_m3 << "), stored " << mb.stored_m3 << " m3, error "
               << mb.error_rel());
  CHECK(mb.rain_m3 == Approx(expected_rain_m3).epsilon(1e-12));
  CHECK(mb.inflow_m3 == Approx(0.5 * 900.0 * 40.0).epsilon(1e-12));
  CHECK(mb.error_rel() < 1e-9);
}

TEST_CASE("The time step holds for the heaviest cell of a rain pattern", "[validation][flood]") {
  // Light rain over a dry flat box with one storm cell 2000 times heavier:
  // a step sized for the light rain would overshoot the storm cell.
  const GridSpec grid{20, 20, 810000.0, 6302000.0, 1.0, 1.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs::lambert93(), 0.0f);
  s.manning_n = 0.0;
  Raster zone(grid, Crs::lambert93(), 0.0f);
  zone.at(10, 10) = 1.0f;
  s.rain_zones = RainZones{zone, {TimeSeries::constant(1.0), TimeSeries::constant(1.0)}};
  Raster factor(grid, Crs::lambert93(), 1.0f);
  factor.at(10, 10) = 2000.0f;
  s.rain_factor = factor;
  FloodModel model(s);
  model.advance_to(120.0);
  const MassBalance mb = model.mass_balance();
  double smallest_m = 1.0;
  for (std::size_t i = 0; i < grid.cell_count(); ++i) smallest_m = std::min(smallest_m, model.depth_m(i));
  INFO(model.steps() << " steps, max depth " << model.max_depth_m() << " m, mass error " << mb.error_rel());
  CHECK(mb.rain_m3 == Approx((399.0 + 2000.0) * 120.0 / 3.6e6).epsilon(1e-12));
  CHECK(mb.error_rel() < 1e-9);
  CHECK(smallest_m > 0.0);  // the storm cell's water spread, none was lost to a negative depth
  CHECK(model.max_depth_m() < 2000.0 * 120.0 / 3.6e6);
}

TEST_CASE("nearest_gauge_zones draws Thiessen polygons on the grid", "[unit][flood]") {
  // 4 x 3 cells of 10 m; gauges north, south and east (outside the grid).
  const GridSpec grid{4, 3, 0.0, 30.0, 10.0, 10.0};
  const RainZones z = nearest_gauge_zones(grid, {{10.0, 30.0}, {10.0, 0.0}, {45.0, 15.0}},
                                          {TimeSeries::constant(1.0), TimeSeries::constant(2.0), TimeSeries::constant(3.0)});
  REQUIRE(z.zone.grid().same_as(grid));
  REQUIRE(z.mm_h.size() == 3);
  CHECK(z.mm_h[2].at(0.0) == 3.0);
  // Row 1 is as near the north gauge as the south one: the first gauge takes it.
  const char* expected[] = {"0002", "0022", "1112"};
  for (int r = 0; r < 3; ++r) {
    std::string row;
    for (int c = 0; c < 4; ++c) row += static_cast<char>('0' + static_cast<int>(z.zone.at(c, r)));
    CHECK(row == expected[r]);
  }
  CHECK_THROWS_WITH(nearest_gauge_zones(grid, {}, {}), Catch::Contains("no gauge"));
  CHECK_THROWS_WITH(nearest_gauge_zones(grid, {{0.0, 0.0}}, {TimeSeries::constant(1.0), TimeSeries::constant(2.0)}),
                    Catch::Contains("1 gauges but 2 hyetographs"));
}

TEST_CASE("Bad rain zones and factors get clear errors", "[unit][flood]") {
  const auto base = [] { return three_basins(Scheme::finite_volume); };
  const GridSpec other{5, 5, 0, 100, 10, 10};

  FloodSetup zone_grid = base();
  zone_grid.rain_zones->zone = Raster(other, Crs::lambert93(), 0.0f);
  CHECK_THROWS_WITH(FloodModel(zone_grid), Catch::Contains("rain zone raster") && Catch::Contains("DEM grid"));

  FloodSetup factor_grid = base();
  factor_grid.rain_factor = Raster(other, Crs::lambert93(), 1.0f);
  CHECK_THROWS_WITH(FloodModel(factor_grid), Catch::Contains("rain factor raster") && Catch::Contains("DEM grid"));

  FloodSetup negative_factor = base();
  negative_factor.rain_factor = Raster(negative_factor.dem.grid(), Crs::lambert93(), 1.0f);
  negative_factor.rain_factor->at(3, 1) = -0.5f;
  CHECK_THROWS_WITH(FloodModel(negative_factor), Catch::Contains("rain factor raster") && Catch::Contains("-0.5") &&
                                                     Catch::Contains("cell (3, 1)"));

  FloodSetup no_hyetograph = base();
  no_hyetograph.rain_zones->zone.at(4, 2) = 2.0f;
  CHECK_THROWS_WITH(FloodModel(no_hyetograph), Catch::Contains("rain zone raster") && Catch::Contains("zone 2") &&
                                                   Catch::Contains("cell (4, 2)") && Catch::Contains("no hyetograph"));

  FloodSetup empty_hyetograph = base();
  empty_hyetograph.rain_zones->mm_h[1] = TimeSeries();
  CHECK_THROWS_WITH(FloodModel(empty_hyetograph), Catch::Contains("zone 1") && Catch::Contains("cell (8, 0)"));

  FloodSetup fraction = base();
  fraction.rain_zones->zone.at(2, 3) = 0.5f;
  CHECK_THROWS_WITH(FloodModel(fraction), Catch::Contains("0.5") && Catch::Contains("cell (2, 3)") &&
                                              Catch::Contains("not a whole zone"));

  FloodSetup negative_rain = base();
  negative_rain.rain_zones->mm_h[1] = TimeSeries({0.0, 60.0}, {3.0, -2.0});
  CHECK_THROWS_WITH(FloodModel(negative_rain), Catch::Contains("rain zone 1") && Catch::Contains("-2") &&
                                                   Catch::Contains("negative"));

  // Zone 5 on the nodata walls has no hyetograph, and needs none: it never rains there.
  CHECK_NOTHROW(FloodModel(base()));
}

TEST_CASE("CSV series decide the header by its content and strip a byte-order mark", "[unit][flood]") {
  TempDir tmp;
  // A spreadsheet's BOM before a header-less first row: the row is data.
  write_text(tmp / "bom.csv", "\xEF\xBB\xBF" "0,50\n600,10\n");
  const TimeSeries bom = TimeSeries::read_csv(tmp / "bom.csv", "intensity_mm_h", 0.0);
  REQUIRE(bom.times_s().size() == 2);
  CHECK(bom.at(0.0) == 50.0);
  write_text(tmp / "bom_header.csv", "\xEF\xBB\xBF" "time_s,intensity_mm_h\n0,5\n");
  CHECK(TimeSeries::read_csv(tmp / "bom_header.csv", "intensity_mm_h", 0.0).at(0.0) == 5.0);
  // A first row meant as numbers is checked, not skipped as a header.
  for (const char* first : {"nan,50", "0O,50", "inf,50", "-nan,50", "0,nan", "1e,50", " ,50"}) {
    INFO(first);
    write_text(tmp / "first.csv", std::string(first) + "\n600,10\n");
    CHECK_THROWS_WITH(TimeSeries::read_csv(tmp / "first.csv", "intensity_mm_h", 0.0),
                      Catch::Contains("first.csv:1") && Catch::Contains("not a finite number"));
  }
  // Only the first row may be a header.
  write_text(tmp / "late.csv", "time_s,q\n0,1\ntime_s,q\n");
  CHECK_THROWS_WITH(TimeSeries::read_csv(tmp / "late.csv", "q", 0.0), Catch::Contains("late.csv:3"));
  write_text(tmp / "big.csv", "0,1\n60,2000\n");
  CHECK_THROWS_WITH(TimeSeries::read_csv(tmp / "big.csv", "intensity_mm_h", 0.0, kMaxRain_mm_h),
                    Catch::Contains("big.csv:2") && Catch::Contains("above 1000"));
}

TEST_CASE("A run that stalls on tiny time steps stops and says where", "[unit][flood]") {
  // One cell holds 100 000 km of water: its waves force steps of microseconds.
  FloodSetup s;
  s.dem = Raster(GridSpec{5, 5, 810000.0, 6302000.0, 1.0, 1.0}, Crs::lambert93(), 0.0f);
  Raster depth(s.dem.grid(), Crs::lambert93(), 0.0f);
  depth.at(2, 3) = 1e8f;
  s.initial_depth = depth;
  FloodModel model(s);
  model.advance_to(3600.0);
  CHECK(model.stalled());
  CHECK(model.time_s() < 1.0);
  try {
    check_progress(model, 0.0, 3600.0, "dem.tif");
    FAIL("no error");
  } catch (const cadereau::Error& e) {
    CHECK(e.category() == cadereau::ErrorCategory::bad_input);
    const std::string text = e.what();
    CHECK_THAT(text, Catch::Contains("dem.tif") && Catch::Contains("below 0.0001 s") &&
                         Catch::Contains("at x 8100") && Catch::Contains(", y 63019") && Catch::Contains("m/s"));
  }
}

TEST_CASE("A run whose water stops being finite fails rather than reporting it", "[unit][flood]") {
  // 1e200 m of water squares to infinity in the fluxes.
  FloodSetup s;
  s.dem = Raster(GridSpec{5, 5, 810000.0, 6302000.0, 10.0, 10.0}, Crs::lambert93(), 0.0f);
  s.dem.at(0, 0) = 5.0f;
  s.initial_wse_m = 1e200;
  FloodModel model(s);
  model.advance_to(60.0);
  REQUIRE(model.first_non_finite_cell());
  try {
    check_progress(model, 0.0, 60.0, "dem.tif");
    FAIL("no error");
  } catch (const cadereau::Error& e) {
    CHECK(e.category() == cadereau::ErrorCategory::internal);
    CHECK_THAT(std::string(e.what()), Catch::Contains("dem.tif") && Catch::Contains("stopped being finite") &&
                                          Catch::Contains("between 0 s and 60 s"));
  }
}

TEST_CASE("run_flood refuses geographic DEMs and implausible magnitudes naming the bound and the file",
          "[integration][flood]") {
  TempDir tmp;
  const GridSpec grid{12, 10, 810000.0, 6302000.0, 10.0, 10.0};
  Raster dem(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) dem.at(c, r) = static_cast<float>(10.0 - 0.1 * c);
  cadereau::twin::write_geotiff(dem, tmp / "dem.tif");
  auto options = [&] {
    FloodRunOptions o;
    o.dem = tmp / "dem.tif";
    o.until_s = 60.0;
    o.out = tmp / "out";
    return o;
  };
  auto refused = [&](const FloodRunOptions& o, const std::string& names, const std::string& says) {
    try {
      run_flood(o);
      FAIL("accepted: " << names);
    } catch (const cadereau::Error& e) {
      CHECK(e.category() == cadereau::ErrorCategory::bad_input);
      CHECK_THAT(std::string(e.what()), Catch::Contains(names) && Catch::Contains(says));
    }
  };
  // Degrees read as metres: a geographic CRS, or (without one) cells of 1e-4.
  Raster degrees(GridSpec{12, 10, 4.35, 43.84, 1e-4, 1e-4}, Crs::wgs84(), 0.0f);
  cadereau::twin::write_geotiff(degrees, tmp / "wgs84.tif");
  FloodRunOptions o = options();
  o.dem = tmp / "wgs84.tif";
  refused(o, "wgs84.tif", "gdalwarp -t_srs EPSG:2154 in.tif out.tif");
  Raster tiny(GridSpec{12, 10, 810000.0, 6302000.0, 0.01, 0.01}, Crs::lambert93(), 0.0f);
  cadereau::twin::write_geotiff(tiny, tmp / "tiny.tif");
  o.dem = tmp / "tiny.tif";
  refused(o, "tiny.tif", "outside [0.1, 1000] m");

  write_text(tmp / "storm.csv", "0,1500\n");
  o = options();
  o.rain_csv = tmp / "storm.csv";
  refused(o, "storm.csv:1", "above 1000");
  write_text(tmp / "q.csv", "0,2e5\n");
  o = options();
  o.inflows.push_back({{810055.0, 6301955.0}, tmp / "q.csv"});
  refused(o, "q.csv:1", "above 100000");
  o = options();
  o.initial_wse_m = 500.0;
  refused(o, "--initial-wse 500", "above 100 m");
  Raster deep(grid, Crs::lambert93(), 0.0f);
  deep.at(3, 4) = 150.0f;
  cadereau::twin::write_geotiff(deep, tmp / "deep.tif");
  o = options();
  o.initial_depth = tmp / "deep.tif";
  refused(o, "deep.tif", "above 100 m");
  Raster factor(grid, Crs::lambert93(), 1.0f);
  factor.at(5, 5) = 250.0f;
  cadereau::twin::write_geotiff(factor, tmp / "factor.tif");
  o = options();
  o.rain_factor = tmp / "factor.tif";
  refused(o, "factor.tif", "above 100");
  o = options();
  o.until_s = 8 * 86400.0;
  refused(o, "--until", "7 days");
}

TEST_CASE("The step computes the same bits on eight cells at a time as on one, and on any number of threads",
          "[validation][flood]") {
  // Where the processor has no AVX-512 the wide kernels are the narrow ones
  // and the first comparison holds trivially; the thread counts still differ.
  FloodModel narrow(busy_basin(1, false)), wide(busy_basin(1, true)), team(busy_basin(2, true));
  for (FloodModel* m : {&narrow, &wide, &team}) m->advance_to(300.0);
  const FloodState a = narrow.capture(), b = wide.capture(), c = team.capture();
  REQUIRE(narrow.wet_cells(0.01) > 2000);
  CHECK(narrow.steps() == wide.steps());
  CHECK(narrow.steps() == team.steps());
  CHECK(a.depth_m == b.depth_m);
  CHECK(a.discharge_east_m2_s == b.discharge_east_m2_s);
  CHECK(a.discharge_north_m2_s == b.discharge_north_m2_s);
  CHECK(a.depth_m == c.depth_m);
  CHECK(a.discharge_east_m2_s == c.discharge_east_m2_s);
  CHECK(a.discharge_north_m2_s == c.discharge_north_m2_s);
  CHECK(narrow.max_speed_raster().values() == team.max_speed_raster().values());
  CHECK(narrow.arrival_time_raster().values() == team.arrival_time_raster().values());
  CHECK(narrow.mass_balance().outflow_m3 == Approx(team.mass_balance().outflow_m3).epsilon(1e-12));
  CHECK(team.mass_balance().error_rel() < 1e-12);
}

TEST_CASE("The second-order step computes the same bits on any number of threads", "[validation][flood]") {
  FloodSetup one = busy_basin(1, true), two = busy_basin(2, true);
  one.scheme = two.scheme = Scheme::finite_volume_2;
  FloodModel single(one), team(two);
  for (FloodModel* m : {&single, &team}) m->advance_to(120.0);
  const FloodState a = single.capture(), b = team.capture();
  INFO(single.wet_cells(0.01) << " cells wetter than 1 cm");
  REQUIRE(single.wet_cells(0.01) > 500);
  CHECK(single.steps() == team.steps());
  CHECK(a.depth_m == b.depth_m);
  CHECK(a.discharge_east_m2_s == b.discharge_east_m2_s);
  CHECK(a.discharge_north_m2_s == b.discharge_north_m2_s);
  CHECK(single.max_speed_raster().values() == team.max_speed_raster().values());
  CHECK(single.mass_balance().outflow_m3 == Approx(team.mass_balance().outflow_m3).epsilon(1e-12));
  CHECK(single.mass_balance().outflow_m3 > 0.0);
  CHECK(team.mass_balance().error_rel() < 1e-12);
}

TEST_CASE("Two floods apart evolve as each would alone: the wet region follows each row", "[validation][flood]") {
  // Two equal ponds released on a flat bed, one in the north-west, one in
  // the south-east, far from each other and from the walls: the rows and
  // columns between them stay dry, and each pond's water does exactly what
  // it does without the other (the same waves, so the same time steps).
  const GridSpec grid{200, 200, 810000.0, 6302000.0, 2.0, 2.0};
  auto run = [&](bool north_west, bool south_east) {
    FloodSetup s;
    s.dem = Raster(grid, Crs::lambert93(), 0.0f);
    Raster depth(grid, Crs::lambert93(), 0.0f);
    for (int r = 0; r < 12; ++r)
      for (int c = 0; c < 12; ++c) {
        if (north_west) depth.at(30 + c, 30 + r) = 1.0f;
        if (south_east) depth.at(150 + c, 160 + r) = 1.0f;
      }
    s.initial_depth = depth;
    s.manning_n = 0.02;
    FloodModel m(s);
    m.advance_to(8.0);  // the fronts travel some 25 cells
    return m.capture();
  };
  const FloodState both = run(true, true), nw = run(true, false), se = run(false, true);
  std::size_t wet_nw = 0, wet_se = 0;
  for (std::size_t i = 0; i < both.depth_m.size(); ++i) {
    const bool in_nw = nw.depth_m[i] > 0.0, in_se = se.depth_m[i] > 0.0;
    REQUIRE(!(in_nw && in_se));  // they have not met
    wet_nw += in_nw ? 1 : 0;
    wet_se += in_se ? 1 : 0;
    const FloodState& alone = in_se ? se : nw;
    if (both.depth_m[i] != alone.depth_m[i] || both.discharge_east_m2_s[i] != alone.discharge_east_m2_s[i] ||
        both.discharge_north_m2_s[i] != alone.discharge_north_m2_s[i])
      FAIL("cell " << i << " differs: depth " << both.depth_m[i] << " m together, " << alone.depth_m[i] << " m alone");
  }
  CHECK(wet_nw > 300);
  CHECK(wet_se > 300);
}

TEST_CASE("A level nudge leaves a surface already past the reading exactly as it is", "[validation][flood][nudge]") {
  // (z + h) - z is h give or take an ulp of z: a cell whose surface stays
  // must keep its depth to the bit, or a lowering nudge would put water on
  // the grid (and count it as nudged in).
  const float bed_m = 18.55f;
  double h_m = 0.2;
  for (int k = 0; k < 1000 && (bed_m + h_m) - bed_m == h_m; ++k) h_m = std::nextafter(h_m, 1.0);
  REQUIRE((bed_m + h_m) - bed_m != h_m);
  const GridSpec grid{3, 1, 810000.0, 6302000.0, 5.0, 5.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs::lambert93(), bed_m);
  s.dem.at(1, 0) = 18.0f;  // the gauge
  FloodModel model(s);
  FloodState state = model.capture();
  state.depth_m = {h_m, 1.0, h_m};  // the gauge's surface at 19 m, its neighbours' below 18.9 m
  model.restore(state);
  LevelNudge how;
  how.radius_m = 10.0;
  how.gain = 1.0;
  const NudgeResult down = model.nudge_level(1, 18.9, how);
  CHECK(down.removed_m3 > 0.0);
  CHECK(down.added_m3 == 0.0);
  CHECK(model.depth_m(0) == h_m);
  CHECK(model.depth_m(2) == h_m);
}
