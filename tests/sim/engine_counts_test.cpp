// Live traffic counts: with EngineSetup::follow_counts, a traffic counter's
// reading makes its edge carry the observed flow over the counting interval
// (SUMO's calibrator), says so in a record, and keeps working in a run
// resumed from a saved state; without it, or for a failed reading, the
// traffic goes its own way.
#include "cadereau/sim/engine/engine.h"
#include "cadereau/sim/traffic/traffic_model.h"
#include "cadereau/twin/error.h"
#include "small_town.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace cadereau;
using namespace cadereau::sim;
using cadereau::testing::SmallTown;

namespace {

// B1C1 carries the town's eastbound flow, 300 veh/h.
constexpr const char* kCountedEdge = "B1C1";

void add_counter(twin::Territory& territory) {
  twin::Sensor counter;
  counter.id = "tc-east";
  counter.name = "Eastbound count";
  counter.kind = twin::SensorKind::traffic_counter;
  counter.location = {300.0, 200.0};
  counter.edge_id = kCountedEdge;
  territory.sensors.push_back(counter);
}

// Dry streets (no inflow): the traffic alone, the flood on one thread.
engine::EngineSetup traffic_run(bool follow_counts) {
  engine::EngineSetup setup;
  setup.duration_s = 900.0;
  setup.flood_threads = 1;
  setup.follow_counts = follow_counts;
  return setup;
}

engine::Observation count(double t_s, double vehicles, std::optional<double> interval_s = 300.0) {
  engine::Observation o;
  o.sensor_id = "tc-east";
  o.t_s = t_s;
  o.value = vehicles;
  o.source = "mqtt";
  o.interval_s = interval_s;
  return o;
}

// The reading is taken at 300 s; its window opens within 30 s and lasts 300 s.
constexpr double kReadAt_s = 300.0;
constexpr double kMeasuredUntil_s = 660.0;

// Vehicles that entered the counted edge over [kReadAt_s, kMeasuredUntil_s].
long entered(engine::Engine& run, const std::vector<engine::Observation>& readings) {
  run.advance_to(kReadAt_s);
  const long before = run.traffic()->count_following(kCountedEdge).passed;
  for (const auto& r : readings) run.submit(r);
  run.advance_to(kMeasuredUntil_s);
  return run.traffic()->count_following(kCountedEdge).passed - before;
}

std::vector<const impact::Impact*> followed(const impact::ImpactLog& log) {
  std::vector<const impact::Impact*> out;
  for (const auto& r : log.all())
    if (r.kind == impact::kind::traffic_followed) out.push_back(&r);
  return out;
}

}  // namespace

TEST_CASE("A traffic counter's reading above the simulated flow makes its edge carry more vehicles",
          "[integration][engine][counts]") {
  SmallTown town;
  add_counter(town.territory);
  long unread = 0;
  {
    engine::Engine run(town.territory, traffic_run(true));
    unread = entered(run, {});
    CHECK(followed(run.log()).empty());
    CHECK(run.traffic()->count_following(kCountedEdge).inserted == 0);
  }
  // 100 vehicles in 300 s: 1200 veh/h, four times the demand.
  engine::Engine run(town.territory, traffic_run(true));
  const long read = entered(run, {count(kReadAt_s - 5.0, 100.0)});
  const double unread_veh_h = unread * 3600.0 / (kMeasuredUntil_s - kReadAt_s);
  const double read_veh_h = read * 3600.0 / (kMeasuredUntil_s - kReadAt_s);
  INFO("entering " << kCountedEdge << " over " << kReadAt_s << "-" << kMeasuredUntil_s << " s: " << unread
                   << " vehicles (" << unread_veh_h << " veh/h) without the reading, " << read << " (" << read_veh_h
                   << " veh/h) with it");
  CHECK(unread_veh_h == Approx(300.0).epsilon(0.25));
  // The window covers 300 of the 360 s measured: 1200 veh/h over it.
  CHECK(read > unread + 50);
  CHECK(read_veh_h == Approx((1200.0 * 300.0 + 300.0 * 60.0) / 360.0).epsilon(0.2));
  CHECK(run.traffic()->count_following(kCountedEdge).inserted > 50);

  const auto records = followed(run.log());
  REQUIRE(records.size() == 1);
  const impact::Impact& r = *records.front();
  INFO(impact::ImpactLog::describe(r));
  CHECK(r.t_s == kReadAt_s);
  CHECK(r.target == "tc-east");
  CHECK(r.causes.empty());
  CHECK_THAT(r.detail, Catch::StartsWith("tc-east on B1C1: 1200 veh/h observed (100 vehicles in 300 s), ") &&
                           Catch::Contains(" veh/h simulated over the last 300 s; followed from 0:05 to 0:10"));
}

TEST_CASE("A failed counter, or follow_counts off, leaves the traffic as it was", "[integration][engine][counts]") {
  SmallTown town;
  add_counter(town.territory);
  SECTION("a failed reading") {
    long unread = 0;
    {
      engine::Engine run(town.territory, traffic_run(true));
      unread = entered(run, {});
    }
    engine::Engine run(town.territory, traffic_run(true));
    auto failed = count(kReadAt_s, 0.0);
    failed.failed = true;
    CHECK(entered(run, {failed}) == unread);
    CHECK(run.traffic()->count_following(kCountedEdge).removed == 0);
    CHECK(followed(run.log()).empty());
  }
  SECTION("follow_counts off") {
    long departed = 0;
    {
      engine::Engine run(town.territory, traffic_run(false));
      run.advance_to(kMeasuredUntil_s);
      departed = run.traffic()->departed_total();
    }
    engine::Engine run(town.territory, traffic_run(false));
    run.advance_to(kReadAt_s);
    run.submit(count(kReadAt_s, 100.0));
    run.advance_to(kMeasuredUntil_s);
    // No calibrator added a vehicle: the same departures as without the reading.
    CHECK(run.traffic()->departed_total() == departed);
    CHECK_THROWS_AS(run.traffic()->count_following(kCountedEdge), Error);
    CHECK(followed(run.log()).empty());
  }
}

TEST_CASE("Bad counts are refused when submitted, and impossible or stale ones are recorded and not followed",
          "[integration][engine][counts]") {
  SmallTown town;
  add_counter(town.territory);
  engine::Engine run(town.territory, traffic_run(true));
  run.advance_to(kReadAt_s);
  const auto category = [&](const engine::Observation& o) {
    try {
      run.submit(o);
    } catch (const Error& e) {
      return e.category();
    }
    return ErrorCategory::internal;
  };
  CHECK(category(count(kReadAt_s, -3.0)) == ErrorCategory::bad_input);
  CHECK(category(count(kReadAt_s, 10.0, 0.0)) == ErrorCategory::bad_input);
  CHECK(category(count(kReadAt_s, 10.0, -60.0)) == ErrorCategory::bad_input);

  // 10,000 vehicles in a minute on one lane; a two-minute count from 0:00 taken at 0:05.
  run.submit(count(kReadAt_s, 10000.0, 60.0));
  run.submit(count(0.0, 40.0, 120.0));
  CHECK_NOTHROW(run.advance_to(kReadAt_s + 60.0));
  const auto records = followed(run.log());
  REQUIRE(records.size() == 2);
  CHECK_THAT(records[0]->detail, Catch::Contains("600000 veh/h observed") &&
                                     Catch::EndsWith("not followed: beyond the 3600 veh/h 1 lane can carry"));
  CHECK_THAT(records[1]->detail, Catch::EndsWith("not followed: measured at 0:00, more than 120 s ago"));
  CHECK(run.traffic()->count_following(kCountedEdge).inserted == 0);
  CHECK(run.traffic()->count_following(kCountedEdge).removed == 0);
}

TEST_CASE("A run resumed from a saved state goes on following the count read before it, and those after",
          "[integration][engine][counts]") {
  SmallTown town;
  add_counter(town.territory);
  std::optional<engine::EngineState> state;
  {
    // Saved in the middle of a window, calibrator vehicles on the road.
    engine::Engine run(town.territory, traffic_run(true));
    run.advance_to(kReadAt_s);
    run.submit(count(kReadAt_s, 100.0));
    run.advance_to(kReadAt_s + 150.0);
    REQUIRE(run.traffic()->count_following(kCountedEdge).inserted > 10);
    state = run.capture_state();
  }
  SECTION("with the counts followed (a live session's worker, restarted)") {
    auto setup = traffic_run(true);
    setup.resume = *state;
    engine::Engine run(town.territory, setup);
    // The window open when the state was saved runs on to its end.
    run.advance_to(600.0);
    const auto carried_on = run.traffic()->count_following(kCountedEdge);
    INFO("after the resume: " << carried_on.inserted << " vehicles added, " << carried_on.passed << " entered by 0:10");
    CHECK(carried_on.inserted > 10);
    CHECK(carried_on.passed * 3600.0 / 150.0 > 700.0);
    run.submit(count(600.0, 100.0));
    CHECK_NOTHROW(run.advance_to(kReadAt_s + 600.0));
    const auto records = followed(run.log());
    REQUIRE(!records.empty());
    CHECK_THAT(records.back()->detail, Catch::Contains("followed from 0:10 to 0:15"));
    CHECK(run.traffic()->count_following(kCountedEdge).inserted > carried_on.inserted + 30);
  }
  SECTION("without them (a forecast from a live session's state)") {
    auto setup = traffic_run(false);
    setup.resume = *state;
    engine::Engine run(town.territory, setup);
    CHECK_NOTHROW(run.run());
    // The record of the reading before the state, and none after.
    CHECK(followed(run.log()).size() == 1);
  }
}

TEST_CASE("A count's interval goes through the command's JSON and a reading without one still reads",
          "[unit][engine][counts]") {
  const auto json = engine::command_json(count(420.0, 25.0, 180.0));
  const auto back = std::get<engine::Observation>(engine::command_from_json(json, "test"));
  CHECK(back.interval_s == 180.0);
  CHECK(back.value == 25.0);
  const auto old = std::get<engine::Observation>(engine::command_from_json(
      R"({"command": "observation", "sensor": "tc-east", "t_s": 420, "value": 25, "source": "mqtt"})", "test"));
  CHECK(!old.interval_s);
  CHECK(json.find("interval_s") != std::string::npos);
  CHECK(engine::command_json(old).find("interval_s") == std::string::npos);
}
