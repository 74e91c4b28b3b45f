#pragma once
// Road closures street by street. SUMO has an edge per direction and cuts a
// street into sections at every junction; a crisis manager thinks in streets.
// A street is the closed edges of one name (an unnamed road is its own
// street, both directions together); a section is the stretch between two
// junctions, whichever direction was closed.

#include "cadereau/sim/impact/impact_log.h"
#include "cadereau/twin/geometry.h"
#include "cadereau/twin/road_network.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::server {

struct StreetClosure {
  std::string name;                      // "rue Racine"; the edge id (without its direction) for an unnamed road
  std::vector<std::string> edge_ids;     // SUMO edges closed, both directions
  std::vector<twin::Polyline> sections;  // one centre line per section, working CRS
  double length_m = 0.0;                 // of the sections, each counted once
  double first_closed_s = 0.0;
  std::uint64_t first_record = 0;        // its first road_closed record
  bool by_water = false;                 // a section closed because of water on it
  bool by_order = false;                 // a section closed by the police or an operator
  double max_depth_m = 0.0;              // deepest water read on its edges
  bool closed_at_end = false;            // some section still closed when the run ended
  std::optional<double> reopened_s;      // when its last section reopened, if all did
};

// The streets that road_closed records name, in the order of their first
// closure. max_depth_m comes from `edge_max_depth_m` (by network edge index),
// when given.
std::vector<StreetClosure> street_closures(const sim::impact::ImpactLog& log, const twin::RoadNetwork& network,
                                           const std::vector<double>& edge_max_depth_m = {});

// Network edge indices closed at t_s according to the road_closed and
// road_reopened records up to then.
std::vector<std::size_t> edges_closed_at(const std::vector<sim::impact::Impact>& log, const twin::RoadNetwork& network,
                                         double t_s);

// The street an edge belongs to: its name, or its id without the leading "-"
// that marks SUMO's opposite direction.
std::string street_of(const twin::Edge& edge);

}  // namespace cadereau::server
