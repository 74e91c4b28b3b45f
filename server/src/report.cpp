#include "report.h"

#include "gis_outputs.h"
#include "html.h"
#include "record_words.h"
#include "report_charts.h"
#include "report_map.h"
#include "street_closures.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

namespace cadereau::server {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  if (!f) fail(path.string(), "cannot write");
}

namespace {

namespace kind = sim::impact::kind;
using sim::impact::Impact;

constexpr int kWaterFrames = 6;

bool is_consequence(const Impact& i) {
  return i.kind != kind::inflow && i.kind != kind::rain && i.kind != kind::water && i.kind != kind::water_receded &&
         i.kind != kind::action && i.kind != kind::flood_nudged && i.kind != kind::traffic_followed;
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

std::vector<double> edge_max_depths(const sim::engine::Engine& engine) {
  std::vector<double> depths;
  if (engine.territory().network)
    for (std::size_t e = 0; e < engine.territory().network->edges().size(); ++e) depths.push_back(engine.max_edge_depth_m(e));
  return depths;
}

// One row of "what happened": a record, or a street's or a zone's records taken together.
struct Row {
  double t_s = 0.0;
  std::string what;    // in words
  std::string detail;
  std::string where;
  double people = 0.0;
  std::uint64_t record = 0;  // whose causes explain the row
};

// Consequences in time order but road closures (their own table): cars
// caught once per street, flooded homes once per zone (at their peak); the
// numerous kinds are cut to a few rows each.
std::vector<Row> consequence_rows(const ReportInputs& in, std::map<std::string, int>& left_out) {
  const auto& territory = in.engine->territory();
  const auto& log = in.engine->log().all();
  // Totals per street (cars caught) and peaks per zone (flooded homes).
  std::map<std::string, double> caught_people;
  std::map<std::string, int> caught_records;
  std::map<std::string, const Impact*> zone_peak;
  for (const auto& r : log) {
    if (r.kind == kind::people_at_risk) {
      caught_people[target_name(territory, r)] += r.people;
      ++caught_records[target_name(territory, r)];
    }
    if (r.kind == kind::zone_flooded) zone_peak[r.target] = &r;
  }
  const std::map<std::string, int> limit{{kind::people_at_risk, 12}, {kind::zone_flooded, 12}};
  std::map<std::string, int> shown;
  std::set<std::string> grouped_done;
  std::vector<Row> rows;
  for (const auto& r : log) {
    if (!is_consequence(r) || r.kind == kind::road_reopened) continue;
    Row row{r.t_s, kind_in_words(r.kind), r.detail, target_name(territory, r), r.people, r.id};
    if (r.kind == kind::road_closed) continue;  // street by street in their own table
    if (r.kind == kind::people_at_risk) {
      if (!grouped_done.insert("caught:" + row.where).second) continue;
      row.people = caught_people[row.where];
      if (caught_records[row.where] > 1)
        row.detail = fmt::format("{}, then more: {:.0f} people in all on this street", r.detail, row.people);
    } else if (r.kind == kind::zone_flooded) {
      if (!grouped_done.insert("zone:" + r.target).second) continue;
      const Impact& peak = *zone_peak[r.target];
      row.people = peak.people;
      row.detail = fmt::format("up to {} by {}", peak.detail, scenarios::clock_of(*in.scenario, peak.t_s));
    }
    if (const auto l = limit.find(r.kind); l != limit.end() && ++shown[r.kind] > l->second) {
      ++left_out[r.kind];
      continue;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// "what-if" -> "What-if".
std::string title_case(std::string word) {
  if (!word.empty()) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
  return word;
}

std::string forecast_banner(const ReportInputs& in) {
  if (!in.forecast) return {};
  const std::string from = scenarios::clock_of(*in.scenario, in.forecast->from_s);
  const std::string made_by = in.forecast->kind == "forecast" ? "Predicted by <code>cadereau forecast</code> from"
                              : in.forecast->kind == "what-if" ? "A what-if (<code>cadereau replay --fork</code>) from"
                                                               : "Re-driven by <code>cadereau replay --seek</code> from";
  return fmt::format(
      "<div class=\"forecast\" data-testid=\"forecast-banner\"><strong>{}.</strong> {} the state saved at "
      "<strong>{}</strong> ({:.0f} s after the scenario's start) in <code>{}</code>, up to {}. Everything from {} on "
      "is simulated from that state; what comes before is the history that state carried.</div>\n",
      title_case(in.forecast->kind), made_by, from, in.forecast->from_s, escape_html(in.forecast->origin),
      scenarios::clock_of(*in.scenario, in.scenario->duration_s), from);
}

std::string key_figures_html(const KeyFigures& k) {
  std::string html = "<h2>Key figures</h2>\n<table class=\"k\"><tr>";
  auto fig = [&](const std::string& value, const std::string& what) {
    html += fmt::format("<td><div class=\"fig\">{}</div>{}</td>", value, what);
  };
  fig(fmt::format("{:.2f} km&sup2;", k.flooded_km2), "under more than 10 cm of water");
  fig(fmt::format("{:.2f} m", k.max_depth_m), "deepest water");
  fig(fmt::format("{}", k.streets_closed),
      fmt::format("streets closed by water ({} sections, {:.1f} km)", k.roads_closed, k.roads_closed_km));
  fig(fmt::format("{:.0f}", k.people_at_risk), fmt::format("people at risk in {} cars caught by the water", k.vehicles_caught));
  html += "</tr><tr>";
  fig(fmt::format("{}", k.assets_failed), "assets out of service");
  fig(fmt::format("{:.0f}", k.people_without_power), "people without power (peak)");
  fig(fmt::format("{:.0f}", k.people_cut_off), "people whose emergency access is cut or slowed (peak)");
  fig(fmt::format("{:.0f}", k.people_flooded_homes), "people in flooded homes (peak)");
  html += "</tr></table>\n";
  return html;
}

std::string maps_html(const ReportInputs& in, const std::vector<StreetClosure>& streets) {
  const auto& g = in.engine->flood().grid();
  const std::string grid = fmt::format("{:g} m &times; {:g} m cells ({} &times; {})", g.cell_w_m, g.cell_h_m, g.cols, g.rows);
  std::string html = "<h2>Maximum water depth, streets closed and assets hit</h2>\n";
  html += "<figure>" + write_max_depth_map(in, streets).svg + "</figure>\n";
  html += fmt::format(
      "<p class=\"legend\">Blue: the deepest water at each place over the run (the colour bar). Red lines: streets "
      "closed by water (each section once, whatever the direction); purple: closed by order only. Discs: "
      "<span style=\"color:#d7191c\">&#9679;</span> out of service, <span style=\"color:#fdae61\">&#9679;</span> on "
      "backup power or without an emergency route, <span style=\"color:#1a9641\">&#9679;</span> unaffected; names in "
      "bold for the assets hit. Flood grid: {}, {}; north is up.</p>\n",
      grid, escape_html(in.engine->territory().crs.label()));

  html += "<h2>The water over time</h2>\n";
  std::vector<MapFigure> frames;
  try {
    frames = write_water_frames(in, kWaterFrames);
  } catch (const Error& e) {
    return html + "<p>The recorded water depths could not be read: " + escape_html(e.what()) + "</p>\n";
  }
  if (frames.empty()) return html + "<p>No water depths were recorded during this run.</p>\n";
  html += "<p>" + depth_colour_bar_svg("water depth at the time shown") +
          "<br>Water depth as recorded during the run, with the streets closed at that moment in red.</p>\n"
          "<div class=\"frames\">";
  for (const auto& f : frames)
    html += fmt::format("<figure>{}<figcaption><strong>{}</strong>: {}</figcaption></figure>", f.svg,
                        scenarios::clock_of(*in.scenario, f.t_s), f.caption);
  html += "</div>\n";
  return html;
}

// The inflows and the rain behind a record, by name.
std::string hazards_behind(const ReportInputs& in, std::uint64_t id) {
  std::vector<std::string> names;
  for (const Impact* r : story_of(in.engine->log(), id))
    if (r->kind == kind::inflow || r->kind == kind::rain) {
      const std::string name = (r->kind == kind::rain ? "rain at " : "") + target_name(in.engine->territory(), *r);
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string streets_html(const ReportInputs& in, const std::vector<StreetClosure>& streets) {
  std::string html = fmt::format(
      "<h2>Streets closed</h2>\n<p>{} streets, in the order they closed; a section is the stretch between two "
      "junctions, whichever direction was closed. closed_roads.geojson holds them for GIS.</p>\n",
      streets.size());
  if (streets.empty()) return html;
  html += "<table class=\"streets\" data-testid=\"streets-closed\"><tr><th>closed at</th><th>street</th>"
          "<th>sections</th><th>deepest water</th><th>until</th><th>why</th></tr>\n";
  for (const auto& s : streets)
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{} ({:.1f} km)</td><td>{}</td><td>{}</td><td class=\"chain\">{}</td></tr>\n",
                        scenarios::clock_of(*in.scenario, s.first_closed_s), escape_html(s.name), s.sections.size(),
                        s.length_m / 1000.0, s.by_water ? fmt::format("{:.2f} m", s.max_depth_m) : "",
                        s.reopened_s ? "reopened " + scenarios::clock_of(*in.scenario, *s.reopened_s) : "still closed",
                        s.by_water ? "water from " + escape_html(hazards_behind(in, s.first_record))
                                   : "closed by order");
  return html + "</table>\n";
}

std::string consequences_html(const ReportInputs& in) {
  std::map<std::string, int> left_out;
  const std::vector<Row> rows = consequence_rows(in, left_out);
  std::string html =
      "<h2>What happened, and why</h2>\n<p>Each consequence with its causes, from the hazard to it in time order.</p>\n"
      "<table class=\"events\" data-testid=\"consequences\"><tr><th>time</th><th>what</th><th>where</th>"
      "<th>people</th><th>because of</th></tr>\n";
  for (const auto& row : rows)
    html += fmt::format("<tr><td>{}</td><td><strong>{}</strong><br><span class=\"chain\">{}</span></td><td>{}</td>"
                        "<td>{}</td><td class=\"chain\">{}</td></tr>\n",
                        scenarios::clock_of(*in.scenario, row.t_s), escape_html(row.what), escape_html(row.detail),
                        escape_html(row.where), row.people > 0 ? fmt::format("{:.0f}", row.people) : "",
                        escape_html(story_text(in, row.record, " \u2192 ", false)));
  const std::map<std::string, std::string> rest{{kind::people_at_risk, "streets where cars were caught (impacts.geojson)"},
                                                {kind::zone_flooded, "zones with flooded homes (impacts.geojson)"}};
  for (const auto& [k, n] : left_out)
    html += fmt::format("<tr><td></td><td colspan=4>... and {} more {}</td></tr>\n", n, rest.at(k));
  return html + "</table>\n";
}

std::string run_html(const ReportInputs& in) {
  const auto& engine = *in.engine;
  const auto& t = engine.timings();
  const double simulated_s = in.scenario->duration_s - (in.forecast ? in.forecast->from_s : 0.0);
  const auto& g = engine.flood().grid();
  std::string html = "<h2>Run</h2>\n<table>";
  html += fmt::format("<tr><td>simulated</td><td>{:.0f} s in {:.1f} s of wall time: {:.0f}x faster than real time</td></tr>",
                      simulated_s, t.total_s, simulated_s / std::max(t.total_s, 1e-9));
  html += fmt::format("<tr><td>where the time went</td><td>flood {:.1f} s and traffic {:.1f} s side by side ({:.1f} s of wall "
                      "time together), emergency access {:.1f} s, coupling {:.1f} s, impacts {:.2f} s, recording {:.1f} s</td></tr>",
                      t.flood_s, t.traffic_s, t.step_wall_s, t.access_s, t.coupling_s, t.impacts_s, t.recording_s);
  html += fmt::format("<tr><td>flood model</td><td>grid of {:g} m &times; {:g} m cells, {} &times; {}; {} steps, mass error "
                      "{:.1e}</td></tr>",
                      g.cell_w_m, g.cell_h_m, g.cols, g.rows, engine.flood().steps(),
                      engine.flood().mass_balance().error_rel());
  html += fmt::format("<tr><td>traffic</td><td>{} vehicles arrived, {} stopped by water</td></tr>",
                      engine.vehicles_arrived(), engine.vehicles_stopped_by_water());
  html += "<tr><td>files</td><td>recording.h5, impacts.json, impacts.geojson and closed_roads.geojson (RFC 7946, for "
          "GIS), max_depth.tif and arrival_time.tif (on the flood grid), summary.json</td></tr>";
  return html + "</table>\n";
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
  if (const auto& network = engine.territory().network) {
    std::set<std::string> streets;
    std::set<std::pair<std::string, std::string>> sections;
    for (std::size_t e : engine.edges_ever_flooded()) {
      const twin::Edge& edge = network->edges()[e];
      streets.insert(street_of(edge));
      if (sections.insert(std::minmax(edge.from_junction, edge.to_junction)).second)
        k.roads_closed_km += edge.length_m() / 1000.0;
    }
    k.streets_closed = static_cast<int>(streets.size());
    k.roads_closed = static_cast<int>(sections.size());
  }
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
  const std::vector<StreetClosure> streets =
      territory.network ? street_closures(engine.log(), *territory.network, edge_max_depths(engine))
                        : std::vector<StreetClosure>{};
  write_impacts_geojson(in);
  write_closed_roads_geojson(in, streets);
  const std::string gauge_legend = write_gauges_chart(in);
  write_timeline_chart(in);

  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
          (in.forecast ? title_case(in.forecast->kind) + ": " : std::string()) + escape_html(scenario.name) +
          "</title>\n<style>body{font-family:sans-serif;max-width:1240px;margin:1em auto;color:#222}"
          "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}"
          ".fig{font-size:1.6em;font-weight:bold}.chain{color:#555;font-size:0.9em}.k td{padding:6px 14px}"
          "img{max-width:100%}figure{margin:0}svg.map{width:100%;height:auto;display:block}"
          ".frames{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}.frames figcaption{font-size:0.9em;margin:4px 0 8px}"
          ".forecast{background:#fff3cd;border:2px solid #b8860b;padding:10px 14px;margin:1em 0;font-size:1.1em}"
          ".legend{font-size:0.95em}.events td:nth-child(2){min-width:14em}</style></head><body>\n";
  html += fmt::format("<h1>{}{}</h1>\n", in.forecast ? title_case(in.forecast->kind) + ": " : "", escape_html(scenario.name));
  html += forecast_banner(in);
  html += fmt::format("<p>{}territory: {} &middot; from {} for {:.0f} min (times are the scenario's local clock)</p>\n",
                      scenario.description.empty() ? "" : escape_html(scenario.description) + " &middot; ",
                      escape_html(territory.manifest.name), escape_html(scenario.start), scenario.duration_s / 60.0);
  html += key_figures_html(key_figures(engine));
  html += maps_html(in, streets);
  html += "<h2>Water at the gauges</h2>\n<img src=\"gauges.svg\" alt=\"water depth at the gauges\">\n<p>" + gauge_legend +
          " (water depth above the gauge's bed; the recording holds the water-surface elevations)</p>\n";
  html += "<h2>Timeline</h2>\n<img src=\"timeline.svg\" alt=\"timeline of the records\">\n"
          "<p>Each dot is a record: a road edge in one direction, an asset, a zone's update; the counts on the right "
          "are numbers of records, not of streets or people.</p>\n";
  html += consequences_html(in);
  html += streets_html(in, streets);
  if (!in.snapshots.empty()) {
    html += "<h2>3D views</h2>\n";
    for (const auto& s : in.snapshots) html += "<img src=\"" + escape_html(s) + "\" alt=\"3D view\"><br>\n";
  }
  html += run_html(in);
  html += "</body></html>\n";
  write_file(in.dir / "report.html", html);
}

}  // namespace cadereau::server
