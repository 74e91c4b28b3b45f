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
#include <limits>

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

// One stage's input, on the whole grid (row-major, momenta along +col and +row).
struct StageIn {
  const double* h;
  const double* qx;
  const double* qy;
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

// An axis of the grid as seen from one cell.
enum class Axis { x, y };

// ---- Reconstruction ----------------------------------------------------------------------

double cell_velocity(double q, double h) { return h > kDryDepth_m ? q / h : 0.0; }
double normal_velocity(const StageIn& s, std::size_t i, Axis axis) {
  return cell_velocity(axis == Axis::x ? s.qx[i] : s.qy[i], s.h[i]);
}
double transverse_velocity(const StageIn& s, std::size_t i, Axis axis) {
  return cell_velocity(axis == Axis::x ? s.qy[i] : s.qx[i], s.h[i]);
}

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

// Cell i's values at its near (side = -1) or far (side = +1) face, from its limited differences.
FaceValues at_face(const StageIn& s, const Grid2& gr, std::size_t i, const FaceValues& d, double side, Axis axis) {
  const double half = 0.5 * side;
  return {s.h[i] + half * d.h, gr.z[i] + s.h[i] + half * d.eta, normal_velocity(s, i, axis) + half * d.un,
          transverse_velocity(s, i, axis) + half * d.ut};
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
// south of a, either of them possibly outside; out_per_m gains what leaves
// the domain (m2/s, per metre of face).
Flux2 face_flux(const StageIn& s, const Grid2& gr, long long ra, long long ca, long long rb, long long cb, Axis axis,
                double& out_per_m) {
  const bool a_in = gr.in(ra, ca), b_in = gr.in(rb, cb);
  if (!a_in && !b_in) return {};
  const auto values = [&](long long r, long long c, double side) {
    const std::size_t ur = static_cast<std::size_t>(r), uc = static_cast<std::size_t>(c);
    return at_face(s, gr, ur * gr.cols + uc, limited_slopes(s, gr, ur, uc, axis), side, axis);
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

// Columns [c0, c1) of rows [r0, r1): the cells a stage updates.
struct Region {
  std::size_t r0 = 0, r1 = 0, c0 = 0, c1 = 0;
  std::size_t cells() const { return (r1 - r0) * (c1 - c0); }
};

// Faces of one row of the region, four doubles a face (Flux2's fields in
// order): x faces c0..c1 (face c west of cell c), y faces by column.
struct RowFaces {
  double* x;
  double* north;
  double* south;
};
void put(double* faces, std::size_t k, const Flux2& f) {
  double* p = faces + 4 * k;
  p[0] = f.mass, p[1] = f.dev_l, p[2] = f.dev_r, p[3] = f.trans;
}
Flux2 get(const double* faces, std::size_t k) {
  const double* p = faces + 4 * k;
  return {p[0], p[1], p[2], p[3]};
}

void x_faces(const StageIn& s, const Grid2& gr, const Region& reg, std::size_t r, double* x, double& out_per_m) {
  const long long rr = static_cast<long long>(r);
  for (std::size_t c = reg.c0; c <= reg.c1; ++c) {
    const long long cc = static_cast<long long>(c);
    put(x, c - reg.c0, face_flux(s, gr, rr, cc - 1, rr, cc, Axis::x, out_per_m));
  }
}

// The y faces between rows s_row - 1 and s_row, over the region's columns.
void y_faces(const StageIn& s, const Grid2& gr, const Region& reg, std::size_t s_row, double* y, double& out_per_m) {
  const long long ss = static_cast<long long>(s_row);
  for (std::size_t c = reg.c0; c < reg.c1; ++c) {
    const long long cc = static_cast<long long>(c);
    put(y, c - reg.c0, face_flux(s, gr, ss - 1, cc, ss, cc, Axis::y, out_per_m));
  }
}

// The cells of row r: fluxes through their faces, the surface slope inside
// them, semi-implicit Manning friction, the blend with the stage's base.
void update_row(const StageIn& s, const Grid2& gr, const Region& reg, std::size_t r, const RowFaces& f,
                const StageOut& out, double dt_s) {
  const double dtdx = dt_s / gr.dx, dtdy = dt_s / gr.dy;
  for (std::size_t c = reg.c0; c < reg.c1; ++c) {
    const std::size_t i = r * gr.cols + c, k = c - reg.c0;
    if (!gr.inside[i]) continue;
    const Flux2 w = get(f.x, k), e = get(f.x, k + 1), n = get(f.north, k), so = get(f.south, k);
    // The cell's own push down its surface slope (Audusse's centred source term).
    const FaceValues sx = limited_slopes(s, gr, r, c, Axis::x), sy = limited_slopes(s, gr, r, c, Axis::y);
    const double push_x = g * s.h[i] * sx.eta, push_y = g * s.h[i] * sy.eta;
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
    const std::size_t rows = reg.r1 - reg.r0, width = reg.c1 - reg.c0;
    const std::size_t a = reg.r0 + rows * t / team, b = reg.r0 + rows * (t + 1) / team;
    double* base = scratch + t * scratch_per_thread;
    RowFaces f{base, base + 4 * (width + 1), base + 4 * (2 * width + 1)};
    if (a < b) y_faces(s, gr, reg, a, f.north, out_m2_s_y);
    for (std::size_t r = a; r < b; ++r) {
      x_faces(s, gr, reg, r, f.x, out_m2_s_x);
      y_faces(s, gr, reg, r + 1, f.south, out_m2_s_y);
      update_row(s, gr, reg, r, f, out, dt_s);
      std::swap(f.north, f.south);
    }
  }
  return out_m2_s_x * gr.dy + out_m2_s_y * gr.dx;
}

}  // namespace

// ---- The step ----------------------------------------------------------------------------

std::size_t FloodModel::second_order_scratch_doubles() const {
  // Per thread: x faces across a row and two rows of y faces, four doubles a face.
  return 4 * (3 * cols_ + 1);
}

void FloodModel::set_up_second_order() {
  const std::size_t n = grid_.cell_count();
  fv2_h_.assign(n, 0.0);
  fv2_qx_.assign(n, 0.0);
  fv2_qy_.assign(n, 0.0);
  fv2_scratch_.assign(static_cast<std::size_t>(team_max_) * second_order_scratch_doubles(), 0.0);
}

void FloodModel::step_second_order(double dt_s) {
  const Grid2 gr{z_.data(), inside_.data(), n2_.data(), cols_, rows_, dx_, dy_,
                 open_west_, open_east_, open_north_, open_south_};
  // The wet box holds every wet cell and one more all round. Water moves at
  // most one cell per stage, so the second stage updates one cell beyond it;
  // its faces read the first stage's state two cells further.
  const auto grown = [&](std::size_t k) {
    return Region{r0_ > k ? r0_ - k : 0, std::min(rows_, r1_ + k), c0_ > k ? c0_ - k : 0, std::min(cols_, c1_ + k)};
  };
  const Region second = grown(1), first = grown(3);
  const int threads = setup_.threads;
  const std::size_t per_thread = second_order_scratch_doubles();

  const StageIn now{h_.data(), qx_.data(), qy_.data()};
  const StageOut to_first{h_.data(), qx_.data(), qy_.data(), 0.0, fv2_h_.data(), fv2_qx_.data(), fv2_qy_.data()};
  const double out1_m3_s = run_stage(now, gr, first, to_first, dt_s, fv2_scratch_.data(), per_thread, threads);

  // The second stage reads the first's state and writes the average into the model's own,
  // where each cell reads only its own old value.
  const StageIn mid{fv2_h_.data(), fv2_qx_.data(), fv2_qy_.data()};
  const StageOut to_end{h_.data(), qx_.data(), qy_.data(), 0.5, h_.data(), qx_.data(), qy_.data()};
  const double out2_m3_s = run_stage(mid, gr, second, to_end, dt_s, fv2_scratch_.data(), per_thread, threads);
  outflow_m3_ += 0.5 * dt_s * (out1_m3_s + out2_m3_s);
  cell_updates_ += first.cells() + second.cells();
  ++steps_;
  time_s_ += dt_s;
  finish_second_order_step(second.r0, second.r1, second.c0, second.c1);
}

// After a step: envelopes, the wet box and the next time step, from the cells the step changed.
void FloodModel::finish_second_order_step(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
  const float time_s = static_cast<float>(time_s_), arrival_depth = static_cast<float>(setup_.arrival_depth_m);
  long long rmin = static_cast<long long>(rows_), rmax = -1, cmin = static_cast<long long>(cols_), cmax = -1;
  double rate = 0.0;
  for (std::size_t r = r0; r < r1; ++r)
    for (std::size_t c = c0; c < c1; ++c) {
      const std::size_t i = r * cols_ + c;
      const double h = h_[i];
      if (!inside_[i] || !(h > 0.0)) continue;
      const long long rr = static_cast<long long>(r), cc = static_cast<long long>(c);
      rmin = std::min(rmin, rr), rmax = std::max(rmax, rr);
      cmin = std::min(cmin, cc), cmax = std::max(cmax, cc);
      const double u = cell_velocity(qx_[i], h), v = cell_velocity(qy_[i], h), a = std::sqrt(g * h);
      rate = std::max(rate, (std::abs(u) + a) / dx_ + (std::abs(v) + a) / dy_);
      note_envelopes(i, h, u, v, time_s, arrival_depth);
    }
  set_wet_box(rmin, rmax, cmin, cmax);
  // The sum of the two directional Courant numbers stays below cfl (<= 1/2).
  next_dt_s_ = rate > 0.0 ? setup_.cfl / rate : std::numeric_limits<double>::infinity();
}

}  // namespace cadereau::sim::flood
