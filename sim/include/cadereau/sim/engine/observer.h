#pragma once
// What leaves the engine after each exchange step: the records it added, the
// commands behind them, the key figures, the gauges and, every so often, the
// water depth. Whoever follows a run (the HDF5 recorder, the server's stream
// to its clients) is an EngineObserver; the engine knows no other way out.

#include "cadereau/sim/engine/command.h"
#include "cadereau/sim/impact/impact_log.h"
#include "cadereau/twin/raster.h"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace cadereau::sim::engine {

struct Kpis {
  std::size_t roads_closed = 0;           // road edges closed now, by water or by an action
  double people_at_risk = 0.0;            // in vehicles caught by water, since the start
  std::size_t assets_out_of_service = 0;  // now
  int vehicles_running = 0;               // on the network or waiting to enter it
  // Water the level gauges' readings put on the flood and took off it, since the start.
  double volume_nudged_in_m3 = 0.0;
  double volume_nudged_out_m3 = 0.0;
};

struct GaugeLevel {
  std::string_view id;
  double wse_m = 0.0;    // water-surface elevation, the DEM's vertical datum
  double depth_m = 0.0;  // water above the bed at the gauge
};

// A note for the record that the engine itself does not make: who changed
// the clock, who was refused what (the server's audit of a session).
struct EngineNote {
  std::string source;   // "director:anne"; at most 64 bytes are kept
  std::string payload;  // JSON text
};

// The traffic on one road edge over the last simulation step.
struct RoadTraffic {
  int vehicles = 0;
  // Mean speed of its vehicles over the edge's speed limit in the network
  // (not a limit lowered for water): 1 when empty, towards 0 in a jam.
  float speed_ratio = 1.0f;
};

struct ExchangeReport {
  double t_s = 0.0;  // the step's end, s since the start
  std::span<const impact::Impact> new_records;  // added during the step, in order
  // Parallel to new_records: the command behind each record (JSON as
  // command_json() writes it, with "taken_s" for a submitted one), "" when none.
  std::span<const std::string> record_commands;
  // Observations taken at this step, each with the engine time it was taken.
  std::span<const RecordedCommand> observations;
  // Notes given since the last step (Engine::note), in order.
  std::span<const EngineNote> notes;
  Kpis kpis;
  std::span<const GaugeLevel> gauges;
  // The water depth now (m, the flood grid, nodata outside the domain) when
  // a frame is due (every EngineSetup::frame_every_s); null otherwise.
  const twin::Raster* depth = nullptr;
  // The traffic on every edge of the road network, in the network's order
  // (traffic::TrafficModel::network().edges()), when a reading is due
  // (every EngineSetup::traffic_every_s); empty otherwise and without traffic.
  std::span<const RoadTraffic> traffic;
};

class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  // After each exchange step, on the engine's thread: return quickly (copy
  // what is needed and hand it on; never wait on a client). An exception
  // stops the run.
  virtual void on_exchange(const ExchangeReport& report) = 0;
  // Once, when Engine::run() reaches the end.
  virtual void on_end(double t_s) {}
};

}  // namespace cadereau::sim::engine
