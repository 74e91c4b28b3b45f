#pragma once
// Analytic flood cases shared by the flood tests: Ritter's dam break in a
// channel and Thacker's planar surface in a paraboloid, with their errors.

#include "cadereau/sim/flood/flood_model.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

namespace cadereau::sim::flood::analytic {

using twin::Crs;
using twin::GridSpec;
using twin::MapPoint;
using twin::Raster;

inline constexpr double g = kGravity_m_s2;

// A channel of `cols` cells along x, 3 cells wide, walls all round.
inline FloodSetup channel(int cols, double length_m, double dam_x_m, double h_left_m, double h_right_m,
                          Scheme scheme = Scheme::finite_volume) {
  const double dx = length_m / cols;
  FloodSetup s;
  s.dem = Raster(GridSpec{cols, 3, 810000.0, 6302000.0, dx, dx}, Crs::lambert93(), 0.0f);
  s.manning_n = 0.0;
  s.scheme = scheme;
  Raster depth(s.dem.grid(), Crs::lambert93(), 0.0f);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < cols; ++c) depth.at(c, r) = static_cast<float>((c + 0.5) * dx < dam_x_m ? h_left_m : h_right_m);
  s.initial_depth = depth;
  return s;
}

inline double ritter_depth(double x, double t, double x0, double h0) {
  const double c0 = std::sqrt(g * h0);
  const double xi = (x - x0) / t;
  if (xi <= -c0) return h0;
  if (xi >= 2.0 * c0) return 0.0;
  const double a = 2.0 * c0 - xi;
  return a * a / (9.0 * g);
}

// A lake at rest, its surface at 1.0 m, over a rough bed of 60 x 50 cells of
// 5 m with two islands emerging from it and a nodata hole; Manning 0.03.
inline FloodSetup lake_over_islands(Scheme scheme) {
  const GridSpec grid{60, 50, 810000.0, 6302000.0, 5.0, 5.0};
  FloodSetup s;
  s.dem = Raster(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) {
      double z = 0.3 * std::sin(0.7 * c) * std::cos(0.5 * r) + 0.01 * ((c * 7 + r * 13) % 11);
      z += 1.6 * std::exp(-((c - 15) * (c - 15) + (r - 20) * (r - 20)) / 20.0);
      z += 1.4 * std::exp(-((c - 42) * (c - 42) + (r - 30) * (r - 30)) / 30.0);
      s.dem.at(c, r) = static_cast<float>(z);
    }
  s.dem.set_nodata(-9999.0);
  s.dem.at(30, 25) = -9999.0f;  // a hole in the domain acts as a wall
  s.initial_wse_m = 1.0;
  s.manning_n = 0.03;
  s.scheme = scheme;
  return s;
}

// How far a lake_over_islands() run is from rest: its fastest cell, the
// largest departure of a wet cell's level from 1.0 m, and the dry cells.
struct LakeRest {
  double max_speed_m_s = 0.0;
  double max_wse_error_m = 0.0;
  std::size_t dry_cells = 0;
};
inline LakeRest lake_rest(const FloodModel& model) {
  LakeRest out;
  for (std::size_t i = 0; i < model.grid().cell_count(); ++i) {
    if (!model.inside(i)) continue;
    out.max_speed_m_s = std::max(out.max_speed_m_s, model.speed_m_s(i));
    if (model.depth_m(i) > 0.0)
      out.max_wse_error_m = std::max(out.max_wse_error_m, std::abs(model.depth_m(i) + model.bed_m(i) - 1.0));
    else
      ++out.dry_cells;
  }
  return out;
}

// Mean absolute depth error along the middle row against an analytic profile.
template <typename Exact>
double l1_error(const FloodModel& m, const Exact& exact) {
  const GridSpec& grid = m.grid();
  double sum = 0.0;
  for (int c = 0; c < grid.cols; ++c) {
    const double x = (c + 0.5) * grid.cell_w_m;
    sum += std::abs(m.depth_m(grid.linear({c, 1})) - exact(x));
  }
  return sum / grid.cols;
}

// Thacker (1981) planar surface oscillating in a paraboloid: bed
// z = -h0 (1 - r^2/a^2), surface 2 eta h0/a^2 (X cos wt + Y sin wt) - eta^2 h0/a^2,
// uniform velocity (-eta w sin wt, eta w cos wt), w = sqrt(2 g h0) / a.
struct Thacker {
  double a = 1.0, h0 = 0.1, eta = 0.5, half_l = 2.0;
  double omega() const { return std::sqrt(2.0 * g * h0) / a; }
  double bed(double x, double y) const { return -h0 * (1.0 - (x * x + y * y) / (a * a)); }
  double depth(double x, double y, double t) const {
    const double w = omega();
    const double surface = eta * h0 / (a * a) * (2.0 * x * std::cos(w * t) + 2.0 * y * std::sin(w * t) - eta);
    return std::max(0.0, surface - bed(x, y));
  }
};

inline double thacker_error(int n, int periods, Scheme scheme = Scheme::finite_volume) {
  const Thacker th;
  const double dx = 2.0 * th.half_l / n;
  const GridSpec grid{n, n, -th.half_l, th.half_l, dx, dx};
  FloodSetup s;
  s.dem = Raster(grid, Crs{}, 0.0f);
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      const MapPoint p = grid.cell_centre({c, r});
      s.dem.at(c, r) = static_cast<float>(th.bed(p.x_m, p.y_m));
    }
  s.manning_n = 0.0;
  s.scheme = scheme;
  FloodModel model(s);
  FloodState start = model.capture();
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      const std::size_t i = grid.linear({c, r});
      const MapPoint p = grid.cell_centre({c, r});
      // The bed is stored in float: take the depth against it so the surface is exactly planar.
      const double h = std::max(0.0, th.depth(p.x_m, p.y_m, 0.0) + th.bed(p.x_m, p.y_m) - model.bed_m(i));
      start.depth_m[i] = h;
      start.discharge_east_m2_s[i] = 0.0;
      start.discharge_north_m2_s[i] = h * th.eta * th.omega();
    }
  model.restore(start);
  const double period_s = 2.0 * M_PI / th.omega();
  model.advance_to(periods * period_s);
  double sum = 0.0;
  int cells = 0;
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      const MapPoint p = grid.cell_centre({c, r});
      // Compare where either solution is wet, inside the bowl.
      const double exact = th.depth(p.x_m, p.y_m, periods * period_s);
      const double got = model.depth_m(grid.linear({c, r}));
      if (exact <= 0.0 && got <= 1e-6) continue;
      sum += std::abs(got - exact);
      ++cells;
    }
  CHECK(model.mass_balance().error_rel() < 1e-9);
  return sum / std::max(cells, 1);
}


}  // namespace cadereau::sim::flood::analytic
