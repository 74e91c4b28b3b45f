#pragma once
// Private to the viewer: the OpenSceneGraph scene of a territory and the
// default camera. Geometry is stored relative to a local origin (the DEM
// centre, the lowest ground at z = 0) because Lambert-93 coordinates (~6.3e6 m)
// do not fit in the floats that OpenGL draws with.

#include "cadereau/twin/territory.h"
#include "cadereau/viewer/scene.h"

#include <osg/BoundingBox>
#include <osg/Camera>
#include <osg/Group>
#include <osg/Matrixd>
#include <osg/Node>
#include <osg/View>
#include <osg/ref_ptr>

#include <cstddef>
#include <string>
#include <vector>

namespace cadereau::viewer::detail {

// Map coordinates to scene coordinates.
struct LocalFrame {
  double origin_x_m = 0.0;
  double origin_y_m = 0.0;
  double ground_z_m = 0.0;  // lowest DEM value, drawn at z = 0
  double exaggeration = 1.0;

  osg::Vec3 to_scene(double x_m, double y_m, double z_m) const {
    return {static_cast<float>(x_m - origin_x_m), static_cast<float>(y_m - origin_y_m),
            static_cast<float>((z_m - ground_z_m) * exaggeration)};
  }
};

// An asset name, for decluttering: its frame is scaled to pixels and faces
// the screen, so its box in window pixels is the anchor's projection plus
// the text's own box.
struct Label {
  osg::ref_ptr<osg::Node> node;
  osg::Vec3 anchor;  // scene coordinates
  int priority = 0;
  float width_px = 0.0f;
  float height_px = 0.0f;
  float bottom_px = 0.0f;  // text bottom above the anchor
};

struct BuiltScene {
  osg::ref_ptr<osg::Group> root;
  LocalFrame frame;
  osg::BoundingBox bounds;  // scene coordinates, terrain included
  // A sample of the terrain and building points the default camera frames:
  // the whole boundary and a thinned interior.
  std::vector<osg::Vec3> framing_points;
  std::size_t terrain_vertices = 0;
  std::size_t terrain_triangles = 0;
  double terrain_error_m = 0.0;
  std::size_t building_triangles = 0;
  std::size_t road_edges = 0;
  std::size_t assets = 0;
  std::vector<Label> labels;
  std::string title;
  std::string caption;                      // under the title: a moment of a run
  std::vector<twin::AssetType> asset_types;  // present in the scene, in legend order
  std::size_t closed_roads = 0;             // edges drawn closed
  std::vector<AssetStatus> asset_statuses;  // present in the scene, worst first
  bool show_legend = true;
};

// Throws cadereau::Error when the DEM has no valid cell.
BuiltScene build_scene(const twin::Territory& territory, const SceneOptions& options);

struct CameraPose {
  osg::Vec3d eye;
  osg::Vec3d centre;
  osg::Vec3d up;
  double fovy_deg = 30.0;
};

// Looking north from the south, pitch_deg below the horizon, with the whole
// scene inside the frustum of the given aspect ratio.
CameraPose default_camera(const BuiltScene& scene, double aspect, double pitch_deg);

// The legend panel in the bottom-left corner of a window of this size, as a
// post-render orthographic camera to add to the scene root; nothing when the
// scene has no legend.
osg::ref_ptr<osg::Camera> legend_overlay(const BuiltScene& scene, int width_px, int height_px);

// Hides the labels that would overlap a more important one, seen from this
// camera (view and projection matrices, window size in pixels).
void declutter_labels(BuiltScene& scene, const osg::Matrixd& view, const osg::Matrixd& projection, int width_px,
                      int height_px);

// A sun from the south-west and soft ambient light, fixed to the world so the
// relief reads the same from every camera position.
void set_up_lighting(osg::View& view);

// The clear colour of the sky behind the territory.
osg::Vec4 sky_colour();

}  // namespace cadereau::viewer::detail
