// A level gauge's reading corrects the water around it: Newtonian nudging
// of the water surface, the water it adds or takes counted apart from the
// forcing so that the mass balance still closes.

#include "cadereau/sim/flood/flood_model.h"

#include "cadereau/twin/error.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace cadereau::sim::flood {

namespace {

// Thinner water does not join a cell to the gauge's water: the film a
// receding flood leaves behind is not a hydraulic connection.
constexpr double kJoinedDepth_m = 1e-3;

// Cressman (1959): 1 at the gauge, falling smoothly to 0 at the radius.
double cressman_weight(double distance_m, double radius_m) {
  if (distance_m <= 0.0) return 1.0;
  const double r2 = radius_m * radius_m, d2 = distance_m * distance_m;
  return d2 < r2 ? (r2 - d2) / (r2 + d2) : 0.0;
}

}  // namespace

NudgeResult FloodModel::nudge_level(std::size_t gauge_cell, double target_wse_m, const LevelNudge& how) {
  if (gauge_cell >= h_.size() || !inside_[gauge_cell]) fail("level nudge", "cell {} is outside the domain", gauge_cell);
  if (!std::isfinite(target_wse_m)) fail("level nudge", "target water surface {} m is not finite", target_wse_m);
  if (!(how.radius_m >= 0.0) || !std::isfinite(how.radius_m))
    fail("level nudge", "radius {} m is negative or not finite", how.radius_m);
  if (!(how.gain > 0.0 && how.gain <= 1.0)) fail("level nudge", "gain {} is outside (0, 1]", how.gain);

  NudgeResult out;
  out.model_wse_m = out.nudged_wse_m = z_[gauge_cell] + h_[gauge_cell];
  const double gap_m = target_wse_m - out.model_wse_m;
  const bool raise = gap_m > 0.0;
  if (gap_m == 0.0 || (!raise && h_[gauge_cell] <= 0.0)) return out;

  // The cells the radius can reach, as a box around the gauge: visits are
  // marked there, so a nudge costs the box, not the grid.
  const long long gr = static_cast<long long>(gauge_cell / cols_), gc = static_cast<long long>(gauge_cell % cols_);
  const long long kr = static_cast<long long>(std::floor(how.radius_m / dy_));
  const long long kc = static_cast<long long>(std::floor(how.radius_m / dx_));
  const long long br0 = std::max(0LL, gr - kr), br1 = std::min(static_cast<long long>(rows_) - 1, gr + kr);
  const long long bc0 = std::max(0LL, gc - kc), bc1 = std::min(static_cast<long long>(cols_) - 1, gc + kc);
  const std::size_t box_cols = static_cast<std::size_t>(bc1 - bc0 + 1);
  std::vector<std::uint8_t> seen(static_cast<std::size_t>(br1 - br0 + 1) * box_cols, 0);
  const auto seen_at = [&](long long r, long long c) -> std::uint8_t& {
    return seen[static_cast<std::size_t>(r - br0) * box_cols + static_cast<std::size_t>(c - bc0)];
  };

  // Breadth first from the gauge, each cell with the surface it moves from:
  // its own where it holds water, else that of the water it was reached from.
  struct Visit {
    std::size_t cell;
    double from_wse_m;
  };
  std::vector<Visit> queue{{gauge_cell, out.model_wse_m}};
  seen_at(gr, gc) = 1;
  double added_m = 0.0, removed_m = 0.0;
  long long rmin = static_cast<long long>(rows_), rmax = -1, cmin = static_cast<long long>(cols_), cmax = -1;
  for (std::size_t next = 0; next < queue.size(); ++next) {
    const std::size_t i = queue[next].cell;
    const long long r = static_cast<long long>(i / cols_), c = static_cast<long long>(i % cols_);
    const double h = h_[i];
    const double wse = z_[i] + h;
    const bool wet = h > kJoinedDepth_m;
    const double shift_m = how.gain * cressman_weight(std::hypot((c - gc) * dx_, (r - gr) * dy_), how.radius_m) * gap_m;
    double depth = h;
    bool joined = wet;
    if (raise) {
      const double from = wet ? wse : queue[next].from_wse_m;
      const double to = std::min(from + shift_m, std::max(wse, target_wse_m));
      // A surface that stays put keeps its depth: (z + h) - z is h give or take an ulp of z.
      depth = to == wse ? h : std::max(h, to - z_[i]);
      joined = wet || depth > h;
    } else if (wet) {
      const double to = std::max(wse + shift_m, std::min(wse, target_wse_m));
      depth = to == wse ? h : std::max(0.0, to - z_[i]);
    }
    if (!joined) continue;
    if (depth != h) {
      if (depth > h)
        added_m += depth - h;
      else
        removed_m += h - depth;
      // A wet cell keeps its velocity; water on dry ground is at rest.
      const double keep = depth <= 0.0 ? 0.0 : wet ? depth / h : 1.0;
      qx_[i] *= keep;
      qy_[i] *= keep;
      h_[i] = depth;
      note_envelopes(i, depth, velocity_east_m_s(i), velocity_north_m_s(i), static_cast<float>(time_s_),
                     static_cast<float>(setup_.arrival_depth_m));
      ++out.cells;
      if (depth > 0.0) {
        rmin = std::min(rmin, r), rmax = std::max(rmax, r);
        cmin = std::min(cmin, c), cmax = std::max(cmax, c);
      }
    }
    const double from_next = wet ? wse : queue[next].from_wse_m;
    const auto visit = [&](long long nr, long long nc) {
      if (nr < br0 || nr > br1 || nc < bc0 || nc > bc1 || seen_at(nr, nc)) return;
      seen_at(nr, nc) = 1;
      const std::size_t j = static_cast<std::size_t>(nr) * cols_ + static_cast<std::size_t>(nc);
      if (!inside_[j] || std::hypot((nc - gc) * dx_, (nr - gr) * dy_) >= how.radius_m) return;
      queue.push_back({j, from_next});
    };
    visit(r - 1, c);
    visit(r + 1, c);
    visit(r, c - 1);
    visit(r, c + 1);
  }

  out.added_m3 = added_m * cell_area_m2_;
  out.removed_m3 = removed_m * cell_area_m2_;
  nudged_in_m3_ += out.added_m3;
  nudged_out_m3_ += out.removed_m3;
  out.nudged_wse_m = z_[gauge_cell] + h_[gauge_cell];
  if (rmax >= 0) {
    // The wet box grows to the new water, with the usual margin of one cell.
    const std::size_t lo_r = static_cast<std::size_t>(std::max(0LL, rmin - 1));
    const std::size_t lo_c = static_cast<std::size_t>(std::max(0LL, cmin - 1));
    const std::size_t hi_r = std::min(rows_, static_cast<std::size_t>(rmax) + 2);
    const std::size_t hi_c = std::min(cols_, static_cast<std::size_t>(cmax) + 2);
    grow_wet_box(lo_r, hi_r, lo_c, hi_c);
  }
  // Deeper water carries faster waves: the next step must be shorter.
  if (out.cells > 0) next_dt_s_ = stable_dt_s();
  return out;
}

}  // namespace cadereau::sim::flood
