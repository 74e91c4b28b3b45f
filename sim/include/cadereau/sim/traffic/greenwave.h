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
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cadereau::sim::traffic {

struct GreenwaveOptions {
  std::filesystem::path net;
  std::vector<std::filesystem::path> routes;
  // Loaded in every run before any plan: vehicle types, the lights' real
  // programs (which then are the baseline)...
  std::vector<std::filesystem::path> additionals;
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
  // The search by simulation (plan_search.h): its wall-time budget after the
  // starting plans (0: the best starting plan is the plan), simulations per
  // plan (seeds seed, seed + 1...), simulations at a time, whether SUMO's
  // tools give starting plans, and the weights of its objective.
  double search_budget_s = 120.0;
  int search_seeds = 3;
  int workers = 2;
  bool sumo_tool_starts = true;
  double stop_weight_s = 10.0;   // seconds of corridor travel time one stop along it is worth
  double cross_weight = 2.0;     // per second of cross-street trip time above the reference plan's
  double network_weight = 4.0;   // per second of mean trip time above the reference plan's
  // Periods of the day, each with its own plan, switched by a WAUT in the
  // plan file: given as [begin, end) SUMO seconds, or found in the demand's
  // hourly departures (day_periods) when auto_periods, else one period.
  std::vector<std::pair<double, double>> periods;
  bool auto_periods = true;
  double demand_scale = 1.0;        // SUMO's --scale: every trip counted this many times
  double robustness_scale = 0.15;   // the plan and the reference also run on the demand x(1 -/+ this); 0: not
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
// network's own programs) and measures everything along the corridor. With
// Detail::kpis only the KPIs are measured: no record (lights, trajectories,
// link counts) and no queues, for the search's many runs.
enum class Detail { full, kpis };
Evaluation evaluate(const GreenwaveOptions& options, const std::vector<std::filesystem::path>& additionals,
                    Detail detail = Detail::full);

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

// A plan's simulated performance, as means over the seeds. Corridor trips
// are the vehicles that drove on any part of the corridor; on a long avenue
// few drive it end to end, so they, not the whole-corridor vehicles, carry
// the objective.
struct PlanScore {
  int seeds = 0;
  double objective_s = 0.0;
  double corridor_delay_s = 0.0;        // SUMO timeLoss per corridor trip
  double corridor_delay_min_s = 0.0;    // the spread over the seeds
  double corridor_delay_max_s = 0.0;
  double corridor_trip_stops = 0.0;     // SUMO waitingCount per corridor trip
  double corridor_trips = 0.0;
  double corridor_travel_time_s = 0.0;  // vehicles through the whole corridor, both directions
  double corridor_stops = 0.0;          // along the corridor, per whole-corridor vehicle
  double forward_travel_time_s = 0.0;
  double forward_stops = 0.0;
  double backward_travel_time_s = 0.0;
  double backward_stops = 0.0;
  double cross_travel_time_s = 0.0;
  double all_travel_time_s = 0.0;
  double all_delay_s = 0.0;
  double completed = 0.0;  // trips completed
  int corridor_vehicles = 0;  // whole-corridor vehicles
};

struct PlanStart {
  std::string name;
  std::vector<twin::TrafficLight> programs;  // one per corridor light, in corridor order
  bool sumo_tool = false;                    // a plan of SUMO's own tools: a candidate reference
};

struct ScoredPlan {
  std::string name;
  std::vector<twin::TrafficLight> programs;
  PlanScore score;
};

struct SearchImprovement {
  int simulations = 0;  // simulations run when it was found
  double elapsed_s = 0.0;
  std::string move;     // "offset B0 +8 s", "split C0 +2 s to stage 2", "cycle 95 s"...
  double objective_s = 0.0;
};

struct PlanSearchResult {
  std::vector<ScoredPlan> starts;  // in the order given; failed starts left out
  std::vector<std::string> failed;   // plans whose simulation failed: "name: why"
  std::string reference;           // the start the cross-street and network penalties compare with
  ScoredPlan best;                 // best is one of starts when no move improved it
  std::vector<SearchImprovement> improvements;
  int simulations = 0;
  int plans = 0;
  double wall_s = 0.0;
  bool converged = false;  // stopped because no move of the smallest steps improved, not by the budget
  std::vector<std::uint64_t> seed_list;
};

// A period of the day with its own plan.
struct DayPeriod {
  std::string name;             // "07:00-09:00 peak"
  double begin_s = 0.0;
  std::optional<double> end_s;  // none: the window's open end
  long trips = 0;               // departures in it
  bool peak = false;
};

// The window's periods: options.periods when given (each must lie in the
// window and not overlap; Error otherwise); else, when auto_periods and the
// demand departs over at least three hours, runs of whole hours alike in
// their departures (peak hours: at least three quarters of the busiest
// hour's); else the whole window as one period.
std::vector<DayPeriod> day_periods(const GreenwaveOptions& options, const SimulationWindow& window);

// The plan of one period of the day.
struct GreenwavePlan {
  DayPeriod period;
  double cycle_s = 0.0;          // the plan's common cycle; 0 when its lights do not share one
  double webster_cycle_s = 0.0;  // the critical junction's Webster cycle (whole seconds)
  std::string cycle_source;      // "given", or "joint" (chosen with the splits and the band)
  std::vector<twin::TrafficLight> programs;  // the plan: program id options.plan_program_id (-k with periods)
  BandwidthPlan bandwidth;                   // the plan's offsets and analytic bands (0 without a common cycle)
  double max_band_forward_s = 0.0;   // the widest band the plan's greens allow: its narrowest through green
  double max_band_backward_s = 0.0;
  // The analytic planner's candidates and its two plans, starting points of the search.
  std::vector<PlanCandidate> candidates;
  std::size_t chosen = 0;  // index into candidates
  std::vector<twin::TrafficLight> maxband_programs;  // the chosen candidate with its MAXBAND offsets
  std::vector<twin::TrafficLight> webster_programs;  // Webster's own cycle and splits, with their MAXBAND offsets
  PlanSearchResult search;
  // The plan against the search's reference on a lighter and a heavier
  // demand (the same seeds): does the gain hold when the counts are off?
  struct ScaledDemand {
    double scale = 1.0;
    PlanScore plan;
    PlanScore reference;
  };
  std::vector<ScaledDemand> robustness;
  std::vector<std::string> tool_errors;  // SUMO tools that gave no starting plan, and why
  std::filesystem::path baseline_diagram;
  std::filesystem::path plan_diagram;
};

// The analytic plan from a baseline evaluation (programs and
// maxband_programs alike; the search comes after). Cycle and splits are chosen jointly
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
// With switches, the programs' switching by time of day as a WAUT (SUMO's
// "weekly/daily automatic timing") named waut_id over every light of the
// programs, starting with the first switch's program.
struct WautSwitch {
  double time_s = 0.0;  // SUMO seconds
  std::string program_id;
};
void write_plan_additional(const std::vector<twin::TrafficLight>& programs, const std::filesystem::path& file,
                           const std::vector<WautSwitch>& switches = {}, const std::string& waut_id = "greenwave");
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
// of the record within [from_s, to_s] (the whole of that when it is
// shorter), as [first, second].
std::pair<double, double> busiest_window(const CorridorRecord& record, double window_s,
                                         double from_s = -std::numeric_limits<double>::infinity(),
                                         double to_s = std::numeric_limits<double>::infinity());

struct GreenwaveReport {
  SimulationWindow window;
  Corridor corridor;
  std::vector<GreenwavePlan> plans;  // one per period of the day, in order
  Evaluation baseline;
  Evaluation planned;  // the whole window under the plan file
  std::vector<std::string> warnings;  // what makes the figures weak (no vehicle on the corridor...)
  std::filesystem::path plan_file;
  std::filesystem::path report_file;
};

// The whole command: the baseline run; per period of the day, the analytic
// plan, SUMO's tools and the search by simulation (plan_search.h); the plan
// run over the whole window; DIR/plan.add.xml (with a WAUT switching the
// periods' programs when there are several), DIR/report.json and the
// time-space diagrams DIR/time_space_baseline.svg and time_space_plan.svg
// (with periods, one pair per period: time_space_baseline-K.svg...).
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
