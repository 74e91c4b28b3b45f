#pragma once
// Headless rendering of a territory to a PNG (an offscreen OpenGL pbuffer on
// the X display, e.g. under xvfb-run), and a few measures of an image so that
// tests and scripts can tell a rendered scene from a blank frame.

#include "cadereau/twin/territory.h"
#include "cadereau/viewer/scene.h"

#include <array>
#include <cstddef>
#include <filesystem>

namespace cadereau::viewer {

struct SnapshotOptions {
  int width_px = 1600;
  int height_px = 1000;
  SceneOptions scene{};
  // The default camera looks north from south of the territory, this many
  // degrees below the horizon, framing the whole territory.
  double pitch_deg = 40.0;
};

struct SnapshotReport {
  std::size_t terrain_vertices = 0;
  std::size_t terrain_triangles = 0;
  double terrain_error_m = 0.0;
  std::size_t building_triangles = 0;
  std::size_t road_edges = 0;
  std::size_t assets = 0;
  double scene_s = 0.0;   // wall time building the scene (mostly the terrain mesh)
  double render_s = 0.0;  // wall time creating the context, drawing and writing
};

// Renders the territory with the default camera and writes FILE.png.
// Throws cadereau::Error when the output folder does not exist or the file
// cannot be written, when there is no X display ("run under xvfb-run") or no
// offscreen OpenGL context, or when the size is not positive.
SnapshotReport render_snapshot(const twin::Territory& territory, const SnapshotOptions& options,
                               const std::filesystem::path& png);

struct ImageStats {
  int width_px = 0;
  int height_px = 0;
  std::array<unsigned char, 3> background_rgb{};  // the colour of the top-left pixel
  double non_background_fraction = 0.0;           // pixels farther than 8/255 from it
  std::size_t distinct_colours = 0;
  double mean_luminance = 0.0;  // 0..1, Rec. 709 weights on the stored values
};

// Throws cadereau::Error when the file cannot be read as an image.
ImageStats analyse_png(const std::filesystem::path& png);

// Fraction of pixels whose colour differs by more than tolerance (0..255, on
// any channel) between two images of the same size. Throws cadereau::Error
// when either cannot be read or the sizes differ.
double changed_fraction(const std::filesystem::path& png_a, const std::filesystem::path& png_b, int tolerance = 24);

}  // namespace cadereau::viewer
