#include "cadereau/twin/terrain_mesh.h"

#include "cadereau/twin/error.h"

#include <CGAL/Constrained_Delaunay_triangulation_2.h>
#include <CGAL/Constrained_triangulation_face_base_2.h>
#include <CGAL/Exact_predicates_inexact_constructions_kernel.h>
#include <CGAL/Triangulation_data_structure_2.h>
#include <CGAL/Triangulation_face_base_with_info_2.h>
#include <CGAL/Triangulation_vertex_base_with_info_2.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace cadereau::twin {
namespace {

using Kernel = CGAL::Exact_predicates_inexact_constructions_kernel;
using Point2 = Kernel::Point_2;

// Vertex heights live beside the 2D triangulation; `id` lets a face know
// whether it still has the three corners it was scanned with (Delaunay flips
// recycle face objects, so a face handle alone says nothing).
struct VertexInfo {
  double z_m = 0.0;
  std::int32_t id = -1;
};

struct FaceInfo {
  std::array<std::int32_t, 3> scanned_with{-1, -1, -1};
  float error_m = 0.0f;        // largest |dem - plane| over the cell centres inside
  std::int64_t worst_cell = -1;  // linear DEM index of that cell, -1 when none
  int nesting_level = -1;        // roof triangulation: odd = inside the footprint
};

using Vb = CGAL::Triangulation_vertex_base_with_info_2<VertexInfo, Kernel>;
using Fbb = CGAL::Triangulation_face_base_with_info_2<FaceInfo, Kernel>;
using Fb = CGAL::Constrained_triangulation_face_base_2<Kernel, Fbb>;
using Tds = CGAL::Triangulation_data_structure_2<Vb, Fb>;
// Footprints of neighbouring buildings share and cross walls: intersecting
// constraints must be allowed.
using Cdt = CGAL::Constrained_Delaunay_triangulation_2<Kernel, Tds, CGAL::Exact_predicates_tag>;
using VertexHandle = Cdt::Vertex_handle;
using FaceHandle = Cdt::Face_handle;

constexpr const char* kWhere = "terrain mesh";
// A refinement pass inserts the worst cell of every triangle whose error is
// above this fraction of the current maximum: close to one-at-a-time greedy
// insertion in quality, at a few dozen passes over the faces.
constexpr double kPassFraction = 0.5;
// Below this many vertices left in the budget, a pass may use all of them.
constexpr std::size_t kFinalBatch = 16;

// The DEM seen in a local frame whose origin is the outer corner of the
// south-west cell: Lambert-93 northings (~6.3e6 m) would otherwise eat the
// precision of the plane fits and of the triangulation's constructions.
class LocalDem {
 public:
  explicit LocalDem(const Raster& dem) : grid_(dem.grid()), values_(dem.values()), valid_(dem.grid().cell_count()) {
    for (std::size_t i = 0; i < valid_.size(); ++i) {
      valid_[i] = !dem.is_nodata(values_[i]);
    }
  }

  int cols() const { return grid_.cols; }
  int rows() const { return grid_.rows; }
  double cell_w_m() const { return grid_.cell_w_m; }
  double cell_h_m() const { return grid_.cell_h_m; }
  double origin_x_m() const { return grid_.x_min_m; }
  double origin_y_m() const { return grid_.y_min_m(); }

  bool valid(int col, int row) const { return valid_[linear(col, row)]; }
  bool valid(std::size_t i) const { return valid_[i]; }
  float value(int col, int row) const { return values_[linear(col, row)]; }
  float value(std::size_t i) const { return values_[i]; }
  std::size_t linear(int col, int row) const {
    return static_cast<std::size_t>(row) * static_cast<std::size_t>(grid_.cols) + static_cast<std::size_t>(col);
  }

  // Local coordinates of a cell centre. Rows count from the north.
  double centre_x(int col) const { return (col + 0.5) * grid_.cell_w_m; }
  double centre_y(int row) const { return (grid_.rows - row - 0.5) * grid_.cell_h_m; }
  // Fractional column/row of a local position, in cell-centre units.
  double col_of(double x) const { return x / grid_.cell_w_m - 0.5; }
  double row_of(double y) const { return grid_.rows - 0.5 - y / grid_.cell_h_m; }

  // Bilinear between cell centres, clamped to the grid; nodata neighbours are
  // left out and the weights renormalised so that footprints at the edge of
  // the data still get a height.
  std::optional<double> height_at(double x, double y) const {
    const double fc = std::clamp(col_of(x), 0.0, static_cast<double>(grid_.cols - 1));
    const double fr = std::clamp(row_of(y), 0.0, static_cast<double>(grid_.rows - 1));
    const int c0 = std::min(static_cast<int>(fc), grid_.cols - 1);
    const int r0 = std::min(static_cast<int>(fr), grid_.rows - 1);
    const int c1 = std::min(c0 + 1, grid_.cols - 1);
    const int r1 = std::min(r0 + 1, grid_.rows - 1);
    const double tx = fc - c0;
    const double ty = fr - r0;
    const std::array<std::pair<std::size_t, double>, 4> taps{{
        {linear(c0, r0), (1 - tx) * (1 - ty)},
        {linear(c1, r0), tx * (1 - ty)},
        {linear(c0, r1), (1 - tx) * ty},
        {linear(c1, r1), tx * ty},
    }};
    double sum = 0.0;
    double weight = 0.0;
    for (const auto& [i, w] : taps) {
      if (valid_[i] && w > 0.0) {
        sum += w * values_[i];
        weight += w;
      }
    }
    if (weight > 0.0) return sum / weight;
    // All four neighbours are nodata (or weights vanish at an exact centre).
    const std::size_t nearest = linear(static_cast<int>(std::lround(fc)), static_cast<int>(std::lround(fr)));
    if (valid_[nearest]) return values_[nearest];
    return std::nullopt;
  }

  // The valid cell nearest to (col, row), by growing square rings.
  std::optional<std::size_t> nearest_valid(int col, int row) const {
    const int max_radius = std::max(grid_.cols, grid_.rows);
    for (int radius = 0; radius <= max_radius; ++radius) {
      std::optional<std::size_t> best;
      double best_d2 = std::numeric_limits<double>::max();
      for (int r = row - radius; r <= row + radius; ++r) {
        if (r < 0 || r >= grid_.rows) continue;
        const bool edge_row = (r == row - radius || r == row + radius);
        for (int c = col - radius; c <= col + radius; c += (edge_row ? 1 : 2 * radius)) {
          if (c >= 0 && c < grid_.cols && valid(c, r)) {
            const double d2 = static_cast<double>(c - col) * (c - col) + static_cast<double>(r - row) * (r - row);
            if (d2 < best_d2) {
              best_d2 = d2;
              best = linear(c, r);
            }
          }
          if (radius == 0) break;
        }
      }
      if (best) return best;
    }
    return std::nullopt;
  }

 private:
  GridSpec grid_;
  const std::vector<float>& values_;
  std::vector<bool> valid_;
};

struct ScanResult {
  float error_m = 0.0f;
  std::int64_t worst_cell = -1;
  std::size_t valid_cells = 0;
};

// Visits the cell centres inside (or on the border of) the triangle and
// returns the one farthest from the triangle's plane. Row by row: the
// triangle's x-span on each centre line, so the cost is the number of cells.
ScanResult scan_triangle(const LocalDem& dem, const std::array<Point2, 3>& p, const std::array<double, 3>& z,
                         bool count_only = false) {
  ScanResult result;
  const double x0 = p[0].x(), y0 = p[0].y();
  const double ux = p[1].x() - x0, uy = p[1].y() - y0, uz = z[1] - z[0];
  const double vx = p[2].x() - x0, vy = p[2].y() - y0, vz = z[2] - z[0];
  const double det = ux * vy - uy * vx;
  if (det == 0.0) return result;
  // z = z0 + a (x - x0) + b (y - y0)
  const double a = (uz * vy - vz * uy) / det;
  const double b = (ux * vz - vx * uz) / det;

  const double y_lo = std::min({p[0].y(), p[1].y(), p[2].y()});
  const double y_hi = std::max({p[0].y(), p[1].y(), p[2].y()});
  // Tolerance so that centres exactly on a shared edge are seen from both
  // sides: counting a cell twice is harmless, missing it is not.
  const double eps_x = 1e-7 * dem.cell_w_m();
  const double eps_y = 1e-7 * dem.cell_h_m();
  const int row_first = std::max(0, static_cast<int>(std::ceil(dem.row_of(y_hi + eps_y) - 1e-9)));
  const int row_last = std::min(dem.rows() - 1, static_cast<int>(std::floor(dem.row_of(y_lo - eps_y) + 1e-9)));
  for (int row = row_first; row <= row_last; ++row) {
    const double y = dem.centre_y(row);
    double x_lo = std::numeric_limits<double>::max();
    double x_hi = std::numeric_limits<double>::lowest();
    for (int e = 0; e < 3; ++e) {
      const Point2& s = p[e];
      const Point2& t = p[(e + 1) % 3];
      const double sy = s.y(), ty = t.y();
      if ((y < std::min(sy, ty) - eps_y) || (y > std::max(sy, ty) + eps_y)) continue;
      if (sy == ty) {
        x_lo = std::min({x_lo, s.x(), t.x()});
        x_hi = std::max({x_hi, s.x(), t.x()});
      } else {
        const double f = std::clamp((y - sy) / (ty - sy), 0.0, 1.0);
        const double x = s.x() + f * (t.x() - s.x());
        x_lo = std::min(x_lo, x);
        x_hi = std::max(x_hi, x);
      }
    }
    if (x_lo > x_hi) continue;
    const int col_first = std::max(0, static_cast<int>(std::ceil(dem.col_of(x_lo - eps_x) - 1e-9)));
    const int col_last = std::min(dem.cols() - 1, static_cast<int>(std::floor(dem.col_of(x_hi + eps_x) + 1e-9)));
    const double row_z = z[0] + b * (y - y0);
    for (int col = col_first; col <= col_last; ++col) {
      const std::size_t i = dem.linear(col, row);
      if (!dem.valid(i)) continue;
      ++result.valid_cells;
      if (count_only) continue;
      const double plane_z = row_z + a * (dem.centre_x(col) - x0);
      const auto error = static_cast<float>(std::abs(dem.value(i) - plane_z));
      if (error > result.error_m || result.worst_cell < 0) {
        result.error_m = error;
        result.worst_cell = static_cast<std::int64_t>(i);
      }
    }
  }
  return result;
}

std::array<Point2, 3> corners_of(FaceHandle f) {
  return {f->vertex(0)->point(), f->vertex(1)->point(), f->vertex(2)->point()};
}
std::array<double, 3> heights_of(FaceHandle f) {
  return {f->vertex(0)->info().z_m, f->vertex(1)->info().z_m, f->vertex(2)->info().z_m};
}
std::array<std::int32_t, 3> ids_of(FaceHandle f) {
  return {f->vertex(0)->info().id, f->vertex(1)->info().id, f->vertex(2)->info().id};
}

// Interleaves the bits of col and row so that consecutive insertions are
// neighbours and each point location walk stays short.
std::uint64_t morton(std::uint32_t col, std::uint32_t row) {
  auto spread = [](std::uint64_t v) {
    v &= 0xffffffffULL;
    v = (v | (v << 16)) & 0x0000ffff0000ffffULL;
    v = (v | (v << 8)) & 0x00ff00ff00ff00ffULL;
    v = (v | (v << 4)) & 0x0f0f0f0f0f0f0f0fULL;
    v = (v | (v << 2)) & 0x3333333333333333ULL;
    v = (v | (v << 1)) & 0x5555555555555555ULL;
    return v;
  };
  return spread(col) | (spread(row) << 1);
}

// A ring without its closing point or repeated points.
Ring clean_ring(const Ring& ring) {
  Ring out;
  out.reserve(ring.size());
  for (const MapPoint& p : ring) {
    if (out.empty() || !(out.back() == p)) out.push_back(p);
  }
  while (out.size() > 1 && out.front() == out.back()) out.pop_back();
  return out;
}

class TerrainBuilder {
 public:
  TerrainBuilder(const Raster& dem, const TerrainMeshOptions& options) : dem_(dem), options_(options) {}

  TerrainMesh build(std::span<const Building> buildings) {
    if (options_.max_vertices < 4) {
      fail(kWhere, "a vertex budget of {} is too small: the four corners need 4", options_.max_vertices);
    }
    if (!(options_.max_vertical_error_m >= 0.0)) {
      fail(kWhere, "max_vertical_error_m must be >= 0, got {}", options_.max_vertical_error_m);
    }
    insert_corners();
    if (options_.constrain_building_footprints) insert_footprints(buildings);
    fill_missing_heights();
    refine();
    return output();
  }

 private:
  VertexHandle add_vertex(const Point2& p, std::optional<double> z_m, FaceHandle hint = FaceHandle()) {
    VertexHandle v = cdt_.insert(p, hint);
    if (v->info().id < 0) {
      v->info().id = next_id_++;
      if (z_m) {
        v->info().z_m = *z_m;
      } else {
        needs_height_.push_back(v);
      }
    }
    return v;
  }

  void insert_corners() {
    int col_min = dem_.cols(), col_max = -1, row_min = dem_.rows(), row_max = -1;
    for (int row = 0; row < dem_.rows(); ++row) {
      for (int col = 0; col < dem_.cols(); ++col) {
        if (!dem_.valid(col, row)) continue;
        col_min = std::min(col_min, col);
        col_max = std::max(col_max, col);
        row_min = std::min(row_min, row);
        row_max = std::max(row_max, row);
      }
    }
    if (col_max < 0) fail(kWhere, "the DEM has no valid cell ({}x{} cells, all nodata)", dem_.cols(), dem_.rows());

    // The mesh spans the valid cell centres. A single row or column of data
    // has no area between centres, so it is widened to the cells' outer edges.
    double x_lo = dem_.centre_x(col_min), x_hi = dem_.centre_x(col_max);
    double y_lo = dem_.centre_y(row_max), y_hi = dem_.centre_y(row_min);
    if (col_min == col_max) {
      x_lo -= 0.5 * dem_.cell_w_m();
      x_hi += 0.5 * dem_.cell_w_m();
    }
    if (row_min == row_max) {
      y_lo -= 0.5 * dem_.cell_h_m();
      y_hi += 0.5 * dem_.cell_h_m();
    }
    domain_ = {x_lo, y_lo, x_hi, y_hi};
    const std::array<std::pair<int, int>, 4> corner_cells{
        {{col_min, row_max}, {col_max, row_max}, {col_max, row_min}, {col_min, row_min}}};
    const std::array<Point2, 4> corner_points{Point2(x_lo, y_lo), Point2(x_hi, y_lo), Point2(x_hi, y_hi), Point2(x_lo, y_hi)};
    for (int k = 0; k < 4; ++k) {
      const auto [col, row] = corner_cells[k];
      // A nodata corner borrows the nearest valid height: the corner is a
      // scaffold for the triangulation, not a measurement.
      const std::size_t cell = dem_.valid(col, row) ? dem_.linear(col, row) : *dem_.nearest_valid(col, row);
      add_vertex(corner_points[k], static_cast<double>(dem_.value(cell)));
      if (dem_.valid(col, row) && col_min != col_max && row_min != row_max) inserted_cells_.push_back(cell);
    }
  }

  bool strictly_inside_domain(double x, double y) const {
    return x > domain_.x_min_m && x < domain_.x_max_m && y > domain_.y_min_m && y < domain_.y_max_m;
  }

  void insert_footprints(std::span<const Building> buildings) {
    std::vector<Ring> rings;
    for (const Building& b : buildings) {
      rings.clear();
      rings.push_back(clean_ring(b.footprint.outer));
      for (const Ring& hole : b.footprint.holes) rings.push_back(clean_ring(hole));
      bool usable = true;
      std::size_t points = 0;
      for (const Ring& ring : rings) {
        points += ring.size();
        if (ring.size() < 3) usable = false;
        for (const MapPoint& p : ring) {
          if (!strictly_inside_domain(p.x_m - dem_.origin_x_m(), p.y_m - dem_.origin_y_m())) usable = false;
        }
      }
      // Footprints that leave the data are not walls of this terrain, and a
      // footprint that would overrun the budget is left out whole rather than
      // as a half-drawn ring.
      if (!usable || cdt_.number_of_vertices() + points > options_.max_vertices) continue;
      for (const Ring& ring : rings) {
        VertexHandle first, previous;
        for (const MapPoint& p : ring) {
          const double x = p.x_m - dem_.origin_x_m();
          const double y = p.y_m - dem_.origin_y_m();
          VertexHandle v = add_vertex(Point2(x, y), dem_.height_at(x, y), previous != VertexHandle() ? previous->face() : FaceHandle());
          if (previous != VertexHandle() && previous != v) cdt_.insert_constraint(previous, v);
          if (first == VertexHandle()) first = v;
          previous = v;
        }
        if (previous != first) cdt_.insert_constraint(previous, first);
      }
    }
  }

  // Vertices created where constraints cross, or inserted without a height,
  // take theirs from the DEM.
  void fill_missing_heights() {
    for (auto v = cdt_.finite_vertices_begin(); v != cdt_.finite_vertices_end(); ++v) {
      if (v->info().id < 0) {
        v->info().id = next_id_++;
        needs_height_.push_back(v);
      }
    }
    for (VertexHandle v : needs_height_) {
      v->info().z_m = dem_.height_at(v->point().x(), v->point().y()).value_or(0.0);
    }
    needs_height_.clear();
  }

  struct Candidate {
    float error_m;
    std::int64_t cell;
  };

  // Brings every face's cached worst cell up to date and returns the largest error.
  double rescan_faces() {
    double worst = 0.0;
    for (auto f = cdt_.finite_faces_begin(); f != cdt_.finite_faces_end(); ++f) {
      FaceInfo& info = f->info();
      const auto ids = ids_of(f);
      if (info.scanned_with != ids) {
        const ScanResult scan = scan_triangle(dem_, corners_of(f), heights_of(f));
        info.scanned_with = ids;
        info.error_m = scan.error_m;
        info.worst_cell = scan.worst_cell;
      }
      worst = std::max(worst, static_cast<double>(info.error_m));
    }
    return worst;
  }

  void refine() {
    std::vector<bool> inserted(static_cast<std::size_t>(dem_.cols()) * static_cast<std::size_t>(dem_.rows()), false);
    for (std::size_t cell : inserted_cells_) inserted[cell] = true;
    std::vector<Candidate> candidates;
    std::vector<std::pair<std::uint64_t, std::int64_t>> batch;
    while (true) {
      achieved_error_m_ = rescan_faces();
      if (achieved_error_m_ <= options_.max_vertical_error_m) break;
      const std::size_t room = options_.max_vertices - std::min(options_.max_vertices, cdt_.number_of_vertices());
      if (room == 0) break;

      // One candidate per triangle: the worst cell under it, and only from the
      // triangles within a factor of the worst. Taking every triangle above the
      // bound would spend the budget on the many small triangles around
      // footprints while big triangles over the hills wait for the next pass.
      const double threshold_m = std::max(options_.max_vertical_error_m, kPassFraction * achieved_error_m_);
      candidates.clear();
      for (auto f = cdt_.finite_faces_begin(); f != cdt_.finite_faces_end(); ++f) {
        const FaceInfo& info = f->info();
        if (info.worst_cell < 0 || info.error_m <= threshold_m) continue;
        if (inserted[static_cast<std::size_t>(info.worst_cell)]) continue;
        inserted[static_cast<std::size_t>(info.worst_cell)] = true;  // a centre on a shared edge is offered twice
        candidates.push_back({info.error_m, info.worst_cell});
      }
      if (candidates.empty()) break;  // only already-used cells are left: cannot do better
      // When the budget runs short, the worst errors go first, and at most
      // half of what is left goes in one pass: a new vertex flips edges, and
      // a flipped edge can cut across a ridge or a valley and raise the error
      // next to it. The vertices kept back repair that in the next passes.
      const std::size_t take = room > kFinalBatch ? room / 2 : room;
      if (candidates.size() > take) {
        std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(take), candidates.end(),
                         [](const Candidate& l, const Candidate& r) { return l.error_m > r.error_m; });
        for (std::size_t k = take; k < candidates.size(); ++k) inserted[static_cast<std::size_t>(candidates[k].cell)] = false;
        candidates.resize(take);
      }
      batch.clear();
      for (const Candidate& c : candidates) {
        const auto col = static_cast<std::uint32_t>(c.cell % dem_.cols());
        const auto row = static_cast<std::uint32_t>(c.cell / dem_.cols());
        batch.emplace_back(morton(col, row), c.cell);
      }
      std::sort(batch.begin(), batch.end());
      VertexHandle previous;
      for (const auto& [key, cell] : batch) {
        const int col = static_cast<int>(cell % dem_.cols());
        const int row = static_cast<int>(cell / dem_.cols());
        previous = add_vertex(Point2(dem_.centre_x(col), dem_.centre_y(row)), static_cast<double>(dem_.value(static_cast<std::size_t>(cell))),
                              previous != VertexHandle() ? previous->face() : FaceHandle());
      }
      // A cell centre on a footprint edge splits the constraint without
      // creating any other vertex, so every vertex has its height already;
      // this keeps that invariant explicit.
      fill_missing_heights();
    }
  }

  // Faces kept: those that cover data. Over a nodata gap inside the bounding
  // box of the data, a face is dropped when it holds no valid cell centre and
  // its centroid is on nodata.
  bool covers_data(FaceHandle f) const {
    const auto p = corners_of(f);
    const double cx = (p[0].x() + p[1].x() + p[2].x()) / 3.0;
    const double cy = (p[0].y() + p[1].y() + p[2].y()) / 3.0;
    const int col = std::clamp(static_cast<int>(std::lround(dem_.col_of(cx))), 0, dem_.cols() - 1);
    const int row = std::clamp(static_cast<int>(std::lround(dem_.row_of(cy))), 0, dem_.rows() - 1);
    if (dem_.valid(col, row)) return true;
    return scan_triangle(dem_, p, heights_of(f), true).valid_cells > 0;
  }

  TerrainMesh output() {
    TerrainMesh result;
    result.max_vertical_error_m = achieved_error_m_;
    Mesh& mesh = result.mesh;
    mesh.vertices.resize(static_cast<std::size_t>(next_id_));
    std::vector<bool> used(mesh.vertices.size(), false);
    for (auto v = cdt_.finite_vertices_begin(); v != cdt_.finite_vertices_end(); ++v) {
      const auto id = static_cast<std::size_t>(v->info().id);
      mesh.vertices[id] = {v->point().x() + dem_.origin_x_m(), v->point().y() + dem_.origin_y_m(), v->info().z_m};
      used[id] = true;
    }
    mesh.triangles.reserve(cdt_.number_of_faces());
    for (auto f = cdt_.finite_faces_begin(); f != cdt_.finite_faces_end(); ++f) {
      if (!covers_data(f)) continue;
      const auto ids = ids_of(f);
      mesh.triangles.push_back({static_cast<std::uint32_t>(ids[0]), static_cast<std::uint32_t>(ids[1]),
                                static_cast<std::uint32_t>(ids[2])});
    }
    // Ids are dense unless an insertion landed on an existing vertex; compact
    // just in case so that every output vertex is a real one.
    if (std::find(used.begin(), used.end(), false) != used.end()) {
      std::vector<std::uint32_t> remap(used.size(), 0);
      std::vector<Vertex3> compact;
      for (std::size_t i = 0; i < used.size(); ++i) {
        if (!used[i]) continue;
        remap[i] = static_cast<std::uint32_t>(compact.size());
        compact.push_back(mesh.vertices[i]);
      }
      mesh.vertices = std::move(compact);
      for (auto& t : mesh.triangles) {
        for (auto& i : t) i = remap[i];
      }
    }
    for (auto e = cdt_.finite_edges_begin(); e != cdt_.finite_edges_end(); ++e) {
      if (cdt_.is_constrained(*e)) ++result.constrained_edges;
    }
    return result;
  }

  LocalDem dem_;
  TerrainMeshOptions options_;
  Cdt cdt_;
  Box domain_;  // local frame
  std::int32_t next_id_ = 0;
  std::vector<VertexHandle> needs_height_;
  std::vector<std::size_t> inserted_cells_;
  double achieved_error_m_ = 0.0;
};

// Nesting levels of the faces of a polygon's triangulation (CGAL's
// "polygon with holes" recipe): 0 outside, 1 inside the outer ring, 2 inside
// a hole, ... Odd levels are the polygon.
void mark_domains(Cdt& cdt, FaceHandle start, int level, std::vector<Cdt::Edge>& border) {
  if (start->info().nesting_level != -1) return;
  std::vector<FaceHandle> queue{start};
  while (!queue.empty()) {
    FaceHandle f = queue.back();
    queue.pop_back();
    if (f->info().nesting_level != -1) continue;
    f->info().nesting_level = level;
    for (int i = 0; i < 3; ++i) {
      Cdt::Edge e(f, i);
      FaceHandle n = f->neighbor(i);
      if (n->info().nesting_level == -1) {
        if (cdt.is_constrained(e)) {
          border.push_back(e);
        } else {
          queue.push_back(n);
        }
      }
    }
  }
}

void mark_domains(Cdt& cdt) {
  for (auto f = cdt.all_faces_begin(); f != cdt.all_faces_end(); ++f) f->info().nesting_level = -1;
  std::vector<Cdt::Edge> border;
  mark_domains(cdt, cdt.infinite_face(), 0, border);
  while (!border.empty()) {
    Cdt::Edge e = border.back();
    border.pop_back();
    FaceHandle n = e.first->neighbor(e.second);
    if (n->info().nesting_level == -1) mark_domains(cdt, n, e.first->info().nesting_level + 1, border);
  }
}

// Height of the ground under a point: the DEM's bilinear value, or the cell
// value at the border where bilinear interpolation has no neighbours.
std::optional<double> ground_at(const Raster& dem, MapPoint p) {
  if (auto z = dem.sample(p)) return z;
  if (auto cell = dem.grid().cell_at(p); cell && !dem.is_nodata(*cell)) return static_cast<double>(dem.at(*cell));
  return std::nullopt;
}

std::uint32_t push_vertex(Mesh& mesh, double x, double y, double z) {
  mesh.vertices.push_back({x, y, z});
  return static_cast<std::uint32_t>(mesh.vertices.size() - 1);
}

void extrude_one(const Building& building, const Raster& dem, Mesh& mesh) {
  std::vector<Ring> rings;
  rings.push_back(clean_ring(building.footprint.outer));
  if (rings.front().size() < 3) return;
  for (const Ring& hole : building.footprint.holes) {
    Ring h = clean_ring(hole);
    if (h.size() >= 3) rings.push_back(std::move(h));
  }
  std::optional<double> base_z;
  for (const Ring& ring : rings) {
    for (const MapPoint& p : ring) {
      if (auto z = ground_at(dem, p)) base_z = base_z ? std::min(*base_z, *z) : *z;
    }
  }
  if (!base_z) return;  // not on the DEM: nothing to stand on
  const double top_z = *base_z + std::max(0.0, building.height_m);

  // Footprint coordinates relative to its first vertex keep the roof
  // triangulation well conditioned at Lambert-93 magnitudes.
  const double ox = rings.front().front().x_m;
  const double oy = rings.front().front().y_m;

  // Walls: the solid is on the left of each edge when the outer ring runs
  // counter-clockwise and holes clockwise, so (a, b, b_top) faces outward.
  for (std::size_t k = 0; k < rings.size(); ++k) {
    Ring ring = rings[k];
    const bool ccw = signed_area_m2(ring) > 0.0;
    if ((k == 0) != ccw) std::reverse(ring.begin(), ring.end());
    for (std::size_t i = 0; i < ring.size(); ++i) {
      const MapPoint& a = ring[i];
      const MapPoint& b = ring[(i + 1) % ring.size()];
      const std::uint32_t a0 = push_vertex(mesh, a.x_m, a.y_m, *base_z);
      const std::uint32_t b0 = push_vertex(mesh, b.x_m, b.y_m, *base_z);
      const std::uint32_t b1 = push_vertex(mesh, b.x_m, b.y_m, top_z);
      const std::uint32_t a1 = push_vertex(mesh, a.x_m, a.y_m, top_z);
      mesh.triangles.push_back({a0, b0, b1});
      mesh.triangles.push_back({a0, b1, a1});
    }
  }

  // Roof: a constrained triangulation of the footprint, holes left out.
  Cdt cdt;
  for (const Ring& ring : rings) {
    VertexHandle first, previous;
    for (const MapPoint& p : ring) {
      VertexHandle v = cdt.insert(Point2(p.x_m - ox, p.y_m - oy));
      if (previous != VertexHandle() && previous != v) cdt.insert_constraint(previous, v);
      if (first == VertexHandle()) first = v;
      previous = v;
    }
    if (previous != first) cdt.insert_constraint(previous, first);
  }
  mark_domains(cdt);
  std::int32_t next = 0;
  std::vector<std::uint32_t> index;
  for (auto v = cdt.finite_vertices_begin(); v != cdt.finite_vertices_end(); ++v) {
    v->info().id = next++;
    index.push_back(push_vertex(mesh, v->point().x() + ox, v->point().y() + oy, top_z));
  }
  for (auto f = cdt.finite_faces_begin(); f != cdt.finite_faces_end(); ++f) {
    if (f->info().nesting_level % 2 != 1) continue;
    const auto ids = ids_of(f);
    mesh.triangles.push_back({index[static_cast<std::size_t>(ids[0])], index[static_cast<std::size_t>(ids[1])],
                              index[static_cast<std::size_t>(ids[2])]});
  }
}

}  // namespace

TerrainMesh build_terrain_mesh(const Raster& dem, std::span<const Building> buildings, const TerrainMeshOptions& options) {
  if (dem.grid().cols <= 0 || dem.grid().rows <= 0 || dem.values().size() != dem.grid().cell_count()) {
    fail(kWhere, "the DEM is empty ({}x{} cells)", dem.grid().cols, dem.grid().rows);
  }
  TerrainBuilder builder(dem, options);
  return builder.build(buildings);
}

Mesh extrude_buildings(std::span<const Building> buildings, const Raster& dem) {
  Mesh mesh;
  for (const Building& building : buildings) extrude_one(building, dem, mesh);
  return mesh;
}

std::optional<double> mesh_height_at(const Mesh& mesh, MapPoint p) {
  for (const auto& t : mesh.triangles) {
    const Vertex3& a = mesh.vertices[t[0]];
    const Vertex3& b = mesh.vertices[t[1]];
    const Vertex3& c = mesh.vertices[t[2]];
    // Differences first: at Lambert-93 magnitudes the products of absolute
    // coordinates would lose the centimetres.
    const double ux = b.x_m - a.x_m, uy = b.y_m - a.y_m;
    const double vx = c.x_m - a.x_m, vy = c.y_m - a.y_m;
    const double px = p.x_m - a.x_m, py = p.y_m - a.y_m;
    const double det = ux * vy - uy * vx;
    if (det == 0.0) continue;
    const double s = (px * vy - py * vx) / det;
    const double t2 = (ux * py - uy * px) / det;
    constexpr double kTolerance = 1e-9;
    if (s < -kTolerance || t2 < -kTolerance || s + t2 > 1.0 + kTolerance) continue;
    return a.z_m + s * (b.z_m - a.z_m) + t2 * (c.z_m - a.z_m);
  }
  return std::nullopt;
}

}  // namespace cadereau::twin
