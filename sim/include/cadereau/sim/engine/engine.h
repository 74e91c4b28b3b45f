#pragma once
// The co-simulation engine: one sim clock for the flood model, the traffic
// twin (SUMO through libsumo) and the impact model.
//
// The engine advances in exchange steps (10 s by default). Over each
// interval the flood solver (its own adaptive sub-steps) and SUMO advance side
// by side on two cores, SUMO with the closures decided at the start of the
// interval. At the exchange time the water depth is read on every road edge
// (the deepest cell under it) and at every asset; roads are slowed along the
// depth-disruption curve of Pregnolato et al. (2017) and closed from 0.3 m;
// vehicles on a road as it closes are stopped there and counted as people at
// risk, and vehicles heading for it re-plan; assets fail past their water
// threshold and failures spread along the dependency graph; traffic lights
// whose controller loses power go dark. Every few minutes the emergency
// access time from fire stations and hospitals to each zone and each asset
// that needs road access is recomputed on current traffic.
//
// Every change is an impact record naming its causes, so each consequence can
// be traced back to the inflow or the rain that started it. The same setup
// and seed give the same records.

#include "cadereau/sim/engine/action.h"
#include "cadereau/sim/engine/command.h"
#include "cadereau/sim/engine/observer.h"
#include "cadereau/sim/flood/flood_model.h"
#include "cadereau/sim/impact/impact_model.h"
#include "cadereau/sim/traffic/traffic_model.h"
#include "cadereau/twin/recording.h"
#include "cadereau/twin/territory.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::sim::traffic {
class TrafficModel;
}

namespace cadereau::sim::engine {

// The whole state of an engine at one time: what save_state() writes to a
// folder and what a keyframe of the engine's recording holds.
struct EngineState {
  flood::FloodState water;  // exact doubles, with the time
  std::string sumo_state;   // SUMO's own state file (XML); empty without traffic
  std::string engine_json;  // closures, speed limits, the impact model's statuses, backups and timers, the records
  double time_s() const { return water.time_s; }
};

// Names of the keyframe fields of an engine recording: the water as float64
// arrays (flood::kStateDepth, kStateDischargeEast, kStateDischargeNorth) and
// these two blobs.
inline constexpr const char* kKeyframeSumoState = "sumo_state";
inline constexpr const char* kKeyframeEngineState = "engine_state";
// Names of the edge channels of an engine recording with traffic: the
// vehicles on each road edge and their mean speed over its speed limit
// (observer.h's RoadTraffic), every EngineSetup::traffic_every_s.
inline constexpr const char* kTrafficVehicles = "traffic_vehicles";
inline constexpr const char* kTrafficSpeedRatio = "traffic_speed_ratio";

// Reads a state folder written by Engine::save_state(). Throws Error naming
// the file that is missing, truncated or not a state.
EngineState read_engine_state(const std::filesystem::path& dir);
// The state a keyframe of an engine recording holds. Throws Error naming
// `where` when a field is missing.
EngineState engine_state_from_keyframe(const twin::Keyframe& keyframe, const std::string& where);

struct EngineSetup {
  double duration_s = 7200.0;
  double exchange_s = 10.0;
  double access_every_s = 300.0;    // emergency access recomputed this often
  double traffic_begin_s = 0.0;     // SUMO time at the start (27000 = 07:30)
  bool traffic = true;              // false: flood and impacts only
  traffic::TrafficModelKind traffic_model = traffic::TrafficModelKind::microscopic;
  std::uint64_t seed = 42;

  // Flood forcing and parameters.
  std::vector<flood::PointInflow> inflows;
  std::optional<flood::TimeSeries> rain_mm_h;  // uniform
  std::optional<flood::RainZones> rain_zones;  // per gauge or zone, added to the uniform rain
  std::vector<std::string> rain_zone_labels;   // one per rain zone, for the records
  double manning_n = 0.05;          // where the territory has no Manning raster
  // Cell size of the flood grid; 0: the territory's DEM. A coarser grid is the
  // DEM and Manning rasters averaged over the same extent (faster forecasts).
  double flood_cell_m = 0.0;
  int flood_threads = 0;

  // Thresholds.
  double road_closed_depth_m = 0.3;    // impassable (Pregnolato et al. 2017)
  double road_reopen_depth_m = 0.2;    // reopened below this once closed by water
  double building_flooded_depth_m = 0.3;
  double vehicle_occupancy = 1.1;      // people per car in the morning commute

  std::vector<TimedAction> actions;
  // SUMO additional files of light programs loaded when the traffic starts
  // (a green-wave plan): each light runs the last program given for it.
  std::vector<std::filesystem::path> light_plans;

  // Readings of level gauges without a rating curve nudge the water around
  // the gauge toward them (flood::FloodModel::nudge_level); the reading is
  // the depth above the bed of the flood cell holding the gauge. A reading
  // measured more than nudge_max_age_s before the engine takes it, or a
  // failed one, is recorded and nudges nothing.
  bool nudge_levels = true;
  flood::LevelNudge level_nudge;  // radius (m) and gain
  double nudge_max_age_s = 600.0;

  // Readings of traffic counters drive SUMO's calibrators: every counter of
  // the territory puts a calibrator on its edge (traffic::TrafficOptions::
  // counted_edges), and a reading of N vehicles over interval_s makes the
  // edge carry N x 3600 / interval_s veh/h over the next interval_s seconds
  // (traffic::TrafficModel::follow_count), adding vehicles on the routes seen
  // there or taking some off. Each reading is a record of kind
  // traffic_followed, with the flow observed and the flow simulated over the
  // same interval before it. A failed reading, or one measured more than its
  // interval before the engine takes it, changes nothing. Off, or with the
  // traffic off, counter readings are only recorded.
  bool follow_counts = false;

  // Recording: an HDF5 session file with every record as an event, gauge
  // levels and counts as series, water-depth frames, and the traffic on
  // every road edge.
  std::optional<std::filesystem::path> recording;
  double frame_every_s = 300.0;
  // The traffic on every road edge (vehicles, mean speed against the limit)
  // is read this often, sim s, for the recording and the observers. 0: never.
  double traffic_every_s = 60.0;
  twin::RecordingMeta meta;

  // Called after every exchange step with (t_s, duration_s).
  std::function<void(double, double)> progress;

  // Keyframes of the whole engine in the recording this often (sim s): where
  // `cadereau replay --seek` and `--fork` start from. 0: none.
  double keyframe_every_s = 600.0;

  // Start from a saved state (a forecast, a fork): the same territory and
  // scenario, run on from the saved time. Envelopes (max depth, arrival
  // time) and gauge series cover the resumed run only.
  std::optional<EngineState> resume;
  std::string resume_where;  // names the state in errors: its folder or recording
};

// Wall time spent in each part of the engine, seconds. The flood and the
// traffic run side by side: step_wall_s is the wall time of the two together.
struct EngineTimings {
  double flood_s = 0.0;
  double traffic_s = 0.0;
  double step_wall_s = 0.0;
  double coupling_s = 0.0;   // sampling water on roads and assets, closing roads
  double access_s = 0.0;     // emergency access times
  double impacts_s = 0.0;
  double recording_s = 0.0;
  double total_s = 0.0;
};

// Water the level gauges' readings put on the flood grid and took off it
// since the start of the run (a resumed run counts from the run it resumes).
struct NudgedWater {
  double added_m3 = 0.0;
  double removed_m3 = 0.0;
  std::size_t nudges = 0;  // readings that changed the water
};

// A level gauge's water-surface elevation over time.
struct GaugeSeries {
  std::string id;
  std::string name;
  twin::MapPoint location;
  double bed_m = 0.0;
  std::vector<double> t_s;
  std::vector<double> wse_m;
};

class Engine {
 public:
  // Checks the setup against the territory: action targets must exist, the
  // traffic needs a network and demand, inflows must be inside the DEM, a
  // followed traffic counter must count an edge of the network.
  // Throws cadereau::Error naming the bad entry (its `where` when given).
  Engine(const twin::Territory& territory, EngineSetup setup);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs to setup.duration_s.
  void run();
  // The whole state at the current time.
  EngineState capture_state() const;
  // Writes it into a folder (flood.bin, sumo_state.xml, engine.json): what a
  // forecast worker resumes from. Throws cadereau::Error when a file cannot
  // be written.
  void save_state(const std::filesystem::path& dir) const;
  // Advances to t_s (a multiple of the exchange step is not required).
  void advance_to(double t_s);
  // Writes what the recording holds in memory to its file (it does so every
  // second of wall or sim time as the run goes on): a clock that stops
  // stepping calls it, so that readers of the file (a replay, a 3D view) see
  // the last step. Throws cadereau::Error when the file cannot be written.
  void flush_recording();
  // Queues a command; may be called from any thread while the engine runs.
  // Checked at once against the territory and the setup (throws Error: an
  // unknown edge, light, inflow, rain zone or sensor, a negative flow, a
  // traffic count that is negative or over an interval that is not positive,
  // an action with the traffic off or past the end of the run). Applied at the
  // next exchange step: actions at their time if it is still to come, else
  // at that step's end; forcing from its time, or from the step's start if
  // that time is past; observations recorded as they are. Every applied
  // command is recorded with the time it took effect (recorded_commands()).
  void submit(Command command);
  // Queues a note for the record, given to the observers with the next
  // exchange step (the recording keeps it as an audit event at that step's
  // time). May be called from any thread.
  void note(EngineNote note);
  // Adds an observer, told after every exchange step from now on (not owned:
  // it must outlive the engine's run). The recording is one, built in.
  void add_observer(EngineObserver& observer);
  double time_s() const { return time_s_; }

  const impact::ImpactLog& log() const { return log_; }
  const impact::ImpactModel& impacts() const { return *impacts_; }
  const flood::FloodModel& flood() const { return *flood_; }
  // The traffic twin; nullptr when the setup turned traffic off.
  const traffic::TrafficModel* traffic() const;
  const EngineTimings& timings() const { return timings_; }
  const std::vector<GaugeSeries>& gauges() const { return gauges_; }
  const NudgedWater& nudged_water() const { return nudged_; }
  const twin::Territory& territory() const { return territory_; }
  // Road edges closed now (by water or by an action), as network edge indices.
  std::vector<std::size_t> closed_edges() const;
  // Edges that were closed by water at some point.
  std::vector<std::size_t> edges_ever_flooded() const;
  double max_edge_depth_m(std::size_t edge) const { return edge_max_depth_[edge]; }
  long vehicles_arrived() const;
  long vehicles_stopped_by_water() const { return stalled_vehicles_; }
  // Of a resumed run: the vehicles that were mid-teleport in the saved state,
  // which SUMO cannot restore, put back at the edge their teleport had reached.
  int teleports_put_back() const { return teleports_put_back_; }

 private:
  struct Impl;
  void exchange(double t_s);
  void apply_due_actions(double t_s);
  // The actions that set speeds and light plans (not those on road access).
  void apply_to_traffic(const TimedAction& action);
  void note_hazards(double t_s);
  void sample_water(double t_s);
  void update_access(double t_s);
  void run_due_access();
  void react_to_new_records(std::size_t first_new);
  // Tells the observers what the step added (the records since the last
  // report) and where things stand.
  void report_exchange(double t_s);
  void resume(const EngineState& state, const std::string& where);
  // Commands (engine_commands.cpp).
  void check_command(const Command& command) const;
  void check_action_target(const TimedAction& action) const;
  std::string action_where(const TimedAction& action) const;
  void apply_commands();
  void apply_forcing(ForcingChange change);
  void record_observation(const Observation& observation);
  // A fresh reading of an unrated level gauge: the water around it moves toward it.
  void nudge_to(const Observation& observation);
  // Traffic counts (engine_counts.cpp). The edges of the territory's traffic
  // counters, each once; throws Error for a counter whose edge the network
  // does not have.
  std::vector<std::string> counted_edges() const;
  // A counter's reading: its edge follows the observed flow (a record says so).
  void follow_count(const Observation& observation);
  // The vehicles that entered each counted edge so far, kept for the flow
  // simulated before a reading.
  void sample_counts(double t_s);
  void note_command(std::uint64_t record, const TimedAction& action);
  // Emergency units (engine_units.cpp).
  void check_dispatch(const Dispatch& dispatch) const;
  void dispatch_unit(const Dispatch& dispatch);
  // Arrivals since the last step, and closures met on the way.
  void follow_units(double t_s);
  // A vehicle caught by the water on `edge`: when it is a unit, its trip ends
  // there (a record caused by `closure`). Returns whether it was one.
  bool unit_caught(const std::string& vehicle, const std::string& edge, twin::MapPoint place, std::uint64_t closure);
  std::vector<std::uint64_t> water_causes(std::size_t cell);

  const twin::Territory& territory_;
  EngineSetup setup_;
  impact::ImpactLog log_;
  std::unique_ptr<impact::ImpactModel> impacts_;
  std::unique_ptr<flood::FloodModel> flood_;
  std::unique_ptr<Impl> impl_;
  std::vector<GaugeSeries> gauges_;
  std::vector<double> edge_max_depth_;
  EngineTimings timings_;
  double time_s_ = 0.0;
  long stalled_vehicles_ = 0;
  int teleports_put_back_ = 0;
  double people_at_risk_ = 0.0;  // in vehicles caught by water, so far
  NudgedWater nudged_;
};

// The commands submitted to the engine that recorded this file (not the
// setup's own actions), in the order they took effect, those taken after
// after_s: what a run re-fed them at their taken_s needs to take the same
// course. Throws Error naming the file and event when a command is broken.
std::vector<RecordedCommand> recorded_commands(const twin::RecordingReader& recording, double after_s = -1.0);

}  // namespace cadereau::sim::engine
