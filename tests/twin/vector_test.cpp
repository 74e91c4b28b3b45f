#include "cadereau/twin/error.h"
#include "cadereau/twin/vector.h"
#include "test_support.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace cadereau::twin;
using cadereau::testing::TempDir;
using cadereau::testing::read_text;
using cadereau::testing::write_text;

TEST_CASE("A GeoJSON in WGS84 is reprojected to Lambert-93, not refused", "[unit][vector]") {
  TempDir tmp;
  // RFC 7946 GeoJSON has no crs member: longitude, latitude on WGS84.
  write_text(tmp / "points.geojson", R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"id": "origin", "rank": 1, "weight": 2.5},
     "geometry": {"type": "Point", "coordinates": [3.0, 46.5]}},
    {"type": "Feature", "properties": {"id": "nimes"},
     "geometry": {"type": "Point", "coordinates": [4.3561, 43.8384]}}]})");
  const VectorLayer layer = read_vector(tmp / "points.geojson", Crs::lambert93());
  REQUIRE(layer.features.size() == 2);
  CHECK(layer.source_crs.is_geographic());
  const Feature& origin = layer.features[0];
  CHECK(origin.kind == GeometryKind::point);
  CHECK(origin.point.x_m == Approx(700000.0).margin(1e-3));
  CHECK(origin.point.y_m == Approx(6600000.0).margin(1e-3));
  CHECK(origin.text("id") == "origin");
  CHECK(origin.number("rank") == 1.0);
  CHECK(origin.number("weight") == 2.5);
  CHECK_FALSE(origin.number("id"));

  MapFrame frame(Crs::lambert93());
  const MapPoint expected = frame.to_map({4.3561, 43.8384});
  CHECK(distance_m(layer.features[1].point, expected) < 1e-3);
}

TEST_CASE("GeoPackage round trip in Lambert-93 keeps polygons with holes and attributes", "[unit][vector]") {
  TempDir tmp;
  Feature f;
  f.fid = 1;
  f.kind = GeometryKind::polygon;
  Polygon p;
  p.outer = {{810000, 6302000}, {810100, 6302000}, {810100, 6302100}, {810000, 6302100}};
  p.holes.push_back({{810040, 6302040}, {810060, 6302040}, {810060, 6302060}, {810040, 6302060}});
  f.polygons.push_back(p);
  f.attributes["id"] = std::string("block-1");
  f.attributes["height_m"] = 12.5;
  f.attributes["floors"] = std::int64_t{4};
  write_vector({f}, Crs::lambert93(), tmp / "blocks.gpkg", "blocks");

  const VectorLayer back = read_vector(tmp / "blocks.gpkg", Crs::lambert93());
  REQUIRE(back.features.size() == 1);
  CHECK(back.source_crs.epsg() == 2154);
  const Feature& g = back.features[0];
  REQUIRE(g.polygons.size() == 1);
  CHECK(g.polygons[0].outer.size() == 4);
  CHECK(g.polygons[0].holes.size() == 1);
  CHECK(g.polygons[0].area_m2() == Approx(10000.0 - 400.0));
  CHECK(g.number("height_m") == 12.5);
  CHECK(g.number("floors") == 4.0);
  CHECK(g.text("id") == "block-1");
}

TEST_CASE("GeoJSON is written as RFC 7946 whatever the CRS: lon/lat and no crs member and JSON booleans", "[unit][vector]") {
  TempDir tmp;
  Feature f;
  f.kind = GeometryKind::point;
  f.point = {810123.456, 6302987.654};
  f.attributes["id"] = std::string("gauge");
  f.attributes["needs_road_access"] = true;
  f.attributes["flooded"] = false;
  write_vector({f}, Crs::lambert93(), tmp / "g.geojson", "gauges");

  const auto json = nlohmann::json::parse(read_text(tmp / "g.geojson"));
  CHECK_FALSE(json.contains("crs"));
  const auto& feature = json["features"][0];
  const auto& lon_lat = feature["geometry"]["coordinates"];
  const GeoPoint expected = MapFrame(Crs::lambert93()).to_geo(f.point);
  CHECK(lon_lat[0].get<double>() == Approx(expected.lon_deg).margin(1e-8));  // near Nîmes: 4.3 E, 43.8 N
  CHECK(lon_lat[1].get<double>() == Approx(expected.lat_deg).margin(1e-8));
  CHECK(feature["properties"]["needs_road_access"].is_boolean());
  CHECK(feature["properties"]["needs_road_access"] == true);
  CHECK(feature["properties"]["flooded"] == false);

  // Read back into Lambert-93: the same place to the millimetre, booleans as booleans.
  const VectorLayer back = read_vector(tmp / "g.geojson", Crs::lambert93());
  CHECK(back.source_crs.is_geographic());
  CHECK(distance_m(back.features[0].point, f.point) < 1e-3);
  CHECK(std::get<bool>(back.features[0].attributes.at("needs_road_access")));
  CHECK(back.features[0].text("flooded") == "false");
  CHECK(back.features[0].number("needs_road_access") == 1.0);
}

TEST_CASE("Lines with several parts are written and read as multi-lines", "[unit][vector]") {
  TempDir tmp;
  Feature street;
  street.kind = GeometryKind::line;
  street.lines = {{{810000, 6302000}, {810100, 6302000}}, {{810300, 6302000}, {810400, 6302050}}};
  street.attributes["name"] = std::string("rue Racine");
  Feature lane;
  lane.kind = GeometryKind::line;
  lane.lines = {{{810000, 6302100}, {810100, 6302100}}};
  for (const char* file : {"streets.geojson", "streets.gpkg"}) {
    INFO(file);
    write_vector({street, lane}, Crs::lambert93(), tmp / file, "streets");
    const VectorLayer back = read_vector(tmp / file, Crs::lambert93());
    REQUIRE(back.features.size() == 2);
    REQUIRE(back.features[0].lines.size() == 2);
    CHECK(distance_m(back.features[0].lines[1][1], {810400, 6302050}) < 1e-3);
    CHECK(back.features[1].lines.size() == 1);
  }
  const auto json = nlohmann::json::parse(read_text(tmp / "streets.geojson"));
  CHECK(json["features"][0]["geometry"]["type"] == "MultiLineString");
}

TEST_CASE("Vector errors name the file and the feature", "[unit][vector]") {
  TempDir tmp;
  CHECK_THROWS_WITH(read_vector(tmp / "none.geojson", Crs::lambert93()), Catch::Contains("none.geojson"));
  write_text(tmp / "broken.geojson", R"({"type": "FeatureCollection", "features": [ {"type": )");
  CHECK_THROWS_WITH(read_vector(tmp / "broken.geojson", Crs::lambert93()), Catch::Contains("broken.geojson"));
  write_text(tmp / "nogeom.geojson", R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"id": "lost"}, "geometry": null}]})");
  CHECK_THROWS_WITH(read_vector(tmp / "nogeom.geojson", Crs::lambert93()),
                    Catch::Contains("nogeom.geojson") && Catch::Contains("id=lost") && Catch::Contains("no geometry"));
  CHECK_THROWS_WITH(write_vector({}, Crs::lambert93(), tmp / "x.shp", "x"), Catch::Contains("unknown vector format"));
}
