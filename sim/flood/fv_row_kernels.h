// The three kernels of the finite-volume step, on one row of the grid:
// cell velocities, face fluxes (the same routine for faces across columns
// and across rows), and the cell update. Each is written once over a
// "lanes" type: Scalar (one cell) or the pack of the including file (eight
// cells in one SIMD register), with the same arithmetic in the same order,
// so a cell's result does not depend on which one computed it.
//
// No include guard on purpose: flood_model.cpp includes this file once per
// instruction set, inside a namespace compiled with the matching target
// options; the row loops take the pack type as Wide.

// Inverse cube roots start from minus the exponent divided by three, done on
// the high word of the double's bits (the trick of Kahan's cbrt seed): good
// to some 5 bits.
constexpr std::uint32_t kInverseCbrtSeed = 0x553ef0ffu;

// One cell per lane set.
struct Scalar {
  using D = double;
  using F = float;
  using M = bool;
  static constexpr std::size_t kLanes = 1;
  static D load(const double* p) { return *p; }
  static D load(const float* p) { return *p; }
  static F load_f(const float* p) { return *p; }
  static void store(double* p, D v) { *p = v; }
  static void store_f(float* p, F v) { *p = v; }
  static M inside(const std::uint8_t* p) { return *p != 0; }
  static D splat(double v) { return v; }
  static F splat_f(float v) { return v; }
  static D sel(M m, D a, D b) { return m ? a : b; }
  static F sel_f(M m, F a, F b) { return m ? a : b; }
  static M lnot(M m) { return !m; }
  static D sqrt(D v) { return std::sqrt(v); }
  static D inverse_cbrt_seed(D v) {
    const std::uint32_t hi = static_cast<std::uint32_t>(std::bit_cast<std::uint64_t>(v) >> 32);
    return std::bit_cast<double>(static_cast<std::uint64_t>(kInverseCbrtSeed - hi / 3u) << 32);
  }
  static D abs(D v) { return std::abs(v); }
  static F to_f(D v) { return static_cast<float>(v); }
  static M f_mask(bool m) { return m; }
  static double max_of(D v) { return v; }
};

// std::max and std::min, lane by lane, with their NaN behaviour.
template <class L>
typename L::D vmax(typename L::D a, typename L::D b) {
  return L::sel(a < b, b, a);
}
template <class L>
typename L::D vmin(typename L::D a, typename L::D b) {
  return L::sel(b < a, b, a);
}

// 1 / cbrt(x) for x > 0 to about one unit in the last place, with no
// division so that it vectorises cheaply: four Newton steps
// r <- r + r (1 - x r^3) / 3 from the seed (5, 10, 20, 40, then 53 bits).
// The result for x = 0 is not infinite: callers select it away.
template <class L>
typename L::D inverse_cube_root(typename L::D x) {
  typename L::D r = L::inverse_cbrt_seed(x);
  for (int k = 0; k < 4; ++k) r = r + r * (1.0 - x * (r * r * r)) * (1.0 / 3.0);
  return r;
}

// Velocity of each cell of [lo, hi): none in a film too thin to carry momentum.
template <class L>
inline void velocity_lanes(const double* h, const double* qx, const double* qy, double* ux, double* vy,
                           std::size_t c) {
  const auto hh = L::load(h + c);
  const auto wet = hh > L::splat(kDryDepth_m);
  const auto inv_h = 1.0 / hh;
  L::store(ux + c, L::sel(wet, L::load(qx + c) * inv_h, L::splat(0.0)));
  L::store(vy + c, L::sel(wet, L::load(qy + c) * inv_h, L::splat(0.0)));
}

// HLL flux through face k after the hydrostatic reconstruction of Audusse
// et al. (2004); the left side is west or north. un: normal velocity, ut:
// transverse velocity.
template <class L>
inline void face_lanes(const FaceSide& l, const FaceSide& r, const FaceRow& out, std::size_t k) {
  using D = typename L::D;
  const D hl = L::load(l.h + k), ul = L::load(l.un + k), vl = L::load(l.ut + k), zl = L::load(l.z + k);
  const D hr = L::load(r.h + k), ur = L::load(r.un + k), vr = L::load(r.ut + k), zr = L::load(r.z + k);
  const D zero = L::splat(0.0);
  const D zf = vmax<L>(zl, zr);
  const D hls = vmax<L>(zero, hl + zl - zf);
  const D hrs = vmax<L>(zero, hr + zr - zf);
  const D cl = L::sqrt(g * hls);
  const D cr = L::sqrt(g * hrs);
  // Wave speeds; a dry side takes the dry-front speed of the wet one.
  const auto left_dry = hls <= zero, right_dry = hrs <= zero;
  const D sl = L::sel(left_dry, ur - 2.0 * cr, L::sel(right_dry, ul - cl, vmin<L>(ul - cl, ur - cr)));
  const D sr = L::sel(left_dry, ur + cr, L::sel(right_dry, ul + 2.0 * cl, vmax<L>(ul + cl, ur + cr)));
  const D ql = hls * ul, qr = hrs * ur;
  const D fl1 = ql * ul + 0.5 * g * hls * hls;
  const D fr1 = qr * ur + 0.5 * g * hrs * hrs;
  const D inv = 1.0 / (sr - sl);
  const D mass_star = (sr * ql - sl * qr + sl * sr * (hrs - hls)) * inv;
  const D p_star = (sr * fl1 - sl * fr1 + sl * sr * (qr - ql)) * inv;
  const auto upwind_left = sl >= zero, upwind_right = sr <= zero;
  const auto any_water = (hls > zero) | (hrs > zero);
  const D mass = L::sel(any_water, L::sel(upwind_left, ql, L::sel(upwind_right, qr, mass_star)), zero);
  const D p = L::sel(any_water, L::sel(upwind_left, fl1, L::sel(upwind_right, fr1, p_star)), zero);
  L::store(out.mass + k, mass);
  L::store(out.mom_l + k, p + 0.5 * g * (hl * hl - hls * hls));
  L::store(out.mom_r + k, p + 0.5 * g * (hr * hr - hrs * hrs));
  L::store(out.trans + k, L::sel(any_water, L::sel(mass > zero, mass * vl, mass * vr), zero));
}

// Cell c of a row: the fluxes through its four faces, semi-implicit Manning
// friction, then, where wet, its limit on the next step and its envelopes.
// Returns that limit (1 / s, the largest over its lanes).
template <class L>
inline typename L::D cell_lanes(const CellRow& a, std::size_t c, typename L::D rate) {
  using D = typename L::D;
  const D zero = L::splat(0.0);
  const D h0 = L::load(a.h + c), qx0 = L::load(a.qx + c), qy0 = L::load(a.qy + c);
  const D dtdx = L::splat(a.dtdx), dtdy = L::splat(a.dtdy);
  D h = h0 - dtdx * (L::load(a.xf.mass + c + 1) - L::load(a.xf.mass + c)) -
        dtdy * (L::load(a.south.mass + c) - L::load(a.north.mass + c));
  D qx = qx0 - dtdx * (L::load(a.xf.mom_l + c + 1) - L::load(a.xf.mom_r + c)) -
         dtdy * (L::load(a.south.trans + c) - L::load(a.north.trans + c));
  D qy = qy0 - dtdx * (L::load(a.xf.trans + c + 1) - L::load(a.xf.trans + c)) -
         dtdy * (L::load(a.south.mom_l + c) - L::load(a.north.mom_r + c));
  // Roundoff can leave -1e-17 m; there is no momentum to keep in a film this thin.
  const auto thin = h < L::splat(kDryDepth_m);
  h = L::sel(h < zero, zero, h);
  const D n2 = L::load(a.n2 + c);
  // 1 / h^(7/3) as (1 / h)^2 times 1 / cbrt(h): one division serves the velocities too.
  const D inv_h = 1.0 / h;
  const D q = L::sqrt(qx * qx + qy * qy);
  const D factor = 1.0 + L::splat(a.dtg) * n2 * q * (inv_h * inv_h * inverse_cube_root<L>(h));
  const D inv_factor = 1.0 / factor;
  const auto rough = n2 > zero;
  qx = L::sel(thin, zero, L::sel(rough, qx * inv_factor, qx));
  qy = L::sel(thin, zero, L::sel(rough, qy * inv_factor, qy));
  // Cells outside the domain keep their zeros.
  const auto inside = L::inside(a.inside + c);
  h = L::sel(inside, h, h0);
  qx = L::sel(inside, qx, qx0);
  qy = L::sel(inside, qy, qy0);
  L::store(a.h + c, h);
  L::store(a.qx + c, qx);
  L::store(a.qy + c, qy);

  const auto wet = inside & (h > zero);
  const D u = L::sel(h > L::splat(kDryDepth_m), qx * inv_h, zero);
  const D v = L::sel(h > L::splat(kDryDepth_m), qy * inv_h, zero);
  const D celerity = L::sqrt(g * h);
  rate = L::sel(wet,
                vmax<L>(rate, (L::abs(u) + celerity) * L::splat(a.inv_dx) + (L::abs(v) + celerity) * L::splat(a.inv_dy)),
                rate);
  // Envelopes (FloodModel::note_envelopes, lane by lane).
  const auto speed = L::to_f(L::sqrt(u * u + v * v));
  const auto hf = L::to_f(h);
  const auto max_h = L::load_f(a.max_h + c), max_speed = L::load_f(a.max_speed + c);
  const auto max_hazard = L::load_f(a.max_hazard + c), arrival = L::load_f(a.arrival_s + c);
  const auto hazard = hf * (speed + 0.5f);
  const auto wet_f = L::f_mask(wet);
  L::store_f(a.max_h + c, L::sel_f(wet_f & (hf > max_h), hf, max_h));
  L::store_f(a.max_speed + c, L::sel_f(wet_f & (speed > max_speed), speed, max_speed));
  L::store_f(a.max_hazard + c, L::sel_f(wet_f & (hazard > max_hazard), hazard, max_hazard));
  L::store_f(a.arrival_s + c, L::sel_f(wet_f & (arrival < 0.0f) & (hf >= a.arrival_depth), L::splat_f(a.time_s), arrival));
  return rate;
}

// The row loops: whole packs, then the cells left over one at a time.
template <class Wide>
void velocity_row(const double* h, const double* qx, const double* qy, double* ux, double* vy, std::size_t lo,
                         std::size_t hi) {
  std::size_t c = lo;
  for (; c + Wide::kLanes <= hi; c += Wide::kLanes) velocity_lanes<Wide>(h, qx, qy, ux, vy, c);
  for (; c < hi; ++c) velocity_lanes<Scalar>(h, qx, qy, ux, vy, c);
}

template <class Wide>
void face_row(const FaceSide& l, const FaceSide& r, const FaceRow& out, std::size_t n) {
  std::size_t k = 0;
  for (; k + Wide::kLanes <= n; k += Wide::kLanes) face_lanes<Wide>(l, r, out, k);
  for (; k < n; ++k) face_lanes<Scalar>(l, r, out, k);
}

template <class Wide>
double cell_row(const CellRow& a, std::size_t lo, std::size_t hi) {
  std::size_t c = lo;
  typename Wide::D wide_rate = Wide::splat(0.0);
  for (; c + Wide::kLanes <= hi; c += Wide::kLanes) wide_rate = cell_lanes<Wide>(a, c, wide_rate);
  double rate = Wide::max_of(wide_rate);
  for (; c < hi; ++c) rate = cell_lanes<Scalar>(a, c, rate);
  return rate;
}
