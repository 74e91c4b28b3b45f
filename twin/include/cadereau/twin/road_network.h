#pragma once
// The SUMO road network (.net.xml) as the twin sees it: edges, lanes,
// junctions and traffic lights in the territory's working CRS. SUMO shifts its
// coordinates by <location netOffset>; here they are shifted back, so that
// map = sumo - netOffset and roads sit on the DEM.

#include "cadereau/twin/geometry.h"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cadereau::twin {

struct NetLocation {
  double offset_x_m = 0.0;  // SUMO's netOffset: sumo_x = map_x + offset_x_m
  double offset_y_m = 0.0;
  Box converted_boundary;   // convBoundary, SUMO coordinates
  Box original_boundary;    // origBoundary, input coordinates
  std::string proj_parameter;  // projParameter ("!" when none)

  MapPoint to_map(double sumo_x, double sumo_y) const { return {sumo_x - offset_x_m, sumo_y - offset_y_m}; }
  void to_sumo(MapPoint p, double& sumo_x, double& sumo_y) const {
    sumo_x = p.x_m + offset_x_m;
    sumo_y = p.y_m + offset_y_m;
  }
};

struct Lane {
  std::string id;
  int index = 0;
  double speed_m_s = 0.0;
  double length_m = 0.0;
  double width_m = 3.2;
  Polyline shape;  // map coordinates
};

struct Edge {
  std::string id;
  std::string name;
  std::string from_junction;
  std::string to_junction;
  std::string type;
  int priority = 0;
  std::vector<Lane> lanes;
  Polyline shape;  // centre line, map coordinates (edge shape or the middle lane's)

  double length_m() const { return lanes.empty() ? 0.0 : lanes.front().length_m; }
  double speed_m_s() const { return lanes.empty() ? 0.0 : lanes.front().speed_m_s; }
};

struct Junction {
  std::string id;
  std::string type;  // priority, traffic_light, right_before_left, dead_end...
  MapPoint position;
  Ring shape;
};

struct TlsPhase {
  double duration_s = 0.0;
  std::string state;  // one signal character per controlled link (GgyrRsuoO)
};

struct TrafficLight {
  std::string id;
  std::string type;  // static, actuated...
  std::string program_id;
  double offset_s = 0.0;
  std::vector<TlsPhase> phases;

  double cycle_s() const;
};

class RoadNetwork {
 public:
  // Throws Error naming the file (and line when the XML is broken).
  static RoadNetwork load(const std::filesystem::path& net_xml);

  const NetLocation& location() const { return location_; }
  const std::vector<Edge>& edges() const { return edges_; }        // internal edges excluded
  const std::vector<Junction>& junctions() const { return junctions_; }  // internal junctions excluded
  const std::vector<TrafficLight>& traffic_lights() const { return traffic_lights_; }

  const Edge* find_edge(const std::string& id) const;
  std::optional<std::size_t> edge_index(const std::string& id) const;
  const Junction* find_junction(const std::string& id) const;
  const TrafficLight* find_traffic_light(const std::string& id) const;
  // The ids of a light's programs (one tlLogic each), in file order; empty
  // for an unknown light.
  std::vector<std::string> light_programs(const std::string& tls_id) const;
  // The junctions whose connections a light controls (from the network's
  // <connection tl=...>), in file order; empty for an unknown light.
  const std::vector<std::string>& light_junctions(const std::string& tls_id) const;
  Box bounds() const;
  double total_length_m() const;

 private:
  NetLocation location_;
  std::vector<Edge> edges_;
  std::vector<Junction> junctions_;
  std::vector<TrafficLight> traffic_lights_;
  std::unordered_map<std::string, std::size_t> edge_by_id_;
  std::unordered_map<std::string, std::size_t> junction_by_id_;
  std::unordered_map<std::string, std::size_t> tls_by_id_;
  std::unordered_map<std::string, std::vector<std::string>> light_junctions_;
};

}  // namespace cadereau::twin
