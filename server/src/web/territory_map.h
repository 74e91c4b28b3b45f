#pragma once
// A territory drawn for the console's web map (Leaflet, Web Mercator): its
// vector layers in WGS84 as GeoJSON, and its rasters (shaded relief, water
// depth) resampled onto a grid whose columns are even in longitude and whose
// rows are even in Mercator y, so that an image overlay stretched over
// `bounds` lands where the territory is. A raster in the working CRS
// (Lambert-93) laid on lon/lat bounds as it is would be turned by the
// meridian convergence, about a degree at Nîmes: 100 m at the edges.

#include "cadereau/twin/raster.h"
#include "cadereau/twin/territory.h"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::server::web {

class TerritoryMap {
 public:
  explicit TerritoryMap(const twin::Territory& territory);

  // {"territory","crs","bounds":[[south,west],[north,east]],"depth_ramp":[{"m","colour"}],"shown_depth_m",
  //  "roads","buildings","assets","sensors","zones","lights": GeoJSON FeatureCollections,
  //  "corridors":[{"street","length_m","lights":[ID in order]}]: the streets a green wave may follow}
  const std::string& layers_json() const { return layers_; }
  const std::string& hillshade_png() const { return hillshade_; }
  // A frame of water depth (any grid in the territory's CRS) on the map's
  // grid: the report's depth colours, transparent where shallower than the
  // report shows. Throws Error when the frame's CRS is not the territory's.
  std::string water_png(const twin::Raster& depth) const;

 private:
  struct Grid {
    int width = 0, height = 0;
    std::vector<twin::MapPoint> points;  // each pixel's centre in the working CRS, row by row from the top
  };
  Grid grid(int width_px) const;

  twin::Crs crs_;
  double west_ = 0, south_ = 0, east_ = 0, north_ = 0;
  std::string layers_;
  std::string hillshade_;
  Grid water_grid_;
};

// One TerritoryMap per territory folder, made on first use (a few seconds
// for the demo: the territory is read and its relief resampled) and kept.
class MapCache {
 public:
  std::shared_ptr<const TerritoryMap> get(const std::filesystem::path& territory_dir);

 private:
  std::mutex mutex_;
  std::map<std::filesystem::path, std::shared_ptr<const TerritoryMap>> maps_;
};

// The water-depth frame at or before `t_s` among a session's recordings
// (oldest first), the last one when t_s is absent; nothing without frames.
// Throws Error (unavailable) when there are recordings but none can be read
// (a worker still laying its file out). Reads HDF5 under one process-wide
// lock (the library is not thread-safe).
std::optional<twin::Raster> depth_frame(const std::vector<std::filesystem::path>& recordings, std::optional<double> t_s,
                                        double* frame_time_s = nullptr);

// How congested a road edge is, from its vehicles and their mean speed over
// the edge's limit: 0 free flow (empty, or at 70 % of the limit or more),
// 1 dense (40-70 %), 2 slow (15-40 %), 3 jammed (under 15 %).
int traffic_level(int vehicles, double speed_ratio);

// The traffic reading at or before `t_s` (the last one when absent) among a
// session's recordings, as JSON: {"t_s", "vehicles": total, "edges_by_level":
// {"free","dense","slow","jammed"}, "edges": {ID: [vehicles, speed_ratio,
// level]}} for the edges with vehicles on them; nothing before the first
// reading or without traffic. Throws Error as depth_frame does.
std::optional<std::string> traffic_json(const std::vector<std::filesystem::path>& recordings, std::optional<double> t_s);

}  // namespace cadereau::server::web
