// Edge cells and spatial queries on a hand-written network in Lambert-93
// magnitudes (netOffset -810000,-6302000), a 10 m grid, and buildings and
// assets built in code. Every expected set is worked out by hand below.

#include "cadereau/twin/road_network.h"
#include "cadereau/twin/spatial_index.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

using cadereau::testing::TempDir;
using cadereau::testing::write_text;
using namespace cadereau::twin;

namespace {

constexpr double kTolM = 0.001;  // 1 mm
constexpr double kX0 = 810000.0;
constexpr double kY0 = 6302000.0;

// Map point from local metres (SUMO coordinates of the net below).
MapPoint at(double x_m, double y_m) { return {kX0 + x_m, kY0 + y_m}; }

// Edge 0 "h": horizontal, y 25, x 5..45.
// Edge 1 "v": vertical, x 105, y -50..100 (leaves the grid to the south).
// Edge 2 "d": diagonal y = x - 123, x 123..203 (leaves the grid to the east).
// Edge 3 "w": two lanes at y 55 and y 65, x 5..15; its centre line is y 60.
constexpr const char* kNet = R"(<?xml version="1.0" encoding="UTF-8"?>
<net version="1.9">
    <location netOffset="-810000.00,-6302000.00" convBoundary="0.00,-50.00,203.00,100.00" origBoundary="810000,6301950,810203,6302100" projParameter="!"/>
    <edge id="h" from="a" to="b">
        <lane id="h_0" index="0" speed="13.89" length="40.00" shape="5.00,25.00 45.00,25.00"/>
    </edge>
    <edge id="v" from="c" to="d">
        <lane id="v_0" index="0" speed="13.89" length="150.00" shape="105.00,-50.00 105.00,100.00"/>
    </edge>
    <edge id="d" from="e" to="f">
        <lane id="d_0" index="0" speed="13.89" length="113.14" shape="123.00,0.00 203.00,80.00"/>
    </edge>
    <edge id="w" from="g" to="h">
        <lane id="w_0" index="0" speed="8.33" length="10.00" shape="5.00,55.00 15.00,55.00"/>
        <lane id="w_1" index="1" speed="8.33" length="10.00" shape="5.00,65.00 15.00,65.00"/>
    </edge>
</net>
)";

RoadNetwork load_net(const TempDir& dir) {
  write_text(dir / "index.net.xml", kNet);
  return RoadNetwork::load(dir / "index.net.xml");
}

// 20 x 10 cells of 10 m, north-west corner at local (0, 100): row r covers
// local y in (90 - 10 r, 100 - 10 r], column c covers x in [10 c, 10 c + 10).
GridSpec ten_metre_grid() {
  GridSpec grid;
  grid.cols = 20;
  grid.rows = 10;
  grid.x_min_m = kX0;
  grid.y_max_m = kY0 + 100.0;
  grid.cell_w_m = 10.0;
  grid.cell_h_m = 10.0;
  return grid;
}

std::vector<std::uint32_t> cells_of(const EdgeCells& cells, std::size_t edge) {
  const auto span = cells.of(edge);
  return {span.begin(), span.end()};
}

Polygon rectangle(double x0, double y0, double x1, double y1) {
  return Polygon{{at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1)}, {}};
}
Ring rectangle_ring(double x0, double y0, double x1, double y1) { return rectangle(x0, y0, x1, y1).outer; }

Building building(const char* id, Polygon footprint) {
  Building b;
  b.id = id;
  b.footprint = std::move(footprint);
  b.height_m = 9.0;
  b.use = "residential";
  return b;
}

Asset asset(const char* id, MapPoint p) {
  Asset a;
  a.id = id;
  a.name = id;
  a.location = p;
  return a;
}

}  // namespace

TEST_CASE("edge cells: each lane walked across a 10 m grid", "[unit][spatial_index]") {
  TempDir dir;
  const RoadNetwork net = load_net(dir);
  const GridSpec grid = ten_metre_grid();
  const EdgeCells cells = compute_edge_cells(net, grid);

  REQUIRE(cells.edge_count() == 4);
  REQUIRE(cells.offsets.size() == 5);
  CHECK(cells.offsets.front() == 0);
  CHECK(cells.offsets.back() == cells.cells.size());

  // h at y 25 is in row 7, x 5..45 spans columns 0..4.
  CHECK(cells_of(cells, 0) == std::vector<std::uint32_t>{140, 141, 142, 143, 144});

  // v at x 105 is column 10; only y in (0, 100] is on the grid: rows 0..9.
  std::vector<std::uint32_t> v_cells;
  for (std::uint32_t row = 0; row < 10; ++row) v_cells.push_back(row * 20 + 10);
  CHECK(cells_of(cells, 1) == v_cells);

  // w: both lanes, y 65 in row 3 and y 55 in row 4, columns 0 and 1.
  CHECK(cells_of(cells, 3) == std::vector<std::uint32_t>{60, 61, 80, 81});

  // d: against a brute-force walk at 1 mm. Each piece of d inside a cell is at
  // least 4.2 m long (it crosses grid lines 3 m from the corners), so a walk at
  // a quarter cell finds them all.
  std::set<std::uint32_t> expected;
  for (int i = 0; i <= 113137; ++i) {
    const double t = i / 113137.0;
    const MapPoint p = at(123.0 + 80.0 * t, 80.0 * t);
    const double col = std::floor((p.x_m - grid.x_min_m) / 10.0);
    const double row = std::floor((grid.y_max_m - p.y_m) / 10.0);
    if (col < 0 || row < 0 || col >= grid.cols || row >= grid.rows) continue;
    expected.insert(static_cast<std::uint32_t>(row * grid.cols + col));
  }
  const auto d_cells = cells_of(cells, 2);
  CHECK(std::is_sorted(d_cells.begin(), d_cells.end()));
  CHECK(std::set<std::uint32_t>(d_cells.begin(), d_cells.end()) == expected);
  CHECK(d_cells.size() == expected.size());

  SECTION("an empty grid gives no cells") {
    const EdgeCells none = compute_edge_cells(net, GridSpec{});
    CHECK(none.edge_count() == 4);
    CHECK(none.cells.empty());
    for (std::size_t e = 0; e < 4; ++e) CHECK(none.of(e).empty());
  }
}

TEST_CASE("nearest edge by distance to the centre line", "[unit][spatial_index]") {
  TempDir dir;
  const RoadNetwork net = load_net(dir);
  const std::vector<Building> buildings;
  const std::vector<Asset> assets;
  const SpatialIndex index(net, buildings, assets);

  auto near = index.nearest_edge(at(20.0, 30.0));
  REQUIRE(near);
  CHECK(near->edge == 0);
  CHECK(near->distance_m == Approx(5.0).margin(kTolM));

  near = index.nearest_edge(at(103.0, 50.0));
  REQUIRE(near);
  CHECK(near->edge == 1);
  CHECK(near->distance_m == Approx(2.0).margin(kTolM));

  near = index.nearest_edge(at(50.0, 29.0));  // past the end of h: distance to (45, 25)
  REQUIRE(near);
  CHECK(near->edge == 0);
  CHECK(near->distance_m == Approx(std::sqrt(41.0)).margin(kTolM));

  near = index.nearest_edge(at(10.0, 58.0));  // w's centre line is y 60, between its lanes
  REQUIRE(near);
  CHECK(near->edge == 3);
  CHECK(near->distance_m == Approx(2.0).margin(kTolM));

  near = index.nearest_edge(at(150.0, 30.0));  // d: y = x - 123, distance |x - y - 123| / sqrt 2
  REQUIRE(near);
  CHECK(near->edge == 2);
  CHECK(near->distance_m == Approx(3.0 / std::sqrt(2.0)).margin(kTolM));

  CHECK_FALSE(index.nearest_edge(at(20.0, 30.0), 4.9));
  CHECK(index.nearest_edge(at(20.0, 30.0), 5.1));

  SECTION("agrees with brute force") {
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> x(-50.0, 250.0), y(-80.0, 150.0);
    for (int i = 0; i < 500; ++i) {
      const MapPoint p = at(x(rng), y(rng));
      double best_m = 1e300;
      for (const auto& e : net.edges())
        for (std::size_t k = 1; k < e.shape.size(); ++k)
          best_m = std::min(best_m, segment_distance_m(p, e.shape[k - 1], e.shape[k]));
      const auto got = index.nearest_edge(p);
      REQUIRE(got);
      CHECK(got->distance_m == Approx(best_m).margin(1e-9));
      const auto& shape = net.edges()[got->edge].shape;
      double own_m = 1e300;
      for (std::size_t k = 1; k < shape.size(); ++k) own_m = std::min(own_m, segment_distance_m(p, shape[k - 1], shape[k]));
      CHECK(own_m == Approx(best_m).margin(1e-9));
    }
  }
}

TEST_CASE("edges in a polygon or a box", "[unit][spatial_index]") {
  TempDir dir;
  const RoadNetwork net = load_net(dir);
  const std::vector<Building> buildings;
  const std::vector<Asset> assets;
  const SpatialIndex index(net, buildings, assets);
  using V = std::vector<std::size_t>;

  CHECK(index.edges_in(rectangle(0.0, 20.0, 50.0, 30.0)) == V{0});
  CHECK(index.edges_in(rectangle(-100.0, -100.0, 300.0, 200.0)) == V{0, 1, 2, 3});
  CHECK(index.edges_in(rectangle(300.0, 300.0, 400.0, 400.0)).empty());
  // A triangle that v crosses without any vertex of either inside the other.
  CHECK(index.edges_in(Polygon{{at(100.0, 40.0), at(110.0, 40.0), at(105.0, 60.0)}, {}}) == V{1});
  // h lies wholly in the hole: not in the area.
  Polygon holed = rectangle(0.0, 10.0, 60.0, 40.0);
  holed.holes.push_back(rectangle_ring(2.0, 20.0, 50.0, 30.0));
  CHECK(index.edges_in(holed).empty());
  // A band across w's two lanes but not its centre line (y 60): w's lanes do
  // not count, only its centre line.
  CHECK(index.edges_in(rectangle(0.0, 62.0, 20.0, 70.0)).empty());

  CHECK(index.edges_in(Box{kX0, kY0 + 20.0, kX0 + 50.0, kY0 + 30.0}) == V{0});
  // Inside d's envelope but away from d: the exact test rejects it.
  CHECK(index.edges_in(Box{kX0 + 190.0, kY0, kX0 + 200.0, kY0 + 10.0}).empty());
  CHECK(index.edges_in(Box{kX0 + 190.0, kY0 + 60.0, kX0 + 200.0, kY0 + 70.0}) == V{2});
  CHECK(index.edges_in(Box{kX0 + 104.0, kY0 + 10.0, kX0 + 200.0, kY0 + 70.0}) == V{1, 2});
  CHECK(index.edges_in(Box::empty_box()).empty());
}

TEST_CASE("buildings and assets in an area", "[unit][spatial_index]") {
  TempDir dir;
  const RoadNetwork net = load_net(dir);
  // The area: a right triangle at local (300, 0), legs of 100 m: x' + y' <= 100.
  auto tri = [](double x, double y) { return at(300.0 + x, y); };
  auto square = [&](double x0, double y0, double x1, double y1) {
    return Polygon{{tri(x0, y0), tri(x1, y0), tri(x1, y1), tri(x0, y1)}, {}};
  };
  const Polygon area{{tri(0.0, 0.0), tri(100.0, 0.0), tri(0.0, 100.0)}, {}};

  Polygon courtyard = square(-50.0, -50.0, 150.0, 150.0);
  courtyard.holes.push_back(square(-10.0, -10.0, 120.0, 120.0).outer);
  const std::vector<Building> buildings = {
      building("inside", square(10.0, 10.0, 20.0, 20.0)),
      building("over a corner", square(90.0, -5.0, 110.0, 5.0)),        // holds the vertex (100, 0)
      building("in the box only", square(80.0, 80.0, 95.0, 95.0)),      // x' + y' >= 160
      building("around", square(-50.0, -50.0, 150.0, 150.0)),           // holds the whole area
      building("bar across", square(-20.0, 40.0, 70.0, 42.0)),          // no vertex in or around: crossing only
      building("far", square(500.0, 500.0, 510.0, 510.0)),
      building("courtyard", courtyard),                                 // the area sits in its hole
  };
  const std::vector<Asset> assets = {
      asset("a0", tri(10.0, 10.0)),
      asset("a1", tri(80.0, 80.0)),  // in the box, out of the triangle
      asset("a2", tri(50.0, 10.0)),
      asset("a3", tri(500.0, 500.0)),
      asset("a4", tri(-5.0, 10.0)),
  };
  SpatialIndex built(net, buildings, assets);
  const SpatialIndex index(std::move(built));  // moving keeps the trees
  using V = std::vector<std::size_t>;

  CHECK(index.buildings_in(area) == V{0, 1, 3, 4});
  CHECK(index.buildings_in(square(600.0, 600.0, 700.0, 700.0)).empty());

  CHECK(index.building_at(tri(15.0, 15.0)) == std::optional<std::size_t>(0));  // 0 and 3: the lowest
  CHECK(index.building_at(tri(50.0, 50.0)) == std::optional<std::size_t>(3));  // in the courtyard's hole
  CHECK(index.building_at(tri(130.0, 130.0)) == std::optional<std::size_t>(3));
  CHECK(index.building_at(tri(505.0, 505.0)) == std::optional<std::size_t>(5));
  CHECK_FALSE(index.building_at(tri(1000.0, 1000.0)));

  CHECK(index.assets_in(area) == V{0, 2});
  Polygon holed = area;
  holed.holes.push_back(square(40.0, 5.0, 60.0, 15.0).outer);
  CHECK(index.assets_in(holed) == V{0});
  CHECK(index.assets_in(square(600.0, 600.0, 700.0, 700.0)).empty());

  const MapPoint lo = tri(-10.0, 0.0), hi = tri(60.0, 20.0);
  CHECK(index.assets_in(Box{lo.x_m, lo.y_m, hi.x_m, hi.y_m}) == V{0, 2, 4});
  // Box edges are inclusive: a flat box through a0 and a2.
  const MapPoint a = tri(10.0, 10.0), b = tri(50.0, 10.0);
  CHECK(index.assets_in(Box{a.x_m, a.y_m, b.x_m, b.y_m}) == V{0, 2});
}
