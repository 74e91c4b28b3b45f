#pragma once
// The state of a recorded run or session at one time, for the 3D view: the
// water of the depth frame at or before that time, the roads closed and the
// assets out of service according to the records up to then.

#include "cadereau/twin/raster.h"
#include "cadereau/viewer/scene.h"

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace cadereau::viewer {

struct RecordedState {
  double at_s = 0.0;                      // the time asked (clamped to the recording's end)
  std::optional<double> frame_time_s;     // the depth frame's time, at or before at_s
  std::optional<twin::Raster> depth_m;    // on the recorded grid and CRS
  std::set<std::string> closed_roads;     // SUMO edge ids
  std::map<std::string, AssetStatus> assets;  // assets out of service
  std::size_t records = 0;                // records read up to at_s
  std::string start_time_iso;             // of the recording, when it has one
  double end_s = 0.0;                     // the last time the recording knows
};

// What one record (its kind and target) changes in `state`, as on the
// console's map; other kinds change nothing.
void apply_record(RecordedState& state, const std::string& kind, const std::string& target);

// Reads RECORDING (an HDF5 recording of `cadereau run`, `demo` or a server
// session) at `at_s` seconds of its clock, or at its end when not given.
// A fork's or a resumed session's records before it come from its parent
// recordings, when they are still where it says. Throws cadereau::Error,
// naming the file, when it cannot be read or at_s is negative or not finite.
RecordedState read_recorded_state(const std::filesystem::path& recording, std::optional<double> at_s);

}  // namespace cadereau::viewer
