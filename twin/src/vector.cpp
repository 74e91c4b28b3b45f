#include "cadereau/twin/vector.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/utf8.h"
#include "gdal_init.h"

#include <cpl_conv.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace cadereau::twin {

namespace {

struct DatasetCloser {
  void operator()(GDALDataset* ds) const { GDALClose(GDALDataset::ToHandle(ds)); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Reads OGR geometry into map coordinates through `to_map` (nullptr: no reprojection).
struct GeometryReader {
  const CrsTransform* to_map = nullptr;

  MapPoint point(double x, double y) const {
    if (!to_map) return {x, y};
    const auto r = to_map->forward({x, y});
    return {r.x, r.y};
  }
  Ring ring(const OGRLinearRing* r) const {
    Ring out;
    const int n = r->getNumPoints();
    out.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) out.push_back(point(r->getX(i), r->getY(i)));
    if (out.size() > 1 && out.front() == out.back()) out.pop_back();
    return out;
  }
  Polygon polygon(const OGRPolygon* p) const {
    Polygon out;
    if (p->getExteriorRing()) out.outer = ring(p->getExteriorRing());
    for (int i = 0; i < p->getNumInteriorRings(); ++i) out.holes.push_back(ring(p->getInteriorRing(i)));
    return out;
  }
  Polyline line(const OGRLineString* l) const {
    Polyline out;
    for (int i = 0; i < l->getNumPoints(); ++i) out.push_back(point(l->getX(i), l->getY(i)));
    return out;
  }
};

void read_geometry(const OGRGeometry* g, const GeometryReader& reader, Feature& f, const std::filesystem::path& file) {
  switch (wkbFlatten(g->getGeometryType())) {
    case wkbPoint: {
      const auto* p = g->toPoint();
      f.kind = GeometryKind::point;
      f.point = reader.point(p->getX(), p->getY());
      return;
    }
    case wkbMultiPoint: {
      const auto* mp = g->toMultiPoint();
      if (mp->getNumGeometries() == 0) fail(f.locate(file), "empty multipoint");
      f.kind = GeometryKind::point;
      const auto* p = mp->getGeometryRef(0);
      f.point = reader.point(p->getX(), p->getY());
      return;
    }
    case wkbLineString:
      f.kind = GeometryKind::line;
      f.lines.push_back(reader.line(g->toLineString()));
      return;
    case wkbMultiLineString: {
      f.kind = GeometryKind::line;
      for (const auto* part : *g->toMultiLineString()) f.lines.push_back(reader.line(part));
      return;
    }
    case wkbPolygon:
      f.kind = GeometryKind::polygon;
      f.polygons.push_back(reader.polygon(g->toPolygon()));
      return;
    case wkbMultiPolygon:
      f.kind = GeometryKind::polygon;
      for (const auto* part : *g->toMultiPolygon()) f.polygons.push_back(reader.polygon(part));
      return;
    default:
      fail(f.locate(file), "unsupported geometry type {}", OGRGeometryTypeToName(g->getGeometryType()));
  }
}

}  // namespace

std::optional<std::string> Feature::text(const std::string& key) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&it->second)) return std::to_string(*i);
  if (const auto* b = std::get_if<bool>(&it->second)) return std::string(*b ? "true" : "false");
  return fmt::format("{}", std::get<double>(it->second));
}

std::optional<double> Feature::number(const std::string& key) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return std::nullopt;
  if (const auto* d = std::get_if<double>(&it->second)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*i);
  if (const auto* b = std::get_if<bool>(&it->second)) return *b ? 1.0 : 0.0;
  const std::string& s = std::get<std::string>(it->second);
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string Feature::locate(const std::filesystem::path& file) const {
  auto id = text("id");
  if (id) return fmt::format("{}: feature {} (id={})", file.string(), fid, *id);
  return fmt::format("{}: feature {}", file.string(), fid);
}

VectorLayer read_vector(const std::filesystem::path& path, const Crs& working) {
  detail::ensure_gdal();
  const std::string where = path.string();
  if (!std::filesystem::exists(path)) fail_as(ErrorCategory::not_found, where, "file not found");
  CPLErrorReset();
  DatasetPtr ds(GDALDataset::FromHandle(
      GDALOpenEx(where.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
  if (!ds) fail(where, "not a vector file OGR can read ({})", detail::gdal_last_error());
  if (ds->GetLayerCount() < 1) fail(where, "no layer");
  OGRLayer* layer = ds->GetLayer(0);

  VectorLayer out;
  const OGRSpatialReference* srs = layer->GetSpatialRef();
  if (srs && !srs->IsEmpty()) {
    char* wkt = nullptr;
    const char* options[] = {"FORMAT=WKT2_2019", nullptr};
    srs->exportToWkt(&wkt, options);
    out.source_crs = Crs::from_user_input(wkt ? wkt : "");
    CPLFree(wkt);
  } else if (lower(ds->GetDriverName()) == "geojson") {
    out.source_crs = Crs::wgs84();  // RFC 7946
  } else {
    fail(where, "layer '{}' has no coordinate reference system", layer->GetName());
  }

  std::optional<CrsTransform> transform;
  if (!working.empty() && !out.source_crs.equivalent_to(working)) transform.emplace(out.source_crs, working);
  GeometryReader reader{transform ? &*transform : nullptr};

  OGRFeatureDefn* defn = layer->GetLayerDefn();
  layer->ResetReading();
  for (auto& ogr_feature : *layer) {
    Feature f;
    f.fid = ogr_feature->GetFID();
    for (int i = 0; i < defn->GetFieldCount(); ++i) {
      if (!ogr_feature->IsFieldSetAndNotNull(i)) continue;
      const OGRFieldDefn* field = defn->GetFieldDefn(i);
      const std::string name = field->GetNameRef();
      switch (field->GetType()) {
        case OFTInteger:
        case OFTInteger64:
          if (field->GetSubType() == OFSTBoolean)
            f.attributes[name] = ogr_feature->GetFieldAsInteger(i) != 0;
          else
            f.attributes[name] = static_cast<std::int64_t>(ogr_feature->GetFieldAsInteger64(i));
          break;
        case OFTReal:
          f.attributes[name] = ogr_feature->GetFieldAsDouble(i);
          break;
        case OFTStringList: {
          std::string joined;
          char** list = ogr_feature->GetFieldAsStringList(i);
          for (int k = 0; list && list[k]; ++k) joined += (k ? "," : "") + std::string(list[k]);
          f.attributes[name] = joined;
          break;
        }
        default:
          f.attributes[name] = std::string(ogr_feature->GetFieldAsString(i));
      }
    }
    // Names end up in JSON, HDF5 and HTML: another encoding is refused here.
    for (const auto& [key, value] : f.attributes)
      if (const auto* text = std::get_if<std::string>(&value); text && first_invalid_utf8(*text))
        fail(f.locate(path), "attribute '{}' is not UTF-8 text (a Latin-1 file?): convert the layer to UTF-8 "
             "(ogr2ogr -lco ENCODING=UTF-8, or iconv)", key);
    const OGRGeometry* geometry = ogr_feature->GetGeometryRef();
    if (!geometry || geometry->IsEmpty()) fail(f.locate(path), "feature has no geometry");
    try {
      read_geometry(geometry, reader, f, path);
    } catch (const Error& e) {
      if (e.where().rfind(where, 0) == 0) throw;
      fail(f.locate(path), "{}", e.what());
    }
    out.features.push_back(std::move(f));
  }
  return out;
}

void write_vector(const std::vector<Feature>& features, const Crs& crs, const std::filesystem::path& path,
                  const std::string& layer_name) {
  detail::ensure_gdal();
  const std::string where = path.string();
  const std::string ext = lower(path.extension().string());
  const char* driver_name = ext == ".gpkg" ? "GPKG" : (ext == ".geojson" || ext == ".json") ? "GeoJSON" : nullptr;
  if (!driver_name) fail(where, "unknown vector format '{}' (use .geojson or .gpkg)", ext);
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name);
  if (!driver) fail(where, "GDAL has no {} driver", driver_name);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::error_code ec;
  std::filesystem::remove(path, ec);
  CPLErrorReset();
  DatasetPtr ds(driver->Create(where.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
  if (!ds) fail(where, "cannot create ({})", detail::gdal_last_error());

  const bool geojson = std::string(driver_name) == "GeoJSON";
  OGRSpatialReference srs;
  if (!crs.empty()) {
    srs.importFromWkt(crs.wkt().c_str());
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  }
  const GeometryKind kind = features.empty() ? GeometryKind::point : features.front().kind;
  const bool multi_lines = std::any_of(features.begin(), features.end(), [](const Feature& f) { return f.lines.size() > 1; });
  const OGRwkbGeometryType type = kind == GeometryKind::point ? wkbPoint
                                  : kind == GeometryKind::line ? (multi_lines ? wkbMultiLineString : wkbLineString)
                                                               : wkbMultiPolygon;
  // RFC 7946: GDAL reprojects to WGS84 lon/lat and leaves out the obsolete
  // `crs` member. Nine decimals of a degree keep a Lambert-93 round trip
  // under a millimetre.
  const char* geojson_options[] = {"RFC7946=YES", "COORDINATE_PRECISION=9", "WRITE_NAME=NO", nullptr};
  if (geojson && crs.empty()) fail(where, "GeoJSON needs the features' CRS to write them as longitude, latitude");
  OGRLayer* layer = ds->CreateLayer(layer_name.c_str(), crs.empty() ? nullptr : &srs, type,
                                    geojson ? const_cast<char**>(geojson_options) : nullptr);
  if (!layer) fail(where, "cannot create layer '{}' ({})", layer_name, detail::gdal_last_error());

  // Fields: the union of attribute names, in first-seen order, typed by first value.
  std::vector<std::pair<std::string, OGRFieldType>> fields;
  std::set<std::string> seen, booleans;
  for (const auto& f : features)
    for (const auto& [name, value] : f.attributes)
      if (seen.insert(name).second) {
        const OGRFieldType t = std::holds_alternative<std::int64_t>(value) ? OFTInteger64
                               : std::holds_alternative<double>(value)     ? OFTReal
                               : std::holds_alternative<bool>(value)       ? OFTInteger
                                                                           : OFTString;
        fields.emplace_back(name, t);
        if (std::holds_alternative<bool>(value)) booleans.insert(name);
      }
  for (const auto& [name, t] : fields) {
    OGRFieldDefn field(name.c_str(), t);
    if (booleans.count(name)) field.SetSubType(OFSTBoolean);
    if (layer->CreateField(&field) != OGRERR_NONE) fail(where, "cannot create field '{}'", name);
  }

  for (const auto& f : features) {
    OGRFeature feature(layer->GetLayerDefn());
    for (const auto& [name, value] : f.attributes) {
      const int i = feature.GetFieldIndex(name.c_str());
      if (const auto* v = std::get_if<std::int64_t>(&value))
        feature.SetField(i, static_cast<GIntBig>(*v));
      else if (const auto* d = std::get_if<double>(&value))
        feature.SetField(i, *d);
      else if (const auto* b = std::get_if<bool>(&value))
        feature.SetField(i, *b ? 1 : 0);
      else
        feature.SetField(i, std::get<std::string>(value).c_str());
    }
    auto ring_of = [](const Ring& r) {
      OGRLinearRing ring;
      for (const auto& p : r) ring.addPoint(p.x_m, p.y_m);
      if (!r.empty()) ring.addPoint(r.front().x_m, r.front().y_m);
      return ring;
    };
    if (f.kind == GeometryKind::point) {
      OGRPoint p(f.point.x_m, f.point.y_m);
      feature.SetGeometry(&p);
    } else if (f.kind == GeometryKind::line) {
      auto line_of = [](const Polyline& part) {
        OGRLineString l;
        for (const auto& p : part) l.addPoint(p.x_m, p.y_m);
        return l;
      };
      if (multi_lines) {
        OGRMultiLineString ml;
        for (const auto& part : f.lines) {
          OGRLineString l = line_of(part);
          ml.addGeometry(&l);
        }
        feature.SetGeometry(&ml);
      } else {
        OGRLineString l = line_of(f.lines.empty() ? Polyline{} : f.lines.front());
        feature.SetGeometry(&l);
      }
    } else {
      OGRMultiPolygon mp;
      for (const auto& poly : f.polygons) {
        OGRPolygon p;
        OGRLinearRing outer = ring_of(poly.outer);
        p.addRing(&outer);
        for (const auto& h : poly.holes) {
          OGRLinearRing hole = ring_of(h);
          p.addRing(&hole);
        }
        mp.addGeometry(&p);
      }
      feature.SetGeometry(&mp);
    }
    if (layer->CreateFeature(&feature) != OGRERR_NONE)
      fail(where, "cannot write feature {} ({})", f.fid, detail::gdal_last_error());
  }
}

}  // namespace cadereau::twin
