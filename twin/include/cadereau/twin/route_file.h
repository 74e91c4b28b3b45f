#pragma once
// SUMO route files (.rou.xml), checked before SUMO reads them: SUMO reports
// a damaged demand file late and in its own words, often as a failure to
// start that points at the network. Here the file and the line are named.

#include "cadereau/twin/road_network.h"

#include <filesystem>

namespace cadereau::twin {

struct RouteFileSummary {
  long vehicles = 0;  // <vehicle>
  long trips = 0;     // <trip>
  long flows = 0;     // <flow>
  long persons = 0;   // <person> and <personFlow>
  long departures() const { return vehicles + trips + flows + persons; }
};

// Reads the file whole and checks that it is well-formed XML (a truncated
// file fails here with the line where it stops) and that its root is
// <routes>; the counts say whether anything departs (a demand may be split
// over several files, one of them holding only vehicle types). With a
// network, every edge a route, trip or flow names must be in it (a demand
// written for another network fails here, not hours into a run). Throws
// Error "FILE:LINE: ..." (not_found when the file is missing).
RouteFileSummary check_route_file(const std::filesystem::path& file, const RoadNetwork* network = nullptr);

}  // namespace cadereau::twin
