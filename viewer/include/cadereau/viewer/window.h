#pragma once
// The interactive 3D view: an OpenSceneGraph window with a terrain camera
// manipulator (left drag rotates, right drag zooms, middle drag pans; space
// returns to the default view) and the statistics overlay ('s').

#include "cadereau/twin/territory.h"
#include "cadereau/viewer/scene.h"

#include <functional>
#include <optional>

namespace cadereau::viewer {

struct WindowOptions {
  int width_px = 1280;
  int height_px = 800;
  SceneOptions scene{};
  // Asked before every frame: new scene options (a session that moved on)
  // rebuild the scene under the same camera; nothing keeps it.
  std::function<std::optional<SceneOptions>()> refresh;
};

// Blocks until the window is closed; returns the viewer's exit code.
// Throws cadereau::Error when no window can be opened (no X display).
int run_window(const twin::Territory& territory, const WindowOptions& options);

}  // namespace cadereau::viewer
