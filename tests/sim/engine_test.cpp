#include "cadereau/sim/engine/engine.h"
#include "cadereau/sim/traffic/traffic_model.h"
#include "cadereau/twin/error.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

using namespace cadereau;
using namespace cadereau::sim;
using cadereau::testing::demo_territory;
using cadereau::testing::write_text;

namespace {

const twin::Territory& territory() {
  static const twin::Territory t = twin::Territory::load(*demo_territory());
  return t;
}

const twin::Sensor& sensor(const std::string& id) {
  for (const auto& s : territory().sensors)
    if (s.id == id) return s;
  FAIL("no sensor " << id);
  throw;
}

// The cadereau d'Uzès in flood where it leaves the garrigue, from 07:30.
engine::EngineSetup uzes_flood(double duration_s, double peak_m3_s = 220.0) {
  engine::EngineSetup s;
  s.duration_s = duration_s;
  s.traffic_begin_s = 27000.0;
  flood::PointInflow in;
  in.label = "cadereau d'Uzès";
  in.location = sensor("lg-uzes-amont").location;
  in.discharge_m3_s = flood::TimeSeries({0.0, 600.0}, {0.0, peak_m3_s});
  s.inflows.push_back(in);
  s.flood_threads = 1;
  return s;
}

std::vector<std::string> describe_all(const impact::ImpactLog& log) {
  std::vector<std::string> out;
  for (const auto& i : log.all()) out.push_back(impact::ImpactLog::describe(i));
  return out;
}

}  // namespace

TEST_CASE("Water on a road closes it, catches the cars on it and traffic goes around", "[engine]") {
  if (!demo_territory()) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  engine::Engine run(territory(), uzes_flood(1200.0));
  const auto& net = *territory().network;
  // Vehicles on each closed edge when it closed: they were stopped there.
  std::map<std::size_t, std::set<std::string>> caught;
  while (run.time_s() < 1200.0) {
    run.advance_to(run.time_s() + 60.0);
    for (std::size_t e : run.closed_edges()) {
      const auto now = run.traffic()->vehicles_on_edge(net.edges()[e].id);
      auto [it, fresh] = caught.try_emplace(e);
      if (fresh) {
        for (const auto& v : now) it->second.insert(v.id);
        continue;
      }
      // Nobody drives onto a closed road after its closure.
      for (const auto& v : now) CHECK(it->second.count(v.id) == 1);
    }
  }
  const auto& log = run.log();
  const impact::Impact* closed = nullptr;
  for (const auto& i : log.all())
    if (i.kind == impact::kind::road_closed) {
      closed = &i;
      break;
    }
  REQUIRE(closed != nullptr);
  INFO(impact::ImpactLog::describe(*closed));
  CHECK(run.closed_edges().size() >= 5);
  const auto chain = log.chain(closed->id);
  REQUIRE(chain.size() >= 2);
  CHECK(chain.front()->kind == impact::kind::water);
  CHECK(chain.back()->kind == impact::kind::inflow);
  CHECK(chain.back()->target == "cadereau d'Uzès");
  // Traffic still flows through the town.
  CHECK(run.vehicles_arrived() > 500);
  CHECK(run.timings().flood_s > 0.0);
  CHECK(run.timings().traffic_s > 0.0);
}

TEST_CASE("A flooded substation turns off the lights it feeds", "[engine]") {
  if (!demo_territory()) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  const twin::Asset* sub = territory().find_asset("sub-vistre");
  REQUIRE(sub != nullptr);
  auto setup = uzes_flood(600.0, 0.0);
  flood::PointInflow onto;
  onto.label = "test pour";
  onto.location = sub->location;
  onto.discharge_m3_s = flood::TimeSeries::constant(30.0);
  setup.inflows = {onto};
  setup.traffic = true;
  engine::Engine run(territory(), setup);
  run.run();
  const auto i = *run.impacts().asset_index("sub-vistre");
  CHECK(run.impacts().status(i) == impact::AssetStatus::out_of_service);
  int lights_dark = 0;
  for (const auto& a : territory().assets) {
    if (a.type != twin::AssetType::traffic_signal || a.depends_on.empty() || a.depends_on[0] != "sub-vistre") continue;
    CHECK(run.traffic()->light_program(a.tls_id) == "off");
    ++lights_dark;
  }
  CHECK(lights_dark > 0);
  // The pumping station on the same substation keeps running on its 30 min backup.
  const auto pump = *run.impacts().asset_index("pump-vistre");
  CHECK(run.impacts().status(pump) == impact::AssetStatus::on_backup);
}

TEST_CASE("Same setup and seed, same impacts", "[engine]") {
  if (!demo_territory()) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  std::vector<std::string> first;
  {
    engine::Engine run(territory(), uzes_flood(600.0));
    run.run();
    first = describe_all(run.log());
  }
  engine::Engine again(territory(), uzes_flood(600.0));
  again.run();
  CHECK(first.size() > 3);
  CHECK(describe_all(again.log()) == first);
}

TEST_CASE("Police closures and bad actions", "[engine]") {
  if (!demo_territory()) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  const std::string edge = territory().network->edges().front().id;
  auto setup = uzes_flood(120.0, 0.0);
  setup.actions = {{60.0, "close_road", edge, 0.0, "", "police", "scenario.yaml:12"}};
  {
    engine::Engine run(territory(), setup);
    run.run();
    const auto closed = run.closed_edges();
    REQUIRE(closed.size() == 1);
    const auto& last = run.log().all().back();
    CHECK(last.kind == impact::kind::road_closed);
    CHECK(last.t_s == 60.0);
    CHECK(run.log().chain(last.id).front()->detail == "close_road by police");
  }
  setup.actions[0].verb = "flood_the_city";
  CHECK_THROWS_WITH(engine::Engine(territory(), setup),
                    Catch::Contains("scenario.yaml:12") && Catch::Contains("unknown action 'flood_the_city'"));
  setup.actions[0].verb = "close_road";
  setup.actions[0].target = "no-such-edge";
  CHECK_THROWS_WITH(engine::Engine(territory(), setup), Catch::Contains("no road edge 'no-such-edge'"));
  setup.actions[0].target = edge;
  setup.actions[0].t_s = 500.0;
  CHECK_THROWS_WITH(engine::Engine(territory(), setup), Catch::Contains("outside the run"));
}

TEST_CASE("Engine timing breakdown", "[.engine-timing]") {
  const double peak = std::getenv("PEAK") ? std::atof(std::getenv("PEAK")) : 220.0;
  engine::Engine run(territory(), uzes_flood(1200.0, peak));
  run.run();
  const auto& t = run.timings();
  WARN("flood " << t.flood_s << " traffic " << t.traffic_s << " coupling " << t.coupling_s << " access " << t.access_s
                << " impacts " << t.impacts_s << " total " << t.total_s << " records " << run.log().size());
}

TEST_CASE("A forecast resumes from a saved state and predicts the same flood impacts", "[engine]") {
  if (!demo_territory()) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
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
    engine::Engine run(territory(), uzes_flood(900.0));
    run.run();
    straight = water_driven(run.log(), 450.0);
  }
  cadereau::testing::TempDir tmp;
  std::size_t saved_records = 0;
  {
    engine::Engine run(territory(), uzes_flood(900.0));
    run.advance_to(450.0);
    run.save_state(tmp / "state");
    saved_records = run.log().size();
  }
  auto setup = uzes_flood(900.0);
  setup.resume_from = tmp / "state";
  {
    engine::Engine forecast(territory(), setup);
    CHECK(forecast.time_s() == 450.0);
    CHECK(forecast.log().size() == saved_records);  // the history comes along
    forecast.run();
    REQUIRE(straight.size() > 5);
    CHECK(water_driven(forecast.log(), 450.0) == straight);
    CHECK(forecast.vehicles_arrived() > 100);  // the traffic ran on
  }

  // A state that does not fit is refused, naming the file.
  write_text(tmp / "bad" / "engine.json", "{\"format\": \"something else\"}");
  setup.resume_from = tmp / "bad";
  CHECK_THROWS_WITH(engine::Engine(territory(), setup), Catch::Contains("bad") && Catch::Contains("format"));
  setup.resume_from = tmp / "missing";
  CHECK_THROWS_WITH(engine::Engine(territory(), setup), Catch::Contains("engine.json"));
}
