#pragma once
// Plain geometry in the working CRS. Heavy algorithms (triangulation) live in
// terrain_mesh.h; these are the value types everyone shares.

#include "cadereau/twin/geo.h"

#include <cstddef>
#include <optional>
#include <vector>

namespace cadereau::twin {

struct Box {
  double x_min_m = 0.0;
  double y_min_m = 0.0;
  double x_max_m = 0.0;
  double y_max_m = 0.0;

  double width_m() const { return x_max_m - x_min_m; }
  double height_m() const { return y_max_m - y_min_m; }
  bool contains(MapPoint p) const {
    return p.x_m >= x_min_m && p.x_m <= x_max_m && p.y_m >= y_min_m && p.y_m <= y_max_m;
  }
  bool intersects(const Box& o) const {
    return x_min_m <= o.x_max_m && o.x_min_m <= x_max_m && y_min_m <= o.y_max_m && o.y_min_m <= y_max_m;
  }
  void expand(MapPoint p);
  static Box empty_box();
  bool is_empty() const { return x_min_m > x_max_m; }
};

using Polyline = std::vector<MapPoint>;
using Ring = std::vector<MapPoint>;  // closed implicitly: last point != first point

// A polygon: one outer ring and its holes, any orientation on input.
struct Polygon {
  Ring outer;
  std::vector<Ring> holes;

  Box bounds() const;
  double area_m2() const;
  bool contains(MapPoint p) const;
  MapPoint centroid() const;
};

Box bounds_of(const Polyline& line);
double length_m(const Polyline& line);
double signed_area_m2(const Ring& ring);
bool ring_contains(const Ring& ring, MapPoint p);
// Distance from p to the segment [a, b].
double segment_distance_m(MapPoint p, MapPoint a, MapPoint b);
// The point of the segment [a, b] nearest to p.
MapPoint nearest_on_segment(MapPoint p, MapPoint a, MapPoint b);
// The point of the polyline nearest to p; p itself for an empty line.
MapPoint nearest_on_polyline(const Polyline& line, MapPoint p);
bool segments_intersect(MapPoint a, MapPoint b, MapPoint c, MapPoint d);
// True when the polyline touches the polygon (crosses it or lies in it).
bool polyline_intersects(const Polyline& line, const Polygon& polygon);

// Where a ring crosses or touches itself: two of its edges (by the index of
// their first point, edge k runs from ring[k] to the next distinct vertex,
// the last back to ring[0]) that are not neighbours and meet. Repeated
// consecutive vertices are allowed and skipped.
struct RingCrossing {
  std::size_t edge_a = 0;
  std::size_t edge_b = 0;
  MapPoint near;  // a point of edge_a where they meet (its start for a touch)
};
// The first crossing found, nothing for a simple ring (a bow-tie crosses at
// its waist). Quadratic in the vertex count.
std::optional<RingCrossing> first_self_crossing(const Ring& ring);

}  // namespace cadereau::twin
