#include "cadereau/sim/flood/flood_model.h"

#include "cadereau/twin/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace cadereau::sim::flood {

namespace {

constexpr double g = kGravity_m_s2;
// Below this depth a cell holds water but no momentum: velocities from
// q / h would be noise, and friction would stop the water anyway.
constexpr double kDryDepth_m = 1e-4;
// When nothing is wet and no source runs, the clock jumps by this much.
constexpr double kIdleStep_s = 60.0;
// Below this many cells in the wet box the step runs on one thread.
constexpr std::size_t kMinCellsPerTeam = 16384;

struct FaceFlux {
  double mass = 0.0;      // m2/s
  double mom_left = 0.0;  // normal momentum flux seen from the left cell
  double mom_right = 0.0; // ... seen from the right cell
  double trans = 0.0;     // transverse momentum flux
};

// HLL flux between two cells after hydrostatic reconstruction (Audusse et
// al. 2004). u: normal velocity, v: transverse velocity, z: bed.
inline FaceFlux hll_face(double hl, double ul, double vl, double zl, double hr, double ur, double vr, double zr) {
  const double zf = std::max(zl, zr);
  const double hls = std::max(0.0, hl + zl - zf);
  const double hrs = std::max(0.0, hr + zr - zf);
  FaceFlux f;
  double p = 0.0;
  if (hls > 0.0 || hrs > 0.0) {
    const double cl = std::sqrt(g * hls);
    const double cr = std::sqrt(g * hrs);
    double sl, sr;
    if (hls <= 0.0) {
      sl = ur - 2.0 * cr;
      sr = ur + cr;
    } else if (hrs <= 0.0) {
      sl = ul - cl;
      sr = ul + 2.0 * cl;
    } else {
      sl = std::min(ul - cl, ur - cr);
      sr = std::max(ul + cl, ur + cr);
    }
    const double ql = hls * ul, qr = hrs * ur;
    const double fl1 = ql * ul + 0.5 * g * hls * hls;
    const double fr1 = qr * ur + 0.5 * g * hrs * hrs;
    if (sl >= 0.0) {
      f.mass = ql;
      p = fl1;
    } else if (sr <= 0.0) {
      f.mass = qr;
      p = fr1;
    } else {
      const double inv = 1.0 / (sr - sl);
      f.mass = (sr * ql - sl * qr + sl * sr * (hrs - hls)) * inv;
      p = (sr * fl1 - sl * fr1 + sl * sr * (qr - ql)) * inv;
    }
    f.trans = f.mass > 0.0 ? f.mass * vl : f.mass * vr;
  }
  f.mom_left = p + 0.5 * g * (hl * hl - hls * hls);
  f.mom_right = p + 0.5 * g * (hr * hr - hrs * hrs);
  return f;
}

inline FaceFlux wall_face(double h_inside) {
  FaceFlux f;
  f.mom_left = f.mom_right = 0.5 * g * h_inside * h_inside;
  return f;
}

// Free outflow through a domain edge: the inside state leaves with its own flux.
inline FaceFlux outflow_face(double h, double un, double ut) {
  FaceFlux f;
  f.mass = h * un;
  f.mom_left = f.mom_right = h * un * un + 0.5 * g * h * h;
  f.trans = f.mass * ut;
  return f;
}

// A face on the domain edge: free outflow when the edge is open and the water
// moves out through it (outward = +1 for east/south faces, -1 for west/north),
// a wall otherwise.
inline FaceFlux edge_face(double h, double un, double ut, bool open, double outward) {
  return open && un * outward > 0.0 ? outflow_face(h, un, ut) : wall_face(h);
}

inline double velocity(double q, double h) { return h > kDryDepth_m ? q / h : 0.0; }

void check_same_grid(const twin::Raster& r, const twin::GridSpec& grid, const char* what) {
  if (!r.grid().same_as(grid, 1e-6 * std::max(1.0, grid.cell_w_m)))
    fail(what, "raster is on a {} x {} grid of {:g} m cells at ({:.3f}, {:.3f}); the DEM grid is {} x {} of {:g} m at "
               "({:.3f}, {:.3f})",
         r.grid().cols, r.grid().rows, r.grid().cell_w_m, r.grid().x_min_m, r.grid().y_max_m, grid.cols, grid.rows,
         grid.cell_w_m, grid.x_min_m, grid.y_max_m);
}

// The cells of the rain box, and what each draws. kZones: cells draw their
// own slot (else all draw slot 0); kFactor: scaled by their own factor.
struct RainCells {
  const std::uint8_t* inside;
  const std::uint16_t* slot;
  const float* factor;
  const double* slot_m;
  std::size_t cols, r0, r1, c0, c1;
};

// Adds each cell's rain depth; returns the depths added, summed (m).
template <bool kZones, bool kFactor>
double rain_into(double* h, const RainCells& rc) {
  double added_m = 0.0;
  for (std::size_t r = rc.r0; r < rc.r1; ++r)
    for (std::size_t c = rc.c0; c < rc.c1; ++c) {
      const std::size_t i = r * rc.cols + c;
      if (!rc.inside[i]) continue;
      double d = rc.slot_m[kZones ? rc.slot[i] : 0];
      if constexpr (kFactor) d *= rc.factor[i];
      h[i] += d;
      added_m += d;
    }
  return added_m;
}

constexpr double kMmHourSecondsPerMetre = 3.6e6;  // integral of mm/h over s -> m

}  // namespace

RainZones nearest_gauge_zones(const twin::GridSpec& grid, const std::vector<twin::MapPoint>& gauges,
                              std::vector<TimeSeries> mm_h) {
  if (gauges.empty()) fail("rain gauges", "no gauge to draw zones from");
  if (gauges.size() != mm_h.size())
    fail("rain gauges", "{} gauges but {} hyetographs: each gauge needs its own", gauges.size(), mm_h.size());
  RainZones zones{twin::Raster(grid, twin::Crs{}, 0.0f, -1.0), std::move(mm_h)};
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) {
      const twin::MapPoint p = grid.cell_centre({c, r});
      std::size_t nearest = 0;
      double best_m2 = std::numeric_limits<double>::infinity();
      for (std::size_t k = 0; k < gauges.size(); ++k) {
        const double ex = gauges[k].x_m - p.x_m, ey = gauges[k].y_m - p.y_m;
        const double d2 = ex * ex + ey * ey;
        if (d2 < best_m2) {
          best_m2 = d2;
          nearest = k;
        }
      }
      zones.zone.at(c, r) = static_cast<float>(nearest);
    }
  return zones;
}

double MassBalance::error_rel() const {
  const double scale = std::max({initial_m3 + rain_m3 + inflow_m3 + nudged_in_m3, stored_m3, 1e-12});
  return std::abs(stored_m3 - initial_m3 - rain_m3 - inflow_m3 + outflow_m3 - nudged_in_m3 + nudged_out_m3) / scale;
}

FloodModel::FloodModel(FloodSetup setup) : setup_(std::move(setup)) {
  const twin::Raster& dem = setup_.dem;
  grid_ = dem.grid();
  crs_ = dem.crs();
  cols_ = static_cast<std::size_t>(grid_.cols);
  rows_ = static_cast<std::size_t>(grid_.rows);
  dx_ = grid_.cell_w_m;
  dy_ = grid_.cell_h_m;
  cell_area_m2_ = dx_ * dy_;
  const std::size_t n = grid_.cell_count();
  if (n == 0) fail("flood model", "the DEM has no cell");
  if (!(setup_.cfl > 0.0) || setup_.cfl > 0.5) fail("flood model", "CFL number {} is outside (0, 0.5]", setup_.cfl);
  if (setup_.scheme == Scheme::local_inertial && (!(setup_.inertial_alpha > 0.0) || setup_.inertial_alpha > 1.0))
    fail("flood model", "local-inertial alpha {} is outside (0, 1]", setup_.inertial_alpha);
  if (!(setup_.manning_n >= 0.0) || setup_.manning_n > 1.0)
    fail("flood model", "Manning n {} is outside [0, 1]", setup_.manning_n);

  open_west_ = setup_.open_boundaries || setup_.open_edges.west;
  open_east_ = setup_.open_boundaries || setup_.open_edges.east;
  open_north_ = setup_.open_boundaries || setup_.open_edges.north;
  open_south_ = setup_.open_boundaries || setup_.open_edges.south;
  h_.assign(n, 0.0);
  qx_.assign(n, 0.0);
  qy_.assign(n, 0.0);
  z_.assign(n, 0.0);
  n2_.assign(n, setup_.manning_n * setup_.manning_n);
  inside_.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const float zb = dem.values()[i];
    if (dem.is_nodata(zb) || !std::isfinite(zb)) continue;
    inside_[i] = 1;
    z_[i] = zb;
    ++inside_count_;
  }
  if (inside_count_ == 0) fail("flood model", "the DEM is all nodata: there is no domain to flood");

  if (setup_.manning) {
    check_same_grid(*setup_.manning, grid_, "Manning raster");
    for (std::size_t i = 0; i < n; ++i) {
      if (!inside_[i]) continue;
      const float m = setup_.manning->values()[i];
      if (setup_.manning->is_nodata(m)) continue;
      if (!(m >= 0.0f) || m > 1.0f)
        fail("Manning raster", "n = {} at cell ({}, {}) is outside [0, 1]", m, i % cols_, i / cols_);
      n2_[i] = static_cast<double>(m) * m;
    }
  }
  if (setup_.initial_wse_m)
    for (std::size_t i = 0; i < n; ++i)
      if (inside_[i]) h_[i] = std::max(0.0, *setup_.initial_wse_m - z_[i]);
  if (setup_.initial_depth) {
    check_same_grid(*setup_.initial_depth, grid_, "initial depth raster");
    for (std::size_t i = 0; i < n; ++i) {
      if (!inside_[i]) continue;
      const float d = setup_.initial_depth->values()[i];
      if (setup_.initial_depth->is_nodata(d)) continue;
      if (!(d >= 0.0f))
        fail("initial depth raster", "depth {} m at cell ({}, {}) is negative", d, i % cols_, i / cols_);
      h_[i] += d;
    }
  }
  if (setup_.rain_mm_h)
    for (double v : setup_.rain_mm_h->values())
      if (v < 0.0) fail("rain", "intensity {} mm/h is negative", v);
  set_up_rain();

  for (const auto& inflow : setup_.inflows) {
    const auto cell = grid_.cell_at(inflow.location);
    const std::string where = "inflow '" + inflow.label + "'";
    if (!cell)
      fail(where, "point ({:.2f}, {:.2f}) is outside the DEM extent x {:.2f}..{:.2f}, y {:.2f}..{:.2f}",
           inflow.location.x_m, inflow.location.y_m, grid_.x_min_m, grid_.x_max_m(), grid_.y_min_m(), grid_.y_max_m);
    const std::size_t i = grid_.linear(*cell);
    if (!inside_[i])
      fail(where, "point ({:.2f}, {:.2f}) falls on a nodata cell of the DEM (outside the domain)", inflow.location.x_m,
           inflow.location.y_m);
    for (double q : inflow.discharge_m3_s.values())
      if (q < 0.0) fail(where, "discharge {} m3/s is negative", q);
    sources_.push_back({i, &inflow.discharge_m3_s});
  }

  if (setup_.scheme == Scheme::local_inertial) {
    li_qx_.assign(rows_ * (cols_ + 1), 0.0);
    li_qy_.assign((rows_ + 1) * cols_, 0.0);
    li_out_factor_.assign(n, 1.0);
  }
  fx_mass_.assign(rows_ * (cols_ + 1), 0.0);
  fx_mom_left_ = fx_mom_right_ = fx_trans_ = fx_mass_;
  fy_mass_.assign((rows_ + 1) * cols_, 0.0);
  fy_mom_up_ = fy_mom_down_ = fy_trans_ = fy_mass_;
  max_h_.assign(n, 0.0f);
  max_speed_.assign(n, 0.0f);
  max_hazard_.assign(n, 0.0f);
  arrival_s_.assign(n, -1.0f);

  double initial = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    initial += h_[i];
    if (h_[i] >= setup_.arrival_depth_m) arrival_s_[i] = 0.0f;
    max_h_[i] = static_cast<float>(h_[i]);
  }
  initial_m3_ = initial * cell_area_m2_;
  update_wet_box();
  next_dt_s_ = stable_dt_s();
}

namespace {

void check_forcing(const std::string& where, double from_s, double now_s, const TimeSeries& series) {
  if (!(from_s >= now_s - 1e-9))
    fail(where, "a change from {} s is in the past: the model is at {} s", from_s, now_s);
  for (double v : series.values())
    if (!(v >= 0.0) || !std::isfinite(v)) fail(where, "value {} is negative or not finite", v);
}

}  // namespace

void FloodModel::replace_inflow(std::size_t k, double from_s, const TimeSeries& series) {
  if (k >= setup_.inflows.size()) fail("inflow change", "inflow {} of {}", k, setup_.inflows.size());
  auto& inflow = setup_.inflows[k];
  check_forcing("inflow '" + inflow.label + "'", from_s, time_s_, series);
  // In place: the sources point at it.
  inflow.discharge_m3_s = inflow.discharge_m3_s.replaced_from(from_s, series);
}

void FloodModel::replace_rain(double from_s, const TimeSeries& series) {
  check_forcing("rain", from_s, time_s_, series);
  const bool had = setup_.rain_mm_h.has_value();
  setup_.rain_mm_h = (had ? *setup_.rain_mm_h : TimeSeries::constant(0.0)).replaced_from(from_s, series);
  if (!had) set_up_rain();  // the cells it may fall on
}

void FloodModel::replace_zone_rain(std::size_t zone, double from_s, const TimeSeries& series) {
  const std::size_t zones = setup_.rain_zones ? setup_.rain_zones->mm_h.size() : 0;
  if (zone >= zones) fail("rain change", "rain zone {} of {}", zone, zones);
  check_forcing(fmt::format("rain zone {}", zone), from_s, time_s_, series);
  auto& mm_h = setup_.rain_zones->mm_h[zone];
  const bool was_dry = mm_h.empty();
  mm_h = (was_dry ? TimeSeries::constant(0.0) : mm_h).replaced_from(from_s, series);
  if (was_dry) set_up_rain();
}

void FloodModel::set_up_rain() {
  const std::size_t n = grid_.cell_count();
  const std::size_t zones = setup_.rain_zones ? setup_.rain_zones->mm_h.size() : 0;
  const std::size_t none = zones;  // the slot of cells in no zone
  if (setup_.rain_zones) {
    const RainZones& rz = *setup_.rain_zones;
    check_same_grid(rz.zone, grid_, "rain zone raster");
    if (zones >= std::numeric_limits<std::uint16_t>::max())
      fail("rain zones", "{} hyetographs; at most {} zones", zones, std::numeric_limits<std::uint16_t>::max() - 1);
    for (std::size_t k = 0; k < zones; ++k)
      for (double v : rz.mm_h[k].values())
        if (!(v >= 0.0) || !std::isfinite(v))
          fail(fmt::format("rain zone {}", k), "intensity {} mm/h is negative or not finite", v);
    rain_slot_.assign(n, static_cast<std::uint16_t>(none));
    for (std::size_t i = 0; i < n; ++i) {
      if (!inside_[i]) continue;  // outside the domain it does not rain
      const float v = rz.zone.values()[i];
      if (rz.zone.is_nodata(v) || std::isnan(v) || v < 0.0f) continue;
      const twin::MapPoint p = grid_.cell_centre(grid_.from_linear(i));
      if (v != std::floor(v))
        fail("rain zone raster", "value {} at cell ({}, {}) (x {:.2f}, y {:.2f}) is not a whole zone index", v, i % cols_,
             i / cols_, p.x_m, p.y_m);
      if (v >= static_cast<float>(zones) || rz.mm_h[static_cast<std::size_t>(v)].empty())
        fail("rain zone raster", "zone {} at cell ({}, {}) (x {:.2f}, y {:.2f}) has no hyetograph ({} given)", v,
             i % cols_, i / cols_, p.x_m, p.y_m, zones);
      rain_slot_[i] = static_cast<std::uint16_t>(v);
    }
  }
  if (setup_.rain_factor) {
    const twin::Raster& f = *setup_.rain_factor;
    check_same_grid(f, grid_, "rain factor raster");
    rain_factor_.assign(n, 0.0f);
    for (std::size_t i = 0; i < n; ++i) {
      if (!inside_[i]) continue;
      const float v = f.values()[i];
      if (f.is_nodata(v)) {
        rain_factor_[i] = 1.0f;
        continue;
      }
      if (!(v >= 0.0f) || !std::isfinite(v))
        fail("rain factor raster", "factor {} at cell ({}, {}) is negative or not finite", v, i % cols_, i / cols_);
      rain_factor_[i] = v;
    }
  }
  if (!setup_.rain_mm_h && zones == 0) {
    rain_slot_.clear();  // a factor alone scales no rain
    rain_factor_.clear();
    return;
  }

  slot_series_.assign(zones + 1, nullptr);
  for (std::size_t k = 0; k < zones; ++k) slot_series_[k] = &setup_.rain_zones->mm_h[k];
  slot_rain_m_.assign(zones + 1, 0.0);
  slot_max_factor_.assign(zones + 1, 0.0);
  std::size_t rmin = rows_, rmax = 0, cmin = cols_, cmax = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!inside_[i]) continue;
    const std::size_t slot = rain_slot_.empty() ? none : rain_slot_[i];
    const double factor = rain_factor_.empty() ? 1.0 : rain_factor_[i];
    slot_max_factor_[slot] = std::max(slot_max_factor_[slot], factor);
    if (factor > 0.0 && (slot != none || setup_.rain_mm_h)) {
      const std::size_t r = i / cols_, c = i % cols_;
      rmin = std::min(rmin, r), rmax = std::max(rmax, r);
      cmin = std::min(cmin, c), cmax = std::max(cmax, c);
    }
  }
  any_rain_ = rmin <= rmax;
  if (any_rain_) {
    // One cell of margin, as for the wet box: the rain spreads from the cells it falls on.
    rain_r0_ = rmin > 0 ? rmin - 1 : 0;
    rain_c0_ = cmin > 0 ? cmin - 1 : 0;
    rain_r1_ = std::min(rows_, rmax + 2);
    rain_c1_ = std::min(cols_, cmax + 2);
  }
}

double FloodModel::max_rain_m(double t0_s, double t1_s) const {
  const double uniform_m = setup_.rain_mm_h ? setup_.rain_mm_h->integral(t0_s, t1_s) / kMmHourSecondsPerMetre : 0.0;
  double most_m = 0.0;
  for (std::size_t k = 0; k < slot_series_.size(); ++k) {
    const double zone_m = slot_series_[k] ? slot_series_[k]->integral(t0_s, t1_s) / kMmHourSecondsPerMetre : 0.0;
    most_m = std::max(most_m, (uniform_m + zone_m) * slot_max_factor_[k]);
  }
  return most_m;
}

double FloodModel::add_rain(double t0_s, double t1_s) {
  const double uniform_m = setup_.rain_mm_h ? setup_.rain_mm_h->integral(t0_s, t1_s) / kMmHourSecondsPerMetre : 0.0;
  bool any = false;
  for (std::size_t k = 0; k < slot_series_.size(); ++k) {
    const double zone_m = slot_series_[k] ? slot_series_[k]->integral(t0_s, t1_s) / kMmHourSecondsPerMetre : 0.0;
    slot_rain_m_[k] = uniform_m + zone_m;
    any = any || (slot_rain_m_[k] > 0.0 && slot_max_factor_[k] > 0.0);
  }
  if (!any) return 0.0;
  const RainCells rc{inside_.data(), rain_slot_.data(), rain_factor_.data(), slot_rain_m_.data(), cols_,
                     rain_r0_,       rain_r1_,          rain_c0_,           rain_c1_};
  const bool zones = !rain_slot_.empty(), factor = !rain_factor_.empty();
  if (zones && factor) return rain_into<true, true>(h_.data(), rc);
  if (zones) return rain_into<true, false>(h_.data(), rc);
  if (factor) return rain_into<false, true>(h_.data(), rc);
  return rain_into<false, false>(h_.data(), rc);
}

double FloodModel::velocity_east_m_s(std::size_t cell) const { return velocity(qx_[cell], h_[cell]); }
double FloodModel::velocity_north_m_s(std::size_t cell) const { return -velocity(qy_[cell], h_[cell]); }
double FloodModel::speed_m_s(std::size_t cell) const {
  return std::hypot(velocity(qx_[cell], h_[cell]), velocity(qy_[cell], h_[cell]));
}

void FloodModel::update_wet_box() {
  std::size_t rmin = rows_, rmax = 0, cmin = cols_, cmax = 0;
  for (std::size_t r = 0; r < rows_; ++r)
    for (std::size_t c = 0; c < cols_; ++c)
      if (h_[r * cols_ + c] > 0.0) {
        rmin = std::min(rmin, r);
        rmax = std::max(rmax, r);
        cmin = std::min(cmin, c);
        cmax = std::max(cmax, c);
      }
  any_water_ = rmin <= rmax;
  if (any_water_) {
    r0_ = rmin > 0 ? rmin - 1 : 0;
    c0_ = cmin > 0 ? cmin - 1 : 0;
    r1_ = std::min(rows_, rmax + 2);
    c1_ = std::min(cols_, cmax + 2);
  } else {
    r0_ = r1_ = c0_ = c1_ = 0;
  }
}

void FloodModel::set_wet_box(long long rmin, long long rmax, long long cmin, long long cmax) {
  // One cell of margin: under the CFL limit water moves at most one cell per step.
  any_water_ = rmax >= 0;
  if (any_water_) {
    r0_ = static_cast<std::size_t>(std::max(0LL, rmin - 1));
    c0_ = static_cast<std::size_t>(std::max(0LL, cmin - 1));
    r1_ = std::min(rows_, static_cast<std::size_t>(rmax) + 2);
    c1_ = std::min(cols_, static_cast<std::size_t>(cmax) + 2);
  } else {
    r0_ = r1_ = c0_ = c1_ = 0;
  }
}

void FloodModel::step_inertial(double dt_s) {
  // Bates et al. (2010) with the semi-implicit friction of their eq. 10: each
  // face discharge is driven by the water-surface slope across it, through
  // the depth between the higher bed and the higher surface.
  const std::size_t cols = cols_;
  const std::size_t r0 = r0_, r1 = r1_, c0 = c0_, c1 = c1_;
  const long long rr0 = static_cast<long long>(r0), rr1 = static_cast<long long>(r1);
  const int threads = setup_.threads;
  const bool parallel = threads != 1 && (r1 - r0) * (c1 - c0) >= kMinCellsPerTeam;
    constexpr double kFlowDepth_m = 1e-3;
  auto face_q = [&](double q, std::size_t a, std::size_t b, double d) {
    const double eta_a = z_[a] + h_[a], eta_b = z_[b] + h_[b];
    const double hf = std::max(eta_a, eta_b) - std::max(z_[a], z_[b]);
    if (hf <= kFlowDepth_m) return 0.0;
    const double n2 = 0.5 * (n2_[a] + n2_[b]);
    return (q - g * hf * dt_s * (eta_b - eta_a) / d) / (1.0 + g * dt_s * n2 * std::abs(q) / (hf * hf * std::cbrt(hf)));
  };
  // Free outflow at an open edge: critical depth, water leaving only.
  auto edge_q = [&](std::size_t i) { return h_[i] > kFlowDepth_m ? h_[i] * std::sqrt(g * h_[i]) : 0.0; };

#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads()) if (parallel)
  {
#pragma omp for schedule(static)
    for (long long rr = rr0; rr < rr1; ++rr) {
      const std::size_t r = static_cast<std::size_t>(rr);
      for (std::size_t c = c0; c <= c1; ++c) {
        const std::size_t f = r * (cols + 1) + c;
        const bool has_l = c > 0 && inside_[r * cols + c - 1];
        const bool has_r = c < cols && inside_[r * cols + c];
        if (has_l && has_r)
          li_qx_[f] = face_q(li_qx_[f], r * cols + c - 1, r * cols + c, dx_);
        else if (open_east_ && has_l && c == cols)
          li_qx_[f] = edge_q(r * cols + c - 1);
        else if (open_west_ && has_r && c == 0)
          li_qx_[f] = -edge_q(r * cols + c);
        else
          li_qx_[f] = 0.0;
      }
    }
#pragma omp for schedule(static)
    for (long long rr = rr0; rr <= rr1; ++rr) {
      const std::size_t r = static_cast<std::size_t>(rr);
      if (r > rows_) continue;
      for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t f = r * cols + c;
        const bool has_u = r > 0 && inside_[(r - 1) * cols + c];
        const bool has_d = r < rows_ && inside_[r * cols + c];
        if (has_u && has_d)
          li_qy_[f] = face_q(li_qy_[f], (r - 1) * cols + c, r * cols + c, dy_);
        else if (open_south_ && has_u && r == rows_)
          li_qy_[f] = edge_q((r - 1) * cols + c);
        else if (open_north_ && has_d && r == 0)
          li_qy_[f] = -edge_q(r * cols + c);
        else
          li_qy_[f] = 0.0;
      }
    }
    // No cell may lose more than it holds: scale its outgoing faces (a face
    // leaves exactly one cell, so the scaling keeps mass exact).
#pragma omp for schedule(static)
    for (long long rr = rr0; rr < rr1; ++rr) {
      const std::size_t r = static_cast<std::size_t>(rr);
      for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t i = r * cols + c;
        const std::size_t fw = r * (cols + 1) + c, fe = fw + 1, fn = r * cols + c, fs = fn + cols;
        const double out_m3 = dt_s * (dy_ * (std::max(0.0, li_qx_[fe]) + std::max(0.0, -li_qx_[fw])) +
                                      dx_ * (std::max(0.0, li_qy_[fs]) + std::max(0.0, -li_qy_[fn])));
        const double held_m3 = h_[i] * cell_area_m2_;
        li_out_factor_[i] = out_m3 > held_m3 ? held_m3 / out_m3 : 1.0;
      }
    }
#pragma omp for schedule(static)
    for (long long rr = rr0; rr < rr1; ++rr) {
      const std::size_t r = static_cast<std::size_t>(rr);
      for (std::size_t c = c0; c <= c1; ++c) {
        double& q = li_qx_[r * (cols + 1) + c];
        if (q > 0.0 && c > 0) q *= li_out_factor_[r * cols + c - 1];
        if (q < 0.0 && c < cols) q *= li_out_factor_[r * cols + c];
      }
    }
#pragma omp for schedule(static)
    for (long long rr = rr0; rr <= rr1; ++rr) {
      const std::size_t r = static_cast<std::size_t>(rr);
      if (r > rows_) continue;
      for (std::size_t c = c0; c < c1; ++c) {
        double& q = li_qy_[r * cols + c];
        if (q > 0.0 && r > 0) q *= li_out_factor_[(r - 1) * cols + c];
        if (q < 0.0 && r < rows_) q *= li_out_factor_[r * cols + c];
      }
    }
  }

  // Open-edge outflow volumes.
  if (open_west_ || open_east_ || open_north_ || open_south_) {
    double out_m3 = 0.0;
    for (std::size_t r = r0; r < r1; ++r) {
      out_m3 += dt_s * dy_ * (li_qx_[r * (cols + 1) + cols] - li_qx_[r * (cols + 1)]);
    }
    for (std::size_t c = c0; c < c1; ++c) out_m3 += dt_s * dx_ * (li_qy_[rows_ * cols + c] - li_qy_[c]);
    outflow_m3_ += out_m3;
  }

  const double t1 = time_s_ + dt_s;
  double h_max = 0.0;
  long long rmin = static_cast<long long>(rows_), rmax = -1, cmin = static_cast<long long>(cols_), cmax = -1;
  const float arrival_time = static_cast<float>(t1);
  const float arrival_depth = static_cast<float>(setup_.arrival_depth_m);
  const double dtdx = dt_s / dx_, dtdy = dt_s / dy_;
#pragma omp parallel for num_threads(threads > 0 ? threads : omp_get_max_threads()) if (parallel) \
    schedule(static) reduction(max : h_max, rmax, cmax) reduction(min : rmin, cmin)
  for (long long rr = rr0; rr < rr1; ++rr) {
    const std::size_t r = static_cast<std::size_t>(rr);
    for (std::size_t c = c0; c < c1; ++c) {
      const std::size_t i = r * cols + c;
      if (!inside_[i]) continue;
      const std::size_t fw = r * (cols + 1) + c, fe = fw + 1, fn = r * cols + c, fs = fn + cols;
      double h = h_[i] + dtdx * (li_qx_[fw] - li_qx_[fe]) + dtdy * (li_qy_[fn] - li_qy_[fs]);
      if (h < 0.0) h = 0.0;  // roundoff of the limiter: -1e-17 m
      h_[i] = h;
      qx_[i] = 0.5 * (li_qx_[fw] + li_qx_[fe]);
      qy_[i] = 0.5 * (li_qy_[fn] + li_qy_[fs]);
      if (h > 0.0) {
        rmin = std::min(rmin, rr);
        rmax = std::max(rmax, rr);
        cmin = std::min(cmin, static_cast<long long>(c));
        cmax = std::max(cmax, static_cast<long long>(c));
        h_max = std::max(h_max, h);
        const double u = velocity(qx_[i], h), v = velocity(qy_[i], h);
        note_envelopes(i, h, u, v, arrival_time, arrival_depth);
      }
    }
  }
  cell_updates_ += static_cast<std::uint64_t>((r1 - r0) * (c1 - c0));
  ++steps_;
  time_s_ = t1;
  set_wet_box(rmin, rmax, cmin, cmax);
  next_dt_s_ = h_max > 0.0 ? setup_.inertial_alpha * std::min(dx_, dy_) / std::sqrt(g * h_max)
                           : std::numeric_limits<double>::infinity();
}

double FloodModel::cell_rate(std::size_t i, double extra_depth_m) const {
  const double h = h_[i] + extra_depth_m;
  if (h <= 0.0) return 0.0;
  const double a = std::sqrt(g * h);
  if (setup_.scheme == Scheme::local_inertial) return a / (setup_.inertial_alpha * std::min(dx_, dy_));
  // The sum of the two directional Courant numbers stays below 2 cfl.
  return ((std::abs(velocity(qx_[i], h)) + a) / dx_ + (std::abs(velocity(qy_[i], h)) + a) / dy_) / (2.0 * setup_.cfl);
}

double FloodModel::depth_rate(double depth_m) const {
  if (depth_m <= 0.0) return 0.0;
  const double a = std::sqrt(g * depth_m);
  if (setup_.scheme == Scheme::local_inertial) return a / (setup_.inertial_alpha * std::min(dx_, dy_));
  return a * (1.0 / dx_ + 1.0 / dy_) / (2.0 * setup_.cfl);
}

void FloodModel::grow_wet_box(std::size_t lo_r, std::size_t hi_r, std::size_t lo_c, std::size_t hi_c) {
  if (!any_water_) {
    r0_ = lo_r, r1_ = hi_r, c0_ = lo_c, c1_ = hi_c;
    any_water_ = true;
  } else {
    r0_ = std::min(r0_, lo_r), r1_ = std::max(r1_, hi_r);
    c0_ = std::min(c0_, lo_c), c1_ = std::max(c1_, hi_c);
  }
}

double FloodModel::stable_dt_s() const {
  double rate = 0.0;
  for (std::size_t r = r0_; r < r1_; ++r)
    for (std::size_t c = c0_; c < c1_; ++c) rate = std::max(rate, cell_rate(r * cols_ + c, 0.0));
  return rate > 0.0 ? 1.0 / rate : std::numeric_limits<double>::infinity();
}

void FloodModel::advance_to(double t_s) {
  while (time_s_ < t_s) {
    const double remaining = t_s - time_s_;
    double dt = std::min(std::isfinite(next_dt_s_) ? next_dt_s_ : kIdleStep_s, remaining);
    // Sources deepen cells during the step and so speed up waves: shorten
    // the step until the stability limit holds for the deepened state too.
    // Rain adds at most its largest cell depth anywhere (bounded with
    // sqrt(a+b) <= sqrt(a)+sqrt(b)); a point source deepens one cell, whose
    // own limit is computed exactly.
    const double rate_now = std::isfinite(next_dt_s_) ? 1.0 / next_dt_s_ : 0.0;
    for (int halving = 0; halving < 60; ++halving) {
      double rate = rate_now;
      if (any_rain_) rate += depth_rate(max_rain_m(time_s_, time_s_ + dt));
      for (const auto& s : sources_) {
        const double added_m = s.discharge->integral(time_s_, time_s_ + dt) / cell_area_m2_;
        if (added_m > 0.0) rate = std::max(rate, cell_rate(s.cell, added_m));
      }
      if (dt * rate <= 1.0) break;
      dt *= 0.5;
    }
    if (dt < kMinStep_s && dt < remaining) {
      if (++tiny_steps_in_a_row_ >= kMaxTinySteps) return;
    } else {
      tiny_steps_in_a_row_ = 0;
    }
    step(dt);
  }
}

std::size_t FloodModel::fastest_cell() const {
  std::size_t best = 0;
  double best_rate = -1.0;
  for (std::size_t i = 0; i < h_.size(); ++i) {
    if (!inside_[i]) continue;
    const double rate = cell_rate(i, 0.0);
    if (rate > best_rate) best = i, best_rate = rate;
  }
  return best;
}

std::optional<std::size_t> FloodModel::first_non_finite_cell() const {
  // Every cell, not the wet box: a NaN depth compares as dry and may have shrunk it.
  for (std::size_t i = 0; i < h_.size(); ++i)
    if (inside_[i] && (!std::isfinite(h_[i]) || !std::isfinite(qx_[i]) || !std::isfinite(qy_[i]))) return i;
  return std::nullopt;
}

void FloodModel::step(double dt_s) {
  const double t0 = time_s_;
  const double t1 = time_s_ + dt_s;

  // Sources for this step, as exact volumes over [t0, t1], and the wet box
  // grown to the cells they feed (and their neighbours) rather than rescanned.
  if (any_rain_) {
    const double rain_m = add_rain(t0, t1);
    if (rain_m > 0.0) {
      rain_m3_ += rain_m * cell_area_m2_;
      grow_wet_box(rain_r0_, rain_r1_, rain_c0_, rain_c1_);
    }
  }
  for (const auto& s : sources_) {
    const double volume_m3 = s.discharge->integral(t0, t1);
    if (volume_m3 > 0.0) {
      h_[s.cell] += volume_m3 / cell_area_m2_;
      inflow_m3_ += volume_m3;
      const std::size_t r = s.cell / cols_, c = s.cell % cols_;
      grow_wet_box(r > 0 ? r - 1 : 0, std::min(rows_, r + 2), c > 0 ? c - 1 : 0, std::min(cols_, c + 2));
    }
  }
  if (!any_water_) {
    time_s_ = t1;
    ++steps_;
    next_dt_s_ = std::numeric_limits<double>::infinity();
    return;
  }
  if (setup_.scheme == Scheme::local_inertial) {
    step_inertial(dt_s);
    return;
  }

  const std::size_t cols = cols_;
  const double dtdx = dt_s / dx_, dtdy = dt_s / dy_;
  const std::size_t r0 = r0_, r1 = r1_, c0 = c0_, c1 = c1_;
    const long long rr0 = static_cast<long long>(r0), rr1 = static_cast<long long>(r1);
  const int threads = setup_.threads;
  // A team of threads costs more than it saves on a small wet box, and an
  // oversubscribed core makes its barriers crawl.
  const bool parallel = threads != 1 && (r1 - r0) * (c1 - c0) >= kMinCellsPerTeam;
  double outflow_m3 = 0.0;
  double rate = 0.0;
  long long rmin = static_cast<long long>(rows_), rmax = -1, cmin = static_cast<long long>(cols_), cmax = -1;
  const float arrival_time = static_cast<float>(t1);
  const float arrival_depth = static_cast<float>(setup_.arrival_depth_m);

  // One parallel region per step: x faces (no wait), y faces, then the cells.
  // Two barriers per step, since each costs a scheduler round when a core is shared.
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads()) if (parallel)
  {
    // x faces: face c lies between cells c-1 and c of a row.
#pragma omp for schedule(static) reduction(+ : outflow_m3) nowait
    for (long long rr = rr0; rr < rr1; ++rr) {
      const std::size_t r = static_cast<std::size_t>(rr);
      for (std::size_t c = c0; c <= c1; ++c) {
        const std::size_t f = r * (cols + 1) + c;
        const bool has_l = c > 0 && inside_[r * cols + c - 1];
        const bool has_r = c < cols && inside_[r * cols + c];
        FaceFlux ff;
        if (has_l && has_r) {
          const std::size_t l = r * cols + c - 1, q = l + 1;
          ff = hll_face(h_[l], velocity(qx_[l], h_[l]), velocity(qy_[l], h_[l]), z_[l], h_[q],
                        velocity(qx_[q], h_[q]), velocity(qy_[q], h_[q]), z_[q]);
        } else if (has_l) {  // a wall of the domain, or its open eastern edge
          const std::size_t l = r * cols + c - 1;
          ff = edge_face(h_[l], velocity(qx_[l], h_[l]), velocity(qy_[l], h_[l]), open_east_ && c == cols, +1.0);
          outflow_m3 += ff.mass * dy_ * dt_s;
        } else if (has_r) {  // a wall, or the open western edge
          const std::size_t q = r * cols + c;
          ff = edge_face(h_[q], velocity(qx_[q], h_[q]), velocity(qy_[q], h_[q]), open_west_ && c == 0, -1.0);
          outflow_m3 -= ff.mass * dy_ * dt_s;
        }
        fx_mass_[f] = ff.mass;
        fx_mom_left_[f] = ff.mom_left;
        fx_mom_right_[f] = ff.mom_right;
        fx_trans_[f] = ff.trans;
      }
    }
    // y faces: face r lies between rows r-1 (north, "left") and r (south); normal is +row.
#pragma omp for schedule(static) reduction(+ : outflow_m3)
    for (long long rr = rr0; rr <= rr1; ++rr) {
      const std::size_t r = static_cast<std::size_t>(rr);
      if (r > rows_) continue;
      for (std::size_t c = c0; c < c1; ++c) {
        const std::size_t f = r * cols + c;
        const bool has_u = r > 0 && inside_[(r - 1) * cols + c];
        const bool has_d = r < rows_ && inside_[r * cols + c];
        FaceFlux ff;
        if (has_u && has_d) {
          const std::size_t u = (r - 1) * cols + c, d = r * cols + c;
          ff = hll_face(h_[u], velocity(qy_[u], h_[u]), velocity(qx_[u], h_[u]), z_[u], h_[d],
                        velocity(qy_[d], h_[d]), velocity(qx_[d], h_[d]), z_[d]);
        } else if (has_u) {  // a wall, or the open southern edge
          const std::size_t u = (r - 1) * cols + c;
          ff = edge_face(h_[u], velocity(qy_[u], h_[u]), velocity(qx_[u], h_[u]), open_south_ && r == rows_, +1.0);
          outflow_m3 += ff.mass * dx_ * dt_s;
        } else if (has_d) {  // a wall, or the open northern edge
          const std::size_t d = r * cols + c;
          ff = edge_face(h_[d], velocity(qy_[d], h_[d]), velocity(qx_[d], h_[d]), open_north_ && r == 0, -1.0);
          outflow_m3 -= ff.mass * dx_ * dt_s;
        }
        fy_mass_[f] = ff.mass;
        fy_mom_up_[f] = ff.mom_left;
        fy_mom_down_[f] = ff.mom_right;
        fy_trans_[f] = ff.trans;
      }
    }
    // (the y-face loop's barrier also waits for the x faces)

    // Cell update, friction, envelopes, next time step and wet box in one pass.
#pragma omp for schedule(static) reduction(max : rate, rmax, cmax) reduction(min : rmin, cmin)
  for (long long rr = rr0; rr < rr1; ++rr) {
    const std::size_t r = static_cast<std::size_t>(rr);
    for (std::size_t c = c0; c < c1; ++c) {
      const std::size_t i = r * cols + c;
      if (!inside_[i]) continue;
      const std::size_t fw = r * (cols + 1) + c, fe = fw + 1;
      const std::size_t fn = r * cols + c, fs = fn + cols;
      double h = h_[i] - dtdx * (fx_mass_[fe] - fx_mass_[fw]) - dtdy * (fy_mass_[fs] - fy_mass_[fn]);
      double qx = qx_[i] - dtdx * (fx_mom_left_[fe] - fx_mom_right_[fw]) - dtdy * (fy_trans_[fs] - fy_trans_[fn]);
      double qy = qy_[i] - dtdx * (fx_trans_[fe] - fx_trans_[fw]) - dtdy * (fy_mom_up_[fs] - fy_mom_down_[fn]);
      if (h < kDryDepth_m) {
        // Roundoff can leave -1e-17 m; there is no momentum to keep in a film this thin.
        if (h < 0.0) h = 0.0;
        qx = qy = 0.0;
      } else if (n2_[i] > 0.0) {
        // h^(7/3) as h^2 cbrt(h): pow() was a tenth of the step.
        const double q = std::sqrt(qx * qx + qy * qy);
        const double factor = 1.0 + dt_s * g * n2_[i] * q / (h * h * std::cbrt(h));
        qx /= factor;
        qy /= factor;
      }
      h_[i] = h;
      qx_[i] = qx;
      qy_[i] = qy;
      if (h > 0.0) {
        rmin = std::min(rmin, rr);
        rmax = std::max(rmax, rr);
        cmin = std::min(cmin, static_cast<long long>(c));
        cmax = std::max(cmax, static_cast<long long>(c));
        const double u = velocity(qx, h), v = velocity(qy, h);
        const double a = std::sqrt(g * h);
        rate = std::max(rate, (std::abs(u) + a) / dx_ + (std::abs(v) + a) / dy_);
        note_envelopes(i, h, u, v, arrival_time, arrival_depth);
      }
    }
  }
  }
  outflow_m3_ += outflow_m3;
  cell_updates_ += static_cast<std::uint64_t>((r1 - r0) * (c1 - c0));
  ++steps_;
  time_s_ = t1;

  set_wet_box(rmin, rmax, cmin, cmax);
  // The sum of the two directional CFL numbers stays below 2 * cfl.
  next_dt_s_ = rate > 0.0 ? setup_.cfl * 2.0 / rate : std::numeric_limits<double>::infinity();
}

double FloodModel::bytes_per_cell_update() const {
  constexpr double kCell = 4 * sizeof(double) + sizeof(std::uint8_t);  // h, qx, qy, z, inside
  constexpr double kFace = 4 * sizeof(double);                         // one face's fluxes or discharge
  constexpr double kEnvelopes = 4 * sizeof(float);
  if (setup_.scheme == Scheme::local_inertial) {
    // Two face passes (cells with n2 read, one face array read and written),
    // the outflow limiter (depth and both face arrays read, the factor
    // written), two scaling passes, then the cells.
    const double face_pass = kCell - 2 * sizeof(double) + sizeof(double) + 2 * sizeof(double);
    const double limiter = 3 * sizeof(double) + sizeof(double);
    const double scaling = 2 * (3 * sizeof(double));
    const double cells = sizeof(std::uint8_t) + 3 * sizeof(double) + 3 * sizeof(double) + 2 * kEnvelopes;
    return 2 * face_pass + limiter + scaling + cells;
  }
  // x faces, then y faces (each reads the cells and writes its fluxes), then
  // the cells (both flux arrays, depth, discharges and Manning read; depth,
  // discharges and envelopes written).
  const double face_pass = kCell + kFace;
  const double cells = 2 * kFace + sizeof(std::uint8_t) + 4 * sizeof(double) + 3 * sizeof(double) + 2 * kEnvelopes;
  return 2 * face_pass + cells;
}

std::size_t FloodModel::wet_cells(double threshold_m) const {
  std::size_t n = 0;
  for (double h : h_) n += h > threshold_m ? 1 : 0;
  return n;
}

FloodState FloodModel::capture() const {
  FloodState s;
  s.time_s = time_s_;
  s.depth_m = h_;
  s.discharge_east_m2_s = qx_;
  s.discharge_north_m2_s.resize(qy_.size());
  for (std::size_t i = 0; i < qy_.size(); ++i) s.discharge_north_m2_s[i] = -qy_[i];
  return s;
}

void FloodModel::restore(const FloodState& state) {
  const std::size_t n = h_.size();
  if (state.depth_m.size() != n || state.discharge_east_m2_s.size() != n || state.discharge_north_m2_s.size() != n)
    fail("flood state", "holds {} cells; the grid has {}", state.depth_m.size(), n);
  if (!std::isfinite(state.time_s)) fail("flood state", "time is not finite");
  for (std::size_t i = 0; i < n; ++i) {
    const double h = state.depth_m[i];
    if (!(h >= 0.0) || !std::isfinite(h))
      fail("flood state", "depth {} m at cell ({}, {}) is negative or not finite", h, i % cols_, i / cols_);
    if (!std::isfinite(state.discharge_east_m2_s[i]) || !std::isfinite(state.discharge_north_m2_s[i]))
      fail("flood state", "discharge at cell ({}, {}) is not finite", i % cols_, i / cols_);
  }
  double stored = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool wet = inside_[i] && state.depth_m[i] > 0.0;
    h_[i] = wet ? state.depth_m[i] : 0.0;
    qx_[i] = wet ? state.discharge_east_m2_s[i] : 0.0;
    qy_[i] = wet ? -state.discharge_north_m2_s[i] : 0.0;
    stored += h_[i];
    if (h_[i] > max_h_[i]) max_h_[i] = static_cast<float>(h_[i]);
  }
  if (setup_.scheme == Scheme::local_inertial) {
    // Faces start from the mean of the two cells they join.
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t c = 0; c <= cols_; ++c)
        li_qx_[r * (cols_ + 1) + c] =
            (c > 0 && c < cols_) ? 0.5 * (qx_[r * cols_ + c - 1] + qx_[r * cols_ + c]) : 0.0;
    for (std::size_t r = 0; r <= rows_; ++r)
      for (std::size_t c = 0; c < cols_; ++c)
        li_qy_[r * cols_ + c] = (r > 0 && r < rows_) ? 0.5 * (qy_[(r - 1) * cols_ + c] + qy_[r * cols_ + c]) : 0.0;
  }
  time_s_ = state.time_s;
  tiny_steps_in_a_row_ = 0;
  initial_m3_ = stored * cell_area_m2_;
  rain_m3_ = inflow_m3_ = outflow_m3_ = nudged_in_m3_ = nudged_out_m3_ = 0.0;
  update_wet_box();
  next_dt_s_ = stable_dt_s();
}

MassBalance FloodModel::mass_balance() const {
  MassBalance m;
  m.initial_m3 = initial_m3_;
  m.rain_m3 = rain_m3_;
  m.inflow_m3 = inflow_m3_;
  m.outflow_m3 = outflow_m3_;
  m.nudged_in_m3 = nudged_in_m3_;
  m.nudged_out_m3 = nudged_out_m3_;
  double stored = 0.0;
  for (double h : h_) stored += h;
  m.stored_m3 = stored * cell_area_m2_;
  return m;
}

namespace {
twin::Raster envelope(const twin::GridSpec& grid, const twin::Crs& crs, const std::vector<std::uint8_t>& inside,
                      const auto& value) {
  twin::Raster r(grid, crs, FloodModel::kNodata, FloodModel::kNodata);
  for (std::size_t i = 0; i < inside.size(); ++i)
    if (inside[i]) r.values()[i] = value(i);
  return r;
}
}  // namespace

// Each raster says what it holds and when: GeoTIFFs written from it carry
// the description, the unit and the times as band metadata.
twin::Raster FloodModel::depth_raster() const {
  twin::Raster r = envelope(grid_, crs_, inside_, [&](std::size_t i) { return static_cast<float>(h_[i]); });
  r.set_band({fmt::format("water depth at {:g} s after the start of the run", time_s_), "m",
              {{"TIME_S", fmt::format("{:g}", time_s_)}}});
  return r;
}
twin::Raster FloodModel::max_depth_raster() const {
  twin::Raster r = envelope(grid_, crs_, inside_, [&](std::size_t i) { return max_h_[i]; });
  r.set_band({fmt::format("maximum water depth from the start of the run to {:g} s", time_s_), "m",
              {{"UNTIL_S", fmt::format("{:g}", time_s_)}}});
  return r;
}
twin::Raster FloodModel::max_speed_raster() const {
  twin::Raster r = envelope(grid_, crs_, inside_, [&](std::size_t i) { return max_speed_[i]; });
  r.set_band({fmt::format("maximum flow speed from the start of the run to {:g} s", time_s_), "m/s",
              {{"UNTIL_S", fmt::format("{:g}", time_s_)}}});
  return r;
}
twin::Raster FloodModel::max_hazard_raster() const {
  twin::Raster r = envelope(grid_, crs_, inside_, [&](std::size_t i) { return max_hazard_[i]; });
  r.set_band({fmt::format("maximum flood hazard rating (FD2320: depth x (speed + 0.5)) from the start of the run to {:g} s",
                          time_s_),
              "m2/s", {{"UNTIL_S", fmt::format("{:g}", time_s_)}}});
  return r;
}
twin::Raster FloodModel::arrival_time_raster() const {
  twin::Raster r = envelope(grid_, crs_, inside_,
                            [&](std::size_t i) { return arrival_s_[i] < 0.0f ? FloodModel::kNodata : arrival_s_[i]; });
  r.set_band({fmt::format("arrival time: when the water first reached {:g} m deep, in seconds after the start of the "
                          "run (nodata: not reached by {:g} s)",
                          setup_.arrival_depth_m, time_s_),
              "s",
              {{"ARRIVAL_DEPTH_M", fmt::format("{:g}", setup_.arrival_depth_m)}, {"UNTIL_S", fmt::format("{:g}", time_s_)}}});
  return r;
}

double FloodModel::max_depth_m() const {
  float m = 0.0f;
  for (float v : max_h_) m = std::max(m, v);
  return m;
}

}  // namespace cadereau::sim::flood
