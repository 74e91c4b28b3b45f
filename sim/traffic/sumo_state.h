#pragma once
// SUMO state files, and what SUMO 1.15 cannot restore from them.
//
// A vehicle that is teleporting when the state is saved (in SUMO's
// vehicle-transfer queue: jammed for --time-to-teleport, or moved past a
// closed road) is written as a <vehicle> plus a <vehicleTransfer> entry. SUMO
// loads it back on no lane, and the first step after the load dereferences
// that lane (MSVehicleTransfer::checkInsertions -> MSVehicle::computeAngle):
// the process dies with SIGSEGV. So such vehicles are taken out of the state
// before SUMO reads it, and put back by the traffic model as vehicles
// departing at once from the edge their teleport had reached, on the rest of
// their route: where SUMO itself inserts a vehicle whose teleport ends.
// Vehicles parked off the road (a <vehicleTransfer parking=...>) load fine
// and are left alone.

#include <filesystem>
#include <string>
#include <vector>

namespace cadereau::sim::traffic {

struct TeleportingVehicle {
  std::string id;
  std::string type_id;
  std::string route_id;                // the route the vehicle was on
  std::vector<std::string> rest_edges; // from the edge reached on; empty when the route is not in the file
  std::size_t route_index = 0;         // of that edge in the route
  double speed_factor = 1.0;
};

struct PreparedState {
  std::filesystem::path file;                 // what SUMO may load
  std::vector<TeleportingVehicle> teleporting;  // taken out, to be put back
};

// Reads a SUMO state file and writes to `out` the same state without its
// teleporting vehicles (the running and loaded vehicle counts lowered to
// match). When no vehicle is teleporting, `out` is not written and the
// result names `state` itself. Throws Error naming the file when it is not a
// SUMO state or a vehicle's entry is malformed.
PreparedState prepare_state_for_load(const std::filesystem::path& state, const std::filesystem::path& out);

}  // namespace cadereau::sim::traffic
