#pragma once
// The green-wave planner behind `cadereau greenwave`: for an ordered list of
// signalised junctions along a corridor, a common cycle (Webster on the flows
// observed in a baseline run, or given), Webster splits per junction with the
// junctions' own phase structure kept, and offsets maximising the two-way
// green bandwidth at a progression speed (signal_plan.h). Baseline and plan
// are simulated with SUMO on the same demand and seed and compared.
//
// Distances are metres along the corridor, times SUMO simulation seconds.
// Errors: cadereau::Error for a network that does not load, an unknown light,
// a corridor whose lights are not connected in order, a plan that cannot be
// built (a cycle too short for the intergreens).

#include "cadereau/sim/traffic/signal_plan.h"
#include "cadereau/sim/traffic/traffic_model.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::sim::traffic {

struct CorridorSignal {
  std::string tls_id;
  std::vector<int> forward_links;     // through links along the corridor, first to last light
  std::vector<int> backward_links;    // the other way; empty on a one-way street
  std::vector<std::string> approach_edges;  // every edge entering the junction(s), cross streets too
  std::vector<std::string> link_lanes;      // per link index: its incoming lane
  std::vector<std::string> link_via_lanes;  // per link index: its lane inside the junction
  double forward_stop_line_m = 0.0;   // from light 0's stop line along the forward path
  double backward_stop_line_m = 0.0;  // from the last light's stop line along the backward path
};

struct Corridor {
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

// Finds the corridor through the lights, in order, on a running model.
// Consecutive lights must be joined by roads that cross no other signal.
Corridor find_corridor(const TrafficModel& model, const std::vector<std::string>& tls_ids);

struct GreenwaveOptions {
  std::filesystem::path net;
  std::vector<std::filesystem::path> routes;
  std::vector<std::string> tls_ids;  // corridor order
  double speed_m_s = 50.0 / 3.6;     // progression speed
  std::optional<double> cycle_s;     // none: Webster on observed flows
  double begin_s = 0.0;
  std::optional<double> end_s;       // none: until the demand has left the network
  std::uint64_t seed = 42;
  std::filesystem::path out;
  double min_cycle_s = 30.0;
  double max_cycle_s = 120.0;
  double min_green_s = 5.0;
  double lost_per_stage_s = 4.0;           // Webster's lost time, at least, per stage
  double saturation_flow_veh_h_lane = 1800.0;
  std::string plan_program_id = "greenwave";
};

// Trips of one group of vehicles (from SUMO's tripinfo).
struct TripKpis {
  int vehicles = 0;
  double mean_travel_time_s = 0.0;
  double mean_delay_s = 0.0;          // SUMO timeLoss: time lost below the desired speed
  double stops_per_vehicle = 0.0;     // SUMO waitingCount
};

struct DirectionKpis {
  int vehicles = 0;                   // vehicles that drove the whole corridor this way
  double mean_travel_time_s = 0.0;    // approach entry to the exit: every light's delay included
  double stops_per_vehicle = 0.0;     // stops inside the corridor
  double bandwidth_s = 0.0;           // analytic, at the progression speed; 0 when undefined
};

struct Kpis {
  TripKpis all;
  TripKpis corridor;   // vehicles that used a corridor edge
  TripKpis cross;      // vehicles that never used a corridor edge (cross streets)
  int unfinished = 0;  // still in the network at the end
  double throughput_veh_h = 0.0;           // trips completed per hour simulated
  double mean_corridor_travel_time_s = 0.0;  // both directions, full-corridor vehicles
  DirectionKpis forward;
  DirectionKpis backward;
  double mean_queue_veh = 0.0;  // halting vehicles on every approach of the lights
  double max_queue_veh = 0.0;
  bool bandwidth_defined = false;  // false when the lights do not share one cycle
  double sim_s = 0.0;
  double wall_s = 0.0;
};

// What one simulation saw along the corridor, for the diagrams and the planner.
struct CorridorRecord {
  double begin_s = 0.0;
  double end_s = 0.0;
  double step_s = 1.0;
  // Per light, per step: whether all forward / backward through links showed
  // green. Entry k is the state over [begin_s + k step_s, begin_s + (k+1) step_s).
  std::vector<std::vector<char>> forward_green;
  std::vector<std::vector<char>> backward_green;
  // Vehicle trajectories in the forward frame: (time_s, position_m).
  std::map<std::string, std::vector<std::pair<float, float>>> forward_trajectories;
  std::map<std::string, std::vector<std::pair<float, float>>> backward_trajectories;
  // Vehicles counted on each signal link (per light, per link index).
  std::vector<std::vector<long>> link_counts;
  long forward_volume = 0;
  long backward_volume = 0;
};

struct Evaluation {
  Corridor corridor;
  Kpis kpis;
  CorridorRecord record;
  std::vector<twin::TrafficLight> programs;  // in effect at the lights (with offsets)
};

// Runs SUMO on options' demand with the given additional files (none: the
// network's own programs) and measures everything along the corridor.
Evaluation evaluate(const GreenwaveOptions& options, const std::vector<std::filesystem::path>& additionals);

// One (cycle, splits) pair the planner weighed, with its best offsets and
// Webster's delay estimates on the flows counted in the baseline.
struct PlanCandidate {
  double cycle_s = 0.0;
  double corridor_share = 1.0;  // factor on the Webster weight of stages serving the corridor
  double bandwidth_forward_s = 0.0;
  double bandwidth_backward_s = 0.0;
  double corridor_delay_s = 0.0;   // mean per vehicle and light, corridor through lanes
  double cross_delay_s = 0.0;      // mean per vehicle and light, every other lane
  double total_delay_veh = 0.0;    // vehicle-seconds of delay per second, all lanes of all lights
  bool cross_within_webster = false;  // cross_delay_s not above the Webster plan's
};

struct GreenwavePlan {
  double cycle_s = 0.0;
  double webster_cycle_s = 0.0;  // the critical junction's Webster cycle (whole seconds)
  std::string cycle_source;      // "given", or "joint" (chosen with the splits and the band)
  std::vector<twin::TrafficLight> programs;  // new durations and offsets, program id options.plan_program_id
  BandwidthPlan bandwidth;
  std::vector<PlanCandidate> candidates;
  std::size_t chosen = 0;  // index into candidates
};

// The plan from a baseline evaluation. Cycle and splits are chosen jointly
// with the offsets: every cycle from Webster's to 1.5 times it in 5 s steps
// (within [min_cycle_s, max_cycle_s]; the given cycle alone when there is
// one), each with Webster's splits and with green moved from the corridor's
// stages to the others, gets its MAXBAND offsets; the plan is the candidate
// of least total Webster delay over every lane of every light, where the
// share of a corridor platoon inside the band meets no uniform delay past
// the first light. Candidates whose estimated cross-street delay exceeds
// that of Webster's own cycle and splits are not taken.
GreenwavePlan plan_greenwave(const GreenwaveOptions& options, const Corridor& corridor, const Evaluation& baseline);

// The bandwidth problem of a corridor under given programs (nullopt when
// they do not share one cycle).
std::optional<BandwidthProblem> bandwidth_problem(const Corridor& corridor, const std::vector<twin::TrafficLight>& programs,
                                                  double speed_m_s, double forward_weight, double backward_weight);

// SUMO additional file with the programs (sumo -a FILE loads and runs them).
void write_plan_additional(const std::vector<twin::TrafficLight>& programs, const std::filesystem::path& file);
// The tlLogic programs of an additional file.
std::vector<twin::TrafficLight> read_programs(const std::filesystem::path& additional);

// Time-space diagram: the corridor's lights (green/red of the through
// movement in each direction), the analytic bands when given, and the
// trajectories of vehicles, over [t0_s, t1_s].
void write_time_space_svg(const std::filesystem::path& file, const std::string& title, const Corridor& corridor,
                          const CorridorRecord& record, const std::optional<BandwidthProblem>& problem,
                          const std::vector<double>& offsets_s, double speed_m_s, double t0_s, double t1_s);

struct GreenwaveReport {
  Corridor corridor;
  GreenwavePlan plan;
  Evaluation baseline;
  Evaluation planned;
  std::filesystem::path plan_file;
  std::filesystem::path report_file;
};

// The whole command: baseline run, plan, plan run, DIR/plan.add.xml,
// DIR/report.json, DIR/time_space_baseline.svg, DIR/time_space_plan.svg.
GreenwaveReport run_greenwave(const GreenwaveOptions& options,
                              const std::function<void(const std::string&)>& progress = {});

}  // namespace cadereau::sim::traffic
