#pragma once
// The traffic twin: a SUMO simulation run in-process through libsumo, seen
// through plain twin types. No libsumo type appears here; the adapter lives in
// sim/traffic/traffic_model.cpp.
//
// Coordinates: every position is in the territory's working CRS (twin
// MapPoint), converted from SUMO's shifted coordinates with the network's
// <location netOffset> (map = sumo - netOffset).
// Units: SI (s, m, m/s). Times are SUMO simulation seconds.
//
// libsumo holds one simulation per process (a static API), so only one
// TrafficModel may be alive at a time; a second one throws. Sequential models
// (start, close, start again) are fine. Forecasts and what-if branches run in
// worker processes started from save_state().
//
// Errors: bad input (a missing or broken network, an unknown edge, lane or
// light id) throws cadereau::Error naming the file or the id; SUMO refusing
// (a route file it cannot read, a simulation that aborts) throws Error with
// SUMO's own message and the sim time.

#include "cadereau/twin/assets.h"
#include "cadereau/twin/geometry.h"
#include "cadereau/twin/road_network.h"

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace cadereau::sim::traffic {

// How finely SUMO moves the traffic. microscopic: every vehicle on its lane
// with car following, lane changes and signals link by link (green waves,
// queues at a light). mesoscopic: SUMO's queue model (--mesosim), vehicles
// moving between edge segments of about 100 m at the speed the segment's
// density allows, junctions and lights still controlling who enters
// (--meso-junction-control): tens of times faster, for forecasts of a whole
// town where the water, not the signals, decides. Lane-level readings (a
// vehicle's lane, vehicles on a lane) are empty in it.
enum class TrafficModelKind { microscopic, mesoscopic };

struct TrafficOptions {
  std::filesystem::path net;                       // .net.xml
  std::vector<std::filesystem::path> routes;       // .rou.xml / trips
  std::vector<std::filesystem::path> additionals;  // .add.xml (light plans, detectors...)
  std::uint64_t seed = 42;
  double begin_s = 0.0;
  std::optional<double> end_s;  // SUMO stops there; none: until stepped
  double step_length_s = 1.0;
  TrafficModelKind kind = TrafficModelKind::microscopic;
  // Share of vehicles carrying SUMO's rerouting device and how often they
  // re-plan on current travel times: this, not a one-off reroute at closure
  // time, is what makes traffic flow around a closed road.
  double rerouting_probability = 1.0;
  double rerouting_period_s = 30.0;
  // SUMO routes every vehicle with the rerouting device again on current
  // travel times before it enters the network, a shortest-path search per
  // trip that costs more than the rest of the traffic model. Off, vehicles
  // keep the routes of the demand, and only those whose route crosses a
  // closed edge are routed again, as they depart.
  bool route_on_insertion = true;
  std::optional<std::filesystem::path> tripinfo_output;  // SUMO's per-trip XML, written on close
  std::vector<std::string> extra_sumo_options;            // passed as is, e.g. {"--time-to-teleport", "300"}
  // Edges carrying a live traffic counter, whose counts follow_count() makes
  // the simulation follow. Each gets a SUMO calibrator and a route probe (the
  // routes seen on the edge, on which the calibrator adds vehicles), written
  // to an additional file the model generates. An id not in the network
  // throws Error.
  std::vector<std::string> counted_edges;
};

// One road edge over the last simulation step.
struct EdgeState {
  int vehicles = 0;
  int halting = 0;              // vehicles slower than 0.1 m/s
  double mean_speed_m_s = 0.0;  // of the vehicles on it; the speed limit when empty
  double occupancy = 0.0;       // share of the edge length covered by vehicles, 0..1
  double travel_time_s = 0.0;   // length / mean speed: the current traversal time
};

// The time span over which follow_count() makes a counted edge carry the
// observed flow: [begin_s, end_s), SUMO simulation seconds.
struct CountWindow {
  double begin_s = 0.0;
  double end_s = 0.0;
};

// What the calibrator of a counted edge did since the model started.
struct CountFollowing {
  std::string edge_id;
  std::optional<double> target_veh_per_h;  // the flow being followed now; none between windows
  // Vehicles seen on the edge after a step that were not on it after the
  // step before: those that entered or were added, not those removed as
  // they entered (nor any that crossed the edge within one step).
  long passed = 0;
  long inserted = 0;  // vehicles the calibrator added, on routes seen on the edge
  // Vehicles the calibrator took off as they entered, to lower the flow, as
  // SUMO counts them per interval (those of a window's last step are lost).
  long removed = 0;
};

struct VehicleState {
  std::string id;
  std::string type_id;
  std::string vehicle_class;  // SUMO vClass: passenger, emergency, bus...
  std::string edge_id;        // may be an internal edge (":J_0") inside a junction
  double lane_position_m = 0.0;
  twin::MapPoint position;    // working CRS
  double speed_m_s = 0.0;
  double heading_deg = 0.0;   // clockwise from north (SUMO's angle)
};

// A vehicle on a given edge: the cheap per-edge view for corridor tracking.
struct VehicleOnEdge {
  std::string id;
  double lane_position_m = 0.0;  // from the start of the edge
  double speed_m_s = 0.0;
};

// Who may drive on a lane or an edge.
enum class Access {
  open,            // the permissions in the network file
  emergency_only,  // closed to all but emergency and authority vehicles
  closed,          // closed to every vehicle class
};

// One signal of a light: the state string's character at `index` drives the
// connection from_lane -> to_lane through the junction lane via_lane.
struct SignalLink {
  int index = 0;
  std::string from_lane;
  std::string to_lane;
  std::string via_lane;
  std::string direction;  // SUMO: s straight, l left, r right, t turn, L/R partial
  double via_length_m = 0.0;
};

struct Route {
  std::vector<std::string> edges;
  double travel_time_s = 0.0;
  double length_m = 0.0;
};

// Travel times between origins and destinations: travel_time_s[o][d], +inf
// when no road leads there (the edge id of a point is empty when no road
// near it accepts the vehicle class).
struct AccessMatrix {
  std::vector<std::string> origin_ids;
  std::vector<std::string> origin_edges;
  std::vector<std::string> destination_ids;
  std::vector<std::string> destination_edges;
  std::vector<std::vector<double>> travel_time_s;
};

struct AccessPoint {
  std::string id;
  twin::MapPoint location;  // working CRS
};

// An emergency vehicle sent by dispatch_emergency(); arrival_s is set once it
// reaches its target.
struct EmergencyTrip {
  std::string vehicle_id;
  std::string from_edge;
  std::string to_edge;
  double depart_s = 0.0;
  std::optional<double> arrival_s;
  std::optional<double> travel_time_s() const {
    return arrival_s ? std::optional<double>(*arrival_s - depart_s) : std::nullopt;
  }
};

class TrafficModel {
 public:
  // Loads the network (twin::RoadNetwork, for geometry and id checks) and
  // starts SUMO. Throws Error when the network does not load, a file is
  // missing, SUMO refuses its input, or another TrafficModel is alive.
  explicit TrafficModel(TrafficOptions options);
  ~TrafficModel();
  TrafficModel(const TrafficModel&) = delete;
  TrafficModel& operator=(const TrafficModel&) = delete;

  // Whether a TrafficModel is alive in this process.
  static bool running();

  const TrafficOptions& options() const { return options_; }
  const twin::RoadNetwork& network() const { return network_; }

  // --- clock -------------------------------------------------------------
  double time_s() const;
  double step_length_s() const { return options_.step_length_s; }
  // Advances to time_s (no-op when already there). Throws Error when SUMO
  // aborts; the model is then unusable.
  void step_to(double time_s);
  void step();
  // Vehicles still running or waiting to be inserted (0 when the demand is done).
  int expected_vehicles() const;
  long departed_total() const { return departed_total_; }
  long arrived_total() const { return arrived_total_; }
  // Vehicles that arrived during the last step.
  const std::vector<std::string>& arrived_last_step() const { return arrived_last_step_; }

  // --- state -------------------------------------------------------------
  // All edges of network().edges(), same order.
  std::vector<EdgeState> edge_states() const;
  // Only the edges at these indices into network().edges(), in the order
  // given: what a coupling that watches a few edges reads, at a cost that
  // grows with the number of edges asked for rather than the network's size.
  // Throws Error on an index past the last edge.
  std::vector<EdgeState> edge_states(const std::vector<std::size_t>& edge_indices) const;
  EdgeState edge_state(const std::string& edge_id) const;
  std::vector<VehicleState> vehicles() const;
  std::vector<VehicleOnEdge> vehicles_on_edge(const std::string& edge_id) const;
  // Vehicles on a lane, including a junction's internal lane (":J_3_0", a
  // SignalLink's via_lane): counting them there counts a movement.
  std::vector<std::string> vehicle_ids_on_lane(const std::string& lane_id) const;

  // --- actions -----------------------------------------------------------
  // Closing an edge makes rerouting vehicles avoid it; vehicles already on it
  // drive off. Vehicles whose remaining route crosses it re-plan before the
  // next step (reroute_around_closures), and so do vehicles that depart
  // later with such a route. Throws Error on an unknown id.
  void set_edge_access(const std::string& edge_id, Access access);
  void set_lane_access(const std::string& lane_id, Access access);
  // A bollard lets only the listed SUMO vehicle classes through.
  void lower_bollard(const std::string& edge_id,
                     const std::vector<std::string>& authorised_classes = {"emergency", "authority"});
  void raise_bollard(const std::string& edge_id) { set_edge_access(edge_id, Access::open); }
  void set_speed_limit(const std::string& edge_id, double speed_m_s);
  void restore_speed_limit(const std::string& edge_id);

  std::vector<std::string> light_programs(const std::string& tls_id) const;
  std::string light_program(const std::string& tls_id) const;
  std::string light_state(const std::string& tls_id) const;  // one character per SignalLink
  int light_phase(const std::string& tls_id) const;
  void set_light_program(const std::string& tls_id, const std::string& program_id);
  void set_light_phase(const std::string& tls_id, int phase_index);
  // Power cut: the signals go dark and drivers yield as at an unsignalised
  // junction (SUMO's "off" program).
  void set_light_off(const std::string& tls_id);
  // Amber flashing: every signal 'o' (blinking, yield).
  void set_light_flashing(const std::string& tls_id);
  // Back to the program the network file starts with.
  void restore_light(const std::string& tls_id);
  std::vector<SignalLink> signal_links(const std::string& tls_id) const;

  // --- live counts -----------------------------------------------------------
  // Makes a counted edge (TrafficOptions::counted_edges) carry the observed
  // flow over the coming window: SUMO adds vehicles at the start of the edge,
  // on routes seen there, when the simulated flow falls short, and takes
  // vehicles off as they enter when it runs over. With an observed speed,
  // the edge's speed is capped at it for the window, then restored.
  // The window is [now, now + window_s), or starts at the end of the idle
  // period the calibrator is in (at most 30 s away); a count given while an
  // earlier window is still open replaces its flow from that window's start
  // and extends it. Returns the window. Throws Error on an edge that is not
  // counted, a flow that is negative or not finite, a speed that is not
  // positive, or a window that is not positive.
  CountWindow follow_count(const std::string& edge_id, double observed_veh_per_h,
                           std::optional<double> observed_speed_m_s, double window_s);
  // Totals since the start, for reporting. Vehicles the calibrator removes
  // count among the arrivals (arrived_total()), as SUMO reports them.
  // Throws Error on an edge that is not counted.
  CountFollowing count_following(const std::string& edge_id) const;

  // --- routing and emergency access ---------------------------------------
  // Fastest route on the current travel times for a vehicle class
  // ("passenger", "emergency"); nullopt when there is none.
  std::optional<Route> route(const std::string& from_edge, const std::string& to_edge,
                             const std::string& vehicle_class = "passenger") const;
  // The edge nearest to a point that the class may use; empty when none.
  std::string nearest_edge(twin::MapPoint point, const std::string& vehicle_class = "passenger") const;
  // Current emergency-vehicle travel time from every origin (fire station,
  // hospital) to every destination (a population zone's centroid), on the
  // current edge travel times and closures.
  AccessMatrix emergency_access(const std::vector<AccessPoint>& origins,
                                const std::vector<AccessPoint>& destinations) const;
  // Inserts an emergency vehicle (blue light, may use emergency-only roads)
  // now; its trip appears in emergency_trips() and gets arrival_s on arrival.
  void dispatch_emergency(const std::string& vehicle_id, const std::string& from_edge, const std::string& to_edge);
  const std::vector<EmergencyTrip>& emergency_trips() const { return emergency_trips_; }
  // Follows again a trip whose vehicle a loaded state holds (a resumed run):
  // its arrival is noted as for one dispatched here.
  void follow_emergency(EmergencyTrip trip) { emergency_trips_.push_back(std::move(trip)); }

  // --- state files ---------------------------------------------------------
  // SUMO's own state format (vehicles, lights, rerouting statistics).
  void save_state(const std::filesystem::path& file) const;
  // Loads a state written by save_state(). Vehicles that were teleporting
  // when it was saved (SUMO cannot restore them) depart again at once from
  // the edge their teleport had reached; returns how many. Throws Error
  // naming the file when SUMO refuses it.
  int load_state(const std::filesystem::path& file);

  // --- vehicles caught by events ------------------------------------------
  // Takes a vehicle out of the traffic where it is: a car abandoned in flood
  // water. (Held at a standstill instead, SUMO would teleport it onwards
  // after --time-to-teleport.) Throws Error for an unknown vehicle.
  void remove_vehicle(const std::string& vehicle_id);
  // Sends every running vehicle whose remaining route uses one of these edges
  // on the fastest route on current travel times (closed edges avoided).
  // Returns how many were rerouted. Cheaper than SUMO's periodic rerouting
  // of every vehicle when only a few roads are closed.
  int reroute_vehicles_using(const std::vector<std::string>& edge_ids);
  // Reroutes, in one pass over the vehicles, those whose remaining route
  // crosses an edge closed since the last pass. step_to() does it first
  // when there are such edges; calling it sooner only moves the work.
  // Returns how many were rerouted.
  int reroute_around_closures();

 private:
  struct Counter;
  // Closes SUMO if this model started it and removes the calibrator folder.
  void release() noexcept;
  void check_edge(const std::string& edge_id) const;
  Counter& counter(const std::string& edge_id);
  const Counter& counter(const std::string& edge_id) const;
  std::filesystem::path write_counter_file();
  void keep_counters_alive(double step_s);
  void track_counters();
  void apply_speed_cap(Counter& c, double now_s);
  void check_tls(const std::string& tls_id) const;
  void apply_lane_access(const std::string& lane_id, Access access,
                         const std::vector<std::string>& authorised_classes);
  void remember_program(const std::string& tls_id);
  std::string find_nearest_edge(twin::MapPoint point, const std::string& vehicle_class) const;
  // Keeps closed_edges_ and newly_closed_ up to date.
  void note_access(const std::string& edge_id, Access access);
  // Routes again the vehicles that departed in the last step on a route
  // crossing a closed edge.
  void reroute_departed();
  std::string vehicle_type_for(const std::string& vehicle_class) const;

  TrafficOptions options_;
  twin::RoadNetwork network_;
  std::vector<std::string> lane_ids_;  // sorted, for id checks
  std::vector<std::pair<std::string, std::vector<std::string>>> original_allowed_;  // lane -> classes
  std::vector<std::pair<std::string, std::string>> original_program_;               // tls -> program id
  mutable std::vector<std::string> vehicle_types_;                                    // created per vClass
  long departed_total_ = 0;
  long arrived_total_ = 0;
  std::vector<std::string> arrived_last_step_;
  std::vector<EmergencyTrip> emergency_trips_;
  // Edges closed to ordinary traffic (closed, or open to emergency vehicles
  // only), sorted, and those closed since the last reroute_around_closures().
  std::vector<std::string> closed_edges_;
  std::vector<std::string> newly_closed_;
  // Lane permissions change count, and nearest_edge()'s answers for it.
  std::uint64_t access_version_ = 0;
  mutable std::uint64_t nearest_edge_cache_version_ = 0;
  mutable std::map<std::tuple<double, double, std::string>, std::string> nearest_edge_cache_;
  std::vector<Counter> counters_;
  std::filesystem::path counter_dir_;  // generated calibrator file, removed with the model
  bool failed_ = false;
};

// The territory's emergency origins (fire stations and hospitals) and its
// population zones (at their centroids), ready for emergency_access().
std::vector<AccessPoint> emergency_origins(const std::vector<twin::Asset>& assets);
std::vector<AccessPoint> zone_centroids(const std::vector<twin::PopulationZone>& zones);

}  // namespace cadereau::sim::traffic
