#pragma once
// The embedded demo territory: a generated, deterministic town in the image of
// Nîmes, at its real Lambert-93 position. Garrigue hills to the north drained
// by cadereau valleys that cross the town southwards to the Vistre plain; a
// street network with a ring boulevard, radial avenues and a long signalised
// arterial; morning-peak demand; buildings; critical assets with their
// dependencies; population zones; sensors.

#include <cstdint>
#include <filesystem>
#include <string>

namespace cadereau::data {

struct DemoOptions {
  double cell_size_m = 10.0;
  std::uint64_t seed = 1988;
  // Vehicles departing over the morning peak (07:00-09:00).
  int peak_vehicles = 6000;
};

struct DemoSummary {
  std::filesystem::path folder;
  int dem_cols = 0;
  int dem_rows = 0;
  int buildings = 0;
  int assets = 0;
  int sensors = 0;
  int zones = 0;
  int network_edges = 0;
  int traffic_lights = 0;
  int trips = 0;
  double population = 0.0;  // inhabitants over all zones
  double elapsed_s = 0.0;   // wall time of the generation, SUMO tools included
};

// Writes the territory folder (territory.yaml, dem.tif, landcover.tif,
// manning.tif, buildings/assets/sensors/zones GeoJSON, network.net.xml,
// demand.rou.xml) and returns what it wrote. Also leaves the SUMO inputs
// (network.nod.xml, network.edg.xml, trips.xml) and the tools' logs
// (netconvert.log, duarouter.log). Runs SUMO's netconvert and duarouter, which
// must be on PATH (SUMO_HOME defaults to /usr/share/sumo in their environment).
// Same options, same bytes, apart from the timestamps SUMO writes.
// Throws cadereau::Error when a step fails, with the tool's last log lines.
DemoSummary write_demo_territory(const std::filesystem::path& folder, const DemoOptions& options = {});

}  // namespace cadereau::data
