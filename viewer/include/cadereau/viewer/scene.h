#pragma once
// What the 3D view of a territory shows and how. The scene graph itself is
// OpenSceneGraph and stays private to the viewer library.

#include "cadereau/twin/terrain_mesh.h"

#include <map>
#include <optional>
#include <set>
#include <string>

namespace cadereau::viewer {

enum class TerrainColouring {
  automatic,   // land cover when the territory has it, elevation otherwise
  elevation,   // hypsometric ramp: plain greens, garrigue ochres, light hilltops
  land_cover,  // one colour per land-cover class, named in territory.yaml
};

// An asset out of service, worst first: a failed asset stays failed
// whatever else its records say, as on the console's map.
enum class AssetStatus { failed, cut_off, on_backup };
const char* to_string(AssetStatus status);

struct SceneOptions {
  // Heights (terrain and buildings) are multiplied by this so that the
  // garrigue hills read at the scale of the whole town.
  double vertical_exaggeration = 3.0;
  TerrainColouring colouring = TerrainColouring::automatic;
  bool show_buildings = true;
  bool show_roads = true;
  bool show_assets = true;
  bool show_labels = true;
  // A corner panel with the territory name, the scale of heights and the
  // asset symbols present.
  bool show_legend = true;
  twin::TerrainMeshOptions terrain_mesh{};
  // Water depth (m) to paint over the terrain, on the DEM grid (a flood
  // model's depth or max-depth raster); cells under 5 cm stay dry.
  std::optional<twin::Raster> water_depth;
  // A moment of a run (see recorded_state.h): roads closed (SUMO edge ids)
  // drawn red, assets out of service in their status colour, and a line
  // under the title saying when and how much.
  std::set<std::string> closed_roads;
  std::map<std::string, AssetStatus> asset_status;
  std::string caption;
};

}  // namespace cadereau::viewer
