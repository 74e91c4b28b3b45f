#include "territory_checks.h"

#include "cadereau/twin/error.h"

#include <algorithm>
#include <cmath>

namespace cadereau::twin::checks {

namespace {

std::string box_text(const Box& b) {
  return fmt::format("x {:.1f} .. {:.1f}, y {:.1f} .. {:.1f}", b.x_min_m, b.x_max_m, b.y_min_m, b.y_max_m);
}

// Distance between two boxes, 0 when they meet.
double gap_m(const Box& a, const Box& b) {
  const double dx = std::max({0.0, a.x_min_m - b.x_max_m, b.x_min_m - a.x_max_m});
  const double dy = std::max({0.0, a.y_min_m - b.y_max_m, b.y_min_m - a.y_max_m});
  return std::hypot(dx, dy);
}

std::string off_dem(MapPoint p, const GridSpec& dem, const std::string& dem_words) {
  return fmt::format("at x {:.1f}, y {:.1f} lies {:.1f} km outside {}", p.x_m, p.y_m,
                     gap_m(Box{p.x_m, p.y_m, p.x_m, p.y_m}, dem.extent()) / 1000.0, dem_words);
}

}  // namespace

std::string dem_words(const std::filesystem::path& dem_file, const GridSpec& dem, const std::string& reprojected_from) {
  return fmt::format("the DEM {} ({}{})", dem_file.filename().string(), box_text(dem.extent()),
                     reprojected_from.empty() ? "" : ", reprojected from " + reprojected_from + ": is that its CRS?");
}

void extent_matches_dem(const Box& declared, const GridSpec& dem, const std::filesystem::path& manifest,
                        const std::filesystem::path& dem_file) {
  const Box actual = dem.extent();
  const double tol_x_m = std::max(2.0 * dem.cell_w_m, 0.05 * actual.width_m());
  const double tol_y_m = std::max(2.0 * dem.cell_h_m, 0.05 * actual.height_m());
  const bool agree = std::abs(declared.x_min_m - actual.x_min_m) <= tol_x_m &&
                     std::abs(declared.x_max_m - actual.x_max_m) <= tol_x_m &&
                     std::abs(declared.y_min_m - actual.y_min_m) <= tol_y_m &&
                     std::abs(declared.y_max_m - actual.y_max_m) <= tol_y_m;
  if (agree) return;
  const double gap = gap_m(declared, actual);
  fail(manifest.string(),
       "'extent' [{}, {}, {}, {}] does not match the DEM {} ({}){}: correct it, or remove it to take the DEM's",
       declared.x_min_m, declared.y_min_m, declared.x_max_m, declared.y_max_m, dem_file.filename().string(),
       box_text(actual), gap > 0.0 ? fmt::format(", {:.1f} km away", gap / 1000.0) : std::string());
}

void network_on_dem(const RoadNetwork& network, const GridSpec& dem, const std::string& dem_words,
                    const std::filesystem::path& net_file, std::vector<std::string>& warnings) {
  const Box extent = dem.extent();
  std::size_t off = 0, total = 0;
  for (const auto& j : network.junctions()) {
    ++total;
    if (!extent.contains(j.position)) ++off;
  }
  if (total == 0) {
    for (const auto& e : network.edges())
      for (const auto& p : e.shape) {
        ++total;
        if (!extent.contains(p)) ++off;
      }
  }
  if (off == 0) return;
  const auto& loc = network.location();
  const Box roads = network.bounds();
  const std::string hint = fmt::format(
      "check <location netOffset=\"{:.2f},{:.2f}\"> (map = SUMO - netOffset) and that the network was built in the "
      "territory's CRS",
      loc.offset_x_m, loc.offset_y_m);
  if (2 * off > total) {
    const double gap = gap_m(roads, extent);
    fail(net_file.string(), "{} of its {} junctions lie outside {}: the roads span {}{}; {}", off, total, dem_words,
         box_text(roads), gap > 0.0 ? fmt::format(", {:.1f} km away", gap / 1000.0) : std::string(), hint);
  }
  warnings.push_back(fmt::format("{}: {} of its {} junctions lie outside {}: roads there never flood",
                                 net_file.string(), off, total, dem_words));
}

void assets_on_dem(const std::vector<Asset>& assets, const GridSpec& dem, const std::string& dem_words,
                   const std::filesystem::path& file) {
  for (const auto& a : assets)
    if (!dem.cell_at(a.location))
      fail(file.string(), "asset '{}' ({}) {}: it would never be flooded", a.id, a.name,
           off_dem(a.location, dem, dem_words));
}

void sensors_on_dem(const std::vector<Sensor>& sensors, const GridSpec& dem, const std::string& dem_words,
                    const std::filesystem::path& file) {
  for (const auto& s : sensors)
    if (!dem.cell_at(s.location))
      fail(file.string(), "sensor '{}' ({}, {}) {}: it would never see water", s.id, to_string(s.kind), s.name,
           off_dem(s.location, dem, dem_words));
}

void zones_on_dem(const std::vector<PopulationZone>& zones, const GridSpec& dem, const std::string& dem_words,
                  const std::filesystem::path& file) {
  for (const auto& z : zones) {
    const Box b = z.area.bounds();
    if (!b.intersects(dem.extent()))
      fail(file.string(), "population zone '{}' ({}) spans {}, entirely outside {}, {:.1f} km away", z.id, z.name,
           box_text(b), dem_words, gap_m(b, dem.extent()) / 1000.0);
  }
}

}  // namespace cadereau::twin::checks
