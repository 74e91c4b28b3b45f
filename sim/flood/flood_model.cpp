#include "cadereau/sim/flood/flood_model.h"

#include "cadereau/twin/error.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include <immintrin.h>

#ifdef _OPENMP
#include <omp.h>
#else
inline int omp_get_max_threads() { return 1; }
inline int omp_get_num_threads() { return 1; }
inline int omp_get_thread_num() { return 0; }
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

// Rows handed to the finite-volume kernels (fv_row_kernels.h).
struct FaceSide {  // the cells on one side of a run of faces, from its first face
  const double* h;
  const double* un;  // velocity normal to the faces
  const double* ut;  // and along them
  const float* z;
};
struct FaceRow {  // fluxes through a run of faces
  double* mass;   // m2/s
  double* mom_l;  // normal momentum flux seen from the left (west, north) cell
  double* mom_r;  // ... seen from the right (east, south) cell
  double* trans;  // transverse momentum flux
};
struct CellRow {  // a row of cells (indexed by column) and the faces around them
  double* h;
  double* qx;
  double* qy;
  const double* n2;
  const std::uint8_t* inside;
  FaceRow xf;     // face c is the western face of cell c
  FaceRow north;  // indexed by column
  FaceRow south;
  float* max_h;
  float* max_speed;
  float* max_hazard;
  float* arrival_s;
  double dtdx, dtdy, dtg, inv_dx, inv_dy;
  float time_s, arrival_depth;
};

}  // namespace

// The kernels for any x86-64 processor, one cell at a time.
namespace fv_portable {
namespace {
#include "fv_row_kernels.h"
using Wide = Scalar;
}  // namespace
}  // namespace fv_portable

// The same kernels eight cells at a time, for processors with AVX-512 (the
// step checks before calling them). Contracting a * b + c into one fused
// operation would change the last bit against the one-cell kernels, so it is off.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,avx,fma,bmi,bmi2,popcnt,f16c")
#pragma GCC optimize("fp-contract=off")
namespace fv_avx512 {
namespace {
#include "fv_row_kernels.h"
typedef double D8 __attribute__((vector_size(64)));
typedef float F8 __attribute__((vector_size(32)));
typedef long M8 __attribute__((vector_size(64)));  // what comparisons of D8 give
typedef int MF8 __attribute__((vector_size(32)));
typedef unsigned char B8 __attribute__((vector_size(8)));
typedef unsigned long UL8 __attribute__((vector_size(64)));
typedef unsigned U8 __attribute__((vector_size(32)));
struct Pack8 {
  using D = D8;
  using F = F8;
  using M = M8;
  static constexpr std::size_t kLanes = 8;
  static D load(const double* p) {
    D v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static D load(const float* p) { return __builtin_convertvector(load_f(p), D8); }
  static F load_f(const float* p) {
    F v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(double* p, D v) { std::memcpy(p, &v, sizeof v); }
  static void store_f(float* p, F v) { std::memcpy(p, &v, sizeof v); }
  static M inside(const std::uint8_t* p) {
    B8 b;
    std::memcpy(&b, p, sizeof b);
    return __builtin_convertvector(b, M8) != 0;
  }
  static D splat(double v) { return D{v, v, v, v, v, v, v, v}; }
  static F splat_f(float v) { return F{v, v, v, v, v, v, v, v}; }
  static D sel(M m, D a, D b) { return m ? a : b; }
  static F sel_f(MF8 m, F a, F b) { return m ? a : b; }
  static M lnot(M m) { return ~m; }
  static D sqrt(D v) { return _mm512_mask_sqrt_pd(v, 0xff, v); }
  static D inverse_cbrt_seed(D v) {
    const U8 hi = __builtin_convertvector((UL8)v >> 32, U8);
    return (D)(__builtin_convertvector(kInverseCbrtSeed - hi / 3u, UL8) << 32);
  }
  static D abs(D v) { return (D)((M8)v & 0x7fffffffffffffffL); }
  static F to_f(D v) { return __builtin_convertvector(v, F8); }
  static MF8 f_mask(M m) { return __builtin_convertvector(m, MF8); }
  static double max_of(D v) {
    double r = v[0];
    for (int k = 1; k < 8; ++k) r = r < v[k] ? v[k] : r;
    return r;
  }
};
using Wide = Pack8;
// Instantiated here, under this region's target options.
template void velocity_row<Wide>(const double*, const double*, const double*, double*, double*, std::size_t, std::size_t);
template void face_row<Wide>(const FaceSide&, const FaceSide&, const FaceRow&, std::size_t);
template double cell_row<Wide>(const CellRow&, std::size_t, std::size_t);
}  // namespace
}  // namespace fv_avx512
#pragma GCC pop_options

namespace {

// The smallest range holding both (an empty one holds nothing).
std::pair<std::size_t, std::size_t> hull(std::pair<std::size_t, std::size_t> a, std::pair<std::size_t, std::size_t> b) {
  if (a.first >= a.second) return b;
  if (b.first >= b.second) return a;
  return {std::min(a.first, b.first), std::max(a.second, b.second)};
}

// Layout of a thread's scratch: two velocity rows (east, south) of `cols`,
// four face arrays of `cols + 1` across the row, and two rows of four face
// arrays of `cols` across rows.
struct Scratch {
  double* ux[2];
  double* vy[2];
  FaceRow xf;
  FaceRow y[2];
};
std::size_t scratch_doubles(std::size_t cols) { return 4 * cols + 4 * (cols + 1) + 8 * cols; }
Scratch scratch_at(double* base, std::size_t cols) {
  Scratch s;
  for (int k = 0; k < 2; ++k) {
    s.ux[k] = base, base += cols;
    s.vy[k] = base, base += cols;
  }
  s.xf = {base, base + (cols + 1), base + 2 * (cols + 1), base + 3 * (cols + 1)};
  base += 4 * (cols + 1);
  for (int k = 0; k < 2; ++k) {
    s.y[k] = {base, base + cols, base + 2 * cols, base + 3 * cols};
    base += 4 * cols;
  }
  return s;
}
// Four face arrays of `stride` doubles each, one after the other.
FaceRow face_row_at(double* base, std::size_t stride) {
  return {base, base + stride, base + 2 * stride, base + 3 * stride};
}
void clear_faces(const FaceRow& f, std::size_t lo, std::size_t hi) {
  for (double* a : {f.mass, f.mom_l, f.mom_r, f.trans}) std::fill(a + lo, a + hi, 0.0);
}
void set_face(const FaceRow& f, std::size_t k, const FaceFlux& ff) {
  f.mass[k] = ff.mass, f.mom_l[k] = ff.mom_left, f.mom_r[k] = ff.mom_right, f.trans[k] = ff.trans;
}

bool processor_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
}

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

const char* scheme_id(Scheme scheme) {
  switch (scheme) {
    case Scheme::finite_volume: return "finite_volume";
    case Scheme::finite_volume_2: return "finite_volume_2";
    case Scheme::local_inertial: return "local_inertial";
  }
  return "finite_volume";
}

std::optional<Scheme> scheme_from_id(std::string_view id) {
  for (Scheme s : {Scheme::finite_volume, Scheme::finite_volume_2, Scheme::local_inertial})
    if (id == scheme_id(s)) return s;
  return std::nullopt;
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
  z_.assign(n, 0.0f);
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
  set_up_finite_volume();
  if (setup_.scheme == Scheme::finite_volume_2) set_up_second_order();
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

void FloodModel::set_up_finite_volume() {
  const auto in = [&](long long r, long long c) {
    return r >= 0 && c >= 0 && r < static_cast<long long>(rows_) && c < static_cast<long long>(cols_) &&
           inside_[static_cast<std::size_t>(r) * cols_ + static_cast<std::size_t>(c)];
  };
  x_edge_start_.assign(1, 0);
  for (long long r = 0; r < static_cast<long long>(rows_); ++r) {
    for (long long c = 0; c <= static_cast<long long>(cols_); ++c)
      if (in(r, c - 1) != in(r, c)) x_edges_.push_back(static_cast<std::uint32_t>(c));
    x_edge_start_.push_back(static_cast<std::uint32_t>(x_edges_.size()));
  }
  y_edge_start_.assign(1, 0);
  for (long long s = 0; s <= static_cast<long long>(rows_); ++s) {
    for (long long c = 0; c < static_cast<long long>(cols_); ++c)
      if (in(s - 1, c) != in(s, c)) y_edges_.push_back(static_cast<std::uint32_t>(c));
    y_edge_start_.push_back(static_cast<std::uint32_t>(y_edges_.size()));
  }
  row_lo_.assign(rows_, 0);
  row_hi_.assign(rows_, 0);
  wet_lo_.assign(rows_, 0);
  wet_hi_.assign(rows_, 0);
  team_max_ = std::max(1, std::max(setup_.threads, omp_get_max_threads()));
  if (setup_.scheme == Scheme::finite_volume) {
    scratch_.assign(static_cast<std::size_t>(team_max_) * scratch_doubles(cols_), 0.0);
    chunk_north_.assign(static_cast<std::size_t>(team_max_) * 4 * cols_, 0.0);
  }
  row_work_.assign(rows_ + 1, 0);
  chunk_ready_.assign(static_cast<std::size_t>(team_max_), 0);
  wide_ = setup_.wide_kernels && processor_has_avx512();
}

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
  for (std::size_t r = 0; r < rows_; ++r) {
    std::size_t first = 0, last = cols_;
    while (first < last && !(h_[r * cols_ + first] > 0.0)) ++first;
    while (last > first && !(h_[r * cols_ + last - 1] > 0.0)) --last;
    wet_lo_[r] = static_cast<std::uint32_t>(first);
    wet_hi_[r] = static_cast<std::uint32_t>(last);
  }
  set_rows_from_wet_extents(0, rows_);
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
  const double courant_rate = (std::abs(velocity(qx_[i], h)) + a) / dx_ + (std::abs(velocity(qy_[i], h)) + a) / dy_;
  // The sum of the two directional Courant numbers stays below cfl at second order, 2 cfl at first.
  if (setup_.scheme == Scheme::finite_volume_2) return courant_rate / setup_.cfl;
  return courant_rate / (2.0 * setup_.cfl);
}

double FloodModel::depth_rate(double depth_m) const {
  if (depth_m <= 0.0) return 0.0;
  const double a = std::sqrt(g * depth_m);
  if (setup_.scheme == Scheme::local_inertial) return a / (setup_.inertial_alpha * std::min(dx_, dy_));
  if (setup_.scheme == Scheme::finite_volume_2) return a * (1.0 / dx_ + 1.0 / dy_) / setup_.cfl;
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
  for (std::size_t r = lo_r; r < hi_r; ++r) {
    const auto [lo, hi] = hull({row_lo_[r], row_hi_[r]}, {lo_c, hi_c});
    row_lo_[r] = static_cast<std::uint32_t>(lo);
    row_hi_[r] = static_cast<std::uint32_t>(hi);
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
  switch (setup_.scheme) {
    case Scheme::local_inertial: step_inertial(dt_s); break;
    case Scheme::finite_volume_2: step_second_order(dt_s); break;
    case Scheme::finite_volume: step_finite_volume(dt_s); break;
  }
}

// The finite-volume step sweeps the wet rows once, in place: for each row,
// its cells' velocities (once per cell, not once per face), the fluxes
// through its x faces and through the y faces on its southern side (the
// northern ones were computed with the row before), then its cells. Faces
// live in rows of scratch that stay in the first-level cache, so a cell's
// state is read and written once per step. Threads take contiguous chunks of
// rows of equal work; each first computes the y faces on its northern edge
// from the state at the start of the step, and the thread above waits for
// them (a flag, not a barrier: a barrier costs a scheduler round per step
// when threads sleep while they wait) before it updates the row they read.
// Each row updates only its own columns of the wet region.
struct FloodModel::Sweep {
  double dt_s = 0.0, dtdx = 0.0, dtdy = 0.0;
  std::size_t r0 = 0, r1 = 0;  // rows of the wet region
  int chunks = 1;
  std::uint64_t epoch = 0;     // this step's mark in chunk_ready_
  const std::uint64_t* row_work = nullptr;  // the work before each row of the region
  // The first row of chunk k (k = chunks: the end), at an equal share of the work.
  std::size_t first_row(int k) const {
    const std::size_t n = r1 - r0;
    const std::uint64_t target = row_work[n] * static_cast<std::uint64_t>(k) / static_cast<std::uint64_t>(chunks);
    return r0 + static_cast<std::size_t>(std::lower_bound(row_work, row_work + n + 1, target) - row_work);
  }
  double outflow_m3 = 0.0;     // this chunk's, through open edges
  double rate = 0.0;           // this chunk's largest 1 / dt
  std::uint64_t cell_updates = 0;
  float time_s = 0.0f, arrival_depth = 0.0f;
};


std::pair<std::size_t, std::size_t> FloodModel::row_range(long long r) const {
  if (r < 0 || r >= static_cast<long long>(rows_)) return {0, 0};
  return {row_lo_[static_cast<std::size_t>(r)], row_hi_[static_cast<std::size_t>(r)]};
}


// Velocities of row r wherever a face of rows r-1..r+1 may need them.
void FloodModel::velocities(std::size_t r, double* ux, double* vy) const {
  const long long rr = static_cast<long long>(r);
  auto [lo, hi] = hull(hull(row_range(rr - 1), row_range(rr)), row_range(rr + 1));
  if (lo >= hi) return;
  lo = lo > 0 ? lo - 1 : 0;
  hi = std::min(cols_, hi + 1);
  const std::size_t row = r * cols_;
  if (wide_)
    fv_avx512::velocity_row<fv_avx512::Wide>(&h_[row], &qx_[row], &qy_[row], ux, vy, lo, hi);
  else
    fv_portable::velocity_row<fv_portable::Wide>(&h_[row], &qx_[row], &qy_[row], ux, vy, lo, hi);
}

// Fluxes through the faces between rows s-1 and s (s in [0, rows]) over the
// columns either row updates; the velocities are those of rows s-1 and s.
void FloodModel::y_faces(Sweep& sweep, std::size_t s, const double* ux_up, const double* vy_up, const double* ux_down,
                         const double* vy_down, double* out) const {
  const long long ss = static_cast<long long>(s);
  const auto [lo, hi] = hull(row_range(ss - 1), row_range(ss));
  if (lo >= hi) return;
  const FaceRow f = face_row_at(out, cols_);
  if (s == 0 || s == rows_) {
    clear_faces(f, lo, hi);
  } else {
    const std::size_t up = (s - 1) * cols_ + lo, down = s * cols_ + lo;
    const FaceSide l{&h_[up], vy_up + lo, ux_up + lo, &z_[up]};
    const FaceSide r{&h_[down], vy_down + lo, ux_down + lo, &z_[down]};
    const FaceRow o{f.mass + lo, f.mom_l + lo, f.mom_r + lo, f.trans + lo};
    if (wide_)
      fv_avx512::face_row<fv_avx512::Wide>(l, r, o, hi - lo);
    else
      fv_portable::face_row<fv_portable::Wide>(l, r, o, hi - lo);
  }
  // Where the domain ends: a wall, or free outflow through an open edge.
  for (std::uint32_t e = y_edge_start_[s]; e < y_edge_start_[s + 1]; ++e) {
    const std::size_t c = y_edges_[e];
    if (c < lo || c >= hi) continue;
    if (s > 0 && inside_[(s - 1) * cols_ + c]) {  // the open southern edge, or a wall
      const std::size_t u = (s - 1) * cols_ + c;
      const FaceFlux ff =
          edge_face(h_[u], velocity(qy_[u], h_[u]), velocity(qx_[u], h_[u]), open_south_ && s == rows_, +1.0);
      set_face(f, c, ff);
      sweep.outflow_m3 += ff.mass * dx_ * sweep.dt_s;
    } else {  // the open northern edge, or a wall
      const std::size_t d = s * cols_ + c;
      const FaceFlux ff =
          edge_face(h_[d], velocity(qy_[d], h_[d]), velocity(qx_[d], h_[d]), open_north_ && s == 0, -1.0);
      set_face(f, c, ff);
      sweep.outflow_m3 -= ff.mass * dx_ * sweep.dt_s;
    }
  }
}

// Fluxes through the x faces of row r (face c between cells c-1 and c) over
// the columns it updates and the face past the last one; ux, vy: the row's
// velocities.
void FloodModel::x_faces(Sweep& sweep, std::size_t r, const double* ux, const double* vy, double* out) const {
  const auto [lo, hi] = row_range(static_cast<long long>(r));
  if (lo >= hi) return;
  const FaceRow f = face_row_at(out, cols_ + 1);
  const std::size_t first = std::max<std::size_t>(lo, 1), last = std::min(hi, cols_ - 1);  // faces with two cells
  if (lo == 0) set_face(f, 0, FaceFlux{});
  if (hi == cols_) set_face(f, cols_, FaceFlux{});
  if (first <= last) {
    const std::size_t row = r * cols_;
    const FaceSide left{&h_[row + first - 1], ux + first - 1, vy + first - 1, &z_[row + first - 1]};
    const FaceSide right{&h_[row + first], ux + first, vy + first, &z_[row + first]};
    const FaceRow o{f.mass + first, f.mom_l + first, f.mom_r + first, f.trans + first};
    if (wide_)
      fv_avx512::face_row<fv_avx512::Wide>(left, right, o, last + 1 - first);
    else
      fv_portable::face_row<fv_portable::Wide>(left, right, o, last + 1 - first);
  }
  for (std::uint32_t e = x_edge_start_[r]; e < x_edge_start_[r + 1]; ++e) {
    const std::size_t c = x_edges_[e];
    if (c < lo || c > hi) continue;
    if (c > 0 && inside_[r * cols_ + c - 1]) {  // a wall of the domain, or its open eastern edge
      const std::size_t l = r * cols_ + c - 1;
      const FaceFlux ff =
          edge_face(h_[l], velocity(qx_[l], h_[l]), velocity(qy_[l], h_[l]), open_east_ && c == cols_, +1.0);
      set_face(f, c, ff);
      sweep.outflow_m3 += ff.mass * dy_ * sweep.dt_s;
    } else {  // a wall, or the open western edge
      const std::size_t q = r * cols_ + c;
      const FaceFlux ff =
          edge_face(h_[q], velocity(qx_[q], h_[q]), velocity(qy_[q], h_[q]), open_west_ && c == 0, -1.0);
      set_face(f, c, ff);
      sweep.outflow_m3 -= ff.mass * dy_ * sweep.dt_s;
    }
  }
}

void FloodModel::sweep_rows(Sweep& sweep, int chunk) {
  const std::size_t a = sweep.first_row(chunk), b = sweep.first_row(chunk + 1);
  Scratch sc = scratch_at(&scratch_[static_cast<std::size_t>(chunk) * scratch_doubles(cols_)], cols_);
  // The chunk whose northern faces are this chunk's southern ones.
  int below = chunk + 1;
  while (below < sweep.chunks && sweep.first_row(below) == sweep.first_row(below + 1)) ++below;
  FaceRow north = face_row_at(&chunk_north_[static_cast<std::size_t>(chunk) * 4 * cols_], cols_);
  int next_south = 0;
  for (std::size_t r = a; r < b; ++r) {
    // Row r's velocities are in sc.ux[0], sc.vy[0]; row r+1's go to [1].
    const bool south_shared = r + 1 == b && b < sweep.r1;
    if (!south_shared && r + 1 < rows_) velocities(r + 1, sc.ux[1], sc.vy[1]);
    x_faces(sweep, r, sc.ux[0], sc.vy[0], sc.xf.mass);
    FaceRow south;
    if (south_shared) {
      // Before this row is updated, the chunk below must have read it.
      std::atomic_ref<std::uint64_t> ready(chunk_ready_[static_cast<std::size_t>(below)]);
      for (int spins = 0; ready.load(std::memory_order_acquire) < sweep.epoch; ++spins)
        if (spins > 64) std::this_thread::yield();
      south = face_row_at(&chunk_north_[static_cast<std::size_t>(below) * 4 * cols_], cols_);
    } else {
      south = sc.y[next_south];
      y_faces(sweep, r + 1, sc.ux[0], sc.vy[0], sc.ux[1], sc.vy[1], south.mass);
    }
    const auto [lo, hi] = row_range(static_cast<long long>(r));
    if (lo < hi) {
      const std::size_t row = r * cols_;
      const CellRow cells{&h_[row], &qx_[row], &qy_[row], &n2_[row], &inside_[row], sc.xf, north, south,
                          &max_h_[row], &max_speed_[row], &max_hazard_[row], &arrival_s_[row], sweep.dtdx,
                          sweep.dtdy, sweep.dt_s * g, 1.0 / dx_, 1.0 / dy_, sweep.time_s, sweep.arrival_depth};
      const double rate = wide_ ? fv_avx512::cell_row<fv_avx512::Wide>(cells, lo, hi)
                                : fv_portable::cell_row<fv_portable::Wide>(cells, lo, hi);
      sweep.rate = std::max(sweep.rate, rate);
      sweep.cell_updates += hi - lo;
    }
    // The wet cells of the row, for the next step's region.
    std::size_t first = lo, last = hi;
    while (first < last && !(h_[r * cols_ + first] > 0.0)) ++first;
    while (last > first && !(h_[r * cols_ + last - 1] > 0.0)) --last;
    wet_lo_[r] = static_cast<std::uint32_t>(first);
    wet_hi_[r] = static_cast<std::uint32_t>(last);
    north = south;
    next_south ^= 1;
    std::swap(sc.ux[0], sc.ux[1]);
    std::swap(sc.vy[0], sc.vy[1]);
  }
}

void FloodModel::step_finite_volume(double dt_s) {
  Sweep plan;
  plan.dt_s = dt_s;
  plan.dtdx = dt_s / dx_;
  plan.dtdy = dt_s / dy_;
  plan.r0 = r0_;
  plan.r1 = r1_;
  plan.time_s = static_cast<float>(time_s_ + dt_s);
  plan.arrival_depth = static_cast<float>(setup_.arrival_depth_m);
  plan.epoch = steps_ + 1;
  plan.row_work = row_work_.data();

  // Share the rows out by their cells (plus a fixed cost per row).
  constexpr std::uint64_t kRowCost = 16;
  row_work_[0] = 0;
  std::size_t region_cells = 0;
  for (std::size_t r = plan.r0; r < plan.r1; ++r) {
    const auto [lo, hi] = row_range(static_cast<long long>(r));
    region_cells += hi > lo ? hi - lo : 0;
    row_work_[r - plan.r0 + 1] = row_work_[r - plan.r0] + (hi > lo ? hi - lo : 0) + kRowCost;
  }
  const int threads = setup_.threads;
  // A team of threads costs more than it saves on a small wet region, and an
  // oversubscribed core makes its barrier crawl.
  const bool parallel = threads != 1 && region_cells >= kMinCellsPerTeam;
  const int team = parallel ? std::min(team_max_, threads > 0 ? threads : omp_get_max_threads()) : 1;
  double outflow_m3 = 0.0, rate = 0.0;
  std::uint64_t cell_updates = 0;

#pragma omp parallel num_threads(team) if (parallel) reduction(+ : outflow_m3, cell_updates) reduction(max : rate)
  {
    const int chunk = omp_get_thread_num();
    Sweep sweep = plan;
    sweep.chunks = omp_get_num_threads();
    // The faces on the chunk's northern edge, from the state at the start of
    // the step; the chunk above waits for them before updating its last row.
    const std::size_t a = sweep.first_row(chunk), b = sweep.first_row(chunk + 1);
    if (a < b) {
      const Scratch sc = scratch_at(&scratch_[static_cast<std::size_t>(chunk) * scratch_doubles(cols_)], cols_);
      if (a > 0) velocities(a - 1, sc.ux[1], sc.vy[1]);
      velocities(a, sc.ux[0], sc.vy[0]);
      y_faces(sweep, a, sc.ux[1], sc.vy[1], sc.ux[0], sc.vy[0],
              &chunk_north_[static_cast<std::size_t>(chunk) * 4 * cols_]);
      std::atomic_ref<std::uint64_t>(chunk_ready_[static_cast<std::size_t>(chunk)])
          .store(sweep.epoch, std::memory_order_release);
      sweep_rows(sweep, chunk);
    }
    outflow_m3 += sweep.outflow_m3;
    cell_updates += sweep.cell_updates;
    rate = std::max(rate, sweep.rate);
  }
  outflow_m3_ += outflow_m3;
  cell_updates_ += cell_updates;
  ++steps_;
  time_s_ += dt_s;

  set_rows_from_wet_extents(plan.r0 > 0 ? plan.r0 - 1 : 0, std::min(rows_, plan.r1 + 1));
  // The sum of the two directional CFL numbers stays below 2 * cfl.
  next_dt_s_ = rate > 0.0 ? setup_.cfl * 2.0 / rate : std::numeric_limits<double>::infinity();
}

// The region of the next step from the wet cells of rows [from_r, to_r)
// (the rows of the last region and one more on each side; the wet cells of
// the other rows have not changed).
void FloodModel::set_rows_from_wet_extents(std::size_t from_r, std::size_t to_r) {
  for (std::size_t r = from_r; r < to_r; ++r) {
    std::pair<std::size_t, std::size_t> wet{0, 0};
    for (long long k = static_cast<long long>(r) - 1; k <= static_cast<long long>(r) + 1; ++k)
      if (k >= 0 && k < static_cast<long long>(rows_))
        wet = hull(wet, {wet_lo_[static_cast<std::size_t>(k)], wet_hi_[static_cast<std::size_t>(k)]});
    const bool any = wet.first < wet.second;
    row_lo_[r] = any ? static_cast<std::uint32_t>(wet.first > 0 ? wet.first - 1 : 0) : 0;
    row_hi_[r] = any ? static_cast<std::uint32_t>(std::min(cols_, wet.second + 1)) : 0;
  }
  // The bounding box, for the passes that use one.
  std::size_t rmin = rows_, rmax = 0, cmin = cols_, cmax = 0;
  bool wet = false;
  for (std::size_t r = 0; r < rows_; ++r) {
    if (wet_lo_[r] < wet_hi_[r]) {
      wet = true;
      rmin = std::min(rmin, r), rmax = std::max(rmax, r);
      cmin = std::min<std::size_t>(cmin, wet_lo_[r]), cmax = std::max<std::size_t>(cmax, wet_hi_[r] - 1);
    }
  }
  any_water_ = wet;
  if (wet) {
    r0_ = rmin > 0 ? rmin - 1 : 0;
    c0_ = cmin > 0 ? cmin - 1 : 0;
    r1_ = std::min(rows_, rmax + 2);
    c1_ = std::min(cols_, cmax + 2);
  } else {
    r0_ = r1_ = c0_ = c1_ = 0;
  }
}

double FloodModel::bytes_per_cell_update() const {
  constexpr double kEnvelopes = 4 * sizeof(float);
  if (setup_.scheme == Scheme::local_inertial) {
    // Two face passes (cells with n2 read, one face array read and written),
    // the outflow limiter (depth and both face arrays read, the factor
    // written), two scaling passes, then the cells.
    const double face_pass = sizeof(double) + sizeof(float) + sizeof(double) + sizeof(std::uint8_t) + 2 * sizeof(double);
    const double limiter = 3 * sizeof(double) + sizeof(double);
    const double scaling = 2 * (3 * sizeof(double));
    const double cells = sizeof(std::uint8_t) + 3 * sizeof(double) + 3 * sizeof(double) + 2 * kEnvelopes;
    return 2 * face_pass + limiter + scaling + cells;
  }
  if (setup_.scheme == Scheme::finite_volume_2) {
    // Two stages (counted as cell updates each); a stage reads a cell's state,
    // bed, Manning n2 and inside flag (its neighbours' come from the cache),
    // reads the state it blends with and writes its own; envelopes once.
    return sizeof(std::uint8_t) + sizeof(float) + sizeof(double) + 3 * 3 * sizeof(double) + kEnvelopes;
  }
  // One sweep: each cell's depth, discharges, bed, Manning n2 and inside flag
  // read, its depth, discharges and envelopes read and written; faces stay
  // in rows of scratch in the cache.
  return sizeof(std::uint8_t) + sizeof(float) + sizeof(double) + 2 * 3 * sizeof(double) + 2 * kEnvelopes;
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
