#include "cadereau/twin/assets.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <array>
#include <cmath>
#include <functional>
#include <set>
#include <unordered_map>

namespace cadereau::twin {

namespace {

struct AssetTypeInfo {
  AssetType type;
  std::string_view name;
  double threshold_m;
  bool needs_road_access;
  double backup_h;
};

// Thresholds: electrical and telecom gear sits at floor level and trips with
// a few decimetres of water; underpasses are unsafe for cars from 0.2 m;
// buildings with people lose service when water enters the ground floor.
// Backup: how long the asset keeps working once a supplier (power, telecom)
// fails: hospitals and crisis posts run generators for days, telecom nodes on
// batteries for hours, a traffic signal or a school not at all.
constexpr std::array kAssetTypes{
    AssetTypeInfo{AssetType::hospital, "hospital", 0.5, true, 48.0},
    AssetTypeInfo{AssetType::school, "school", 0.3, true, 0.0},
    AssetTypeInfo{AssetType::retirement_home, "retirement_home", 0.3, true, 0.0},
    AssetTypeInfo{AssetType::fire_station, "fire_station", 0.5, true, 24.0},
    AssetTypeInfo{AssetType::police, "police", 0.5, true, 12.0},
    AssetTypeInfo{AssetType::crisis_post, "crisis_post", 0.5, true, 72.0},
    AssetTypeInfo{AssetType::substation, "substation", 0.3, false, 0.0},
    AssetTypeInfo{AssetType::pumping_station, "pumping_station", 0.4, false, 0.5},
    AssetTypeInfo{AssetType::telecom_node, "telecom_node", 0.3, false, 4.0},
    AssetTypeInfo{AssetType::underpass, "underpass", 0.2, false, 0.0},
    AssetTypeInfo{AssetType::car_park, "car_park", 0.3, true, 0.0},
    AssetTypeInfo{AssetType::traffic_signal, "traffic_signal", 0.4, false, 0.0},
    AssetTypeInfo{AssetType::water_treatment, "water_treatment", 0.6, false, 2.0},
};

const AssetTypeInfo& info(AssetType type) {
  for (const auto& i : kAssetTypes)
    if (i.type == type) return i;
  return kAssetTypes.front();
}

constexpr std::array<std::pair<SensorKind, std::string_view>, 4> kSensorKinds{{
    {SensorKind::rain_gauge, "rain_gauge"},
    {SensorKind::level_gauge, "level_gauge"},
    {SensorKind::traffic_counter, "traffic_counter"},
    {SensorKind::camera, "camera"},
}};

std::string require_text(const Feature& f, const std::string& key, const std::filesystem::path& file) {
  auto v = f.text(key);
  if (!v || v->empty()) fail(f.locate(file), "attribute '{}' is missing", key);
  return *v;
}

std::vector<std::string> split_ids(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    if (c == ',' || c == ';' || c == ' ') {
      if (!current.empty()) out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

bool truthy(const Feature& f, const std::string& key, bool fallback, const std::filesystem::path& file) {
  auto v = f.text(key);
  if (!v) return fallback;
  if (*v == "1" || *v == "true" || *v == "yes") return true;
  if (*v == "0" || *v == "false" || *v == "no") return false;
  fail(f.locate(file), "attribute '{}' = '{}' is not a boolean (true/false)", key, *v);
}

const Polygon& largest_polygon(const Feature& f, const std::filesystem::path& file, const char* what) {
  if (f.kind != GeometryKind::polygon || f.polygons.empty()) fail(f.locate(file), "{} must be a polygon", what);
  return *std::max_element(f.polygons.begin(), f.polygons.end(),
                           [](const Polygon& a, const Polygon& b) { return a.area_m2() < b.area_m2(); });
}

// A bow-tie has no inside that a point test or an area agrees on: people
// would be counted in one half, buildings in the other, the area near zero.
void refuse_self_crossing(const Feature& f, const std::filesystem::path& file, const char* what) {
  for (std::size_t k = 0; k < f.polygons.size(); ++k) {
    const Polygon& polygon = f.polygons[k];
    for (std::size_t r = 0; r <= polygon.holes.size(); ++r) {
      const Ring& ring = r == 0 ? polygon.outer : polygon.holes[r - 1];
      const auto crossing = first_self_crossing(ring);
      if (!crossing) continue;
      const std::string part = f.polygons.size() > 1 ? fmt::format(" (polygon {} of {})", k + 1, f.polygons.size()) : "";
      const std::string ring_name = r == 0 ? "outer ring" : fmt::format("hole {}", r);
      fail(f.locate(file),
           "the {}'s {}{} crosses itself near x {:.1f}, y {:.1f} (edges from vertex {} and vertex {}): fix the "
           "geometry (QGIS: Fix geometries; PostGIS: ST_MakeValid)",
           what, ring_name, part, crossing->near.x_m, crossing->near.y_m, crossing->edge_a, crossing->edge_b);
    }
  }
}

MapPoint point_of(const Feature& f) {
  if (f.kind == GeometryKind::point) return f.point;
  if (f.kind == GeometryKind::polygon && !f.polygons.empty()) return f.polygons.front().centroid();
  if (f.lines.empty() || f.lines.front().empty()) return MapPoint{};
  return f.lines.front()[f.lines.front().size() / 2];
}

Feature polygon_feature(std::int64_t fid, const Polygon& p) {
  Feature f;
  f.fid = fid;
  f.kind = GeometryKind::polygon;
  f.polygons.push_back(p);
  return f;
}

}  // namespace

std::string_view to_string(AssetType type) { return info(type).name; }

std::optional<AssetType> asset_type_from_string(std::string_view text) {
  for (const auto& i : kAssetTypes)
    if (i.name == text) return i.type;
  return std::nullopt;
}

const std::vector<AssetType>& all_asset_types() {
  static const std::vector<AssetType> types = [] {
    std::vector<AssetType> t;
    for (const auto& i : kAssetTypes) t.push_back(i.type);
    return t;
  }();
  return types;
}

double default_flood_threshold_m(AssetType type) { return info(type).threshold_m; }
bool default_needs_road_access(AssetType type) { return info(type).needs_road_access; }
double default_backup_h(AssetType type) { return info(type).backup_h; }

Asset asset_of_type(std::string id, AssetType type, MapPoint location) {
  Asset a;
  a.name = id;
  a.id = std::move(id);
  a.type = type;
  a.location = location;
  a.flood_threshold_m = default_flood_threshold_m(type);
  a.needs_road_access = default_needs_road_access(type);
  a.backup_h = default_backup_h(type);
  return a;
}

std::string_view to_string(SensorKind kind) {
  for (const auto& [k, name] : kSensorKinds)
    if (k == kind) return name;
  return "unknown";
}

std::optional<SensorKind> sensor_kind_from_string(std::string_view text) {
  for (const auto& [k, name] : kSensorKinds)
    if (name == text) return k;
  return std::nullopt;
}

std::vector<Building> buildings_from(const VectorLayer& layer, const std::filesystem::path& file) {
  std::vector<Building> out;
  out.reserve(layer.features.size());
  for (const auto& f : layer.features) {
    Building b;
    b.id = f.text("id").value_or(fmt::format("b{}", f.fid));
    b.footprint = largest_polygon(f, file, "a building");
    auto h = f.number("height_m");
    if (!h) h = f.number("height");
    if (!h) h = f.number("hauteur");  // BD TOPO
    if (!h) fail(f.locate(file), "attribute 'height_m' is missing or not a number");
    if (!(*h > 0.0) || *h > 400.0) fail(f.locate(file), "height {} m is not plausible (0 < h <= 400)", *h);
    b.height_m = *h;
    b.use = f.text("use").value_or("");
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<Asset> assets_from(const VectorLayer& layer, const std::filesystem::path& file) {
  std::vector<Asset> out;
  out.reserve(layer.features.size());
  for (const auto& f : layer.features) {
    std::string id = require_text(f, "id", file);
    const std::string type = require_text(f, "type", file);
    auto t = asset_type_from_string(type);
    if (!t) {
      std::string known;
      for (const auto& i : kAssetTypes) known += (known.empty() ? "" : ", ") + std::string(i.name);
      fail(f.locate(file), "unknown asset type '{}' (known: {})", type, known);
    }
    Asset a = asset_of_type(std::move(id), *t, point_of(f));
    a.name = f.text("name").value_or(a.id);
    if (f.has("flood_threshold_m")) {
      auto v = f.number("flood_threshold_m");
      if (!v || !(*v >= 0.0) || *v > 20.0)
        fail(f.locate(file), "flood_threshold_m '{}' is not a depth in metres (0..20)",
             f.text("flood_threshold_m").value_or(""));
      a.flood_threshold_m = *v;
    }
    if (auto deps = f.text("depends_on")) a.depends_on = split_ids(*deps);
    a.needs_road_access = truthy(f, "needs_road_access", a.needs_road_access, file);
    a.tls_id = f.text("tls_id").value_or("");
    if (a.type == AssetType::traffic_signal && a.tls_id.empty())
      fail(f.locate(file), "a traffic_signal asset needs 'tls_id' (the SUMO traffic light it drives)");
    a.capacity = f.number("capacity").value_or(0.0);
    if (f.has("backup_h")) {
      auto v = f.number("backup_h");
      if (!v || !(*v >= 0.0) || !std::isfinite(*v))
        fail(f.locate(file), "backup_h '{}' is not a duration in hours (>= 0)", f.text("backup_h").value_or(""));
      a.backup_h = *v;
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<Sensor> sensors_from(const VectorLayer& layer, const std::filesystem::path& file) {
  std::vector<Sensor> out;
  for (const auto& f : layer.features) {
    Sensor s;
    s.id = require_text(f, "id", file);
    const std::string kind = require_text(f, "kind", file);
    auto k = sensor_kind_from_string(kind);
    if (!k) fail(f.locate(file), "unknown sensor kind '{}' (rain_gauge, level_gauge, traffic_counter, camera)", kind);
    s.kind = *k;
    s.name = f.text("name").value_or(s.id);
    s.location = point_of(f);
    s.edge_id = f.text("edge_id").value_or("");
    s.watercourse = f.text("watercourse").value_or("");
    s.dev_eui = f.text("dev_eui").value_or("");
    for (char& c : s.dev_eui) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!s.dev_eui.empty() && (s.dev_eui.size() != 16 || s.dev_eui.find_first_not_of("0123456789ABCDEF") != std::string::npos))
      fail(f.locate(file), "sensor {}: dev_eui '{}' is not a device EUI (16 hexadecimal digits)", s.id, s.dev_eui);
    s.datastream = f.text("datastream").value_or("");
    if (const auto rating = f.text("rating"); rating && !rating->empty()) {
      std::istringstream in(*rating);
      std::string pair;
      while (in >> pair) {
        const auto colon = pair.find(':');
        double stage = 0.0, q = 0.0;
        std::size_t used_stage = 0, used_q = 0;
        try {
          if (colon == std::string::npos) throw std::invalid_argument("no colon");
          stage = std::stod(pair.substr(0, colon), &used_stage);
          q = std::stod(pair.substr(colon + 1), &used_q);
        } catch (const std::exception&) {
          used_stage = 0;
        }
        if (used_stage != colon || used_q != pair.size() - colon - 1 || !std::isfinite(stage) || !std::isfinite(q))
          fail(f.locate(file), "sensor {}: rating point '{}' is not STAGE:DISCHARGE (1.5:42)", s.id, pair);
        if (q < 0.0 || (!s.rating.empty() && (stage <= s.rating.back().first || q < s.rating.back().second)))
          fail(f.locate(file), "sensor {}: rating point '{}': stages must increase and discharges not fall", s.id, pair);
        s.rating.emplace_back(stage, q);
      }
      if (s.rating.size() < 2) fail(f.locate(file), "sensor {}: a rating curve needs two points or more", s.id);
      if (s.kind != SensorKind::level_gauge) fail(f.locate(file), "sensor {}: only a level gauge has a rating curve", s.id);
    }
    if (s.kind == SensorKind::traffic_counter && s.edge_id.empty())
      fail(f.locate(file), "a traffic_counter needs 'edge_id' (the road edge it counts)");
    for (const auto& other : out) {
      if (!s.dev_eui.empty() && other.dev_eui == s.dev_eui)
        fail(f.locate(file), "sensors {} and {} have one dev_eui {}", other.id, s.id, s.dev_eui);
      if (!s.datastream.empty() && other.datastream == s.datastream)
        fail(f.locate(file), "sensors {} and {} have one datastream {}", other.id, s.id, s.datastream);
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<PopulationZone> zones_from(const VectorLayer& layer, const std::filesystem::path& file) {
  std::vector<PopulationZone> out;
  for (const auto& f : layer.features) {
    PopulationZone z;
    z.id = require_text(f, "id", file);
    z.name = f.text("name").value_or(z.id);
    z.area = largest_polygon(f, file, "a population zone");
    refuse_self_crossing(f, file, "zone");
    auto p = f.number("population");
    if (!p || !(*p >= 0.0)) fail(f.locate(file), "attribute 'population' is missing or negative");
    z.population = *p;
    out.push_back(std::move(z));
  }
  return out;
}

void validate_assets(const std::vector<Asset>& assets, const std::filesystem::path& file) {
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < assets.size(); ++i)
    if (!index.emplace(assets[i].id, i).second)
      fail(file.string(), "asset id '{}' appears twice", assets[i].id);
  for (const auto& a : assets)
    for (const auto& dep : a.depends_on) {
      if (!index.count(dep)) fail(file.string(), "asset '{}' depends on unknown asset '{}'", a.id, dep);
      if (dep == a.id) fail(file.string(), "asset '{}' depends on itself", a.id);
    }
  // Depth-first search for a cycle; report it as a chain a -> b -> a.
  enum class Mark { none, active, done };
  std::vector<Mark> mark(assets.size(), Mark::none);
  std::vector<std::size_t> stack;
  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    mark[i] = Mark::active;
    stack.push_back(i);
    for (const auto& dep : assets[i].depends_on) {
      const std::size_t j = index.at(dep);
      if (mark[j] == Mark::active) {
        std::string chain;
        auto start = std::find(stack.begin(), stack.end(), j);
        for (auto it = start; it != stack.end(); ++it) chain += assets[*it].id + " -> ";
        chain += assets[j].id;
        fail(file.string(), "asset dependencies form a cycle: {}", chain);
      }
      if (mark[j] == Mark::none) visit(j);
    }
    stack.pop_back();
    mark[i] = Mark::done;
  };
  for (std::size_t i = 0; i < assets.size(); ++i)
    if (mark[i] == Mark::none) visit(i);
}

std::vector<Feature> to_features(const std::vector<Building>& buildings) {
  std::vector<Feature> out;
  out.reserve(buildings.size());
  std::int64_t fid = 0;
  for (const auto& b : buildings) {
    Feature f = polygon_feature(fid++, b.footprint);
    f.attributes["id"] = b.id;
    f.attributes["height_m"] = std::round(b.height_m * 100.0) / 100.0;
    f.attributes["use"] = b.use;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Feature> to_features(const std::vector<Asset>& assets) {
  std::vector<Feature> out;
  std::int64_t fid = 0;
  for (const auto& a : assets) {
    Feature f;
    f.fid = fid++;
    f.kind = GeometryKind::point;
    f.point = a.location;
    f.attributes["id"] = a.id;
    f.attributes["name"] = a.name;
    f.attributes["type"] = std::string(to_string(a.type));
    f.attributes["flood_threshold_m"] = a.flood_threshold_m;
    std::string deps;
    for (const auto& d : a.depends_on) deps += (deps.empty() ? "" : ",") + d;
    f.attributes["depends_on"] = deps;
    f.attributes["needs_road_access"] = a.needs_road_access;
    f.attributes["tls_id"] = a.tls_id;
    f.attributes["capacity"] = a.capacity;
    f.attributes["backup_h"] = a.backup_h;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Feature> to_features(const std::vector<Sensor>& sensors) {
  std::vector<Feature> out;
  std::int64_t fid = 0;
  for (const auto& s : sensors) {
    Feature f;
    f.fid = fid++;
    f.kind = GeometryKind::point;
    f.point = s.location;
    f.attributes["id"] = s.id;
    f.attributes["name"] = s.name;
    f.attributes["kind"] = std::string(to_string(s.kind));
    f.attributes["edge_id"] = s.edge_id;
    f.attributes["watercourse"] = s.watercourse;
    f.attributes["dev_eui"] = s.dev_eui;
    f.attributes["datastream"] = s.datastream;
    std::string rating;
    for (const auto& [stage, q] : s.rating) rating += fmt::format("{}{:g}:{:g}", rating.empty() ? "" : " ", stage, q);
    f.attributes["rating"] = rating;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Feature> to_features(const std::vector<PopulationZone>& zones) {
  std::vector<Feature> out;
  std::int64_t fid = 0;
  for (const auto& z : zones) {
    Feature f = polygon_feature(fid++, z.area);
    f.attributes["id"] = z.id;
    f.attributes["name"] = z.name;
    f.attributes["population"] = static_cast<std::int64_t>(std::llround(z.population));
    out.push_back(std::move(f));
  }
  return out;
}

double rated_discharge_m3_s(const std::vector<std::pair<double, double>>& rating, double stage_m) {
  if (rating.size() < 2 || stage_m <= rating.front().first) return rating.empty() ? 0.0 : rating.front().second;
  std::size_t k = 1;
  while (k + 1 < rating.size() && stage_m > rating[k].first) ++k;
  const auto& [s0, q0] = rating[k - 1];
  const auto& [s1, q1] = rating[k];
  return std::max(0.0, q0 + (q1 - q0) * (stage_m - s0) / (s1 - s0));
}

}  // namespace cadereau::twin
