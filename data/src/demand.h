#pragma once
// Weekday morning-peak demand (07:00-09:00) for the demo street network.

#include "streets.h"

#include "cadereau/twin/assets.h"

#include <cstdint>
#include <filesystem>
#include <vector>

namespace cadereau::data::detail {

inline constexpr double kPeakBegin_s = 7.0 * 3600.0;
inline constexpr double kPeakEnd_s = 9.0 * 3600.0;

// Writes `vehicles` SUMO trips (sorted by departure) from the residential
// edges and the town's entries to the centre, hospitals, schools and the
// industrial zone; departures follow a peak profile with twice the rate
// between 07:45 and 08:30. Returns the number of trips written.
int write_trips(const StreetPlan& plan, const std::vector<twin::Asset>& assets, int vehicles, std::uint64_t seed,
                const std::filesystem::path& trips_xml);

}  // namespace cadereau::data::detail
