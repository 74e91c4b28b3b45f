#pragma once
// The territory's contents: buildings, critical assets and their dependencies,
// sensors and population zones, parsed and validated from vector layers.

#include "cadereau/twin/geometry.h"
#include "cadereau/twin/vector.h"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cadereau::twin {

struct Building {
  std::string id;
  Polygon footprint;
  double height_m = 0.0;
  std::string use;  // residential, commercial, public, industrial...
};

enum class AssetType {
  hospital,
  school,
  retirement_home,
  fire_station,
  police,
  crisis_post,
  substation,
  pumping_station,
  telecom_node,
  underpass,
  car_park,
  traffic_signal,
  water_treatment,
};

std::string_view to_string(AssetType type);
std::optional<AssetType> asset_type_from_string(std::string_view text);
const std::vector<AssetType>& all_asset_types();
// Depth of water at the asset from which it is out of service, when the
// territory does not say: electrical gear fails low, buildings higher up.
double default_flood_threshold_m(AssetType type);
// Whether an asset of this type is useless when no road reaches it.
bool default_needs_road_access(AssetType type);
// Hours an asset of this type keeps working on its own backup (generator,
// batteries) once a supplier it depends on fails.
double default_backup_h(AssetType type);

struct Asset {
  std::string id;
  std::string name;
  AssetType type = AssetType::school;
  MapPoint location;
  double flood_threshold_m = 0.5;
  std::vector<std::string> depends_on;  // ids of assets it needs (power, telecom...)
  bool needs_road_access = false;
  std::string tls_id;       // traffic_signal: the SUMO traffic light it drives
  double capacity = 0.0;    // beds, pupils, residents, vehicles: the type says
  double backup_h = 0.0;    // autonomy once a supplier fails (attribute backup_h; default by type)
};

// An asset of a type with that type's defaults: flood threshold, road
// access, backup; named by its id. Parsers and generators start from it.
Asset asset_of_type(std::string id, AssetType type, MapPoint location);

enum class SensorKind { rain_gauge, level_gauge, traffic_counter, camera };
std::string_view to_string(SensorKind kind);
std::optional<SensorKind> sensor_kind_from_string(std::string_view text);

struct Sensor {
  std::string id;
  std::string name;
  SensorKind kind = SensorKind::rain_gauge;
  MapPoint location;
  std::string edge_id;     // traffic_counter: the road edge it counts
  std::string watercourse; // level_gauge: the stream it watches
  // Live feeds: its LoRaWAN device (16 hex digits, ChirpStack's devEui) and
  // its OGC SensorThings datastream id; empty when it has none.
  std::string dev_eui;
  std::string datastream;
  // level_gauge: its rating curve, stage above the gauge's datum (m) to
  // discharge (m3/s), stages increasing (property rating: "0:0 0.5:3.1 1:11");
  // empty when it has none. A live session turns its readings into an inflow.
  std::vector<std::pair<double, double>> rating;
};

// The discharge a rating curve gives for a stage: linear between its points,
// the first point's below it, the last segment's slope beyond the last.
double rated_discharge_m3_s(const std::vector<std::pair<double, double>>& rating, double stage_m);

struct PopulationZone {
  std::string id;
  std::string name;
  Polygon area;  // the largest polygon of the feature
  double population = 0.0;
};

// Parsers from vector layers. Each throws Error with Feature::locate() when a
// required attribute is missing or wrong. Attributes:
//   buildings: id, height_m (or height), use
//   assets:    id, name, type, flood_threshold_m, depends_on ("a,b"),
//              needs_road_access, tls_id, capacity
//   sensors:   id, name, kind, edge_id, watercourse
//   zones:     id, name, population
std::vector<Building> buildings_from(const VectorLayer& layer, const std::filesystem::path& file);
std::vector<Asset> assets_from(const VectorLayer& layer, const std::filesystem::path& file);
std::vector<Sensor> sensors_from(const VectorLayer& layer, const std::filesystem::path& file);
std::vector<PopulationZone> zones_from(const VectorLayer& layer, const std::filesystem::path& file);

// Checks ids are unique, every dependency names a known asset and the
// dependency graph has no cycle. Throws Error naming the file and asset.
void validate_assets(const std::vector<Asset>& assets, const std::filesystem::path& file);

std::vector<Feature> to_features(const std::vector<Building>& buildings);
std::vector<Feature> to_features(const std::vector<Asset>& assets);
std::vector<Feature> to_features(const std::vector<Sensor>& sensors);
std::vector<Feature> to_features(const std::vector<PopulationZone>& zones);

}  // namespace cadereau::twin
