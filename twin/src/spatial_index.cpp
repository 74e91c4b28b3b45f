#include "cadereau/twin/spatial_index.h"

#include "cadereau/twin/error.h"

// Boost 1.74's geometry pulls in a header of its own that it marks deprecated;
// the note it prints on every build says nothing about this code.
#define BOOST_ALLOW_DEPRECATED_HEADERS
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace cadereau::twin {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

namespace {

using BgPoint = bg::model::point<double, 2, bg::cs::cartesian>;
using BgBox = bg::model::box<BgPoint>;
using BgSegment = bg::model::segment<BgPoint>;

using SegmentValue = std::pair<BgSegment, std::size_t>;  // (segment of a centre line, edge index)
using BoxValue = std::pair<BgBox, std::size_t>;          // (footprint bounds, building index)
using PointValue = std::pair<BgPoint, std::size_t>;      // (location, asset index)

using SegmentTree = bgi::rtree<SegmentValue, bgi::rstar<16>>;
using BoxTree = bgi::rtree<BoxValue, bgi::rstar<16>>;
using PointTree = bgi::rtree<PointValue, bgi::rstar<16>>;

BgPoint to_bg(MapPoint p) { return {p.x_m, p.y_m}; }
MapPoint from_bg(const BgPoint& p) { return {bg::get<0>(p), bg::get<1>(p)}; }
BgBox to_bg(const Box& b) { return {{b.x_min_m, b.y_min_m}, {b.x_max_m, b.y_max_m}}; }

// Calls f(a, b) for every edge of every ring (closing edges included) until f returns true.
template <typename F>
bool any_ring_edge(const Polygon& polygon, F&& f) {
  auto ring_edges = [&](const Ring& ring) {
    const std::size_t n = ring.size();
    for (std::size_t i = 0; i < n; ++i)
      if (f(ring[i], ring[(i + 1) % n])) return true;
    return false;
  };
  if (ring_edges(polygon.outer)) return true;
  for (const auto& hole : polygon.holes)
    if (ring_edges(hole)) return true;
  return false;
}

// Two polygons touch when a vertex of one lies in the other or their boundaries
// cross. Holes count as outside: a footprint sitting wholly in the hole of an
// area does not touch it.
bool polygons_intersect(const Polygon& a, const Polygon& b) {
  for (const auto& p : a.outer)
    if (b.contains(p)) return true;
  for (const auto& p : b.outer)
    if (a.contains(p)) return true;
  return any_ring_edge(a, [&](MapPoint p, MapPoint q) {
    return any_ring_edge(b, [&](MapPoint r, MapPoint s) { return segments_intersect(p, q, r, s); });
  });
}

void sort_unique(std::vector<std::size_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

EdgeCells compute_edge_cells(const RoadNetwork& network, const GridSpec& grid) {
  EdgeCells out;
  const auto& edges = network.edges();
  out.offsets.reserve(edges.size() + 1);
  out.offsets.push_back(0);
  if (grid.cols <= 0 || grid.rows <= 0 || !(grid.cell_w_m > 0.0) || !(grid.cell_h_m > 0.0)) {
    out.offsets.resize(edges.size() + 1, 0);
    return out;
  }
  if (grid.cell_count() > std::numeric_limits<std::uint32_t>::max())
    fail("edge cells", "the grid has {} cells, more than 32-bit cell indices hold", grid.cell_count());

  // A quarter of a cell: a lane cannot cross a cell without leaving a sample in
  // it unless it only clips a corner by less than that.
  const double step_m = 0.25 * std::min(grid.cell_w_m, grid.cell_h_m);
  const double x_min_m = grid.x_min_m;
  const double y_max_m = grid.y_max_m;

  std::vector<std::uint32_t> scratch;  // reused across edges
  auto add = [&](double x_m, double y_m) {
    const double col = std::floor((x_m - x_min_m) / grid.cell_w_m);
    const double row = std::floor((y_max_m - y_m) / grid.cell_h_m);
    if (col < 0.0 || row < 0.0 || col >= grid.cols || row >= grid.rows) return;
    scratch.push_back(static_cast<std::uint32_t>(grid.linear({static_cast<int>(col), static_cast<int>(row)})));
  };

  for (const auto& edge : edges) {
    scratch.clear();
    for (const auto& lane : edge.lanes) {
      const auto& shape = lane.shape;
      if (shape.size() == 1) add(shape[0].x_m, shape[0].y_m);
      for (std::size_t i = 1; i < shape.size(); ++i) {
        const MapPoint a = shape[i - 1], b = shape[i];
        const double length = distance_m(a, b);
        const auto steps = static_cast<std::size_t>(std::ceil(length / step_m));
        // Samples at a, then every length/steps (<= step_m), ending exactly at b.
        for (std::size_t k = 0; k <= steps; ++k) {
          const double t = steps == 0 ? 0.0 : static_cast<double>(k) / static_cast<double>(steps);
          add(a.x_m + t * (b.x_m - a.x_m), a.y_m + t * (b.y_m - a.y_m));
        }
      }
    }
    std::sort(scratch.begin(), scratch.end());
    scratch.erase(std::unique(scratch.begin(), scratch.end()), scratch.end());
    out.cells.insert(out.cells.end(), scratch.begin(), scratch.end());
    if (out.cells.size() > std::numeric_limits<std::uint32_t>::max())
      fail("edge cells", "more than 2^32 edge cells in total");
    out.offsets.push_back(static_cast<std::uint32_t>(out.cells.size()));
  }
  return out;
}

struct SpatialIndex::Impl {
  const RoadNetwork* network;
  const std::vector<Building>* buildings;
  const std::vector<Asset>* assets;
  SegmentTree segments;
  BoxTree footprints;
  PointTree points;

  // Edges with a centre-line segment meeting the box (exact: Boost tests the
  // segment, not its envelope), sorted and unique.
  std::vector<std::size_t> edge_candidates(const Box& box) const {
    std::vector<std::size_t> out;
    const BgBox query = to_bg(box);
    for (auto it = segments.qbegin(bgi::intersects(query)); it != segments.qend(); ++it) out.push_back(it->second);
    sort_unique(out);
    return out;
  }
};

SpatialIndex::SpatialIndex(const RoadNetwork& network, const std::vector<Building>& buildings,
                           const std::vector<Asset>& assets)
    : impl_(std::make_unique<Impl>()) {
  impl_->network = &network;
  impl_->buildings = &buildings;
  impl_->assets = &assets;

  // Values are collected first so that the trees are bulk-loaded (packed), which
  // queries faster than trees grown by insertion.
  std::vector<SegmentValue> segments;
  const auto& edges = network.edges();
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const auto& shape = edges[e].shape;
    for (std::size_t i = 1; i < shape.size(); ++i) segments.emplace_back(BgSegment(to_bg(shape[i - 1]), to_bg(shape[i])), e);
    if (shape.size() == 1) segments.emplace_back(BgSegment(to_bg(shape[0]), to_bg(shape[0])), e);
  }
  impl_->segments = SegmentTree(segments.begin(), segments.end());

  std::vector<BoxValue> boxes;
  boxes.reserve(buildings.size());
  for (std::size_t b = 0; b < buildings.size(); ++b) {
    if (buildings[b].footprint.outer.empty()) continue;
    boxes.emplace_back(to_bg(buildings[b].footprint.bounds()), b);
  }
  impl_->footprints = BoxTree(boxes.begin(), boxes.end());

  std::vector<PointValue> points;
  points.reserve(assets.size());
  for (std::size_t a = 0; a < assets.size(); ++a) points.emplace_back(to_bg(assets[a].location), a);
  impl_->points = PointTree(points.begin(), points.end());
}

SpatialIndex::~SpatialIndex() = default;
SpatialIndex::SpatialIndex(SpatialIndex&&) noexcept = default;
SpatialIndex& SpatialIndex::operator=(SpatialIndex&&) noexcept = default;

std::vector<std::size_t> SpatialIndex::edges_in(const Polygon& area) const {
  if (area.outer.empty()) return {};
  std::vector<std::size_t> out = impl_->edge_candidates(area.bounds());
  const auto& edges = impl_->network->edges();
  std::erase_if(out, [&](std::size_t e) { return !polyline_intersects(edges[e].shape, area); });
  return out;
}

std::vector<std::size_t> SpatialIndex::edges_in(const Box& box) const {
  if (box.is_empty()) return {};
  // The tree tests the segments themselves against the box, not their
  // envelopes, so its answer is already exact.
  return impl_->edge_candidates(box);
}

std::vector<std::size_t> SpatialIndex::buildings_in(const Polygon& area) const {
  std::vector<std::size_t> out;
  if (area.outer.empty()) return out;
  const auto& buildings = *impl_->buildings;
  const BgBox query = to_bg(area.bounds());
  for (auto it = impl_->footprints.qbegin(bgi::intersects(query)); it != impl_->footprints.qend(); ++it)
    if (polygons_intersect(buildings[it->second].footprint, area)) out.push_back(it->second);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::size_t> SpatialIndex::assets_in(const Polygon& area) const {
  std::vector<std::size_t> out;
  if (area.outer.empty()) return out;
  const auto& assets = *impl_->assets;
  const BgBox query = to_bg(area.bounds());
  for (auto it = impl_->points.qbegin(bgi::intersects(query)); it != impl_->points.qend(); ++it)
    if (area.contains(assets[it->second].location)) out.push_back(it->second);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::size_t> SpatialIndex::assets_in(const Box& box) const {
  std::vector<std::size_t> out;
  if (box.is_empty()) return out;
  const auto& assets = *impl_->assets;
  for (auto it = impl_->points.qbegin(bgi::intersects(to_bg(box))); it != impl_->points.qend(); ++it)
    if (box.contains(assets[it->second].location)) out.push_back(it->second);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::size_t> SpatialIndex::building_at(MapPoint p) const {
  std::optional<std::size_t> found;
  const auto& buildings = *impl_->buildings;
  for (auto it = impl_->footprints.qbegin(bgi::intersects(to_bg(p))); it != impl_->footprints.qend(); ++it) {
    // Overlapping footprints (bad data) resolve to the lowest index, so the answer
    // does not depend on the tree's layout.
    if ((!found || it->second < *found) && buildings[it->second].footprint.contains(p)) found = it->second;
  }
  return found;
}

std::optional<NearestEdge> SpatialIndex::nearest_edge(MapPoint p, double max_distance_m) const {
  const BgPoint query = to_bg(p);
  std::optional<NearestEdge> best;
  if (impl_->segments.empty()) return best;
  // The incremental nearest query yields segments by increasing exact distance
  // from p (Boost compares point-segment distances, not envelopes). Reading on
  // past the first result settles ties, e.g. at a junction where several edges
  // end, on the lowest edge index, so the answer does not depend on tree layout.
  for (auto it = impl_->segments.qbegin(bgi::nearest(query, static_cast<unsigned>(impl_->segments.size())));
       it != impl_->segments.qend(); ++it) {
    const double d_m = segment_distance_m(p, from_bg(it->first.first), from_bg(it->first.second));
    if (best && d_m > best->distance_m) break;
    if (!best || d_m < best->distance_m || it->second < best->edge) best = NearestEdge{it->second, d_m};
  }
  if (!best || best->distance_m > max_distance_m) return std::nullopt;
  return best;
}

}  // namespace cadereau::twin
