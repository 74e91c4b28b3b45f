#include "cadereau/twin/error.h"
#include "cadereau/twin/territory.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using namespace cadereau::twin;
using cadereau::testing::TempDir;
using cadereau::testing::write_text;

namespace {

// A 20 x 20 DEM of 10 m cells sloping south, with two assets.
void write_small_territory(const std::filesystem::path& dir, const Crs& dem_crs = Crs::lambert93()) {
  const GridSpec grid{20, 20, 810000.0, 6302200.0, 10.0, 10.0};
  Raster dem(grid, dem_crs, 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) dem.at(c, r) = static_cast<float>(60.0 - 0.5 * r);
  write_geotiff(dem, dir / "dem.tif");
  Raster manning(grid, Crs::lambert93(), 0.05f);
  write_geotiff(manning, dir / "manning.tif");
  Asset sub;
  sub.id = "sub-1";
  sub.type = AssetType::substation;
  sub.location = {810050.0, 6302150.0};
  Asset school;
  school.id = "school-1";
  school.type = AssetType::school;
  school.location = {810150.0, 6302050.0};
  school.depends_on = {"sub-1"};
  write_vector(to_features(std::vector<Asset>{sub, school}), Crs::lambert93(), dir / "assets.geojson", "assets");
  write_text(dir / "territory.yaml",
             "name: Small\n"
             "crs: EPSG:2154\n"
             "dem: dem.tif\n"
             "manning: manning.tif\n"
             "assets: assets.geojson\n");
}

}  // namespace

TEST_CASE("A small territory loads and describes itself", "[unit][territory]") {
  TempDir tmp;
  write_small_territory(tmp.path());
  const Territory t = Territory::load(tmp.path());
  CHECK(t.manifest.name == "Small");
  CHECK(t.crs.epsg() == 2154);
  CHECK(t.grid().cols == 20);
  REQUIRE(t.manning);
  CHECK(t.manning->grid().same_as(t.grid()));
  REQUIRE(t.assets.size() == 2);
  CHECK(t.find_asset("school-1")->depends_on == std::vector<std::string>{"sub-1"});
  const std::string text = describe(t);
  CHECK_THAT(text, Catch::Contains("EPSG:2154") && Catch::Contains("20 x 20 cells"));
  CHECK_THAT(text, Catch::Contains("Assets     2"));
}

TEST_CASE("Manifest round trip", "[unit][territory]") {
  TempDir tmp;
  TerritoryManifest m;
  m.name = "Nîmes (demo)";
  m.crs = "EPSG:2154";
  m.vertical_datum = "NGF-IGN69";
  m.extent = Box{807000, 6299000, 813000, 6305000};
  m.dem = tmp / "dem.tif";
  m.network = tmp / "network.net.xml";
  m.demand = {tmp / "demand.rou.xml"};
  m.landcover_classes[1] = {"garrigue", 0.07};
  write_manifest(m, tmp.path());
  const TerritoryManifest back = read_manifest(tmp.path());
  CHECK(back.name == m.name);
  CHECK(back.vertical_datum == "NGF-IGN69");
  CHECK(back.dem == m.dem);
  CHECK(back.extent->x_max_m == 813000);
  CHECK(back.network == m.network);
  CHECK(back.demand == m.demand);
  CHECK(back.landcover_classes.at(1).manning == 0.07);
}

TEST_CASE("Territory errors say which file, which line and what", "[unit][territory]") {
  TempDir tmp;
  CHECK_THROWS_WITH(Territory::load(tmp / "nowhere"), Catch::Contains("nowhere") && Catch::Contains("not found"));
  CHECK_THROWS_WITH(Territory::load(tmp.path()), Catch::Contains("territory.yaml") && Catch::Contains("not found"));

  write_small_territory(tmp.path());
  write_text(tmp / "territory.yaml", "name: x\ncrs: EPSG:2154\ndem: dem.tif\nbuidlings: b.geojson\n");
  CHECK_THROWS_WITH(Territory::load(tmp.path()), Catch::Contains("territory.yaml:4") && Catch::Contains("buidlings"));

  write_text(tmp / "territory.yaml", "name: x\ncrs: EPSG:2154\ndem: [unclosed\n");
  CHECK_THROWS_WITH(Territory::load(tmp.path()), Catch::Contains("territory.yaml:") && Catch::Contains("YAML"));

  write_text(tmp / "territory.yaml", "name: x\ncrs: EPSG:4326\ndem: dem.tif\n");
  CHECK_THROWS_WITH(Territory::load(tmp.path()), Catch::Contains("geographic"));

  write_text(tmp / "territory.yaml", "name: x\ncrs: EPSG:2154\ndem: missing.tif\n");
  CHECK_THROWS_WITH(Territory::load(tmp.path()), Catch::Contains("missing.tif") && Catch::Contains("not found"));

  write_text(tmp / "territory.yaml", "name: x\ncrs: EPSG:2154\ndem: dem.tif\nextent: [1, 2, 0, 3]\n");
  CHECK_THROWS_WITH(Territory::load(tmp.path()), Catch::Contains("territory.yaml:4") && Catch::Contains("extent"));
}

TEST_CASE("A DEM without CRS is refused, a DEM in another CRS is reprojected", "[unit][territory]") {
  TempDir tmp;
  write_small_territory(tmp.path(), Crs{});
  CHECK_THROWS_WITH(Territory::load(tmp.path()),
                    Catch::Contains("dem.tif") && Catch::Contains("no coordinate reference system"));

  // The same DEM stored in UTM 31N comes back in Lambert-93 around the same place.
  TempDir utm_dir;
  write_small_territory(utm_dir.path());
  const Crs utm = Crs::from_epsg(32631);
  CrsTransform to_utm(Crs::lambert93(), utm);
  const auto corner = to_utm.forward({810000.0, 6302200.0});
  Raster dem(GridSpec{20, 20, corner.x, corner.y, 10.0, 10.0}, utm, 50.0f);
  write_geotiff(dem, utm_dir / "dem.tif");
  const Territory t = Territory::load(utm_dir.path());
  CHECK(t.dem.crs().epsg() == 2154);
  CHECK(t.grid().x_min_m == Approx(810000.0).margin(30.0));
  CHECK(t.dem.stats().max == Approx(50.0).margin(1e-3));
}

TEST_CASE("An asset depending on an unknown asset stops the load", "[unit][territory]") {
  TempDir tmp;
  write_small_territory(tmp.path());
  write_text(tmp / "assets.geojson", R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"id": "school-1", "type": "school", "depends_on": "sub-9"},
     "geometry": {"type": "Point", "coordinates": [4.36, 43.84]}}]})");
  CHECK_THROWS_WITH(Territory::load(tmp.path()),
                    Catch::Contains("assets.geojson") && Catch::Contains("school-1") && Catch::Contains("sub-9"));
}

TEST_CASE("The demo territory loads in Lambert-93", "[integration][territory]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest to use the generated demo territory");
    return;
  }
  const Territory t = Territory::load(*dir);
  CHECK(t.crs.epsg() == 2154);
  CHECK(t.dem.crs().epsg() == 2154);
  const Box e = t.grid().extent();
  CHECK(e.x_min_m >= 800000.0);
  CHECK(e.x_max_m <= 820000.0);
  CHECK(e.y_min_m >= 6295000.0);
  CHECK(e.y_max_m <= 6310000.0);
  REQUIRE(t.network);
  CHECK(t.network->edges().size() > 1000);
  CHECK_FALSE(t.assets.empty());
  CHECK_FALSE(t.buildings.empty());
}
