#pragma once
// Streets and the traffic lights along them, as a planner names them: the
// edges that carry one street name (SUMO's edge attribute `name`, written by
// netconvert --output.street-names), chained junction to junction. What
// `territory info` lists, and what a green-wave corridor must follow.

#include "cadereau/twin/road_network.h"

#include <string>
#include <vector>

namespace cadereau::twin {

struct StreetLight {
  std::string tls_id;
  double position_m = 0.0;                 // along the street from its first junction
  std::vector<std::string> cross_streets;  // the other named streets through the light, sorted
};

struct SignalisedStreet {
  std::string name;
  double length_m = 0.0;            // from its first junction to its last, along the street
  std::vector<StreetLight> lights;  // in order along the street
};

// Every chain of same-named edges with at least two lights on it, most
// lights first. A chain runs between the junctions where its street ends or
// forks; it reads west to east, or south to north when its ends lie further
// apart north-south. Unnamed edges belong to no street.
std::vector<SignalisedStreet> signalised_streets(const RoadNetwork& net);

// The named streets through a light's junctions, sorted; empty for an
// unknown light or when the edges there carry no name.
std::vector<std::string> streets_at_light(const RoadNetwork& net, const std::string& tls_id);

}  // namespace cadereau::twin
