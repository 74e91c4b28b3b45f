// The traffic twin (sim/traffic/traffic_model) on a 4x4 signalised grid built
// by netgenerate in the test: 200 m blocks, two lanes, every junction a light.
// Demand is hand-written flows along row 1 (A1 -> D1), whose direct road is
// B1C1, so closing it forces a detour of two blocks.

#include "cadereau/sim/traffic/traffic_model.h"
#include "cadereau/twin/error.h"
#include "sumo_tool.h"
#include "test_support.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <cstdlib>
#include <set>
#include <string>
#include <sys/resource.h>

using cadereau::Error;
using cadereau::testing::TempDir;
using cadereau::testing::read_text;
using cadereau::testing::run_tool;
using cadereau::testing::write_text;
using namespace cadereau::sim::traffic;

namespace {

// The grid, with SUMO's frame shifted by netOffset = (810000, 6300000): the
// map frame (map = sumo - netOffset) has the grid on [0, 600] m.
struct Grid {
  TempDir dir;
  std::filesystem::path net = dir / "grid.net.xml";
  std::filesystem::path routes = dir / "flows.rou.xml";
  Grid() {
    run_tool("netgenerate --grid --grid.number 4 --grid.length 200 --tls.guess true --tls.guess.threshold 1 "
             "--default.lanenumber 2 --no-turnarounds true --offset.x 810000 --offset.y 6300000 -o \"" +
                 net.string() + "\"",
             dir / "netgenerate.log");
    write_text(routes, R"(<routes>
  <vType id="car" accel="2.6" decel="4.5" sigma="0.5" length="5" maxSpeed="16"/>
  <flow id="east" type="car" begin="0" end="600" vehsPerHour="600" from="A1B1" to="C1D1" departSpeed="max" departLane="best"/>
  <flow id="north" type="car" begin="0" end="600" vehsPerHour="200" from="B0B1" to="B2B3" departSpeed="max" departLane="best"/>
</routes>
)");
  }
  TrafficOptions options() const {
    TrafficOptions o;
    o.net = net;
    o.routes = {routes};
    o.seed = 7;
    return o;
  }
};

// Steps on from an edge's closure to until_s: the vehicles that entered it
// (those on it at the closure may drive off) and how many vehicles arrived
// meanwhile.
struct AfterClosure {
  std::set<std::string> entered;
  long arrived = 0;
};
AfterClosure run_after_closure(TrafficModel& model, const std::string& edge_id, double until_s) {
  std::set<std::string> before;
  for (const auto& v : model.vehicles_on_edge(edge_id)) before.insert(v.id);
  const long arrived_at_closure = model.arrived_total();
  AfterClosure out;
  while (model.time_s() < until_s) {
    model.step();
    for (const auto& v : model.vehicles_on_edge(edge_id))
      if (!before.count(v.id)) out.entered.insert(v.id);
  }
  out.arrived = model.arrived_total() - arrived_at_closure;
  return out;
}

// Distance from a point to an edge's map geometry (m).
double distance_to_edge_m(const cadereau::twin::Edge& edge, cadereau::twin::MapPoint p) {
  double best_m = 1e18;
  for (std::size_t k = 0; k + 1 < edge.shape.size(); ++k)
    best_m = std::min(best_m, cadereau::twin::segment_distance_m(p, edge.shape[k], edge.shape[k + 1]));
  return best_m;
}

// A station near A1 and a zone near D1, both on row 1 (map coordinates of
// the junctions, shifted a little onto the road).
struct Row1Access {
  std::vector<AccessPoint> stations, zones;
};
Row1Access row1_access(const TrafficModel& model) {
  const auto* a1 = model.network().find_junction("A1");
  const auto* d1 = model.network().find_junction("D1");
  REQUIRE(a1);
  REQUIRE(d1);
  return {{{"station", {a1->position.x_m + 100.0, a1->position.y_m - 2.0}}},
          {{"zone", {d1->position.x_m - 100.0, d1->position.y_m - 2.0}}}};
}

}  // namespace

TEST_CASE("the traffic twin reports edges and vehicles in the territory's CRS", "[traffic][integration]") {
  Grid g;
  TrafficModel model(g.options());
  CHECK(TrafficModel::running());
  model.step_to(120.0);
  CHECK(model.time_s() == Approx(120.0));
  const auto states = model.edge_states();
  REQUIRE(states.size() == model.network().edges().size());
  int on_edges = 0;
  for (std::size_t i = 0; i < states.size(); ++i) {
    on_edges += states[i].vehicles;
    CHECK(states[i].occupancy >= 0.0);
    CHECK(states[i].occupancy <= 1.0);
    if (states[i].vehicles == 0) CHECK(states[i].mean_speed_m_s == Approx(model.network().edges()[i].speed_m_s()));
  }
  // A chosen subset reads the same states, in the order asked.
  std::vector<std::size_t> watched;
  for (std::size_t i = 0; i < states.size(); ++i)
    if (states[i].vehicles > 0) watched.insert(watched.begin(), i);
  REQUIRE(watched.size() >= 2);
  const auto subset = model.edge_states(watched);
  REQUIRE(subset.size() == watched.size());
  for (std::size_t k = 0; k < watched.size(); ++k) {
    CHECK(subset[k].vehicles == states[watched[k]].vehicles);
    CHECK(subset[k].halting == states[watched[k]].halting);
    CHECK(subset[k].mean_speed_m_s == states[watched[k]].mean_speed_m_s);
    CHECK(subset[k].occupancy == states[watched[k]].occupancy);
    CHECK(subset[k].travel_time_s == states[watched[k]].travel_time_s);
  }
  CHECK(model.edge_states(std::vector<std::size_t>{}).empty());
  CHECK_THROWS_WITH(model.edge_states(std::vector<std::size_t>{0, states.size()}),
                    Catch::Contains(fmt::format("edge index {} is past the last edge", states.size())));
  const auto vehicles = model.vehicles();
  REQUIRE(!vehicles.empty());
  CHECK(on_edges > 0);
  CHECK(on_edges <= static_cast<int>(vehicles.size()));
  // A vehicle's map position must lie on its edge's map geometry (2 lanes of
  // 3.2 m: within 8 m of the centre line), not 810 km away in SUMO's frame.
  int checked = 0;
  for (const auto& v : vehicles) {
    const auto* edge = model.network().find_edge(v.edge_id);
    if (!edge) continue;  // inside a junction
    CHECK(distance_to_edge_m(*edge, v.position) < 8.0);
    CHECK(v.position.x_m > -50.0);
    CHECK(v.position.x_m < 650.0);
    ++checked;
  }
  CHECK(checked > 0);
  CHECK(model.departed_total() >= static_cast<long>(vehicles.size()));
}

TEST_CASE("a closed edge receives no vehicle after the closure and traffic reroutes", "[traffic][integration]") {
  Grid g;
  TrafficModel model(g.options());
  model.step_to(120.0);
  REQUIRE(model.edge_state("B1C1").vehicles + model.vehicles_on_edge("A1B1").size() > 0);
  // Vehicles already on the edge drive off it; none may enter afterwards.
  model.set_edge_access("B1C1", Access::closed);
  const AfterClosure after = run_after_closure(model, "B1C1", 700.0);
  CHECK(after.entered.empty());
  // The eastbound flow still gets through, round the block.
  CHECK(after.arrived > 50);

  // Reopened, the direct road is used again.
  model.set_edge_access("B1C1", Access::open);
  model.dispatch_emergency("probe", "A1B1", "C1D1");
  bool used = false;
  while (model.time_s() < 800.0 && !used) {
    model.step();
    for (const auto& v : model.vehicles_on_edge("B1C1")) used = used || v.id == "probe";
  }
  CHECK(used);
}

TEST_CASE("a vehicle keeping the demand's route is routed round a road closed before it departs", "[traffic][integration]") {
  Grid g;
  // Routes written out, as duarouter writes them: SUMO would drive them as
  // they are, through B1C1, unless told otherwise.
  const auto fixed = g.dir / "fixed.rou.xml";
  write_text(fixed, R"(<routes>
  <vType id="car" accel="2.6" decel="4.5" sigma="0.5" length="5" maxSpeed="16"/>
  <route id="row1" edges="A1B1 B1C1 C1D1"/>
  <flow id="east" type="car" route="row1" begin="0" end="400" vehsPerHour="600" departSpeed="max" departLane="best"/>
</routes>
)");
  auto o = g.options();
  o.routes = {fixed};
  o.rerouting_period_s = 0.0;
  o.route_on_insertion = false;
  TrafficModel model(o);
  model.step_to(60.0);
  model.set_edge_access("B1C1", Access::closed);
  const AfterClosure after = run_after_closure(model, "B1C1", 700.0);
  CHECK(after.entered.empty());
  // The vehicles departing after the closure (about 56) got round it.
  CHECK(after.arrived > 40);
}

TEST_CASE("the mesoscopic model closes roads, reroutes, routes help and saves its state", "[traffic][integration]") {
  Grid g;
  auto o = g.options();
  o.kind = TrafficModelKind::mesoscopic;
  TrafficModel model(o);
  model.step_to(120.0);
  // Vehicles are on edges, at map positions on their edge's shape.
  const auto vehicles = model.vehicles();
  REQUIRE(!vehicles.empty());
  int on_edges = 0;
  for (const auto& v : vehicles) {
    const auto* edge = model.network().find_edge(v.edge_id);
    if (!edge) continue;
    ++on_edges;
    CHECK(distance_to_edge_m(*edge, v.position) < 8.0);
  }
  CHECK(on_edges > 0);
  CHECK(model.edge_state("A1B1").vehicles + model.edge_state("B1C1").vehicles > 0);

  // Emergency routing: the closure makes the way longer.
  const Row1Access access = row1_access(model);
  const double open_s = model.emergency_access(access.stations, access.zones).travel_time_s[0][0];
  REQUIRE(std::isfinite(open_s));

  model.set_edge_access("B1C1", Access::closed);
  const double closed_s = model.emergency_access(access.stations, access.zones).travel_time_s[0][0];
  INFO("open " << open_s << " s, closed " << closed_s << " s");
  CHECK(closed_s > open_s + 20.0);
  const AfterClosure after = run_after_closure(model, "B1C1", 700.0);
  CHECK(after.entered.empty());
  CHECK(after.arrived > 50);

  // A vehicle taken out of the traffic is gone.
  model.set_edge_access("B1C1", Access::open);
  model.dispatch_emergency("vsav1", "A1B1", "C1D1");
  model.step_to(710.0);
  model.remove_vehicle("vsav1");
  model.step();
  for (const auto& v : model.vehicles()) CHECK(v.id != "vsav1");

  const auto state_file = g.dir / "meso-state.xml";
  model.save_state(state_file);
  model.step_to(800.0);
  model.load_state(state_file);
  CHECK(model.time_s() == Approx(711.0));
}

TEST_CASE("light actions: program switch, phase, power cut, flashing", "[traffic][integration]") {
  Grid g;
  std::string state0;
  cadereau::twin::TrafficLight b1;
  {
    TrafficModel plain(g.options());
    state0 = plain.light_state("B1");
    b1 = *plain.network().find_traffic_light("B1");
  }
  REQUIRE(b1.phases.size() >= 3);
  // A second program for B1, loaded beside the network's "0".
  const auto add = g.dir / "all_red.add.xml";
  write_text(add, "<additional><tlLogic id=\"B1\" type=\"static\" programID=\"all_red\" offset=\"0\">"
                  "<phase duration=\"60\" state=\"" + std::string(state0.size(), 'r') + "\"/></tlLogic></additional>\n");
  auto o = g.options();
  o.additionals = {add};
  TrafficModel model(o);
  // SUMO activates the last loaded program.
  CHECK(model.light_program("B1") == "all_red");
  model.set_light_program("B1", "0");
  model.step();
  CHECK(model.light_program("B1") == "0");
  model.set_light_phase("B1", 2);
  model.step();
  CHECK(model.light_phase("B1") == 2);
  CHECK(model.light_state("B1") == b1.phases[2].state);
  model.set_light_program("B1", "all_red");
  model.step();
  CHECK(model.light_state("B1") == std::string(state0.size(), 'r'));
  model.set_light_off("B1");
  model.step();
  CHECK(model.light_state("B1").find_first_not_of("oO") == std::string::npos);
  model.set_light_flashing("B1");
  model.step();
  CHECK(model.light_state("B1") == std::string(state0.size(), 'o'));
  model.restore_light("B1");
  model.step();
  CHECK(model.light_program("B1") == "all_red");
  CHECK_THROWS_WITH(model.set_light_program("B1", "nope"), Catch::Contains("no program 'nope'"));
  CHECK_THROWS_WITH(model.set_light_program("Z9", "0"), Catch::Contains("unknown traffic light 'Z9'"));
  CHECK_THROWS_AS(model.set_light_phase("B1", 99), Error);
}

TEST_CASE("emergency travel time rises when the direct road is closed", "[traffic][integration]") {
  Grid g;
  TrafficModel model(g.options());
  model.step_to(60.0);
  const auto [stations, zones] = row1_access(model);
  const auto open = model.emergency_access(stations, zones);
  REQUIRE(open.travel_time_s.size() == 1);
  CHECK(open.origin_edges[0] == "A1B1");
  CHECK(open.destination_edges[0] == "C1D1");
  const double open_s = open.travel_time_s[0][0];
  REQUIRE(std::isfinite(open_s));

  // Closed to all but emergency vehicles: the ambulance still takes it.
  model.set_edge_access("B1C1", Access::emergency_only);
  const double emergency_only_s = model.emergency_access(stations, zones).travel_time_s[0][0];
  CHECK(emergency_only_s == Approx(open_s).margin(1.0));
  auto car = model.route("A1B1", "C1D1", "passenger");
  REQUIRE(car);
  CHECK(std::find(car->edges.begin(), car->edges.end(), "B1C1") == car->edges.end());

  // Closed to all: a detour round the block, at least 2 x 200 m longer.
  model.set_edge_access("B1C1", Access::closed);
  const double closed_s = model.emergency_access(stations, zones).travel_time_s[0][0];
  INFO("open " << open_s << " s, closed " << closed_s << " s");
  CHECK(closed_s > open_s + 20.0);

  // A dispatched emergency vehicle arrives and reports its travel time.
  model.dispatch_emergency("vsav1", "A1B1", "C1D1");
  model.step_to(400.0);
  REQUIRE(model.emergency_trips().size() == 1);
  REQUIRE(model.emergency_trips()[0].travel_time_s());
  CHECK(*model.emergency_trips()[0].travel_time_s() > 20.0);
}

TEST_CASE("save and restore the SUMO state", "[traffic][integration]") {
  Grid g;
  TrafficModel model(g.options());
  model.step_to(100.0);
  const auto state_file = g.dir / "state.xml";
  model.save_state(state_file);
  const auto at_save = model.vehicles().size();
  model.step_to(250.0);
  model.load_state(state_file);
  CHECK(model.time_s() == Approx(100.0));
  CHECK(model.vehicles().size() == at_save);
  model.step_to(110.0);
  CHECK(model.time_s() == Approx(110.0));
}

TEST_CASE("bollards and speed limits", "[traffic][integration]") {
  Grid g;
  TrafficModel model(g.options());
  model.step_to(30.0);
  model.lower_bollard("B1C1", {"emergency"});
  CHECK(!model.route("A1B1", "C1D1", "passenger")->edges.empty());
  CHECK(model.route("A1B1", "C1D1", "passenger")->length_m > 700.0);
  CHECK(model.route("A1B1", "C1D1", "emergency")->length_m < 650.0);
  model.raise_bollard("B1C1");
  CHECK(model.route("A1B1", "C1D1", "passenger")->length_m < 650.0);
  model.set_speed_limit("A1B1", 5.0);
  model.step_to(200.0);
  for (const auto& v : model.vehicles_on_edge("A1B1")) CHECK(v.speed_m_s <= 5.0 * 1.3);
  model.restore_speed_limit("A1B1");
  CHECK_THROWS_AS(model.set_speed_limit("A1B1", -1.0), Error);
}

TEST_CASE("bad input gets a clear error", "[traffic][unit]") {
  Grid g;
  SECTION("unknown ids") {
    TrafficModel model(g.options());
    CHECK_THROWS_WITH(model.set_edge_access("nowhere", Access::closed), Catch::Contains("unknown edge 'nowhere'"));
    CHECK_THROWS_WITH(model.set_lane_access("nowhere_0", Access::closed), Catch::Contains("unknown lane 'nowhere_0'"));
    CHECK_THROWS_WITH(model.light_state("nolight"), Catch::Contains("unknown traffic light 'nolight'"));
    CHECK_THROWS_WITH(model.route("A1B1", "nowhere"), Catch::Contains("unknown edge 'nowhere'"));
    // One simulation per process.
    CHECK_THROWS_WITH(TrafficModel(g.options()), Catch::Contains("already running"));
  }
  SECTION("a network that does not load") {
    const auto broken = g.dir / "broken.net.xml";
    write_text(broken, "<net><edge id=\"a\"");
    auto o = g.options();
    o.net = broken;
    CHECK_THROWS_WITH(TrafficModel(o), Catch::Contains("broken.net.xml"));
    o.net = g.dir / "missing.net.xml";
    CHECK_THROWS_WITH(TrafficModel(o), Catch::Contains("no such network file"));
    CHECK(!TrafficModel::running());
  }
  SECTION("a route file SUMO refuses") {
    auto o = g.options();
    const auto bad = g.dir / "bad.rou.xml";
    write_text(bad, "<routes><vehicle id=\"x\" depart=\"0\"><route edges=\"A1B1 nowhere\"/></vehicle></routes>\n");
    o.routes = {bad};
    // Refused before SUMO starts (which would drop the vehicle under
    // --ignore-route-errors, or fail naming the network): the route file,
    // its line, the vehicle and the edge are named.
    CHECK_THROWS_WITH(TrafficModel(o), Catch::Contains("bad.rou.xml:1") && Catch::Contains("vehicle 'x'") &&
                                           Catch::Contains("'nowhere'"));
    CHECK(!TrafficModel::running());
    // A vehicle type SUMO does not know: its message names no file; the
    // route file is blamed, not the network.
    write_text(bad, "<routes><vehicle id=\"x\" type=\"lorry\" depart=\"0\"><route edges=\"A1B1\"/></vehicle></routes>\n");
    try {
      TrafficModel model(o);
      model.step_to(10.0);
      CHECK(model.departed_total() == 0);
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::StartsWith(bad.string()) && Catch::Contains("SUMO did not start"));
    }
    CHECK(!TrafficModel::running());
  }
}

// --- live counts ------------------------------------------------------------
// Row 1 carries 300 veh/h from A1B1 to C1D1 through B1C1, the counted edge.
namespace {

struct CountedGrid : Grid {
  std::filesystem::path demand = dir / "counted.rou.xml";
  CountedGrid() {
    write_text(demand, R"(<routes>
  <vType id="car" accel="2.6" decel="4.5" sigma="0.5" length="5" maxSpeed="16"/>
  <flow id="east" type="car" begin="0" end="3000" vehsPerHour="300" from="A1B1" to="C1D1" departSpeed="max" departLane="best"/>
</routes>
)");
  }
  TrafficOptions options() const {
    auto o = Grid::options();
    o.routes = {demand};
    o.counted_edges = {"B1C1"};
    return o;
  }
};

// Vehicles entering an edge over [from_s, to_s), seen after each step, as
// a counter at the edge would count them (veh/h).
double entering_flow_veh_per_h(TrafficModel& model, const std::string& edge_id, double from_s, double to_s) {
  model.step_to(from_s);
  std::set<std::string> seen;
  for (const auto& v : model.vehicles_on_edge(edge_id)) seen.insert(v.id);
  long entered = 0;
  while (model.time_s() + 1e-6 < to_s) {
    model.step();
    for (const auto& v : model.vehicles_on_edge(edge_id))
      if (seen.insert(v.id).second) ++entered;
  }
  return entered * 3600.0 / (to_s - from_s);
}

}  // namespace

TEST_CASE("a counted edge follows the observed flow up and down", "[traffic][integration]") {
  CountedGrid g;
  TrafficModel model(g.options());
  // Uncalibrated, the edge carries the demand: far from either target below,
  // so the bounds there cannot pass without the calibrator.
  const double demand_veh_per_h = entering_flow_veh_per_h(model, "B1C1", 60.0, 660.0);
  INFO("uncalibrated " << demand_veh_per_h << " veh/h");
  CHECK(demand_veh_per_h == Approx(300.0).epsilon(0.2));
  CHECK(model.count_following("B1C1").inserted == 0);
  CHECK(!model.count_following("B1C1").target_veh_per_h);

  SECTION("a higher count adds vehicles on the routes seen there") {
    const auto window = model.follow_count("B1C1", 600.0, std::nullopt, 900.0);
    CHECK(window.end_s - window.begin_s == Approx(900.0));
    CHECK(window.begin_s >= model.time_s());
    CHECK(window.begin_s <= model.time_s() + 30.0);
    const double followed = entering_flow_veh_per_h(model, "B1C1", window.begin_s, window.end_s);
    const auto report = model.count_following("B1C1");
    INFO("followed " << followed << " veh/h; inserted " << report.inserted << ", removed " << report.removed
                     << ", passed " << report.passed);
    CHECK(followed == Approx(600.0).epsilon(0.1));
    CHECK(report.inserted > 50);
    CHECK(report.removed == 0);
    // The added vehicles drive the route seen on the edge, to C1D1.
    long arrived_added = 0;
    while (model.time_s() < window.end_s + 300.0) {
      model.step();
      for (const auto& id : model.arrived_last_step()) arrived_added += id.rfind("cadereau_count_B1C1.", 0) == 0;
    }
    CHECK(arrived_added > 0);
    // After the window the calibrator only watches.
    CHECK(!model.count_following("B1C1").target_veh_per_h);
  }
  SECTION("a lower count takes vehicles off") {
    const auto window = model.follow_count("B1C1", 120.0, std::nullopt, 900.0);
    CHECK(model.count_following("B1C1").target_veh_per_h.value_or(-1.0) == Approx(120.0));
    const double followed = entering_flow_veh_per_h(model, "B1C1", window.begin_s, window.end_s);
    const auto report = model.count_following("B1C1");
    INFO("followed " << followed << " veh/h; inserted " << report.inserted << ", removed " << report.removed);
    CHECK(followed == Approx(120.0).epsilon(0.15));
    CHECK(report.removed > 20);
    CHECK(report.inserted == 0);
    // Removed vehicles leave the books as arrivals.
    CHECK(model.departed_total() - model.arrived_total() == static_cast<long>(model.vehicles().size()));
  }
  SECTION("an observed speed caps the edge for the window, then lifts") {
    const double limit_m_s = model.network().find_edge("B1C1")->speed_m_s();
    const auto window = model.follow_count("B1C1", 300.0, 5.0, 300.0);
    auto fastest_on_edge_m_s = [&](double until_s) {
      double fastest_m_s = 0.0;
      while (model.time_s() < until_s) {
        model.step();
        for (const auto& v : model.vehicles_on_edge("B1C1")) fastest_m_s = std::max(fastest_m_s, v.speed_m_s);
      }
      return fastest_m_s;
    };
    // Vehicles already on the edge need a few seconds to brake.
    model.step_to(window.begin_s + 20.0);
    const double capped_m_s = fastest_on_edge_m_s(window.end_s);
    const double lifted_m_s = fastest_on_edge_m_s(window.end_s + 300.0);
    INFO("fastest on B1C1: " << capped_m_s << " m/s capped, " << lifted_m_s << " m/s after");
    CHECK(capped_m_s > 1.0);
    CHECK(capped_m_s <= 5.0 * 1.3);
    CHECK(lifted_m_s > 8.0);
    CHECK(lifted_m_s <= limit_m_s * 1.3);
  }
}

TEST_CASE("live counts: bad input gets a clear error", "[traffic][unit]") {
  CountedGrid g;
  SECTION("an unknown counted edge is refused before SUMO starts") {
    auto o = g.options();
    o.counted_edges = {"B1C1", "nowhere"};
    CHECK_THROWS_WITH(TrafficModel(o), Catch::Contains("counted edge 'nowhere' is not in the network"));
    CHECK(!TrafficModel::running());
  }
  SECTION("counts on a counted edge must make sense") {
    TrafficModel model(g.options());
    model.step_to(30.0);
    CHECK_THROWS_WITH(model.follow_count("B1C1", -10.0, std::nullopt, 300.0),
                      Catch::Contains("B1C1") && Catch::Contains("flow must be"));
    CHECK_THROWS_WITH(model.follow_count("B1C1", std::nan(""), std::nullopt, 300.0), Catch::Contains("B1C1"));
    CHECK_THROWS_WITH(model.follow_count("B1C1", INFINITY, std::nullopt, 300.0), Catch::Contains("B1C1"));
    CHECK_THROWS_WITH(model.follow_count("B1C1", 300.0, -1.0, 300.0), Catch::Contains("speed must be positive"));
    CHECK_THROWS_WITH(model.follow_count("B1C1", 300.0, std::nullopt, 0.0), Catch::Contains("window must be positive"));
    CHECK_THROWS_WITH(model.follow_count("C1D1", 300.0, std::nullopt, 300.0), Catch::Contains("'C1D1' has no counter"));
    CHECK_THROWS_WITH(model.follow_count("nowhere", 300.0, std::nullopt, 300.0), Catch::Contains("unknown edge 'nowhere'"));
    CHECK_THROWS_WITH(model.count_following("nowhere"), Catch::Contains("unknown edge 'nowhere'"));
    // Still usable after refusals.
    model.follow_count("B1C1", 300.0, std::nullopt, 300.0);
    model.step_to(60.0);
  }
}

// ---------------------------------------------------------------------------
// Benchmark (opt-in: traffic_tests "[.benchmark]"): libsumo in-process, with
// the twin reading the per-edge state every 10 s exchange step and the
// departures/arrivals every step, against the plain `sumo` binary on the same
// network, demand and options. Bologna "joined" (about 11,000 vehicles) from
// CADEREAU_SHARED_DATA (default ../shared/data) and the demo territory's
// morning peak from CADEREAU_TEST_TERRITORY when set.
namespace {

// Wall time, and processor time of this process and the children it waited
// for (the plain sumo run): on a shared machine the processor time is the
// steadier figure.
struct Timing {
  double wall_s = 0.0;
  double cpu_s = 0.0;
};

double cpu_seconds() {
  double total = 0.0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage u{};
    getrusage(who, &u);
    total += u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
  return total;
}

Timing timing_of(const std::function<void()>& f) {
  const double cpu0_s = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), cpu_seconds() - cpu0_s};
}

void compare_with_plain_sumo(const std::string& name, const TrafficOptions& o) {
  TempDir tmp;
  std::string cmd = "sumo -n '" + o.net.string() + "' --seed " + std::to_string(o.seed) +
                    " --xml-validation never --no-step-log true --no-warnings true --duration-log.disable true"
                    " --ignore-route-errors true";
  std::string routes, adds;
  for (const auto& r : o.routes) routes += (routes.empty() ? "" : ",") + r.string();
  for (const auto& a : o.additionals) adds += (adds.empty() ? "" : ",") + a.string();
  if (!routes.empty()) cmd += " -r '" + routes + "'";
  if (!adds.empty()) cmd += " -a '" + adds + "'";
  cmd += " --tripinfo-output '" + (tmp / "plain.tripinfo.xml").string() + "'";
  for (const auto& x : o.extra_sumo_options) cmd += " " + x;
  const Timing plain = timing_of([&] { run_tool(cmd, tmp / "plain.log"); });

  // The twin reading every edge, a tenth of them (what a flood coupling
  // watches), or none (libsumo's own cost).
  enum class Reads { all, tenth, none };
  auto run_libsumo = [&](Reads reads, long& arrived, double& sim_s) {
    auto lo = o;
    lo.tripinfo_output = tmp / "libsumo.tripinfo.xml";
    return timing_of([&] {
      TrafficModel model(lo);
      std::vector<std::size_t> watched;
      for (std::size_t i = 0; i < model.network().edges().size(); i += 10) watched.push_back(i);
      double sum_tt = 0.0;
      // Until the demand has left the network, as the plain binary does.
      while (model.expected_vehicles() > 0) {
        model.step_to(model.time_s() + 10.0);
        if (reads == Reads::all)
          for (const auto& s : model.edge_states()) sum_tt += s.travel_time_s;
        if (reads == Reads::tenth)
          for (const auto& s : model.edge_states(watched)) sum_tt += s.travel_time_s;
      }
      sim_s = model.time_s() - o.begin_s;
      arrived = model.arrived_total();
      CHECK((reads == Reads::none || sum_tt > 0.0));
    });
  };
  long arrived = 0;
  double sim_s = 0.0;
  const Timing all = run_libsumo(Reads::all, arrived, sim_s);
  const Timing tenth = run_libsumo(Reads::tenth, arrived, sim_s);
  const Timing none = run_libsumo(Reads::none, arrived, sim_s);
  auto line = [&](const char* what, const Timing& t) {
    return fmt::format("  {:<26} wall {:6.1f} s (ratio {:.3f}), processor {:6.1f} s (ratio {:.3f})\n", what, t.wall_s,
                       t.wall_s / plain.wall_s, t.cpu_s, t.cpu_s / plain.cpu_s);
  };
  std::cout << fmt::format("{}: {:.0f} sim s, {} arrivals; libsumo twin reading edge states every 10 s\n", name, sim_s,
                           arrived)
            << line("plain sumo", plain) << line("libsumo, all edges", all) << line("libsumo, a tenth of edges", tenth)
            << line("libsumo, no edge", none);
  CHECK(arrived > 0);
}

}  // namespace

TEST_CASE("libsumo twin vs plain sumo: Bologna and the demo territory", "[.benchmark][traffic]") {
  const char* shared = std::getenv("CADEREAU_SHARED_DATA");
  const std::filesystem::path data = std::filesystem::path(shared ? shared : "../shared/data") / "traffic" / "bologna-joined";
  if (std::filesystem::exists(data / "joined_buslanes.net.xml")) {
    // A writable copy: its detectors write their output beside their file.
    TempDir copy;
    for (const auto& entry : std::filesystem::directory_iterator(data))
      std::filesystem::copy_file(entry.path(), copy / entry.path().filename().string());
    const std::filesystem::path& bologna = copy.path();
    TrafficOptions o;
    o.net = bologna / "joined_buslanes.net.xml";
    o.routes = {bologna / "joined.rou.xml", bologna / "joined_busses.rou.xml"};
    o.additionals = {bologna / "joined_bus_stops.add.xml", bologna / "joined_detectors.add.xml",
                     bologna / "joined_vtypes.add.xml", bologna / "joined_tls.add.xml"};
    o.rerouting_probability = 0.0;  // the plain run has no rerouting device either
    compare_with_plain_sumo("bologna-joined", o);
  } else {
    WARN("no Bologna scenario at " << data.string());
  }
  if (auto territory = cadereau::testing::demo_territory()) {
    const auto net = *territory / "network.net.xml";
    std::vector<std::filesystem::path> demand;
    for (const auto& entry : std::filesystem::directory_iterator(*territory))
      if (entry.path().string().find(".rou.xml") != std::string::npos) demand.push_back(entry.path());
    if (std::filesystem::exists(net) && !demand.empty()) {
      TrafficOptions o;
      o.net = net;
      o.routes = demand;
      o.rerouting_probability = 0.0;
      compare_with_plain_sumo("demo territory morning peak", o);
    }
  }
}
