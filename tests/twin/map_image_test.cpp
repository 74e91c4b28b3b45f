#include "cadereau/twin/error.h"
#include "cadereau/twin/map_image.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <fstream>

using namespace cadereau;
using namespace cadereau::twin;

TEST_CASE("Map images paint rasters, roads and places where they are", "[unit][map]") {
  GridSpec grid{10, 10, 0.0, 100.0, 10.0, 10.0};
  Raster depth(grid, Crs::lambert93(), 0.0f, -9999.0);
  depth.at(2, 2) = 2.0f;  // a deep cell around (25, 75)
  MapImage img({0.0, 0.0, 100.0, 100.0}, 100);
  CHECK(img.height() == 100);
  const std::vector<ColourStop> ramp{{0.0, {200, 220, 255}}, {2.0, {0, 0, 128}}};
  img.paint_raster(depth, ramp, 0.1);
  CHECK(img.pixel(25, 25).b == 128);          // painted with the ramp's deep end
  CHECK(img.pixel(75, 75).r == 255);          // below min_value: background
  img.line({{0.0, 50.0}, {100.0, 50.0}}, {255, 0, 0}, 3.0);
  CHECK(img.pixel(50, 50).r == 255);
  CHECK(img.pixel(50, 50).g == 0);
  CHECK(img.pixel(50, 40).g == 255);          // away from the line
  img.disc({80.0, 20.0}, 4.0, {0, 200, 0});
  CHECK(img.pixel(80, 80).g == 200);
  CHECK(ramp_colour(ramp, 1.0).b == 192);

  cadereau::testing::TempDir tmp;
  img.write_png(tmp / "map.png");
  std::ifstream in(tmp / "map.png", std::ios::binary);
  char signature[4] = {};
  in.read(signature, 4);
  CHECK(std::string(signature + 1, 3) == "PNG");
  CHECK_FALSE(std::filesystem::exists(tmp / "map.png.aux.xml"));
  CHECK_THROWS_AS(MapImage({0.0, 0.0, 0.0, 0.0}, 100), Error);
  CHECK_THROWS_AS(MapImage({0.0, 0.0, 10.0, 10.0}, 100000), Error);
  CHECK_THROWS_WITH(img.write_png("/proc/no/such/dir/map.png"), Catch::Contains("/proc/no/such/dir/map.png"));
}
