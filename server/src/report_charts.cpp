#include "report_charts.h"

#include "html.h"
#include "record_words.h"
#include "report.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace cadereau::server {

namespace {

namespace kind = sim::impact::kind;

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

// A forecast's predicted span, shaded and named, between x0 and x1 over the plot's height.
std::string svg_forecast_shade(const ReportInputs& in, double x0, double x1, double top, double bottom) {
  if (!in.forecast) return {};
  const double x = x0 + (x1 - x0) * std::clamp(in.forecast->from_s / in.scenario->duration_s, 0.0, 1.0);
  return fmt::format(R"(<rect x="{0:.1f}" y="{1:.1f}" width="{2:.1f}" height="{3:.1f}" fill="#fff3cd"/>)"
                     R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{4:.1f}" stroke="#b8860b" stroke-dasharray="4 3"/>)"
                     R"(<text x="{5:.1f}" y="{6:.1f}" font-size="11" fill="#8a6d00">{8} from {7}</text>)",
                     x, top, x1 - x, bottom - top, bottom, x + 4, top + 12,
                     scenarios::clock_of(*in.scenario, in.forecast->from_s), in.forecast->kind);
}

}  // namespace

std::string write_gauges_chart(const ReportInputs& in) {
  const auto& engine = *in.engine;
  const double W = 900, H = 320, left = 60, right = 20, top = 20, bottom = 40;
  const double duration = in.scenario->duration_s;
  double max_depth = 0.5;
  for (const auto& g : engine.gauges())
    for (double w : g.wse_m) max_depth = std::max(max_depth, w - g.bed_m);
  max_depth = std::ceil(max_depth * 2.0) / 2.0;
  std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif">)", W, H);
  svg += svg_forecast_shade(in, left, W - right, top, H - bottom);
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#333"/>)", left, top,
                     W - left - right, H - top - bottom);
  for (double d = 0.0; d <= max_depth + 1e-9; d += max_depth > 3 ? 1.0 : 0.5) {
    const double y = H - bottom - (H - top - bottom) * d / max_depth;
    svg += fmt::format(R"(<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" stroke="#ddd"/>)"
                       R"(<text x="{3}" y="{4:.1f}" font-size="11" text-anchor="end">{5:.1f} m</text>)",
                       left, y, W - right, left - 4, y + 4, d);
  }
  svg += svg_time_axis(left, W - right, H - bottom, duration, *in.scenario);
  static const char* colours[] = {"#1f78b4", "#e31a1c", "#33a02c", "#ff7f00", "#6a3d9a", "#b15928", "#a6cee3", "#fb9a99"};
  std::string legend;
  for (std::size_t gi = 0; gi < engine.gauges().size(); ++gi) {
    const auto& g = engine.gauges()[gi];
    std::string points;
    for (std::size_t k = 0; k < g.t_s.size(); ++k)
      points += fmt::format("{:.1f},{:.1f} ", left + (W - left - right) * g.t_s[k] / duration,
                            H - bottom - (H - top - bottom) * (g.wse_m[k] - g.bed_m) / max_depth);
    const char* c = colours[gi % std::size(colours)];
    svg += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>)", c, points);
    legend += fmt::format(R"(<span style="color:{}">&#9644;</span> {} &nbsp; )", c, escape_html(g.name));
  }
  svg += "</svg>\n";
  write_file(in.dir / "gauges.svg", svg);
  return legend;
}

void write_timeline_chart(const ReportInputs& in) {
  const auto& log = in.engine->log().all();
  const double duration = in.scenario->duration_s;
  const std::vector<std::pair<std::string, std::vector<std::string>>> rows{
      {"stream in spate, heavy rain", {kind::inflow, kind::rain}},
      {kind_in_words(kind::road_closed), {kind::road_closed}},
      {kind_in_words(kind::people_at_risk), {kind::people_at_risk}},
      {"assets " + kind_in_words(kind::asset_failed), {kind::asset_failed}},
      {"assets " + kind_in_words(kind::asset_on_backup), {kind::asset_on_backup}},
      {"assets with " + kind_in_words(kind::asset_cut_off), {kind::asset_cut_off}},
      {"zones: " + kind_in_words(kind::zone_without_power), {kind::zone_without_power}},
      {"zones: emergency access cut or slowed", {kind::zone_unreachable, kind::zone_access_degraded}},
      {kind_in_words(kind::zone_flooded), {kind::zone_flooded}},
      {"orders (police, operators)", {kind::action}},
  };
  const double TW = 900, row_h = 26, tl = 230, tr = 80, top = 36;
  const double TH = top + rows.size() * row_h + 30;
  std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif">)", TW, TH);
  svg += svg_forecast_shade(in, tl, TW - tr, 0, top + (rows.size() - 0.5) * row_h);
  // The dots are records: one per road edge and direction, per asset, per zone update.
  svg += fmt::format(R"(<text x="{}" y="{}" font-size="11" fill="#555">records</text>)", TW - tr + 6, top - 16);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double y = top + r * row_h;
    int count = 0;
    svg += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="12" text-anchor="end">{}</text>)", tl - 8, y + 4,
                       escape_html(rows[r].first));
    svg += fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#eee"/>)", tl, y, TW - tr, y);
    for (const auto& i : log) {
      if (std::find(rows[r].second.begin(), rows[r].second.end(), i.kind) == rows[r].second.end()) continue;
      ++count;
      const double x = tl + (TW - tl - tr) * std::clamp(i.t_s / duration, 0.0, 1.0);
      svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="4" fill="{}" fill-opacity="0.6"><title>{}</title></circle>)",
                         x, y, r == 0 ? "#1f78b4" : "#d7191c",
                         escape_html(scenarios::clock_of(*in.scenario, i.t_s) + " " +
                                     record_phrase(in.engine->territory(), i)));
    }
    svg += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="12">{} record{}</text>)", TW - tr + 6, y + 4, count,
                       count == 1 ? "" : "s");
  }
  svg += svg_time_axis(tl, TW - tr, top + rows.size() * row_h - row_h / 2, duration, *in.scenario);
  svg += "</svg>\n";
  write_file(in.dir / "timeline.svg", svg);
}

}  // namespace cadereau::server
