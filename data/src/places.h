#pragma once
// What stands on the demo land: buildings per street block, population zones,
// critical assets with their dependencies, and sensors.

#include "streets.h"
#include "terrain.h"

#include "cadereau/twin/assets.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cadereau::data::detail {

// Street blocks are named by their south-west lattice corner (i, j).
enum class BlockKind { none, historic, town, suburb, industrial, park };
BlockKind block_kind(const StreetPlan& plan, int i, int j);
// The block containing a map point (by lattice position, ignoring jitter).
BlockKind block_kind_at(const StreetPlan& plan, twin::MapPoint p);

inline constexpr double kTotalPopulation = 148000.0;  // Nîmes, INSEE order of magnitude

std::vector<twin::Building> make_buildings(const TerrainModel& terrain, const StreetPlan& plan, std::uint64_t seed);

// 1 km x 1 km zones over the territory; population proportional to residential
// floor area (footprint x storeys of 3 m), totalling kTotalPopulation.
std::vector<twin::PopulationZone> make_zones(const std::vector<twin::Building>& buildings);

struct SignalSite {
  std::string tls_id;  // SUMO tlLogic id
  twin::MapPoint position;
  std::string name;
};

std::vector<twin::Asset> make_assets(const TerrainModel& terrain, const std::vector<SignalSite>& signals);

std::vector<twin::Sensor> make_sensors(const TerrainModel& terrain, const StreetPlan& plan);

// The signal site name for a junction: the streets that meet there.
std::string junction_name(const StreetPlan& plan, int node);

}  // namespace cadereau::data::detail
