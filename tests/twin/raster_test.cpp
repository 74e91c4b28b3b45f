#include "cadereau/twin/error.h"
#include "cadereau/twin/raster.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>

using namespace cadereau::twin;
using cadereau::testing::TempDir;

namespace {

// A 20 x 15 grid of 5 m cells at Nîmes, values a plane so interpolation is checkable.
Raster plane_raster() {
  const GridSpec grid{20, 15, 810000.0, 6302000.0, 5.0, 5.0};
  Raster r(grid, Crs::lambert93(), 0.0f, -9999.0);
  for (int row = 0; row < grid.rows; ++row)
    for (int col = 0; col < grid.cols; ++col) {
      const MapPoint c = grid.cell_centre({col, row});
      r.at(col, row) = static_cast<float>(40.0 + 0.01 * (c.x_m - 810000.0) + 0.02 * (c.y_m - 6302000.0));
    }
  return r;
}

}  // namespace

TEST_CASE("Grid geometry: cell centres and lookups", "[unit][raster]") {
  const GridSpec grid{4, 3, 100.0, 200.0, 10.0, 10.0};
  CHECK(grid.y_min_m() == 170.0);
  CHECK(grid.cell_centre({0, 0}).x_m == 105.0);
  CHECK(grid.cell_centre({0, 0}).y_m == 195.0);
  CHECK(grid.cell_at({139.9, 170.1}) == CellIndex{3, 2});
  CHECK_FALSE(grid.cell_at({140.1, 180.0}));
  CHECK_FALSE(grid.cell_at({99.9, 180.0}));
}

TEST_CASE("Bilinear sampling reproduces a plane between cell centres", "[unit][raster]") {
  const Raster r = plane_raster();
  const MapPoint p{810033.3, 6301961.7};
  const double expected = 40.0 + 0.01 * 33.3 + 0.02 * (-38.3);
  REQUIRE(r.sample(p));
  CHECK(*r.sample(p) == Approx(expected).margin(1e-4));
  CHECK_FALSE(r.sample({809000.0, 6301961.7}));
}

TEST_CASE("GeoTIFF round trip keeps grid, CRS, nodata and values", "[unit][raster]") {
  TempDir tmp;
  Raster r = plane_raster();
  r.at(3, 4) = -9999.0f;
  write_geotiff(r, tmp / "plane.tif");
  const Raster back = read_raster(tmp / "plane.tif");
  CHECK(back.grid().same_as(r.grid()));
  CHECK(back.crs().epsg() == 2154);
  REQUIRE(back.nodata());
  CHECK(*back.nodata() == -9999.0);
  CHECK(back.is_nodata({3, 4}));
  CHECK(back.at(7, 9) == r.at(7, 9));
  CHECK(back.stats().valid_cells == r.grid().cell_count() - 1);
}

TEST_CASE("A GeoTIFF says what its band holds: description and unit and times", "[unit][raster]") {
  TempDir tmp;
  Raster r = plane_raster();
  r.set_band({"arrival time: when the water first reached 0.01 m deep, in seconds after the start of the run", "s",
              {{"ARRIVAL_DEPTH_M", "0.01"}, {"UNTIL_S", "7200"}}});
  write_geotiff(r, tmp / "arrival.tif");
  const Raster back = read_raster(tmp / "arrival.tif");
  CHECK(back.band().description == r.band().description);
  CHECK(back.band().unit == "s");
  CHECK(back.band().metadata.at("ARRIVAL_DEPTH_M") == "0.01");
  CHECK(back.band().metadata.at("UNTIL_S") == "7200");
  // In the file itself, not in a side-car a copy would lose.
  CHECK_FALSE(std::filesystem::exists(tmp / "arrival.tif.aux.xml"));
  // A converted pixel type keeps it too.
  write_geotiff(r, tmp / "arrival16.tif", {PixelType::int16, true});
  CHECK(read_raster(tmp / "arrival16.tif").band().unit == "s");
  // gdalinfo, GDAL's own reader, sees the same.
  if (std::system("command -v gdalinfo > /dev/null 2>&1") == 0) {
    const auto info = tmp / "info.txt";
    REQUIRE(std::system(("gdalinfo '" + (tmp / "arrival.tif").string() + "' > '" + info.string() + "'").c_str()) == 0);
    CHECK_THAT(cadereau::testing::read_text(info),
               Catch::Contains("Description = arrival time") && Catch::Contains("Unit Type: s") &&
                   Catch::Contains("ARRIVAL_DEPTH_M=0.01"));
  }
}

TEST_CASE("Byte GeoTIFF and ESRI ASCII grid round trips", "[unit][raster]") {
  TempDir tmp;
  Raster classes(GridSpec{6, 5, 810000.0, 6302000.0, 10.0, 10.0}, Crs::lambert93(), 3.0f);
  classes.at(2, 2) = 7.0f;
  write_geotiff(classes, tmp / "classes.tif", {PixelType::byte, true});
  CHECK(read_raster(tmp / "classes.tif").at(2, 2) == 7.0f);

  const Raster r = plane_raster();
  write_ascii_grid(r, tmp / "plane.asc");
  const Raster back = read_raster(tmp / "plane.asc");
  CHECK(back.grid().same_as(r.grid(), 1e-6));
  CHECK(back.crs().equivalent_to(Crs::lambert93()));
  CHECK(back.at(11, 6) == Approx(r.at(11, 6)).margin(1e-4));
}

TEST_CASE("Warping a UTM raster onto a Lambert-93 grid samples the right place", "[unit][raster]") {
  // A plane in UTM 31N coordinates, warped bilinearly: each target cell must
  // hold the plane's value at its own centre transformed to UTM.
  const Crs utm = Crs::from_epsg(32631);
  CrsTransform l93_to_utm(Crs::lambert93(), utm);
  const auto corner = l93_to_utm.forward({809800.0, 6302200.0});
  const GridSpec src_grid{120, 120, std::floor(corner.x) - 100.0, std::floor(corner.y) + 100.0, 5.0, 5.0};
  Raster src(src_grid, utm, 0.0f, -9999.0);
  auto plane = [&](double x, double y) { return 10.0 + 0.05 * (x - src_grid.x_min_m) - 0.03 * (src_grid.y_max_m - y); };
  for (int row = 0; row < src_grid.rows; ++row)
    for (int col = 0; col < src_grid.cols; ++col) {
      const MapPoint c = src_grid.cell_centre({col, row});
      src.at(col, row) = static_cast<float>(plane(c.x_m, c.y_m));
    }
  const GridSpec target{30, 30, 809850.0, 6302150.0, 10.0, 10.0};
  const Raster warped = warp_to_grid(src, target, Crs::lambert93(), Resampling::bilinear);
  CHECK(warped.crs().epsg() == 2154);
  double worst = 0.0;
  for (int row = 0; row < target.rows; ++row)
    for (int col = 0; col < target.cols; ++col) {
      const MapPoint c = target.cell_centre({col, row});
      const auto u = l93_to_utm.forward({c.x_m, c.y_m});
      REQUIRE_FALSE(warped.is_nodata({col, row}));
      worst = std::max(worst, std::abs(warped.at(col, row) - plane(u.x, u.y)));
    }
  // Bilinear on a plane is exact up to float rounding of ~10-50 m values.
  CHECK(worst < 1e-3);
}

TEST_CASE("Raster errors say which file and what", "[unit][raster]") {
  TempDir tmp;
  CHECK_THROWS_WITH(read_raster(tmp / "absent.tif"), Catch::Contains("absent.tif") && Catch::Contains("not found"));

  cadereau::testing::write_text(tmp / "broken.tif", "II*\0 this is not a tiff");
  CHECK_THROWS_WITH(read_raster(tmp / "broken.tif"), Catch::Contains("broken.tif"));

  Raster no_crs(GridSpec{4, 4, 0.0, 40.0, 10.0, 10.0}, Crs{}, 1.0f);
  write_geotiff(no_crs, tmp / "nocrs.tif");
  const Raster back = read_raster(tmp / "nocrs.tif");
  CHECK(back.crs().empty());
  CHECK_THROWS_WITH(require_crs(back, tmp / "nocrs.tif"),
                    Catch::Contains("nocrs.tif") && Catch::Contains("no coordinate reference system"));

  Raster rect(GridSpec{4, 4, 0.0, 40.0, 10.0, 5.0}, Crs::lambert93(), 1.0f);
  CHECK_THROWS_WITH(write_ascii_grid(rect, tmp / "rect.asc"), Catch::Contains("square cells"));
}
