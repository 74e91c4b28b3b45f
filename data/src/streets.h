#pragma once
// The demo street network: a jittered orthogonal grid (150 m blocks) over the
// town, the ring boulevard around the Écusson, radial avenues, a long
// signalised arterial south of the centre, written as SUMO plain XML
// (Lambert-93 coordinates) for netconvert.

#include "cadereau/twin/geo.h"
#include "cadereau/twin/raster.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cadereau::data::detail {

// Lattice: node (i, j) sits near (kCentreX_m + i * kBlock_m, kCentreY_m + j * kBlock_m).
inline constexpr double kBlock_m = 150.0;
inline constexpr int kIMin = -17;
inline constexpr int kIMax = 13;
inline constexpr int kJMin = -17;
inline constexpr int kJMax = 8;
inline constexpr int kRing = 4;          // the ring boulevard runs on i = +-4 and j = +-4
inline constexpr int kArterialJ = -8;    // the arterial runs on row j = -8...
inline constexpr int kArterialIMin = -15;  // ...from column -15...
inline constexpr int kArterialIMax = 13;   // ...to column 13

enum class RoadClass { local, collector, avenue, ring, arterial };

struct StreetNode {
  std::string id;
  int i = 0;
  int j = 0;
  twin::MapPoint position;
  bool traffic_light = false;
};

// An undirected street segment between two lattice nodes: two SUMO edges,
// `id` (a -> b) and `-id` (b -> a).
struct StreetSegment {
  std::string id;
  int a = 0;  // node indices
  int b = 0;
  RoadClass road_class = RoadClass::local;
  int lanes_per_direction = 1;
  double speed_m_s = 0.0;
  int priority = 1;
  std::string name;
  bool diagonal = false;

  // Carriageway (both directions) plus pavements, half of it: what the land cover paints as road.
  double half_width_m() const { return lanes_per_direction * 3.2 + 2.0; }
};

struct StreetPlan {
  std::vector<StreetNode> nodes;
  std::vector<StreetSegment> segments;
  std::vector<int> lattice;  // node index per lattice position, -1 where the town does not reach

  int node_at(int i, int j) const;
  bool in_ring(int i, int j) const { return i >= -kRing && i <= kRing && j >= -kRing && j <= kRing; }
  // A node on the town's edge (a missing orthogonal neighbour): where commuters enter.
  bool on_town_edge(int node) const;
};

// Whether the lattice position (i, j) is inside the town's outline.
bool town_contains(int i, int j);
// Whether a map point is inside the town's outline (same shape, continuous).
bool town_contains(twin::MapPoint p);

StreetPlan plan_streets(std::uint64_t seed);

// SUMO plain XML: nodes (with a <location> carrying the Lambert-93 projection) and edges.
void write_plain_xml(const StreetPlan& plan, const std::filesystem::path& nodes_xml,
                     const std::filesystem::path& edges_xml);

// Sets `value` in every cell whose centre lies on a carriageway.
void burn_roads(const StreetPlan& plan, twin::Raster& raster, float value);

}  // namespace cadereau::data::detail
