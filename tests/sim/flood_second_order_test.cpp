// The second-order finite-volume scheme (Scheme::finite_volume_2) against
// analytic solutions, beside the first-order scheme on the same grids.

#include "cadereau/sim/flood/flood_model.h"
#include "cadereau/sim/flood/flood_run.h"
#include "flood_analytic.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace cadereau::sim::flood;
using namespace cadereau::sim::flood::analytic;

namespace {

double ritter_error_m(int cols, double t_s, Scheme scheme) {
  const double h0 = 1.0, x0 = 500.0;
  FloodModel m(channel(cols, 1000.0, x0, h0, 0.0, scheme));
  m.advance_to(t_s);
  CHECK(m.mass_balance().error_rel() < 1e-12);
  return l1_error(m, [&](double x) { return ritter_depth(x, t_s, x0, h0); });
}

// The smallest depth inside the domain.
double min_depth_m(const FloodModel& m) {
  double lowest = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < m.grid().cell_count(); ++i)
    if (m.inside(i)) lowest = std::min(lowest, m.depth_m(i));
  return lowest;
}

}  // namespace

TEST_CASE("Second order: Ritter's dam break at 5 m cells halves the first-order error", "[validation][flood]") {
  const double first = ritter_error_m(200, 60.0, Scheme::finite_volume);
  const double second = ritter_error_m(200, 60.0, Scheme::finite_volume_2);
  INFO("mean |h - h_Ritter| at 60 s, 5 m cells: first order " << first << " m, second order " << second << " m");
  CHECK(second < 0.004);
  CHECK(second < 0.6 * first);
  // And it converges: 2.5 m cells do better still.
  CHECK(ritter_error_m(400, 60.0, Scheme::finite_volume_2) < 0.7 * second);
}

TEST_CASE("Second order: Thacker's moving shoreline with at most half the first-order error", "[validation][flood]") {
  const double first = thacker_error(50, 1, Scheme::finite_volume);
  const double second = thacker_error(50, 1, Scheme::finite_volume_2);
  INFO("mean |h - h_Thacker| over the wet area after 1 period, 50 x 50 cells: first order "
       << first << " m, second order " << second << " m (h0 = 0.1 m)");
  CHECK(second < 0.5 * first);
}

TEST_CASE("Second order: a lake at rest over a rough bed with islands stays exactly at rest", "[validation][flood]") {
  FloodModel model(lake_over_islands(Scheme::finite_volume_2));
  model.advance_to(300.0);
  const LakeRest rest = lake_rest(model);
  INFO("largest speed " << rest.max_speed_m_s << " m/s, largest level error " << rest.max_wse_error_m << " m");
  CHECK(rest.dry_cells > 10);
  CHECK(model.steps() > 100);
  CHECK(rest.max_speed_m_s < 1e-12);
  CHECK(rest.max_wse_error_m < 1e-12);
}

TEST_CASE("Second order: mass is conserved to round-off and depths stay non-negative", "[validation][flood]") {
  // Rain, an inflow and friction over a rough, tilted bed with an open eastern
  // edge: wetting, drying and outflow.
  const GridSpec grid{80, 60, 810000.0, 6302000.0, 10.0, 10.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c)
      s.dem.at(c, r) = static_cast<float>(50.0 - 0.05 * c + 0.5 * std::sin(0.3 * r) + 0.2 * std::cos(0.4 * c));
  s.manning_n = 0.05;
  s.rain_mm_h = TimeSeries({0.0, 300.0, 600.0}, {0.0, 60.0, 0.0});
  s.inflows.push_back({"upstream", grid.cell_centre({5, 30}), TimeSeries({0.0, 200.0, 900.0}, {0.0, 40.0, 0.0})});
  s.open_edges.east = true;
  s.scheme = Scheme::finite_volume_2;
  FloodModel model(s);
  double lowest = 0.0;
  for (double t = 60.0; t <= 1800.0; t += 60.0) {
    model.advance_to(t);
    lowest = std::min(lowest, min_depth_m(model));
  }
  const MassBalance mb = model.mass_balance();
  INFO("in " << mb.rain_m3 + mb.inflow_m3 << " m3, out " << mb.outflow_m3 << " m3, stored " << mb.stored_m3
             << " m3, error " << mb.error_rel());
  CHECK(mb.inflow_m3 == Approx(0.5 * 900.0 * 40.0).epsilon(1e-12));
  CHECK(mb.error_rel() < 1e-12);
  CHECK(mb.outflow_m3 > 0.0);
  CHECK(lowest >= 0.0);
  CHECK(model.max_depth_m() > 0.1);
}

TEST_CASE("Second order: a dam break over a dry bumpy bed keeps depths non-negative and mass exact",
          "[validation][flood]") {
  const GridSpec grid{70, 50, 810000.0, 6302000.0, 4.0, 4.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs::lambert93(), 0.0f, -9999.0);
  Raster depth(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) {
      s.dem.at(c, r) = static_cast<float>(0.4 * std::sin(0.5 * c) * std::sin(0.4 * r) + 0.002 * ((c * 5 + r * 3) % 7));
      if (c < 15) depth.at(c, r) = static_cast<float>(2.0 - s.dem.at(c, r));
      if (c > 40 && c < 45 && r % 12 < 6) s.dem.at(c, r) = -9999.0f;  // walls with gaps
    }
  s.initial_depth = depth;
  s.manning_n = 0.0;
  s.scheme = Scheme::finite_volume_2;
  FloodModel model(s);
  double lowest = 0.0;
  for (double t = 2.0; t <= 120.0; t += 2.0) {
    model.advance_to(t);
    lowest = std::min(lowest, min_depth_m(model));
  }
  INFO("mass error " << model.mass_balance().error_rel() << ", lowest depth " << lowest << " m");
  CHECK(lowest >= 0.0);
  CHECK(model.mass_balance().error_rel() < 1e-12);
  CHECK(!model.first_non_finite_cell());
  // The water went past the walls.
  CHECK(model.depth_m(grid.linear({60, 25})) > 0.01);
}

TEST_CASE("Second order: scheme names read back and a captured state restores exactly", "[unit][flood]") {
  CHECK(scheme_from_id(scheme_id(Scheme::finite_volume_2)) == Scheme::finite_volume_2);
  CHECK(scheme_from_id("finite_volume") == Scheme::finite_volume);
  CHECK(!scheme_from_id("fv3"));
  // A recorded run's options name its scheme, so that a replay runs the same one.
  FloodRunOptions o;
  o.dem = "dem.tif";
  o.out = "out";
  o.scheme = Scheme::finite_volume_2;
  CHECK(flood_options_from_json(flood_options_to_json(o), "test").scheme == Scheme::finite_volume_2);
  FloodModel a(channel(50, 250.0, 100.0, 1.0, 0.0, Scheme::finite_volume_2));
  a.advance_to(20.0);
  FloodModel b(channel(50, 250.0, 100.0, 1.0, 0.0, Scheme::finite_volume_2));
  b.restore(a.capture());
  a.advance_to(40.0);
  b.advance_to(40.0);
  double worst = 0.0;
  for (std::size_t i = 0; i < a.grid().cell_count(); ++i) worst = std::max(worst, std::abs(a.depth_m(i) - b.depth_m(i)));
  CHECK(worst < 1e-12);
}

TEST_CASE("Second order: a point inflow spreading over a dry flat bed with friction stays finite",
          "[validation][flood]") {
  // The thinnest films at the front (1e-244 m) once made Manning's friction divide zero by zero.
  const GridSpec grid{60, 60, 0.0, 300.0, 5.0, 5.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs{}, 0.0f);
  s.manning_n = 0.05;
  s.inflows.push_back({"breach", grid.cell_centre({0, 30}), TimeSeries({0.0, 600.0}, {0.0, 20.0})});
  s.scheme = Scheme::finite_volume_2;
  FloodModel model(s);
  model.advance_to(120.0);
  CHECK(model.time_s() == 120.0);
  CHECK(!model.first_non_finite_cell());
  CHECK(model.mass_balance().error_rel() < 1e-12);
  CHECK(model.depth_m(grid.linear({3, 30})) > 0.01);
}
