#include "scene_graph.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/terrain_mesh.h"

#include <osg/AutoTransform>
#include <osg/Geode>
#include <osg/Geometry>
#include <osg/Image>
#include <osg/Light>
#include <osg/LineWidth>
#include <osg/Material>
#include <osg/PolygonOffset>
#include <osg/Shape>
#include <osg/ShapeDrawable>
#include <osg/Texture2D>
#include <osgText/Font>
#include <osgText/Text>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cadereau::viewer::detail {
namespace {

using Rgb = std::array<float, 3>;

Rgb mix(const Rgb& a, const Rgb& b, double t) {
  const auto f = static_cast<float>(std::clamp(t, 0.0, 1.0));
  return {a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f};
}

// Hypsometric tints for a Mediterranean town: the Vistre plain in greens,
// the garrigue slopes in ochres and browns, the hilltops in pale limestone.
Rgb elevation_colour(double t) {
  struct Stop {
    double at;
    Rgb rgb;
  };
  static const std::array<Stop, 6> ramp{{
      {0.00, {0.42f, 0.58f, 0.33f}},
      {0.18, {0.56f, 0.66f, 0.38f}},
      {0.38, {0.74f, 0.70f, 0.45f}},
      {0.60, {0.70f, 0.57f, 0.38f}},
      {0.80, {0.63f, 0.52f, 0.40f}},
      {1.00, {0.82f, 0.79f, 0.70f}},
  }};
  t = std::clamp(t, 0.0, 1.0);
  for (std::size_t i = 1; i < ramp.size(); ++i) {
    if (t <= ramp[i].at) return mix(ramp[i - 1].rgb, ramp[i].rgb, (t - ramp[i - 1].at) / (ramp[i].at - ramp[i - 1].at));
  }
  return ramp.back().rgb;
}

bool contains_any(const std::string& text, std::initializer_list<std::string_view> words) {
  return std::any_of(words.begin(), words.end(), [&](std::string_view w) { return text.find(w) != std::string::npos; });
}

// Land-cover classes are named by the territory, so colours go by the words
// in the name; unknown classes get a distinct muted colour by id.
Rgb land_cover_colour(int id, const std::map<int, twin::LandCoverClass>& classes) {
  std::string name;
  if (auto it = classes.find(id); it != classes.end()) name = it->second.name;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (contains_any(name, {"water", "river", "stream", "cadereau", "lake", "canal", "channel", "eau"})) return {0.43f, 0.62f, 0.80f};
  if (contains_any(name, {"road", "street", "paved", "asphalt", "parking", "voirie"})) return {0.62f, 0.61f, 0.59f};
  if (contains_any(name, {"industrial", "commercial", "activit"})) return {0.74f, 0.73f, 0.72f};
  if (contains_any(name, {"historic", "dense", "centre", "center", "city"})) return {0.78f, 0.71f, 0.62f};
  if (contains_any(name, {"urban", "built", "town", "residential", "housing", "bati", "urbain"})) return {0.82f, 0.79f, 0.70f};
  if (contains_any(name, {"garrigue", "scrub", "shrub", "maquis", "heath"})) return {0.60f, 0.60f, 0.40f};
  if (contains_any(name, {"forest", "wood", "pine", "oak", "tree", "bois", "foret"})) return {0.31f, 0.46f, 0.26f};
  if (contains_any(name, {"park", "grass", "meadow", "lawn", "garden", "pasture", "prairie", "green"})) return {0.50f, 0.68f, 0.36f};
  if (contains_any(name, {"vine", "vineyard", "crop", "agri", "field", "farm", "orchard", "olive", "arable", "cultur"}))
    return {0.68f, 0.71f, 0.45f};
  if (contains_any(name, {"rock", "bare", "quarry", "stone", "sand"})) return {0.82f, 0.79f, 0.72f};
  static const std::array<Rgb, 6> fallback{{{0.60f, 0.70f, 0.45f},
                                            {0.75f, 0.68f, 0.50f},
                                            {0.55f, 0.60f, 0.62f},
                                            {0.70f, 0.60f, 0.55f},
                                            {0.62f, 0.66f, 0.40f},
                                            {0.78f, 0.75f, 0.66f}}};
  return fallback[static_cast<std::size_t>(std::abs(id)) % fallback.size()];
}

struct DemRange {
  double min_m = 0.0;
  double max_m = 0.0;
};

DemRange dem_range(const twin::Raster& dem) {
  DemRange range{std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest()};
  for (float v : dem.values()) {
    if (dem.is_nodata(v)) continue;
    range.min_m = std::min(range.min_m, static_cast<double>(v));
    range.max_m = std::max(range.max_m, static_cast<double>(v));
  }
  if (range.min_m > range.max_m) fail("viewer", "the DEM has no valid cell");
  return range;
}

// The terrain's colours as a texture on the DEM grid, so that they keep the
// DEM's resolution whatever the simplification of the mesh. A light baked
// hillshade adds the relief finer than the mesh triangles.
osg::ref_ptr<osg::Image> terrain_image(const twin::Territory& territory, const SceneOptions& options, const DemRange& range) {
  const twin::Raster& dem = territory.dem;
  const twin::GridSpec& grid = dem.grid();
  // Textures larger than this are slow on software renderers and refused by some drivers.
  constexpr int kMaxTexturePx = 4096;
  const int step = std::max(1, static_cast<int>(std::ceil(std::max(grid.cols, grid.rows) / static_cast<double>(kMaxTexturePx))));
  const int width = (grid.cols + step - 1) / step;
  const int height = (grid.rows + step - 1) / step;

  const bool by_land_cover =
      territory.landcover && territory.landcover->grid().same_as(grid) &&
      (options.colouring == TerrainColouring::land_cover || options.colouring == TerrainColouring::automatic);
  if (options.colouring == TerrainColouring::land_cover && !by_land_cover) {
    spdlog::warn("viewer: the territory has no land cover on the DEM grid, colouring by elevation");
  }
  const double span_m = std::max(1.0, range.max_m - range.min_m);
  constexpr double kWetDepth_m = 0.05;
  const twin::Raster* water = options.water_depth ? &*options.water_depth : nullptr;
  if (water && !water->grid().same_as(grid)) {
    spdlog::warn("viewer: the water depth raster is not on the DEM grid; not drawn");
    water = nullptr;
  }

  osg::ref_ptr<osg::Image> image = new osg::Image;
  image->allocateImage(width, height, 1, GL_RGB, GL_UNSIGNED_BYTE);
  auto height_at = [&](int col, int row) -> double {
    col = std::clamp(col, 0, grid.cols - 1);
    row = std::clamp(row, 0, grid.rows - 1);
    const float v = dem.at(col, row);
    return dem.is_nodata(v) ? range.min_m : static_cast<double>(v);
  };
  // Sun from the west-south-west, as the scene light.
  const osg::Vec3d sun = osg::Vec3d(-0.7, -0.35, 0.62) / osg::Vec3d(-0.7, -0.35, 0.62).length();
  for (int j = 0; j < height; ++j) {
    // Image rows run south to north (OpenGL's origin is bottom-left), DEM rows north to south.
    const int row = std::min(grid.rows - 1, grid.rows - 1 - j * step);
    unsigned char* out = image->data(0, j);
    for (int i = 0; i < width; ++i) {
      const int col = std::min(grid.cols - 1, i * step);
      const float v = dem.at(col, row);
      Rgb rgb{0.55f, 0.55f, 0.55f};
      if (!dem.is_nodata(v)) {
        const double t = (v - range.min_m) / span_m;
        if (by_land_cover) {
          const float lc = territory.landcover->at(col, row);
          rgb = territory.landcover->is_nodata(lc) ? elevation_colour(t)
                                                   : land_cover_colour(static_cast<int>(std::lround(lc)), territory.manifest.landcover_classes);
          // Keep a hint of height in land-cover colours.
          rgb = mix(rgb, elevation_colour(t), 0.2);
        } else {
          rgb = elevation_colour(t);
        }
        // Exaggerated like the scene so that the shading agrees with the mesh.
        const double dzdx = (height_at(col + 1, row) - height_at(col - 1, row)) / (2 * grid.cell_w_m) * options.vertical_exaggeration;
        const double dzdy = (height_at(col, row - 1) - height_at(col, row + 1)) / (2 * grid.cell_h_m) * options.vertical_exaggeration;
        osg::Vec3d normal(-dzdx, -dzdy, 1.0);
        normal.normalize();
        const double flat = sun.z();
        const double shade = std::clamp(1.0 + 0.55 * (normal * sun - flat), 0.7, 1.2);
        for (auto& c : rgb) c = static_cast<float>(std::clamp(c * shade, 0.0, 1.0));
        if (water) {
          // Light blue for a few centimetres, deep blue from 2 m: the depth reads at a glance.
          const float d = water->at(col, row);
          if (!water->is_nodata(d) && d >= kWetDepth_m) {
            const double t = std::clamp((d - kWetDepth_m) / (2.0 - kWetDepth_m), 0.0, 1.0);
            const Rgb blue = mix(Rgb{0.55f, 0.78f, 0.95f}, Rgb{0.05f, 0.20f, 0.60f}, t);
            rgb = mix(rgb, blue, 0.85);
          }
        }
      }
      out[3 * i + 0] = static_cast<unsigned char>(std::lround(rgb[0] * 255));
      out[3 * i + 1] = static_cast<unsigned char>(std::lround(rgb[1] * 255));
      out[3 * i + 2] = static_cast<unsigned char>(std::lround(rgb[2] * 255));
    }
  }
  return image;
}

// Area-weighted vertex normals of a triangle soup in scene coordinates.
osg::ref_ptr<osg::Vec3Array> vertex_normals(const osg::Vec3Array& vertices, const osg::DrawElementsUInt& triangles) {
  osg::ref_ptr<osg::Vec3Array> normals = new osg::Vec3Array(vertices.size());
  std::fill(normals->begin(), normals->end(), osg::Vec3(0, 0, 0));
  for (std::size_t k = 0; k + 2 < triangles.size(); k += 3) {
    const unsigned a = triangles[k], b = triangles[k + 1], c = triangles[k + 2];
    const osg::Vec3 n = (vertices[b] - vertices[a]) ^ (vertices[c] - vertices[a]);  // length = 2 x area
    (*normals)[a] += n;
    (*normals)[b] += n;
    (*normals)[c] += n;
  }
  for (auto& n : *normals) {
    if (n.length2() > 0) {
      n.normalize();
    } else {
      n.set(0, 0, 1);
    }
  }
  return normals;
}

osg::ref_ptr<osg::Material> colour_material(float shininess = 0.0f) {
  osg::ref_ptr<osg::Material> material = new osg::Material;
  material->setColorMode(osg::Material::AMBIENT_AND_DIFFUSE);
  material->setSpecular(osg::Material::FRONT_AND_BACK, osg::Vec4(0.08f, 0.08f, 0.08f, 1.0f));
  material->setShininess(osg::Material::FRONT_AND_BACK, shininess);
  return material;
}

struct TerrainNode {
  osg::ref_ptr<osg::Geode> geode;
  osg::BoundingBox bounds;
  std::vector<osg::Vec3> framing_points;
  twin::TerrainMesh mesh;
};

TerrainNode terrain_node(const twin::Territory& territory, const SceneOptions& options, const LocalFrame& frame,
                         const DemRange& range) {
  TerrainNode node;
  const auto start = std::chrono::steady_clock::now();
  node.mesh = twin::build_terrain_mesh(territory.dem, territory.buildings, options.terrain_mesh);
  spdlog::info("viewer: terrain mesh {} vertices, {} triangles, max error {:.2f} m, {} footprint edges, {:.2f} s",
               node.mesh.mesh.vertices.size(), node.mesh.mesh.triangles.size(), node.mesh.max_vertical_error_m,
               node.mesh.constrained_edges, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

  const twin::Box extent = territory.dem.grid().extent();
  osg::ref_ptr<osg::Vec3Array> vertices = new osg::Vec3Array;
  osg::ref_ptr<osg::Vec2Array> texcoords = new osg::Vec2Array;
  vertices->reserve(node.mesh.mesh.vertices.size());
  for (const twin::Vertex3& v : node.mesh.mesh.vertices) {
    vertices->push_back(frame.to_scene(v.x_m, v.y_m, v.z_m));
    texcoords->push_back(osg::Vec2(static_cast<float>((v.x_m - extent.x_min_m) / extent.width_m()),
                                   static_cast<float>((v.y_m - extent.y_min_m) / extent.height_m())));
    node.bounds.expandBy(vertices->back());
  }
  osg::ref_ptr<osg::DrawElementsUInt> triangles = new osg::DrawElementsUInt(GL_TRIANGLES);
  triangles->reserve(node.mesh.mesh.triangles.size() * 3);
  for (const auto& t : node.mesh.mesh.triangles) {
    triangles->push_back(t[0]);
    triangles->push_back(t[1]);
    triangles->push_back(t[2]);
  }
  osg::ref_ptr<osg::Geometry> surface = new osg::Geometry;
  surface->setUseVertexBufferObjects(true);
  surface->setVertexArray(vertices);
  surface->setNormalArray(vertex_normals(*vertices, *triangles), osg::Array::BIND_PER_VERTEX);
  surface->setTexCoordArray(0, texcoords);
  surface->addPrimitiveSet(triangles);

  osg::ref_ptr<osg::Texture2D> texture = new osg::Texture2D(terrain_image(territory, options, range));
  texture->setResizeNonPowerOfTwoHint(false);
  texture->setFilter(osg::Texture::MIN_FILTER, osg::Texture::LINEAR_MIPMAP_LINEAR);
  texture->setFilter(osg::Texture::MAG_FILTER, osg::Texture::LINEAR);
  texture->setWrap(osg::Texture::WRAP_S, osg::Texture::CLAMP_TO_EDGE);
  texture->setWrap(osg::Texture::WRAP_T, osg::Texture::CLAMP_TO_EDGE);
  osg::ref_ptr<osg::Material> material = new osg::Material;
  material->setAmbient(osg::Material::FRONT_AND_BACK, osg::Vec4(1, 1, 1, 1));
  material->setDiffuse(osg::Material::FRONT_AND_BACK, osg::Vec4(1, 1, 1, 1));
  material->setSpecular(osg::Material::FRONT_AND_BACK, osg::Vec4(0, 0, 0, 1));
  osg::StateSet* state = surface->getOrCreateStateSet();
  state->setTextureAttributeAndModes(0, texture, osg::StateAttribute::ON);
  state->setAttributeAndModes(material, osg::StateAttribute::ON);

  node.geode = new osg::Geode;
  node.geode->setName("terrain");
  node.geode->addDrawable(surface);

  // Skirts down the open edges of the mesh make the territory read as a
  // block model, and hide the sky under the edges at oblique angles.
  const float base_z = -std::max(20.0f, 0.015f * std::max(node.bounds.xMax() - node.bounds.xMin(), node.bounds.yMax() - node.bounds.yMin()));
  std::map<std::pair<unsigned, unsigned>, int> edge_uses;
  for (const auto& t : node.mesh.mesh.triangles) {
    for (int k = 0; k < 3; ++k) {
      const unsigned a = t[k], b = t[(k + 1) % 3];
      edge_uses[{std::min(a, b), std::max(a, b)}] += 1;
    }
  }
  osg::ref_ptr<osg::Vec3Array> skirt_vertices = new osg::Vec3Array;
  osg::ref_ptr<osg::Vec3Array> skirt_normals = new osg::Vec3Array;
  for (const auto& t : node.mesh.mesh.triangles) {
    for (int k = 0; k < 3; ++k) {
      const unsigned a = t[k], b = t[(k + 1) % 3];
      if (edge_uses[{std::min(a, b), std::max(a, b)}] != 1) continue;
      // Counter-clockwise triangle: the outside of edge a->b is on its right.
      const osg::Vec3 pa = (*vertices)[a], pb = (*vertices)[b];
      const osg::Vec3 qa(pa.x(), pa.y(), base_z), qb(pb.x(), pb.y(), base_z);
      osg::Vec3 outward(pb.y() - pa.y(), -(pb.x() - pa.x()), 0.0f);
      outward.normalize();
      node.framing_points.push_back(pa);
      node.framing_points.push_back(qa);
      for (const osg::Vec3& p : {qa, qb, pb, qa, pb, pa}) {
        skirt_vertices->push_back(p);
        skirt_normals->push_back(outward);
      }
    }
  }
  node.bounds.expandBy(osg::Vec3(node.bounds.xMin(), node.bounds.yMin(), base_z));
  const std::size_t stride = std::max<std::size_t>(1, vertices->size() / 4000);
  for (std::size_t i = 0; i < vertices->size(); i += stride) node.framing_points.push_back((*vertices)[i]);
  osg::ref_ptr<osg::Geometry> skirt = new osg::Geometry;
  skirt->setVertexArray(skirt_vertices);
  skirt->setNormalArray(skirt_normals, osg::Array::BIND_PER_VERTEX);
  osg::ref_ptr<osg::Vec4Array> skirt_colour = new osg::Vec4Array;
  skirt_colour->push_back(osg::Vec4(0.55f, 0.46f, 0.36f, 1.0f));
  skirt->setColorArray(skirt_colour, osg::Array::BIND_OVERALL);
  skirt->addPrimitiveSet(new osg::DrawArrays(GL_TRIANGLES, 0, static_cast<GLsizei>(skirt_vertices->size())));
  skirt->getOrCreateStateSet()->setAttributeAndModes(colour_material(), osg::StateAttribute::ON);
  node.geode->addDrawable(skirt);
  return node;
}

osg::ref_ptr<osg::Geode> buildings_node(const twin::Territory& territory, const LocalFrame& frame, std::size_t& triangle_count) {
  const twin::Mesh mesh = twin::extrude_buildings(territory.buildings, territory.dem);
  triangle_count = mesh.triangles.size();
  osg::ref_ptr<osg::Vec3Array> vertices = new osg::Vec3Array;
  vertices->reserve(mesh.vertices.size());
  for (const twin::Vertex3& v : mesh.vertices) vertices->push_back(frame.to_scene(v.x_m, v.y_m, v.z_m));
  osg::ref_ptr<osg::DrawElementsUInt> triangles = new osg::DrawElementsUInt(GL_TRIANGLES);
  triangles->reserve(mesh.triangles.size() * 3);
  for (const auto& t : mesh.triangles) {
    triangles->push_back(t[0]);
    triangles->push_back(t[1]);
    triangles->push_back(t[2]);
  }
  osg::ref_ptr<osg::Vec3Array> normals = vertex_normals(*vertices, *triangles);
  // Nîmes: pale limestone walls under terracotta roofs, a little varied per
  // vertex position so that neighbouring roofs do not merge into one slab.
  osg::ref_ptr<osg::Vec4Array> colours = new osg::Vec4Array;
  colours->reserve(vertices->size());
  for (std::size_t i = 0; i < vertices->size(); ++i) {
    const bool roof = (*normals)[i].z() > 0.9f;
    const twin::Vertex3& v = mesh.vertices[i];
    const auto cell = static_cast<unsigned>(std::floor(v.x_m / 7.0)) * 73856093u ^ static_cast<unsigned>(std::floor(v.y_m / 7.0)) * 19349663u;
    const float jitter = static_cast<float>(cell % 1000u) / 1000.0f * 0.08f - 0.04f;
    if (roof) {
      colours->push_back(osg::Vec4(0.76f + jitter, 0.45f + jitter * 0.5f, 0.33f, 1.0f));
    } else {
      colours->push_back(osg::Vec4(0.92f, 0.88f + jitter * 0.3f, 0.79f, 1.0f));
    }
  }
  osg::ref_ptr<osg::Geometry> geometry = new osg::Geometry;
  geometry->setUseVertexBufferObjects(true);
  geometry->setVertexArray(vertices);
  geometry->setNormalArray(normals, osg::Array::BIND_PER_VERTEX);
  geometry->setColorArray(colours, osg::Array::BIND_PER_VERTEX);
  geometry->addPrimitiveSet(triangles);
  geometry->getOrCreateStateSet()->setAttributeAndModes(colour_material(), osg::StateAttribute::ON);
  osg::ref_ptr<osg::Geode> geode = new osg::Geode;
  geode->setName("buildings");
  geode->addDrawable(geometry);
  return geode;
}

std::optional<double> ground_at(const twin::Raster& dem, twin::MapPoint p) {
  if (auto z = dem.sample(p)) return z;
  if (auto cell = dem.grid().cell_at(p); cell && !dem.is_nodata(*cell)) return static_cast<double>(dem.at(*cell));
  return std::nullopt;
}

const osg::Vec4 kClosedRoadColour(0.86f, 0.08f, 0.10f, 1.0f);

// The colour of an asset out of service, over its type's.
osg::Vec4 status_colour(AssetStatus status) {
  switch (status) {
    case AssetStatus::failed: return {0.06f, 0.06f, 0.07f, 1.0f};  // dark: out
    case AssetStatus::cut_off: return {1.0f, 0.50f, 0.0f, 1.0f};
    case AssetStatus::on_backup: return {0.98f, 0.86f, 0.10f, 1.0f};
  }
  return {1.0f, 0.0f, 1.0f, 1.0f};
}

// Roads as ribbons draped on the DEM (densified to the cell size so they
// follow the ground), junction areas filled, major roads brighter and wider.
osg::ref_ptr<osg::Geode> roads_node(const twin::Territory& territory, const LocalFrame& frame, double width_scale,
                                    const std::set<std::string>& closed, std::size_t& edge_count, std::size_t& closed_count) {
  osg::ref_ptr<osg::Geode> geode = new osg::Geode;
  geode->setName("roads");
  edge_count = 0;
  closed_count = 0;
  if (!territory.network) return geode;
  const twin::Raster& dem = territory.dem;
  const double step_m = std::max(2.0, std::min(dem.grid().cell_w_m, dem.grid().cell_h_m));
  constexpr double kLiftM = 1.5;  // above the DEM: the mesh is within its error bound of it
  const osg::Vec4 major_colour(0.99f, 0.93f, 0.72f, 1.0f);
  const osg::Vec4 minor_colour(0.86f, 0.85f, 0.82f, 1.0f);

  osg::ref_ptr<osg::Vec3Array> vertices = new osg::Vec3Array;
  osg::ref_ptr<osg::Vec4Array> colours = new osg::Vec4Array;
  auto lifted = [&](twin::MapPoint p) -> std::optional<osg::Vec3> {
    const auto z = ground_at(dem, p);
    if (!z) return std::nullopt;
    return frame.to_scene(p.x_m, p.y_m, *z + kLiftM);
  };
  auto push_triangle = [&](const osg::Vec3& a, const osg::Vec3& b, const osg::Vec3& c, const osg::Vec4& colour) {
    for (const osg::Vec3& p : {a, b, c}) {
      vertices->push_back(p);
      colours->push_back(colour);
    }
  };

  for (const twin::Edge& edge : territory.network->edges()) {
    if (edge.shape.size() < 2) continue;
    ++edge_count;
    double width_m = 0.0;
    for (const twin::Lane& lane : edge.lanes) width_m += lane.width_m > 0 ? lane.width_m : 3.2;
    width_m = std::max(width_m, 3.2);
    const bool major = edge.lanes.size() >= 2;
    const bool is_closed = closed.count(edge.id) > 0;
    closed_count += is_closed ? 1 : 0;
    // A closed road is drawn wider, to be seen from the whole-territory view.
    const double half_m = 0.5 * width_m * width_scale * (is_closed ? 1.6 : major ? 1.25 : 1.0);
    const osg::Vec4& colour = is_closed ? kClosedRoadColour : major ? major_colour : minor_colour;

    // Densify.
    twin::Polyline line;
    for (std::size_t i = 0; i + 1 < edge.shape.size(); ++i) {
      const twin::MapPoint a = edge.shape[i], b = edge.shape[i + 1];
      const double length_m = std::hypot(b.x_m - a.x_m, b.y_m - a.y_m);
      const int pieces = std::max(1, static_cast<int>(std::ceil(length_m / step_m)));
      for (int k = 0; k < pieces; ++k) {
        const double f = static_cast<double>(k) / pieces;
        line.push_back({a.x_m + f * (b.x_m - a.x_m), a.y_m + f * (b.y_m - a.y_m)});
      }
    }
    line.push_back(edge.shape.back());

    // Offsets along the mitred normal, limited so sharp turns do not spike.
    std::vector<std::pair<osg::Vec3, osg::Vec3>> sides;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const twin::MapPoint prev = line[i == 0 ? 0 : i - 1];
      const twin::MapPoint next = line[std::min(i + 1, line.size() - 1)];
      double dx = next.x_m - prev.x_m, dy = next.y_m - prev.y_m;
      const double len = std::hypot(dx, dy);
      if (len == 0) continue;
      dx /= len;
      dy /= len;
      double scale = 1.0;
      if (i > 0 && i + 1 < line.size()) {
        const double ax = line[i].x_m - prev.x_m, ay = line[i].y_m - prev.y_m;
        const double la = std::hypot(ax, ay);
        if (la > 0) scale = 1.0 / std::max(0.5, (ax * dx + ay * dy) / la);
      }
      const twin::MapPoint left{line[i].x_m - dy * half_m * scale, line[i].y_m + dx * half_m * scale};
      const twin::MapPoint right{line[i].x_m + dy * half_m * scale, line[i].y_m - dx * half_m * scale};
      const auto l = lifted(left);
      const auto r = lifted(right);
      if (!l || !r) continue;
      sides.emplace_back(*l, *r);
    }
    for (std::size_t i = 0; i + 1 < sides.size(); ++i) {
      push_triangle(sides[i].second, sides[i + 1].second, sides[i + 1].first, colour);
      push_triangle(sides[i].second, sides[i + 1].first, sides[i].first, colour);
    }
  }

  // Junction areas, as fans: SUMO junction shapes are convex or nearly.
  for (const twin::Junction& junction : territory.network->junctions()) {
    if (junction.shape.size() < 3) continue;
    const auto centre = lifted(junction.position);
    if (!centre) continue;
    for (std::size_t i = 0; i < junction.shape.size(); ++i) {
      const auto a = lifted(junction.shape[i]);
      const auto b = lifted(junction.shape[(i + 1) % junction.shape.size()]);
      if (!a || !b) continue;
      // Counter-clockwise seen from above whatever the ring's orientation.
      const bool ccw = ((a->x() - centre->x()) * (b->y() - centre->y()) - (a->y() - centre->y()) * (b->x() - centre->x())) > 0;
      push_triangle(*centre, ccw ? *a : *b, ccw ? *b : *a, minor_colour);
    }
  }

  osg::ref_ptr<osg::Vec3Array> normals = new osg::Vec3Array;
  normals->push_back(osg::Vec3(0, 0, 1));
  osg::ref_ptr<osg::Geometry> geometry = new osg::Geometry;
  geometry->setUseVertexBufferObjects(true);
  geometry->setVertexArray(vertices);
  geometry->setColorArray(colours, osg::Array::BIND_PER_VERTEX);
  geometry->setNormalArray(normals, osg::Array::BIND_OVERALL);
  geometry->addPrimitiveSet(new osg::DrawArrays(GL_TRIANGLES, 0, static_cast<GLsizei>(vertices->size())));
  osg::StateSet* state = geometry->getOrCreateStateSet();
  state->setAttributeAndModes(colour_material(), osg::StateAttribute::ON);
  // Pulled towards the camera so that the ribbons win against the terrain
  // where the simplified mesh rises above the DEM.
  state->setAttributeAndModes(new osg::PolygonOffset(-2.0f, -8.0f), osg::StateAttribute::ON);
  state->setMode(GL_CULL_FACE, osg::StateAttribute::OFF);
  geode->addDrawable(geometry);
  return geode;
}

struct AssetStyle {
  osg::Vec4 colour;
  enum class Shape { cone, box, sphere } shape;
  int label_priority;  // 0: no label; where labels collide, the higher one stays
  double scale;
  double stem_scale;
};

// Emergency services first, then the networks they depend on, then the
// vulnerable sites; traffic signals and car parks are too many to name.
AssetStyle asset_style(twin::AssetType type) {
  using S = AssetStyle::Shape;
  switch (type) {
    case twin::AssetType::crisis_post: return {{0.90f, 0.20f, 0.75f, 1}, S::cone, 10, 1.3, 1.0};
    case twin::AssetType::hospital: return {{0.86f, 0.10f, 0.12f, 1}, S::cone, 9, 1.2, 1.0};
    case twin::AssetType::fire_station: return {{0.62f, 0.02f, 0.05f, 1}, S::cone, 8, 1.1, 1.0};
    case twin::AssetType::police: return {{0.12f, 0.28f, 0.85f, 1}, S::cone, 7, 1.0, 1.0};
    case twin::AssetType::substation: return {{0.55f, 0.22f, 0.80f, 1}, S::box, 6, 1.0, 1.0};
    case twin::AssetType::water_treatment: return {{0.18f, 0.45f, 0.92f, 1}, S::box, 5, 1.0, 1.0};
    case twin::AssetType::pumping_station: return {{0.10f, 0.72f, 0.82f, 1}, S::box, 5, 1.0, 1.0};
    case twin::AssetType::retirement_home: return {{0.98f, 0.52f, 0.14f, 1}, S::cone, 4, 1.0, 1.0};
    case twin::AssetType::school: return {{0.98f, 0.82f, 0.10f, 1}, S::cone, 3, 1.0, 1.0};
    case twin::AssetType::telecom_node: return {{0.10f, 0.62f, 0.42f, 1}, S::box, 2, 0.9, 1.0};
    case twin::AssetType::underpass: return {{0.25f, 0.25f, 0.30f, 1}, S::sphere, 1, 0.8, 0.7};
    case twin::AssetType::car_park: return {{0.40f, 0.62f, 0.98f, 1}, S::sphere, 0, 0.7, 0.6};
    case twin::AssetType::traffic_signal: return {{0.15f, 0.80f, 0.20f, 1}, S::sphere, 0, 0.55, 0.35};
  }
  return {{1, 1, 1, 1}, S::sphere, 1, 1.0, 1.0};
}

osg::ref_ptr<osgText::Font> label_font() {
  // A real TrueType font when the system has one; osgText's built-in
  // bitmap font otherwise.
  for (const char* path : {"/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"}) {
    if (std::filesystem::exists(path)) {
      if (osg::ref_ptr<osgText::Font> font = osgText::readRefFontFile(path)) return font;
    }
  }
  return osgText::Font::getDefaultFont();
}

// Map pins of constant screen size (an AutoTransform scales them with the
// distance): a stem from the ground and a coloured symbol, the name above.
// Units inside the pin are pixels.
osg::ref_ptr<osg::Group> assets_node(const twin::Territory& territory, const SceneOptions& options, const LocalFrame& frame,
                                     std::size_t& asset_count, std::vector<Label>& placed_labels,
                                     std::vector<twin::AssetType>& types, std::vector<AssetStatus>& statuses) {
  constexpr float kStemPx = 26.0f;
  constexpr float kSymbolPx = 11.0f;
  osg::ref_ptr<osg::Group> group = new osg::Group;
  group->setName("assets");
  osg::ref_ptr<osg::Group> labels = new osg::Group;
  osg::ref_ptr<osgText::Font> font = options.show_labels ? label_font() : nullptr;

  auto make_stem = [](float height_px) {
    osg::ref_ptr<osg::Geometry> stem = new osg::Geometry;
    osg::ref_ptr<osg::Vec3Array> points = new osg::Vec3Array;
    points->push_back(osg::Vec3(0, 0, 0));
    points->push_back(osg::Vec3(0, 0, height_px));
    stem->setVertexArray(points);
    osg::ref_ptr<osg::Vec4Array> colour = new osg::Vec4Array;
    colour->push_back(osg::Vec4(0.12f, 0.12f, 0.12f, 1.0f));
    stem->setColorArray(colour, osg::Array::BIND_OVERALL);
    stem->addPrimitiveSet(new osg::DrawArrays(GL_LINES, 0, 2));
    osg::StateSet* state = stem->getOrCreateStateSet();
    state->setMode(GL_LIGHTING, osg::StateAttribute::OFF);
    state->setAttributeAndModes(new osg::LineWidth(1.5f), osg::StateAttribute::ON);
    return stem;
  };

  asset_count = 0;
  for (const twin::Asset& asset : territory.assets) {
    const auto ground = ground_at(territory.dem, asset.location);
    if (!ground) continue;
    ++asset_count;
    if (std::find(types.begin(), types.end(), asset.type) == types.end()) types.push_back(asset.type);
    const AssetStyle style = asset_style(asset.type);
    const auto status = options.asset_status.find(asset.id);
    const bool out = status != options.asset_status.end();
    if (out && std::find(statuses.begin(), statuses.end(), status->second) == statuses.end()) statuses.push_back(status->second);
    const auto size = static_cast<float>(kSymbolPx * style.scale * (out ? 1.4 : 1.0));
    const auto stem_px = static_cast<float>(kStemPx * style.stem_scale);
    const osg::Vec3 head(0, 0, stem_px + size * 0.5f);
    osg::ref_ptr<osg::Shape> shape;
    switch (style.shape) {
      case AssetStyle::Shape::cone: {
        // Point down, like a map pin.
        osg::ref_ptr<osg::Cone> cone = new osg::Cone(head, size * 0.7f, size * 1.5f);
        cone->setRotation(osg::Quat(osg::PI, osg::Vec3(1, 0, 0)));
        shape = cone;
        break;
      }
      case AssetStyle::Shape::box: shape = new osg::Box(head, size); break;
      case AssetStyle::Shape::sphere: shape = new osg::Sphere(head, size * 0.6f); break;
    }
    osg::ref_ptr<osg::ShapeDrawable> symbol = new osg::ShapeDrawable(shape);
    symbol->setColor(out ? status_colour(status->second) : style.colour);
    osg::ref_ptr<osg::Geode> pin = new osg::Geode;
    pin->addDrawable(symbol);
    pin->addDrawable(make_stem(stem_px));

    osg::ref_ptr<osg::AutoTransform> place = new osg::AutoTransform;
    place->setPosition(osg::Vec3d(frame.to_scene(asset.location.x_m, asset.location.y_m, *ground)));
    place->setAutoScaleToScreen(true);
    place->addChild(pin);
    place->setName(asset.id);
    group->addChild(place);

    if (options.show_labels && style.label_priority > 0 && !asset.name.empty()) {
      osg::ref_ptr<osgText::Text> text = new osgText::Text;
      text->setFont(font);
      text->setText(asset.name, osgText::String::ENCODING_UTF8);
      // The label frame is scaled to pixels and turned to face the screen, so
      // the text lies in its XY plane and sits a few pixels above the pin.
      text->setCharacterSizeMode(osgText::Text::OBJECT_COORDS);
      text->setCharacterSize(14.0f);
      text->setFontResolution(32, 32);
      text->setAxisAlignment(osgText::Text::XY_PLANE);
      text->setAlignment(osgText::Text::CENTER_BOTTOM);
      text->setPosition(osg::Vec3(0, 0.8f * (stem_px + size) + 6.0f, 0));
      text->setColor(osg::Vec4(1.0f, 1.0f, 1.0f, 1.0f));
      text->setBackdropType(osgText::Text::OUTLINE);
      text->setBackdropColor(osg::Vec4(0.1f, 0.1f, 0.12f, 0.9f));
      text->setBackdropOffset(0.1f);
      osg::ref_ptr<osg::Geode> label = new osg::Geode;
      label->addDrawable(text);
      osg::ref_ptr<osg::AutoTransform> label_place = new osg::AutoTransform;
      label_place->setPosition(place->getPosition());
      label_place->setAutoScaleToScreen(true);
      label_place->setAutoRotateMode(osg::AutoTransform::ROTATE_TO_SCREEN);
      label_place->addChild(label);
      labels->addChild(label_place);
      const osg::BoundingBox box = text->getBoundingBox();
      placed_labels.push_back({label_place, osg::Vec3(place->getPosition()), style.label_priority,
                               box.valid() ? box.xMax() - box.xMin() : 8.0f * static_cast<float>(asset.name.size()),
                               box.valid() ? box.yMax() - box.yMin() : 16.0f, box.valid() ? box.yMin() : 0.0f});
    }
  }
  osg::StateSet* state = group->getOrCreateStateSet();
  state->setAttributeAndModes(colour_material(20.0f), osg::StateAttribute::ON);
  // The pins are scaled: normals must be rescaled for the lighting.
  state->setMode(GL_RESCALE_NORMAL, osg::StateAttribute::ON);

  if (labels->getNumChildren() > 0) {
    // Labels are drawn last and over everything: a name hidden behind a hill
    // is worse than one floating over it.
    osg::StateSet* label_state = labels->getOrCreateStateSet();
    label_state->setMode(GL_LIGHTING, osg::StateAttribute::OFF);
    label_state->setMode(GL_DEPTH_TEST, osg::StateAttribute::OFF);
    label_state->setRenderBinDetails(100, "DepthSortedBin");
    group->addChild(labels);
  }
  return group;
}

}  // namespace

BuiltScene build_scene(const twin::Territory& territory, const SceneOptions& options) {
  if (!(options.vertical_exaggeration > 0.0)) {
    fail("viewer", "the vertical exaggeration must be positive, got {}", options.vertical_exaggeration);
  }
  const twin::GridSpec& grid = territory.dem.grid();
  if (grid.cols <= 0 || grid.rows <= 0) fail("viewer", "the territory has an empty DEM");
  const DemRange range = dem_range(territory.dem);
  const twin::Box extent = grid.extent();

  BuiltScene scene;
  scene.frame = {0.5 * (extent.x_min_m + extent.x_max_m), 0.5 * (extent.y_min_m + extent.y_max_m), range.min_m,
                 options.vertical_exaggeration};
  scene.root = new osg::Group;
  scene.root->setName(territory.manifest.name.empty() ? "territory" : territory.manifest.name);
  scene.title = territory.manifest.name;
  scene.caption = options.caption;
  scene.show_legend = options.show_legend;

  TerrainNode terrain = terrain_node(territory, options, scene.frame, range);
  scene.terrain_vertices = terrain.mesh.mesh.vertices.size();
  scene.terrain_triangles = terrain.mesh.mesh.triangles.size();
  scene.terrain_error_m = terrain.mesh.max_vertical_error_m;
  scene.bounds = terrain.bounds;
  scene.framing_points = std::move(terrain.framing_points);
  scene.root->addChild(terrain.geode);

  const double size_m = std::max(extent.width_m(), extent.height_m());
  if (options.show_buildings && !territory.buildings.empty()) {
    osg::ref_ptr<osg::Geode> buildings = buildings_node(territory, scene.frame, scene.building_triangles);
    scene.bounds.expandBy(buildings->getBoundingBox());
    scene.root->addChild(buildings);
  }
  if (options.show_roads && territory.network) {
    // Roads a few pixels wide at the whole-territory view, true width up close.
    const double width_scale = std::clamp(size_m / 2500.0, 1.0, 3.0);
    scene.root->addChild(roads_node(territory, scene.frame, width_scale, options.closed_roads, scene.road_edges,
                                    scene.closed_roads));
  }
  if (options.show_assets && !territory.assets.empty()) {
    scene.root->addChild(
        assets_node(territory, options, scene.frame, scene.assets, scene.labels, scene.asset_types, scene.asset_statuses));
    std::sort(scene.asset_statuses.begin(), scene.asset_statuses.end());
    std::stable_sort(scene.asset_types.begin(), scene.asset_types.end(), [](twin::AssetType a, twin::AssetType b) {
      return asset_style(a).label_priority > asset_style(b).label_priority;
    });
  }
  return scene;
}

CameraPose default_camera(const BuiltScene& scene, double aspect, double pitch_deg) {
  CameraPose pose;
  const double pitch = osg::DegreesToRadians(std::clamp(pitch_deg, 5.0, 89.0));
  // Looking north and down.
  const osg::Vec3d forward(0.0, std::cos(pitch), -std::sin(pitch));
  const osg::Vec3d right(1.0, 0.0, 0.0);
  const osg::Vec3d up = right ^ forward;
  const double tan_v = std::tan(osg::DegreesToRadians(pose.fovy_deg) / 2.0);
  const double tan_h = tan_v * aspect;

  std::vector<osg::Vec3d> points(scene.framing_points.begin(), scene.framing_points.end());
  if (points.empty()) {
    for (unsigned i = 0; i < 8; ++i) points.emplace_back(scene.bounds.corner(i));
  }
  // In camera axes, a point p is inside the vertical field of view when
  // |p.up - e.up| <= tan_v (p.fwd - e.fwd). The tightest eye touches the top
  // and the bottom planes at once: e.up - tan_v e.fwd = max(p.up - tan_v p.fwd)
  // and e.up + tan_v e.fwd = min(p.up + tan_v p.fwd). Same across.
  auto fit = [&](const osg::Vec3d& axis, double tan_half, double& offset, double& along) {
    double top = std::numeric_limits<double>::lowest();
    double bottom = std::numeric_limits<double>::max();
    for (const osg::Vec3d& p : points) {
      top = std::max(top, p * axis - tan_half * (p * forward));
      bottom = std::min(bottom, p * axis + tan_half * (p * forward));
    }
    offset = 0.5 * (top + bottom);
    along = (bottom - top) / (2.0 * tan_half);
  };
  double up_offset = 0.0, right_offset = 0.0, along_v = 0.0, along_h = 0.0;
  fit(up, tan_v, up_offset, along_v);
  fit(right, tan_h, right_offset, along_h);
  // The axis that needs the camera farther back decides; the other is slack
  // and stays centred.
  double along = std::min(along_v, along_h);
  double mean_depth = 0.0;
  for (const osg::Vec3d& p : points) mean_depth += p * forward - along;
  mean_depth /= static_cast<double>(points.size());
  along -= 0.04 * mean_depth;  // a small margin around the territory
  pose.eye = up * up_offset + right * right_offset + forward * along;
  pose.centre = pose.eye + forward * (mean_depth * 1.04);
  pose.up = up;
  return pose;
}

void declutter_labels(BuiltScene& scene, const osg::Matrixd& view, const osg::Matrixd& projection, int width_px,
                      int height_px) {
  const osg::Matrixd to_window = view * projection * osg::Matrixd::translate(1.0, 1.0, 1.0) *
                                 osg::Matrixd::scale(0.5 * width_px, 0.5 * height_px, 0.5);
  std::vector<std::size_t> order(scene.labels.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scene.labels[a].priority > scene.labels[b].priority; });
  std::vector<std::array<double, 4>> taken;  // x0, y0, x1, y1 in window pixels
  constexpr double kGapPx = 3.0;
  for (std::size_t i : order) {
    Label& label = scene.labels[i];
    const osg::Vec3d anchor = osg::Vec3d(label.anchor) * to_window;
    const std::array<double, 4> box{anchor.x() - 0.5 * label.width_px - kGapPx, anchor.y() + label.bottom_px - kGapPx,
                                    anchor.x() + 0.5 * label.width_px + kGapPx,
                                    anchor.y() + label.bottom_px + label.height_px + kGapPx};
    const bool clash = std::any_of(taken.begin(), taken.end(), [&](const std::array<double, 4>& t) {
      return box[0] < t[2] && t[0] < box[2] && box[1] < t[3] && t[1] < box[3];
    });
    label.node->setNodeMask(clash ? 0u : ~0u);
    if (!clash) taken.push_back(box);
  }
}

osg::ref_ptr<osg::Camera> legend_overlay(const BuiltScene& scene, int width_px, int height_px) {
  if (!scene.show_legend) return nullptr;
  constexpr float kMarginPx = 12.0f;
  constexpr float kPaddingPx = 10.0f;
  constexpr float kLinePx = 18.0f;
  constexpr float kTitlePx = 17.0f;
  constexpr float kTextPx = 13.0f;

  osg::ref_ptr<osg::Camera> hud = new osg::Camera;
  hud->setReferenceFrame(osg::Transform::ABSOLUTE_RF);
  hud->setProjectionMatrixAsOrtho2D(0, width_px, 0, height_px);
  hud->setViewMatrix(osg::Matrix::identity());
  hud->setClearMask(GL_DEPTH_BUFFER_BIT);
  hud->setRenderOrder(osg::Camera::POST_RENDER);
  hud->setAllowEventFocus(false);
  osg::StateSet* state = hud->getOrCreateStateSet();
  state->setMode(GL_LIGHTING, osg::StateAttribute::OFF);
  state->setMode(GL_DEPTH_TEST, osg::StateAttribute::OFF);
  state->setMode(GL_BLEND, osg::StateAttribute::ON);
  state->setRenderingHint(osg::StateSet::TRANSPARENT_BIN);

  osg::ref_ptr<osgText::Font> font = label_font();
  osg::ref_ptr<osg::Geode> texts = new osg::Geode;
  osg::ref_ptr<osg::Vec3Array> quads = new osg::Vec3Array;
  osg::ref_ptr<osg::Vec4Array> colours = new osg::Vec4Array;
  auto add_quad = [&](float x0, float y0, float x1, float y1, const osg::Vec4& colour) {
    for (const osg::Vec3& p : {osg::Vec3(x0, y0, 0), osg::Vec3(x1, y0, 0), osg::Vec3(x1, y1, 0), osg::Vec3(x0, y1, 0)}) {
      quads->push_back(p);
      colours->push_back(colour);
    }
  };
  auto add_text = [&](const std::string& line, float x, float y, float size_px, bool bold) {
    osg::ref_ptr<osgText::Text> text = new osgText::Text;
    text->setFont(font);
    text->setText(line, osgText::String::ENCODING_UTF8);
    text->setCharacterSize(size_px);
    text->setFontResolution(32, 32);
    text->setPosition(osg::Vec3(x, y, 0));
    text->setAlignment(osgText::Text::LEFT_BASE_LINE);
    text->setColor(bold ? osg::Vec4(0.08f, 0.08f, 0.1f, 1.0f) : osg::Vec4(0.15f, 0.15f, 0.18f, 1.0f));
    texts->addDrawable(text);
    const osg::BoundingBox box = text->getBoundingBox();
    return box.valid() ? box.xMax() - box.xMin() : 0.6f * size_px * static_cast<float>(line.size());
  };

  // Laid out bottom-up from the margin; the panel is drawn behind once its size is known.
  float y = kMarginPx + kPaddingPx + 4.0f;
  float width = 0.0f;
  const float x = kMarginPx + kPaddingPx;
  for (auto it = scene.asset_types.rbegin(); it != scene.asset_types.rend(); ++it) {
    std::string name(twin::to_string(*it));
    std::replace(name.begin(), name.end(), '_', ' ');
    add_quad(x, y - 1.0f, x + 11.0f, y + 10.0f, asset_style(*it).colour);
    width = std::max(width, 18.0f + add_text(name, x + 18.0f, y, kTextPx, false));
    y += kLinePx;
  }
  for (auto it = scene.asset_statuses.rbegin(); it != scene.asset_statuses.rend(); ++it) {
    add_quad(x, y - 1.0f, x + 11.0f, y + 10.0f, status_colour(*it));
    width = std::max(width, 18.0f + add_text(fmt::format("asset {}", to_string(*it)), x + 18.0f, y, kTextPx, false));
    y += kLinePx;
  }
  if (scene.closed_roads > 0) {
    add_quad(x, y + 2.0f, x + 11.0f, y + 7.0f, kClosedRoadColour);
    width = std::max(width, 18.0f + add_text("road closed", x + 18.0f, y, kTextPx, false));
    y += kLinePx;
  }
  const std::string scale = fmt::format("heights \u00d7{:g}", scene.frame.exaggeration);
  width = std::max(width, add_text(scale, x, y, kTextPx, false));
  y += kLinePx + 2.0f;
  if (!scene.caption.empty()) {
    width = std::max(width, add_text(scene.caption, x, y, kTextPx, false));
    y += kLinePx;
  }
  if (!scene.title.empty()) {
    width = std::max(width, add_text(scene.title, x, y, kTitlePx, true));
    y += kTitlePx;
  }
  const float top = y - 4.0f + kPaddingPx;
  osg::ref_ptr<osg::Vec3Array> panel = new osg::Vec3Array;
  osg::ref_ptr<osg::Vec4Array> panel_colour = new osg::Vec4Array;
  const float x0 = kMarginPx, y0 = kMarginPx, x1 = kMarginPx + 2 * kPaddingPx + width, y1 = top;
  for (const osg::Vec3& p : {osg::Vec3(x0, y0, 0), osg::Vec3(x1, y0, 0), osg::Vec3(x1, y1, 0), osg::Vec3(x0, y1, 0)}) {
    panel->push_back(p);
  }
  panel_colour->push_back(osg::Vec4(1.0f, 1.0f, 1.0f, 0.78f));
  osg::ref_ptr<osg::Geometry> background = new osg::Geometry;
  background->setVertexArray(panel);
  background->setColorArray(panel_colour, osg::Array::BIND_OVERALL);
  background->addPrimitiveSet(new osg::DrawArrays(GL_QUADS, 0, 4));
  osg::ref_ptr<osg::Geometry> swatches = new osg::Geometry;
  swatches->setVertexArray(quads);
  swatches->setColorArray(colours, osg::Array::BIND_PER_VERTEX);
  swatches->addPrimitiveSet(new osg::DrawArrays(GL_QUADS, 0, static_cast<GLsizei>(quads->size())));

  osg::ref_ptr<osg::Geode> shapes = new osg::Geode;
  shapes->addDrawable(background);
  shapes->addDrawable(swatches);
  hud->addChild(shapes);
  hud->addChild(texts);
  return hud;
}

void set_up_lighting(osg::View& view) {
  view.setLightingMode(osg::View::SKY_LIGHT);
  osg::Light* light = view.getLight();
  osg::Vec3 sun(-0.7f, -0.35f, 0.62f);
  sun.normalize();
  light->setPosition(osg::Vec4(sun, 0.0f));  // w = 0: a direction, the sun
  light->setAmbient(osg::Vec4(0.42f, 0.42f, 0.45f, 1.0f));
  light->setDiffuse(osg::Vec4(0.78f, 0.76f, 0.70f, 1.0f));
  light->setSpecular(osg::Vec4(0.2f, 0.2f, 0.2f, 1.0f));
}

osg::Vec4 sky_colour() { return {0.80f, 0.86f, 0.92f, 1.0f}; }

}  // namespace cadereau::viewer::detail
