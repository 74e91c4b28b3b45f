#pragma once
// Spatial queries over a territory's roads, buildings and assets, and the grid
// cells under each road edge (computed once, read at every coupling step).

#include "cadereau/twin/assets.h"
#include "cadereau/twin/raster.h"
#include "cadereau/twin/road_network.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace cadereau::twin {

// For every edge, the linear indices of the grid cells its lanes cross, as one
// compressed array: cells of edge e are cells[offsets[e] .. offsets[e+1]).
struct EdgeCells {
  std::vector<std::uint32_t> offsets;
  std::vector<std::uint32_t> cells;

  std::span<const std::uint32_t> of(std::size_t edge) const {
    return {cells.data() + offsets[edge], cells.data() + offsets[edge + 1]};
  }
  std::size_t edge_count() const { return offsets.empty() ? 0 : offsets.size() - 1; }
};

// Every cell any lane of the edge passes through (lane polylines walked at a
// quarter of a cell), sorted and unique. Cells outside the grid are skipped.
EdgeCells compute_edge_cells(const RoadNetwork& network, const GridSpec& grid);

struct NearestEdge {
  std::size_t edge = 0;  // index into RoadNetwork::edges()
  double distance_m = 0.0;
};

class SpatialIndex {
 public:
  // Keeps references: the network, buildings and assets must outlive the index.
  SpatialIndex(const RoadNetwork& network, const std::vector<Building>& buildings,
               const std::vector<Asset>& assets);
  ~SpatialIndex();
  SpatialIndex(SpatialIndex&&) noexcept;
  SpatialIndex& operator=(SpatialIndex&&) noexcept;

  // Indices (into the network/buildings/assets vectors), sorted ascending.
  std::vector<std::size_t> edges_in(const Polygon& area) const;
  std::vector<std::size_t> edges_in(const Box& box) const;
  std::vector<std::size_t> buildings_in(const Polygon& area) const;  // footprint touches area
  std::vector<std::size_t> assets_in(const Polygon& area) const;
  std::vector<std::size_t> assets_in(const Box& box) const;
  std::optional<std::size_t> building_at(MapPoint p) const;

  // Nearest edge by distance to its centre line; nothing when none is within max_distance_m.
  std::optional<NearestEdge> nearest_edge(MapPoint p, double max_distance_m = 1e9) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cadereau::twin
