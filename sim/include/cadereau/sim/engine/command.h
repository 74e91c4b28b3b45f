#pragma once
// Commands to a running engine, from whoever drives it (the server's worker,
// a what-if): an action on the network, a change of forcing (an inject that
// makes a stream rise or the rain double), a sensor reading. The engine
// queues them from any thread and applies them at its next exchange step;
// each applied command is recorded with the time it took effect, so a run
// re-fed the recorded commands at those times takes the same course.

#include "cadereau/sim/engine/action.h"
#include "cadereau/sim/flood/time_series.h"
#include "cadereau/twin/geo.h"

#include <optional>
#include <string>
#include <variant>

namespace cadereau::sim::engine {

// A stream's flow or the rain, from a time on.
struct ForcingChange {
  enum class Kind { inflow, rain };
  Kind kind = Kind::inflow;
  // The inflow's name (as in the scenario); for rain, a rain zone's label
  // (its gauge or zone id) or "territory" for the rain everywhere.
  std::string target;
  double from_s = 0.0;       // since the start; a time already past means now
  flood::TimeSeries series;  // times since the start; m3/s or mm/h
  std::string by;            // "director:anne", "inject 12"
  std::string where;         // names it in errors
};

// A reading of a sensor of the territory, as it came in.
struct Observation {
  std::string sensor_id;
  double t_s = 0.0;    // when it was measured, since the start
  double value = 0.0;  // in the sensor's unit: m above the gauge's datum, mm of rain, vehicles
  std::string source;  // where it came from: "mqtt", "sensorthings", "report", "inject 12"
  bool failed = false; // the sensor reports a fault instead of a value (value is then 0)
  // A traffic counter's counting interval: `value` vehicles passed over the
  // interval_s seconds up to t_s. None: the sensor did not say (a traffic
  // counter's reading is then taken to cover kDefaultCountInterval_s).
  std::optional<double> interval_s;
};

// What a traffic counter's reading covers when it does not say.
inline constexpr double kDefaultCountInterval_s = 300.0;
// No lane carries more than one vehicle a second: a count beyond this many
// vehicles an hour per lane of its edge is a faulty reading, not traffic.
inline constexpr double kMaxLaneFlow_veh_h = 3600.0;

// An emergency unit sent now from a fire station or a hospital to a place:
// driven in SUMO as a blue-light vehicle (it may use roads closed to
// private traffic) on the fastest route on current travel times, rerouted
// as roads close. Its arrival, or its failure to arrive, is a record.
struct Dispatch {
  std::string unit;  // "VSAV 2": unique among the units still on their way
  std::string from;  // an asset id: a fire station or a hospital
  // Where to: an asset id or a road edge id, or a point (working CRS) when
  // `to` is empty.
  std::string to;
  std::optional<twin::MapPoint> to_point;
  std::string by;
  std::string where;
};

using Command = std::variant<TimedAction, ForcingChange, Observation, Dispatch>;

// A command as the engine took it: re-submitted when a run reaches
// taken_s, it takes effect as it did.
struct RecordedCommand {
  double taken_s = 0.0;  // the engine's time when it took the command from its queue
  Command command;
};

// When the command asks to take effect (seconds since the start; 0 for a
// dispatch, which leaves at once).
double command_time_s(const Command& command);
// Who gave it.
const std::string& command_by(const Command& command);

// A command as JSON text ({"command": "action" | "forcing" | "observation" |
// "dispatch", ...}) and back. command_from_json throws Error naming `where` when the text
// is not a command.
std::string command_json(const Command& command);
Command command_from_json(const std::string& json, const std::string& where);

}  // namespace cadereau::sim::engine
