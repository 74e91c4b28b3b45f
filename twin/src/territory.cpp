#include "cadereau/twin/territory.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/route_file.h"
#include "cadereau/twin/signalised_streets.h"
#include "cadereau/twin/utf8.h"

#include "territory_checks.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <set>

namespace cadereau::twin {

namespace {

constexpr const char* kManifestName = "territory.yaml";

std::string at_line(const std::filesystem::path& file, const YAML::Node& node) {
  const auto mark = node.Mark();
  if (mark.line < 0) return file.string();
  return fmt::format("{}:{}", file.string(), mark.line + 1);
}

std::filesystem::path file_entry(const YAML::Node& root, const char* key, const std::filesystem::path& manifest,
                                 const std::filesystem::path& folder) {
  const YAML::Node node = root[key];
  if (!node.IsScalar()) fail(at_line(manifest, node), "'{}' must be a file name", key);
  const std::string name = node.as<std::string>();
  if (name.empty()) fail(at_line(manifest, node), "'{}' is empty", key);
  return folder / name;
}

std::optional<std::filesystem::path> optional_file(const YAML::Node& root, const char* key,
                                                   const std::filesystem::path& manifest,
                                                   const std::filesystem::path& folder) {
  if (!root[key] || root[key].IsNull()) return std::nullopt;
  return file_entry(root, key, manifest, folder);
}

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys{"name",     "crs",   "vertical_datum", "extent",  "dem",     "manning",
                                          "landcover", "buildings", "assets", "sensors", "zones",
                                          "network",  "demand", "landcover_classes", "description"};
  return keys;
}

std::string relative_name(const std::filesystem::path& p, const std::filesystem::path& folder) {
  auto rel = p.lexically_relative(folder);
  return (rel.empty() || rel.string().rfind("..", 0) == 0) ? p.string() : rel.string();
}

Raster load_on_grid(const std::filesystem::path& file, const Raster& dem, Resampling resampling) {
  Raster r = read_raster(file);
  require_crs(r, file);
  return onto_grid_of(r, dem, resampling, file);
}

// "J3_9" before "J11_9": digit runs compare as numbers.
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, k = 0;
  while (i < a.size() && k < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[k]))) {
      std::size_t i_end = i, k_end = k;
      while (i_end < a.size() && std::isdigit(static_cast<unsigned char>(a[i_end]))) ++i_end;
      while (k_end < b.size() && std::isdigit(static_cast<unsigned char>(b[k_end]))) ++k_end;
      const std::string da = a.substr(i, i_end - i), db = b.substr(k, k_end - k);
      if (da.size() != db.size()) return da.size() < db.size();
      if (da != db) return da < db;
      i = i_end;
      k = k_end;
    } else {
      if (a[i] != b[k]) return a[i] < b[k];
      ++i;
      ++k;
    }
  }
  return a.size() - i < b.size() - k;
}

// The signalised streets with their lights in order (what a green-wave
// corridor is given), then every light with its name and streets.
void describe_lights(const RoadNetwork& net, const std::vector<Asset>& assets, std::string& out) {
  auto line = [&out](const std::string& s) { out += s + "\n"; };
  const auto streets = signalised_streets(net);
  if (!streets.empty()) {
    line("Corridors  streets with two or more lights, lights in order (west to east, or south to north):");
    for (const auto& s : streets) {
      std::string ids;
      for (const auto& l : s.lights) ids += (ids.empty() ? "" : ",") + l.tls_id;
      const double span_m = s.lights.back().position_m - s.lights.front().position_m;
      line(fmt::format("  {} ({} lights over {:.2f} km): {}", s.name, s.lights.size(), span_m / 1000.0, ids));
    }
  }
  std::vector<std::string> ids;
  for (const auto& t : net.traffic_lights())
    if (std::find(ids.begin(), ids.end(), t.id) == ids.end()) ids.push_back(t.id);
  if (ids.empty()) return;
  std::sort(ids.begin(), ids.end(), natural_less);
  std::size_t id_w = 0, name_w = 0;
  std::vector<std::string> names;
  for (const auto& id : ids) {
    const auto it = std::find_if(assets.begin(), assets.end(),
                                 [&](const Asset& a) { return a.type == AssetType::traffic_signal && a.tls_id == id; });
    names.push_back(it == assets.end() ? "-" : it->name);
    id_w = std::max(id_w, id.size());
    name_w = std::max(name_w, names.back().size());
  }
  line(fmt::format("Lights     {} (id, name, the streets through it):", ids.size()));
  for (std::size_t k = 0; k < ids.size(); ++k) {
    std::string on;
    for (const auto& s : streets_at_light(net, ids[k])) on += (on.empty() ? "" : ", ") + s;
    line(fmt::format("  {:<{}}  {:<{}}  {}", ids[k], id_w, names[k], name_w, on.empty() ? "(unnamed)" : on));
  }
}

}  // namespace

TerritoryManifest read_manifest(const std::filesystem::path& folder) {
  const std::filesystem::path manifest_path = folder / kManifestName;
  if (!std::filesystem::is_directory(folder)) fail_as(ErrorCategory::not_found, folder.string(), "territory folder not found");
  if (!std::filesystem::exists(manifest_path)) fail_as(ErrorCategory::not_found, manifest_path.string(), "file not found (a territory folder needs one)");
  std::string text;
  {
    std::ifstream in(manifest_path, std::ios::binary);
    if (!in) fail(manifest_path.string(), "cannot read the territory manifest");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  require_utf8(text, manifest_path.string());
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(fmt::format("{}:{}", manifest_path.string(), e.mark.line + 1), "invalid YAML: {}", e.msg);
  }
  if (!root.IsMap()) fail(manifest_path.string(), "expected a mapping of keys (name, crs, dem, ...)");

  TerritoryManifest m;
  m.folder = folder;
  try {
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (!known_keys().count(key)) fail(at_line(manifest_path, kv.first), "unknown key '{}'", key);
    }
    m.name = root["name"] ? root["name"].as<std::string>() : folder.filename().string();
    if (!root["crs"]) fail(manifest_path.string(), "'crs' is required (e.g. crs: EPSG:2154)");
    m.crs = root["crs"].as<std::string>();
    if (root["vertical_datum"]) m.vertical_datum = root["vertical_datum"].as<std::string>();
    if (!root["dem"]) fail(manifest_path.string(), "'dem' is required (the elevation raster)");
    m.dem = file_entry(root, "dem", manifest_path, folder);
    if (const YAML::Node extent = root["extent"]) {
      if (!extent.IsSequence() || extent.size() != 4)
        fail(at_line(manifest_path, extent), "'extent' must be [x_min, y_min, x_max, y_max]");
      Box b{extent[0].as<double>(), extent[1].as<double>(), extent[2].as<double>(), extent[3].as<double>()};
      if (!(b.x_max_m > b.x_min_m) || !(b.y_max_m > b.y_min_m))
        fail(at_line(manifest_path, extent), "'extent' has x_max <= x_min or y_max <= y_min");
      m.extent = b;
    }
    m.manning = optional_file(root, "manning", manifest_path, folder);
    m.landcover = optional_file(root, "landcover", manifest_path, folder);
    m.buildings = optional_file(root, "buildings", manifest_path, folder);
    m.assets = optional_file(root, "assets", manifest_path, folder);
    m.sensors = optional_file(root, "sensors", manifest_path, folder);
    m.zones = optional_file(root, "zones", manifest_path, folder);
    m.network = optional_file(root, "network", manifest_path, folder);
    if (const YAML::Node demand = root["demand"]) {
      if (demand.IsScalar()) {
        m.demand.push_back(folder / demand.as<std::string>());
      } else if (demand.IsSequence()) {
        for (const auto& d : demand) m.demand.push_back(folder / d.as<std::string>());
      } else {
        fail(at_line(manifest_path, demand), "'demand' must be a file name or a list of them");
      }
    }
    if (const YAML::Node classes = root["landcover_classes"]) {
      if (!classes.IsMap()) fail(at_line(manifest_path, classes), "'landcover_classes' must map class codes to {{name, manning}}");
      for (const auto& kv : classes) {
        int code = 0;
        try {
          code = kv.first.as<int>();
        } catch (const YAML::Exception&) {
          fail(at_line(manifest_path, kv.first), "land-cover class code '{}' is not an integer", kv.first.Scalar());
        }
        LandCoverClass c;
        c.name = kv.second["name"] ? kv.second["name"].as<std::string>() : fmt::format("class {}", code);
        if (kv.second["manning"]) {
          c.manning = kv.second["manning"].as<double>();
          if (!(c.manning > 0.0) || c.manning > 1.0)
            fail(at_line(manifest_path, kv.second["manning"]), "Manning n {} for class {} is outside (0, 1]", c.manning, code);
        }
        m.landcover_classes[code] = c;
      }
    }
  } catch (const YAML::Exception& e) {
    fail(fmt::format("{}:{}", manifest_path.string(), e.mark.line + 1), "{}", e.msg);
  }
  return m;
}

void write_manifest(const TerritoryManifest& m, const std::filesystem::path& folder) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << m.name;
  out << YAML::Key << "crs" << YAML::Value << m.crs;
  if (!m.vertical_datum.empty()) out << YAML::Key << "vertical_datum" << YAML::Value << m.vertical_datum;
  if (m.extent) {
    // fmt's shortest round-trip form: 0.065, not 0.065000000000000002.
    out << YAML::Key << "extent" << YAML::Value << YAML::Flow << YAML::BeginSeq << fmt::format("{}", m.extent->x_min_m)
        << fmt::format("{}", m.extent->y_min_m) << fmt::format("{}", m.extent->x_max_m)
        << fmt::format("{}", m.extent->y_max_m) << YAML::EndSeq;
  }
  out << YAML::Key << "dem" << YAML::Value << relative_name(m.dem, folder);
  auto optional = [&](const char* key, const std::optional<std::filesystem::path>& p) {
    if (p) out << YAML::Key << key << YAML::Value << relative_name(*p, folder);
  };
  optional("manning", m.manning);
  optional("landcover", m.landcover);
  optional("buildings", m.buildings);
  optional("assets", m.assets);
  optional("sensors", m.sensors);
  optional("zones", m.zones);
  optional("network", m.network);
  if (!m.demand.empty()) {
    out << YAML::Key << "demand" << YAML::Value << YAML::BeginSeq;
    for (const auto& d : m.demand) out << relative_name(d, folder);
    out << YAML::EndSeq;
  }
  if (!m.landcover_classes.empty()) {
    out << YAML::Key << "landcover_classes" << YAML::Value << YAML::BeginMap;
    for (const auto& [code, c] : m.landcover_classes) {
      out << YAML::Key << code << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value
          << c.name << YAML::Key << "manning" << YAML::Value << fmt::format("{}", c.manning) << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  std::filesystem::create_directories(folder);
  const auto path = folder / kManifestName;
  std::ofstream file(path);
  file << "# Cadereau territory: paths are relative to this folder; CRS is the working CRS.\n" << out.c_str() << "\n";
  if (!file) fail(path.string(), "cannot write");
}

Territory Territory::load(const std::filesystem::path& folder) {
  Territory t;
  t.manifest = read_manifest(folder);
  const auto manifest_path = folder / kManifestName;
  try {
    t.crs = Crs::from_user_input(t.manifest.crs);
  } catch (const Error& e) {
    fail(manifest_path.string(), "crs '{}' is not a CRS PROJ knows ({})", t.manifest.crs, e.what_only());
  }
  if (t.crs.is_geographic())
    fail(manifest_path.string(), "crs '{}' is geographic; the working CRS must be projected in metres (e.g. EPSG:2154, "
         "and a DEM reprojected with gdalwarp -t_srs EPSG:2154 in.tif out.tif)",
         t.manifest.crs);

  Raster dem = read_raster(t.manifest.dem);
  require_crs(dem, t.manifest.dem);
  std::string reprojected_from;
  if (!dem.crs().equivalent_to(t.crs)) {
    reprojected_from = dem.crs().label();
    // Reproject onto a grid of the same cell count covering the DEM's extent in the working CRS.
    CrsTransform to_working(dem.crs(), t.crs);
    const Box src = dem.grid().extent();
    Box box = Box::empty_box();
    for (int i = 0; i <= 8; ++i)
      for (int j = 0; j <= 8; ++j) {
        auto p = to_working.forward({src.x_min_m + src.width_m() * i / 8.0, src.y_min_m + src.height_m() * j / 8.0});
        box.expand({p.x, p.y});
      }
    const double cell_m = std::sqrt(box.width_m() * box.height_m() / static_cast<double>(dem.grid().cell_count()));
    GridSpec g{static_cast<int>(std::ceil(box.width_m() / cell_m)), static_cast<int>(std::ceil(box.height_m() / cell_m)),
               box.x_min_m, box.y_max_m, cell_m, cell_m};
    if (!dem.nodata()) dem.set_nodata(-9999.0);
    try {
      dem = warp_to_grid(dem, g, t.crs, Resampling::bilinear);
    } catch (const Error& e) {
      fail(t.manifest.dem.string(), "cannot reproject the DEM from {} to the territory's {}: {}", dem.crs().label(),
           t.manifest.crs, e.what());
    }
  }
  if (dem.stats().valid_cells == 0) fail(t.manifest.dem.string(), "DEM has no valid cell (all nodata)");
  t.dem = std::move(dem);
  if (t.manifest.extent) checks::extent_matches_dem(*t.manifest.extent, t.grid(), manifest_path, t.manifest.dem);
  const std::string dem_words = checks::dem_words(t.manifest.dem, t.grid(), reprojected_from);

  if (t.manifest.manning) t.manning = load_on_grid(*t.manifest.manning, t.dem, Resampling::bilinear);
  if (t.manifest.landcover) t.landcover = load_on_grid(*t.manifest.landcover, t.dem, Resampling::nearest);
  if (t.manifest.buildings)
    t.buildings = buildings_from(read_vector(*t.manifest.buildings, t.crs), *t.manifest.buildings);
  if (t.manifest.assets) {
    t.assets = assets_from(read_vector(*t.manifest.assets, t.crs), *t.manifest.assets);
    validate_assets(t.assets, *t.manifest.assets);
    checks::assets_on_dem(t.assets, t.grid(), dem_words, *t.manifest.assets);
  }
  if (t.manifest.sensors) {
    t.sensors = sensors_from(read_vector(*t.manifest.sensors, t.crs), *t.manifest.sensors);
    checks::sensors_on_dem(t.sensors, t.grid(), dem_words, *t.manifest.sensors);
  }
  if (t.manifest.zones) {
    t.zones = zones_from(read_vector(*t.manifest.zones, t.crs), *t.manifest.zones);
    checks::zones_on_dem(t.zones, t.grid(), dem_words, *t.manifest.zones);
  }
  if (t.manifest.network) {
    t.network = RoadNetwork::load(*t.manifest.network);
    checks::network_on_dem(*t.network, t.grid(), dem_words, *t.manifest.network, t.warnings);
    for (const auto& a : t.assets)
      if (a.type == AssetType::traffic_signal && !t.network->find_traffic_light(a.tls_id))
        fail(t.manifest.assets->string(), "asset '{}' drives traffic light '{}', which {} does not have", a.id,
             a.tls_id, t.manifest.network->filename().string());
    for (const auto& s : t.sensors)
      if (s.kind == SensorKind::traffic_counter && !t.network->find_edge(s.edge_id))
        fail(t.manifest.sensors->string(), "sensor '{}' counts edge '{}', which {} does not have", s.id, s.edge_id,
             t.manifest.network->filename().string());
  }
  long departures = 0;
  for (const auto& d : t.manifest.demand) {
    if (!std::filesystem::exists(d)) fail_as(ErrorCategory::not_found, d.string(), "demand file not found");
    departures += check_route_file(d, t.network ? &*t.network : nullptr).departures();
  }
  if (!t.manifest.demand.empty() && departures == 0) {
    std::string files;
    for (const auto& d : t.manifest.demand) files += (files.empty() ? "" : ", ") + d.string();
    fail(files, "the demand holds no vehicle, trip, flow or person: nothing would drive (remove 'demand' from "
                "territory.yaml for a territory without traffic)");
  }
  return t;
}

const Asset* Territory::find_asset(const std::string& id) const {
  auto it = std::find_if(assets.begin(), assets.end(), [&](const Asset& a) { return a.id == id; });
  return it == assets.end() ? nullptr : &*it;
}

double Territory::total_population() const {
  return std::accumulate(zones.begin(), zones.end(), 0.0,
                         [](double s, const PopulationZone& z) { return s + z.population; });
}

std::string describe(const Territory& t) {
  std::string out;
  auto line = [&out](std::string s) { out += s + "\n"; };
  const GridSpec& g = t.grid();
  const auto stats = t.dem.stats();
  line(fmt::format("Territory  {}", t.manifest.name));
  line(fmt::format("Folder     {}", t.manifest.folder.string()));
  line(fmt::format("CRS        {} ({}){}", t.crs.label(), t.crs.name(),
                   t.manifest.vertical_datum.empty() ? "" : ", heights " + t.manifest.vertical_datum));
  line(fmt::format("Extent     x {:.1f} .. {:.1f} m, y {:.1f} .. {:.1f} m ({:.2f} x {:.2f} km)", g.x_min_m,
                   g.x_max_m(), g.y_min_m(), g.y_max_m, (g.x_max_m() - g.x_min_m) / 1000.0,
                   (g.y_max_m - g.y_min_m()) / 1000.0));
  try {
    MapFrame frame(t.crs);
    const auto c = frame.to_geo({0.5 * (g.x_min_m + g.x_max_m()), 0.5 * (g.y_min_m() + g.y_max_m)});
    line(fmt::format("Centre     {:.5f} E, {:.5f} N (WGS84)", c.lon_deg, c.lat_deg));
  } catch (const Error&) {
  }
  line(fmt::format("DEM        {} x {} cells of {:g} x {:g} m, {} valid, elevation {:.1f} .. {:.1f} m (mean {:.1f})",
                   g.cols, g.rows, g.cell_w_m, g.cell_h_m, stats.valid_cells, stats.min, stats.max, stats.mean));
  if (t.manning) {
    const auto s = t.manning->stats();
    line(fmt::format("Manning    n {:.3f} .. {:.3f} (mean {:.3f})", s.min, s.max, s.mean));
  }
  if (t.landcover) {
    std::map<int, std::size_t> counts;
    for (float v : t.landcover->values())
      if (!t.landcover->is_nodata(v)) ++counts[static_cast<int>(v)];
    std::string classes;
    for (const auto& [code, n] : counts) {
      auto it = t.manifest.landcover_classes.find(code);
      const std::string name = it != t.manifest.landcover_classes.end() ? it->second.name : fmt::format("class {}", code);
      classes += fmt::format("{}{} {:.1f}%", classes.empty() ? "" : ", ", name,
                             100.0 * static_cast<double>(n) / static_cast<double>(g.cell_count()));
    }
    line("Land cover " + classes);
  }
  if (!t.buildings.empty()) {
    double footprint = 0.0, max_h = 0.0;
    for (const auto& b : t.buildings) {
      footprint += b.footprint.area_m2();
      max_h = std::max(max_h, b.height_m);
    }
    line(fmt::format("Buildings  {} ({:.2f} km2 of footprint, up to {:.0f} m)", t.buildings.size(), footprint / 1e6, max_h));
  }
  if (!t.assets.empty()) {
    std::map<std::string, int> by_type;
    std::size_t deps = 0;
    for (const auto& a : t.assets) {
      ++by_type[std::string(to_string(a.type))];
      deps += a.depends_on.size();
    }
    std::string types;
    for (const auto& [type, n] : by_type) types += fmt::format("{}{} {}", types.empty() ? "" : ", ", n, type);
    line(fmt::format("Assets     {} ({}), {} dependency links", t.assets.size(), types, deps));
  }
  if (!t.sensors.empty()) {
    std::map<std::string, int> by_kind;
    for (const auto& s : t.sensors) ++by_kind[std::string(to_string(s.kind))];
    std::string kinds;
    for (const auto& [kind, n] : by_kind) kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", n, kind);
    line(fmt::format("Sensors    {} ({})", t.sensors.size(), kinds));
  }
  if (!t.zones.empty())
    line(fmt::format("Population {:.0f} in {} zones", t.total_population(), t.zones.size()));
  if (t.network) {
    const auto& n = *t.network;
    std::size_t lanes = 0;
    for (const auto& e : n.edges()) lanes += e.lanes.size();
    line(fmt::format("Roads      {} edges, {} lanes, {:.1f} km, {} junctions, {} traffic lights (netOffset {:.2f}, {:.2f})",
                     n.edges().size(), lanes, n.total_length_m() / 1000.0, n.junctions().size(),
                     n.traffic_lights().size(), n.location().offset_x_m, n.location().offset_y_m));
  }
  for (const auto& d : t.manifest.demand) line("Demand     " + relative_name(d, t.manifest.folder));
  if (t.network) describe_lights(*t.network, t.assets, out);
  for (const auto& w : t.warnings) line("Warning    " + w);
  return out;
}

}  // namespace cadereau::twin
