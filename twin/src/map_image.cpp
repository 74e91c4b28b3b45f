#include "cadereau/twin/map_image.h"

#include "cadereau/twin/error.h"
#include "gdal_init.h"

#include <gdal_priv.h>

#include <cpl_vsi.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>

namespace cadereau::twin {

namespace {

std::uint8_t mix(std::uint8_t a, std::uint8_t b, double t) {
  return static_cast<std::uint8_t>(std::lround(a + (b - a) * std::clamp(t, 0.0, 1.0)));
}

}  // namespace

Rgb ramp_colour(const std::vector<ColourStop>& ramp, double value) {
  if (ramp.empty()) return {};
  if (value <= ramp.front().value) return ramp.front().colour;
  for (std::size_t k = 1; k < ramp.size(); ++k)
    if (value <= ramp[k].value) {
      const double t = (value - ramp[k - 1].value) / (ramp[k].value - ramp[k - 1].value);
      const Rgb a = ramp[k - 1].colour, b = ramp[k].colour;
      return {mix(a.r, b.r, t), mix(a.g, b.g, t), mix(a.b, b.b, t)};
    }
  return ramp.back().colour;
}

MapImage::MapImage(Box extent, int width_px, Rgb background) : extent_(extent), width_(width_px) {
  if (extent.is_empty() || !(extent.width_m() > 0.0) || !(extent.height_m() > 0.0))
    fail("map image", "the extent is empty");
  if (width_px < 16 || width_px > 8192) fail("map image", "width {} px is outside 16..8192", width_px);
  height_ = std::max(16, static_cast<int>(std::lround(width_px * extent.height_m() / extent.width_m())));
  if (height_ > 8192) fail("map image", "height {} px is above 8192", height_);
  rgb_.resize(static_cast<std::size_t>(width_) * height_ * 3);
  for (std::size_t i = 0; i < rgb_.size(); i += 3) rgb_[i] = background.r, rgb_[i + 1] = background.g, rgb_[i + 2] = background.b;
}

std::array<double, 2> MapImage::to_pixel(MapPoint p) const {
  return {(p.x_m - extent_.x_min_m) / extent_.width_m() * width_, (extent_.y_max_m - p.y_m) / extent_.height_m() * height_};
}

MapPoint MapImage::pixel_centre(int x, int y) const {
  return {extent_.x_min_m + (x + 0.5) / width_ * extent_.width_m(),
          extent_.y_max_m - (y + 0.5) / height_ * extent_.height_m()};
}

Rgb MapImage::pixel(int x, int y) const {
  const std::size_t i = (static_cast<std::size_t>(y) * width_ + x) * 3;
  return {rgb_[i], rgb_[i + 1], rgb_[i + 2]};
}

void MapImage::blend(int x, int y, Rgb c, double alpha) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  const std::size_t i = (static_cast<std::size_t>(y) * width_ + x) * 3;
  rgb_[i] = mix(rgb_[i], c.r, alpha);
  rgb_[i + 1] = mix(rgb_[i + 1], c.g, alpha);
  rgb_[i + 2] = mix(rgb_[i + 2], c.b, alpha);
}

std::optional<std::uint8_t> hillshade_grey(const Raster& dem, MapPoint p) {
  const GridSpec& g = dem.grid();
  const auto cell = g.cell_at(p);
  if (!cell || dem.is_nodata(*cell)) return std::nullopt;
  const int c = cell->col, r = cell->row;
  auto z = [&](int cc, int rr) {
    cc = std::clamp(cc, 0, g.cols - 1);
    rr = std::clamp(rr, 0, g.rows - 1);
    const float v = dem.at(cc, rr);
    return dem.is_nodata(v) ? static_cast<double>(dem.at(c, r)) : static_cast<double>(v);
  };
  const double dzdx = (z(c + 1, r) - z(c - 1, r)) / (2.0 * g.cell_w_m);
  const double dzdy = (z(c, r - 1) - z(c, r + 1)) / (2.0 * g.cell_h_m);  // north positive
  // Lambert shading, sun from the north-west at 45 degrees.
  const double nx = -dzdx, ny = -dzdy, nz = 1.0;
  const double n = std::sqrt(nx * nx + ny * ny + nz * nz);
  const double lx = -0.5, ly = 0.5, lz = 0.7071;
  const double shade = std::clamp((nx * lx + ny * ly + nz * lz) / n, 0.0, 1.0);
  return static_cast<std::uint8_t>(150 + 100 * shade);
}

void MapImage::paint_hillshade(const Raster& dem) {
  for (int y = 0; y < height_; ++y)
    for (int x = 0; x < width_; ++x)
      if (const auto v = hillshade_grey(dem, pixel_centre(x, y))) blend(x, y, {*v, *v, *v}, 1.0);
}

void MapImage::paint_raster(const Raster& raster, const std::vector<ColourStop>& ramp, double min_value, double opacity) {
  const GridSpec& g = raster.grid();
  for (int y = 0; y < height_; ++y)
    for (int x = 0; x < width_; ++x) {
      const auto cell = g.cell_at(pixel_centre(x, y));
      if (!cell) continue;
      const float v = raster.at(*cell);
      if (raster.is_nodata(v) || v < min_value) continue;
      blend(x, y, ramp_colour(ramp, v), opacity);
    }
}

void MapImage::line(const Polyline& pts, Rgb colour, double width_px) {
  const double r = std::max(0.5, width_px / 2.0);
  for (std::size_t k = 1; k < pts.size(); ++k) {
    const auto a = to_pixel(pts[k - 1]), b = to_pixel(pts[k]);
    const double len = std::hypot(b[0] - a[0], b[1] - a[1]);
    const int steps = std::max(1, static_cast<int>(std::ceil(len / 0.5)));
    for (int s = 0; s <= steps; ++s) {
      const double t = static_cast<double>(s) / steps;
      const double cx = a[0] + (b[0] - a[0]) * t, cy = a[1] + (b[1] - a[1]) * t;
      for (int y = static_cast<int>(std::floor(cy - r)); y <= static_cast<int>(std::ceil(cy + r)); ++y)
        for (int x = static_cast<int>(std::floor(cx - r)); x <= static_cast<int>(std::ceil(cx + r)); ++x)
          if (std::hypot(x + 0.5 - cx, y + 0.5 - cy) <= r) blend(x, y, colour, 1.0);
    }
  }
}

void MapImage::disc(MapPoint centre, double radius_px, Rgb colour, Rgb outline) {
  const auto c = to_pixel(centre);
  const double r = radius_px + 1.0;
  for (int y = static_cast<int>(std::floor(c[1] - r)); y <= static_cast<int>(std::ceil(c[1] + r)); ++y)
    for (int x = static_cast<int>(std::floor(c[0] - r)); x <= static_cast<int>(std::ceil(c[0] + r)); ++x) {
      const double d = std::hypot(x + 0.5 - c[0], y + 0.5 - c[1]);
      if (d <= radius_px)
        blend(x, y, colour, 1.0);
      else if (d <= r)
        blend(x, y, outline, 1.0);
    }
}

std::string png_bytes(int width, int height, int bands, std::span<const std::uint8_t> samples) {
  detail::ensure_gdal();
  const std::string where = "PNG image";
  if (width < 1 || height < 1 || bands < 1 || bands > 4 ||
      samples.size() != static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * static_cast<std::size_t>(bands))
    fail(where, "{} samples do not make {}x{} pixels of {} bands", samples.size(), width, height, bands);
  GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  GDALDriver* png = GetGDALDriverManager()->GetDriverByName("PNG");
  if (!mem || !png) fail(where, "GDAL has no PNG driver");
  auto close = [](GDALDataset* ds) { GDALClose(GDALDataset::ToHandle(ds)); };
  std::unique_ptr<GDALDataset, decltype(close)> ds(mem->Create("", width, height, bands, GDT_Byte, nullptr), close);
  if (!ds) fail(where, "cannot create an image in memory ({})", detail::gdal_last_error());
  // Interleaved samples: pixel spacing `bands` bytes, line spacing a row.
  if (ds->RasterIO(GF_Write, 0, 0, width, height, const_cast<std::uint8_t*>(samples.data()), width, height, GDT_Byte, bands,
                   nullptr, bands, static_cast<GSpacing>(width) * bands, 1, nullptr) != CE_None)
    fail(where, "cannot fill the image ({})", detail::gdal_last_error());
  const std::string name = detail::vsimem_name("png", "png");
  CPLErrorReset();
  std::unique_ptr<GDALDataset, decltype(close)> out(png->CreateCopy(name.c_str(), ds.get(), FALSE, nullptr, nullptr, nullptr),
                                                    close);
  if (!out) fail(where, "cannot encode PNG ({})", detail::gdal_last_error());
  out.reset();
  return detail::take_vsimem_file(name, where);
}

void MapImage::write_png(const std::filesystem::path& path) const {
  const std::string where = path.string();
  const std::string bytes = png_bytes(width_, height_, 3, rgb_);
  std::error_code made;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), made);
  if (made) fail(where, "cannot create its folder: {}", made.message());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail(where, "cannot write PNG");
}

}  // namespace cadereau::twin
