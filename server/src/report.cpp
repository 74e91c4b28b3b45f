#include "report.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/map_image.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

namespace cadereau::server {

namespace {

namespace kind = sim::impact::kind;
using sim::impact::Impact;

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  if (!f) fail(path.string(), "cannot write");
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

bool is_consequence(const Impact& i) {
  return i.kind != kind::inflow && i.kind != kind::rain && i.kind != kind::water && i.kind != kind::water_receded &&
         i.kind != kind::action;
}

// Peak of a sum over targets that switch on and off with the records.
double peak_people(const std::vector<Impact>& log, const std::set<std::string>& on, const std::set<std::string>& off) {
  std::map<std::string, double> current;
  double peak = 0.0;
  for (const auto& i : log) {
    if (on.count(i.kind))
      current[i.target] = i.people;
    else if (off.count(i.kind))
      current.erase(i.target);
    else
      continue;
    double sum = 0.0;
    for (const auto& [t, p] : current) sum += p;
    peak = std::max(peak, sum);
  }
  return peak;
}

const std::vector<twin::ColourStop> kDepthRamp{
    {0.1, {198, 219, 239}}, {0.3, {107, 174, 214}}, {0.5, {33, 113, 181}}, {1.0, {8, 69, 148}}, {2.0, {8, 30, 90}}};

std::string svg_time_axis(double x0, double x1, double y, double duration_s, const scenarios::Scenario& s) {
  std::string out;
  const double step = duration_s > 4 * 3600 ? 3600.0 : duration_s > 3600 ? 1800.0 : 600.0;
  for (double t = 0.0; t <= duration_s + 1e-9; t += step) {
    const double x = x0 + (x1 - x0) * t / duration_s;
    out += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#999"/>)"
                       R"(<text x="{0:.1f}" y="{3:.1f}" font-size="11" text-anchor="middle">{4}</text>)",
                       x, y, y + 4, y + 16, scenarios::clock_of(s, t));
  }
  return out;
}

}  // namespace

KeyFigures key_figures(const sim::engine::Engine& engine) {
  KeyFigures k;
  const auto max_depth = engine.flood().max_depth_raster();
  const auto& g = max_depth.grid();
  std::size_t cells = 0;
  for (float v : max_depth.values())
    if (!max_depth.is_nodata(v) && v >= 0.1f) ++cells;
  k.flooded_km2 = cells * g.cell_w_m * g.cell_h_m / 1e6;
  k.max_depth_m = engine.flood().max_depth_m();
  const auto flooded = engine.edges_ever_flooded();
  k.roads_closed = static_cast<int>(flooded.size());
  if (engine.territory().network)
    for (std::size_t e : flooded) k.roads_closed_km += engine.territory().network->edges()[e].length_m() / 1000.0;
  const auto& log = engine.log().all();
  std::set<std::string> failed;
  for (const auto& i : log) {
    if (i.kind == kind::people_at_risk) k.people_at_risk += i.people;
    if (i.kind == kind::asset_failed) failed.insert(i.target);
  }
  k.vehicles_caught = static_cast<int>(engine.vehicles_stopped_by_water());
  k.assets_failed = static_cast<int>(failed.size());
  k.people_without_power = peak_people(log, {kind::zone_without_power}, {kind::zone_power_restored});
  k.people_cut_off = peak_people(log, {kind::zone_unreachable, kind::zone_access_degraded}, {kind::zone_access_restored});
  k.people_flooded_homes = peak_people(log, {kind::zone_flooded}, {});
  return k;
}

void write_impacts_json(const ReportInputs& in) {
  const auto& log = in.engine->log();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& i : log.all()) {
    nlohmann::json chain = nlohmann::json::array();
    for (const Impact* c : log.chain(i.id))
      chain.push_back({{"id", c->id}, {"t_s", c->t_s}, {"kind", c->kind}, {"target", c->target}, {"detail", c->detail}});
    list.push_back({{"id", i.id},
                    {"t_s", i.t_s},
                    {"clock", scenarios::clock_of(*in.scenario, i.t_s)},
                    {"kind", i.kind},
                    {"target", i.target},
                    {"x_m", i.place.x_m},
                    {"y_m", i.place.y_m},
                    {"detail", i.detail},
                    {"people", i.people},
                    {"causes", i.causes},
                    {"chain", chain}});
  }
  write_file(in.dir / "impacts.json", list.dump(1) + "\n");
}

void write_report(const ReportInputs& in) {
  const auto& engine = *in.engine;
  const auto& scenario = *in.scenario;
  const auto& territory = engine.territory();
  const auto& log = engine.log().all();
  const KeyFigures k = key_figures(engine);

  // --- the map ---------------------------------------------------------------
  const twin::Box extent = territory.grid().extent();
  twin::MapImage map(extent, 1200);
  map.paint_hillshade(territory.dem);
  map.paint_raster(engine.flood().max_depth_raster(), kDepthRamp, 0.1, 0.85);
  if (territory.network) {
    for (const auto& e : territory.network->edges())
      if (e.lanes.size() >= 2 || e.speed_m_s() > 13.0) map.line(e.shape, {120, 120, 120}, 1.0);
    for (std::size_t e : engine.edges_ever_flooded()) map.line(territory.network->edges()[e].shape, {215, 25, 28}, 3.0);
  }
  std::set<std::string> failed, degraded;
  for (const auto& i : log) {
    if (i.kind == kind::asset_failed) failed.insert(i.target);
    if (i.kind == kind::asset_on_backup || i.kind == kind::asset_cut_off) degraded.insert(i.target);
  }
  for (const auto& a : territory.assets) {
    if (a.type == twin::AssetType::traffic_signal) continue;
    const twin::Rgb colour = failed.count(a.id) ? twin::Rgb{215, 25, 28}
                             : degraded.count(a.id) ? twin::Rgb{253, 174, 97}
                                                    : twin::Rgb{26, 150, 65};
    map.disc(a.location, failed.count(a.id) ? 7.0 : 5.0, colour);
  }
  map.write_png(in.dir / "map.png");

  // --- gauges ------------------------------------------------------------------
  const double W = 900, H = 320, left = 60, right = 20, top = 20, bottom = 40;
  const double duration = scenario.duration_s;
  double max_depth = 0.5;
  for (const auto& g : engine.gauges())
    for (double w : g.wse_m) max_depth = std::max(max_depth, w - g.bed_m);
  max_depth = std::ceil(max_depth * 2.0) / 2.0;
  std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif">)", W, H);
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#333"/>)", left, top,
                     W - left - right, H - top - bottom);
  for (double d = 0.0; d <= max_depth + 1e-9; d += max_depth > 3 ? 1.0 : 0.5) {
    const double y = H - bottom - (H - top - bottom) * d / max_depth;
    svg += fmt::format(R"(<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" stroke="#ddd"/>)"
                       R"(<text x="{3}" y="{4:.1f}" font-size="11" text-anchor="end">{5:.1f} m</text>)",
                       left, y, W - right, left - 4, y + 4, d);
  }
  svg += svg_time_axis(left, W - right, H - bottom, duration, scenario);
  static const char* colours[] = {"#1f78b4", "#e31a1c", "#33a02c", "#ff7f00", "#6a3d9a", "#b15928", "#a6cee3", "#fb9a99"};
  std::string legend;
  for (std::size_t gi = 0; gi < engine.gauges().size(); ++gi) {
    const auto& g = engine.gauges()[gi];
    std::string points;
    for (std::size_t k2 = 0; k2 < g.t_s.size(); ++k2)
      points += fmt::format("{:.1f},{:.1f} ", left + (W - left - right) * g.t_s[k2] / duration,
                            H - bottom - (H - top - bottom) * (g.wse_m[k2] - g.bed_m) / max_depth);
    const char* c = colours[gi % std::size(colours)];
    svg += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>)", c, points);
    legend += fmt::format(R"(<span style="color:{}">&#9644;</span> {} &nbsp; )", c, escape(g.name));
  }
  svg += "</svg>\n";
  write_file(in.dir / "gauges.svg", svg);

  // --- timeline ------------------------------------------------------------------
  const std::vector<std::pair<std::string, std::vector<std::string>>> rows{
      {"hazard", {kind::inflow, kind::rain}},
      {"roads closed", {kind::road_closed}},
      {"people at risk", {kind::people_at_risk}},
      {"assets failed", {kind::asset_failed}},
      {"assets on backup", {kind::asset_on_backup}},
      {"assets cut off", {kind::asset_cut_off}},
      {"zones without power", {kind::zone_without_power}},
      {"zones cut off", {kind::zone_unreachable, kind::zone_access_degraded}},
      {"homes flooded", {kind::zone_flooded}},
      {"actions", {kind::action}},
  };
  const double TW = 900, row_h = 26, tl = 150, tr = 60;
  const double TH = 30 + rows.size() * row_h + 30;
  std::string tsvg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif">)", TW, TH);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double y = 30 + r * row_h;
    int count = 0;
    tsvg += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="12" text-anchor="end">{}</text>)", tl - 8, y + 4,
                        rows[r].first);
    tsvg += fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#eee"/>)", tl, y, TW - tr, y);
    for (const auto& i : log) {
      if (std::find(rows[r].second.begin(), rows[r].second.end(), i.kind) == rows[r].second.end()) continue;
      ++count;
      const double x = tl + (TW - tl - tr) * std::clamp(i.t_s / duration, 0.0, 1.0);
      tsvg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="4" fill="{}" fill-opacity="0.6"><title>{}</title></circle>)",
                          x, y, r == 0 ? "#1f78b4" : "#d7191c",
                          escape(scenarios::clock_of(scenario, i.t_s) + " " + i.target + " " + i.detail));
    }
    tsvg += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="12">{}</text>)", TW - tr + 6, y + 4, count);
  }
  tsvg += svg_time_axis(tl, TW - tr, 30 + rows.size() * row_h, duration, scenario);
  tsvg += "</svg>\n";
  write_file(in.dir / "timeline.svg", tsvg);

  // --- the page ------------------------------------------------------------------
  const auto& t = engine.timings();
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(scenario.name) +
          "</title>\n<style>body{font-family:sans-serif;max-width:1240px;margin:1em auto;color:#222}"
          "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}"
          ".fig{font-size:1.6em;font-weight:bold}.chain{color:#555;font-size:0.9em}.k td{padding:6px 14px}"
          "img{max-width:100%}</style></head><body>\n";
  html += fmt::format("<h1>{}</h1>\n<p>{} &middot; territory: {} &middot; from {} for {:.0f} min</p>\n", escape(scenario.name),
                      escape(scenario.description), escape(territory.manifest.name), escape(scenario.start),
                      duration / 60.0);
  html += "<h2>Key figures</h2>\n<table class=\"k\"><tr>";
  auto fig = [&](const std::string& value, const std::string& what) {
    html += fmt::format("<td><div class=\"fig\">{}</div>{}</td>", value, what);
  };
  fig(fmt::format("{:.2f} km&sup2;", k.flooded_km2), "under more than 10 cm of water");
  fig(fmt::format("{:.2f} m", k.max_depth_m), "deepest water");
  fig(fmt::format("{} ({:.1f} km)", k.roads_closed, k.roads_closed_km), "road sections closed by water");
  fig(fmt::format("{:.0f}", k.people_at_risk), fmt::format("people at risk in {} vehicles caught", k.vehicles_caught));
  html += "</tr><tr>";
  fig(fmt::format("{}", k.assets_failed), "assets out of service");
  fig(fmt::format("{:.0f}", k.people_without_power), "people without power (peak)");
  fig(fmt::format("{:.0f}", k.people_cut_off), "people whose emergency access is cut or degraded (peak)");
  fig(fmt::format("{:.0f}", k.people_flooded_homes), "people in flooded homes (peak)");
  html += "</tr></table>\n";

  html += "<h2>Maximum water depth, closed roads and assets hit</h2>\n<img src=\"map.png\" alt=\"max depth map\">\n";
  html += "<p>Blue: maximum water depth (light 0.1 m to dark 2 m and more). Red lines: roads closed by water. "
          "Discs: red, asset out of service; orange, on backup power or cut off; green, unaffected.</p>\n";
  html += "<h2>Water levels at the gauges</h2>\n<img src=\"gauges.svg\" alt=\"gauge levels\">\n<p>" + legend +
          " (depth above the gauge's bed)</p>\n";
  html += "<h2>Consequence timeline</h2>\n<img src=\"timeline.svg\" alt=\"timeline\">\n";

  html += "<h2>What happened, and why</h2>\n<table><tr><th>time</th><th>what</th><th>where</th><th>people</th>"
          "<th>because of</th></tr>\n";
  // The numerous kinds are shown up to a few rows each: the map, the
  // timeline and impacts.json hold them all.
  const std::map<std::string, int> row_limit{{kind::road_closed, 15}, {kind::people_at_risk, 10}, {kind::zone_flooded, 10}};
  std::map<std::string, int> rows_of;
  for (const auto& i : log) {
    if (!is_consequence(i) || i.kind == kind::road_reopened) continue;
    const auto limit = row_limit.find(i.kind);
    if (limit != row_limit.end() && ++rows_of[i.kind] > limit->second) continue;
    std::string where = i.target;
    if (const twin::Asset* a = territory.find_asset(i.target)) where = a->name;
    for (const auto& z : territory.zones)
      if (z.id == i.target) where = z.name;
    std::string chain;
    for (const Impact* c : engine.log().chain(i.id))
      chain += (chain.empty() ? "" : " &larr; ") +
               escape(fmt::format("{} {} {} ({})", scenarios::clock_of(scenario, c->t_s), c->kind, c->target, c->detail));
    html += fmt::format("<tr><td>{}</td><td>{}<br><span class=\"chain\">{}</span></td><td>{}</td><td>{}</td>"
                        "<td class=\"chain\">{}</td></tr>\n",
                        scenarios::clock_of(scenario, i.t_s), escape(i.kind), escape(i.detail), escape(where),
                        i.people > 0 ? fmt::format("{:.0f}", i.people) : "", chain);
  }
  for (const auto& [k, limit] : row_limit)
    if (rows_of[k] > limit)
      html += fmt::format("<tr><td></td><td colspan=4>... and {} more {} records (see the map, the timeline and "
                          "impacts.json)</td></tr>\n",
                          rows_of[k] - limit, k);
  html += "</table>\n";

  if (!in.snapshots.empty()) {
    html += "<h2>3D views</h2>\n";
    for (const auto& s : in.snapshots) html += "<img src=\"" + escape(s) + "\" alt=\"3D view\"><br>\n";
  }
  html += "<h2>Run</h2>\n<table>";
  html += fmt::format("<tr><td>simulated</td><td>{:.0f} s in {:.1f} s of wall time: {:.0f}x faster than real time</td></tr>",
                      duration, t.total_s, duration / std::max(t.total_s, 1e-9));
  html += fmt::format("<tr><td>where the time went</td><td>flood {:.1f} s and traffic {:.1f} s side by side ({:.1f} s of wall "
                      "time together), emergency access {:.1f} s, coupling {:.1f} s, impacts {:.2f} s, recording {:.1f} s</td></tr>",
                      t.flood_s, t.traffic_s, t.step_wall_s, t.access_s, t.coupling_s, t.impacts_s, t.recording_s);
  const auto mass = engine.flood().mass_balance();
  html += fmt::format("<tr><td>flood model</td><td>{} steps, mass error {:.1e}</td></tr>", engine.flood().steps(),
                      mass.error_rel());
  html += fmt::format("<tr><td>traffic</td><td>{} vehicles arrived, {} stopped by water</td></tr>",
                      engine.vehicles_arrived(), engine.vehicles_stopped_by_water());
  html += "<tr><td>files</td><td>recording.h5, impacts.json, max_depth.tif, arrival_time.tif, summary.json</td></tr>";
  html += "</table>\n</body></html>\n";
  write_file(in.dir / "report.html", html);
}

}  // namespace cadereau::server
