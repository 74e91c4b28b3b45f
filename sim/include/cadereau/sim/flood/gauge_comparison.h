#pragma once
// A gauge's depth series set against a reference series (another model's, or
// measurements): the figures flood benchmarks compare (peak depth, its time,
// arrival time) and the root-mean-square difference of the two series.

#include "cadereau/sim/flood/time_series.h"

namespace cadereau::sim::flood {

struct GaugeFeatures {
  double peak_depth_m = 0.0;
  double time_of_peak_s = -1.0;  // the first time the peak is reached; < 0 when never wet
  double arrival_s = -1.0;       // when the depth first reaches the arrival depth,
                                 // interpolated between samples; < 0 never
};

// The features of a depth series (m against s) over [0, until_s].
GaugeFeatures gauge_features(const TimeSeries& depth_m, double arrival_depth_m, double until_s);

// Root-mean-square of ours - reference (m) at the reference's sample times
// in [0, until_s], ours interpolated linearly between its own samples; 0
// when no reference sample falls in the window.
double depth_rmse_m(const TimeSeries& ours_m, const TimeSeries& reference_m, double until_s);

}  // namespace cadereau::sim::flood
