#include "territory_map.h"

#include "../report_map.h"
#include "../service/hdf5_lock.h"
#include "cadereau/sim/engine/engine.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/map_image.h"
#include "cadereau/twin/recording.h"
#include "cadereau/twin/signalised_streets.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>

namespace cadereau::server::web {

using nlohmann::json;

namespace {

constexpr int kReliefWidthPx = 1200;
constexpr int kWaterWidthPx = 800;
constexpr double kPi = std::numbers::pi;

double mercator_y(double lat_deg) { return std::log(std::tan(kPi / 4.0 + lat_deg * kPi / 360.0)); }
double latitude_of(double mercator) { return (2.0 * std::atan(std::exp(mercator)) - kPi / 2.0) * 180.0 / kPi; }

// Six decimals of a degree: about 0.1 m.
double rounded(double deg) { return std::round(deg * 1e6) / 1e6; }

class ToGeo {
 public:
  explicit ToGeo(const twin::Crs& crs) : t_(crs, twin::Crs::wgs84()) {}
  json point(twin::MapPoint p) const {
    const auto g = t_.forward({p.x_m, p.y_m});
    return json::array({rounded(g.x), rounded(g.y)});
  }
  json line(const std::vector<twin::MapPoint>& points) const {
    json out = json::array();
    for (const auto& p : points) out.push_back(point(p));
    return out;
  }
  json ring(const twin::Ring& ring) const {
    json out = line(ring);
    if (!ring.empty()) out.push_back(point(ring.front()));  // GeoJSON rings are closed
    return out;
  }
  json polygon(const twin::Polygon& p) const {
    json rings = json::array({ring(p.outer)});
    for (const auto& hole : p.holes) rings.push_back(ring(hole));
    return rings;
  }

 private:
  twin::CrsTransform t_;
};

json feature(const char* type, json coordinates, json properties) {
  return {{"type", "Feature"},
          {"geometry", {{"type", type}, {"coordinates", std::move(coordinates)}}},
          {"properties", std::move(properties)}};
}

json collection(json features) { return {{"type", "FeatureCollection"}, {"features", std::move(features)}}; }

std::string hex(twin::Rgb c) { return fmt::format("#{:02x}{:02x}{:02x}", c.r, c.g, c.b); }

json road_layer(const twin::Territory& t, const ToGeo& geo) {
  json features = json::array();
  if (!t.network) return collection(features);
  std::map<std::pair<std::string, std::string>, std::string> by_ends;
  for (const auto& e : t.network->edges()) by_ends[{e.from_junction, e.to_junction}] = e.id;
  for (const auto& e : t.network->edges()) {
    json props = {{"id", e.id},
                  {"name", e.name},
                  {"lanes", e.lanes.size()},
                  {"speed_kmh", std::round(e.speed_m_s() * 3.6)},
                  {"main", e.lanes.size() >= 2 || e.speed_m_s() > 13.0}};
    // The other direction of the same street, for closing a street both ways.
    if (const auto it = by_ends.find({e.to_junction, e.from_junction}); it != by_ends.end()) props["reverse"] = it->second;
    features.push_back(feature("LineString", geo.line(e.shape), std::move(props)));
  }
  return collection(features);
}

json light_layer(const twin::Territory& t, const ToGeo& geo) {
  json features = json::array();
  if (!t.network) return collection(features);
  for (const auto& light : t.network->traffic_lights()) {
    double x = 0, y = 0;
    int n = 0;
    for (const auto& id : t.network->light_junctions(light.id))
      if (const auto* j = t.network->find_junction(id)) {
        x += j->position.x_m;
        y += j->position.y_m;
        ++n;
      }
    if (n == 0) continue;
    features.push_back(feature("Point", geo.point({x / n, y / n}),
                               {{"id", light.id},
                                {"program", light.program_id},
                                {"programs", t.network->light_programs(light.id)},
                                {"streets", twin::streets_at_light(*t.network, light.id)}}));
  }
  return collection(features);
}

// The streets with lights a green wave may follow, lights in order (what
// `territory info` lists and the planner requires).
json corridor_list(const twin::Territory& t) {
  json out = json::array();
  if (!t.network) return out;
  for (const auto& street : twin::signalised_streets(*t.network)) {
    json lights = json::array();
    for (const auto& l : street.lights) lights.push_back(l.tls_id);
    out.push_back({{"street", street.name}, {"length_m", std::round(street.length_m)}, {"lights", std::move(lights)}});
  }
  return out;
}

json layers(const twin::Territory& t, const ToGeo& geo) {
  json buildings = json::array(), assets = json::array(), sensors = json::array(), zones = json::array();
  for (const auto& b : t.buildings)
    buildings.push_back(feature("Polygon", geo.polygon(b.footprint), {{"id", b.id}, {"use", b.use}, {"height_m", b.height_m}}));
  for (const auto& a : t.assets) {
    json props = {{"id", a.id},
                  {"name", a.name},
                  {"type", std::string(twin::to_string(a.type))},
                  {"threshold_m", a.flood_threshold_m},
                  {"depends_on", a.depends_on},
                  {"needs_road_access", a.needs_road_access}};
    if (!a.tls_id.empty()) props["tls_id"] = a.tls_id;
    assets.push_back(feature("Point", geo.point(a.location), std::move(props)));
  }
  for (const auto& s : t.sensors) {
    json props = {{"id", s.id}, {"name", s.name}, {"kind", std::string(twin::to_string(s.kind))}};
    if (!s.edge_id.empty()) props["edge_id"] = s.edge_id;
    if (!s.watercourse.empty()) props["watercourse"] = s.watercourse;
    sensors.push_back(feature("Point", geo.point(s.location), std::move(props)));
  }
  for (const auto& z : t.zones)
    zones.push_back(feature("Polygon", geo.polygon(z.area), {{"id", z.id}, {"name", z.name}, {"population", z.population}}));
  json ramp = json::array();
  for (const auto& stop : depth_ramp()) ramp.push_back({{"m", stop.value}, {"colour", hex(stop.colour)}});
  return {{"territory", t.manifest.name},
          {"crs", t.crs.label()},
          {"depth_ramp", std::move(ramp)},
          {"shown_depth_m", kShownDepthM},
          {"roads", road_layer(t, geo)},
          {"lights", light_layer(t, geo)},
          {"corridors", corridor_list(t)},
          {"buildings", collection(std::move(buildings))},
          {"assets", collection(std::move(assets))},
          {"sensors", collection(std::move(sensors))},
          {"zones", collection(std::move(zones))}};
}

}  // namespace

TerritoryMap::TerritoryMap(const twin::Territory& territory) : crs_(territory.crs) {
  const ToGeo geo(crs_);
  // The WGS84 box holding the DEM: its edges sampled, as they bend.
  const twin::Box box = territory.grid().extent();
  west_ = south_ = std::numeric_limits<double>::max();
  east_ = north_ = std::numeric_limits<double>::lowest();
  constexpr int kSamples = 32;
  for (int i = 0; i <= kSamples; ++i) {
    const double f = static_cast<double>(i) / kSamples;
    const double x = box.x_min_m + f * box.width_m(), y = box.y_min_m + f * box.height_m();
    for (const twin::MapPoint p : {twin::MapPoint{x, box.y_min_m}, twin::MapPoint{x, box.y_max_m},
                                   twin::MapPoint{box.x_min_m, y}, twin::MapPoint{box.x_max_m, y}}) {
      const json g = geo.point(p);
      west_ = std::min(west_, g[0].get<double>());
      east_ = std::max(east_, g[0].get<double>());
      south_ = std::min(south_, g[1].get<double>());
      north_ = std::max(north_, g[1].get<double>());
    }
  }
  json doc = layers(territory, geo);
  doc["bounds"] = json::array({json::array({south_, west_}), json::array({north_, east_})});
  layers_ = doc.dump(-1, ' ', false, json::error_handler_t::replace);

  // Shaded relief tinted by height (plain green, garrigue beige, hill brown)
  // between the DEM's 2nd and 98th percentiles, so that the valleys read.
  std::vector<float> heights;
  for (const float z : territory.dem.values())
    if (!territory.dem.is_nodata(z)) heights.push_back(z);
  double low = 0.0, high = 1.0;
  if (!heights.empty()) {
    const auto at = [&](double q) {
      auto nth = heights.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(heights.size() - 1));
      std::nth_element(heights.begin(), nth, heights.end());
      return static_cast<double>(*nth);
    };
    low = at(0.02);
    high = std::max(at(0.98), low + 1.0);
  }
  const std::vector<twin::ColourStop> tint{{0.0, {222, 235, 206}}, {0.4, {236, 228, 196}}, {1.0, {204, 184, 148}}};
  const Grid relief = grid(kReliefWidthPx);
  std::vector<std::uint8_t> rgba(relief.points.size() * 4, 0);
  for (std::size_t i = 0; i < relief.points.size(); ++i) {
    const auto grey = twin::hillshade_grey(territory.dem, relief.points[i]);
    if (!grey) continue;
    const auto cell = territory.grid().cell_at(relief.points[i]);
    const twin::Rgb c = twin::ramp_colour(tint, (territory.dem.at(*cell) - low) / (high - low));
    // The shade (150..250) darkens the tint: 0.6..1.0.
    const double shade = std::clamp(0.6 + (*grey - 150) / 250.0, 0.0, 1.0);
    rgba[i * 4] = static_cast<std::uint8_t>(c.r * shade);
    rgba[i * 4 + 1] = static_cast<std::uint8_t>(c.g * shade);
    rgba[i * 4 + 2] = static_cast<std::uint8_t>(c.b * shade);
    rgba[i * 4 + 3] = 255;
  }
  hillshade_ = twin::png_bytes(relief.width, relief.height, 4, rgba);
  water_grid_ = grid(kWaterWidthPx);
}

TerritoryMap::Grid TerritoryMap::grid(int width_px) const {
  Grid g;
  g.width = width_px;
  const double x_span = (east_ - west_) * kPi / 180.0, y_span = mercator_y(north_) - mercator_y(south_);
  g.height = std::max(1, static_cast<int>(std::lround(width_px * y_span / x_span)));
  std::vector<twin::CrsTransform::XY> points;
  points.reserve(static_cast<std::size_t>(g.width) * g.height);
  for (int row = 0; row < g.height; ++row) {
    const double lat = latitude_of(mercator_y(north_) - (row + 0.5) / g.height * y_span);
    for (int col = 0; col < g.width; ++col) points.push_back({west_ + (col + 0.5) / g.width * (east_ - west_), lat});
  }
  const twin::CrsTransform to_map(twin::Crs::wgs84(), crs_);
  to_map.forward_in_place(points);
  g.points.reserve(points.size());
  for (const auto& p : points) g.points.push_back({p.x, p.y});
  return g;
}

std::string TerritoryMap::water_png(const twin::Raster& depth) const {
  if (!depth.crs().empty() && !depth.crs().equivalent_to(crs_))
    fail("water frame", "is in {}, the territory in {}", depth.crs().label(), crs_.label());
  const auto& ramp = depth_ramp();
  const auto& spec = depth.grid();
  std::vector<std::uint8_t> rgba(water_grid_.points.size() * 4, 0);
  for (std::size_t i = 0; i < water_grid_.points.size(); ++i) {
    const auto cell = spec.cell_at(water_grid_.points[i]);
    if (!cell) continue;
    const float d = depth.at(*cell);
    if (depth.is_nodata(d) || !(d >= kShownDepthM)) continue;
    const twin::Rgb c = twin::ramp_colour(ramp, d);
    rgba[i * 4] = c.r;
    rgba[i * 4 + 1] = c.g;
    rgba[i * 4 + 2] = c.b;
    rgba[i * 4 + 3] = 217;  // the report's water opacity, 0.85
  }
  return twin::png_bytes(water_grid_.width, water_grid_.height, 4, rgba);
}

std::shared_ptr<const TerritoryMap> MapCache::get(const std::filesystem::path& territory_dir) {
  // One lock for the making too: two first requests make it once.
  std::lock_guard lock(mutex_);
  auto& slot = maps_[territory_dir];
  if (!slot) slot = std::make_shared<const TerritoryMap>(twin::Territory::load(territory_dir));
  return slot;
}

namespace {

// Calls `read` with each of a session's recordings that opens, newest first,
// until it answers. A worker that has just started may not have laid its
// recording out yet: an older one may still answer; if none does, the
// caller is told to retry.
template <typename T, typename Read>
std::optional<T> newest_answer(const std::vector<std::filesystem::path>& recordings, const char* what, Read read) {
  std::lock_guard lock(service::hdf5_mutex());
  std::string unreadable;
  for (auto it = recordings.rbegin(); it != recordings.rend(); ++it) {
    std::optional<twin::RecordingReader> opened;
    try {
      opened.emplace(*it);
    } catch (const Error& e) {
      if (unreadable.empty()) unreadable = e.what();
      continue;
    }
    if (auto answer = read(*opened)) return answer;
  }
  if (!unreadable.empty()) fail_as(ErrorCategory::unavailable, what, "no recording can be read yet ({})", unreadable);
  return std::nullopt;
}

}  // namespace

std::optional<twin::Raster> depth_frame(const std::vector<std::filesystem::path>& recordings, std::optional<double> t_s,
                                        double* frame_time_s) {
  return newest_answer<twin::Raster>(recordings, "water", [&](const twin::RecordingReader& reader) -> std::optional<twin::Raster> {
    const auto times = reader.frame_times_s("depth_m");
    if (times.empty()) return std::nullopt;
    double at = times.back();
    if (t_s) {
      const auto after = std::upper_bound(times.begin(), times.end(), *t_s + 1e-6);
      if (after == times.begin()) return std::nullopt;  // an earlier recording has it
      at = *(after - 1);
    }
    auto frame = reader.frame_nearest("depth_m", at);
    if (!frame) return std::nullopt;
    if (frame_time_s) *frame_time_s = frame->time_s;
    return std::move(frame->raster);
  });
}

int traffic_level(int vehicles, double speed_ratio) {
  if (vehicles <= 0 || speed_ratio >= 0.7) return 0;
  if (speed_ratio >= 0.4) return 1;
  if (speed_ratio >= 0.15) return 2;
  return 3;
}

std::optional<std::string> traffic_json(const std::vector<std::filesystem::path>& recordings, std::optional<double> t_s) {
  const double at = t_s ? *t_s + 1e-6 : std::numeric_limits<double>::infinity();
  return newest_answer<std::string>(recordings, "traffic", [&](const twin::RecordingReader& reader) -> std::optional<std::string> {
    const auto channels = reader.edge_channels();
    const auto has = [&](const char* name) { return std::find(channels.begin(), channels.end(), name) != channels.end(); };
    if (!has(sim::engine::kTrafficVehicles) || !has(sim::engine::kTrafficSpeedRatio)) return std::nullopt;
    // Both rows are written together: a reader between the two writes takes the older pair.
    const auto times = reader.edge_times_s(sim::engine::kTrafficVehicles);
    const std::size_t rows = std::min(times.size(), reader.edge_times_s(sim::engine::kTrafficSpeedRatio).size());
    const auto after = std::upper_bound(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(rows), at);
    if (after == times.begin()) return std::nullopt;  // an earlier recording may have it
    const double row_s = *(after - 1);
    const auto pair_vehicles = reader.edge_values_at_or_before(sim::engine::kTrafficVehicles, row_s);
    const auto pair_ratio = reader.edge_values_at_or_before(sim::engine::kTrafficSpeedRatio, row_s);
    if (!pair_vehicles || !pair_ratio) return std::nullopt;
    json edges = json::object();
    std::array<int, 4> counts{};
    long total = 0;
    for (std::size_t i = 0; i < pair_vehicles->values.size(); ++i) {
      const int n = static_cast<int>(std::lround(pair_vehicles->values[i]));
      if (n <= 0) continue;
      // The level of the ratio as given, so that a reader recomputing it agrees.
      const double r = std::round(pair_ratio->values[i] * 100.0) / 100.0;
      const int level = traffic_level(n, r);
      ++counts[level];
      total += n;
      edges[pair_vehicles->edge_ids[i]] = json::array({n, r, level});
    }
    return json{{"t_s", row_s},
                {"vehicles", total},
                {"edges_by_level", {{"free", counts[0]}, {"dense", counts[1]}, {"slow", counts[2]}, {"jammed", counts[3]}}},
                {"edges", std::move(edges)}}
        .dump();
  });
}

}  // namespace cadereau::server::web
