#include "cadereau/sim/flood/gauge_comparison.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace cadereau::sim::flood;

TEST_CASE("Gauge features: peak, its time and the interpolated arrival", "[unit][flood]") {
  const TimeSeries h({0.0, 100.0, 200.0, 300.0, 400.0}, {0.0, 0.0, 0.5, 2.0, 1.0});
  const GaugeFeatures f = gauge_features(h, 0.01, 1e9);
  CHECK(f.peak_depth_m == 2.0);
  CHECK(f.time_of_peak_s == 300.0);
  // 0.01 m is reached a fiftieth of the way from 100 s (0 m) to 200 s (0.5 m).
  CHECK(f.arrival_s == Approx(102.0).margin(1e-9));
  // Only the window counts.
  const GaugeFeatures early = gauge_features(h, 0.01, 250.0);
  CHECK(early.peak_depth_m == 0.5);
  CHECK(early.time_of_peak_s == 200.0);
  const GaugeFeatures dry = gauge_features(TimeSeries({0.0, 10.0}, {0.0, 0.0}), 0.01, 1e9);
  CHECK(dry.arrival_s < 0.0);
  CHECK(dry.time_of_peak_s < 0.0);
}

TEST_CASE("Depth RMSE: ours interpolated at the reference's times within the window", "[unit][flood]") {
  const TimeSeries ours({0.0, 100.0}, {0.0, 1.0});
  const TimeSeries reference({25.0, 50.0, 75.0, 1000.0}, {0.25, 0.75, 0.75, 9.0});
  // Differences 0, -0.25 and 0 at 25, 50 and 75 s; the 1000 s sample lies outside the window.
  CHECK(depth_rmse_m(ours, reference, 100.0) == Approx(std::sqrt(0.0625 / 3.0)));
  CHECK(depth_rmse_m(ours, reference, 10.0) == 0.0);
}
