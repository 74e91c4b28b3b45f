#pragma once
// The engine's private parts, shared by engine.cpp (the exchange step) and
// engine_state.cpp (saving, resuming, keyframes).

#include "cadereau/sim/engine/engine.h"
#include "cadereau/sim/traffic/traffic_model.h"
#include "cadereau/twin/spatial_index.h"
#include "engine_recording.h"
#include "flood_worker.h"

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::sim::engine {

struct Engine::Impl {
  // The nudges of the commands being applied, by gauge index: one record
  // per gauge and step, however many readings it sent in between.
  struct StepNudge {
    double model_m = 0.0;     // before the first reading of the step
    double observed_m = 0.0;  // the last reading
    double measured_s = 0.0;
    double now_m = 0.0;       // after the last
    double net_m3 = 0.0;
    std::size_t cells = 0;
    int readings = 0;
  };
  std::map<std::size_t, StepNudge> step_nudges;
  std::unique_ptr<traffic::TrafficModel> traffic;
  // Light -> the programs the scenario's light plans give it, besides the
  // network's own (set at construction, read from any thread).
  std::map<std::string, std::vector<std::string>> plan_programs;
  std::unique_ptr<FloodWorker> flood_worker;  // the flood's thread, beside SUMO's
  twin::EdgeCells edge_cells;
  struct EdgeFlood {
    bool closed_by_water = false;
    bool closed_by_action = false;
    std::uint64_t water_record = 0;
    std::uint64_t closure_record = 0;
    double limit_kmh = 0.0;  // speed limit set for water; 0: none
    bool ever_flooded = false;
    std::optional<Verb> action_verb;  // the action that closed it, when one did
  };
  std::vector<EdgeFlood> edges;
  std::vector<std::size_t> asset_cell;
  struct BuildingPeople {
    std::size_t cell;
    std::size_t zone;
    double people;
  };
  std::vector<BuildingPeople> buildings;
  std::vector<std::size_t> inflow_cell;
  std::vector<std::uint64_t> inflow_root;
  std::vector<std::size_t> inflow_level;
  std::uint64_t rain_root = 0;  // the territory-wide rain
  std::size_t rain_level = 0;
  std::vector<std::uint64_t> zone_rain_root;  // per rain zone
  std::vector<std::size_t> zone_rain_level;
  // The inflow whose water each wet cell holds (-1: none), per step.
  std::vector<int> source_of;
  double masks_at_s = -1.0;
  std::vector<std::size_t> gauge_cell;
  // Edges of traffic counters the traffic follows (EngineSetup::follow_counts),
  // with the vehicles that had entered each by the end of recent steps
  // (engine time, count since the traffic model started).
  struct CountedEdge {
    std::string edge_id;
    std::deque<std::pair<double, long>> entered;
    // The flow of the last reading followed, and the end of its window
    // (engine time): what a resumed run goes on following.
    double followed_veh_per_h = 0.0;
    double followed_until_s = -1.0;
  };
  std::vector<CountedEdge> counted;
  // Emergency access.
  std::vector<traffic::AccessPoint> origins;
  std::vector<traffic::AccessPoint> destinations;  // zones first, then assets needing access
  std::vector<std::size_t> destination_asset;      // for the asset part
  std::vector<std::vector<std::size_t>> baseline_route;  // edge indices of the fastest route before the crisis
  double next_access_s = 0.0;
  // Emergency access to compute for this time at the start of the next
  // exchange (Engine::run_due_access).
  std::optional<double> access_due_s;
  std::size_t next_action = 0;
  std::vector<TimedAction> actions;  // sorted by time
  // Per action: the engine time it was taken from the submit() queue; NaN
  // for the setup's own actions.
  std::vector<double> action_taken_s;
  double applying_taken_s = 0.0;  // the same for the action being applied
  std::size_t reacted = 0;           // records already acted upon
  std::size_t recorded = 0;          // records already reported to the observers
  std::unique_ptr<EngineRecording> recording;  // the built-in observer, when the setup names a file
  std::vector<EngineObserver*> observers;      // the recording first, then those added
  std::vector<EngineNote> notes;  // given since the last step; under pending_mutex
  std::vector<RecordedCommand> observations_taken;  // at this step, for the observers
  // Submitted commands waiting for the next exchange (any thread adds).
  std::mutex pending_mutex;
  std::vector<Command> pending;
  // The command (JSON) behind a record, until the record reaches the file.
  std::map<std::uint64_t, std::string> command_of_record;
  // Emergency units on their way (engine_units.cpp).
  struct UnitTrip {
    std::string unit;         // as the dispatcher named it
    std::string vehicle;      // its SUMO vehicle
    std::string from, to;     // as asked: asset ids, an edge id, or "x,y"
    std::string from_edge, to_edge;
    twin::MapPoint to_place;
    double depart_s = 0.0;    // engine time
    double sumo_depart_s = 0.0;
    double free_flow_s = 0.0; // the fastest way with every road open and empty
    std::vector<std::size_t> free_flow_edges;
    std::uint64_t dispatch_record = 0;
    std::vector<std::uint64_t> closures;  // closure records on its free-flow way
  };
  std::vector<UnitTrip> units;
  std::uint64_t units_sent = 0;
  // Names of the units on their way or queued to go; under pending_mutex.
  std::vector<std::string> unit_names;
  double next_frame_s = 0.0;
  double next_keyframe_s = 0.0;
  double next_traffic_s = 0.0;
};


}  // namespace cadereau::sim::engine
