#include "cadereau/twin/geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cadereau::twin {

double distance_m(MapPoint a, MapPoint b) { return std::hypot(a.x_m - b.x_m, a.y_m - b.y_m); }

void Box::expand(MapPoint p) {
  x_min_m = std::min(x_min_m, p.x_m);
  y_min_m = std::min(y_min_m, p.y_m);
  x_max_m = std::max(x_max_m, p.x_m);
  y_max_m = std::max(y_max_m, p.y_m);
}

Box Box::empty_box() {
  constexpr double inf = std::numeric_limits<double>::infinity();
  return {inf, inf, -inf, -inf};
}

Box bounds_of(const Polyline& line) {
  Box box = Box::empty_box();
  for (const auto& p : line) box.expand(p);
  return box;
}

double length_m(const Polyline& line) {
  double total = 0.0;
  for (std::size_t i = 1; i < line.size(); ++i) total += distance_m(line[i - 1], line[i]);
  return total;
}

double signed_area_m2(const Ring& ring) {
  // Shoelace around the first vertex to keep precision at Lambert-93 magnitudes.
  if (ring.size() < 3) return 0.0;
  const MapPoint o = ring.front();
  double twice = 0.0;
  for (std::size_t i = 0; i < ring.size(); ++i) {
    const MapPoint& a = ring[i];
    const MapPoint& b = ring[(i + 1) % ring.size()];
    twice += (a.x_m - o.x_m) * (b.y_m - o.y_m) - (b.x_m - o.x_m) * (a.y_m - o.y_m);
  }
  return 0.5 * twice;
}

bool ring_contains(const Ring& ring, MapPoint p) {
  bool inside = false;
  const std::size_t n = ring.size();
  for (std::size_t i = 0, j = n - 1; i < n; j = i++) {
    const MapPoint& a = ring[i];
    const MapPoint& b = ring[j];
    if ((a.y_m > p.y_m) != (b.y_m > p.y_m)) {
      const double x_cross = a.x_m + (p.y_m - a.y_m) * (b.x_m - a.x_m) / (b.y_m - a.y_m);
      if (p.x_m < x_cross) inside = !inside;
    }
  }
  return inside;
}

Box Polygon::bounds() const { return bounds_of(outer); }

double Polygon::area_m2() const {
  double area = std::abs(signed_area_m2(outer));
  for (const auto& hole : holes) area -= std::abs(signed_area_m2(hole));
  return area;
}

bool Polygon::contains(MapPoint p) const {
  if (!ring_contains(outer, p)) return false;
  for (const auto& hole : holes)
    if (ring_contains(hole, p)) return false;
  return true;
}

MapPoint Polygon::centroid() const {
  if (outer.empty()) return {};
  const MapPoint o = outer.front();
  double cx = 0.0, cy = 0.0, twice = 0.0;
  for (std::size_t i = 0; i < outer.size(); ++i) {
    const double ax = outer[i].x_m - o.x_m, ay = outer[i].y_m - o.y_m;
    const MapPoint& b = outer[(i + 1) % outer.size()];
    const double bx = b.x_m - o.x_m, by = b.y_m - o.y_m;
    const double cross = ax * by - bx * ay;
    twice += cross;
    cx += (ax + bx) * cross;
    cy += (ay + by) * cross;
  }
  if (std::abs(twice) < 1e-12) return o;
  return {o.x_m + cx / (3.0 * twice), o.y_m + cy / (3.0 * twice)};
}

MapPoint nearest_on_segment(MapPoint p, MapPoint a, MapPoint b) {
  const double dx = b.x_m - a.x_m, dy = b.y_m - a.y_m;
  const double len2 = dx * dx + dy * dy;
  double t = 0.0;
  if (len2 > 0.0) t = std::clamp(((p.x_m - a.x_m) * dx + (p.y_m - a.y_m) * dy) / len2, 0.0, 1.0);
  return {a.x_m + t * dx, a.y_m + t * dy};
}

double segment_distance_m(MapPoint p, MapPoint a, MapPoint b) {
  const MapPoint q = nearest_on_segment(p, a, b);
  return std::hypot(p.x_m - q.x_m, p.y_m - q.y_m);
}

MapPoint nearest_on_polyline(const Polyline& line, MapPoint p) {
  if (line.empty()) return p;
  MapPoint best = line.front();
  double best_d = std::hypot(p.x_m - best.x_m, p.y_m - best.y_m);
  for (std::size_t i = 1; i < line.size(); ++i) {
    const MapPoint q = nearest_on_segment(p, line[i - 1], line[i]);
    const double d = std::hypot(p.x_m - q.x_m, p.y_m - q.y_m);
    if (d < best_d) best = q, best_d = d;
  }
  return best;
}

namespace {
double orient(MapPoint a, MapPoint b, MapPoint c) {
  return (b.x_m - a.x_m) * (c.y_m - a.y_m) - (b.y_m - a.y_m) * (c.x_m - a.x_m);
}
bool on_segment(MapPoint a, MapPoint b, MapPoint p) {
  return std::min(a.x_m, b.x_m) <= p.x_m && p.x_m <= std::max(a.x_m, b.x_m) && std::min(a.y_m, b.y_m) <= p.y_m &&
         p.y_m <= std::max(a.y_m, b.y_m);
}
}  // namespace

bool segments_intersect(MapPoint a, MapPoint b, MapPoint c, MapPoint d) {
  const double d1 = orient(c, d, a), d2 = orient(c, d, b), d3 = orient(a, b, c), d4 = orient(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  if (d1 == 0 && on_segment(c, d, a)) return true;
  if (d2 == 0 && on_segment(c, d, b)) return true;
  if (d3 == 0 && on_segment(a, b, c)) return true;
  if (d4 == 0 && on_segment(a, b, d)) return true;
  return false;
}

bool polyline_intersects(const Polyline& line, const Polygon& polygon) {
  if (line.empty()) return false;
  if (polygon.contains(line.front())) return true;
  auto crosses_ring = [&](const Ring& ring) {
    for (std::size_t i = 1; i < line.size(); ++i)
      for (std::size_t k = 0; k < ring.size(); ++k)
        if (segments_intersect(line[i - 1], line[i], ring[k], ring[(k + 1) % ring.size()])) return true;
    return false;
  };
  if (crosses_ring(polygon.outer)) return true;
  for (const auto& hole : polygon.holes)
    if (crosses_ring(hole)) return true;
  return false;
}

std::optional<RingCrossing> first_self_crossing(const Ring& input) {
  // Repeated consecutive vertices are allowed (simple features permit them):
  // they are dropped, keeping each vertex's index in the input for messages.
  std::vector<std::size_t> index;
  for (std::size_t k = 0; k < input.size(); ++k)
    if (index.empty() || !(input[k] == input[index.back()])) index.push_back(k);
  while (index.size() > 1 && input[index.back()] == input[index.front()]) index.pop_back();
  const std::size_t n = index.size();
  if (n < 3) return std::nullopt;
  auto at = [&](std::size_t k) { return input[index[k % n]]; };
  for (std::size_t a = 0; a < n; ++a) {
    // Edges a and b share no vertex unless they are neighbours (b = a + 1, or
    // a = 0 and b = n - 1), which meet at their common vertex by construction.
    for (std::size_t b = a + 2; b < n; ++b) {
      if (a == 0 && b == n - 1) continue;
      if (!segments_intersect(at(a), at(a + 1), at(b), at(b + 1))) continue;
      // Where they meet, roughly: the intersection of the two lines, or the
      // start of edge a when they are parallel (overlapping).
      const MapPoint p = at(a), q = at(a + 1), r = at(b), s = at(b + 1);
      const double den = (q.x_m - p.x_m) * (s.y_m - r.y_m) - (q.y_m - p.y_m) * (s.x_m - r.x_m);
      MapPoint near = p;
      if (den != 0.0) {
        const double t = ((r.x_m - p.x_m) * (s.y_m - r.y_m) - (r.y_m - p.y_m) * (s.x_m - r.x_m)) / den;
        near = {p.x_m + t * (q.x_m - p.x_m), p.y_m + t * (q.y_m - p.y_m)};
      }
      return RingCrossing{index[a], index[b], near};
    }
  }
  return std::nullopt;
}

}  // namespace cadereau::twin
