#include "cadereau/sim/flood/lisflood_case.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/raster.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>

namespace cadereau::sim::flood {

namespace {

std::vector<std::string> tokens(const std::string& line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == ',')) ++i;
    const std::size_t b = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != ',') ++i;
    if (i > b) out.push_back(line.substr(b, i - b));
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<double> to_number(const std::string& text) {
  double v = 0.0;
  const char* b = text.data();
  const char* e = b + text.size();
  if (b != e && *b == '+') ++b;
  const auto [ptr, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || ptr != e || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Lines of a text file with their numbers; blank lines and '#' comments dropped.
struct Line {
  int number;
  std::vector<std::string> words;
};

std::vector<Line> read_lines(const std::filesystem::path& path, bool keep_first = true) {
  std::ifstream in(path);
  if (!in) fail(path.string(), "cannot open (file not found or unreadable)");
  std::vector<Line> lines;
  std::string text;
  int n = 0;
  while (std::getline(in, text)) {
    ++n;
    if (n == 1 && !keep_first) continue;
    auto w = tokens(text);
    if (w.empty() || w[0][0] == '#') continue;
    lines.push_back({n, std::move(w)});
  }
  return lines;
}

std::string where(const std::filesystem::path& path, int line) { return fmt::format("{}:{}", path.string(), line); }

double number(const std::filesystem::path& path, const Line& line, std::size_t index, const char* what) {
  if (index >= line.words.size()) fail(where(path, line.number), "missing {}", what);
  const auto v = to_number(line.words[index]);
  if (!v) fail(where(path, line.number), "{} '{}' is not a number", what, line.words[index]);
  return *v;
}

// Keywords that pick LISFLOOD-FP's solver, its outputs or its numerics: the case is the same without them.
const std::set<std::string>& ignored_keywords() {
  static const std::set<std::string> k = {
      "resroot", "dirroot", "acceleration", "adaptoff", "qlim", "theta", "fv1", "fv2", "dg2", "mwdg2", "cuda",
      "acc_nugrid", "elevoff", "depthoff", "voutput", "qoutput", "hazard", "mint_hk", "max_hk", "cfl", "drycheckoff",
      "depththresh", "debug", "checkpoint", "checkfile", "checkpointinterval", "overpass", "overpassfile",
      "profiles", "comp_out", "binary_out", "ascheader", "nc_out", "sgc_enable", "routing", "routingspeed",
      "routesfthresh", "maxdhdt", "initial_tstep", "saveint", "massint", "num_threads", "steadytol",
      "ts_multiple", "tstart", "solver", "mint_h", "maxslope", "max_froude", "qlimfact", "toffset", "latlong",
      "saveint_t", "massint_t", "gzip", "vtk_output", "startelev_output", "alt_out", "voutput_max",
      "limitslopes", "limitslopeoff", "epsilon", "maxtstep", "mtotvol"};
  return k;
}

// Keywords that change the flood itself: reading past them would silently run another case.
const std::set<std::string>& unsupported_keywords() {
  static const std::set<std::string> k = {
      "manningfile", "sgcchanfile", "rivermanning", "rainfall", "dynamicrainfile", "startfile", "startelev",
      "weirfile", "infiltration", "evaporation", "sgcwidth", "sgcbank", "sgcbed", "sgcn", "sgcchan", "sgclevee",
      "riverfile", "channelfile", "rainmask", "porfile", "startq", "startq2d", "siteelev", "chanmask", "hotstart",
      "pointsfile", "dhlin", "resetstart", "sgc_enable_adv", "solver_dg2_rain"};
  return k;
}

LisfloodBoundaryType boundary_type(const std::filesystem::path& path, const Line& line, std::size_t index) {
  if (index >= line.words.size()) fail(where(path, line.number), "missing boundary type (QVAR, QFIX, HVAR, HFIX, FREE)");
  const std::string t = lower(line.words[index]);
  if (t == "qvar") return LisfloodBoundaryType::qvar;
  if (t == "qfix") return LisfloodBoundaryType::qfix;
  if (t == "hvar") return LisfloodBoundaryType::hvar;
  if (t == "hfix") return LisfloodBoundaryType::hfix;
  if (t == "free") return LisfloodBoundaryType::free;
  fail(where(path, line.number), "boundary type '{}' is not one of QVAR, QFIX, HVAR, HFIX, FREE", line.words[index]);
}

// The type's argument: a series name (QVAR/HVAR), a number (QFIX/HFIX) or an optional slope (FREE).
void boundary_argument(const std::filesystem::path& path, const Line& line, std::size_t index,
                       LisfloodBoundaryType type, std::string& series, double& value) {
  switch (type) {
    case LisfloodBoundaryType::qvar:
    case LisfloodBoundaryType::hvar:
      if (index >= line.words.size()) fail(where(path, line.number), "missing the .bdy series name");
      series = line.words[index];
      break;
    case LisfloodBoundaryType::qfix:
      value = number(path, line, index, "QFIX flow per unit width (m2/s)");
      break;
    case LisfloodBoundaryType::hfix:
      value = number(path, line, index, "HFIX water level (m)");
      break;
    case LisfloodBoundaryType::free:
      value = index < line.words.size() ? number(path, line, index, "FREE slope") : 0.0;
      break;
  }
}

const char* type_name(LisfloodBoundaryType t) {
  switch (t) {
    case LisfloodBoundaryType::qvar: return "QVAR";
    case LisfloodBoundaryType::qfix: return "QFIX";
    case LisfloodBoundaryType::hvar: return "HVAR";
    case LisfloodBoundaryType::hfix: return "HFIX";
    case LisfloodBoundaryType::free: return "FREE";
  }
  return "?";
}

std::filesystem::path resolve(const std::filesystem::path& folder, const std::string& name, const std::string& key,
                              const std::string& par_where) {
  const std::filesystem::path base = folder / name;
  std::vector<std::string> tried;
  for (const char* suffix : {"", ".gz", ".raw.gz", ".asc", ".asc.gz"}) {
    std::filesystem::path p = base;
    p += suffix;
    if (std::filesystem::is_regular_file(p)) return p;
    tried.push_back(p.filename().string());
  }
  fail(par_where, "{} '{}' not found in {} (tried {})", key, name, folder.string(), fmt::join(tried, ", "));
}

}  // namespace

LisfloodPar read_lisflood_par(const std::filesystem::path& path) {
  LisfloodPar par;
  par.path = path;
  std::map<std::string, int> seen;
  bool has_sim_time = false;
  for (const Line& line : read_lines(path)) {
    const std::string key = lower(line.words[0]);
    const std::string w = where(path, line.number);
    const std::string value = line.words.size() > 1 ? line.words[1] : "";
    if (auto [it, fresh] = seen.emplace(key, line.number); !fresh)
      fail(w, "keyword '{}' repeats (first at line {})", line.words[0], it->second);
    auto text_value = [&](std::string& out) {
      if (value.empty()) fail(w, "keyword '{}' needs a file name", line.words[0]);
      out = value;
    };
    auto positive = [&](const char* unit) {
      const double v = number(path, line, 1, unit);
      if (!(v > 0.0)) fail(w, "{} {} must be positive", line.words[0], v);
      return v;
    };
    if (key == "demfile") {
      text_value(par.dem_file);
    } else if (key == "bdyfile") {
      text_value(par.bdy_file);
    } else if (key == "bcifile") {
      text_value(par.bci_file);
    } else if (key == "stagefile") {
      text_value(par.stage_file);
    } else if (key == "sim_time") {
      par.sim_time_s = positive("sim_time (s)");
      has_sim_time = true;
    } else if (key == "fpfric") {
      const double n = number(path, line, 1, "fpfric (Manning n)");
      if (!(n >= 0.0) || n > 1.0) fail(w, "fpfric {} is outside [0, 1]", n);
      par.manning_n = n;
    } else if (key == "saveint") {
      par.save_interval_s = positive("saveint (s)");
    } else if (key == "massint") {
      par.mass_interval_s = positive("massint (s)");
    } else if (key == "initial_tstep") {
      par.initial_step_s = positive("initial_tstep (s)");
    } else if (ignored_keywords().count(key)) {
      par.ignored.push_back({line.words[0], value, w});
    } else if (unsupported_keywords().count(key)) {
      par.unsupported.push_back({line.words[0], value, w});
    } else {
      par.unknown.push_back({line.words[0], value, w});
    }
  }
  if (par.dem_file.empty()) fail(path.string(), "no DEMfile keyword: a case needs a DEM");
  if (!has_sim_time) fail(path.string(), "no sim_time keyword: the simulated duration (s) is needed");
  return par;
}

std::map<std::string, TimeSeries> read_lisflood_bdy(const std::filesystem::path& path) {
  // The first line is a free comment, whatever it holds.
  const std::vector<Line> lines = read_lines(path, /*keep_first=*/false);
  std::map<std::string, TimeSeries> out;
  std::map<std::string, int> first_line;
  std::size_t i = 0;
  while (i < lines.size()) {
    const Line& name_line = lines[i++];
    const std::string name = name_line.words[0];
    if (to_number(name))
      fail(where(path, name_line.number), "expected a series name, got the number '{}' (too many rows in the series before?)",
           name);
    if (auto [it, fresh] = first_line.emplace(name, name_line.number); !fresh)
      fail(where(path, name_line.number), "series '{}' repeats (first at line {})", name, it->second);
    if (i >= lines.size()) fail(where(path, name_line.number), "series '{}' has no 'N seconds' line", name);
    const Line& count_line = lines[i++];
    const double count = number(path, count_line, 0, "number of rows");
    if (!(count >= 1.0) || count != std::floor(count) || count > 1e8)
      fail(where(path, count_line.number), "number of rows {} is not a positive integer", count_line.words[0]);
    double unit_s = 1.0;
    if (count_line.words.size() > 1) {
      const std::string unit = lower(count_line.words[1]);
      if (unit == "seconds" || unit == "second" || unit == "s") unit_s = 1.0;
      else if (unit == "minutes" || unit == "minute" || unit == "min") unit_s = 60.0;
      else if (unit == "hours" || unit == "hour" || unit == "h") unit_s = 3600.0;
      else if (unit == "days" || unit == "day") unit_s = 86400.0;
      else fail(where(path, count_line.number), "time unit '{}' is not seconds, minutes, hours or days", count_line.words[1]);
    } else {
      fail(where(path, count_line.number), "missing the time unit after the row count (seconds, minutes, hours, days)");
    }
    const auto n = static_cast<std::size_t>(count);
    std::vector<double> times, values;
    for (std::size_t k = 0; k < n; ++k) {
      if (i >= lines.size())
        fail(where(path, count_line.number), "series '{}' announces {} rows but the file ends after {}", name, n, k);
      const Line& row = lines[i++];
      const double value = number(path, row, 0, "value");
      const double time = number(path, row, 1, "time") * unit_s;
      if (!times.empty() && !(time > times.back()))
        fail(where(path, row.number), "time {} s is not after the previous {} s (a series must go forward)", time,
             times.back());
      values.push_back(value);
      times.push_back(time);
    }
    out.emplace(name, TimeSeries(std::move(times), std::move(values), where(path, name_line.number)));
  }
  if (out.empty()) fail(path.string(), "no series (expected a header line, then: name, 'N seconds', N rows 'value time')");
  return out;
}

LisfloodBci read_lisflood_bci(const std::filesystem::path& path) {
  LisfloodBci bci;
  for (const Line& line : read_lines(path)) {
    const std::string w = where(path, line.number);
    const std::string kind = lower(line.words[0]);
    if (kind == "p") {
      LisfloodPointSource p;
      p.location = {number(path, line, 1, "x"), number(path, line, 2, "y")};
      p.type = boundary_type(path, line, 3);
      boundary_argument(path, line, 4, p.type, p.series, p.value);
      p.where = w;
      bci.points.push_back(std::move(p));
    } else if (kind == "n" || kind == "s" || kind == "e" || kind == "w") {
      LisfloodEdgeSegment e;
      e.edge = kind == "n" ? LisfloodEdge::north : kind == "s" ? LisfloodEdge::south
             : kind == "e" ? LisfloodEdge::east : LisfloodEdge::west;
      e.from_m = number(path, line, 1, "segment start");
      e.to_m = number(path, line, 2, "segment end");
      if (e.to_m < e.from_m) std::swap(e.from_m, e.to_m);
      e.type = boundary_type(path, line, 3);
      boundary_argument(path, line, 4, e.type, e.series, e.value);
      e.where = w;
      bci.edges.push_back(std::move(e));
    } else {
      fail(w, "'{}' is not a boundary kind (P for a point, N/S/E/W for an edge segment)", line.words[0]);
    }
  }
  return bci;
}

std::vector<twin::MapPoint> read_lisflood_stage(const std::filesystem::path& path) {
  const std::vector<Line> lines = read_lines(path);
  if (lines.empty()) fail(path.string(), "empty (expected a count, then 'x y' per point)");
  const double count = number(path, lines[0], 0, "number of points");
  if (!(count >= 0.0) || count != std::floor(count))
    fail(where(path, lines[0].number), "number of points '{}' is not a non-negative integer", lines[0].words[0]);
  const auto n = static_cast<std::size_t>(count);
  if (lines.size() - 1 < n)
    fail(where(path, lines.back().number), "{} points announced but only {} follow", n, lines.size() - 1);
  std::vector<twin::MapPoint> out;
  for (std::size_t k = 1; k <= n; ++k) out.push_back({number(path, lines[k], 0, "x"), number(path, lines[k], 1, "y")});
  return out;
}

std::vector<TimeSeries> read_lisflood_stage_output(const std::filesystem::path& path) {
  std::vector<double> times_s;
  std::vector<std::vector<double>> values;  // per point
  for (const Line& line : read_lines(path)) {
    if (!to_number(line.words[0])) continue;  // a header line
    if (values.empty()) {
      if (line.words.size() < 2) fail(where(path, line.number), "a time and no value");
      values.resize(line.words.size() - 1);
    } else if (line.words.size() != values.size() + 1) {
      fail(where(path, line.number), "{} values where the rows before hold {}", line.words.size() - 1, values.size());
    }
    times_s.push_back(number(path, line, 0, "time"));
    for (std::size_t k = 0; k < values.size(); ++k) values[k].push_back(number(path, line, k + 1, "value"));
  }
  if (times_s.empty()) fail(path.string(), "no data row (expected 'time value...' rows)");
  std::vector<TimeSeries> out;
  for (auto& v : values) out.emplace_back(times_s, std::move(v), path.string());
  return out;
}

LisfloodCase read_lisflood_case(const std::filesystem::path& par_path, const LisfloodCaseOptions& options) {
  LisfloodCase c;
  c.par = read_lisflood_par(par_path);
  const std::filesystem::path folder = std::filesystem::absolute(par_path).parent_path();
  const std::string w = par_path.string();
  auto pick = [&](const std::optional<std::filesystem::path>& override_path, const std::string& name,
                  const char* key) -> std::filesystem::path {
    if (override_path) {
      if (!std::filesystem::is_regular_file(*override_path)) fail(override_path->string(), "{} file not found", key);
      return std::filesystem::absolute(*override_path);
    }
    if (name.empty()) return {};
    return resolve(folder, name, key, w);
  };
  c.dem_path = pick(options.dem, c.par.dem_file, "DEMfile");
  c.bdy_path = pick(options.bdy, c.par.bdy_file, "bdyfile");
  c.bci_path = pick(options.bci, c.par.bci_file, "bcifile");
  c.stage_path = pick(options.stage, c.par.stage_file, "stagefile");

  const std::string dem_name = c.dem_path.string();
  const bool gz = dem_name.size() > 3 && dem_name.compare(dem_name.size() - 3, 3, ".gz") == 0;
  c.dem = twin::read_raster(gz ? std::filesystem::path("/vsigzip/" + dem_name) : c.dem_path);
  if (c.dem.crs().empty() && !options.crs_if_missing.empty()) c.dem.set_crs(options.crs_if_missing);

  if (!c.bdy_path.empty()) c.series = read_lisflood_bdy(c.bdy_path);
  if (!c.bci_path.empty()) c.bci = read_lisflood_bci(c.bci_path);
  if (!c.stage_path.empty()) c.stages = read_lisflood_stage(c.stage_path);

  auto check_series = [&](const std::string& series, const std::string& at) {
    if (series.empty()) return;
    if (c.bdy_path.empty()) fail(at, "series '{}' is used but the .par names no bdyfile", series);
    if (!c.series.count(series)) {
      std::vector<std::string> names;
      for (const auto& [name, _] : c.series) names.push_back(name);
      fail(at, "series '{}' is not in {} (it has: {})", series, c.bdy_path.string(), fmt::join(names, ", "));
    }
  };
  for (const auto& p : c.bci.points) check_series(p.series, p.where);
  for (const auto& e : c.bci.edges) check_series(e.series, e.where);
  return c;
}

FloodSetup make_flood_setup(const LisfloodCase& lc, const LisfloodSetupOptions& options) {
  if (!lc.par.unsupported.empty()) {
    const auto& k = lc.par.unsupported.front();
    fail(k.where, "keyword '{}' changes the case and is not supported by the flood model", k.name);
  }
  if (!lc.par.manning_n) fail(lc.par.path.string(), "no fpfric keyword: the floodplain Manning n is needed");
  const twin::GridSpec& grid = lc.dem.grid();
  if (std::abs(grid.cell_w_m - grid.cell_h_m) > 1e-9 * grid.cell_w_m)
    fail(lc.dem_path.string(), "cells are {} x {} m; LISFLOOD-FP cases use square cells", grid.cell_w_m, grid.cell_h_m);
  const double cell_m = grid.cell_w_m;

  FloodSetup s;
  s.dem = lc.dem;
  s.manning_n = *lc.par.manning_n;
  s.threads = options.threads;
  s.scheme = options.scheme;
  for (const auto& p : lc.bci.points) {
    PointInflow inflow;
    inflow.location = p.location;
    if (p.type == LisfloodBoundaryType::qvar) {
      const TimeSeries& q = lc.series.at(p.series);
      std::vector<double> discharge;
      for (double v : q.values()) {
        if (v < 0.0) fail(p.where, "series '{}' has a negative flow {} m2/s; the model has no point sinks", p.series, v);
        discharge.push_back(v * cell_m);
      }
      inflow.discharge_m3_s = TimeSeries(q.times_s(), std::move(discharge), p.where);
      inflow.label = fmt::format("{} ({})", p.series, p.where);
    } else if (p.type == LisfloodBoundaryType::qfix) {
      if (p.value < 0.0) fail(p.where, "QFIX flow {} m2/s is negative; the model has no point sinks", p.value);
      inflow.discharge_m3_s = TimeSeries::constant(p.value * cell_m);
      inflow.label = fmt::format("QFIX ({})", p.where);
    } else {
      fail(p.where, "{} point sources (imposed water levels) are not supported by the flood model", type_name(p.type));
    }
    s.inflows.push_back(std::move(inflow));
  }
  for (const auto& e : lc.bci.edges) {
    if (e.type != LisfloodBoundaryType::free)
      fail(e.where, "{} edge segments are not supported by the flood model (only FREE outflow)", type_name(e.type));
    if (options.edges == LisfloodEdgePolicy::all_free_if_any) s.open_boundaries = true;
    if (options.edges == LisfloodEdgePolicy::free_edges) {
      switch (e.edge) {
        case LisfloodEdge::west: s.open_edges.west = true; break;
        case LisfloodEdge::east: s.open_edges.east = true; break;
        case LisfloodEdge::north: s.open_edges.north = true; break;
        case LisfloodEdge::south: s.open_edges.south = true; break;
      }
    }
  }
  return s;
}

}  // namespace cadereau::sim::flood
