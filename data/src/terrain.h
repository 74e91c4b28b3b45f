#pragma once
// The shape of the demo land: garrigue hills to the north, the town sloping
// south, the Vistre plain, and the cadereau valleys that drain the hills
// through the town into the Vistre. Everything is an analytic function of the
// Lambert-93 position, so the DEM, the land cover and the placement of
// buildings and assets all agree on where the water goes.

#include "cadereau/twin/geo.h"
#include "cadereau/twin/raster.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cadereau::data::detail {

// The territory box (Lambert-93, metres) and the town centre (the Écusson).
inline constexpr double kXMin_m = 807000.0;
inline constexpr double kXMax_m = 813000.0;
inline constexpr double kYMin_m = 6299000.0;
inline constexpr double kYMax_m = 6305000.0;
inline constexpr double kCentreX_m = 810300.0;
inline constexpr double kCentreY_m = 6302800.0;

double smoothstep(double edge0, double edge1, double x);

// A cadereau: a normally-dry stream whose bed meanders gently around x0.
struct Stream {
  std::string id;     // "ales", "uzes", "camplanier"
  std::string name;   // "cadereau d'Alès"
  double x0_m = 0.0;
  double meander_amplitude_m = 40.0;
  double meander_wavelength_m = 1400.0;
  double meander_phase_rad = 0.0;
  double hill_depth_m = 30.0;  // valley depth below the hillside in the garrigue

  double centre_x_m(double y_m) const;
  double dx_dy(double y_m) const;
  // Horizontal distance from p to the stream's centre line (perpendicular, approximately).
  double distance_m(twin::MapPoint p) const;
};

class TerrainModel {
 public:
  explicit TerrainModel(std::uint64_t seed);

  const std::vector<Stream>& streams() const { return streams_; }
  const Stream& stream(const std::string& id) const;

  // The smooth regional surface (no noise, no valleys), metres NGF.
  double base_m(double x_m, double y_m) const;
  // The ground: regional surface, noise, cadereau valleys and the Vistre channel.
  double elevation_m(double x_m, double y_m) const;

  // Vistre: centre line y(x), bed elevation, distance to the centre line.
  double vistre_y_m(double x_m) const;
  double vistre_bed_m(double x_m) const;
  double vistre_distance_m(twin::MapPoint p) const;

  // Cadereau bed elevation (the thalweg) at northing y; monotone in y by construction.
  double thalweg_m(const Stream& s, double y_m) const;
  double bed_half_width_m(double y_m) const;
  // True when the stream exists at this northing (north of its confluence with the Vistre).
  bool stream_reaches(const Stream& s, double y_m) const;

  // Whether p lies in a channel bed (cadereau or Vistre), with an extra margin.
  bool in_channel(twin::MapPoint p, double margin_m = 0.0) const;
  // Distance to the nearest watercourse centre line.
  double channel_distance_m(twin::MapPoint p) const;

 private:
  double noise_m(double x_m, double y_m) const;
  double stream_depth_m(const Stream& s, double y_m) const;

  std::uint64_t seed_;
  std::vector<Stream> streams_;
};

// Rasterises the terrain on the territory grid (Lambert-93, float32 heights).
twin::Raster make_dem(const TerrainModel& terrain, const twin::GridSpec& grid, const twin::Crs& crs);

twin::GridSpec territory_grid(double cell_size_m);

}  // namespace cadereau::data::detail
