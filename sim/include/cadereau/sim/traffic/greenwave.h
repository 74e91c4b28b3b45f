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
// lights that are not on one street in order (corridor.h), a window in which
// no trip departs or no vehicle uses the corridor, a plan that cannot be built (a cycle too short for the
// intergreens).

#include "cadereau/sim/traffic/corridor.h"
#include "cadereau/sim/traffic/demand_window.h"
#include "cadereau/sim/traffic/signal_plan.h"
#include "cadereau/sim/traffic/traffic_model.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cadereau::sim::traffic {

struct GreenwaveOptions {
  std::filesystem::path net;
  std::vector<std::filesystem::path> routes;
  std::vector<std::string> tls_ids;  // corridor order
  double speed_m_s = 50.0 / 3.6;     // progression speed
  std::optional<double> cycle_s;     // none: Webster on observed flows
  std::optional<double> begin_s;     // none: the demand's first departure
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
// Means are 0 where no vehicle was measured: report.json writes them null and
// the summary "n/a" (vehicles tells which).
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

// The span simulated: the options' begin and end, or the demand's own.
struct SimulationWindow {
  double begin_s = 0.0;
  std::optional<double> end_s;  // none: until the demand has left the network...
  double run_until_s = 0.0;     // ...or until then at the latest
  DemandSpan demand;
  long trips_in_window = 0;     // trips departing in [begin_s, end_s)
};

// Reads the demand's departures (throws Error naming a route file that does
// not load) and fills in the window's defaults.
SimulationWindow resolve_window(const GreenwaveOptions& options);

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

// What a time-space diagram shows, and over which stretch of time.
struct TimeSpaceView {
  std::string title;
  std::string subtitle;            // what the stretch of time is, and why that one
  double t0_s = 0.0;               // SUMO seconds, drawn as the time of day
  double t1_s = 0.0;
  double speed_m_s = 50.0 / 3.6;   // progression speed of the bands
};

// Time-space diagram: the corridor's lights (green/red of the through
// movement in each direction), the analytic bands when given, and the
// trajectories of vehicles, with a legend.
void write_time_space_svg(const std::filesystem::path& file, const TimeSpaceView& view, const Corridor& corridor,
                          const CorridorRecord& record, const std::optional<BandwidthProblem>& problem,
                          const std::vector<double>& offsets_s);

// The stretch of window_s seconds holding the most corridor vehicle positions
// of the record (the whole record when it is shorter), as [first, second].
std::pair<double, double> busiest_window(const CorridorRecord& record, double window_s);

struct GreenwaveReport {
  SimulationWindow window;
  Corridor corridor;
  GreenwavePlan plan;
  Evaluation baseline;
  Evaluation planned;
  std::vector<std::string> warnings;  // what makes the figures weak (no vehicle on the corridor...)
  std::filesystem::path plan_file;
  std::filesystem::path report_file;
  std::filesystem::path baseline_diagram;
  std::filesystem::path plan_diagram;
};

// The whole command: baseline run, plan, plan run, DIR/plan.add.xml,
// DIR/report.json, DIR/time_space_baseline.svg, DIR/time_space_plan.svg.
// Throws Error, before simulating anything, when no trip departs in the
// window, and after the baseline when no vehicle used the corridor in it.
GreenwaveReport run_greenwave(const GreenwaveOptions& options,
                              const std::function<void(const std::string&)>& progress = {});

// report.json: the demand and window, the corridor, both runs' KPIs (null
// where no vehicle was measured), the signal plan and the warnings.
void write_greenwave_report(const GreenwaveOptions& options, const GreenwaveReport& report,
                            const std::filesystem::path& file);

// What the command prints: the corridor and window, then the same KPIs as
// report.json, vehicle counts first, "n/a" where report.json has null.
std::string greenwave_summary(const GreenwaveReport& report);

}  // namespace cadereau::sim::traffic
