#pragma once
// A green-wave corridor: an ordered list of signalised junctions along one
// street, the roads between them both ways, and where each stop line lies.
//
// Distances are metres along the corridor. Errors: cadereau::Error for an
// unknown light, a light given twice, fewer than two lights, lights that are
// not on one street, or not in order along it.

#include "cadereau/sim/traffic/traffic_model.h"

#include <string>
#include <vector>

namespace cadereau::sim::traffic {

struct CorridorSignal {
  std::string tls_id;
  std::vector<std::string> cross_streets;  // the other named streets through the light, sorted
  std::vector<int> forward_links;     // through links along the corridor, first to last light
  std::vector<int> backward_links;    // the other way; empty on a one-way street
  std::vector<std::string> approach_edges;  // every edge entering the junction(s), cross streets too
  std::vector<std::string> link_lanes;      // per link index: its incoming lane
  std::vector<std::string> link_via_lanes;  // per link index: its lane inside the junction
  double forward_stop_line_m = 0.0;   // from light 0's stop line along the forward path
  double backward_stop_line_m = 0.0;  // from the last light's stop line along the backward path
};

struct Corridor {
  std::string street;  // the named street through every light; empty on a network without street names
  std::vector<CorridorSignal> signals;
  std::vector<std::string> forward_edges;    // light 0's approach ... the exit beyond the last light
  std::vector<double> forward_edge_start_m;  // frame of forward_stop_line_m (the approach starts < 0)
  std::vector<std::string> backward_edges;   // empty on a one-way street
  std::vector<double> backward_edge_start_m;

  bool two_way() const { return !backward_edges.empty(); }
  double length_m() const { return signals.empty() ? 0.0 : signals.back().forward_stop_line_m; }
  // A position along the backward path expressed in the forward frame
  // (piecewise linear between the lights' stop lines).
  double backward_to_forward_m(double backward_m) const;
};

// Finds the corridor through the lights, in order, on a running model. On a
// network that names its streets (SUMO's edge `name`), the lights must all
// be on one street and follow each other along it: each light joined to the
// next by that street with no other light between them. On a network
// without names, consecutive lights must be joined by roads that cross no
// other signal.
Corridor find_corridor(const TrafficModel& model, const std::vector<std::string>& tls_ids);

}  // namespace cadereau::sim::traffic
