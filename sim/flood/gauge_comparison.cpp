#include "cadereau/sim/flood/gauge_comparison.h"

#include <cmath>
#include <cstddef>

namespace cadereau::sim::flood {

GaugeFeatures gauge_features(const TimeSeries& depth_m, double arrival_depth_m, double until_s) {
  GaugeFeatures f;
  const auto& t = depth_m.times_s();
  const auto& h = depth_m.values();
  for (std::size_t k = 0; k < t.size() && t[k] <= until_s; ++k) {
    if (h[k] > f.peak_depth_m) {
      f.peak_depth_m = h[k];
      f.time_of_peak_s = t[k];
    }
    if (f.arrival_s < 0.0 && h[k] >= arrival_depth_m) {
      // Where the line between this sample and the one before crosses the arrival depth.
      f.arrival_s = k == 0 || h[k] == h[k - 1]
                        ? t[k]
                        : t[k - 1] + (t[k] - t[k - 1]) * (arrival_depth_m - h[k - 1]) / (h[k] - h[k - 1]);
    }
  }
  return f;
}

double depth_rmse_m(const TimeSeries& ours_m, const TimeSeries& reference_m, double until_s) {
  double sum_m2 = 0.0;
  std::size_t n = 0;
  const auto& t = reference_m.times_s();
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (t[k] < 0.0 || t[k] > until_s) continue;
    const double d = ours_m.at(t[k]) - reference_m.values()[k];
    sum_m2 += d * d;
    ++n;
  }
  return n > 0 ? std::sqrt(sum_m2 / static_cast<double>(n)) : 0.0;
}

}  // namespace cadereau::sim::flood
