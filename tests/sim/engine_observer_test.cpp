// What leaves the engine after each exchange step reaches every observer:
// each record once and in order, the command behind it, the key figures, the
// gauges and the depth frames when due.
#include "cadereau/sim/engine/engine.h"
#include "cadereau/sim/engine/observer.h"
#include "cadereau/sim/traffic/traffic_model.h"
#include "cadereau/twin/recording.h"
#include "small_town.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace cadereau;
using namespace cadereau::sim;
using cadereau::testing::SmallTown;

namespace {

struct Follower : engine::EngineObserver {
  std::vector<double> times_s;
  std::vector<std::uint64_t> record_ids;
  std::vector<std::string> commands;  // the non-empty ones
  std::vector<double> frame_times_s;
  std::vector<std::string> observed;
  engine::Kpis last;
  std::optional<double> ended_at_s;
  const traffic::TrafficModel* traffic = nullptr;  // to read SUMO's own figures at the same moment
  std::vector<double> traffic_times_s;
  std::vector<engine::RoadTraffic> last_traffic;
  int busiest_edge_vehicles = 0;
  void on_exchange(const engine::ExchangeReport& r) override {
    times_s.push_back(r.t_s);
    REQUIRE(r.record_commands.size() == r.new_records.size());
    for (std::size_t i = 0; i < r.new_records.size(); ++i) {
      CHECK(r.new_records[i].t_s <= r.t_s);
      record_ids.push_back(r.new_records[i].id);
      if (!r.record_commands[i].empty()) commands.push_back(r.record_commands[i]);
    }
    for (const auto& o : r.observations) observed.push_back(std::get<engine::Observation>(o.command).sensor_id);
    if (r.depth) {
      frame_times_s.push_back(r.t_s);
      CHECK(r.depth->grid().cell_count() > 0);
    }
    if (!r.traffic.empty()) {
      traffic_times_s.push_back(r.t_s);
      REQUIRE(traffic != nullptr);
      const auto states = traffic->edge_states();
      REQUIRE(r.traffic.size() == states.size());
      int on_edges = 0;
      for (std::size_t i = 0; i < states.size(); ++i) {
        CHECK(r.traffic[i].vehicles == states[i].vehicles);
        CHECK(r.traffic[i].speed_ratio >= 0.0f);
        CHECK(r.traffic[i].speed_ratio <= 1.0f);
        if (states[i].vehicles == 0) CHECK(r.traffic[i].speed_ratio == 1.0f);
        on_edges += states[i].vehicles;
        busiest_edge_vehicles = std::max(busiest_edge_vehicles, states[i].vehicles);
      }
      CHECK(on_edges <= r.kpis.vehicles_running);
      last_traffic.assign(r.traffic.begin(), r.traffic.end());
    }
    last = r.kpis;
  }
  void on_end(double t_s) override { ended_at_s = t_s; }
};

}  // namespace

TEST_CASE("An observer sees every record once in order, the commands, the key figures and the frames",
          "[integration][engine]") {
  SmallTown town;
  town.territory.sensors.push_back({"rg-town", "Town rain gauge", twin::SensorKind::rain_gauge, {300.0, 300.0}, "", ""});
  auto setup = SmallTown::channel_flood(600.0);
  setup.frame_every_s = 120.0;
  setup.recording = town.dir / "run.h5";
  engine::Engine run(town.territory, setup);
  Follower follower;
  follower.traffic = run.traffic();
  run.add_observer(follower);
  engine::TimedAction close;
  close.t_s = 200.0;
  close.verb = engine::Verb::close_road;
  close.target = "A1B1";
  close.by = "police";
  run.submit(close);
  run.submit(engine::Observation{"rg-town", 0.0, 1.5, "mqtt"});
  run.run();

  // Every exchange from the one after it joined, every 10 s.
  REQUIRE(follower.times_s.size() == 60);
  CHECK(follower.times_s.front() == 10.0);
  CHECK(follower.times_s.back() == 600.0);
  // The records added since it joined, each once, in order.
  std::vector<std::uint64_t> expected;
  for (const auto& r : run.log().all())
    if (r.t_s > 0.0) expected.push_back(r.id);
  CHECK(follower.record_ids == expected);
  REQUIRE(follower.commands.size() == 1);
  CHECK_THAT(follower.commands[0], Catch::Contains("\"verb\":\"close_road\"") && Catch::Contains("\"taken_s\":0"));
  CHECK(follower.observed == std::vector<std::string>{"rg-town"});
  CHECK(follower.frame_times_s == std::vector<double>{120.0, 240.0, 360.0, 480.0, 600.0});
  CHECK(follower.last.roads_closed == run.closed_edges().size());
  CHECK(follower.last.roads_closed >= 1);  // A1B1 at least
  CHECK(follower.ended_at_s == 600.0);

  // The traffic on every road edge each simulated minute, as SUMO has it,
  // and in the recording with the edges' ids.
  CHECK(follower.traffic_times_s == std::vector<double>{60, 120, 180, 240, 300, 360, 420, 480, 540, 600});
  CHECK(follower.busiest_edge_vehicles >= 2);
  twin::RecordingReader recording(*setup.recording);
  CHECK(recording.edge_times_s(engine::kTrafficVehicles) == std::vector<double>{0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600});
  const auto vehicles = recording.edge_values_at_or_before(engine::kTrafficVehicles, 600.0);
  const auto ratio = recording.edge_values_at_or_before(engine::kTrafficSpeedRatio, 600.0);
  REQUIRE(vehicles);
  REQUIRE(ratio);
  const auto& edges = run.traffic()->network().edges();
  REQUIRE(vehicles->edge_ids.size() == edges.size());
  for (std::size_t i = 0; i < edges.size(); ++i) {
    CHECK(vehicles->edge_ids[i] == edges[i].id);
    CHECK(vehicles->values[i] == static_cast<float>(follower.last_traffic[i].vehicles));
    CHECK(ratio->values[i] == follower.last_traffic[i].speed_ratio);
  }
}
