#include "cadereau/sim/engine/engine.h"
#include "cadereau/sim/traffic/traffic_model.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/geometry.h"
#include "small_town.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

using namespace cadereau;
using namespace cadereau::sim;
using cadereau::testing::SmallTown;
using cadereau::testing::write_text;

namespace {

std::vector<std::string> describe_all(const impact::ImpactLog& log) {
  std::vector<std::string> out;
  for (const auto& i : log.all()) out.push_back(impact::ImpactLog::describe(i));
  return out;
}

// Nobody drives onto a closed road after its closure: `on_at_closure` keeps,
// for each closed edge, the vehicles on it when first seen closed, and every
// vehicle on it later must be one of them.
void check_nobody_enters_closed_roads(const engine::Engine& run,
                                      std::map<std::size_t, std::set<std::string>>& on_at_closure) {
  const auto& net = *run.territory().network;
  for (std::size_t e : run.closed_edges()) {
    const auto now = run.traffic()->vehicles_on_edge(net.edges()[e].id);
    auto [it, fresh] = on_at_closure.try_emplace(e);
    if (fresh) {
      for (const auto& v : now) it->second.insert(v.id);
      continue;
    }
    for (const auto& v : now) CHECK(it->second.count(v.id) == 1);
  }
}

}  // namespace

TEST_CASE("Water on a road closes it, catches the cars on it and traffic goes around", "[integration][engine]") {
  SmallTown town;
  const engine::EngineSetup setup = SmallTown::channel_flood(900.0);
  engine::Engine run(town.territory, setup);
  const auto& net = *town.territory.network;
  // Vehicles on each closed edge when it closed: they were stopped there.
  std::map<std::size_t, std::set<std::string>> caught;
  std::size_t looked = 0, water_records = 0;
  while (run.time_s() < setup.duration_s) {
    run.advance_to(run.time_s() + 10.0);  // one exchange step
    // A road's water is where the record puts it: on the road, where its depth is the one the record gives.
    for (; looked < run.log().size(); ++looked) {
      const impact::Impact& r = run.log().all()[looked];
      if (r.kind != impact::kind::water || r.t_s != run.time_s()) continue;
      const auto edge = std::find_if(net.edges().begin(), net.edges().end(), [&](const auto& e) { return e.id == r.target; });
      if (edge == net.edges().end()) continue;  // an asset's water
      ++water_records;
      const twin::MapPoint on_road = twin::nearest_on_polyline(edge->shape, r.place);
      CHECK(std::hypot(on_road.x_m - r.place.x_m, on_road.y_m - r.place.y_m) < 1e-6);
      const auto& grid = run.flood().grid();
      double depth = 0.0;  // the cells within half a metre of the place (it may lie on a cell's side)
      for (double dx : {-0.5, 0.5})
        for (double dy : {-0.5, 0.5})
          if (const auto cell = grid.cell_at({r.place.x_m + dx, r.place.y_m + dy}))
            depth = std::max(depth, run.flood().depth_m(grid.linear(*cell)));
      INFO(r.target << ": " << r.detail << " at " << r.place.x_m << ", " << r.place.y_m);
      CHECK(depth == Approx(std::stod(r.detail)).margin(0.0051));
    }
    check_nobody_enters_closed_roads(run, caught);
  }
  // The two northern crossings of the channel close, both ways; the southern ones stay open.
  std::set<std::string> closed;
  for (std::size_t e : run.closed_edges()) closed.insert(net.edges()[e].id);
  CHECK(closed == std::set<std::string>{"B2C2", "C2B2", "B3C3", "C3B3"});
  CHECK(water_records >= 4);
  const auto& log = run.log();
  const impact::Impact* first = nullptr;
  for (const auto& i : log.all())
    if (i.kind == impact::kind::road_closed) {
      first = &i;
      break;
    }
  REQUIRE(first != nullptr);
  const auto chain = log.chain(first->id);
  REQUIRE(chain.size() == 2);
  CHECK(chain[0]->kind == impact::kind::water);
  CHECK(chain[1]->kind == impact::kind::inflow);
  CHECK(chain[1]->target == "channel");
  // The westbound flow crossed at y = 400 m and now goes round by the
  // southern crossing: its cars still arrive.
  const long arrived_before = run.vehicles_arrived();
  CHECK(arrived_before > 100);
  CHECK(run.timings().flood_s > 0.0);
  CHECK(run.timings().traffic_s > 0.0);
}

TEST_CASE("With mesoscopic traffic the same water closes the same roads and traffic goes around", "[integration][engine]") {
  SmallTown town;
  engine::EngineSetup setup = SmallTown::channel_flood(900.0);
  setup.traffic_model = traffic::TrafficModelKind::mesoscopic;
  engine::Engine run(town.territory, setup);
  const auto& net = *town.territory.network;
  std::map<std::size_t, std::set<std::string>> on_at_closure;
  while (run.time_s() < setup.duration_s) {
    run.advance_to(run.time_s() + 10.0);
    check_nobody_enters_closed_roads(run, on_at_closure);
  }
  std::set<std::string> closed;
  for (std::size_t e : run.closed_edges()) closed.insert(net.edges()[e].id);
  CHECK(closed == std::set<std::string>{"B2C2", "C2B2", "B3C3", "C3B3"});
  CHECK(run.vehicles_arrived() > 100);
}

TEST_CASE("A flooded substation turns off the light it feeds and the pump runs on its backup", "[integration][engine]") {
  SmallTown town;
  const engine::EngineSetup setup = SmallTown::channel_flood(900.0);
  engine::Engine run(town.territory, setup);
  run.run();
  const auto& m = run.impacts();
  CHECK(m.status(*m.asset_index("sub")) == impact::AssetStatus::out_of_service);
  CHECK(m.status(*m.asset_index("light-C1")) == impact::AssetStatus::out_of_service);
  CHECK(run.traffic()->light_program("C1") == "off");
  CHECK(run.traffic()->light_program("B1") != "off");  // fed by nothing that failed
  CHECK(m.status(*m.asset_index("pump")) == impact::AssetStatus::on_backup);
  CHECK_FALSE(m.zone_has_power(0));
  // light failed <- substation failed <- water at the substation <- inflow.
  const impact::Impact* dark = nullptr;
  for (const auto& i : run.log().all())
    if (i.kind == impact::kind::asset_failed && i.target == "light-C1") dark = &i;
  REQUIRE(dark != nullptr);
  const auto chain = run.log().chain(dark->id);
  REQUIRE(chain.size() == 3);
  CHECK(chain[0]->target == "sub");
  CHECK(chain[1]->kind == impact::kind::water);
  CHECK(chain[2]->kind == impact::kind::inflow);
}

TEST_CASE("Same setup and seed, same impacts", "[integration][engine]") {
  SmallTown town;
  engine::EngineSetup setup = SmallTown::channel_flood(600.0);
  setup.flood_threads = 0;  // OpenMP's default: the result must not depend on it
  std::vector<std::string> first;
  {
    engine::Engine run(town.territory, setup);
    run.run();
    first = describe_all(run.log());
  }
  engine::Engine again(town.territory, setup);
  again.run();
  CHECK(first.size() > 5);
  CHECK(describe_all(again.log()) == first);
}

TEST_CASE("Police closures and bad actions", "[integration][engine]") {
  SmallTown town;
  engine::EngineSetup setup;
  setup.duration_s = 120.0;
  setup.actions = {{60.0, engine::Verb::close_road, "B1C1", 0.0, "", "police", "scenario.yaml:12"}};
  {
    engine::Engine run(town.territory, setup);
    run.run();
    const auto closed = run.closed_edges();
    REQUIRE(closed.size() == 1);
    CHECK(town.territory.network->edges()[closed[0]].id == "B1C1");
    const auto& last = run.log().all().back();
    CHECK(last.kind == impact::kind::road_closed);
    CHECK(last.t_s == 60.0);
    CHECK(run.log().chain(last.id).front()->detail == "close_road by police");
  }
  // Verbs are parsed where text comes in; an unknown one never gets this far.
  CHECK_FALSE(engine::parse_verb("flood_the_city"));
  CHECK(engine::parse_verb("close_road") == engine::Verb::close_road);
  for (const auto& name : engine::verb_names()) CHECK(engine::to_string(*engine::parse_verb(name)) == name);
  setup.actions[0].target = "no-such-edge";
  CHECK_THROWS_WITH(engine::Engine(town.territory, setup),
                    Catch::Contains("scenario.yaml:12") && Catch::Contains("no road edge 'no-such-edge'"));
  setup.actions[0].target = "B1C1";
  setup.actions[0].verb = engine::Verb::light_off;
  CHECK_THROWS_WITH(engine::Engine(town.territory, setup), Catch::Contains("no traffic light 'B1C1'"));
  setup.actions[0].verb = engine::Verb::close_road;
  setup.actions[0].target = "B1C1";
  setup.actions[0].t_s = 500.0;
  CHECK_THROWS_WITH(engine::Engine(town.territory, setup), Catch::Contains("outside the run"));
}

TEST_CASE("A forecast resumes from a saved state and predicts the same flood impacts", "[integration][engine]") {
  SmallTown town;
  const engine::EngineSetup base = SmallTown::channel_flood(900.0);
  // Records driven by the water alone; what the cars do after a reload of
  // SUMO's state may differ by a vehicle or two.
  auto water_driven = [](const impact::ImpactLog& log, double after_s) {
    std::vector<std::string> out;
    for (const auto& i : log.all())
      if (i.t_s > after_s && i.kind != impact::kind::people_at_risk && i.kind.rfind("zone_access", 0) != 0 &&
          i.kind != impact::kind::zone_unreachable && i.kind != impact::kind::asset_cut_off &&
          i.kind != impact::kind::asset_reachable)
        out.push_back(impact::ImpactLog::describe(i));
    return out;
  };
  std::vector<std::string> straight;
  {
    engine::Engine run(town.territory, base);
    run.run();
    straight = water_driven(run.log(), 120.0);
  }
  cadereau::testing::TempDir tmp;
  std::size_t saved_records = 0;
  {
    engine::Engine run(town.territory, base);
    run.advance_to(120.0);
    run.save_state(tmp / "state");
    saved_records = run.log().size();
  }
  auto setup = base;
  setup.resume = engine::read_engine_state(tmp / "state");
  {
    engine::Engine forecast(town.territory, setup);
    CHECK(forecast.time_s() == 120.0);
    CHECK(forecast.log().size() == saved_records);  // the history comes along
    forecast.run();
    REQUIRE(straight.size() > 5);
    CHECK(water_driven(forecast.log(), 120.0) == straight);
    CHECK(forecast.vehicles_arrived() > 50);  // the traffic ran on
  }

  // A state that does not fit is refused, naming the file.
  write_text(tmp / "bad" / "engine.json", "{\"format\": \"something else\"}");
  CHECK_THROWS_WITH(engine::read_engine_state(tmp / "bad"), Catch::Contains("bad") && Catch::Contains("format"));
  CHECK_THROWS_WITH(engine::read_engine_state(tmp / "missing"), Catch::Contains("engine.json"));
  // A water state cut short is refused, naming its file.
  std::filesystem::copy(tmp / "state", tmp / "cut");
  std::filesystem::resize_file(tmp / "cut" / "flood.bin", 1000);
  CHECK_THROWS_WITH(engine::read_engine_state(tmp / "cut"), Catch::Contains("flood.bin") && Catch::Contains("truncated"));
}
