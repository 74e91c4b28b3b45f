#pragma once
// A territory: a folder with territory.yaml and the files it lists, loaded
// into the working CRS. The demo territory and a user's real data (IGN DEM,
// OSM-derived SUMO net, BD TOPO buildings) share this layout.
//
// territory.yaml:
//   name: Nîmes (demo)
//   crs: EPSG:2154                  # working CRS, projected, metres
//   vertical_datum: NGF-IGN69        # optional: what the DEM's heights refer to
//   extent: [x_min, y_min, x_max, y_max]   # optional, default: the DEM's
//   dem: dem.tif                     # required
//   manning: manning.tif             # optional Manning n raster
//   landcover: landcover.tif         # optional land-cover classes
//   buildings: buildings.geojson     # optional vector layers...
//   assets: assets.geojson
//   sensors: sensors.geojson
//   zones: zones.geojson
//   network: network.net.xml         # optional SUMO network
//   demand: [demand.rou.xml]         # optional SUMO route files
//   landcover_classes: {1: {name: garrigue, manning: 0.06}, ...}   # optional

#include "cadereau/twin/assets.h"
#include "cadereau/twin/geo.h"
#include "cadereau/twin/raster.h"
#include "cadereau/twin/road_network.h"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::twin {

struct LandCoverClass {
  std::string name;
  double manning = 0.035;
};

struct TerritoryManifest {
  std::filesystem::path folder;
  std::string name;
  std::string crs;  // as written
  std::string vertical_datum;  // the DEM heights' datum ("NGF-IGN69"); empty when not given
  std::optional<Box> extent;
  std::filesystem::path dem;
  std::optional<std::filesystem::path> manning;
  std::optional<std::filesystem::path> landcover;
  std::optional<std::filesystem::path> buildings;
  std::optional<std::filesystem::path> assets;
  std::optional<std::filesystem::path> sensors;
  std::optional<std::filesystem::path> zones;
  std::optional<std::filesystem::path> network;
  std::vector<std::filesystem::path> demand;
  std::map<int, LandCoverClass> landcover_classes;
};

// Parses territory.yaml; paths are resolved against the folder. Throws Error
// "territory.yaml:LINE: ..." on a bad value.
TerritoryManifest read_manifest(const std::filesystem::path& folder);
void write_manifest(const TerritoryManifest& manifest, const std::filesystem::path& folder);

struct Territory {
  TerritoryManifest manifest;
  Crs crs;
  Raster dem;                   // the territory grid
  std::optional<Raster> manning;    // on the DEM grid
  std::optional<Raster> landcover;  // on the DEM grid
  std::vector<Building> buildings;
  std::vector<Asset> assets;
  std::vector<Sensor> sensors;
  std::vector<PopulationZone> zones;
  std::optional<RoadNetwork> network;
  // What loads but looks doubtful (some roads off the DEM): said by
  // `territory info` and at the start of a run.
  std::vector<std::string> warnings;

  // Loads everything; rasters on another grid or CRS are warped onto the DEM
  // grid, vectors reprojected. Throws Error naming the file and the problem,
  // also when the files disagree: a declared extent that is not the DEM's,
  // roads, assets, sensors or zones off the DEM, a self-crossing zone, a
  // route file that is damaged or names edges the network lacks.
  static Territory load(const std::filesystem::path& folder);

  const GridSpec& grid() const { return dem.grid(); }
  const Asset* find_asset(const std::string& id) const;
  double total_population() const;
};

// A human-readable description (what `cadereau territory info` prints).
std::string describe(const Territory& territory);

}  // namespace cadereau::twin
