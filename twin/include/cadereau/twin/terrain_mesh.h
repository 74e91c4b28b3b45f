#pragma once
// Triangulated terrain (CGAL) for the 3D view and for anything that needs a
// surface rather than a grid: a DEM simplified to a vertex budget with a
// bounded vertical error, with building footprints as constraints so walls
// stand on triangle edges; and buildings extruded to their heights.

#include "cadereau/twin/assets.h"
#include "cadereau/twin/raster.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace cadereau::twin {

struct Vertex3 {
  double x_m = 0.0;  // working CRS
  double y_m = 0.0;
  double z_m = 0.0;  // height, DEM datum
};

struct Mesh {
  std::vector<Vertex3> vertices;
  std::vector<std::array<std::uint32_t, 3>> triangles;  // counter-clockwise seen from above
};

struct TerrainMeshOptions {
  std::size_t max_vertices = 60000;
  double max_vertical_error_m = 0.5;
  bool constrain_building_footprints = true;
};

struct TerrainMesh {
  Mesh mesh;
  double max_vertical_error_m = 0.0;  // measured over every valid DEM cell centre
  std::size_t constrained_edges = 0;
};

// Greedy refinement: starts from the corners (and footprint vertices), then
// repeatedly inserts the DEM cell centres farthest from the surface until the
// error bound or the vertex budget is reached. Nodata cells are ignored.
// Throws Error when the DEM has no valid cell.
TerrainMesh build_terrain_mesh(const Raster& dem, std::span<const Building> buildings,
                               const TerrainMeshOptions& options = {});

// Walls and flat roofs: each footprint stands on the lowest DEM value under
// its vertices and rises height_m above it. Footprints are triangulated
// (holes respected).
Mesh extrude_buildings(std::span<const Building> buildings, const Raster& dem);

// Height of the mesh surface at p (linear in the triangle), for tests and draping.
std::optional<double> mesh_height_at(const Mesh& mesh, MapPoint p);

}  // namespace cadereau::twin
