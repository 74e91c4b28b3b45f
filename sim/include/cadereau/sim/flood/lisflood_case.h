#pragma once
// Reader for LISFLOOD-FP cases (the .par parameter file and the files it
// names: DEM, .bdy, .bci, .stage), so that published benchmarks distributed
// in that format (UK Environment Agency tests, Carlisle 2005) run on our
// flood model unchanged.
//
// Formats, as LISFLOOD-FP 8 reads them:
// - .par: one "keyword [value]" per line; '#' starts a comment line.
// - DEM: ESRI ASCII grid, optionally gzipped (read through GDAL's /vsigzip/).
// - .bdy: a free header line, then per series: its name, "N seconds|minutes|
//   hours|days", then N lines "value time" (time in those units).
// - .bci: "P x y TYPE [value|series]" point sources and "N|S|E|W a b TYPE
//   [value|series]" edge segments (a, b: x range for N/S, y range for W/E).
//   TYPE is QVAR/QFIX (flow per unit width, m2/s), HVAR/HFIX (water level, m)
//   or FREE (optional slope).
// - .stage: a count, then "x y" per output point.
// - stage output: rows "time value_1 ... value_n" for the n output points.
// Coordinates are in the DEM's CRS (EPSG:27700 for the UK cases).

#include "cadereau/sim/flood/flood_model.h"
#include "cadereau/sim/flood/time_series.h"
#include "cadereau/twin/geo.h"
#include "cadereau/twin/geometry.h"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::sim::flood {

// A .par keyword we met but do not use: `where` is "file:line".
struct LisfloodKeyword {
  std::string name;
  std::string value;
  std::string where;
};

struct LisfloodPar {
  std::filesystem::path path;
  // File names as written in the .par (relative to the .par's folder).
  std::string dem_file, bdy_file, bci_file, stage_file;
  double sim_time_s = 0.0;
  std::optional<double> manning_n;  // fpfric
  std::optional<double> save_interval_s;  // saveint
  std::optional<double> mass_interval_s;  // massint
  std::optional<double> initial_step_s;   // initial_tstep
  // Known keywords that only choose LISFLOOD's solver or its outputs (acceleration, dg2,
  // resroot, elevoff...): harmless to ignore.
  std::vector<LisfloodKeyword> ignored;
  // Known keywords that change the case itself (manningfile, rainfall, startfile, weirfile...)
  // and that this reader does not support: a setup built from this case would be wrong.
  std::vector<LisfloodKeyword> unsupported;
  // Keywords this reader does not know at all.
  std::vector<LisfloodKeyword> unknown;
};

enum class LisfloodBoundaryType { qvar, qfix, hvar, hfix, free };

struct LisfloodPointSource {
  twin::MapPoint location;
  LisfloodBoundaryType type = LisfloodBoundaryType::qvar;
  std::string series;  // QVAR/HVAR: the .bdy series name
  double value = 0.0;  // QFIX: m2/s; HFIX: m; FREE: slope
  std::string where;   // "file:line"
};

enum class LisfloodEdge { north, south, east, west };

struct LisfloodEdgeSegment {
  LisfloodEdge edge = LisfloodEdge::west;
  double from_m = 0.0, to_m = 0.0;  // x range on N/S, y range on W/E
  LisfloodBoundaryType type = LisfloodBoundaryType::free;
  std::string series;
  double value = 0.0;  // FREE: water-surface slope (0 when absent)
  std::string where;
};

struct LisfloodBci {
  std::vector<LisfloodPointSource> points;
  std::vector<LisfloodEdgeSegment> edges;
};

// Readers for each file. All throw cadereau::Error "FILE:LINE: ..." on bad
// input (missing fields, text where numbers belong, time going back, a count
// that does not match the rows) and "FILE: ..." when the file cannot be read.
LisfloodPar read_lisflood_par(const std::filesystem::path& path);
// Series by name; values in the file's unit (m2/s for flows, m for levels), times in seconds.
std::map<std::string, TimeSeries> read_lisflood_bdy(const std::filesystem::path& path);
LisfloodBci read_lisflood_bci(const std::filesystem::path& path);
std::vector<twin::MapPoint> read_lisflood_stage(const std::filesystem::path& path);
// A stage output (what LISFLOOD-FP writes for the points of a .stage file):
// rows "time_s value_1 ... value_n", one series per point (depths or levels,
// as the run wrote them). Lines that do not start with a number (LISFLOOD's
// header) are skipped; every data row must hold the same number of values.
std::vector<TimeSeries> read_lisflood_stage_output(const std::filesystem::path& path);

struct LisfloodCaseOptions {
  // Replace a file the .par names (e.g. a case folder where the .bci was renamed).
  std::optional<std::filesystem::path> dem, bdy, bci, stage;
  // CRS given to the DEM when the file has none (ESRI ASCII grids usually carry none).
  twin::Crs crs_if_missing;
};

// A whole case: the .par, the files it names resolved next to it (a name that
// does not exist is also tried with ".gz", ".raw.gz", ".asc" and ".asc.gz"),
// the DEM read (gzipped grids through "/vsigzip/"), series, sources and stages.
struct LisfloodCase {
  LisfloodPar par;
  std::filesystem::path dem_path, bdy_path, bci_path, stage_path;  // resolved; empty when not named
  twin::Raster dem;
  std::map<std::string, TimeSeries> series;
  LisfloodBci bci;
  std::vector<twin::MapPoint> stages;
};

// Throws cadereau::Error when the .par lacks DEMfile or sim_time, when a named
// file is missing, or when a source refers to a series the .bdy lacks.
LisfloodCase read_lisflood_case(const std::filesystem::path& par_path, const LisfloodCaseOptions& options = {});

// How .bci edge segments map onto the model, whose boundaries are per whole
// edge (FloodSetup::open_edges): a FREE segment opens the edge it lies on,
// over its full length (LISFLOOD-FP opens only the segment; the difference
// matters only where water reaches the rest of that edge).
enum class LisfloodEdgePolicy {
  free_edges,      // each edge holding a FREE segment is free outflow
  closed,          // ignore edge segments: every edge is a wall
  all_free_if_any  // any FREE segment opens every domain edge to free outflow
};

struct LisfloodSetupOptions {
  LisfloodEdgePolicy edges = LisfloodEdgePolicy::free_edges;
  // The .par's solver keywords (acceleration, fv1, dg2...) are ignored: the caller picks ours.
  Scheme scheme = Scheme::finite_volume;
  int threads = 0;
};

// The model setup: Manning n from fpfric; each QVAR/QFIX point source becomes
// a PointInflow of discharge q_per_width (m2/s) x cell size (m) = m3/s.
// Throws cadereau::Error (naming file:line) for what the model cannot
// represent: unsupported .par keywords, HVAR/HFIX point sources, HFIX/HVAR/
// QFIX/QVAR edge segments (FREE ones follow the edge policy), non-square cells.
FloodSetup make_flood_setup(const LisfloodCase& lisflood_case, const LisfloodSetupOptions& options = {});

}  // namespace cadereau::sim::flood
