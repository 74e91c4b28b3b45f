#include "terrain.h"

#include "random.h"

#include "cadereau/twin/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace cadereau::data::detail {

namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

// Where the regional surface changes character, as distance north of kYMin_m.
constexpr double kTownRampStart_m = 1300.0;
constexpr double kTownRampEnd_m = 4600.0;
constexpr double kTownRise_m = 26.0;
constexpr double kHillRampStart_m = 4300.0;
constexpr double kHillRampEnd_m = 6200.0;
constexpr double kHillRise_m = 110.0;
constexpr double kPlainLevel_m = 29.0;
constexpr double kPlainSlopeNorth = 0.0012;  // m per m northwards
constexpr double kPlainSlopeEast = 0.0008;   // the plain rises eastwards: the Vistre flows WSW

constexpr double kVistreHalfWidth_m = 10.0;
constexpr double kVistreDepth_m = 2.6;
constexpr double kVistreBankSlope = 0.3;

double town_factor(double y_m) { return smoothstep(kTownRampStart_m, kTownRampEnd_m, y_m - kYMin_m); }
double hill_factor(double y_m) { return smoothstep(kHillRampStart_m, kHillRampEnd_m, y_m - kYMin_m); }

double fade(double t) { return t * t * t * (t * (t * 6.0 - 15.0) + 10.0); }

// Value noise in [-1, 1] on the unit lattice.
double value_noise(std::uint64_t seed, double x, double y) {
  const double fx = std::floor(x);
  const double fy = std::floor(y);
  const auto ix = static_cast<std::int64_t>(fx);
  const auto iy = static_cast<std::int64_t>(fy);
  const double tx = fade(x - fx);
  const double ty = fade(y - fy);
  const double v00 = signed_unit(hash_keys(seed, ix, iy));
  const double v10 = signed_unit(hash_keys(seed, ix + 1, iy));
  const double v01 = signed_unit(hash_keys(seed, ix, iy + 1));
  const double v11 = signed_unit(hash_keys(seed, ix + 1, iy + 1));
  const double a = v00 + (v10 - v00) * tx;
  const double b = v01 + (v11 - v01) * tx;
  return a + (b - a) * ty;
}

// Fractal sum of octaves, normalised to [-1, 1].
double fractal_noise(std::uint64_t seed, double x, double y, int octaves) {
  double sum = 0.0;
  double norm = 0.0;
  double amplitude = 1.0;
  double frequency = 1.0;
  for (int o = 0; o < octaves; ++o) {
    sum += amplitude * value_noise(seed + 7919ULL * static_cast<std::uint64_t>(o), x * frequency, y * frequency);
    norm += amplitude;
    amplitude *= 0.5;
    frequency *= 2.03;
  }
  return sum / norm;
}

}  // namespace

double smoothstep(double edge0, double edge1, double x) {
  const double t = std::clamp((x - edge0) / (edge1 - edge0), 0.0, 1.0);
  return t * t * (3.0 - 2.0 * t);
}

double Stream::centre_x_m(double y_m) const {
  const double phase = kTwoPi * (y_m - kYMin_m) / meander_wavelength_m + meander_phase_rad;
  return x0_m + meander_amplitude_m * std::sin(phase) + 0.3 * meander_amplitude_m * std::sin(2.7 * phase + 1.1);
}

double Stream::dx_dy(double y_m) const {
  const double k = kTwoPi / meander_wavelength_m;
  const double phase = k * (y_m - kYMin_m) + meander_phase_rad;
  return meander_amplitude_m * k * std::cos(phase) + 0.3 * meander_amplitude_m * 2.7 * k * std::cos(2.7 * phase + 1.1);
}

double Stream::distance_m(twin::MapPoint p) const {
  const double slope = dx_dy(p.y_m);
  return std::abs(p.x_m - centre_x_m(p.y_m)) / std::sqrt(1.0 + slope * slope);
}

TerrainModel::TerrainModel(std::uint64_t seed) : seed_(seed) {
  // West to east. The cadereau d'Alès drains the largest catchment (29 km2 in
  // 1988), the Uzès one 14 km2; Camplanier is a smaller western stream.
  streams_.push_back({"camplanier", "cadereau de Camplanier", 807950.0, 35.0, 1100.0, 0.4, 16.0});
  streams_.push_back({"ales", "cadereau d'Alès", 809200.0, 45.0, 1500.0, 1.9, 34.0});
  streams_.push_back({"uzes", "cadereau d'Uzès", 811600.0, 45.0, 1300.0, 3.7, 28.0});
}

const Stream& TerrainModel::stream(const std::string& id) const {
  for (const auto& s : streams_)
    if (s.id == id) return s;
  fail("demo territory", "no stream '{}'", id);
}

double TerrainModel::base_m(double x_m, double y_m) const {
  const double north_m = y_m - kYMin_m;
  return kPlainLevel_m + kPlainSlopeNorth * north_m + kPlainSlopeEast * (x_m - kXMin_m) +
         kTownRise_m * town_factor(y_m) + kHillRise_m * hill_factor(y_m);
}

double TerrainModel::noise_m(double x_m, double y_m) const {
  // Amplitude stays below the cadereau depth everywhere (see stream_depth_m),
  // so no hollow beside a stream is ever lower than its bed.
  double amplitude_m = 0.4 + 1.4 * town_factor(y_m) + 21.0 * hill_factor(y_m);
  double nearest_m = std::numeric_limits<double>::infinity();
  for (const auto& s : streams_) nearest_m = std::min(nearest_m, s.distance_m({x_m, y_m}));
  amplitude_m *= 0.25 + 0.75 * smoothstep(60.0, 400.0, nearest_m);
  const double n = fractal_noise(seed_, (x_m - kXMin_m) / 700.0, (y_m - kYMin_m) / 700.0, 5);
  return amplitude_m * n;
}

double TerrainModel::stream_depth_m(const Stream& s, double y_m) const {
  // Shallow in the plain, a 2-3 m urban channel in town, a V valley in the hills.
  // Depth grows more slowly than the regional surface rises, so the thalweg
  // descends monotonically southwards.
  return 1.8 + 0.9 * town_factor(y_m) + (s.hill_depth_m - 2.7) * hill_factor(y_m);
}

double TerrainModel::thalweg_m(const Stream& s, double y_m) const {
  return base_m(s.centre_x_m(y_m), y_m) - stream_depth_m(s, y_m);
}

double TerrainModel::bed_half_width_m(double y_m) const { return 8.0 - 2.5 * hill_factor(y_m); }

bool TerrainModel::stream_reaches(const Stream& s, double y_m) const {
  return y_m >= vistre_y_m(s.centre_x_m(y_m));
}

double TerrainModel::vistre_y_m(double x_m) const {
  const double u = x_m - kXMin_m;
  return 6299780.0 + 0.035 * (x_m - 810000.0) + 60.0 * std::sin(kTwoPi * u / 1800.0 + 0.6) +
         20.0 * std::sin(kTwoPi * u / 700.0 + 1.3);
}

double TerrainModel::vistre_bed_m(double x_m) const { return base_m(x_m, vistre_y_m(x_m)) - kVistreDepth_m; }

double TerrainModel::vistre_distance_m(twin::MapPoint p) const {
  const double u = p.x_m - kXMin_m;
  const double slope = 0.035 + 60.0 * kTwoPi / 1800.0 * std::cos(kTwoPi * u / 1800.0 + 0.6) +
                       20.0 * kTwoPi / 700.0 * std::cos(kTwoPi * u / 700.0 + 1.3);
  return std::abs(p.y_m - vistre_y_m(p.x_m)) / std::sqrt(1.0 + slope * slope);
}

double TerrainModel::elevation_m(double x_m, double y_m) const {
  // The "monts" that overlook the centre from the north: Mont Cavalier above
  // the Jardins de la Fontaine, Mont Duplan to the north-east. They only raise
  // the ground, so the cadereau beds carved below keep their thalweg.
  struct Mont {
    double x_m, y_m, radius_m, height_m;
  };
  static constexpr Mont kMonts[] = {{809780.0, 6303700.0, 230.0, 28.0}, {811050.0, 6303650.0, 230.0, 20.0}};
  double relief_m = 0.0;
  for (const auto& m : kMonts) {
    const double dx = (x_m - m.x_m) / m.radius_m;
    const double dy = (y_m - m.y_m) / m.radius_m;
    relief_m += m.height_m * std::exp(-(dx * dx + dy * dy));
  }
  double z = base_m(x_m, y_m) + relief_m + noise_m(x_m, y_m);
  const twin::MapPoint p{x_m, y_m};
  const double hills = hill_factor(y_m);
  for (const auto& s : streams_) {
    if (!stream_reaches(s, y_m)) continue;
    const double d = s.distance_m(p);
    const double bank_slope = 0.05 + 0.17 * hills;  // wide urban depression, V in the garrigue
    const double carved = thalweg_m(s, y_m) + std::max(0.0, d - bed_half_width_m(y_m)) * bank_slope;
    z = std::min(z, carved);
  }
  const double dv = vistre_distance_m(p);
  z = std::min(z, vistre_bed_m(x_m) + std::max(0.0, dv - kVistreHalfWidth_m) * kVistreBankSlope);
  return z;
}

bool TerrainModel::in_channel(twin::MapPoint p, double margin_m) const {
  if (vistre_distance_m(p) <= kVistreHalfWidth_m + margin_m) return true;
  for (const auto& s : streams_)
    if (stream_reaches(s, p.y_m) && s.distance_m(p) <= bed_half_width_m(p.y_m) + margin_m) return true;
  return false;
}

double TerrainModel::channel_distance_m(twin::MapPoint p) const {
  double d = vistre_distance_m(p);
  for (const auto& s : streams_)
    if (stream_reaches(s, p.y_m)) d = std::min(d, s.distance_m(p));
  return d;
}

twin::GridSpec territory_grid(double cell_size_m) {
  if (!(cell_size_m >= 1.0 && cell_size_m <= 200.0))
    fail("demo territory", "cell size {} m is out of range (1..200 m)", cell_size_m);
  twin::GridSpec grid;
  grid.cols = static_cast<int>(std::lround((kXMax_m - kXMin_m) / cell_size_m));
  grid.rows = static_cast<int>(std::lround((kYMax_m - kYMin_m) / cell_size_m));
  grid.x_min_m = kXMin_m;
  grid.y_max_m = kYMax_m;
  grid.cell_w_m = cell_size_m;
  grid.cell_h_m = cell_size_m;
  return grid;
}

twin::Raster make_dem(const TerrainModel& terrain, const twin::GridSpec& grid, const twin::Crs& crs) {
  twin::Raster dem(grid, crs, 0.0f, -9999.0);
  for (int row = 0; row < grid.rows; ++row) {
    for (int col = 0; col < grid.cols; ++col) {
      const auto c = grid.cell_centre({col, row});
      dem.at(col, row) = static_cast<float>(terrain.elevation_m(c.x_m, c.y_m));
    }
  }
  return dem;
}

}  // namespace cadereau::data::detail
