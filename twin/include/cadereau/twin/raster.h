#pragma once
// Single-band rasters on a north-up grid, read and written through GDAL
// (GeoTIFF, ESRI ASCII grid and anything else GDAL opens). Values are float;
// nodata cells are outside the domain.

#include "cadereau/twin/geo.h"
#include "cadereau/twin/geometry.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cadereau::twin {

struct CellIndex {
  int col = 0;
  int row = 0;  // row 0 is the northern edge
  friend bool operator==(const CellIndex&, const CellIndex&) = default;
};

// A north-up grid: (x_min_m, y_max_m) is the outer corner of cell (0, 0).
struct GridSpec {
  int cols = 0;
  int rows = 0;
  double x_min_m = 0.0;
  double y_max_m = 0.0;
  double cell_w_m = 1.0;
  double cell_h_m = 1.0;

  std::size_t cell_count() const { return static_cast<std::size_t>(cols) * static_cast<std::size_t>(rows); }
  double x_max_m() const { return x_min_m + cols * cell_w_m; }
  double y_min_m() const { return y_max_m - rows * cell_h_m; }
  Box extent() const { return {x_min_m, y_min_m(), x_max_m(), y_max_m}; }
  MapPoint cell_centre(CellIndex c) const {
    return {x_min_m + (c.col + 0.5) * cell_w_m, y_max_m - (c.row + 0.5) * cell_h_m};
  }
  // The cell containing p, or nothing when p is outside the grid.
  std::optional<CellIndex> cell_at(MapPoint p) const;
  std::size_t linear(CellIndex c) const {
    return static_cast<std::size_t>(c.row) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c.col);
  }
  CellIndex from_linear(std::size_t i) const {
    return {static_cast<int>(i % static_cast<std::size_t>(cols)), static_cast<int>(i / static_cast<std::size_t>(cols))};
  }
  bool same_as(const GridSpec& o, double tolerance_m = 1e-6) const;
};

// What a raster's band holds, so that a file read in QGIS or gdalinfo says it:
// GeoTIFFs carry it as GDAL's band description, unit type and metadata items.
struct BandInfo {
  std::string description;  // "maximum water depth since the start of the run"
  std::string unit;         // "m", "s", "m/s"
  std::map<std::string, std::string> metadata;  // e.g. TIME_S, ARRIVAL_DEPTH_M
  bool empty() const { return description.empty() && unit.empty() && metadata.empty(); }
};

enum class PixelType { float32, float64, int16, int32, byte };
enum class Resampling { nearest, bilinear, cubic, average };

class Raster {
 public:
  Raster() = default;
  Raster(GridSpec grid, Crs crs, float fill = 0.0f, std::optional<double> nodata = std::nullopt);

  const GridSpec& grid() const { return grid_; }
  const Crs& crs() const { return crs_; }
  void set_crs(Crs crs) { crs_ = std::move(crs); }
  std::optional<double> nodata() const { return nodata_; }
  void set_nodata(std::optional<double> nodata) { nodata_ = nodata; }
  const BandInfo& band() const { return band_; }
  void set_band(BandInfo band) { band_ = std::move(band); }

  float& at(int col, int row) { return values_[grid_.linear({col, row})]; }
  float at(int col, int row) const { return values_[grid_.linear({col, row})]; }
  float& at(CellIndex c) { return values_[grid_.linear(c)]; }
  float at(CellIndex c) const { return values_[grid_.linear(c)]; }
  bool is_nodata(float v) const { return nodata_ && (v == static_cast<float>(*nodata_) || v != v); }
  bool is_nodata(CellIndex c) const { return is_nodata(at(c)); }

  // Bilinear interpolation between cell centres; nothing outside the grid or on nodata.
  std::optional<double> sample(MapPoint p) const;

  std::vector<float>& values() { return values_; }
  const std::vector<float>& values() const { return values_; }

  struct Stats {
    double min = 0.0;
    double max = 0.0;
    double mean = 0.0;
    std::size_t valid_cells = 0;
  };
  Stats stats() const;

 private:
  GridSpec grid_;
  Crs crs_;
  std::optional<double> nodata_;
  BandInfo band_;
  std::vector<float> values_;
};

// The most cells a raster may have (10 000 x 10 000): 400 MB to read as
// float32, and many times that in a flood model on it. Past it, a raster is
// refused before anything is allocated.
inline constexpr std::size_t kMaxRasterCells = 100'000'000;

// Reads band 1 of any raster GDAL opens, with its description, unit and
// metadata. Throws Error naming the file when it is missing, unreadable,
// rotated, or larger than kMaxRasterCells (with its size and the memory it
// would need). A raster without a CRS is returned with an empty Crs; callers
// that need one use require_crs().
Raster read_raster(const std::filesystem::path& path);
void require_crs(const Raster& raster, const std::filesystem::path& path);

struct WriteOptions {
  PixelType type = PixelType::float32;
  bool compress = true;
};
// Writes band 1 with the raster's BandInfo. Throws Error naming the file when it cannot.
void write_geotiff(const Raster& raster, const std::filesystem::path& path, WriteOptions options = {});
// The same GeoTIFF as bytes (float32, DEFLATE), and a raster read back from
// such bytes (any format GDAL opens): a depth frame over the network.
// `where` names the source in errors.
std::string geotiff_bytes(const Raster& raster);
Raster read_raster_bytes(std::string_view bytes, const std::string& where);
// ESRI ASCII grid (.asc) with a .prj beside it when the raster has a CRS.
// Needs square cells.
void write_ascii_grid(const Raster& raster, const std::filesystem::path& path);

// Reprojects and resamples onto a target grid in a target CRS (GDAL warp).
// Target cells not covered by the source are nodata; the band info is kept.
Raster warp_to_grid(const Raster& source, const GridSpec& grid, const Crs& crs,
                    Resampling resampling = Resampling::bilinear);

// `source`, read from `file`, on the grid and in the CRS of `reference`: as
// it is when it already lies there (or either has no CRS and the grids
// agree), warped otherwise. Throws Error naming the file when it cannot be
// warped (no CRS, no transformation) or when it leaves more than half of the
// reference's valid cells uncovered (another place, another CRS).
Raster onto_grid_of(const Raster& source, const Raster& reference, Resampling resampling,
                    const std::filesystem::path& file);

}  // namespace cadereau::twin
