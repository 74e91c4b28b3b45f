// The second-order finite-volume step (Scheme::finite_volume_2).
//
// Space: MUSCL reconstruction of each cell's depth, water surface and
// velocities to its faces, with minmod-limited differences, then the
// hydrostatic reconstruction of Audusse et al. (2004) and an HLL flux at
// each face, as in the first-order step. Limiting the surface, not the bed
// plus depth, keeps a lake at rest flat; limiting the depth keeps face depths
// between those of the neighbours, so never negative. A cell that is nearly
// dry, or whose neighbour along an axis is, or which touches the edge of the
// domain along it, stays first order along that axis: fronts and walls see
// cell values.
//
// Time: Heun's two-stage Runge-Kutta (strong-stability preserving): U1 =
// U + dt L(U), then U' = (U + U1 + dt L(U1)) / 2, Manning friction
// semi-implicit in each stage. Each stage is a first-order-like update of a
// reconstructed state, which keeps depths non-negative when the sum of the
// Courant numbers of the two axes stays below 1/2: the step takes
// dt = cfl / ((|u| + c) / dx + (|v| + c) / dy), half the first-order one.
//
// The bed slope enters through the surface: at a face, a cell sees the
// momentum flux less the hydrostatic pressure of its own side after the
// reconstruction, and its interior pushes with g h (eta_east - eta_west).
// This is Audusse's centred source term rearranged, and it makes every term
// of a lake at rest zero exactly, not only their sum.
//
// Stages run by rows, each reading one state and writing another, so rows
// share out among threads without waiting on one another.

#include "cadereau/sim/flood/flood_model.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace cadereau::sim::flood {

namespace {

constexpr double g = kGravity_m_s2;
// Below this depth a cell holds water but no momentum (as in the first-order step).
constexpr double kDryDepth_m = 1e-4;
// Below this depth in a cell or a neighbour, the cell is not reconstructed:
// differences across a front measure the front, not the flow.
constexpr double kReconstructDepth_m = 1e-3;
// Below this many cells in the region a stage runs on one thread.
constexpr std::size_t kMinCellsPerTeam = 16384;

// One stage's input, on the whole grid (row-major, momenta along +col and
// +row), and the velocities of its cells where the stage reads them.
struct StageIn {
  const double* h;
  const double* qx;
  const double* qy;
  const double* u;
  const double* v;
};

// The grid and what does not change within a step.
struct Grid2 {
  const float* z;
  const std::uint8_t* inside;
  const double* n2;
  std::size_t cols, rows;
  double dx, dy;
  bool open_west, open_east, open_north, open_south;
  bool in(long long r, long long c) const {
    return r >= 0 && c >= 0 && r < static_cast<long long>(rows) && c < static_cast<long long>(cols) &&
           inside[static_cast<std::size_t>(r) * cols + static_cast<std::size_t>(c)] != 0;
  }
};

// A cell's values at one of its faces: depth, surface, velocity normal to
// the face and along it.
struct FaceValues {
  double h = 0.0, eta = 0.0, un = 0.0, ut = 0.0;
};

// What crosses a face, per metre of face: the mass flux, the normal momentum
// flux each side sees less its own hydrostatic pressure, the transverse one.
struct Flux2 {
  double mass = 0.0, dev_l = 0.0, dev_r = 0.0, trans = 0.0;
};

// The cells a stage updates (or reads): columns [lo[r], hi[r]) of each row r in [r0, r1).
struct Region {
  std::size_t r0 = 0, r1 = 0;
  const std::uint32_t* lo = nullptr;
  const std::uint32_t* hi = nullptr;
  // Row r's columns; empty off the region.
  std::pair<std::size_t, std::size_t> columns(long long r) const {
    if (r < static_cast<long long>(r0) || r >= static_cast<long long>(r1)) return {0, 0};
    return {lo[r], hi[r]};
  }
  std::size_t cells() const {
    std::size_t n = 0;
    for (std::size_t r = r0; r < r1; ++r) n += hi[r] > lo[r] ? hi[r] - lo[r] : 0;
    return n;
  }
};

// The smallest range holding both (an empty one holds nothing).
std::pair<std::size_t, std::size_t> hull(std::pair<std::size_t, std::size_t> a, std::pair<std::size_t, std::size_t> b) {
  if (a.first >= a.second) return b;
  if (b.first >= b.second) return a;
  return {std::min(a.first, b.first), std::max(a.second, b.second)};
}

// An axis of the grid as seen from one cell.
enum class Axis { x, y };

// ---- Reconstruction ----------------------------------------------------------------------

double cell_velocity(double q, double h) { return h > kDryDepth_m ? q / h : 0.0; }
double normal_velocity(const StageIn& s, std::size_t i, Axis axis) { return axis == Axis::x ? s.u[i] : s.v[i]; }
double transverse_velocity(const StageIn& s, std::size_t i, Axis axis) { return axis == Axis::x ? s.v[i] : s.u[i]; }

double minmod(double a, double b) {
  if (a * b <= 0.0) return 0.0;
  return std::abs(a) < std::abs(b) ? a : b;
}

// The limited differences across cell (r, c) along an axis (its value at the
// far face minus at the near one), all zero where it stays first order.
FaceValues limited_slopes(const StageIn& s, const Grid2& gr, std::size_t r, std::size_t c, Axis axis) {
  const long long rr = static_cast<long long>(r), cc = static_cast<long long>(c);
  const long long dr = axis == Axis::y ? 1 : 0, dc = axis == Axis::x ? 1 : 0;
  if (!gr.in(rr - dr, cc - dc) || !gr.in(rr + dr, cc + dc)) return {};
  const std::size_t i = r * gr.cols + c;
  const std::size_t step = axis == Axis::x ? 1 : gr.cols;
  const std::size_t lo = i - step, hi = i + step;
  if (s.h[i] < kReconstructDepth_m || s.h[lo] < kReconstructDepth_m || s.h[hi] < kReconstructDepth_m) return {};
  const double eta_lo = gr.z[lo] + s.h[lo], eta = gr.z[i] + s.h[i], eta_hi = gr.z[hi] + s.h[hi];
  const double un_lo = normal_velocity(s, lo, axis), un = normal_velocity(s, i, axis), un_hi = normal_velocity(s, hi, axis);
  const double ut_lo = transverse_velocity(s, lo, axis), ut = transverse_velocity(s, i, axis),
               ut_hi = transverse_velocity(s, hi, axis);
  FaceValues d;
  d.h = minmod(s.h[i] - s.h[lo], s.h[hi] - s.h[i]);
  d.eta = minmod(eta - eta_lo, eta_hi - eta);
  d.un = minmod(un - un_lo, un_hi - un);
  d.ut = minmod(ut - ut_lo, ut_hi - ut);
  return d;
}

// Limited differences are kept by rows, four doubles a cell (FaceValues' fields in order).
void put_values(double* row, std::size_t k, const FaceValues& v) {
  double* p = row + 4 * k;
  p[0] = v.h, p[1] = v.eta, p[2] = v.un, p[3] = v.ut;
}
FaceValues get_values(const double* row, std::size_t k) {
  const double* p = row + 4 * k;
  return {p[0], p[1], p[2], p[3]};
}

// The limited differences along an axis of the cells of row r in columns [lo, hi) (zero off the grid).
void slope_row(const StageIn& s, const Grid2& gr, long long r, long long lo, long long hi, Axis axis, double* out) {
  for (long long c = lo; c < hi; ++c)
    put_values(out, static_cast<std::size_t>(c - lo),
               gr.in(r, c) ? limited_slopes(s, gr, static_cast<std::size_t>(r), static_cast<std::size_t>(c), axis)
                           : FaceValues{});
}

// Cell i's values at its near (side = -1) or far (side = +1) face, from its limited differences.
FaceValues at_face(const StageIn& s, const Grid2& gr, std::size_t i, const FaceValues& d, double side, Axis axis) {
  const double half = 0.5 * side;
  return {s.h[i] + half * d.h, gr.z[i] + s.h[i] + half * d.eta, normal_velocity(s, i, axis) + half * d.un,
          transverse_velocity(s, i, axis) + half * d.ut};
}

// The velocities of the cells of a region, once per stage rather than once per face.
void cell_velocities(const double* h, const double* qx, const double* qy, std::size_t cols, const Region& reg, double* u,
                     double* v) {
  for (std::size_t r = reg.r0; r < reg.r1; ++r)
    for (std::size_t i = r * cols + reg.lo[r]; i < r * cols + reg.hi[r]; ++i) {
      u[i] = cell_velocity(qx[i], h[i]);
      v[i] = cell_velocity(qy[i], h[i]);
    }
}

// ---- Faces -------------------------------------------------------------------------------

// HLL flux between the reconstructed values on the left (west, north) and
// right of a face, after the hydrostatic reconstruction: the bed of each
// side is its surface less its depth, the face bed the higher of the two.
Flux2 hll_face(const FaceValues& l, const FaceValues& r) {
  const double zf = std::max(l.eta - l.h, r.eta - r.h);
  const double hls = std::max(0.0, l.eta - zf), hrs = std::max(0.0, r.eta - zf);
  Flux2 f;
  if (!(hls > 0.0) && !(hrs > 0.0)) return f;
  const double ul = l.un, ur = r.un, vl = l.ut, vr = r.ut;
  const double cl = std::sqrt(g * hls), cr = std::sqrt(g * hrs);
  // Wave speeds; a dry side takes the dry-front speed of the wet one.
  const double sl = hls <= 0.0 ? ur - 2.0 * cr : hrs <= 0.0 ? ul - cl : std::min(ul - cl, ur - cr);
  const double sr = hls <= 0.0 ? ur + cr : hrs <= 0.0 ? ul + 2.0 * cl : std::max(ul + cl, ur + cr);
  const double ql = hls * ul, qr = hrs * ur;
  const double al = ql * ul, ar = qr * ur;  // advective momentum fluxes
  // The difference of the two sides' pressures, as a product so that it is zero for equal depths.
  const double dp = 0.5 * g * (hls - hrs) * (hls + hrs);
  if (sl >= 0.0) {
    f.mass = ql;
    f.dev_l = al;
    f.dev_r = al + dp;
  } else if (sr <= 0.0) {
    f.mass = qr;
    f.dev_l = ar - dp;
    f.dev_r = ar;
  } else {
    const double inv = 1.0 / (sr - sl);
    const double jump = (al - ar) + dp;  // left flux less right flux
    f.mass = (sr * ql - sl * qr + sl * sr * (hrs - hls)) * inv;
    f.dev_l = al + sl * (jump + sr * (qr - ql)) * inv;
    f.dev_r = ar + sr * (jump + sl * (qr - ql)) * inv;
  }
  f.trans = f.mass * (f.mass > 0.0 ? vl : vr);
  return f;
}

// A face where the domain ends, seen from the cell inside it (outward = +1
// when the outside is east or south): free outflow when the edge is open and
// the water leaves through it, otherwise a wall, which pushes back with
// exactly the cell's own pressure and so adds nothing here.
Flux2 edge_face(const FaceValues& inside, bool open, double outward) {
  Flux2 f;
  const double un = inside.un;
  if (!open || !(un * outward > 0.0)) return f;
  f.mass = inside.h * un;
  f.dev_l = f.dev_r = inside.h * un * un;
  f.trans = f.mass * inside.ut;
  return f;
}

// The flux through the face between cells (ra, ca) and (rb, cb), b east or
// south of a, either of them possibly outside, with their limited
// differences along the axis; out_per_m gains what leaves the domain (m2/s,
// per metre of face).
Flux2 face_flux(const StageIn& s, const Grid2& gr, long long ra, long long ca, long long rb, long long cb, Axis axis,
                const FaceValues& slopes_a, const FaceValues& slopes_b, double& out_per_m) {
  const bool a_in = gr.in(ra, ca), b_in = gr.in(rb, cb);
  if (!a_in && !b_in) return {};
  const auto values = [&](long long r, long long c, double side) {
    const std::size_t i = static_cast<std::size_t>(r) * gr.cols + static_cast<std::size_t>(c);
    return at_face(s, gr, i, side > 0.0 ? slopes_a : slopes_b, side, axis);
  };
  if (a_in && b_in) return hll_face(values(ra, ca, +1.0), values(rb, cb, -1.0));
  if (a_in) {  // the domain ends east or south of a
    const bool open = axis == Axis::x ? gr.open_east && cb == static_cast<long long>(gr.cols)
                                      : gr.open_south && rb == static_cast<long long>(gr.rows);
    const Flux2 f = edge_face(values(ra, ca, +1.0), open, +1.0);
    out_per_m += f.mass;
    return f;
  }
  const bool open = axis == Axis::x ? gr.open_west && ca < 0 : gr.open_north && ra < 0;
  const Flux2 f = edge_face(values(rb, cb, -1.0), open, -1.0);
  out_per_m -= f.mass;
  return f;
}

// ---- Update ------------------------------------------------------------------------------

// Where a stage writes, and how: out = keep x base + (1 - keep) x (stage result).
struct StageOut {
  const double* base_h;
  const double* base_qx;
  const double* base_qy;
  double keep;  // 0 for the first stage, 1/2 for the second
  double* h;
  double* qx;
  double* qy;
};

// Faces of one row, four doubles a face (Flux2's fields in order), by
// column: x faces (face c west of cell c), y faces; and the limited
// differences of the row's cells: along x (column c at c + 1, so that the
// columns off each end have a place), along y for this row and the next.
struct RowFaces {
  double* x;
  double* north;
  double* south;
  double* slopes_x;
  double* slopes_y;
  double* slopes_y_next;
};
std::size_t scratch_doubles_for(std::size_t width) { return 4 * (width + 1) + 8 * width + 4 * (width + 2) + 8 * width; }
RowFaces scratch_rows(double* base, std::size_t width) {
  RowFaces f;
  f.x = base, base += 4 * (width + 1);
  f.north = base, base += 4 * width;
  f.south = base, base += 4 * width;
  f.slopes_x = base, base += 4 * (width + 2);
  f.slopes_y = base, base += 4 * width;
  f.slopes_y_next = base;
  return f;
}
void put(double* faces, std::size_t k, const Flux2& f) {
  double* p = faces + 4 * k;
  p[0] = f.mass, p[1] = f.dev_l, p[2] = f.dev_r, p[3] = f.trans;
}
Flux2 get(const double* faces, std::size_t k) {
  const double* p = faces + 4 * k;
  return {p[0], p[1], p[2], p[3]};
}

// The x faces of row r around its columns [lo, hi).
void x_faces(const StageIn& s, const Grid2& gr, std::size_t r, std::size_t lo, std::size_t hi, const double* slopes_x,
             double* x, double& out_per_m) {
  const long long rr = static_cast<long long>(r);
  for (std::size_t c = lo; c <= hi; ++c) {
    const long long cc = static_cast<long long>(c);
    put(x, c, face_flux(s, gr, rr, cc - 1, rr, cc, Axis::x, get_values(slopes_x, c), get_values(slopes_x, c + 1), out_per_m));
  }
}

// The y faces between rows s_row - 1 and s_row over columns [lo, hi), from
// the two rows' limited differences along y.
void y_faces(const StageIn& s, const Grid2& gr, long long s_row, std::size_t lo, std::size_t hi, const double* slopes_up,
             const double* slopes_down, double* y, double& out_per_m) {
  for (std::size_t c = lo; c < hi; ++c) {
    const long long cc = static_cast<long long>(c);
    put(y, c, face_flux(s, gr, s_row - 1, cc, s_row, cc, Axis::y, get_values(slopes_up, c), get_values(slopes_down, c), out_per_m));
  }
}

// The cells of row r: fluxes through their faces, the surface slope inside
// them, semi-implicit Manning friction, the blend with the stage's base.
void update_row(const StageIn& s, const Grid2& gr, std::size_t r, std::size_t lo, std::size_t hi, const RowFaces& f,
                const StageOut& out, double dt_s) {
  const double dtdx = dt_s / gr.dx, dtdy = dt_s / gr.dy;
  for (std::size_t c = lo; c < hi; ++c) {
    const std::size_t i = r * gr.cols + c;
    if (!gr.inside[i]) continue;
    const Flux2 w = get(f.x, c), e = get(f.x, c + 1), n = get(f.north, c), so = get(f.south, c);
    // The cell's own push down its surface slope (Audusse's centred source term).
    const double push_x = g * s.h[i] * get_values(f.slopes_x, c + 1).eta;
    const double push_y = g * s.h[i] * get_values(f.slopes_y, c).eta;
    double h = s.h[i] - dtdx * (e.mass - w.mass) - dtdy * (so.mass - n.mass);
    double qx = s.qx[i] - dtdx * (e.dev_l - w.dev_r + push_x) - dtdy * (so.trans - n.trans);
    double qy = s.qy[i] - dtdx * (e.trans - w.trans) - dtdy * (so.dev_l - n.dev_r + push_y);
    if (h < 0.0) h = 0.0;  // roundoff: -1e-17 m
    if (h < kDryDepth_m) {
      qx = qy = 0.0;  // no momentum in a film this thin
    } else if (gr.n2[i] > 0.0) {
      const double factor = 1.0 + dt_s * g * gr.n2[i] * std::sqrt(qx * qx + qy * qy) / (h * h * std::cbrt(h));
      qx /= factor;
      qy /= factor;
    }
    const double keep = out.keep, take = 1.0 - keep;
    out.h[i] = keep * out.base_h[i] + take * h;
    out.qx[i] = keep * out.base_qx[i] + take * qx;
    out.qy[i] = keep * out.base_qy[i] + take * qy;
    assert(std::isfinite(out.h[i]) && out.h[i] >= 0.0);
  }
}

// One stage over the region, by chunks of rows (one per thread, each with
// its own face rows in scratch); returns the volume that left the domain
// per second.
double run_stage(const StageIn& s, const Grid2& gr, const Region& reg, const StageOut& out, double dt_s,
                 double* scratch, std::size_t scratch_per_thread, int threads) {
  double out_m2_s_x = 0.0, out_m2_s_y = 0.0;
  const bool parallel = threads != 1 && reg.cells() >= kMinCellsPerTeam;
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads()) if (parallel) \
    reduction(+ : out_m2_s_x, out_m2_s_y)
  {
#ifdef _OPENMP
    const std::size_t t = static_cast<std::size_t>(omp_get_thread_num()), team = static_cast<std::size_t>(omp_get_num_threads());
#else
    const std::size_t t = 0, team = 1;
#endif
    const std::size_t rows = reg.r1 - reg.r0;
    const std::size_t a = reg.r0 + rows * t / team, b = reg.r0 + rows * (t + 1) / team;
    RowFaces f = scratch_rows(scratch + t * scratch_per_thread, gr.cols);
    // Row r's differences along y, wherever the faces on either side of it need them.
    const auto row_slopes_y = [&](long long r, double* out) {
      const auto [lo, hi] = hull(hull(reg.columns(r - 1), reg.columns(r)), reg.columns(r + 1));
      slope_row(s, gr, r, static_cast<long long>(lo), static_cast<long long>(hi), Axis::y, out + 4 * lo);
    };
    const auto faces_above = [&](long long r, const double* up, const double* down, double* out) {
      const auto [lo, hi] = hull(reg.columns(r - 1), reg.columns(r));
      y_faces(s, gr, r, lo, hi, up, down, out, out_m2_s_y);
    };
    if (a < b) {
      const long long first = static_cast<long long>(a);
      row_slopes_y(first - 1, f.slopes_y_next);
      row_slopes_y(first, f.slopes_y);
      faces_above(first, f.slopes_y_next, f.slopes_y, f.north);
    }
    for (std::size_t r = a; r < b; ++r) {
      const long long rr = static_cast<long long>(r);
      const auto [lo, hi] = reg.columns(rr);
      row_slopes_y(rr + 1, f.slopes_y_next);
      faces_above(rr + 1, f.slopes_y, f.slopes_y_next, f.south);
      if (lo < hi) {
        slope_row(s, gr, rr, static_cast<long long>(lo) - 1, static_cast<long long>(hi) + 1, Axis::x, f.slopes_x + 4 * lo);
        x_faces(s, gr, r, lo, hi, f.slopes_x, f.x, out_m2_s_x);
        update_row(s, gr, r, lo, hi, f, out, dt_s);
      }
      std::swap(f.north, f.south);
      std::swap(f.slopes_y, f.slopes_y_next);
    }
  }
  return out_m2_s_x * gr.dy + out_m2_s_y * gr.dx;
}

}  // namespace

// ---- The step ----------------------------------------------------------------------------

std::size_t FloodModel::second_order_scratch_doubles() const { return scratch_doubles_for(cols_); }

void FloodModel::set_up_second_order() {
  const std::size_t n = grid_.cell_count();
  fv2_h_.assign(n, 0.0);
  fv2_qx_.assign(n, 0.0);
  fv2_qy_.assign(n, 0.0);
  fv2_u_.assign(n, 0.0);
  fv2_v_.assign(n, 0.0);
  // Row ranges of the wet region grown by 1, 3 and 5 cells.
  fv2_range_lo_.assign(3 * rows_, 0);
  fv2_range_hi_.assign(3 * rows_, 0);
  fv2_scratch_.assign(static_cast<std::size_t>(team_max_) * second_order_scratch_doubles(), 0.0);
}

void FloodModel::step_second_order(double dt_s) {
  const Grid2 gr{z_.data(), inside_.data(), n2_.data(), cols_, rows_, dx_, dy_,
                 open_west_, open_east_, open_north_, open_south_};
  // The wet region by rows holds every wet cell and one more all round.
  // Water moves at most one cell per stage, so the second stage updates one
  // cell beyond it; its faces read the first stage's state two cells further.
  const auto grown = [&](std::size_t k) {
    std::uint32_t* lo = &fv2_range_lo_[(k / 2) * rows_];
    std::uint32_t* hi = &fv2_range_hi_[(k / 2) * rows_];
    Region reg{r0_ > k ? r0_ - k : 0, std::min(rows_, r1_ + k), lo, hi};
    for (std::size_t r = reg.r0; r < reg.r1; ++r) {
      std::pair<std::size_t, std::size_t> wet{0, 0};
      for (std::size_t j = r > k ? r - k : 0; j <= r + k && j < rows_; ++j) wet = hull(wet, {row_lo_[j], row_hi_[j]});
      const bool any = wet.first < wet.second;
      lo[r] = any ? static_cast<std::uint32_t>(wet.first > k ? wet.first - k : 0) : 0;
      hi[r] = any ? static_cast<std::uint32_t>(std::min(cols_, wet.second + k)) : 0;
    }
    return reg;
  };
  const Region second = grown(1), first = grown(3);
  // Faces at a region's ends read differences two cells beyond it.
  const Region read_second = grown(3), read_first = grown(5);
  const int threads = setup_.threads;
  const std::size_t per_thread = second_order_scratch_doubles();

  cell_velocities(h_.data(), qx_.data(), qy_.data(), cols_, read_first, fv2_u_.data(), fv2_v_.data());
  const StageIn now{h_.data(), qx_.data(), qy_.data(), fv2_u_.data(), fv2_v_.data()};
  const StageOut to_first{h_.data(), qx_.data(), qy_.data(), 0.0, fv2_h_.data(), fv2_qx_.data(), fv2_qy_.data()};
  const double out1_m3_s = run_stage(now, gr, first, to_first, dt_s, fv2_scratch_.data(), per_thread, threads);

  // The second stage reads the first's state and writes the average into the model's own,
  // where each cell reads only its own old value.
  cell_velocities(fv2_h_.data(), fv2_qx_.data(), fv2_qy_.data(), cols_, read_second, fv2_u_.data(), fv2_v_.data());
  const StageIn mid{fv2_h_.data(), fv2_qx_.data(), fv2_qy_.data(), fv2_u_.data(), fv2_v_.data()};
  const StageOut to_end{h_.data(), qx_.data(), qy_.data(), 0.5, h_.data(), qx_.data(), qy_.data()};
  const double out2_m3_s = run_stage(mid, gr, second, to_end, dt_s, fv2_scratch_.data(), per_thread, threads);
  outflow_m3_ += 0.5 * dt_s * (out1_m3_s + out2_m3_s);
  cell_updates_ += first.cells() + second.cells();
  ++steps_;
  time_s_ += dt_s;
  finish_second_order_step(second.r0, second.r1);
}

// After a step: envelopes, the wet cells of each row, the wet region and the
// next time step, from the cells of rows [r0, r1) the step changed
// (fv2_range_*_ from the first slot: the second stage's columns).
void FloodModel::finish_second_order_step(std::size_t r0, std::size_t r1) {
  const float time_s = static_cast<float>(time_s_), arrival_depth = static_cast<float>(setup_.arrival_depth_m);
  double rate = 0.0;
  for (std::size_t r = r0; r < r1; ++r) {
    const std::size_t lo = fv2_range_lo_[r], hi = fv2_range_hi_[r];
    std::size_t first = hi, last = lo;
    for (std::size_t c = lo; c < hi; ++c) {
      const std::size_t i = r * cols_ + c;
      const double h = h_[i];
      if (!inside_[i] || !(h > 0.0)) continue;
      first = std::min(first, c), last = c + 1;
      const double u = cell_velocity(qx_[i], h), v = cell_velocity(qy_[i], h), a = std::sqrt(g * h);
      rate = std::max(rate, (std::abs(u) + a) / dx_ + (std::abs(v) + a) / dy_);
      note_envelopes(i, h, u, v, time_s, arrival_depth);
    }
    wet_lo_[r] = static_cast<std::uint32_t>(first < last ? first : 0);
    wet_hi_[r] = static_cast<std::uint32_t>(first < last ? last : 0);
  }
  set_rows_from_wet_extents(r0 > 0 ? r0 - 1 : 0, std::min(rows_, r1 + 1));
  // The sum of the two directional Courant numbers stays below cfl (<= 1/2).
  next_dt_s_ = rate > 0.0 ? setup_.cfl / rate : std::numeric_limits<double>::infinity();
}

}  // namespace cadereau::sim::flood
