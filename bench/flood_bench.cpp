// cadereau-bench-flood: the flood model on published benchmarks, with its
// speed as per-unit figures (cell updates per second, seconds of wall time
// per simulated hour).
//
//   cadereau-bench-flood ea4 [--cell M] [--hours H] [--threads N] [--scheme fv|inertial]
//   cadereau-bench-flood ea5 [--data DIR] [--hours H] [--threads N] [--sample S] [--scheme fv,fv2,...]
//   cadereau-bench-flood carlisle [--data DIR] [--hours H] [--threads N] [--open-edges|--closed-edges] [--scheme ...]
//   cadereau-bench-flood wet [--cells N] [--seconds S] [--threads N] [--scheme ...]
//
// ea4: UK Environment Agency 2D benchmark Test 4 (Néelz & Pender 2013,
// "Benchmarking the latest generation of 2D hydraulic modelling packages",
// report SC120002): flood propagation over a flat 1000 m (west-east) x 2000 m
// (south-north) floodplain, inflow along a 20 m line in the middle of the
// western side, Manning n 0.05, closed edges, 5 m cells.
// ea5, carlisle: the LISFLOOD-FP cases in $CADEREAU_SHARED_DATA/flood-benchmarks.
// ea5 sets each scheme's depth series at the 7 points beside LISFLOOD-FP
// 8.0's DG2 and ACC runs (reference/ in the case folder): peak, time of peak,
// arrival, and the RMSE of each series over the run.
// wet: a square city grid of 5 m cells (a million by default) under water
// everywhere, streets and blocks on a tilted bed, a sloshing surface: every
// cell is updated at every step, so the rate is the solver's own.
//
// ea4 and wet also measure the machine's memory bandwidth in the same run
// (a STREAM triad on the same number of threads) and set the bytes the
// solver's layout streams per cell update against it. Each subcommand ends
// with one "benchmark: ..." line; ea4 and wet print a digest of the final
// water state, equal between builds that compute the same bits.

#include "cadereau/sim/flood/flood_model.h"
#include "cadereau/sim/flood/flood_run.h"
#include "cadereau/sim/flood/gauge_comparison.h"
#include "cadereau/sim/flood/lisflood_case.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <numbers>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace cadereau::sim::flood;
using cadereau::twin::Crs;
using cadereau::twin::GridSpec;
using cadereau::twin::MapPoint;
using cadereau::twin::Raster;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Memory bandwidth as STREAM's triad measures it (a = b + s c over arrays
// far larger than any cache, 24 bytes counted per element, the write's
// read-for-ownership left out as STREAM does), best of several passes, on
// `threads` threads: the ceiling a memory-bound solver could reach.
double triad_bytes_per_s(int threads) {
  constexpr std::size_t kElements = std::size_t{1} << 24;  // 3 x 128 MiB
  constexpr int kPasses = 6;
  const auto a = std::make_unique_for_overwrite<double[]>(kElements);
  const auto b = std::make_unique_for_overwrite<double[]>(kElements);
  const auto c = std::make_unique_for_overwrite<double[]>(kElements);
  const long long n = static_cast<long long>(kElements);
  // First touch on the threads that use the pages.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (long long i = 0; i < n; ++i) a[i] = 0.0, b[i] = 1.0, c[i] = 2.0;
  double best_s = std::numeric_limits<double>::infinity();
  for (int pass = 0; pass < kPasses; ++pass) {
    const auto t0 = Clock::now();
    const double scalar = 3.0 + pass;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long long i = 0; i < n; ++i) a[i] = b[i] + scalar * c[i];
    best_s = std::min(best_s, seconds_since(t0));
  }
  volatile double sink = a[n / 2];  // keeps the passes
  (void)sink;
  return 3.0 * sizeof(double) * static_cast<double>(kElements) / best_s;
}

// FNV-1a over the bits of the final water state: two builds that print the
// same digest computed the same depths and discharges to the last bit.
std::uint64_t state_digest(const FloodModel& m) {
  const FloodState s = m.capture();
  std::uint64_t hash = 1469598103934665603ull;
  for (const auto* field : {&s.depth_m, &s.discharge_east_m2_s, &s.discharge_north_m2_s})
    for (double v : *field) {
      const std::uint64_t bits = std::bit_cast<std::uint64_t>(v);
      for (int k = 0; k < 8; ++k) hash = (hash ^ ((bits >> (8 * k)) & 0xffu)) * 1099511628211ull;
    }
  return hash;
}

// The cell-update rate set against the bandwidth: the bytes the layout
// streams per update (the model's own figure), the traffic this rate implies,
// and its share of the triad's.
std::string bandwidth_fields(const FloodModel& m, double cell_updates_per_s, double triad_b_s) {
  const double bytes = m.bytes_per_cell_update();
  const double used_b_s = bytes * cell_updates_per_s;
  fmt::print("memory: triad {:.1f} GB/s; {:.0f} bytes per cell update x {:.3e} updates/s = {:.1f} GB/s, {:.0f}% of "
             "the triad (a rate bound by bandwidth alone would be {:.3e} updates/s)\n",
             triad_b_s / 1e9, bytes, cell_updates_per_s, used_b_s / 1e9, 100.0 * used_b_s / triad_b_s,
             triad_b_s / bytes);
  return fmt::format(" triad_gb_s={:.1f} bytes_per_cell_update={:.0f} bandwidth_ratio={:.3f}", triad_b_s / 1e9, bytes,
                     used_b_s / triad_b_s);
}

struct Args {
  std::map<std::string, std::string> values;
  std::vector<std::string> flags;
  bool has(const std::string& k) const {
    return values.count(k) || std::find(flags.begin(), flags.end(), k) != flags.end();
  }
  double number(const std::string& k, double fallback) const {
    const auto it = values.find(k);
    if (it == values.end()) return fallback;
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0') cadereau::fail(k, "'{}' is not a number", it->second);
    return v;
  }
  std::optional<std::string> text(const std::string& k) const {
    const auto it = values.find(k);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& with_value,
                const std::vector<std::string>& flags) {
  Args a;
  for (int i = first; i < argc; ++i) {
    const std::string k = argv[i];
    if (std::find(with_value.begin(), with_value.end(), k) != with_value.end()) {
      if (i + 1 >= argc) cadereau::fail(k, "needs a value");
      a.values[k] = argv[++i];
    } else if (std::find(flags.begin(), flags.end(), k) != flags.end()) {
      a.flags.push_back(k);
    } else {
      cadereau::fail(k, "unknown option");
    }
  }
  return a;
}

// The folder of the shared reference data: $CADEREAU_SHARED_DATA, else <source>/../shared/data.
std::filesystem::path shared_data() {
  if (const char* env = std::getenv("CADEREAU_SHARED_DATA"); env && *env) return env;
  return std::filesystem::path(CADEREAU_SOURCE_DIR) / ".." / "shared" / "data";
}

// A gauge sampled at fixed intervals: peak, time of peak, first times past depth thresholds.
struct Gauge {
  std::string name;
  MapPoint location;
  std::size_t cell = 0;
  double bed_m = 0.0;
  std::vector<double> thresholds_m;
  double max_depth_m = 0.0, time_of_max_s = 0.0, max_speed_m_s = 0.0;
  std::vector<double> arrival_s;  // per threshold; < 0 when never reached
  std::vector<std::pair<double, double>> series;  // (time_s, depth_m)

  void sample(const FloodModel& m) {
    const double h = m.depth_m(cell), t = m.time_s();
    if (h > max_depth_m) {
      max_depth_m = h;
      time_of_max_s = t;
    }
    max_speed_m_s = std::max(max_speed_m_s, m.speed_m_s(cell));
    for (std::size_t k = 0; k < thresholds_m.size(); ++k)
      if (arrival_s[k] < 0.0 && h >= thresholds_m[k]) arrival_s[k] = t;
    series.emplace_back(t, h);
  }
  double depth_at(double t_s) const {
    for (const auto& [t, h] : series)
      if (t >= t_s - 1e-6) return h;
    return series.empty() ? 0.0 : series.back().second;
  }
};

std::vector<Gauge> make_gauges(const FloodModel& m, const std::vector<std::pair<std::string, MapPoint>>& points,
                               const std::vector<double>& thresholds_m) {
  std::vector<Gauge> out;
  for (const auto& [name, p] : points) {
    const auto cell = m.grid().cell_at(p);
    if (!cell) cadereau::fail("gauge " + name, "({:.1f}, {:.1f}) is outside the grid", p.x_m, p.y_m);
    Gauge g;
    g.name = name;
    g.location = p;
    g.cell = m.grid().linear(*cell);
    g.bed_m = m.bed_m(g.cell);
    g.thresholds_m = thresholds_m;
    g.arrival_s.assign(thresholds_m.size(), -1.0);
    out.push_back(std::move(g));
  }
  return out;
}

struct RunStats {
  double wall_s = 0.0;
  std::uint64_t steps = 0, cell_updates = 0;
  double sim_s = 0.0;
  MassBalance mass;
  double min_dt_s = 0.0;
};

// Advances to until_s, sampling gauges every sample_s, with a progress line on stderr.
RunStats run(FloodModel& m, double until_s, double sample_s, std::vector<Gauge>& gauges, const std::string& label) {
  const bool tty = isatty(fileno(stderr));
  const auto t0 = Clock::now();
  auto last_report = t0;
  for (auto& g : gauges) g.sample(m);
  double next = sample_s;
  while (m.time_s() < until_s) {
    const double target = std::min(next, until_s);
    const double from_s = m.time_s();
    m.advance_to(target);
    check_progress(m, from_s, target, label);
    for (auto& g : gauges) g.sample(m);
    next += sample_s;
    if (std::chrono::duration<double>(Clock::now() - last_report).count() > (tty ? 1.0 : 30.0)) {
      last_report = Clock::now();
      const double wall = seconds_since(t0);
      const double frac = m.time_s() / until_s;
      std::fprintf(stderr, "%s%s: t = %.2f h of %.2f h (%.0f%%), wall %.0f s, ~%.0f s left, %llu steps%s", tty ? "\r" : "",
                   label.c_str(), m.time_s() / 3600.0, until_s / 3600.0, 100.0 * frac, wall,
                   frac > 0 ? wall * (1.0 - frac) / frac : 0.0, static_cast<unsigned long long>(m.steps()),
                   tty ? "   " : "\n");
      std::fflush(stderr);
    }
  }
  if (tty) std::fprintf(stderr, "\r%80s\r", "");
  RunStats s;
  s.wall_s = seconds_since(t0);
  s.steps = m.steps();
  s.cell_updates = m.cell_updates();
  s.sim_s = m.time_s();
  s.mass = m.mass_balance();
  return s;
}

std::string hms(double s) {
  if (s < 0.0) return "never";
  const long t = std::lround(s);
  return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
}

void print_benchmark_line(const std::string& name, const FloodModel& m, const RunStats& s, int threads,
                          const std::string& extra = "") {
  const double cups = s.wall_s > 0 ? static_cast<double>(s.cell_updates) / s.wall_s : 0.0;
  fmt::print("benchmark: {} cells={} threads={} sim_s={:.0f} steps={} wall_s={:.2f} cell_updates={} "
             "cell_updates_per_s={:.3e} wall_s_per_sim_h={:.2f} mass_error_rel={:.2e}{}\n",
             name, m.grid().cell_count(), threads, s.sim_s, s.steps, s.wall_s, s.cell_updates, cups,
             s.wall_s / (s.sim_s / 3600.0), s.mass.error_rel(), extra);
}

int effective_threads(int requested) {
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads();
#else
  return requested > 0 ? requested : 2;
#endif
}

Scheme scheme_of(const Args& a) {
  const std::string s = a.text("--scheme").value_or("fv");
  if (s == "fv" || s == "finite_volume") return Scheme::finite_volume;
  if (s == "fv2" || s == "finite_volume_2") return Scheme::finite_volume_2;
  if (s == "inertial" || s == "local_inertial" || s == "acc") return Scheme::local_inertial;
  cadereau::fail("--scheme", "'{}' is not fv, fv2 or inertial", s);
}

const char* scheme_name(Scheme s) {
  switch (s) {
    case Scheme::finite_volume: return "fv";
    case Scheme::finite_volume_2: return "fv2";
    case Scheme::local_inertial: return "inertial";
  }
  return "fv";
}

// ---------------------------------------------------------------------------------------------
// EA Test 4.

// Inflow hydrograph of Test 4 (m3/s vs s). The report gives it as a figure and a table in its
// dataset, peak 20 m3/s, "time base of ~6 h", run to 5 h (test description quoted on the Tygron
// wiki page cited below). The
// exact table was not found in the references at hand; this trapezoid (linear rise to the peak
// in 1 h, held to 3 h, linear fall to 0 at 5 h) is a reconstruction from the report's figure and
// is an assumption: pass --hydrograph FILE (CSV time_s,discharge_m3_s) to use the official one.
TimeSeries ea4_hydrograph() {
  return TimeSeries({0.0, 3600.0, 10800.0, 18000.0, 21600.0}, {0.0, 20.0, 20.0, 0.0, 0.0}, "EA4 hydrograph");
}

// Output points 1-6 (x from the western edge, y from the southern edge, m), as tabulated in
// https://previewsupport.tygron.com/w/index.php?direction=next&oldid=24456&title=UK_EA_benchmark_4_%28Water_Module%29
// (quoting Néelz & Pender 2013; an older revision of that page lists point 5 at (300, 1000) by mistake).
const std::vector<std::pair<std::string, MapPoint>> kEa4Points = {
    {"1", {50, 1000}}, {"2", {100, 1000}}, {"3", {200, 1000}}, {"4", {300, 1000}}, {"5", {400, 1000}}, {"6", {300, 1300}}};

FloodSetup ea4_setup(double cell_m, const TimeSeries& hydrograph, int threads, Scheme scheme) {
  const int cols = static_cast<int>(std::lround(1000.0 / cell_m));
  const int rows = static_cast<int>(std::lround(2000.0 / cell_m));
  FloodSetup s;
  s.dem = Raster(GridSpec{cols, rows, 0.0, 2000.0, cell_m, cell_m}, Crs{}, 0.0f);
  s.manning_n = 0.05;
  s.threads = threads;
  s.scheme = scheme;
  // The 20 m inflow line x = 0, y in [990, 1010] m: each western cell takes the share of the
  // discharge its edge covers, so any cell size gets exactly the hydrograph.
  for (int r = 0; r < rows; ++r) {
    const double top = 2000.0 - r * cell_m, bottom = top - cell_m;
    const double overlap = std::min(top, 1010.0) - std::max(bottom, 990.0);
    if (overlap <= 1e-9) continue;
    std::vector<double> q;
    for (double v : hydrograph.values()) q.push_back(v * overlap / 20.0);
    PointInflow p;
    p.label = fmt::format("inflow row {}", r);
    p.location = {0.5 * cell_m, bottom + 0.5 * cell_m};
    p.discharge_m3_s = TimeSeries(hydrograph.times_s(), std::move(q), "EA4 hydrograph");
    s.inflows.push_back(std::move(p));
  }
  return s;
}

int cmd_ea4(const Args& a) {
  const double cell_m = a.number("--cell", 5.0);
  const double hours = a.number("--hours", 2.0);
  const double sample_s = a.number("--sample", 10.0);
  const Scheme scheme = scheme_of(a);
  if (!(cell_m > 0.0) || std::fmod(1000.0, cell_m) > 1e-9) cadereau::fail("--cell", "{} m must divide 1000 m", cell_m);
  if (!(hours > 0.0)) cadereau::fail("--hours", "{} must be positive", hours);
  const TimeSeries hydrograph = a.text("--hydrograph")
                                    ? TimeSeries::read_csv(*a.text("--hydrograph"), "discharge_m3_s", 0.0)
                                    : ea4_hydrograph();
  std::vector<int> thread_counts;
  if (a.has("--threads")) thread_counts.push_back(static_cast<int>(a.number("--threads", 0)));
  else thread_counts = {1, 2};

  fmt::print("EA Test 4: flat 1000 x 2000 m floodplain, {} m cells ({} x {}), Manning 0.05, closed edges, {} h, "
             "scheme {}\n",
             cell_m, std::lround(1000 / cell_m), std::lround(2000 / cell_m), hours, scheme_name(scheme));
  fmt::print("inflow hydrograph (s: m3/s):");
  for (std::size_t i = 0; i < hydrograph.times_s().size(); ++i)
    fmt::print(" {:.0f}: {:g}", hydrograph.times_s()[i], hydrograph.values()[i]);
  fmt::print("{}\n", a.text("--hydrograph") ? "" : "  (reconstructed trapezoid, see source)");

  std::map<int, double> wall_by_threads;
  for (int threads : thread_counts) {
    const auto t_process = Clock::now();
    FloodModel m(ea4_setup(cell_m, hydrograph, threads, scheme));
    const double setup_s = seconds_since(t_process);
    auto gauges = make_gauges(m, kEa4Points, {0.01, 0.1});
    const RunStats s = run(m, hours * 3600.0, sample_s, gauges, fmt::format("ea4 threads={}", threads));
    wall_by_threads[threads] = s.wall_s;

    fmt::print("\nthreads={}: setup {:.3f} s, run {:.2f} s, {} steps (mean dt {:.3f} s), max depth {:.3f} m, wet cells {}\n",
               threads, setup_s, s.wall_s, s.steps, s.sim_s / std::max<double>(1, s.steps), m.max_depth_m(),
               m.wet_cells(0.01));
    fmt::print("point  x_m   y_m   max_depth_m  t_max      arrive>0.01m arrive>0.1m  h@0.5h  h@1h   h@1.5h  h@2h   "
               "max_speed_m_s\n");
    for (const auto& g : gauges)
      fmt::print("{:>5} {:5.0f} {:5.0f}  {:10.3f}   {:>9}  {:>10}   {:>10}  {:6.3f}  {:6.3f} {:6.3f}  {:6.3f} {:8.3f}\n",
                 g.name, g.location.x_m, g.location.y_m, g.max_depth_m, hms(g.time_of_max_s), hms(g.arrival_s[0]),
                 hms(g.arrival_s[1]), g.depth_at(1800), g.depth_at(3600), g.depth_at(5400), g.depth_at(7200),
                 g.max_speed_m_s);
    const MassBalance& mb = s.mass;
    fmt::print("mass: inflow {:.1f} m3, stored {:.1f} m3, relative error {:.2e}\n", mb.inflow_m3, mb.stored_m3,
               mb.error_rel());
    fmt::print("state digest: {:016x}\n", state_digest(m));
    const double process_s = seconds_since(t_process);
    const std::string memory =
        bandwidth_fields(m, static_cast<double>(s.cell_updates) / s.wall_s, triad_bytes_per_s(effective_threads(threads)));
    print_benchmark_line(fmt::format("ea4 cell={}m scheme={}", cell_m, scheme_name(scheme)), m, s, effective_threads(threads),
                         fmt::format(" process_s={:.2f}{}", process_s, memory));
  }
  if (wall_by_threads.count(1) && wall_by_threads.count(2))
    fmt::print("speed-up 2 threads vs 1: {:.2f}x ({:.2f} s -> {:.2f} s)\n", wall_by_threads[1] / wall_by_threads[2],
               wall_by_threads[1], wall_by_threads[2]);
  fmt::print("reference: bench/flood_vs_lisflood.sh runs LISFLOOD-FP 8.1 (ACC and FV1) on this case side by side\n");
  return 0;
}

// ---------------------------------------------------------------------------------------------
// EA Test 5.

// Published results, when the case folder holds them: a CSV with a header
// and rows "point,package,peak_level_m,t_peak_s" (one row per package and
// point, e.g. from Néelz & Pender 2013). False on a malformed file.
bool print_published_peaks(const std::filesystem::path& dir, const std::vector<Gauge>& gauges) {
  const std::filesystem::path published = dir / "published_peaks.csv";
  if (std::filesystem::is_regular_file(published)) {
    std::ifstream in(published);
    std::string line;
    int line_no = 0;
    fmt::print("\npublished ({}):\npoint  package          peak_level_m  ours - theirs_m  t_peak     ours - theirs\n",
               published.string());
    while (std::getline(in, line)) {
      ++line_no;
      if (line_no == 1 || line.empty()) continue;
      std::stringstream row(line);
      std::string point, package, level_text, time_text;
      std::getline(row, point, ',');
      std::getline(row, package, ',');
      std::getline(row, level_text, ',');
      std::getline(row, time_text, ',');
      double level = 0.0, t_peak = 0.0;
      try {
        level = std::stod(level_text);
        t_peak = std::stod(time_text);
      } catch (const std::exception&) {
        fmt::print(stderr, "{}:{}: expected point,package,peak_level_m,t_peak_s\n", published.string(), line_no);
        return false;
      }
      const auto g = std::find_if(gauges.begin(), gauges.end(), [&](const auto& x) { return x.name == point; });
      if (g == gauges.end()) {
        fmt::print(stderr, "{}:{}: no output point '{}'\n", published.string(), line_no, point);
        return false;
      }
      fmt::print("{:>5}  {:<15}  {:11.3f}  {:+14.3f}   {:>9}  {:+.0f} s\n", point, package, level,
                 g->bed_m + g->max_depth_m - level, hms(t_peak), g->time_of_max_s - t_peak);
    }
  } else {
    fmt::print("published (Néelz & Pender 2013, Test 5): not found ({} is absent); only our values are shown\n",
               published.string());
  }
  return true;
}

// The schemes --scheme names, comma-separated ("fv,fv2"), each run in turn.
std::vector<Scheme> schemes_of(const Args& a) {
  std::vector<Scheme> out;
  std::stringstream list(a.text("--scheme").value_or("fv"));
  std::string name;
  while (std::getline(list, name, ',')) {
    Args one;
    one.values["--scheme"] = name;
    out.push_back(scheme_of(one));
  }
  if (out.empty()) cadereau::fail("--scheme", "names no scheme");
  return out;
}

// A reference run's depth series at the case's points (LISFLOOD-FP stage output).
struct ReferenceRun {
  std::string name;
  std::vector<TimeSeries> depth_m;  // per point
};

std::vector<ReferenceRun> ea5_references(const std::filesystem::path& dir, std::size_t points) {
  std::vector<ReferenceRun> out;
  for (const auto& [name, file] : {std::pair{"DG2", "lisflood-fp8-dg2-10m.stage"}, std::pair{"ACC", "lisflood-fp8-acc-10m.stage"}}) {
    const std::filesystem::path path = dir / "reference" / file;
    if (!std::filesystem::is_regular_file(path)) continue;
    ReferenceRun r{name, read_lisflood_stage_output(path)};
    if (r.depth_m.size() != points) cadereau::fail(path.string(), "{} series for {} points", r.depth_m.size(), points);
    out.push_back(std::move(r));
  }
  return out;
}

// One scheme's run of Test 5: its series per point.
struct Ea5Run {
  Scheme scheme;
  std::vector<TimeSeries> depth_m;
};

constexpr double kEa5ArrivalDepth_m = 0.01;

std::string hms_or_never(double s) { return s < 0.0 ? std::string("never") : hms(s); }

// Per point: ours beside each reference (peak depth, time of peak, arrival
// at 1 cm), and the RMSE of the depth series against each over [0, until_s].
void print_reference_comparison(const Ea5Run& run, const std::vector<ReferenceRun>& refs, double until_s) {
  fmt::print("\nscheme {} against LISFLOOD-FP 8.0 on the same DEM, over the first {:.2f} h (arrival at {} m):\n",
             scheme_name(run.scheme), until_s / 3600.0, kEa5ArrivalDepth_m);
  fmt::print("point  {:>26}", "ours: peak_m  t_peak  arrive");
  for (const auto& r : refs) fmt::print("  {:>3}: peak_m  t_peak  arrive", r.name);
  for (const auto& r : refs) fmt::print("  rmse_{}_m", r.name);
  fmt::print("\n");
  for (std::size_t k = 0; k < run.depth_m.size(); ++k) {
    const GaugeFeatures o = gauge_features(run.depth_m[k], kEa5ArrivalDepth_m, until_s);
    fmt::print("{:>5}  {:11.3f} {:>8} {:>8}", k + 1, o.peak_depth_m, hms_or_never(o.time_of_peak_s),
               hms_or_never(o.arrival_s));
    for (const auto& r : refs) {
      const GaugeFeatures f = gauge_features(r.depth_m[k], kEa5ArrivalDepth_m, until_s);
      fmt::print("  {:11.3f} {:>8} {:>8}", f.peak_depth_m, hms_or_never(f.time_of_peak_s), hms_or_never(f.arrival_s));
    }
    for (const auto& r : refs) fmt::print("  {:10.3f}", depth_rmse_m(run.depth_m[k], r.depth_m[k], until_s));
    fmt::print("\n");
  }
}

// The RMSE against each reference, point by point, scheme by scheme, with the mean over the points.
void print_rmse_summary(const std::vector<Ea5Run>& runs, const std::vector<ReferenceRun>& refs, double until_s) {
  for (const auto& r : refs) {
    fmt::print("\nRMSE of depth against {} over {:.2f} h (m):\nscheme  ", r.name, until_s / 3600.0);
    for (std::size_t k = 0; k < r.depth_m.size(); ++k) fmt::print("  P{}    ", k + 1);
    fmt::print("  mean\n");
    for (const auto& run : runs) {
      fmt::print("{:<8}", scheme_name(run.scheme));
      double sum = 0.0;
      for (std::size_t k = 0; k < r.depth_m.size(); ++k) {
        const double e = depth_rmse_m(run.depth_m[k], r.depth_m[k], until_s);
        sum += e;
        fmt::print("  {:6.3f}", e);
      }
      fmt::print("  {:6.3f}\n", sum / static_cast<double>(r.depth_m.size()));
    }
  }
}

int cmd_ea5(const Args& a) {
  const std::filesystem::path dir = a.text("--data") ? std::filesystem::path(*a.text("--data"))
                                                      : shared_data() / "flood-benchmarks" / "ea5-valley-dam-break";
  const std::filesystem::path par = dir / "ea5-10m.par";
  if (!std::filesystem::is_regular_file(par)) {
    fmt::print("ea5 skipped: data not found at {}\n", par.string());
    return 0;
  }
  const int threads = static_cast<int>(a.number("--threads", 0));
  const double sample_s = a.number("--sample", 10.0);
  LisfloodCaseOptions options;
  options.crs_if_missing = Crs::from_epsg(27700);
  const LisfloodCase lc = read_lisflood_case(par, options);
  for (const auto& k : lc.par.unknown) fmt::print(stderr, "{}: unknown keyword '{}' ignored\n", k.where, k.name);
  const double until_s = a.has("--hours") ? a.number("--hours", 30.0) * 3600.0 : lc.par.sim_time_s;
  const std::vector<ReferenceRun> refs = ea5_references(dir, lc.stages.size());
  std::vector<Ea5Run> runs;
  for (const Scheme scheme : schemes_of(a)) {
    const auto t_process = Clock::now();
    LisfloodSetupOptions so;
    so.threads = threads;
    so.scheme = scheme;
    FloodModel m(make_flood_setup(lc, so));
    const double setup_s = seconds_since(t_process);
    std::vector<std::pair<std::string, MapPoint>> points;
    for (std::size_t i = 0; i < lc.stages.size(); ++i) points.emplace_back(std::to_string(i + 1), lc.stages[i]);
    auto gauges = make_gauges(m, points, {0.01, 0.5});

    fmt::print("EA Test 5 from {}: {} x {} cells of {} m ({} inside), Manning {}, {} point sources, {:.0f} s of {:.0f} s, "
               "scheme {}\n",
               par.string(), m.grid().cols, m.grid().rows, m.grid().cell_w_m,
               std::count_if(lc.dem.values().begin(), lc.dem.values().end(), [&](float v) { return !lc.dem.is_nodata(v); }),
               *lc.par.manning_n, lc.bci.points.size(), until_s, lc.par.sim_time_s, scheme_name(scheme));
    const RunStats s = run(m, until_s, sample_s, gauges, fmt::format("ea5 {}", scheme_name(scheme)));

    fmt::print("\nsetup {:.2f} s, run {:.1f} s, {} steps, max depth {:.2f} m, wet cells (>1 cm) {}\n", setup_s, s.wall_s,
               s.steps, m.max_depth_m(), m.wet_cells(0.01));
    fmt::print("point  bed_m   peak_level_m  peak_depth_m  t_peak     arrive>0.01m  arrive>0.5m  max_speed_m_s\n");
    for (const auto& g : gauges)
      fmt::print("{:>5} {:7.2f}  {:11.3f}  {:11.3f}   {:>9}  {:>11}  {:>11}  {:8.3f}\n", g.name, g.bed_m,
                 g.bed_m + g.max_depth_m, g.max_depth_m, hms(g.time_of_max_s), hms(g.arrival_s[0]), hms(g.arrival_s[1]),
                 g.max_speed_m_s);
    if (!print_published_peaks(dir, gauges)) return 1;
    Ea5Run r{scheme, {}};
    for (const auto& g : gauges) {
      std::vector<double> t, h;
      for (const auto& [time_s, depth_m] : g.series)
        if (t.empty() || time_s > t.back()) t.push_back(time_s), h.push_back(depth_m);
      r.depth_m.emplace_back(std::move(t), std::move(h), "gauge " + g.name);
    }
    if (!refs.empty()) print_reference_comparison(r, refs, until_s);
    runs.push_back(std::move(r));
    const MassBalance& mb = s.mass;
    fmt::print("mass: inflow {:.0f} m3, stored {:.0f} m3, relative error {:.2e}\n", mb.inflow_m3, mb.stored_m3,
               mb.error_rel());
    print_benchmark_line(fmt::format("ea5 scheme={}", scheme_name(scheme)), m, s, effective_threads(threads),
                         fmt::format(" process_s={:.2f}", seconds_since(t_process)));
  }
  if (refs.empty())
    fmt::print("reference series not found in {}: no comparison\n", (dir / "reference").string());
  else
    print_rmse_summary(runs, refs, until_s);
  if (runs.size() > 1) fmt::print("(wall time per simulated hour of each scheme: see its benchmark line)\n");
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Carlisle 2005.

int cmd_carlisle(const Args& a) {
  const std::filesystem::path dir = a.text("--data") ? std::filesystem::path(*a.text("--data"))
                                                      : shared_data() / "flood-benchmarks" / "carlisle-2005";
  const std::filesystem::path par = dir / "carlisle-5m.par";
  if (!std::filesystem::is_regular_file(par)) {
    fmt::print("carlisle skipped: data not found at {}\n", par.string());
    return 0;
  }
  const int threads = static_cast<int>(a.number("--threads", 0));
  const auto t_process = Clock::now();
  LisfloodCaseOptions options;
  options.crs_if_missing = Crs::from_epsg(27700);
  // The .par names carlisle-5m.bci; the distributed file is carlisle.bci.
  const LisfloodPar par_only = read_lisflood_par(par);
  if (!std::filesystem::exists(dir / par_only.bci_file) && std::filesystem::exists(dir / "carlisle.bci"))
    options.bci = dir / "carlisle.bci";
  const LisfloodCase lc = read_lisflood_case(par, options);
  for (const auto& k : lc.par.unknown) fmt::print(stderr, "{}: unknown keyword '{}' ignored\n", k.where, k.name);
  const double until_s = a.number("--hours", 12.0) * 3600.0;
  LisfloodSetupOptions so;
  so.threads = threads;
  so.scheme = scheme_of(a);
  // The case has a FREE west edge (slope 0.0006); the model only has all edges closed or all
  // free (zero-gradient outflow), so the default keeps them closed.
  so.edges = a.has("--open-edges")     ? LisfloodEdgePolicy::all_free_if_any
             : a.has("--closed-edges") ? LisfloodEdgePolicy::closed
                                       : LisfloodEdgePolicy::free_edges;
  FloodModel m(make_flood_setup(lc, so));
  const double setup_s = seconds_since(t_process);
  std::vector<std::pair<std::string, MapPoint>> points;
  for (std::size_t i = 0; i < lc.stages.size(); ++i) points.emplace_back(std::to_string(i + 1), lc.stages[i]);
  auto gauges = make_gauges(m, points, {0.01});
  fmt::print("Carlisle 2005 from {}: {} x {} cells of {} m, Manning {}, {} point sources, edges {}, {:.0f} s of {:.0f} s\n",
             par.string(), m.grid().cols, m.grid().rows, m.grid().cell_w_m, *lc.par.manning_n, lc.bci.points.size(),
             so.edges == LisfloodEdgePolicy::closed       ? "all closed (the FREE edge is not modelled)"
             : so.edges == LisfloodEdgePolicy::free_edges ? "free where the .bci says FREE, walls elsewhere"
                                                          : "all free outflow",
             until_s, lc.par.sim_time_s);
  const RunStats s = run(m, until_s, 60.0, gauges, "carlisle");
  const double cell_area = m.grid().cell_w_m * m.grid().cell_h_m;
  fmt::print("\nsetup {:.2f} s, run {:.1f} s, {} steps, max depth {:.2f} m, wet area (>1 cm) {:.3f} km2, "
             "(>10 cm) {:.3f} km2\n",
             setup_s, s.wall_s, s.steps, m.max_depth_m(), m.wet_cells(0.01) * cell_area / 1e6,
             m.wet_cells(0.1) * cell_area / 1e6);
  fmt::print("gauge  max_depth_m  t_max      arrive>0.01m\n");
  for (const auto& g : gauges)
    fmt::print("{:>5}  {:10.3f}   {:>9}  {:>10}\n", g.name, g.max_depth_m, hms(g.time_of_max_s), hms(g.arrival_s[0]));
  const MassBalance& mb = s.mass;
  fmt::print("mass: inflow {:.0f} m3, outflow {:.0f} m3, stored {:.0f} m3, relative error {:.2e}\n", mb.inflow_m3,
             mb.outflow_m3, mb.stored_m3, mb.error_rel());
  print_benchmark_line(fmt::format("carlisle scheme={}", scheme_name(so.scheme)), m, s, effective_threads(threads),
                       fmt::format(" process_s={:.2f}", seconds_since(t_process)));
  return 0;
}

// ---------------------------------------------------------------------------------------------
// A fully wet city grid.

// A square of 5 m cells: 80 m blocks raised 0.3 m between 20 m streets, on a
// bed tilted 1 in 1000 to the east, with a few centimetres of fixed-seed
// roughness; a metre of water everywhere above the highest block, its surface
// a cosine half a metre high across the grid, so the water sloshes from the
// first step on.
FloodSetup wet_city_setup(int side, int threads, Scheme scheme) {
  constexpr double kCell_m = 5.0;
  FloodSetup s;
  s.dem = Raster(GridSpec{side, side, 0.0, side * kCell_m, kCell_m, kCell_m}, Crs{}, 0.0f);
  std::mt19937 rng(20260415);
  std::uniform_real_distribution<float> roughness_m(0.0f, 0.05f);
  float top_m = 0.0f;
  for (int r = 0; r < side; ++r)
    for (int c = 0; c < side; ++c) {
      const bool block = (r % 20) >= 4 && (c % 20) >= 4;  // 20-cell period: 4 cells of street, 16 of block
      const float z = static_cast<float>(c * kCell_m * 1e-3) + (block ? 0.3f : 0.0f) + roughness_m(rng);
      s.dem.at(c, r) = z;
      top_m = std::max(top_m, z);
    }
  Raster depth(s.dem.grid(), Crs{}, 0.0f);
  for (int r = 0; r < side; ++r)
    for (int c = 0; c < side; ++c) {
      const double wse_m = top_m + 1.0 + 0.25 * std::cos(std::numbers::pi * (c + 0.5) / side);
      depth.at(c, r) = static_cast<float>(wse_m - s.dem.at(c, r));
    }
  s.initial_depth = std::move(depth);
  s.manning_n = 0.03;
  s.threads = threads;
  s.scheme = scheme;
  return s;
}

int cmd_wet(const Args& a) {
  const double cells = a.number("--cells", 1e6);
  const double seconds = a.number("--seconds", 60.0);
  const int threads = static_cast<int>(a.number("--threads", 0));
  const Scheme scheme = scheme_of(a);
  const int side = static_cast<int>(std::lround(std::sqrt(cells)));
  if (side < 4) cadereau::fail("--cells", "{} is too few for a grid", cells);
  if (!(seconds > 0.0)) cadereau::fail("--seconds", "{} must be positive", seconds);
  const auto t_process = Clock::now();
  FloodModel m(wet_city_setup(side, threads, scheme));
  const double setup_s = seconds_since(t_process);
  fmt::print("wet city grid: {} x {} cells of 5 m, wet everywhere, Manning 0.03, closed edges, {:g} s, scheme {}\n",
             side, side, seconds, scheme_name(scheme));
  std::vector<Gauge> no_gauges;
  const RunStats s = run(m, seconds, seconds / 10.0, no_gauges, "wet");
  fmt::print("setup {:.2f} s, run {:.2f} s, {} steps (mean dt {:.3f} s), wet cells {} of {}\n", setup_s, s.wall_s,
             s.steps, s.sim_s / std::max<double>(1, s.steps), m.wet_cells(0.0), m.grid().cell_count());
  fmt::print("mass: stored {:.1f} m3, relative error {:.2e}\n", s.mass.stored_m3, s.mass.error_rel());
  fmt::print("state digest: {:016x}\n", state_digest(m));
  const double process_s = seconds_since(t_process);
  const std::string memory =
      bandwidth_fields(m, static_cast<double>(s.cell_updates) / s.wall_s, triad_bytes_per_s(effective_threads(threads)));
  print_benchmark_line(fmt::format("wet scheme={}", scheme_name(scheme)), m, s, effective_threads(threads),
                       fmt::format(" process_s={:.2f}{}", process_s, memory));
  return 0;
}

void usage() {
  std::fputs(
      "usage: cadereau-bench-flood ea4 [--cell M] [--hours H] [--threads N] [--sample S] [--hydrograph CSV] [--scheme S]\n"
      "       cadereau-bench-flood ea5 [--data DIR] [--hours H] [--threads N] [--sample S] [--scheme S[,S...]]\n"
      "       cadereau-bench-flood carlisle [--data DIR] [--hours H] [--threads N] [--open-edges] [--scheme S]\n"
      "       cadereau-bench-flood wet [--cells N] [--seconds S] [--threads N] [--scheme S]\n"
      "  --scheme fv (default, finite-volume HLL) | fv2 (the same to second order, MUSCL and Runge-Kutta 2)\n"
      "           | inertial (local-inertial, LISFLOOD-FP's ACC)\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 2) {
    usage();
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "ea4") return cmd_ea4(parse_args(argc, argv, 2, {"--cell", "--hours", "--threads", "--sample", "--hydrograph", "--scheme"}, {}));
  if (cmd == "ea5") return cmd_ea5(parse_args(argc, argv, 2, {"--data", "--hours", "--threads", "--sample", "--scheme"}, {}));
  if (cmd == "carlisle")
    return cmd_carlisle(parse_args(argc, argv, 2, {"--data", "--hours", "--threads", "--scheme"}, {"--open-edges"}));
  if (cmd == "wet") return cmd_wet(parse_args(argc, argv, 2, {"--cells", "--seconds", "--threads", "--scheme"}, {}));
  usage();
  return 2;
} catch (const std::exception& e) {
  std::fprintf(stderr, "cadereau-bench-flood: %s\n", e.what());
  return 1;
}
