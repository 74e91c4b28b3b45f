#pragma once
// Consistency of a territory's files with one another, checked on load: the
// layers must lie on the DEM (route files are checked by route_file.h).
// Each check throws Error naming the file and the item at
// fault; what is only doubtful goes to `warnings`. Private to twin.

#include "cadereau/twin/assets.h"
#include "cadereau/twin/raster.h"
#include "cadereau/twin/road_network.h"

#include <filesystem>
#include <string>
#include <vector>

namespace cadereau::twin::checks {

// How messages name the DEM: "the DEM dem.tif (x ... , y ...)", with where it
// was reprojected from when it was (a wrong CRS on the DEM puts everything
// else off it, so the DEM is named as a suspect too).
std::string dem_words(const std::filesystem::path& dem_file, const GridSpec& dem, const std::string& reprojected_from);

// The extent territory.yaml declares against the DEM's own: they must agree
// to within two cells or 5% of the span (a DEM reprojected on load grows a
// little). `manifest` names territory.yaml.
void extent_matches_dem(const Box& declared, const GridSpec& dem, const std::filesystem::path& manifest,
                        const std::filesystem::path& dem_file);

// Refuses a network that mostly lies off the DEM (a wrong netOffset or CRS
// puts the roads kilometres away, where no water ever reaches them); warns
// when some junctions do.
void network_on_dem(const RoadNetwork& network, const GridSpec& dem, const std::string& dem_words,
                    const std::filesystem::path& net_file, std::vector<std::string>& warnings);

// Refuses an asset, a sensor or a population zone that lies outside the DEM:
// it would never be wet, whatever the flood.
void assets_on_dem(const std::vector<Asset>& assets, const GridSpec& dem, const std::string& dem_words,
                   const std::filesystem::path& file);
void sensors_on_dem(const std::vector<Sensor>& sensors, const GridSpec& dem, const std::string& dem_words,
                    const std::filesystem::path& file);
void zones_on_dem(const std::vector<PopulationZone>& zones, const GridSpec& dem, const std::string& dem_words,
                  const std::filesystem::path& file);

}  // namespace cadereau::twin::checks
