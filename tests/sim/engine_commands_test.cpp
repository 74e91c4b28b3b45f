// Commands to a running engine: submitted from another thread, applied at the
// next exchange step, recorded with the time they took effect, and re-fed to
// take a run along the same course.
#include "cadereau/sim/engine/engine.h"
#include "cadereau/sim/traffic/traffic_model.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"
#include "small_town.h"
#include "test_support.h"

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <map>

#include <cmath>
#include <tuple>
#include <thread>

using namespace cadereau;
using namespace cadereau::sim;
using cadereau::testing::SmallTown;

namespace {

std::vector<std::string> describe_all(const impact::ImpactLog& log) {
  std::vector<std::string> out;
  for (const auto& i : log.all()) out.push_back(impact::ImpactLog::describe(i));
  return out;
}

engine::TimedAction close(const std::string& edge, double t_s) {
  engine::TimedAction a;
  a.t_s = t_s;
  a.verb = engine::Verb::close_road;
  a.target = edge;
  a.by = "police";
  return a;
}

// A rain gauge in the middle of the small town.
void add_rain_gauge(twin::Territory& territory) {
  territory.sensors.push_back({"rg-town", "Town rain gauge", twin::SensorKind::rain_gauge, {300.0, 300.0}, "", ""});
}

// The channel's flow doubled to 40 m3/s from t_s on.
engine::ForcingChange channel_rises(double from_s) {
  engine::ForcingChange f;
  f.kind = engine::ForcingChange::Kind::inflow;
  f.target = "channel";
  f.from_s = from_s;
  f.series = flood::TimeSeries::constant(40.0);
  f.by = "director";
  return f;
}

// The channel's flow raised to 150 m3/s from t_s on: the town floods beyond the channel.
engine::ForcingChange channel_floods(double from_s) {
  auto f = channel_rises(from_s);
  f.series = flood::TimeSeries::constant(150.0);
  return f;
}

}  // namespace

TEST_CASE("Commands submitted from another thread take effect at the next exchange and are recorded",
          "[integration][engine]") {
  SmallTown town;
  add_rain_gauge(town.territory);
  cadereau::testing::TempDir tmp;
  auto setup = SmallTown::channel_flood(600.0);
  setup.recording = tmp / "run.h5";
  engine::Engine run(town.territory, setup);
  run.advance_to(120.0);
  // From the server's thread: a closure due later, one already past, the
  // channel rising, a gauge reading.
  std::thread server([&] {
    run.submit(close("A1B1", 300.0));
    run.submit(close("D2C2", 30.0));
    run.submit(channel_rises(200.0));
    run.submit(engine::Observation{"rg-town", 115.0, 4.2, "mqtt"});
  });
  server.join();
  run.run();

  const auto& log = run.log().all();
  auto find = [&](const std::string& kind, const std::string& target) {
    return std::find_if(log.begin(), log.end(), [&](const impact::Impact& i) { return i.kind == kind && i.target == target; });
  };
  const auto late = find(impact::kind::road_closed, "A1B1");
  REQUIRE(late != log.end());
  CHECK(late->t_s == 300.0);
  const auto past = find(impact::kind::road_closed, "D2C2");
  REQUIRE(past != log.end());
  CHECK(past->t_s == 130.0);  // the end of the exchange after it came in
  const auto rise = find(impact::kind::forcing_changed, "channel");
  REQUIRE(rise != log.end());
  CHECK(rise->t_s == 120.0);
  CHECK_THAT(rise->detail, Catch::Contains("40 m3/s from 0:03") && Catch::Contains("director"));
  // The change answers to the flow it replaced, and water that comes after
  // it answers to the change.
  REQUIRE(rise->causes.size() == 1);
  CHECK(run.log().at(rise->causes[0]).kind == impact::kind::inflow);
  for (const auto& i : log)
    if (i.kind == impact::kind::water && i.t_s > 200.0) {
      const auto chain = run.log().chain(i.id);
      CHECK(std::any_of(chain.begin(), chain.end(), [&](const impact::Impact* c) { return c->id == rise->id; }));
    }
  // Every drop is accounted for: 20 m3/s to 200 s, 40 after.
  CHECK(run.flood().mass_balance().inflow_m3 == Approx(20.0 * 200.0 + 40.0 * 400.0).epsilon(1e-6));

  // The recording gives back the submitted commands (not the setup's), each
  // at the time it took effect.
  const auto commands = engine::recorded_commands(twin::RecordingReader(tmp / "run.h5"));
  REQUIRE(commands.size() == 4);
  std::vector<std::tuple<std::string, double, double>> seen;
  for (const auto& [taken_s, c] : commands) {
    const auto* a = std::get_if<engine::TimedAction>(&c);
    seen.emplace_back(a ? a->target : c.index() == 1 ? "forcing" : "observation", taken_s, engine::command_time_s(c));
  }
  CHECK(seen == std::vector<std::tuple<std::string, double, double>>{{"observation", 120.0, 115.0},
                                                                     {"forcing", 120.0, 200.0},
                                                                     {"D2C2", 120.0, 130.0},
                                                                     {"A1B1", 120.0, 300.0}});
}

TEST_CASE("A run re-fed its recorded commands at their times takes the same course", "[integration][engine]") {
  SmallTown town;
  cadereau::testing::TempDir tmp;
  auto setup = SmallTown::channel_flood(600.0);
  setup.recording = tmp / "first.h5";
  std::vector<std::string> first;
  {
    engine::Engine run(town.territory, setup);
    run.advance_to(100.0);
    run.submit(channel_rises(150.0));
    run.advance_to(250.0);
    run.submit(close("A1B1", 0.0));  // as soon as possible
    run.run();
    first = describe_all(run.log());
  }
  const auto commands = engine::recorded_commands(twin::RecordingReader(tmp / "first.h5"));
  REQUIRE(commands.size() == 2);
  setup.recording = tmp / "again.h5";
  engine::Engine again(town.territory, setup);
  for (const auto& [taken_s, c] : commands) {
    again.advance_to(taken_s);
    again.submit(c);
  }
  again.run();
  CHECK(describe_all(again.log()) == first);
}

TEST_CASE("Bad commands are refused when submitted, by category", "[integration][engine]") {
  SmallTown town;
  add_rain_gauge(town.territory);
  engine::Engine run(town.territory, SmallTown::channel_flood(300.0));
  auto category = [&](engine::Command c) {
    try {
      run.submit(std::move(c));
    } catch (const Error& e) {
      return e.category();
    }
    FAIL("accepted");
    return ErrorCategory::internal;
  };
  CHECK(category(close("no-such-edge", 10.0)) == ErrorCategory::not_found);
  auto light = close("A1B1", 10.0);
  light.verb = engine::Verb::light_off;  // a road is no light
  CHECK(category(light) == ErrorCategory::not_found);
  CHECK(category(close("A1B1", 900.0)) == ErrorCategory::bad_input);  // past the end of the run
  auto unknown = channel_rises(100.0);
  unknown.target = "the Rhône";
  CHECK(category(unknown) == ErrorCategory::not_found);
  auto negative = channel_rises(100.0);
  negative.series = flood::TimeSeries({0.0, 100.0}, {10.0, -5.0});
  CHECK(category(negative) == ErrorCategory::bad_input);
  auto rain = channel_rises(100.0);
  rain.kind = engine::ForcingChange::Kind::rain;
  rain.target = "zone-x";
  CHECK(category(rain) == ErrorCategory::not_found);
  CHECK(category(engine::Observation{"no-such-sensor", 10.0, 1.0, "mqtt"}) == ErrorCategory::not_found);
  CHECK(category(engine::Observation{"rg-town", 10.0, std::nan(""), "mqtt"}) == ErrorCategory::bad_input);
  // Nothing refused reached the run.
  run.run();
  for (const auto& i : run.log().all()) CHECK(i.kind != impact::kind::action);
}

TEST_CASE("Rain everywhere can start part way through a run that had none", "[integration][engine]") {
  SmallTown town;
  auto setup = SmallTown::channel_flood(300.0);
  setup.traffic = false;
  engine::Engine run(town.territory, setup);
  run.advance_to(100.0);
  engine::ForcingChange rain;
  rain.kind = engine::ForcingChange::Kind::rain;
  rain.target = "territory";
  rain.from_s = 100.0;
  rain.series = flood::TimeSeries::constant(36.0);  // 1e-5 m/s
  run.submit(rain);
  run.run();
  const auto balance = run.flood().mass_balance();
  // 200 s of 36 mm/h on the 800 m x 800 m domain.
  CHECK(balance.rain_m3 == Approx(1e-5 * 200.0 * 800.0 * 800.0).epsilon(1e-3));
  CHECK(balance.error_rel() < 1e-9);
}

TEST_CASE("A recorded consequence names the event of its cause in the index", "[integration][engine]") {
  SmallTown town;
  cadereau::testing::TempDir tmp;
  auto setup = SmallTown::channel_flood(300.0);
  setup.recording = tmp / "run.h5";
  {
    engine::Engine run(town.territory, setup);
    run.run();
  }
  const twin::RecordingReader reader(tmp / "run.h5");
  const auto events = reader.events(0, reader.event_count());
  std::map<std::uint64_t, std::uint64_t> seq_of_record;  // record id -> event seq
  int checked = 0;
  for (const auto& e : events) {
    const auto payload = nlohmann::json::parse(e.payload, nullptr, false);
    if (payload.is_discarded() || !payload.contains("id") || !payload.contains("causes")) continue;
    seq_of_record[payload["id"].get<std::uint64_t>()] = e.seq;
    const auto& causes = payload["causes"];
    if (causes.empty()) {
      CHECK(e.cause_seq == 0);
    } else {
      CHECK(e.cause_seq == seq_of_record.at(causes[0].get<std::uint64_t>()));
      ++checked;
    }
  }
  CHECK(checked > 3);
}

TEST_CASE("A run resumed from a saved state goes on with the forcing changed before it", "[integration][engine]") {
  SmallTown town;
  const auto setup = SmallTown::channel_flood(900.0);
  // Water-driven records after 300 s (the cars after a reload of SUMO's state may differ).
  const auto water_after = [](const impact::ImpactLog& log) {
    std::vector<std::string> out;
    for (const auto& r : log.all())
      if (r.t_s > 300.0 && (r.kind == impact::kind::water || r.kind == impact::kind::inflow ||
                            r.kind == impact::kind::road_closed || r.kind == impact::kind::asset_failed))
        out.push_back(impact::ImpactLog::describe(r));
    return out;
  };
  std::vector<std::string> straight;
  {
    engine::Engine run(town.territory, setup);
    run.advance_to(100.0);
    run.submit(channel_floods(100.0));
    run.run();
    straight = water_after(run.log());
  }
  cadereau::testing::TempDir tmp;
  {
    engine::Engine run(town.territory, setup);
    run.advance_to(100.0);
    run.submit(channel_floods(100.0));
    run.advance_to(300.0);
    run.save_state(tmp / "state");
  }
  auto resumed_setup = setup;
  resumed_setup.resume = engine::read_engine_state(tmp / "state");
  engine::Engine resumed(town.territory, resumed_setup);
  resumed.run();
  REQUIRE_FALSE(straight.empty());
  const auto after = water_after(resumed.log());
  CHECK(after == straight);
  // The flood spread after the save in both.
  const auto says_inflow = [](const std::vector<std::string>& records) {
    return std::any_of(records.begin(), records.end(), [](const std::string& d) { return d.rfind("inflow", 0) == 0; });
  };
  CHECK(says_inflow(straight) == says_inflow(after));
}

TEST_CASE("A run resumed from a saved state keeps the light plans set before it and the actions still to come",
          "[integration][engine]") {
  SmallTown town;
  auto setup = SmallTown::channel_flood(600.0);
  cadereau::testing::TempDir tmp;
  {
    engine::Engine run(town.territory, setup);
    run.advance_to(100.0);
    engine::TimedAction dark;
    dark.t_s = 100.0;
    dark.verb = engine::Verb::light_off;
    dark.target = "B1";
    dark.by = "traffic";
    run.submit(dark);
    run.submit(close("A1B1", 450.0));  // taken now, due after the save
    run.advance_to(300.0);
    REQUIRE(run.traffic()->light_program("B1") == "off");
    run.save_state(tmp / "state");
  }
  setup.resume = engine::read_engine_state(tmp / "state");
  engine::Engine resumed(town.territory, setup);
  CHECK(resumed.traffic()->light_program("B1") == "off");
  resumed.run();
  const auto& closed = resumed.closed_edges();
  CHECK(std::any_of(closed.begin(), closed.end(),
                    [&](std::size_t e) { return town.territory.network->edges()[e].id == "A1B1"; }));
}
