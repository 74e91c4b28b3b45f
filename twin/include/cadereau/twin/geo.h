#pragma once
// Coordinate reference systems. A territory has one projected, metric working
// CRS (Lambert-93, EPSG:2154, in France); every geometry in twin and sim is a
// MapPoint in it. Geographic positions are GeoPoint, longitude first. The only
// place that reprojects is CrsTransform (PROJ underneath).

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::twin {

// A position in the territory's projected working CRS, metres.
struct MapPoint {
  double x_m = 0.0;
  double y_m = 0.0;
  friend bool operator==(const MapPoint&, const MapPoint&) = default;
};

// A geographic position, WGS84 (OGC:CRS84 axis order: longitude, latitude).
struct GeoPoint {
  double lon_deg = 0.0;
  double lat_deg = 0.0;
};

double distance_m(MapPoint a, MapPoint b);

// A coordinate reference system, held as its WKT. Cheap to copy.
class Crs {
 public:
  Crs() = default;

  // Accepts "EPSG:2154", "OGC:CRS84", a WKT string or a PROJ string.
  // Throws Error when PROJ does not recognise it.
  static Crs from_user_input(const std::string& text);
  static Crs from_epsg(int code);
  static Crs lambert93() { return from_epsg(2154); }
  static Crs wgs84() { return from_user_input("OGC:CRS84"); }

  bool empty() const { return wkt_.empty(); }
  const std::string& wkt() const { return wkt_; }
  const std::string& name() const { return name_; }
  // The EPSG code when the CRS is identified as one.
  std::optional<int> epsg() const { return epsg_; }
  bool is_geographic() const { return geographic_; }
  // Same datum, axes and projection (PROJ's equivalence test, ignoring axis order).
  bool equivalent_to(const Crs& other) const;
  // "EPSG:2154" when known, otherwise the CRS name.
  std::string label() const;

 private:
  std::string wkt_;
  std::string name_;
  std::optional<int> epsg_;
  bool geographic_ = false;
};

// Transforms coordinates from one CRS to another, axis order normalised for
// visualisation (east/longitude first). Not thread-safe: one per thread.
class CrsTransform {
 public:
  // Throws Error when PROJ finds no operation between the two.
  CrsTransform(const Crs& source, const Crs& target);
  ~CrsTransform();
  CrsTransform(CrsTransform&&) noexcept;
  CrsTransform& operator=(CrsTransform&&) noexcept;
  CrsTransform(const CrsTransform&) = delete;
  CrsTransform& operator=(const CrsTransform&) = delete;

  struct XY {
    double x = 0.0;
    double y = 0.0;
  };
  // Throws Error when the point cannot be transformed (outside the CRS's area).
  XY forward(XY p) const;
  XY inverse(XY p) const;
  void forward_in_place(std::vector<XY>& points) const;

  const Crs& source() const { return source_; }
  const Crs& target() const { return target_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Crs source_;
  Crs target_;
};

// The territory's working CRS and its link to WGS84.
class MapFrame {
 public:
  explicit MapFrame(Crs working);
  MapPoint to_map(GeoPoint p) const;
  GeoPoint to_geo(MapPoint p) const;
  const Crs& crs() const { return working_; }

 private:
  Crs working_;
  CrsTransform to_geo_;
};

}  // namespace cadereau::twin
