#include "cadereau/viewer/window.h"

#include "cadereau/twin/error.h"
#include "scene_graph.h"

#include <osgGA/GUIEventHandler>
#include <osgGA/StateSetManipulator>
#include <osgGA/TerrainManipulator>
#include <osgViewer/Viewer>
#include <osgViewer/ViewerEventHandlers>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>

namespace cadereau::viewer {
namespace {

// Ctrl-C or a SIGTERM closes a following window as its close button does.
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

// Re-places the labels whenever the camera has moved, so that zooming in
// brings back the names hidden at the overview.
class DeclutterHandler : public osgGA::GUIEventHandler {
 public:
  explicit DeclutterHandler(detail::BuiltScene& scene) : scene_(scene) {}
  void invalidate() { last_ = osg::Matrixd(); }
  bool handle(const osgGA::GUIEventAdapter& event, osgGA::GUIActionAdapter& actions) override {
    if (event.getEventType() != osgGA::GUIEventAdapter::FRAME) return false;
    auto* view = dynamic_cast<osgViewer::View*>(&actions);
    if (!view) return false;
    const osg::Camera* camera = view->getCamera();
    const osg::Viewport* viewport = camera->getViewport();
    if (!viewport) return false;
    const osg::Matrixd matrix = camera->getViewMatrix() * camera->getProjectionMatrix();
    if (matrix == last_ && viewport->width() == last_width_ && viewport->height() == last_height_) return false;
    last_ = matrix;
    last_width_ = viewport->width();
    last_height_ = viewport->height();
    detail::declutter_labels(scene_, camera->getViewMatrix(), camera->getProjectionMatrix(),
                             static_cast<int>(viewport->width()), static_cast<int>(viewport->height()));
    return false;
  }

 private:
  detail::BuiltScene& scene_;
  osg::Matrixd last_;
  double last_width_ = 0.0;
  double last_height_ = 0.0;
};

}  // namespace

int run_window(const twin::Territory& territory, const WindowOptions& options) {
  const char* display = std::getenv("DISPLAY");
  if (!display || !*display) fail("window", "no X display: set DISPLAY, or use --snapshot under xvfb-run");

  detail::BuiltScene scene = detail::build_scene(territory, options.scene);
  osgViewer::Viewer viewer;
  // The legend beside the territory, not in it: the manipulator and the
  // camera's near/far planes only see the territory. It is laid out for the
  // initial window size.
  osg::ref_ptr<osg::Group> top = new osg::Group;
  top->addChild(scene.root);
  if (osg::ref_ptr<osg::Camera> legend = detail::legend_overlay(scene, options.width_px, options.height_px)) top->addChild(legend);
  viewer.setSceneData(top.get());
  viewer.setUpViewInWindow(60, 60, options.width_px, options.height_px);
  viewer.getCamera()->setClearColor(detail::sky_colour());
  detail::set_up_lighting(viewer);

  const double aspect = static_cast<double>(options.width_px) / options.height_px;
  const detail::CameraPose pose = detail::default_camera(scene, aspect, 40.0);
  viewer.getCamera()->setProjectionMatrixAsPerspective(pose.fovy_deg, aspect, 1.0, 1e6);
  osg::ref_ptr<osgGA::TerrainManipulator> manipulator = new osgGA::TerrainManipulator;
  manipulator->setNode(scene.root.get());
  manipulator->setHomePosition(pose.eye, pose.centre, pose.up);
  viewer.setCameraManipulator(manipulator.get());

  osg::ref_ptr<DeclutterHandler> declutter = new DeclutterHandler(scene);
  viewer.addEventHandler(declutter.get());
  viewer.addEventHandler(new osgViewer::StatsHandler);
  viewer.addEventHandler(new osgViewer::WindowSizeHandler);
  viewer.addEventHandler(new osgViewer::HelpHandler);
  viewer.addEventHandler(new osgGA::StateSetManipulator(viewer.getCamera()->getOrCreateStateSet()));

  viewer.realize();
  if (!viewer.isRealized()) fail("window", "cannot open a window on X display {}", display);
  // At most 30 frames a second: without a display's vertical sync (a virtual X server, a
  // remote desktop) OSG would draw as fast as it can and take a whole core.
  constexpr double kMaxFramesPerSecond = 30.0;
  viewer.setRunMaxFrameRate(kMaxFramesPerSecond);
  if (!options.refresh) return viewer.run();
  const auto frame_time = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / kMaxFramesPerSecond));
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  while (!viewer.done() && !g_stop) {
    const auto frame_start = std::chrono::steady_clock::now();
    if (auto next = options.refresh()) {
      // The same territory in another state: the same local frame, so the camera stays where the user put it.
      detail::BuiltScene rebuilt = detail::build_scene(territory, *next);
      top->removeChildren(0, top->getNumChildren());
      top->addChild(rebuilt.root);
      if (osg::ref_ptr<osg::Camera> legend = detail::legend_overlay(rebuilt, options.width_px, options.height_px))
        top->addChild(legend);
      scene = std::move(rebuilt);
      declutter->invalidate();
    }
    viewer.frame();
    std::this_thread::sleep_until(frame_start + frame_time);
  }
  return 0;
}

}  // namespace cadereau::viewer
