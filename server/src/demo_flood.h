#pragma once
// The flash-flood part of `cadereau demo`: 1988-like hydrographs enter the
// demo town where the cadereaux leave the garrigue, the flood model runs, and
// the first consequences are read off: roads made impassable and assets put
// out of service, each with the minute it happens.

#include "cadereau/twin/territory.h"

#include <filesystem>
#include <iosfwd>

namespace cadereau::server {

struct DemoFloodOptions {
  double duration_s = 3600.0;
  double report_every_s = 60.0;
  // Depth from which a road is impassable to cars (Pregnolato et al. 2017
  // depth-disruption curve: speed falls to zero at about 0.3 m).
  double road_closed_depth_m = 0.3;
};

// Writes DIR/max_depth.tif, DIR/arrival_time.tif and DIR/impacts.json and
// prints a summary. Throws cadereau::Error when the territory lacks what the
// forecast needs (level gauges at the cadereau outlets, a network).
void run_demo_flood(const twin::Territory& territory, const std::filesystem::path& dir, std::ostream& out,
                    const DemoFloodOptions& options = {});

}  // namespace cadereau::server
