#pragma once
// The engine's black box: an EngineObserver that writes every record (with
// the command behind it and the event of its first cause), the observations,
// the key figures and gauges as time series, depth frames, and keyframes of
// the whole engine, into one HDF5 recording (twin/recording.h).

#include "cadereau/sim/engine/engine.h"
#include "cadereau/twin/recording.h"

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace cadereau::sim::engine {

class EngineRecording : public EngineObserver {
 public:
  // Creates the file with the run's layout: the depth frames on `grid`,
  // one series per key figure and per gauge (units and datum given), the
  // traffic on `traffic_edges` (none: no traffic channels), and keyframe
  // fields when `keyframes`. Throws Error naming the file.
  EngineRecording(const std::filesystem::path& file, const EngineSetup& setup, const twin::Territory& territory,
                  const twin::GridSpec& grid, const twin::Crs& crs, const std::vector<GaugeSeries>& gauges,
                  std::vector<std::string> traffic_edges, bool keyframes);

  void on_exchange(const ExchangeReport& report) override;
  void on_end(double t_s) override;
  void keyframe(double t_s, const EngineState& state);
  twin::Recorder& recorder() { return recorder_; }

 private:
  twin::Recorder recorder_;
  // The event seq of each record written, for the cause column.
  std::unordered_map<std::uint64_t, std::uint64_t> event_of_record_;
  std::vector<float> vehicles_, speed_ratio_;  // a traffic reading, as written
};

}  // namespace cadereau::sim::engine
