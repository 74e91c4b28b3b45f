#pragma once
// Two-dimensional shallow-water flood model on a DEM grid.
//
// Finite volumes, first-order Godunov with HLL fluxes and the hydrostatic
// reconstruction of Audusse et al. (2004): a lake at rest stays exactly at
// rest over any bed, depths never go negative, wet/dry fronts and
// transcritical flow (hydraulic jumps) are handled. Manning friction is
// semi-implicit so thin sheets on steep slopes stay stable. The time step
// adapts to the CFL condition. Only the wet region (plus one cell) is
// computed, so dry land costs nothing. Cells whose DEM is nodata are outside
// the domain and act as walls, as do the domain edges unless told otherwise.

#include "cadereau/sim/flood/time_series.h"
#include "cadereau/twin/raster.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

namespace cadereau::sim::flood {

inline constexpr double kGravity_m_s2 = 9.81;

struct PointInflow {
  std::string label;
  twin::MapPoint location;  // in the DEM's CRS
  TimeSeries discharge_m3_s;
};

// The numerical scheme. finite_volume solves the full shallow-water equations
// (transcritical flow, hydraulic jumps), first order in space and time;
// finite_volume_2 solves them to second order (MUSCL reconstruction of the
// surface, depth and discharges with a minmod limiter, Heun's two-stage
// Runge-Kutta; first order at wet/dry fronts and walls): sharper fronts and
// less numerical diffusion, for two stages a step and half the time step,
// written one cell at a time (15 to 25 times the wall time per simulated
// hour of the eight-cell first-order kernels on EA Tests 4 and 5); local_inertial drops the
// advection term (Bates et al. 2010, the "ACC" solver of LISFLOOD-FP):
// cheaper per step, for quick screening of slow, subcritical floodplain flow
// only.
enum class Scheme { finite_volume, finite_volume_2, local_inertial };

// The scheme's name in files and events ("finite_volume", "finite_volume_2",
// "local_inertial"), and back (nullopt for any other text).
const char* scheme_id(Scheme scheme);
std::optional<Scheme> scheme_from_id(std::string_view id);

// Rain that differs in space: every cell belongs to at most one zone and
// rains that zone's hyetograph (mm/h), times an optional per-cell factor.
struct RainZones {
  twin::Raster zone;              // on the DEM grid; whole value k in [0, mm_h.size()) = zone k; nodata or negative = no rain
  std::vector<TimeSeries> mm_h;   // one hyetograph per zone index
};

// Rain zones from gauges: each cell rains the hyetograph of its nearest gauge
// (Thiessen polygons; a cell equally near two gauges takes the first). Gauges
// are in the grid's CRS and may lie outside it; mm_h[k] belongs to gauges[k].
// The zone raster has no CRS of its own. Throws cadereau::Error when there is
// no gauge or the counts of gauges and hyetographs differ.
RainZones nearest_gauge_zones(const twin::GridSpec& grid, const std::vector<twin::MapPoint>& gauges,
                              std::vector<TimeSeries> mm_h);

struct FloodSetup {
  twin::Raster dem;                         // bed elevation (m); nodata = outside
  double manning_n = 0.03;                  // used where manning raster is absent; 0 = frictionless
  std::optional<twin::Raster> manning;      // Manning n on the DEM grid
  std::vector<PointInflow> inflows;
  std::optional<TimeSeries> rain_mm_h;      // uniform over the domain
  std::optional<RainZones> rain_zones;      // added to rain_mm_h if both are given
  std::optional<twin::Raster> rain_factor;  // per-cell multiplier (>= 0) applied to all rain (a radar
                                            // pattern); DEM grid; nodata = 1
  std::optional<double> initial_wse_m;      // water surface where above the bed
  std::optional<twin::Raster> initial_depth;  // depth (m) on the DEM grid
  bool open_boundaries = false;             // free outflow through every domain edge
  struct OpenEdges {
    bool west = false, east = false, north = false, south = false;
  } open_edges;                             // free outflow through these edges only
  double cfl = 0.45;                        // finite_volume: sum of the Courant numbers of the two axes
                                            // <= 2 cfl; finite_volume_2: <= cfl
  double arrival_depth_m = 0.01;            // depth that counts as "water has arrived"
  int threads = 0;                          // 0: OpenMP's default
  Scheme scheme = Scheme::finite_volume;
  double inertial_alpha = 0.7;              // local_inertial: dt = alpha dx / sqrt(g h_max)
  // finite_volume: compute eight cells at a time with AVX-512 where the
  // processor has it. The results are the same to the last bit either way;
  // false keeps the one-cell kernels (to check exactly that).
  bool wide_kernels = true;
};

// Volumes in m3 since the start (or since the last restore()). Water put on
// or taken off the grid by nudge_level() is counted apart from the forcing:
// stored = initial + rain + inflow - outflow + nudged_in - nudged_out.
struct MassBalance {
  double initial_m3 = 0.0;
  double rain_m3 = 0.0;
  double inflow_m3 = 0.0;
  double outflow_m3 = 0.0;
  double nudged_in_m3 = 0.0;   // added to bring the water up to a gauge's reading
  double nudged_out_m3 = 0.0;  // taken out to bring it down
  double stored_m3 = 0.0;
  double error_rel() const;
};

// How a level gauge's reading corrects the water around it (nudge_level).
struct LevelNudge {
  // Cells whose centre lies within this distance of the gauge cell's centre
  // may move, weighted by Cressman's (R^2 - d^2) / (R^2 + d^2).
  double radius_m = 80.0;
  // The share of the gap between the model and the reading closed at the
  // gauge by one reading, in (0, 1].
  double gain = 0.5;
};

// What one nudge did.
struct NudgeResult {
  double model_wse_m = 0.0;   // water surface at the gauge cell before (the bed where dry)
  double nudged_wse_m = 0.0;  // and after
  double added_m3 = 0.0;      // water put on the grid
  double removed_m3 = 0.0;    // water taken off it
  std::size_t cells = 0;      // cells whose depth changed
};

// The water on the grid at one time: what a forecast or a what-if branch
// starts from. Per cell, row-major on the DEM grid.
struct FloodState {
  double time_s = 0.0;
  std::vector<double> depth_m;
  std::vector<double> discharge_east_m2_s;   // unit discharge h*u
  std::vector<double> discharge_north_m2_s;  // unit discharge h*v
};

class FloodModel {
 public:
  // Throws cadereau::Error for a setup that cannot run: a DEM that is all
  // nodata, an inflow outside the domain, a Manning, depth, rain zone or rain
  // factor raster on another grid, negative values (rain, discharge, factor),
  // a rain zone inside the domain without its hyetograph.
  explicit FloodModel(FloodSetup setup);

  // Advances to t_s with adaptive sub-steps (the last one shortened to land on t_s).
  // Stops short of t_s, without throwing (this is the solver's loop), once
  // stalled(), or when the water stops being finite (the clock then is not
  // finite either): the driver checks between calls (check_progress in
  // flood_run.h) and says where.
  void advance_to(double t_s);

  // A run crawls when stability forces steps below kMinStep_s: after
  // kMaxTinySteps of them in a row it could take days to reach its end.
  static constexpr double kMinStep_s = 1e-4;
  static constexpr int kMaxTinySteps = 100;
  bool stalled() const { return tiny_steps_in_a_row_ >= kMaxTinySteps; }
  // The cell whose waves limit the time step most, for messages.
  std::size_t fastest_cell() const;
  // The first cell inside the domain whose depth or discharge is not finite.
  std::optional<std::size_t> first_non_finite_cell() const;

  double time_s() const { return time_s_; }
  std::uint64_t steps() const { return steps_; }
  std::uint64_t cell_updates() const { return cell_updates_; }
  // The bytes one cell update streams from and to memory when the grid is
  // far larger than the caches, as the layout of the step implies (each
  // array read or written once per pass; write-allocate traffic left out, as
  // STREAM leaves it out): with a measured bandwidth in bytes/s, it bounds
  // the cell updates per second a memory-bound step could reach.
  double bytes_per_cell_update() const;
  const twin::GridSpec& grid() const { return grid_; }
  const twin::Crs& crs() const { return crs_; }

  double depth_m(std::size_t cell) const { return h_[cell]; }
  // Velocity components (east, north), m/s; zero in dry cells.
  double velocity_east_m_s(std::size_t cell) const;
  double velocity_north_m_s(std::size_t cell) const;
  double speed_m_s(std::size_t cell) const;
  double bed_m(std::size_t cell) const { return z_[cell]; }
  bool inside(std::size_t cell) const { return inside_[cell] != 0; }

  std::size_t wet_cells(double threshold_m = 1e-3) const;

  // Forcing changed while the model runs (an inject: the cadereau rises,
  // the rain doubles over a zone): from from_s on, inflow k (in the order of
  // FloodSetup::inflows), the uniform rain, or rain zone k follows `series`
  // (seconds, m3/s or mm/h); before from_s nothing changes. Throws Error for
  // an index out of range, a time before the model's clock, or a negative or
  // non-finite value.
  void replace_inflow(std::size_t k, double from_s, const TimeSeries& series);
  void replace_rain(double from_s, const TimeSeries& series);
  void replace_zone_rain(std::size_t zone, double from_s, const TimeSeries& series);

  // Relaxes the water surface around a level gauge toward a reading
  // (Newtonian nudging), now, between two steps. gap = target_wse_m minus
  // the surface at gauge_cell. Starting from gauge_cell, cells within
  // how.radius_m joined to it through water (4-neighbours) move their
  // surface by gain x w(d) x gap, w the Cressman weight of their distance:
  // the local slope of the water is kept rather than flattened. No cell is
  // moved past target_wse_m (one already beyond it stays as it is) and no
  // depth goes below zero. Raising, a dry cell joins when the surface of
  // the wet cell it is reached from, so raised, lies above its bed: water
  // spreads onto low ground next to the gauge's water, never onto ground
  // above the reading. Lowering takes water from wet cells only. A wet
  // cell keeps its velocity (its discharge scales with its depth), water
  // put on dry ground is at rest, a cell drained dry loses its discharge;
  // the face discharges of the local-inertial scheme are left as they are.
  // The volumes go to the mass balance as nudged_in_m3 and nudged_out_m3.
  // Throws cadereau::Error for a cell outside the domain, a target that is
  // not finite, a negative radius or a gain outside (0, 1].
  NudgeResult nudge_level(std::size_t gauge_cell, double target_wse_m, const LevelNudge& how);

  FloodState capture() const;
  // Replaces the water and the clock. The mass balance (nudged volumes
  // included) restarts from the restored volume; envelopes keep their maxima. Throws cadereau::Error when
  // the state does not fit the grid or holds negative or non-finite depths.
  void restore(const FloodState& state);
  MassBalance mass_balance() const;

  // Envelopes since the start (nodata outside the domain; arrival nodata where never wet).
  twin::Raster depth_raster() const;
  twin::Raster max_depth_raster() const;
  twin::Raster max_speed_raster() const;
  twin::Raster arrival_time_raster() const;
  twin::Raster max_hazard_raster() const;  // FD2320: depth x (speed + 0.5)
  double max_depth_m() const;

  static constexpr float kNodata = -9999.0f;

 private:
  void step(double dt_s);
  void step_inertial(double dt_s);
  // The finite-volume step, by rows (flood_model.cpp says how), and what it needs.
  void set_up_finite_volume();
  void step_finite_volume(double dt_s);
  struct Sweep;
  void sweep_rows(Sweep& sweep, int chunk);
  // The second-order step (fv2_step.cpp) and what it needs.
  void set_up_second_order();
  std::size_t second_order_scratch_doubles() const;
  void step_second_order(double dt_s);
  void finish_second_order_step(std::size_t r0, std::size_t r1);
  void x_faces(Sweep& sweep, std::size_t r, const double* ux, const double* vy, double* out) const;
  void y_faces(Sweep& sweep, std::size_t s, const double* ux_up, const double* vy_up, const double* ux_down,
               const double* vy_down, double* out) const;
  void velocities(std::size_t r, double* ux, double* vy) const;
  // Columns [lo, hi) of row r that the finite-volume step updates; empty outside the grid.
  std::pair<std::size_t, std::size_t> row_range(long long r) const;
  void set_rows_from_wet_extents(std::size_t from_r, std::size_t to_r);
  double stable_dt_s() const;
  // Grows the wet box to take in rows [lo_r, hi_r) and columns [lo_c, hi_c).
  void grow_wet_box(std::size_t lo_r, std::size_t hi_r, std::size_t lo_c, std::size_t hi_c);
  // Checks the rain zones and factor and lays out the per-cell rain; throws cadereau::Error.
  void set_up_rain();
  // The largest rain depth (m) any cell receives over [t0_s, t1_s].
  double max_rain_m(double t0_s, double t1_s) const;
  // Adds the rain of [t0_s, t1_s] to every cell; returns the depth added, summed over cells (m).
  double add_rain(double t0_s, double t1_s);
  // 1 / (largest stable time step) for cell i holding extra_depth_m more water.
  double cell_rate(std::size_t i, double extra_depth_m) const;
  // The increase of that rate when depth_m is added to every cell (an upper bound).
  double depth_rate(double depth_m) const;
  void update_wet_box();
  void set_wet_box(long long rmin, long long rmax, long long cmin, long long cmax);
  // Maxima of depth, speed and hazard, and the arrival time, for a wet cell.
  void note_envelopes(std::size_t i, double h, double u, double v, float time_s, float arrival_depth_m) {
    const float speed = static_cast<float>(std::sqrt(u * u + v * v));
    const float hf = static_cast<float>(h);
    if (hf > max_h_[i]) max_h_[i] = hf;
    if (speed > max_speed_[i]) max_speed_[i] = speed;
    const float hazard = hf * (speed + 0.5f);  // FD2320 hazard rating, debris factor left out
    if (hazard > max_hazard_[i]) max_hazard_[i] = hazard;
    if (arrival_s_[i] < 0.0f && hf >= arrival_depth_m) arrival_s_[i] = time_s;
  }

  twin::GridSpec grid_;
  twin::Crs crs_;
  FloodSetup setup_;
  std::size_t cols_ = 0, rows_ = 0;
  double dx_ = 1.0, dy_ = 1.0, cell_area_m2_ = 1.0;

  // Structure of arrays, one entry per cell (row-major); momenta along +col
  // (east) and +row (south). The bed is single precision as the DEM is.
  std::vector<double> h_, qx_, qy_, n2_;
  std::vector<float> z_;
  std::vector<std::uint8_t> inside_;
  // Faces where the domain ends (one side inside, the other outside or off
  // the grid), per row of faces: x faces of row r at x_edges_[x_edge_start_[r]
  // .. x_edge_start_[r+1]) (face c joins cells c-1 and c), y faces between
  // rows s-1 and s at y_edges_[y_edge_start_[s] .. y_edge_start_[s+1]).
  std::vector<std::uint32_t> x_edges_, x_edge_start_, y_edges_, y_edge_start_;
  // The finite-volume wet region by rows: row r updates columns [row_lo_[r],
  // row_hi_[r]) (every cell that may change in a step: the wet cells of rows
  // r-1..r+1 and one more on each side); wet_lo_/wet_hi_ hold the wet cells
  // of each row after a step.
  std::vector<std::uint32_t> row_lo_, row_hi_, wet_lo_, wet_hi_;
  // Per thread of the step: velocity rows, face rows; per chunk of rows, the
  // faces on its northern edge and the last step that computed them; the
  // work before each row, to share rows out.
  int team_max_ = 1;
  std::vector<double> scratch_, chunk_north_;
  std::vector<std::uint64_t> chunk_ready_, row_work_;
  bool wide_ = false;  // AVX-512 kernels
  // Second order: the state after the first stage, the velocities of the
  // stage being computed, and per thread, rows of faces and differences.
  std::vector<double> fv2_h_, fv2_qx_, fv2_qy_, fv2_u_, fv2_v_, fv2_scratch_;
  std::vector<std::uint32_t> fv2_range_lo_, fv2_range_hi_;  // the stages' columns by row (fv2_step.cpp)
  // Local-inertial unit discharges on faces, kept between steps (m2/s; +col, +row).
  std::vector<double> li_qx_, li_qy_, li_out_factor_;
  // Envelopes.
  std::vector<float> max_h_, max_speed_, arrival_s_, max_hazard_;

  struct Source {
    std::size_t cell;
    const TimeSeries* discharge;
  };
  std::vector<Source> sources_;

  // Rain: each cell draws from one slot (zone k, or the last slot for cells in
  // no zone) whose depth this step is uniform + zone k; it is scaled by the
  // cell's factor. Slots are filled once per step, so a cell costs one lookup.
  bool any_rain_ = false;
  std::vector<const TimeSeries*> slot_series_;  // per slot, the zone hyetograph (nullptr: none)
  std::vector<double> slot_rain_m_;             // per slot, depth this step (uniform + zone)
  std::vector<double> slot_max_factor_;         // per slot, the largest factor of its cells inside the domain
  std::vector<std::uint16_t> rain_slot_;        // per cell, when there are zones
  std::vector<float> rain_factor_;              // per cell, when there is a factor raster
  // Rows [r0, r1) and cols [c0, c1): every cell that may receive rain, and one more all round.
  std::size_t rain_r0_ = 0, rain_r1_ = 0, rain_c0_ = 0, rain_c1_ = 0;

  // Active box: rows [r0, r1), cols [c0, c1).
  std::size_t r0_ = 0, r1_ = 0, c0_ = 0, c1_ = 0;
  bool any_water_ = false;
  bool open_west_ = false, open_east_ = false, open_north_ = false, open_south_ = false;

  double time_s_ = 0.0;
  double next_dt_s_ = 0.0;
  int tiny_steps_in_a_row_ = 0;
  std::uint64_t steps_ = 0;
  std::uint64_t cell_updates_ = 0;
  double rain_m3_ = 0.0, inflow_m3_ = 0.0, outflow_m3_ = 0.0, initial_m3_ = 0.0;
  double nudged_in_m3_ = 0.0, nudged_out_m3_ = 0.0;
  std::size_t inside_count_ = 0;
};

}  // namespace cadereau::sim::flood
