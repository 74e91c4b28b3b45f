// Level gauges in town correct the flood: a reading of a gauge without a
// rating curve nudges the water around it, the water it moves is counted in
// the flood's budget, recorded, reported and carried by saved states.
#include "cadereau/sim/engine/engine.h"
#include "small_town.h"
#include "test_support.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <string>

using namespace cadereau;
using namespace cadereau::sim;
using cadereau::testing::SmallTown;

namespace {

// A gauge in the channel, 230 m below the inflow, with no rating curve (a
// gauge in town), and one upstream with a rating (its readings are flows).
void add_level_gauges(twin::Territory& territory) {
  twin::Sensor town;
  town.id = "lg-town";
  town.name = "Channel in town";
  town.kind = twin::SensorKind::level_gauge;
  town.location = {SmallTown::kChannelX_m, 450.0};
  town.watercourse = "channel";
  twin::Sensor rated = town;
  rated.id = "lg-rated";
  rated.name = "Channel upstream";
  rated.location = {SmallTown::kChannelX_m, 620.0};
  rated.rating = {{0.0, 0.0}, {1.0, 10.0}, {2.0, 40.0}};
  territory.sensors.push_back(town);
  territory.sensors.push_back(rated);
}

engine::EngineSetup flood_only(double duration_s) {
  auto setup = SmallTown::channel_flood(duration_s);
  setup.traffic = false;
  return setup;
}

double gauge_depth_m(const engine::Engine& run, const std::string& id) {
  for (const auto& g : run.gauges())
    if (g.id == id) return g.wse_m.back() - g.bed_m;
  FAIL("no gauge " << id);
  return 0.0;
}

engine::Observation reading(const std::string& sensor, double t_s, double depth_m) {
  return engine::Observation{sensor, t_s, depth_m, "mqtt"};
}

std::vector<const impact::Impact*> nudges(const impact::ImpactLog& log) {
  std::vector<const impact::Impact*> out;
  for (const auto& r : log.all())
    if (r.kind == impact::kind::flood_nudged) out.push_back(&r);
  return out;
}

// The depth after the nudge, from the record's detail ("..., now 0.61 m: ...").
double nudged_depth_m(const impact::Impact& record) {
  const auto at = record.detail.find("now ");
  REQUIRE(at != std::string::npos);
  return std::stod(record.detail.substr(at + 4));
}

class LastKpis final : public engine::EngineObserver {
 public:
  void on_exchange(const engine::ExchangeReport& report) override { kpis = report.kpis; }
  engine::Kpis kpis;
};

}  // namespace

TEST_CASE("A reading of a level gauge in town nudges the water toward it and the record says by how much",
          "[integration][engine][nudge]") {
  SmallTown town;
  add_level_gauges(town.territory);
  const auto setup = flood_only(600.0);
  double reference_m = 0.0;
  {
    engine::Engine run(town.territory, setup);
    run.advance_to(310.0);
    reference_m = gauge_depth_m(run, "lg-town");
  }
  engine::Engine run(town.territory, setup);
  LastKpis kpis;
  run.add_observer(kpis);
  run.advance_to(300.0);
  const double model_m = gauge_depth_m(run, "lg-town");
  run.submit(reading("lg-town", 295.0, model_m + 0.4));
  run.advance_to(310.0);

  const auto records = nudges(run.log());
  REQUIRE(records.size() == 1);
  const impact::Impact& up = *records.front();
  INFO(impact::ImpactLog::describe(up));
  CHECK(up.t_s == 300.0);
  CHECK(up.target == "lg-town");
  CHECK(up.causes.empty());
  CHECK_THAT(up.detail, Catch::Contains(fmt::format("model {:.2f} m, observed {:.2f} m at 0:04", model_m, model_m + 0.4)) &&
                            Catch::Contains(" m3 over "));
  // Half the gap closed at the gauge (gain 0.5); the record rounds to the centimetre.
  CHECK(nudged_depth_m(up) == Approx(model_m + 0.2).margin(0.006));
  const double nudged_m = gauge_depth_m(run, "lg-town");
  INFO("model " << model_m << " m, reference at 310 s " << reference_m << " m, nudged " << nudged_m << " m");
  CHECK(nudged_m > reference_m + 0.1);
  CHECK(nudged_m < model_m + 0.4);
  const double added_m3 = run.nudged_water().added_m3;
  CHECK(added_m3 > 100.0);
  CHECK(run.nudged_water().removed_m3 == 0.0);
  CHECK(run.flood().mass_balance().nudged_in_m3 == added_m3);
  CHECK(run.flood().mass_balance().error_rel() < 1e-10);

  // A reading lower than the model takes water out.
  run.advance_to(400.0);
  run.submit(reading("lg-town", 400.0, 0.05));
  run.run();
  REQUIRE(nudges(run.log()).size() == 2);
  CHECK_THAT(nudges(run.log()).back()->detail, Catch::Contains(": -"));
  const auto& mass = run.flood().mass_balance();
  CHECK(run.nudged_water().removed_m3 > 100.0);
  CHECK(mass.nudged_out_m3 == run.nudged_water().removed_m3);
  CHECK(mass.error_rel() < 1e-10);
  CHECK(run.nudged_water().nudges == 2);
  // The stream's key figures give the water moved so far.
  CHECK(kpis.kpis.volume_nudged_in_m3 == run.nudged_water().added_m3);
  CHECK(kpis.kpis.volume_nudged_out_m3 == run.nudged_water().removed_m3);
}

TEST_CASE("A failed or stale reading and a rated gauge's reading leave the water as it was",
          "[integration][engine][nudge]") {
  SmallTown town;
  add_level_gauges(town.territory);
  auto setup = flood_only(800.0);
  std::vector<double> reference;
  {
    engine::Engine run(town.territory, setup);
    run.advance_to(720.0);
    reference = run.flood().capture().depth_m;
  }
  const auto unchanged = [&](engine::Engine& run) {
    run.advance_to(720.0);
    CHECK(nudges(run.log()).empty());
    CHECK(run.nudged_water().nudges == 0);
    CHECK(run.flood().mass_balance().nudged_in_m3 == 0.0);
    CHECK(run.flood().capture().depth_m == reference);
  };
  SECTION("a failed sensor") {
    engine::Engine run(town.territory, setup);
    run.advance_to(700.0);
    auto failed = reading("lg-town", 700.0, 3.0);
    failed.failed = true;
    run.submit(failed);
    unchanged(run);
  }
  SECTION("a reading measured more than ten minutes before it comes in") {
    engine::Engine run(town.territory, setup);
    run.advance_to(700.0);
    run.submit(reading("lg-town", 90.0, 3.0));
    unchanged(run);
  }
  SECTION("a gauge with a rating curve") {
    engine::Engine run(town.territory, setup);
    run.advance_to(700.0);
    run.submit(reading("lg-rated", 700.0, 3.0));
    unchanged(run);
  }
  SECTION("nudging turned off") {
    setup.nudge_levels = false;
    engine::Engine run(town.territory, setup);
    run.advance_to(700.0);
    run.submit(reading("lg-town", 700.0, 3.0));
    unchanged(run);
  }
}

TEST_CASE("The same readings at the same times give the same water", "[integration][engine][nudge]") {
  SmallTown town;
  add_level_gauges(town.territory);
  const auto setup = flood_only(500.0);
  const auto once = [&] {
    engine::Engine run(town.territory, setup);
    run.advance_to(200.0);
    run.submit(reading("lg-town", 195.0, 1.8));
    run.advance_to(350.0);
    run.submit(reading("lg-town", 350.0, 0.4));
    run.run();
    REQUIRE(nudges(run.log()).size() == 2);
    return std::make_pair(run.flood().capture().depth_m, run.log().save());
  };
  const auto first = once();
  const auto second = once();
  CHECK(first.first == second.first);
  CHECK(first.second == second.second);
}

TEST_CASE("A run resumed from a saved state counts the water nudged before it and its budget stays closed",
          "[integration][engine][nudge]") {
  SmallTown town;
  add_level_gauges(town.territory);
  const auto setup = flood_only(600.0);
  cadereau::testing::TempDir tmp;
  engine::NudgedWater saved, straight;
  {
    engine::Engine run(town.territory, setup);
    run.advance_to(300.0);
    run.submit(reading("lg-town", 300.0, gauge_depth_m(run, "lg-town") + 0.5));
    run.advance_to(400.0);
    run.save_state(tmp / "state");
    saved = run.nudged_water();
    run.submit(reading("lg-town", 400.0, 0.1));
    run.run();
    straight = run.nudged_water();
  }
  REQUIRE(saved.nudges == 1);
  REQUIRE(straight.nudges == 2);
  auto resumed_setup = setup;
  resumed_setup.resume = engine::read_engine_state(tmp / "state");
  engine::Engine resumed(town.territory, resumed_setup);
  CHECK(resumed.nudged_water().added_m3 == saved.added_m3);
  CHECK(resumed.nudged_water().nudges == 1);
  resumed.submit(reading("lg-town", 400.0, 0.1));
  resumed.run();
  CHECK(resumed.nudged_water().nudges == 2);
  CHECK(resumed.nudged_water().added_m3 == Approx(straight.added_m3).epsilon(1e-9));
  CHECK(resumed.nudged_water().removed_m3 == Approx(straight.removed_m3).epsilon(1e-6));
  // The flood's own balance runs from the restored water, the nudge after it included.
  const auto& mass = resumed.flood().mass_balance();
  CHECK(mass.nudged_out_m3 == Approx(resumed.nudged_water().removed_m3 - saved.removed_m3).epsilon(1e-12));
  CHECK(mass.nudged_out_m3 > 0.0);
  CHECK(mass.error_rel() < 1e-10);
}

TEST_CASE("On the demo territory a reading of a gauge in town puts water in its stream and not on its banks",
          "[integration][engine][nudge]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest to use the generated demo territory");
    return;
  }
  const twin::Territory territory = twin::Territory::load(*dir);
  engine::EngineSetup setup;
  setup.duration_s = 60.0;
  setup.exchange_s = 1.0;  // the water seen 1 s after the nudge, where it was put
  setup.traffic = false;
  setup.flood_threads = 1;
  engine::Engine run(territory, setup);  // no inflow, no rain: a dry town
  run.advance_to(5.0);
  REQUIRE(gauge_depth_m(run, "lg-ales-ville") == 0.0);
  run.submit(reading("lg-ales-ville", 5.0, 0.6));
  run.submit(reading("lg-ales-amont", 5.0, 1.5));  // rated: a flow for the server, not a level
  run.advance_to(6.0);
  const auto records = nudges(run.log());
  REQUIRE(records.size() == 1);
  CHECK(records.front()->target == "lg-ales-ville");
  INFO(impact::ImpactLog::describe(*records.front()));
  CHECK(nudged_depth_m(*records.front()) == Approx(0.3).margin(0.006));
  // The stream's bed is below its banks: the water is in it, near the gauge
  // (80 m, and what it ran in a second), under the level the reading gives.
  const auto& flood = run.flood();
  const auto gauge = std::find_if(run.gauges().begin(), run.gauges().end(),
                                  [](const engine::GaugeSeries& g) { return g.id == "lg-ales-ville"; });
  const double level_m = gauge->bed_m + 0.6;
  std::size_t wet = 0;
  for (std::size_t i = 0; i < flood.grid().cell_count(); ++i)
    if (flood.depth_m(i) > 0.0) {
      ++wet;
      const twin::MapPoint p = flood.grid().cell_centre(flood.grid().from_linear(i));
      CHECK(std::hypot(p.x_m - gauge->location.x_m, p.y_m - gauge->location.y_m) < 100.0);
      CHECK(flood.bed_m(i) < level_m);
    }
  CHECK(wet > 3);
  CHECK(run.nudged_water().added_m3 > 10.0);
  CHECK(flood.mass_balance().error_rel() < 1e-10);
}

TEST_CASE("Readings of one gauge taken in the same step make one record that says how many",
          "[integration][engine][nudge]") {
  // A busy feed must not make a record per reading: the stream and the
  // journal carry one per gauge and step.
  SmallTown town;
  add_level_gauges(town.territory);
  engine::Engine run(town.territory, flood_only(600.0));
  run.advance_to(300.0);
  const double model_m = gauge_depth_m(run, "lg-town");
  run.submit(reading("lg-town", 294.0, model_m + 0.3));
  run.submit(reading("lg-town", 296.0, model_m + 0.4));
  run.submit(reading("lg-town", 298.0, model_m + 0.5));
  run.advance_to(310.0);
  const auto records = nudges(run.log());
  REQUIRE(records.size() == 1);
  INFO(impact::ImpactLog::describe(*records.front()));
  CHECK_THAT(records.front()->detail,
             Catch::Contains(fmt::format("model {:.2f} m, observed {:.2f} m at 0:04 (3 readings)", model_m, model_m + 0.5)));
  CHECK(run.nudged_water().nudges == 3);
}
