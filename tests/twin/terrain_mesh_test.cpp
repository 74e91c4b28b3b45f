#include "cadereau/twin/terrain_mesh.h"

#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <utility>

using namespace cadereau::twin;

namespace {

// Lambert-93-like origin: coordinates of ~6.3e6 m are where float and
// careless double arithmetic lose centimetres.
constexpr double kXMin = 810000.0;
constexpr double kYMax = 6302000.0;
constexpr double kCell = 10.0;

Raster make_dem(int cols, int rows, auto&& height_of_xy) {
  Raster dem(GridSpec{cols, rows, kXMin, kYMax, kCell, kCell}, Crs{}, 0.0f);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const MapPoint p = dem.grid().cell_centre({c, r});
      dem.at(c, r) = static_cast<float>(height_of_xy(p.x_m - kXMin, p.y_m - (kYMax - rows * kCell)));
    }
  }
  return dem;
}

// z = 0.1 x + 0.05 y (local metres) + 40 m.
Raster plane_dem() {
  return make_dem(20, 20, [](double x, double y) { return 40.0 + 0.1 * x + 0.05 * y; });
}

// A cone 30 m high centred on the 20x20 grid (200 m x 200 m).
Raster cone_dem() {
  return make_dem(20, 20, [](double x, double y) {
    const double r = std::hypot(x - 100.0, y - 100.0);
    return 50.0 + std::max(0.0, 30.0 - 0.3 * r);
  });
}

// Largest |dem - mesh| over every valid cell centre, measured independently
// of the builder's own bookkeeping.
double measured_error_m(const Raster& dem, const Mesh& mesh) {
  double worst = 0.0;
  for (int r = 0; r < dem.grid().rows; ++r) {
    for (int c = 0; c < dem.grid().cols; ++c) {
      if (dem.is_nodata(CellIndex{c, r})) continue;
      const auto z = mesh_height_at(mesh, dem.grid().cell_centre({c, r}));
      REQUIRE(z.has_value());
      worst = std::max(worst, std::abs(*z - dem.at(c, r)));
    }
  }
  return worst;
}

bool all_counter_clockwise(const Mesh& mesh) {
  for (const auto& t : mesh.triangles) {
    const Vertex3& a = mesh.vertices[t[0]];
    const Vertex3& b = mesh.vertices[t[1]];
    const Vertex3& c = mesh.vertices[t[2]];
    const double cross = (b.x_m - a.x_m) * (c.y_m - a.y_m) - (b.y_m - a.y_m) * (c.x_m - a.x_m);
    if (cross <= 0.0) return false;
  }
  return true;
}

bool has_edge(const Mesh& mesh, MapPoint p, MapPoint q, double tolerance_m = 1e-6) {
  auto find = [&](MapPoint m) -> std::optional<std::uint32_t> {
    for (std::uint32_t i = 0; i < mesh.vertices.size(); ++i) {
      if (std::abs(mesh.vertices[i].x_m - m.x_m) < tolerance_m && std::abs(mesh.vertices[i].y_m - m.y_m) < tolerance_m) return i;
    }
    return std::nullopt;
  };
  const auto i = find(p);
  const auto j = find(q);
  if (!i || !j) return false;
  for (const auto& t : mesh.triangles) {
    for (int k = 0; k < 3; ++k) {
      if ((t[k] == *i && t[(k + 1) % 3] == *j) || (t[k] == *j && t[(k + 1) % 3] == *i)) return true;
    }
  }
  return false;
}

Building box_building(double x0, double y0, double w_m, double h_m, double height_m) {
  Building b;
  b.id = "b1";
  b.footprint.outer = {{x0, y0}, {x0 + w_m, y0}, {x0 + w_m, y0 + h_m}, {x0, y0 + h_m}};
  b.height_m = height_m;
  return b;
}

// Volume under the triangles above the plane z = base (divergence theorem
// with the origin on the open floor, whose triangles would add nothing).
double volume_above_m3(const Mesh& mesh, double base_z_m, MapPoint origin) {
  double six_v = 0.0;
  for (const auto& t : mesh.triangles) {
    double p[3][3];
    for (int k = 0; k < 3; ++k) {
      const Vertex3& v = mesh.vertices[t[k]];
      p[k][0] = v.x_m - origin.x_m;
      p[k][1] = v.y_m - origin.y_m;
      p[k][2] = v.z_m - base_z_m;
    }
    six_v += p[0][0] * (p[1][1] * p[2][2] - p[1][2] * p[2][1]) - p[0][1] * (p[1][0] * p[2][2] - p[1][2] * p[2][0]) +
             p[0][2] * (p[1][0] * p[2][1] - p[1][1] * p[2][0]);
  }
  return six_v / 6.0;
}

}  // namespace

TEST_CASE("a planar DEM is reproduced exactly by its four corners", "[unit][terrain_mesh]") {
  const Raster dem = plane_dem();
  const TerrainMesh result = build_terrain_mesh(dem, {}, TerrainMeshOptions{1000, 0.01, true});
  CHECK(result.mesh.vertices.size() == 4);
  CHECK(result.mesh.triangles.size() == 2);
  CHECK(result.max_vertical_error_m < 1e-4);
  CHECK(result.constrained_edges == 0);
  CHECK(all_counter_clockwise(result.mesh));
  CHECK(measured_error_m(dem, result.mesh) < 1e-4);
}

TEST_CASE("mesh_height_at follows the plane to the micrometre", "[unit][terrain_mesh]") {
  const Raster dem = plane_dem();
  const TerrainMesh result = build_terrain_mesh(dem, {}, TerrainMeshOptions{1000, 0.01, false});
  // Between cell centres, where the surface is interpolated, not sampled.
  // Cells are stored as float, so the plane itself is only exact to ~1e-5 m at
  // these heights; the corners carry it, so compare with them.
  const auto& v = result.mesh.vertices;
  const double x0 = v[0].x_m, y0 = v[0].y_m;
  for (const MapPoint p : {MapPoint{kXMin + 13.3, 6301813.7}, MapPoint{kXMin + 151.25, 6301905.5}, MapPoint{kXMin + 77.0, 6301977.0}}) {
    const auto z = mesh_height_at(result.mesh, p);
    REQUIRE(z.has_value());
    const double expected = v[0].z_m + 0.1 * (p.x_m - x0) + 0.05 * (p.y_m - y0);
    CHECK(std::abs(*z - expected) < 1e-4);
  }
  // The float rounding of the corners does not matter for the interpolation
  // itself: at a vertex the height is the vertex's, to 1e-6 m.
  for (const Vertex3& vertex : v) {
    const auto z = mesh_height_at(result.mesh, {vertex.x_m, vertex.y_m});
    REQUIRE(z.has_value());
    CHECK(std::abs(*z - vertex.z_m) < 1e-6);
  }
  CHECK_FALSE(mesh_height_at(result.mesh, {kXMin - 50.0, 6301900.0}).has_value());
}

TEST_CASE("a cone is refined to the error bound within the budget", "[unit][terrain_mesh]") {
  const Raster dem = cone_dem();
  const TerrainMesh coarse = build_terrain_mesh(dem, {}, TerrainMeshOptions{400, 0.5, false});
  CHECK(coarse.max_vertical_error_m <= 0.5);
  CHECK(coarse.mesh.vertices.size() <= 400);
  CHECK(coarse.mesh.vertices.size() > 4);
  CHECK(all_counter_clockwise(coarse.mesh));
  // The reported error is the one a reader of the mesh sees.
  CHECK(measured_error_m(dem, coarse.mesh) == Approx(coarse.max_vertical_error_m).margin(1e-4));

  const TerrainMesh fine = build_terrain_mesh(dem, {}, TerrainMeshOptions{400, 0.05, false});
  CHECK(fine.max_vertical_error_m <= 0.05);
  CHECK(fine.mesh.vertices.size() > coarse.mesh.vertices.size());
}

TEST_CASE("the vertex budget is respected exactly when the bound is out of reach", "[unit][terrain_mesh]") {
  const Raster dem = cone_dem();
  double previous_error_m = 1e9;
  for (std::size_t budget : {10u, 20u, 40u, 80u}) {
    const TerrainMesh result = build_terrain_mesh(dem, {}, TerrainMeshOptions{budget, 0.0, false});
    INFO("budget " << budget);
    CHECK(result.mesh.vertices.size() == budget);
    CHECK(result.max_vertical_error_m > 0.0);
    CHECK(result.max_vertical_error_m < previous_error_m);
    CHECK(measured_error_m(dem, result.mesh) == Approx(result.max_vertical_error_m).margin(1e-4));
    previous_error_m = result.max_vertical_error_m;
  }
  // With every cell as a vertex the mesh is the DEM.
  const TerrainMesh full = build_terrain_mesh(dem, {}, TerrainMeshOptions{1000, 0.0, false});
  CHECK(full.mesh.vertices.size() <= 400);
  CHECK(full.max_vertical_error_m == 0.0);
  CHECK(measured_error_m(dem, full.mesh) < 1e-5);
}

TEST_CASE("building footprints are edges of the terrain mesh", "[unit][terrain_mesh]") {
  const Raster dem = cone_dem();
  // Two footprints off the cell centres, one with a hole, Lambert-93 coordinates.
  Building a = box_building(kXMin + 33.3, 6301843.1, 21.6, 12.4, 9.0);
  Building b = box_building(kXMin + 120.2, 6301900.6, 30.0, 30.0, 12.0);
  b.id = "b2";
  b.footprint.holes.push_back({{kXMin + 130.2, 6301910.6}, {kXMin + 130.2, 6301920.6}, {kXMin + 140.2, 6301920.6}, {kXMin + 140.2, 6301910.6}});
  const std::vector<Building> buildings{a, b};

  const TerrainMesh result = build_terrain_mesh(dem, buildings, TerrainMeshOptions{400, 0.5, true});
  CHECK(result.constrained_edges == 12);
  CHECK(all_counter_clockwise(result.mesh));
  for (const Building& building : buildings) {
    std::vector<Ring> rings{building.footprint.outer};
    rings.insert(rings.end(), building.footprint.holes.begin(), building.footprint.holes.end());
    for (const Ring& ring : rings) {
      for (std::size_t i = 0; i < ring.size(); ++i) {
        INFO(building.id << " edge " << i);
        CHECK(has_edge(result.mesh, ring[i], ring[(i + 1) % ring.size()]));
      }
    }
  }
  CHECK(result.max_vertical_error_m <= 0.5);

  const TerrainMesh unconstrained = build_terrain_mesh(dem, buildings, TerrainMeshOptions{400, 0.5, false});
  CHECK(unconstrained.constrained_edges == 0);
  CHECK_FALSE(has_edge(unconstrained.mesh, a.footprint.outer[0], a.footprint.outer[1]));
}

TEST_CASE("footprint vertices do not starve the hills of the budget", "[unit][terrain_mesh]") {
  // A 60 x 60 cone with a town of 64 small footprints (256 vertices, many
  // small triangles) on its flat southern part. The refinement must keep
  // working on the worst errors: with the footprints and 256 more vertices,
  // the cone is fitted about as well as without them.
  const Raster dem = make_dem(60, 60, [](double x, double y) {
    const double r = std::hypot(x - 300.0, y - 380.0);
    return 50.0 + std::max(0.0, 60.0 - 0.3 * r);
  });
  std::vector<Building> town;
  for (int i = 0; i < 64; ++i) {
    town.push_back(box_building(kXMin + 20.0 + (i % 16) * 35.0 + 0.3, kYMax - 590.0 + (i / 16) * 25.0 + 0.3, 12.0, 8.0, 6.0));
  }
  const TerrainMesh bare = build_terrain_mesh(dem, {}, TerrainMeshOptions{300, 0.0, false});
  const TerrainMesh with_town = build_terrain_mesh(dem, town, TerrainMeshOptions{300 + 256, 0.0, true});
  CHECK(with_town.constrained_edges == 256);
  CHECK(with_town.mesh.vertices.size() == 300 + 256);
  INFO("without footprints " << bare.max_vertical_error_m << " m, with " << with_town.max_vertical_error_m << " m");
  CHECK(with_town.max_vertical_error_m < 1.5 * bare.max_vertical_error_m);
}

TEST_CASE("nodata cells are left out of the mesh and of the error", "[unit][terrain_mesh]") {
  Raster dem = cone_dem();
  dem.set_nodata(-9999.0);
  // A nodata western strip and a nodata pit whose value would otherwise dominate.
  for (int r = 0; r < 20; ++r) {
    for (int c = 0; c < 5; ++c) dem.at(c, r) = -9999.0f;
  }
  dem.at(12, 12) = -9999.0f;
  const TerrainMesh result = build_terrain_mesh(dem, {}, TerrainMeshOptions{400, 0.5, false});
  CHECK(result.max_vertical_error_m <= 0.5);
  for (const Vertex3& v : result.mesh.vertices) {
    CHECK(v.x_m >= kXMin + 5 * kCell);
    CHECK(v.z_m > 0.0);
  }

  Raster empty = cone_dem();
  empty.set_nodata(0.0);
  std::fill(empty.values().begin(), empty.values().end(), 0.0f);
  CHECK_THROWS_AS(build_terrain_mesh(empty, {}), cadereau::Error);
}

TEST_CASE("a box building extrudes to walls and a flat roof", "[unit][terrain_mesh]") {
  const Raster dem = plane_dem();
  const Building building = box_building(kXMin + 52.5, 6301861.5, 10.0, 20.0, 6.0);
  const Mesh mesh = extrude_buildings(std::span<const Building>(&building, 1), dem);
  // Four walls of two triangles and a roof of two; the floor stays open on the ground.
  CHECK(mesh.triangles.size() == 10);

  // Base: the lowest ground under the four corners (the plane falls to the south-west).
  double base_z_m = 1e9;
  for (const MapPoint& p : building.footprint.outer) base_z_m = std::min(base_z_m, *dem.sample(p));
  double lowest_m = 1e9, highest_m = -1e9;
  for (const Vertex3& v : mesh.vertices) {
    lowest_m = std::min(lowest_m, v.z_m);
    highest_m = std::max(highest_m, v.z_m);
  }
  CHECK(lowest_m == Approx(base_z_m).margin(1e-6));
  CHECK(highest_m == Approx(base_z_m + 6.0).margin(1e-6));

  std::size_t roof_triangles = 0;
  for (const auto& t : mesh.triangles) {
    const bool roof = std::all_of(t.begin(), t.end(), [&](std::uint32_t i) { return std::abs(mesh.vertices[i].z_m - (base_z_m + 6.0)) < 1e-6; });
    if (!roof) continue;
    ++roof_triangles;
    const Vertex3& a = mesh.vertices[t[0]];
    const Vertex3& b = mesh.vertices[t[1]];
    const Vertex3& c = mesh.vertices[t[2]];
    CHECK((b.x_m - a.x_m) * (c.y_m - a.y_m) - (b.y_m - a.y_m) * (c.x_m - a.x_m) > 0.0);  // faces up
  }
  CHECK(roof_triangles == 2);
  // Outward-facing walls and an upward roof enclose exactly the box.
  CHECK(volume_above_m3(mesh, base_z_m, building.footprint.outer[0]) == Approx(10.0 * 20.0 * 6.0).epsilon(1e-9));
}

TEST_CASE("footprints with holes and either orientation extrude to the right volume", "[unit][terrain_mesh]") {
  const Raster dem = plane_dem();
  Building courtyard = box_building(kXMin + 40.0, 6301840.0, 40.0, 30.0, 10.0);
  std::reverse(courtyard.footprint.outer.begin(), courtyard.footprint.outer.end());  // clockwise on input
  courtyard.footprint.outer.push_back(courtyard.footprint.outer.front());           // and explicitly closed
  courtyard.footprint.holes.push_back({{kXMin + 50.0, 6301850.0}, {kXMin + 70.0, 6301850.0}, {kXMin + 70.0, 6301860.0}, {kXMin + 50.0, 6301860.0}});
  const Mesh mesh = extrude_buildings(std::span<const Building>(&courtyard, 1), dem);
  double base_z_m = 1e9;
  for (const auto& v : mesh.vertices) base_z_m = std::min(base_z_m, v.z_m);
  // (40 x 30 - 20 x 10) m2 x 10 m.
  CHECK(volume_above_m3(mesh, base_z_m, {kXMin, 6301800.0}) == Approx(10000.0).epsilon(1e-9));
  // 8 walls of two triangles; the roof of a square ring with a square hole has 8 triangles.
  CHECK(mesh.triangles.size() == 16 + 8);
}

// Opt-in benchmark at the size of the demo territory: 600 x 600 cells at 10 m,
// 3000 footprints. Run: twin_tests "[terrain_mesh][.benchmark]" -s
TEST_CASE("terrain mesh of a demo-sized DEM", "[.benchmark][slow][terrain_mesh]") {
  constexpr int kSide = 600;
  // Rolling hills with valleys and fine relief that the bound has to chase.
  const Raster dem = make_dem(kSide, kSide, [](double x, double y) {
    return 60.0 + 80.0 * std::exp(-((x - 4000.0) * (x - 4000.0) + (y - 4800.0) * (y - 4800.0)) / 2.0e6) +
           12.0 * std::sin(x / 310.0) * std::cos(y / 270.0) + 1.5 * std::sin(x / 37.0 + y / 53.0);
  });
  std::vector<Building> buildings;
  for (int i = 0; i < 3000; ++i) {
    const double x = kXMin + 300.0 + (i % 60) * 90.0 + (i % 7) * 3.1;
    const double y = kYMax - 5700.0 + (i / 60) * 100.0 + (i % 5) * 2.7;
    buildings.push_back(box_building(x, y, 12.0 + (i % 9), 9.0 + (i % 4), 8.0));
  }
  for (const double bound_m : {0.5, 0.05}) {
    const auto start = std::chrono::steady_clock::now();
    const TerrainMesh result = build_terrain_mesh(dem, buildings, TerrainMeshOptions{60000, bound_m, true});
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    WARN("bound " << bound_m << " m: vertices " << result.mesh.vertices.size() << ", triangles "
                  << result.mesh.triangles.size() << ", max error " << result.max_vertical_error_m
                  << " m, constrained edges " << result.constrained_edges << ", " << wall_s << " s, "
                  << result.mesh.vertices.size() / wall_s << " vertices/s");
    CHECK(result.mesh.vertices.size() <= 60000);
    CHECK(result.constrained_edges >= 12000);
  }
}
