#include "cadereau/viewer/snapshot.h"

#include "cadereau/twin/error.h"
#include "scene_graph.h"

#include <osg/Camera>
#include <osg/DisplaySettings>
#include <osg/GraphicsContext>
#include <osg/Image>
#include <osgDB/ReadFile>
#include <osgDB/WriteFile>
#include <osgViewer/Viewer>

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <unordered_set>

namespace cadereau::viewer {
namespace {

// Reads the frame back after drawing, on the thread that owns the context.
struct CaptureCallback : osg::Camera::DrawCallback {
  explicit CaptureCallback(osg::Image* image, int width_px, int height_px)
      : image_(image), width_px_(width_px), height_px_(height_px) {}
  void operator()(osg::RenderInfo&) const override {
    image_->readPixels(0, 0, width_px_, height_px_, GL_RGB, GL_UNSIGNED_BYTE);
  }
  osg::ref_ptr<osg::Image> image_;
  int width_px_;
  int height_px_;
};

osg::ref_ptr<osg::GraphicsContext> offscreen_context(int width_px, int height_px, int samples) {
  osg::ref_ptr<osg::GraphicsContext::Traits> traits = new osg::GraphicsContext::Traits;
  // Without these two, OSG assumes display :0 whatever DISPLAY says (and
  // xvfb-run -a picks another number).
  traits->readDISPLAY();
  traits->setUndefinedScreenDetailsToDefaultScreen();
  traits->x = 0;
  traits->y = 0;
  traits->width = width_px;
  traits->height = height_px;
  traits->red = traits->green = traits->blue = 8;
  // No alpha: the picture is read back as RGB, and with an RGBA config on a
  // depth-24 screen (Xvfb's) Mesa's software rasteriser puts a 32-bit image
  // on the 24-bit drawable (MIT-SHM PutImage), which X refuses with BadMatch:
  // harmless for the picture, but eight lines of X11 errors per frame.
  traits->alpha = 0;
  traits->depth = 24;
  traits->windowDecoration = false;
  traits->doubleBuffer = true;
  traits->pbuffer = true;
  traits->sharedContext = nullptr;
  traits->samples = static_cast<unsigned>(samples);
  traits->sampleBuffers = samples > 0 ? 1 : 0;
  osg::ref_ptr<osg::GraphicsContext> context = osg::GraphicsContext::createGraphicsContext(traits.get());
  if (context && !context->valid()) context = nullptr;
  return context;
}

void check_writable(const std::filesystem::path& png) {
  const std::filesystem::path folder = png.has_parent_path() ? png.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    fail(png.string(), "cannot write the snapshot: folder {} does not exist", folder.string());
  }
  if (std::filesystem::is_directory(png, ec)) fail(png.string(), "cannot write the snapshot: it is a folder");
  // Opening for append leaves an existing file as it is and fails on a
  // read-only folder or file, before any rendering time is spent.
  const bool existed = std::filesystem::exists(png, ec);
  {
    std::ofstream probe(png, std::ios::app | std::ios::binary);
    if (!probe) fail(png.string(), "cannot write the snapshot: permission denied or read-only file system");
  }
  if (!existed) std::filesystem::remove(png, ec);
}

osg::ref_ptr<osg::Image> read_image(const std::filesystem::path& png) {
  if (!std::filesystem::exists(png)) fail(png.string(), "cannot read the image: no such file");
  osg::ref_ptr<osg::Image> image = osgDB::readRefImageFile(png.string());
  if (!image || image->s() <= 0 || image->t() <= 0) fail(png.string(), "cannot read the image (not a PNG OSG can decode?)");
  return image;
}

std::array<unsigned char, 3> rgb_at(const osg::Image& image, int x, int y) {
  const osg::Vec4 c = image.getColor(static_cast<unsigned>(x), static_cast<unsigned>(y));
  auto byte = [](float v) { return static_cast<unsigned char>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f)); };
  return {byte(c.r()), byte(c.g()), byte(c.b())};
}

}  // namespace

SnapshotReport render_snapshot(const twin::Territory& territory, const SnapshotOptions& options,
                               const std::filesystem::path& png) {
  if (options.width_px <= 0 || options.height_px <= 0 || options.width_px > 16384 || options.height_px > 16384) {
    fail(png.string(), "snapshot size {}x{} px is not between 1 and 16384", options.width_px, options.height_px);
  }
  check_writable(png);
  const char* display = std::getenv("DISPLAY");
  if (!display || !*display) fail(png.string(), "cannot render the snapshot: no X display: run under xvfb-run");

  SnapshotReport report;
  const auto scene_start = std::chrono::steady_clock::now();
  detail::BuiltScene scene = detail::build_scene(territory, options.scene);
  report.scene_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - scene_start).count();
  report.terrain_vertices = scene.terrain_vertices;
  report.terrain_triangles = scene.terrain_triangles;
  report.terrain_error_m = scene.terrain_error_m;
  report.building_triangles = scene.building_triangles;
  report.road_edges = scene.road_edges;
  report.assets = scene.assets;

  const auto render_start = std::chrono::steady_clock::now();
  // Multisampling smooths building edges; a driver without it still renders.
  osg::ref_ptr<osg::GraphicsContext> context = offscreen_context(options.width_px, options.height_px, 0);
  if (!context) context = offscreen_context(options.width_px, options.height_px, 0);
  if (!context) {
    fail(png.string(), "cannot create an offscreen OpenGL context on X display {}: is an X server with GLX running there? (run under xvfb-run -a)", display);
  }

  osgViewer::Viewer viewer;
  viewer.setThreadingModel(osgViewer::Viewer::SingleThreaded);
  // The viewer would otherwise quit on a key press from the X server.
  viewer.setKeyEventSetsDone(0);
  osg::Camera* camera = viewer.getCamera();
  camera->setGraphicsContext(context.get());
  camera->setViewport(new osg::Viewport(0, 0, options.width_px, options.height_px));
  camera->setDrawBuffer(GL_BACK);
  camera->setReadBuffer(GL_BACK);
  camera->setClearColor(detail::sky_colour());
  const double aspect = static_cast<double>(options.width_px) / options.height_px;
  const detail::CameraPose pose = detail::default_camera(scene, aspect, options.pitch_deg);
  camera->setProjectionMatrixAsPerspective(pose.fovy_deg, aspect, 1.0, 1e6);
  camera->setViewMatrixAsLookAt(pose.eye, pose.centre, pose.up);
  detail::set_up_lighting(viewer);
  detail::declutter_labels(scene, camera->getViewMatrix(), camera->getProjectionMatrix(), options.width_px,
                           options.height_px);

  osg::ref_ptr<osg::Image> image = new osg::Image;
  camera->setFinalDrawCallback(new CaptureCallback(image.get(), options.width_px, options.height_px));
  // The legend beside the territory, not in it: the manipulator and the
  // camera's near/far planes only see the territory.
  osg::ref_ptr<osg::Group> top = new osg::Group;
  top->addChild(scene.root);
  if (osg::ref_ptr<osg::Camera> legend = detail::legend_overlay(scene, options.width_px, options.height_px)) top->addChild(legend);
  viewer.setSceneData(top.get());
  viewer.realize();
  if (!viewer.isRealized()) fail(png.string(), "cannot render the snapshot: the OpenGL context did not start on {}", display);
  // The first frame compiles textures and display lists; the second is the picture.
  for (int i = 0; i < 2; ++i) {
    viewer.frame();
    camera->setViewMatrixAsLookAt(pose.eye, pose.centre, pose.up);
  }
  if (!image->data() || image->s() != options.width_px || image->t() != options.height_px) {
    fail(png.string(), "cannot render the snapshot: nothing was read back from the OpenGL context");
  }
  if (!osgDB::writeImageFile(*image, png.string())) {
    fail(png.string(), "cannot write the snapshot (no PNG writer plugin, or the disk refused)");
  }
  report.render_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - render_start).count();
  spdlog::info("viewer: snapshot {} ({}x{} px) scene {:.2f} s, render {:.2f} s", png.string(), options.width_px,
               options.height_px, report.scene_s, report.render_s);
  return report;
}

ImageStats analyse_png(const std::filesystem::path& png) {
  const osg::ref_ptr<osg::Image> image = read_image(png);
  ImageStats stats;
  stats.width_px = image->s();
  stats.height_px = image->t();
  // OSG images start at the bottom-left: the top-left pixel is row t - 1.
  stats.background_rgb = rgb_at(*image, 0, image->t() - 1);
  std::unordered_set<std::uint32_t> colours;
  std::size_t foreground = 0;
  double luminance = 0.0;
  for (int y = 0; y < image->t(); ++y) {
    for (int x = 0; x < image->s(); ++x) {
      const auto c = rgb_at(*image, x, y);
      colours.insert(static_cast<std::uint32_t>(c[0]) << 16 | static_cast<std::uint32_t>(c[1]) << 8 | c[2]);
      bool same = true;
      for (int k = 0; k < 3; ++k) same = same && std::abs(int{c[k]} - int{stats.background_rgb[k]}) <= 8;
      if (!same) ++foreground;
      luminance += (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255.0;
    }
  }
  const double pixels = static_cast<double>(stats.width_px) * stats.height_px;
  stats.non_background_fraction = foreground / pixels;
  stats.distinct_colours = colours.size();
  stats.mean_luminance = luminance / pixels;
  return stats;
}

double changed_fraction(const std::filesystem::path& png_a, const std::filesystem::path& png_b, int tolerance) {
  const osg::ref_ptr<osg::Image> a = read_image(png_a);
  const osg::ref_ptr<osg::Image> b = read_image(png_b);
  if (a->s() != b->s() || a->t() != b->t()) {
    fail(png_b.string(), "image size {}x{} differs from {} ({}x{})", b->s(), b->t(), png_a.string(), a->s(), a->t());
  }
  std::size_t changed = 0;
  for (int y = 0; y < a->t(); ++y) {
    for (int x = 0; x < a->s(); ++x) {
      const auto ca = rgb_at(*a, x, y);
      const auto cb = rgb_at(*b, x, y);
      for (int k = 0; k < 3; ++k) {
        if (std::abs(int{ca[k]} - int{cb[k]}) > tolerance) {
          ++changed;
          break;
        }
      }
    }
  }
  return static_cast<double>(changed) / (static_cast<double>(a->s()) * a->t());
}

}  // namespace cadereau::viewer
