#pragma once
// A small world for the co-simulation tests, built in the test: a 4 x 4 grid
// of streets (200 m blocks, netgenerate, every junction a light) on a flat
// 10 m DEM at 50 m, with a channel 2 m deep between the second and third
// columns of streets (x = 280-320 m) from the north edge down to y = 300 m, so that water let into its north end floods the two
// northern east-west streets that cross it (B3C3 and B2C2 both ways) and
// leaves the two southern ones dry. A substation sits in the channel and
// feeds the light at C1 and a pumping station; a fire station and a hospital
// sit at opposite corners; one population zone covers the town. Traffic flows
// east along y = 200 m, west along y = 400 m (through the flood) and north
// beside the channel. Coordinates are netgenerate's, x and y from -100 to
// 700 m, in a frame labelled Lambert-93 (a small world needs no real place).

#include "cadereau/sim/engine/engine.h"
#include "cadereau/sim/flood/flood_model.h"
#include "cadereau/twin/assets.h"
#include "cadereau/twin/raster.h"
#include "cadereau/twin/territory.h"
#include "cadereau/twin/vector.h"
#include "sumo_tool.h"
#include "test_support.h"

#include <string>

namespace cadereau::testing {

struct SmallTown {
  TempDir dir;
  twin::Territory territory;
  static constexpr double kChannelX_m = 300.0;

  SmallTown() {
    using twin::AssetType;
    run_tool("netgenerate --grid --grid.number 4 --grid.length 200 --tls.guess true --tls.guess.threshold 1 "
             "--default.lanenumber 1 --no-turnarounds true -o \"" +
                 (dir / "town.net.xml").string() + "\"",
             dir / "netgenerate.log");
    write_text(dir / "town.rou.xml", R"(<routes>
  <vType id="car" accel="2.6" decel="4.5" sigma="0" length="5" maxSpeed="14"/>
  <flow id="east" type="car" begin="0" end="1800" vehsPerHour="300" from="A1B1" to="C1D1" departSpeed="max"/>
  <flow id="west" type="car" begin="0" end="1800" vehsPerHour="300" from="D2C2" to="B2A2" departSpeed="max"/>
  <flow id="north" type="car" begin="0" end="1800" vehsPerHour="200" from="B0B1" to="B2B3" departSpeed="max"/>
</routes>
)");
    // Flat ground at 50 m, the channel 2 m lower.
    const twin::GridSpec grid{80, 80, -100.0, 700.0, 10.0, 10.0};
    twin::Raster dem(grid, twin::Crs::lambert93(), 50.0f);
    for (int r = 0; r < grid.rows; ++r)
      for (int c = 0; c < grid.cols; ++c) {
        const double x = grid.cell_centre({c, r}).x_m;
        const double y = grid.cell_centre({c, r}).y_m;
        if (x > kChannelX_m - 20.0 && x < kChannelX_m + 20.0 && y > 300.0) dem.at(c, r) = 48.0f;
      }
    twin::write_geotiff(dem, dir / "dem.tif");

    auto asset = [](std::string id, AssetType type, twin::MapPoint at, std::vector<std::string> deps = {}) {
      twin::Asset a = twin::asset_of_type(std::move(id), type, at);
      a.depends_on = std::move(deps);
      a.capacity = 100.0;
      return a;
    };
    std::vector<twin::Asset> assets{
        asset("sub", AssetType::substation, {kChannelX_m, 500.0}),
        asset("light-C1", AssetType::traffic_signal, {400.0, 200.0}, {"sub"}),
        asset("pump", AssetType::pumping_station, {500.0, 100.0}, {"sub"}),
        asset("sdis", AssetType::fire_station, {0.0, 0.0}),
        asset("hospital", AssetType::hospital, {600.0, 600.0}),
    };
    assets[1].tls_id = "C1";
    twin::write_vector(twin::to_features(assets), twin::Crs::lambert93(), dir / "assets.gpkg", "assets");
    twin::PopulationZone zone;
    zone.id = zone.name = "town";
    zone.area.outer = {{-50.0, -50.0}, {650.0, -50.0}, {650.0, 650.0}, {-50.0, 650.0}};
    zone.population = 2000.0;
    twin::write_vector(twin::to_features(std::vector<twin::PopulationZone>{zone}), twin::Crs::lambert93(),
                       dir / "zones.gpkg", "zones");
    write_text(dir / "territory.yaml", "name: Small town\ncrs: EPSG:2154\ndem: dem.tif\nassets: assets.gpkg\n"
                                       "zones: zones.gpkg\nnetwork: town.net.xml\ndemand: [town.rou.xml]\n");
    territory = twin::Territory::load(dir.path());
  }

  // Water let into the channel's north end.
  static sim::flood::PointInflow channel_inflow(double discharge_m3_s) {
    sim::flood::PointInflow in;
    in.label = "channel";
    in.location = {kChannelX_m, 680.0};
    in.discharge_m3_s = sim::flood::TimeSeries::constant(discharge_m3_s);
    return in;
  }

  // A run of duration_s with 20 m3/s let into the channel, the flood on one thread.
  static sim::engine::EngineSetup channel_flood(double duration_s) {
    sim::engine::EngineSetup setup;
    setup.duration_s = duration_s;
    setup.inflows = {channel_inflow(20.0)};
    setup.flood_threads = 1;
    return setup;
  }
};

}  // namespace cadereau::testing
