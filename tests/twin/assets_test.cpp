#include "cadereau/twin/assets.h"
#include "cadereau/twin/error.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using namespace cadereau::twin;
using cadereau::testing::TempDir;
using cadereau::testing::write_text;

namespace {

Asset asset(std::string id, AssetType type, std::vector<std::string> deps = {}) {
  Asset a = asset_of_type(std::move(id), type, {810000.0, 6302000.0});
  a.depends_on = std::move(deps);
  return a;
}

}  // namespace

TEST_CASE("Asset types have names, thresholds and access needs", "[unit][assets]") {
  for (AssetType t : all_asset_types()) {
    CHECK(asset_type_from_string(to_string(t)) == t);
    CHECK(default_flood_threshold_m(t) > 0.0);
  }
  CHECK(default_needs_road_access(AssetType::hospital));
  CHECK_FALSE(default_needs_road_access(AssetType::substation));
  CHECK(default_flood_threshold_m(AssetType::underpass) < default_flood_threshold_m(AssetType::hospital));
  CHECK_FALSE(asset_type_from_string("castle"));
}

TEST_CASE("Assets survive a GeoJSON round trip with their dependencies", "[unit][assets]") {
  TempDir tmp;
  std::vector<Asset> assets{asset("sub-1", AssetType::substation), asset("tel-1", AssetType::telecom_node, {"sub-1"}),
                            asset("chu", AssetType::hospital, {"sub-1", "tel-1"})};
  assets[2].capacity = 1200;
  write_vector(to_features(assets), Crs::lambert93(), tmp / "assets.geojson", "assets");
  const auto path = tmp / "assets.geojson";
  const auto back = assets_from(read_vector(path, Crs::lambert93()), path);
  REQUIRE(back.size() == 3);
  CHECK(back[2].id == "chu");
  CHECK(back[2].type == AssetType::hospital);
  CHECK(back[2].depends_on == std::vector<std::string>{"sub-1", "tel-1"});
  CHECK(back[2].needs_road_access);
  CHECK(back[2].capacity == 1200);
  CHECK(back[0].depends_on.empty());
  CHECK_NOTHROW(validate_assets(back, path));
}

TEST_CASE("Bad asset graphs are refused with the asset named", "[unit][assets]") {
  const std::filesystem::path file = "assets.geojson";
  CHECK_THROWS_WITH(validate_assets({asset("school-3", AssetType::school, {"sub-9"})}, file),
                    Catch::Contains("assets.geojson") && Catch::Contains("school-3") &&
                        Catch::Contains("unknown asset 'sub-9'"));
  CHECK_THROWS_WITH(
      validate_assets({asset("a", AssetType::substation, {"b"}), asset("b", AssetType::telecom_node, {"a"})}, file),
      Catch::Contains("cycle") && Catch::Contains("a -> b -> a"));
  CHECK_THROWS_WITH(validate_assets({asset("x", AssetType::school), asset("x", AssetType::school)}, file),
                    Catch::Contains("'x' appears twice"));
}

TEST_CASE("Bad asset attributes are refused with the feature named", "[unit][assets]") {
  TempDir tmp;
  auto load = [&](const std::string& properties) {
    const auto path = tmp / "a.geojson";
    write_text(path, R"({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": )" + properties +
                         R"(, "geometry": {"type": "Point", "coordinates": [4.36, 43.84]}}]})");
    return assets_from(read_vector(path, Crs::lambert93()), path);
  };
  CHECK_THROWS_WITH(load(R"({"id": "q", "type": "castle"})"), Catch::Contains("id=q") && Catch::Contains("castle"));
  CHECK_THROWS_WITH(load(R"({"type": "school"})"), Catch::Contains("'id' is missing"));
  CHECK_THROWS_WITH(load(R"({"id": "s", "type": "school", "flood_threshold_m": "deep"})"),
                    Catch::Contains("flood_threshold_m"));
  CHECK_THROWS_WITH(load(R"({"id": "t", "type": "traffic_signal"})"), Catch::Contains("tls_id"));
  CHECK_THROWS_WITH(load(R"({"id": "h", "type": "hospital", "backup_h": -2})"),
                    Catch::Contains("id=h") && Catch::Contains("backup_h '-2'"));
  const auto ok = load(R"({"id": "s", "type": "school"})");
  CHECK(ok[0].flood_threshold_m == default_flood_threshold_m(AssetType::school));
  CHECK(load(R"({"id": "h", "type": "hospital"})")[0].backup_h == default_backup_h(AssetType::hospital));
  CHECK(load(R"({"id": "h", "type": "hospital", "backup_h": 12})")[0].backup_h == 12.0);
  CHECK(ok[0].location.x_m == Approx(810000).margin(2000));
}

TEST_CASE("Buildings need a plausible height", "[unit][assets]") {
  TempDir tmp;
  const auto path = tmp / "b.geojson";
  write_text(path, R"({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "b1"},
    "geometry": {"type": "Polygon", "coordinates": [[[4.36, 43.84], [4.3601, 43.84], [4.3601, 43.8401], [4.36, 43.84]]]}}]})");
  CHECK_THROWS_WITH(buildings_from(read_vector(path, Crs::lambert93()), path),
                    Catch::Contains("id=b1") && Catch::Contains("height_m"));
}
