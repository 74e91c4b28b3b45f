#include "cadereau/twin/raster.h"

#include "cadereau/twin/error.h"
#include "gdal_init.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <gdalwarper.h>
#include <ogr_spatialref.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <limits>
#include <mutex>

namespace cadereau::twin {

namespace detail {

void ensure_gdal() {
  static std::once_flag once;
  std::call_once(once, [] {
    GDALAllRegister();
    CPLSetErrorHandler(CPLQuietErrorHandler);
  });
}

const char* gdal_last_error() {
  const char* msg = CPLGetLastErrorMsg();
  return msg ? msg : "";
}

std::string vsimem_name(const char* kind, const char* ext) {
  static std::atomic<unsigned long> counter{0};
  return fmt::format("/vsimem/cadereau-{}-{}.{}", kind, counter++, ext);
}

std::string take_vsimem_file(const std::string& name, const std::string& where) {
  vsi_l_offset size = 0;
  GByte* data = VSIGetMemFileBuffer(name.c_str(), &size, TRUE);  // takes ownership and unlinks
  if (!data) fail(where, "GDAL lost the file it wrote in memory");
  std::string bytes(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
  CPLFree(data);
  VSIUnlink((name + ".aux.xml").c_str());
  return bytes;
}

}  // namespace detail

namespace {

struct DatasetCloser {
  void operator()(GDALDataset* ds) const { GDALClose(GDALDataset::ToHandle(ds)); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

GDALDataType to_gdal(PixelType type) {
  switch (type) {
    case PixelType::float32: return GDT_Float32;
    case PixelType::float64: return GDT_Float64;
    case PixelType::int16: return GDT_Int16;
    case PixelType::int32: return GDT_Int32;
    case PixelType::byte: return GDT_Byte;
  }
  return GDT_Float32;
}

GDALResampleAlg to_gdal(Resampling r) {
  switch (r) {
    case Resampling::nearest: return GRA_NearestNeighbour;
    case Resampling::bilinear: return GRA_Bilinear;
    case Resampling::cubic: return GRA_Cubic;
    case Resampling::average: return GRA_Average;
  }
  return GRA_Bilinear;
}

void describe_band(GDALRasterBand* band, const BandInfo& info) {
  if (!info.description.empty()) band->SetDescription(info.description.c_str());
  if (!info.unit.empty()) band->SetUnitType(info.unit.c_str());
  for (const auto& [key, value] : info.metadata) band->SetMetadataItem(key.c_str(), value.c_str());
}

BandInfo band_info(GDALRasterBand* band) {
  BandInfo info;
  info.description = band->GetDescription() ? band->GetDescription() : "";
  info.unit = band->GetUnitType() ? band->GetUnitType() : "";
  for (char** item = band->GetMetadata(); item && *item; ++item) {
    char* key = nullptr;
    const char* value = CPLParseNameValue(*item, &key);
    if (key && value) info.metadata[key] = value;
    CPLFree(key);
  }
  return info;
}

// An in-memory GDAL dataset holding the raster's values as float32.
DatasetPtr to_mem_dataset(const Raster& raster, const std::string& where) {
  detail::ensure_gdal();
  GDALDriver* mem = GetGDALDriverManager()->GetDriverByName("MEM");
  const GridSpec& g = raster.grid();
  DatasetPtr ds(mem->Create("", g.cols, g.rows, 1, GDT_Float32, nullptr));
  if (!ds) fail(where, "cannot create an in-memory raster ({})", detail::gdal_last_error());
  double gt[6] = {g.x_min_m, g.cell_w_m, 0.0, g.y_max_m, 0.0, -g.cell_h_m};
  ds->SetGeoTransform(gt);
  if (!raster.crs().empty()) ds->SetProjection(raster.crs().wkt().c_str());
  GDALRasterBand* band = ds->GetRasterBand(1);
  if (raster.nodata()) band->SetNoDataValue(*raster.nodata());
  describe_band(band, raster.band());
  const CPLErr err = band->RasterIO(GF_Write, 0, 0, g.cols, g.rows, const_cast<float*>(raster.values().data()),
                                    g.cols, g.rows, GDT_Float32, 0, 0);
  if (err != CE_None) fail(where, "cannot fill an in-memory raster ({})", detail::gdal_last_error());
  return ds;
}

void check_grid(const GridSpec& grid, const std::string& where) {
  if (grid.cols <= 0 || grid.rows <= 0) fail(where, "grid has {} x {} cells", grid.cols, grid.rows);
  if (!(grid.cell_w_m > 0.0) || !(grid.cell_h_m > 0.0))
    fail(where, "cell size {} x {} m is not positive", grid.cell_w_m, grid.cell_h_m);
}

}  // namespace

std::optional<CellIndex> GridSpec::cell_at(MapPoint p) const {
  const double fc = (p.x_m - x_min_m) / cell_w_m;
  const double fr = (y_max_m - p.y_m) / cell_h_m;
  if (!(fc >= 0.0) || !(fr >= 0.0)) return std::nullopt;
  const auto col = static_cast<long long>(fc);
  const auto row = static_cast<long long>(fr);
  if (col >= cols || row >= rows) return std::nullopt;
  return CellIndex{static_cast<int>(col), static_cast<int>(row)};
}

bool GridSpec::same_as(const GridSpec& o, double tolerance_m) const {
  return cols == o.cols && rows == o.rows && std::abs(x_min_m - o.x_min_m) <= tolerance_m &&
         std::abs(y_max_m - o.y_max_m) <= tolerance_m && std::abs(cell_w_m - o.cell_w_m) <= tolerance_m &&
         std::abs(cell_h_m - o.cell_h_m) <= tolerance_m;
}

Raster::Raster(GridSpec grid, Crs crs, float fill, std::optional<double> nodata)
    : grid_(grid), crs_(std::move(crs)), nodata_(nodata), values_(grid.cell_count(), fill) {
  check_grid(grid, "raster");
}

std::optional<double> Raster::sample(MapPoint p) const {
  // Continuous cell coordinates with cell centres at integer + 0.5.
  const double fc = (p.x_m - grid_.x_min_m) / grid_.cell_w_m - 0.5;
  const double fr = (grid_.y_max_m - p.y_m) / grid_.cell_h_m - 0.5;
  if (!(fc >= -0.5) || !(fr >= -0.5) || fc > grid_.cols - 0.5 || fr > grid_.rows - 0.5) return std::nullopt;
  const double cc = std::clamp(fc, 0.0, static_cast<double>(grid_.cols - 1));
  const double cr = std::clamp(fr, 0.0, static_cast<double>(grid_.rows - 1));
  const int c0 = static_cast<int>(std::floor(cc));
  const int r0 = static_cast<int>(std::floor(cr));
  const int c1 = std::min(c0 + 1, grid_.cols - 1);
  const int r1 = std::min(r0 + 1, grid_.rows - 1);
  const double tx = cc - c0, ty = cr - r0;
  const float v00 = at(c0, r0), v10 = at(c1, r0), v01 = at(c0, r1), v11 = at(c1, r1);
  if (is_nodata(v00) || is_nodata(v10) || is_nodata(v01) || is_nodata(v11)) {
    // Near the domain edge: fall back to the containing cell.
    const auto cell = grid_.cell_at(p);
    if (!cell || is_nodata(*cell)) return std::nullopt;
    return static_cast<double>(at(*cell));
  }
  return (1 - tx) * (1 - ty) * v00 + tx * (1 - ty) * v10 + (1 - tx) * ty * v01 + tx * ty * v11;
}

Raster::Stats Raster::stats() const {
  Stats s;
  s.min = std::numeric_limits<double>::infinity();
  s.max = -std::numeric_limits<double>::infinity();
  double sum = 0.0;
  for (float v : values_) {
    if (is_nodata(v)) continue;
    s.min = std::min(s.min, static_cast<double>(v));
    s.max = std::max(s.max, static_cast<double>(v));
    sum += v;
    ++s.valid_cells;
  }
  if (s.valid_cells == 0) {
    s.min = s.max = 0.0;
  } else {
    s.mean = sum / static_cast<double>(s.valid_cells);
  }
  return s;
}

Raster read_raster(const std::filesystem::path& path) {
  detail::ensure_gdal();
  const std::string where = path.string();
  // GDAL's virtual paths (/vsigzip/, /vsizip/...) are not on the file system.
  if (where.rfind("/vsi", 0) != 0 && !std::filesystem::exists(path)) fail_as(ErrorCategory::not_found, where, "file not found");
  CPLErrorReset();
  DatasetPtr ds(GDALDataset::FromHandle(GDALOpenEx(where.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
  if (!ds) fail(where, "not a raster GDAL can read ({})", detail::gdal_last_error());
  if (ds->GetRasterCount() < 1) fail(where, "raster has no band");
  double gt[6];
  if (ds->GetGeoTransform(gt) != CE_None) fail(where, "raster has no geotransform (no georeferencing)");
  if (gt[2] != 0.0 || gt[4] != 0.0) fail(where, "rotated rasters are not supported (geotransform has rotation terms)");
  if (gt[1] <= 0.0 || gt[5] == 0.0) fail(where, "invalid cell size {} x {}", gt[1], gt[5]);

  GridSpec grid;
  grid.cols = ds->GetRasterXSize();
  grid.rows = ds->GetRasterYSize();
  const double cells = static_cast<double>(grid.cols) * static_cast<double>(grid.rows);
  if (cells > static_cast<double>(kMaxRasterCells))
    fail(where,
         "raster of {} x {} cells ({:.0f} million) would need {:.1f} GB to read, and a flood model on it many times "
         "more; the most taken is {} million cells: crop it (gdal_translate -projwin) or coarsen it (gdalwarp -tr)",
         grid.cols, grid.rows, cells / 1e6, cells * sizeof(float) / 1e9, kMaxRasterCells / 1'000'000);
  grid.cell_w_m = gt[1];
  grid.cell_h_m = std::abs(gt[5]);
  grid.x_min_m = gt[0];
  const bool south_up = gt[5] > 0.0;
  grid.y_max_m = south_up ? gt[3] + grid.rows * gt[5] : gt[3];

  Crs crs;
  const OGRSpatialReference* srs = ds->GetSpatialRef();
  if (srs && !srs->IsEmpty()) {
    char* wkt = nullptr;
    const char* options[] = {"FORMAT=WKT2_2019", nullptr};
    srs->exportToWkt(&wkt, options);
    if (wkt) {
      crs = Crs::from_user_input(wkt);
      CPLFree(wkt);
    }
  }

  GDALRasterBand* band = ds->GetRasterBand(1);
  int has_nodata = 0;
  const double nodata = band->GetNoDataValue(&has_nodata);
  Raster raster(grid, crs, 0.0f, has_nodata ? std::optional<double>(nodata) : std::nullopt);
  raster.set_band(band_info(band));
  if (band->RasterIO(GF_Read, 0, 0, grid.cols, grid.rows, raster.values().data(), grid.cols, grid.rows, GDT_Float32,
                     0, 0) != CE_None)
    fail(where, "cannot read band 1 ({})", detail::gdal_last_error());
  if (south_up) {
    auto& v = raster.values();
    for (int r = 0; r < grid.rows / 2; ++r)
      std::swap_ranges(v.begin() + static_cast<std::ptrdiff_t>(r) * grid.cols,
                       v.begin() + static_cast<std::ptrdiff_t>(r + 1) * grid.cols,
                       v.begin() + static_cast<std::ptrdiff_t>(grid.rows - 1 - r) * grid.cols);
  }
  return raster;
}

void require_crs(const Raster& raster, const std::filesystem::path& path) {
  if (raster.crs().empty())
    fail(path.string(),
         "raster has no coordinate reference system; assign one (e.g. gdal_edit.py -a_srs EPSG:2154 {})",
         path.filename().string());
}

void write_geotiff(const Raster& raster, const std::filesystem::path& path, WriteOptions options) {
  const std::string where = path.string();
  DatasetPtr mem = to_mem_dataset(raster, where);
  GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
  if (!gtiff) fail(where, "GDAL has no GeoTIFF driver");
  // Convert to the requested pixel type through a second MEM band when needed.
  DatasetPtr typed;
  GDALDataset* source = mem.get();
  if (options.type != PixelType::float32) {
    GDALDriver* memdrv = GetGDALDriverManager()->GetDriverByName("MEM");
    const GridSpec& g = raster.grid();
    typed.reset(memdrv->Create("", g.cols, g.rows, 1, to_gdal(options.type), nullptr));
    double gt[6];
    mem->GetGeoTransform(gt);
    typed->SetGeoTransform(gt);
    if (!raster.crs().empty()) typed->SetProjection(raster.crs().wkt().c_str());
    if (raster.nodata()) typed->GetRasterBand(1)->SetNoDataValue(*raster.nodata());
    describe_band(typed->GetRasterBand(1), raster.band());
    std::vector<double> buffer(raster.values().begin(), raster.values().end());
    if (typed->GetRasterBand(1)->RasterIO(GF_Write, 0, 0, g.cols, g.rows, buffer.data(), g.cols, g.rows, GDT_Float64,
                                          0, 0) != CE_None)
      fail(where, "cannot convert raster values ({})", detail::gdal_last_error());
    source = typed.get();
  }
  const char* create_options[] = {options.compress ? "COMPRESS=DEFLATE" : "COMPRESS=NONE", "TILED=YES", nullptr};
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  CPLErrorReset();
  DatasetPtr out(gtiff->CreateCopy(where.c_str(), source, FALSE, const_cast<char**>(create_options), nullptr, nullptr));
  if (!out) fail(where, "cannot write GeoTIFF ({})", detail::gdal_last_error());
}

std::string geotiff_bytes(const Raster& raster) {
  const std::string where = "GeoTIFF in memory";
  DatasetPtr mem = to_mem_dataset(raster, where);
  GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
  if (!gtiff) fail(where, "GDAL has no GeoTIFF driver");
  const std::string name = detail::vsimem_name("raster", "tif");
  const char* create_options[] = {"COMPRESS=DEFLATE", nullptr};
  CPLErrorReset();
  DatasetPtr out(gtiff->CreateCopy(name.c_str(), mem.get(), FALSE, const_cast<char**>(create_options), nullptr, nullptr));
  if (!out) fail(where, "cannot write GeoTIFF ({})", detail::gdal_last_error());
  out.reset();
  return detail::take_vsimem_file(name, where);
}

Raster read_raster_bytes(std::string_view bytes, const std::string& where) {
  detail::ensure_gdal();
  const std::string name = detail::vsimem_name("raster", "bin");
  // GDAL reads the caller's bytes in place (no copy, not freed by GDAL).
  VSILFILE* f = VSIFileFromMemBuffer(name.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(bytes.data())),
                                     static_cast<vsi_l_offset>(bytes.size()), FALSE);
  if (!f) fail(where, "cannot read {} bytes as a raster", bytes.size());
  VSIFCloseL(f);
  try {
    Raster r = read_raster(name);
    VSIUnlink(name.c_str());
    return r;
  } catch (const Error& e) {
    VSIUnlink(name.c_str());
    fail(where, "{}", e.what_only());
  }
}

void write_ascii_grid(const Raster& raster, const std::filesystem::path& path) {
  const std::string where = path.string();
  const GridSpec& g = raster.grid();
  if (std::abs(g.cell_w_m - g.cell_h_m) > 1e-9 * g.cell_w_m)
    fail(where, "ESRI ASCII grids need square cells, this raster has {} x {} m", g.cell_w_m, g.cell_h_m);
  DatasetPtr mem = to_mem_dataset(raster, where);
  GDALDriver* aaig = GetGDALDriverManager()->GetDriverByName("AAIGrid");
  if (!aaig) fail(where, "GDAL has no ASCII grid driver");
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  CPLErrorReset();
  DatasetPtr out(aaig->CreateCopy(where.c_str(), mem.get(), FALSE, nullptr, nullptr, nullptr));
  if (!out) fail(where, "cannot write ASCII grid ({})", detail::gdal_last_error());
}

Raster warp_to_grid(const Raster& source, const GridSpec& grid, const Crs& crs, Resampling resampling) {
  check_grid(grid, "warp target");
  if (source.crs().empty()) fail("raster warp", "source raster has no CRS");
  if (crs.empty()) fail("raster warp", "target CRS is missing");
  DatasetPtr src = to_mem_dataset(source, "raster warp source");
  const float nodata_out = source.nodata() ? static_cast<float>(*source.nodata()) : -9999.0f;
  Raster target(grid, crs, nodata_out, nodata_out);
  target.set_band(source.band());
  DatasetPtr dst = to_mem_dataset(target, "raster warp target");

  std::unique_ptr<GDALWarpOptions, void (*)(GDALWarpOptions*)> wo(GDALCreateWarpOptions(), GDALDestroyWarpOptions);
  wo->hSrcDS = GDALDataset::ToHandle(src.get());
  wo->hDstDS = GDALDataset::ToHandle(dst.get());
  wo->nBandCount = 1;
  wo->panSrcBands = static_cast<int*>(CPLMalloc(sizeof(int)));
  wo->panSrcBands[0] = 1;
  wo->panDstBands = static_cast<int*>(CPLMalloc(sizeof(int)));
  wo->panDstBands[0] = 1;
  wo->eResampleAlg = to_gdal(resampling);
  if (source.nodata()) {
    wo->padfSrcNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double)));
    wo->padfSrcNoDataReal[0] = *source.nodata();
  }
  wo->padfDstNoDataReal = static_cast<double*>(CPLMalloc(sizeof(double)));
  wo->padfDstNoDataReal[0] = nodata_out;
  wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "INIT_DEST", "NO_DATA");
  wo->pTransformerArg = GDALCreateGenImgProjTransformer2(wo->hSrcDS, wo->hDstDS, nullptr);
  if (!wo->pTransformerArg) fail("raster warp", "no transformation {} -> {} ({})", source.crs().label(), crs.label(), detail::gdal_last_error());
  wo->pfnTransformer = GDALGenImgProjTransform;
  GDALWarpOperation op;
  CPLErr err = op.Initialize(wo.get());
  if (err == CE_None) err = op.ChunkAndWarpImage(0, 0, grid.cols, grid.rows);
  GDALDestroyGenImgProjTransformer(wo->pTransformerArg);
  wo->pTransformerArg = nullptr;
  if (err != CE_None) fail("raster warp", "GDAL warp failed ({})", detail::gdal_last_error());
  if (dst->GetRasterBand(1)->RasterIO(GF_Read, 0, 0, grid.cols, grid.rows, target.values().data(), grid.cols,
                                      grid.rows, GDT_Float32, 0, 0) != CE_None)
    fail("raster warp", "cannot read the warped raster ({})", detail::gdal_last_error());
  return target;
}

Raster onto_grid_of(const Raster& source, const Raster& reference, Resampling resampling,
                    const std::filesystem::path& file) {
  const GridSpec& grid = reference.grid();
  const bool same_grid = source.grid().same_as(grid, 1e-6 * std::max(1.0, grid.cell_w_m));
  const bool no_crs = source.crs().empty() || reference.crs().empty();
  if (same_grid && (no_crs || source.crs().equivalent_to(reference.crs()))) return source;
  if (no_crs)
    fail(file.string(),
         "is not on the DEM's grid ({} x {} cells of {:g} m from x {:.1f}, y {:.1f}; it has {} x {} of {:g} m from x "
         "{:.1f}, y {:.1f}) and {} no CRS to warp it with",
         grid.cols, grid.rows, grid.cell_w_m, grid.x_min_m, grid.y_max_m, source.grid().cols, source.grid().rows,
         source.grid().cell_w_m, source.grid().x_min_m, source.grid().y_max_m,
         source.crs().empty() ? "it has" : "the DEM has");
  Raster out;
  try {
    out = warp_to_grid(source, grid, reference.crs(), resampling);
  } catch (const Error& e) {
    fail(file.string(), "cannot bring it onto the DEM's grid: {}", e.what());
  }
  std::size_t valid = 0, covered = 0;
  for (std::size_t i = 0; i < grid.cell_count(); ++i) {
    if (reference.is_nodata(reference.values()[i])) continue;
    ++valid;
    if (!out.is_nodata(out.values()[i])) ++covered;
  }
  if (2 * covered < valid) {
    const Box b = source.grid().extent();
    const Box d = grid.extent();
    fail(file.string(),
         "covers {} of the DEM's {} cells ({:.0f}%): it spans x {:.1f} .. {:.1f}, y {:.1f} .. {:.1f} in {}, the DEM "
         "x {:.1f} .. {:.1f}, y {:.1f} .. {:.1f} in {} (another place, or a wrong CRS?)",
         covered, valid, valid ? 100.0 * static_cast<double>(covered) / static_cast<double>(valid) : 0.0, b.x_min_m,
         b.x_max_m, b.y_min_m, b.y_max_m, source.crs().label(), d.x_min_m, d.x_max_m, d.y_min_m, d.y_max_m,
         reference.crs().label());
  }
  return out;
}

}  // namespace cadereau::twin
