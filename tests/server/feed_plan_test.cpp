#include "feeds/feed_plan.h"
#include "feeds/uplink.h"

#include "cadereau/scenarios/scenario.h"
#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>

namespace {

using namespace cadereau;
using server::feeds::FeedPlanOptions;
using server::feeds::plan_feed;
using server::feeds::rated_stage_m;

const std::vector<std::pair<double, double>> kRating = {{0.0, 0.0}, {0.5, 3.0}, {1.0, 11.0}, {2.0, 40.0}};

// A world in code: a rain gauge, a rated gauge upstream, a town gauge, a counter.
twin::Territory small_territory() {
  twin::Territory t;
  t.manifest.name = "small";
  const auto sensor = [](std::string id, twin::SensorKind kind, std::string eui) {
    twin::Sensor s;
    s.id = std::move(id);
    s.kind = kind;
    s.dev_eui = std::move(eui);
    s.location = {1000.0, 2000.0};
    return s;
  };
  t.sensors.push_back(sensor("rg-a", twin::SensorKind::rain_gauge, "70B3D57ED0000001"));
  t.sensors.push_back(sensor("lg-up", twin::SensorKind::level_gauge, "70B3D57ED0000002"));
  t.sensors.back().rating = kRating;
  t.sensors.push_back(sensor("lg-town", twin::SensorKind::level_gauge, "70B3D57ED0000003"));
  t.sensors.push_back(sensor("tc-01", twin::SensorKind::traffic_counter, "70B3D57ED0000004"));
  return t;
}

// 12 mm/h all along (1 mm every 5 min); 11 m3/s at the upstream gauge (1 m on its curve).
scenarios::Scenario small_scenario() {
  return scenarios::parse_scenario("name: small\nterritory: demo\nstart: 2026-12-01T07:00:00\nduration: 1h\n"
                                   "rain:\n  - gauge: rg-a\n    mm_h: [[0, 12], [3600, 12]]\n"
                                   "inflows:\n  - name: up\n    at: lg-up\n    m3_s: [[0, 11], [3600, 11]]\n",
                                   "small.yaml");
}

FeedPlanOptions window(double from_s, double until_s) {
  FeedPlanOptions o;
  o.from_s = from_s;
  o.until_s = until_s;
  return o;
}

}  // namespace

TEST_CASE("A rating curve's stage for a discharge inverts the discharge for a stage", "[unit][feeds]") {
  for (double stage_m : {0.1, 0.5, 0.75, 1.3, 2.0, 2.5}) {
    const double q = twin::rated_discharge_m3_s(kRating, stage_m);
    CHECK(rated_stage_m(kRating, q) == Approx(stage_m).margin(1e-9));
  }
  CHECK(rated_stage_m(kRating, 0.0) == 0.0);
  CHECK(rated_stage_m({}, 5.0) == 0.0);
}

TEST_CASE("A feed plan plays rain from the scenario and inflows as stages, and says what it skips", "[unit][feeds]") {
  const auto plan = plan_feed(small_scenario(), small_territory(), nullptr, window(300.0, 1800.0));
  // 300 s to 1800 s every 300 s: six rounds of the rain gauge and the rated gauge.
  REQUIRE(plan.readings.size() == 12);
  REQUIRE(plan.played.size() == 2);
  REQUIRE(plan.skipped.size() == 2);
  CHECK(plan.skipped[0].first == "lg-town");
  CHECK(plan.skipped[0].second.find("cadereau run small.yaml") != std::string::npos);
  CHECK(plan.skipped[1].first == "tc-01");
  for (const auto& r : plan.readings) {
    if (r.sensor == "rg-a") {
      REQUIRE(r.rain_mm);
      CHECK(*r.rain_mm == Approx(1.0).margin(1e-9));  // 12 mm/h over 5 min
    } else {
      REQUIRE(r.water_level_m);
      CHECK(*r.water_level_m == Approx(1.0).margin(1e-9));  // 11 m3/s on the curve
    }
    CHECK(!r.dropped);
    CHECK(!r.duplicated);
  }
  CHECK(plan.readings.front().t_s == 300.0);
  CHECK(plan.readings.back().t_s == 1800.0);
}

TEST_CASE("A feed plan's gaps, duplicates and noise are the same under the same seed", "[unit][feeds]") {
  auto o = window(0.0, 3600.0);
  o.every_s = 60.0;
  o.gaps = 0.2;
  o.duplicates = 0.1;
  o.noise = 0.05;
  o.seed = 7;
  const auto a = plan_feed(small_scenario(), small_territory(), nullptr, o);
  const auto b = plan_feed(small_scenario(), small_territory(), nullptr, o);
  REQUIRE(a.readings.size() == 2 * 61);
  long gaps = 0, twice = 0;
  for (std::size_t i = 0; i < a.readings.size(); ++i) {
    CHECK(a.readings[i].dropped == b.readings[i].dropped);
    CHECK(a.readings[i].duplicated == b.readings[i].duplicated);
    CHECK(a.readings[i].water_level_m == b.readings[i].water_level_m);
    CHECK(a.readings[i].rain_mm == b.readings[i].rain_mm);
    CHECK(!(a.readings[i].dropped && a.readings[i].duplicated));
    gaps += a.readings[i].dropped, twice += a.readings[i].duplicated;
  }
  // 122 draws at 20 % and 10 %: far from none and far from all.
  CHECK(gaps > 5);
  CHECK(gaps < 60);
  CHECK(twice > 2);
  CHECK(twice < 40);
  // The noise moves values, not the gaps.
  o.noise = 0.0;
  const auto quiet = plan_feed(small_scenario(), small_territory(), nullptr, o);
  bool moved = false;
  for (std::size_t i = 0; i < a.readings.size(); ++i) {
    CHECK(quiet.readings[i].dropped == a.readings[i].dropped);
    if (a.readings[i].water_level_m) moved = moved || *a.readings[i].water_level_m != *quiet.readings[i].water_level_m;
  }
  CHECK(moved);
}

TEST_CASE("A feed plan refuses sensors it does not know or cannot play", "[unit][feeds]") {
  auto o = window(0.0, 600.0);
  o.sensors = {"lg-nowhere"};
  CHECK_THROWS_AS(plan_feed(small_scenario(), small_territory(), nullptr, o), Error);
  o.sensors = {"lg-town"};  // needs a recording
  CHECK_THROWS_AS(plan_feed(small_scenario(), small_territory(), nullptr, o), Error);
  o.sensors = {"tc-01"};
  CHECK_THROWS_AS(plan_feed(small_scenario(), small_territory(), nullptr, o), Error);
  o.sensors = {"rg-a"};
  CHECK(plan_feed(small_scenario(), small_territory(), nullptr, o).readings.size() == 3);
}

TEST_CASE("An uplink written for a device reads back the same", "[unit][feeds]") {
  server::feeds::Uplink u;
  u.deduplication_id = "5c1b0c53-0000-4000-8000-000000000001";
  u.dev_eui = "70B3D57ED0000005";
  u.time_epoch_s = 1796108400.25;
  u.water_level_m = 0.42;
  const std::string topic = "application/demo/device/70b3d57ed0000005/event/up";
  const auto back = server::feeds::parse_uplink(topic, server::feeds::uplink_payload(u, "demo", 3));
  CHECK(back.deduplication_id == u.deduplication_id);
  CHECK(back.dev_eui == u.dev_eui);
  CHECK(back.time_epoch_s == Approx(u.time_epoch_s).margin(1e-3));
  REQUIRE(back.water_level_m);
  CHECK(*back.water_level_m == 0.42);
  CHECK(!back.rain_mm);
}
