#pragma once
// Vector layers through OGR (GeoJSON, GeoPackage, anything OGR opens), always
// reprojected to the territory's working CRS on read. A layer without a CRS
// is taken as what the format says (GeoJSON: OGC:CRS84). GeoJSON is written
// as RFC 7946 says (longitude, latitude on WGS84, no `crs` member) whatever
// the features' CRS; GeoPackage keeps it.

#include "cadereau/twin/geo.h"
#include "cadereau/twin/geometry.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cadereau::twin {

enum class GeometryKind { point, line, polygon };

// An attribute value as read: integer, real, text or boolean (a JSON
// true/false, a GeoPackage boolean).
using AttributeValue = std::variant<std::int64_t, double, std::string, bool>;

struct Feature {
  std::int64_t fid = 0;
  GeometryKind kind = GeometryKind::point;
  MapPoint point;                 // kind == point
  std::vector<Polyline> lines;    // kind == line: its parts (one for a LineString)
  std::vector<Polygon> polygons;  // kind == polygon (a multipolygon)
  std::map<std::string, AttributeValue> attributes;

  bool has(const std::string& key) const { return attributes.count(key) != 0; }
  // Any value as text: booleans as "true"/"false".
  std::optional<std::string> text(const std::string& key) const;
  // Numbers, text that is a whole number, booleans as 1/0.
  std::optional<double> number(const std::string& key) const;
  // Where a message about this feature should point: "FILE: feature 12 (id=school-3)".
  std::string locate(const std::filesystem::path& file) const;
};

struct VectorLayer {
  std::vector<Feature> features;
  Crs source_crs;  // what the file declared (or the format's default)
};

// Reads the first layer of a vector file and reprojects it to `working`.
// Throws Error naming the file when it is missing, unreadable or has a geometry
// that cannot be transformed.
VectorLayer read_vector(const std::filesystem::path& path, const Crs& working);

// Writes features (in `crs`) as a GeoJSON (RFC 7946: reprojected to lon/lat)
// or GeoPackage (in `crs`) file, chosen by extension. A line layer with any
// multi-part feature is written as multi-lines. Throws Error naming the file.
void write_vector(const std::vector<Feature>& features, const Crs& crs, const std::filesystem::path& path,
                  const std::string& layer_name);

}  // namespace cadereau::twin
