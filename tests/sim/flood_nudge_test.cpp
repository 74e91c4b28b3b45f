// Nudging the water toward a level gauge's reading: how far it moves, where,
// and the water it adds or takes counted in the mass balance.
#include "cadereau/sim/flood/flood_model.h"
#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace cadereau::sim::flood;
using cadereau::twin::CellIndex;
using cadereau::twin::Crs;
using cadereau::twin::GridSpec;
using cadereau::twin::Raster;

namespace {

// 21 x 21 cells of 10 m, flat bed at 10 m, still water 1 m deep; the gauge
// in the middle cell.
constexpr int kSide = 21;
const GridSpec kGrid{kSide, kSide, 810000.0, 6302000.0, 10.0, 10.0};
const std::size_t kGauge = kGrid.linear({10, 10});

FloodSetup flat_lake() {
  FloodSetup s;
  s.dem = Raster(kGrid, Crs::lambert93(), 10.0f);
  s.initial_wse_m = 11.0;
  s.threads = 1;
  return s;
}

double wse(const FloodModel& m, std::size_t cell) { return m.bed_m(cell) + m.depth_m(cell); }

double stored_m3(const FloodModel& m) { return m.mass_balance().stored_m3; }

}  // namespace

TEST_CASE("A nudge moves the water at the gauge toward the reading by the gain and not beyond", "[unit][flood][nudge]") {
  FloodModel model(flat_lake());
  LevelNudge how;
  how.radius_m = 50.0;
  how.gain = 0.5;

  SECTION("up") {
    const NudgeResult n = model.nudge_level(kGauge, 12.0, how);
    CHECK(n.model_wse_m == Approx(11.0).margin(1e-12));
    CHECK(n.nudged_wse_m == Approx(11.5).margin(1e-12));
    CHECK(wse(model, kGauge) == Approx(11.5).margin(1e-12));
    // Cressman's weight 10 m away with a radius of 50 m: 2400 / 2600.
    CHECK(wse(model, kGrid.linear({11, 10})) == Approx(11.0 + 0.5 * 2400.0 / 2600.0).margin(1e-12));
    // Beyond the radius, nothing moves.
    CHECK(model.depth_m(kGrid.linear({15, 10})) == 1.0);
    CHECK(model.depth_m(kGrid.linear({0, 0})) == 1.0);
    CHECK(n.removed_m3 == 0.0);
    CHECK(n.added_m3 > 0.5 * 100.0);
    // Readings after readings approach the level, never pass it.
    for (int k = 0; k < 40; ++k) {
      model.nudge_level(kGauge, 12.0, how);
      for (std::size_t i = 0; i < kGrid.cell_count(); ++i) REQUIRE(wse(model, i) <= 12.0 + 1e-12);
    }
    CHECK(wse(model, kGauge) == Approx(12.0).margin(1e-9));
    // Gain 1 lands on the reading at the gauge.
    how.gain = 1.0;
    model.nudge_level(kGauge, 12.3, how);
    CHECK(wse(model, kGauge) == Approx(12.3).margin(1e-12));
  }
  SECTION("down") {
    const NudgeResult n = model.nudge_level(kGauge, 10.6, how);
    CHECK(n.nudged_wse_m == Approx(10.8).margin(1e-12));
    CHECK(n.added_m3 == 0.0);
    CHECK(n.removed_m3 > 0.2 * 100.0);
    how.gain = 1.0;
    model.nudge_level(kGauge, 10.6, how);
    CHECK(wse(model, kGauge) == Approx(10.6).margin(1e-12));
    for (std::size_t i = 0; i < kGrid.cell_count(); ++i) REQUIRE(wse(model, i) >= 10.6 - 1e-12);
    // A reading below the bed empties the cell and no more.
    model.nudge_level(kGauge, 9.0, how);
    CHECK(model.depth_m(kGauge) == 0.0);
    for (std::size_t i = 0; i < kGrid.cell_count(); ++i) REQUIRE(model.depth_m(i) >= 0.0);
  }
}

TEST_CASE("A nudge puts no water on dry ground above the reading nor on ground cut off from the gauge",
          "[unit][flood][nudge]") {
  // A channel 3 cells wide (bed 8 m) across the lake's grid with banks at
  // 10 m; a hollow at 8.5 m on the bank, 20 m from the channel, with no water
  // path to it.
  FloodSetup s;
  s.dem = Raster(kGrid, Crs::lambert93(), 10.0f);
  for (int r = 0; r < kSide; ++r)
    for (int c = 9; c <= 11; ++c) s.dem.at(c, r) = 8.0f;
  const std::size_t hollow = kGrid.linear({14, 10});
  s.dem.at(14, 10) = 8.5f;
  s.initial_wse_m = 9.0;  // fills the channel and the hollow's bottom
  s.threads = 1;
  FloodModel model(s);
  const double hollow_m = model.depth_m(hollow);
  REQUIRE(hollow_m == Approx(0.5));
  LevelNudge how;
  how.radius_m = 80.0;
  how.gain = 1.0;
  const NudgeResult n = model.nudge_level(kGauge, 9.8, how);
  CHECK(wse(model, kGauge) == Approx(9.8).margin(1e-12));
  for (int r = 0; r < kSide; ++r)
    for (int c = 0; c < kSide; ++c) {
      const std::size_t i = kGrid.linear({c, r});
      if (c >= 9 && c <= 11) continue;
      if (i == hollow) continue;
      INFO("cell " << c << ", " << r);
      REQUIRE(model.depth_m(i) == 0.0);
    }
  CHECK(model.depth_m(hollow) == hollow_m);
  // Only channel cells changed: 3 wide, within 80 m up and down.
  CHECK(n.cells > 3 * 10);
  CHECK(n.cells <= 3 * 17);

  // A reading above the banks spreads onto them, near the gauge, never above the reading.
  const NudgeResult over = model.nudge_level(kGauge, 10.4, how);
  CHECK(over.cells > n.cells);
  CHECK(model.depth_m(kGrid.linear({12, 10})) > 0.3);
  for (std::size_t i = 0; i < kGrid.cell_count(); ++i) REQUIRE(wse(model, i) <= 10.4 + 1e-12);
}

TEST_CASE("Nudged water is counted in the mass balance and running water keeps its velocity",
          "[validation][flood][nudge]") {
  // A sloping street 3 cells wide fed at its top: water runs down it.
  const GridSpec grid{60, 3, 810000.0, 6302000.0, 5.0, 5.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 60; ++c) s.dem.at(c, r) = static_cast<float>(20.0 - 0.01 * 5.0 * c);
  s.manning_n = 0.03;
  s.inflows.push_back({"top", grid.cell_centre({1, 1}), TimeSeries::constant(2.0)});
  s.open_edges.east = true;
  s.threads = 1;
  FloodModel model(s);
  model.advance_to(600.0);
  const std::size_t gauge = grid.linear({30, 1});
  const double h0 = model.depth_m(gauge);
  const double u0 = model.velocity_east_m_s(gauge);
  REQUIRE(h0 > 0.05);
  REQUIRE(u0 > 0.1);

  LevelNudge how;
  how.radius_m = 40.0;
  const double before_m3 = stored_m3(model);
  std::vector<double> before_wse(grid.cell_count());
  for (std::size_t i = 0; i < grid.cell_count(); ++i) before_wse[i] = wse(model, i);
  const double target_m = model.bed_m(gauge) + h0 + 0.3;
  const NudgeResult up = model.nudge_level(gauge, target_m, how);
  CHECK(stored_m3(model) - before_m3 == Approx(up.added_m3).epsilon(1e-12));
  // Up the street the water stands above the reading already: it stays as it
  // is; below, nothing is raised past the reading.
  int above = 0;
  for (std::size_t i = 0; i < grid.cell_count(); ++i) {
    INFO("cell " << i % 60 << ", " << i / 60);
    if (before_wse[i] >= target_m) {
      ++above;
      REQUIRE(wse(model, i) == before_wse[i]);
    } else {
      REQUIRE(wse(model, i) <= target_m + 1e-12);
    }
  }
  CHECK(above > 6);
  CHECK(model.velocity_east_m_s(gauge) == Approx(u0).epsilon(1e-12));
  model.advance_to(700.0);
  const double middle_m3 = stored_m3(model);
  for (std::size_t i = 0; i < grid.cell_count(); ++i) before_wse[i] = wse(model, i);
  const double low_m = model.bed_m(gauge) + 0.01;
  const NudgeResult down = model.nudge_level(gauge, low_m, how);
  CHECK(middle_m3 - stored_m3(model) == Approx(down.removed_m3).epsilon(1e-12));
  // Down the street the water stands below the reading already: it stays as it is.
  int below = 0;
  for (std::size_t i = 0; i < grid.cell_count(); ++i) {
    INFO("cell " << i % 60 << ", " << i / 60);
    if (before_wse[i] <= low_m) {
      below += model.depth_m(i) > 0.0;
      REQUIRE(wse(model, i) == before_wse[i]);
    } else {
      REQUIRE(wse(model, i) >= std::min(low_m, model.bed_m(i)) - 1e-12);
    }
  }
  CHECK(below > 6);
  model.advance_to(900.0);

  const MassBalance mb = model.mass_balance();
  CHECK(mb.nudged_in_m3 == Approx(up.added_m3).epsilon(1e-15));
  CHECK(mb.nudged_out_m3 == Approx(down.removed_m3).epsilon(1e-15));
  CHECK(up.added_m3 > 5.0);
  CHECK(down.removed_m3 > 5.0);
  INFO("added " << up.added_m3 << " m3, removed " << down.removed_m3 << " m3, error " << mb.error_rel());
  CHECK(mb.error_rel() < 1e-10);
  // Left out, the nudged water would open the balance.
  MassBalance forcing_only = mb;
  forcing_only.nudged_in_m3 = forcing_only.nudged_out_m3 = 0.0;
  CHECK(forcing_only.error_rel() > 1e-4);

  // A restore starts the balance again, nudged water included.
  model.restore(model.capture());
  CHECK(model.mass_balance().nudged_in_m3 == 0.0);
  CHECK(model.mass_balance().error_rel() < 1e-12);
}

TEST_CASE("A nudge with impossible parameters is refused", "[unit][flood][nudge]") {
  FloodModel model(flat_lake());
  const auto category = [&](std::size_t cell, double target_m, double radius_m, double gain) {
    try {
      model.nudge_level(cell, target_m, LevelNudge{radius_m, gain});
    } catch (const cadereau::Error& e) {
      return e.category();
    }
    return cadereau::ErrorCategory::internal;
  };
  CHECK(category(kGrid.cell_count(), 12.0, 50.0, 0.5) == cadereau::ErrorCategory::bad_input);
  CHECK(category(kGauge, std::nan(""), 50.0, 0.5) == cadereau::ErrorCategory::bad_input);
  CHECK(category(kGauge, 12.0, -1.0, 0.5) == cadereau::ErrorCategory::bad_input);
  CHECK(category(kGauge, 12.0, 50.0, 0.0) == cadereau::ErrorCategory::bad_input);
  CHECK(category(kGauge, 12.0, 50.0, 1.5) == cadereau::ErrorCategory::bad_input);
  CHECK(model.mass_balance().nudged_in_m3 == 0.0);
}
