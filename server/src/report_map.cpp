#include "report_map.h"

#include "html.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/map_image.h"
#include "cadereau/twin/recording.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <set>

namespace cadereau::server {

const std::vector<twin::ColourStop>& depth_ramp() {
  static const std::vector<twin::ColourStop> ramp{
      {0.1, {198, 219, 239}}, {0.3, {107, 174, 214}}, {0.5, {33, 113, 181}}, {1.0, {8, 69, 148}}, {2.0, {8, 30, 90}}};
  return ramp;
}

namespace {

namespace kind = sim::impact::kind;

constexpr int kMapWidthPx = 1200;
constexpr int kFrameWidthPx = 400;
const std::vector<twin::ColourStop>& kDepthRamp = depth_ramp();
constexpr double kWaterOpacity = 0.85;
constexpr twin::Rgb kClosedRed{215, 25, 28};
constexpr twin::Rgb kRoadGrey{120, 120, 120};
constexpr twin::Rgb kOrderPurple{118, 42, 131};

std::string hex(twin::Rgb c) { return fmt::format("#{:02x}{:02x}{:02x}", c.r, c.g, c.b); }

// The main roads, so that a reader finds their way around.
void paint_roads(twin::MapImage& map, const twin::Territory& territory, double width_px) {
  if (!territory.network) return;
  for (const auto& e : territory.network->edges())
    if (e.lanes.size() >= 2 || e.speed_m_s() > 13.0) map.line(e.shape, kRoadGrey, width_px);
}

// A scale bar of a round length near a fifth of the width, bottom left.
std::string scale_bar_svg(const twin::MapImage& map) {
  const double px_per_m = map.width() / map.extent().width_m();
  double length_m = 10.0;
  for (double nice : {10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0, 50000.0})
    if (nice * px_per_m <= map.width() * 0.22) length_m = nice;
  const double w = length_m * px_per_m, x = 16.0, y = map.height() - 22.0;
  const std::string label = length_m >= 1000.0 ? fmt::format("{:g} km", length_m / 1000.0) : fmt::format("{:g} m", length_m);
  return fmt::format(
      R"(<g class="scale"><rect x="{0:.1f}" y="{1:.1f}" width="{2:.1f}" height="30" fill="white" fill-opacity="0.85"/>)"
      R"(<rect x="{3:.1f}" y="{4:.1f}" width="{5:.1f}" height="6" fill="black"/>)"
      R"(<rect x="{3:.1f}" y="{4:.1f}" width="{6:.1f}" height="6" fill="white" stroke="black"/>)"
      R"(<text x="{3:.1f}" y="{7:.1f}" font-size="12">0</text>)"
      R"(<text x="{8:.1f}" y="{7:.1f}" font-size="12" text-anchor="end">{9}</text></g>)",
      x - 6, y - 20, w + 12, x, y, w, w / 2, y - 6, x + w, label);
}

// North is up: the maps are drawn on the projected grid (Lambert-93 grid
// north is within a degree or two of true north over a territory).
std::string north_arrow_svg(const twin::MapImage& map) {
  const double x = map.width() - 34.0, y = 16.0;
  return fmt::format(R"(<g class="north"><rect x="{0:.1f}" y="{1:.1f}" width="28" height="48" fill="white" fill-opacity="0.85"/>)"
                     R"(<path d="M{2:.1f},{3:.1f} l9,24 l-9,-6 l-9,6 z" fill="black"/>)"
                     R"(<text x="{2:.1f}" y="{4:.1f}" font-size="13" font-weight="bold" text-anchor="middle">N</text></g>)",
                     x, y, x + 14, y + 4, y + 44);
}

struct Label {
  double x0, y0, x1, y1;
  bool overlaps(const Label& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

// Names beside their discs: right, left, above or below, whichever is free;
// a name with no room is left out (the tables name everything).
class LabelPlacer {
 public:
  LabelPlacer(double width_px, double height_px) : width_(width_px), height_(height_px) {}
  void keep_clear(Label box) { taken_.push_back(box); }
  std::string place(double x, double y, double radius_px, const std::string& text, bool bold) {
    const double size = bold ? 13.0 : 12.0;
    // Characters, not bytes: names are UTF-8 ("Trémie", "SDIS 30 — ...").
    const auto chars = std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; });
    const double w = 0.56 * size * static_cast<double>(chars) + 2.0, h = size + 2.0;
    const double gap = radius_px + 3.0;
    const std::array<std::array<double, 2>, 4> corners{{{x + gap, y - h / 2}, {x - gap - w, y - h / 2},
                                                        {x - w / 2, y - gap - h}, {x - w / 2, y + gap}}};
    for (const auto& [left, top] : corners) {
      const Label box{left, top, left + w, top + h};
      if (box.x0 < 0 || box.y0 < 0 || box.x1 > width_ || box.y1 > height_) continue;
      if (std::any_of(taken_.begin(), taken_.end(), [&](const Label& t) { return t.overlaps(box); })) continue;
      taken_.push_back(box);
      return fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="{}"{}>{}</text>)", left + 1, top + size - 1, size,
                         bold ? R"( font-weight="bold")" : "", escape_html(text));
    }
    return {};
  }

 private:
  double width_, height_;
  std::vector<Label> taken_;
};

std::string figure_svg(const std::string& png, const twin::MapImage& map, const std::string& overlay,
                       const std::string& label) {
  return fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {0} {1}" role="img" )"
                     R"(aria-label="{2}" font-family="sans-serif"><image href="{3}" width="{0}" height="{1}"/>{4}</svg>)",
                     map.width(), map.height(), escape_html(label), escape_html(png), overlay);
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  if (!f) fail(path.string(), "cannot write");
}

}  // namespace

std::string depth_colour_bar_svg(const std::string& title) {
  // One equal box per depth class, each shaded across its class, so the
  // shallow classes that matter for roads read as well as the deep ones.
  const double box_w = 58.0, x0 = 10.0, bar_y = 24.0, bar_h = 14.0;
  const std::size_t n = kDepthRamp.size();
  const double w = x0 * 2 + box_w * static_cast<double>(n);
  std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" class="colourbar" width="{0:.0f}" height="60" )"
                                R"(viewBox="0 0 {0:.0f} 60" font-family="sans-serif"><defs>)",
                                w);
  for (std::size_t i = 0; i + 1 < n; ++i)
    svg += fmt::format(R"(<linearGradient id="depth{}"><stop offset="0" stop-color="{}"/><stop offset="1" stop-color="{}"/></linearGradient>)",
                       i, hex(kDepthRamp[i].colour), hex(kDepthRamp[i + 1].colour));
  svg += "</defs>";
  svg += fmt::format(R"(<rect x="0" y="0" width="{:.0f}" height="60" fill="white" fill-opacity="0.85"/>)", w);
  svg += fmt::format(R"(<text x="{}" y="15" font-size="12">{} (m)</text>)", x0, escape_html(title));
  for (std::size_t i = 0; i < n; ++i) {
    const double x = x0 + box_w * static_cast<double>(i);
    const std::string fill = i + 1 < n ? fmt::format("url(#depth{})", i) : hex(kDepthRamp[i].colour);
    const std::string range = i + 1 < n ? fmt::format("{:g}\u2013{:g}", kDepthRamp[i].value, kDepthRamp[i + 1].value)
                                        : fmt::format("\u2265 {:g}", kDepthRamp[i].value);
    svg += fmt::format(R"(<rect x="{:.1f}" y="{}" width="{}" height="{}" fill="{}" stroke="#555" stroke-width="0.5"/>)", x,
                       bar_y, box_w, bar_h, fill);
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>)", x + box_w / 2,
                       bar_y + bar_h + 13, range);
  }
  svg += "</svg>";
  return svg;
}

MapFigure write_max_depth_map(const ReportInputs& in, const std::vector<StreetClosure>& streets) {
  const auto& engine = *in.engine;
  const auto& territory = engine.territory();
  twin::MapImage map(territory.grid().extent(), kMapWidthPx);
  map.paint_hillshade(territory.dem);
  map.paint_raster(engine.flood().max_depth_raster(), kDepthRamp, kShownDepthM, kWaterOpacity);
  paint_roads(map, territory, 1.0);
  // Closed by water in red; by an order only (police, operator) in purple.
  for (const auto& s : streets)
    for (const auto& section : s.sections) map.line(section, s.by_water ? kClosedRed : kOrderPurple, 3.0);

  std::set<std::string> failed, degraded;
  for (const auto& r : engine.log().all()) {
    if (r.kind == kind::asset_failed) failed.insert(r.target);
    if (r.kind == kind::asset_on_backup || r.kind == kind::asset_cut_off) degraded.insert(r.target);
  }
  std::vector<const twin::Asset*> shown;
  for (const auto& a : territory.assets)
    if (a.type != twin::AssetType::traffic_signal) shown.push_back(&a);
  // Names of the assets hit first, so that they get the room.
  std::stable_sort(shown.begin(), shown.end(), [&](const twin::Asset* a, const twin::Asset* b) {
    auto rank = [&](const twin::Asset* x) { return failed.count(x->id) ? 0 : degraded.count(x->id) ? 1 : 2; };
    return rank(a) < rank(b);
  });
  LabelPlacer labels(map.width(), map.height());
  labels.keep_clear({map.width() - 40.0, 0.0, double(map.width()), 70.0});                      // north arrow
  labels.keep_clear({0.0, map.height() - 50.0, map.width() * 0.3, double(map.height())});       // scale bar
  labels.keep_clear({map.width() - 320.0, map.height() - 70.0, double(map.width()), double(map.height())});  // colour bar
  auto radius_of = [&](const twin::Asset* a) { return failed.count(a->id) ? 7.0 : 5.0; };
  for (const twin::Asset* a : shown) {  // no name over a disc
    const auto [x, y] = map.to_pixel(a->location);
    const double r = radius_of(a);
    labels.keep_clear({x - r, y - r, x + r, y + r});
  }
  std::string names;
  for (const twin::Asset* a : shown) {
    const bool hit = failed.count(a->id) != 0;
    const twin::Rgb colour = hit ? kClosedRed : degraded.count(a->id) ? twin::Rgb{253, 174, 97} : twin::Rgb{26, 150, 65};
    map.disc(a->location, radius_of(a), colour);
    const auto [x, y] = map.to_pixel(a->location);
    names += labels.place(x, y, radius_of(a), a->name, hit || degraded.count(a->id));
  }
  map.write_png(in.dir / "map.png");

  const std::string overlay = R"(<g class="names" paint-order="stroke" stroke="white" stroke-width="3" )"
                              R"(stroke-linejoin="round">)" + names + "</g>" + scale_bar_svg(map) + north_arrow_svg(map) +
                              fmt::format(R"(<svg x="{}" y="{}">{}</svg>)", map.width() - 320, map.height() - 66,
                                          depth_colour_bar_svg("maximum water depth"));
  MapFigure figure;
  figure.png = "map.png";
  figure.svg = figure_svg("map.png", map, overlay, "maximum water depth, streets closed by water and assets hit");
  figure.t_s = in.scenario->duration_s;
  write_text_file(in.dir / "map.svg", figure.svg + "\n");
  return figure;
}

std::vector<MapFigure> write_water_frames(const ReportInputs& in, int count) {
  if (in.recording.empty() || !std::filesystem::exists(in.recording) || count <= 0) return {};
  const twin::RecordingReader recording(in.recording);
  const auto times = recording.frame_times_s("depth_m");
  if (times.empty()) return {};
  const auto& territory = in.engine->territory();
  const double from_s = in.forecast ? in.forecast->from_s : 0.0;
  const double to_s = in.scenario->duration_s;
  // Evenly over the run, each at the nearest recorded frame, each frame once.
  std::vector<double> chosen;
  for (int k = 1; k <= count; ++k) {
    const double want = from_s + (to_s - from_s) * k / count;
    const auto best = *std::min_element(times.begin(), times.end(),
                                        [&](double a, double b) { return std::abs(a - want) < std::abs(b - want); });
    if (chosen.empty() || chosen.back() != best) chosen.push_back(best);
  }
  twin::MapImage base(territory.grid().extent(), kFrameWidthPx);
  base.paint_hillshade(territory.dem);
  std::vector<MapFigure> figures;
  for (const double t : chosen) {
    const auto frame = recording.frame_nearest("depth_m", t);
    twin::MapImage map = base;
    map.paint_raster(frame->raster, kDepthRamp, kShownDepthM, kWaterOpacity);
    paint_roads(map, territory, 0.6);
    std::set<std::string> streets;
    std::set<std::pair<std::string, std::string>> sections;
    if (territory.network)
      for (std::size_t e : edges_closed_at(in.engine->log().all(), *territory.network, frame->time_s)) {
        const twin::Edge& edge = territory.network->edges()[e];
        map.line(edge.shape, kClosedRed, 2.0);
        streets.insert(street_of(edge));
        sections.insert(std::minmax(edge.from_junction, edge.to_junction));
      }
    const auto& g = frame->raster.grid();
    std::size_t wet = 0;
    for (float v : frame->raster.values())
      if (!frame->raster.is_nodata(v) && v >= kShownDepthM) ++wet;
    MapFigure figure;
    figure.png = fmt::format("water_{}.png", figures.size() + 1);
    map.write_png(in.dir / figure.png);
    figure.t_s = frame->time_s;
    const std::string clock = scenarios::clock_of(*in.scenario, frame->time_s);
    figure.caption = fmt::format("{:.2f} km&sup2; under more than 10 cm of water; {} streets closed ({} sections)",
                                 static_cast<double>(wet) * g.cell_w_m * g.cell_h_m / 1e6, streets.size(),
                                 sections.size());
    const std::string overlay =
        fmt::format(R"(<rect x="0" y="0" width="74" height="28" fill="white" fill-opacity="0.85"/>)"
                    R"(<text x="8" y="21" font-size="18" font-weight="bold">{}</text>)",
                    clock) +
        north_arrow_svg(map);
    figure.svg = figure_svg(figure.png, map, overlay, "water depth at " + clock);
    figures.push_back(std::move(figure));
  }
  return figures;
}

}  // namespace cadereau::server
