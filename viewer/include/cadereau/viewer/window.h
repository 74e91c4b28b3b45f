#pragma once
// The interactive 3D view: an OpenSceneGraph window with a terrain camera
// manipulator (left drag rotates, right drag zooms, middle drag pans; space
// returns to the default view) and the statistics overlay ('s').

#include "cadereau/twin/territory.h"
#include "cadereau/viewer/scene.h"

namespace cadereau::viewer {

struct WindowOptions {
  int width_px = 1280;
  int height_px = 800;
  SceneOptions scene{};
};

// Blocks until the window is closed; returns the viewer's exit code.
// Throws cadereau::Error when no window can be opened (no X display).
int run_window(const twin::Territory& territory, const WindowOptions& options);

}  // namespace cadereau::viewer
