#pragma once
// A map picture of the territory: an RGB canvas over a map extent, on which
// rasters are painted with a colour ramp over shaded relief, and roads and
// places are drawn, then written as PNG (through GDAL). For the pictures a
// crisis manager reads at a glance: the max-depth map with the closed roads
// and the assets hit. Legends and titles belong to the page around it.

#include "cadereau/twin/geometry.h"
#include "cadereau/twin/raster.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cadereau::twin {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

// Piecewise-linear colour ramp: value -> colour.
struct ColourStop {
  double value;
  Rgb colour;
};

class MapImage {
 public:
  // A canvas of width_px covering `extent`, height from its aspect ratio.
  // Throws Error for an empty extent or a width outside 16..8192.
  MapImage(Box extent, int width_px, Rgb background = {255, 255, 255});

  int width() const { return width_; }
  int height() const { return height_; }
  const Box& extent() const { return extent_; }

  // Grey shaded relief of a DEM (light from the north-west).
  void paint_hillshade(const Raster& dem);
  // Paints the cells whose value is at least min_value with the ramp, blended
  // with what is below by `opacity` (0..1). Nodata cells are left alone.
  void paint_raster(const Raster& raster, const std::vector<ColourStop>& ramp, double min_value, double opacity = 1.0);
  void line(const Polyline& line, Rgb colour, double width_px);
  void disc(MapPoint centre, double radius_px, Rgb colour, Rgb outline = {0, 0, 0});

  Rgb pixel(int x, int y) const;
  // Writes a PNG. Throws Error naming the file when it cannot.
  void write_png(const std::filesystem::path& path) const;

  // Map point -> pixel (x right, y down); may fall outside the canvas.
  std::array<double, 2> to_pixel(MapPoint p) const;
  // The map point at the centre of a pixel.
  MapPoint pixel_centre(int x, int y) const;

 private:
  void blend(int x, int y, Rgb c, double alpha);
  Box extent_;
  int width_ = 0, height_ = 0;
  std::vector<std::uint8_t> rgb_;
};

Rgb ramp_colour(const std::vector<ColourStop>& ramp, double value);

// The grey of the shaded relief at a map point (light from the north-west),
// nothing off the DEM or on nodata.
std::optional<std::uint8_t> hillshade_grey(const Raster& dem, MapPoint p);

// A PNG of `bands` (1 grey, 3 RGB, 4 RGBA) interleaved 8-bit samples, row
// by row from the top. Throws Error when the sizes disagree or GDAL cannot.
std::string png_bytes(int width, int height, int bands, std::span<const std::uint8_t> samples);

}  // namespace cadereau::twin
