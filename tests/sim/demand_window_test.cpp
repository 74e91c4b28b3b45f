// When a demand departs: SUMO time attributes, vehicles, trips and flows of
// route files written in the test, and the demo territory's morning peak.

#include "cadereau/sim/traffic/demand_window.h"
#include "cadereau/sim/traffic/greenwave.h"
#include "cadereau/twin/error.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using cadereau::testing::TempDir;
using cadereau::testing::write_text;
using namespace cadereau::sim::traffic;

TEST_CASE("SUMO times read as seconds and print as clock time", "[unit][greenwave]") {
  CHECK(parse_sumo_time_s("25200") == Approx(25200.0));
  CHECK(parse_sumo_time_s("25200.25") == Approx(25200.25));
  CHECK(parse_sumo_time_s("07:00:30") == Approx(25230.0));
  CHECK(parse_sumo_time_s("1:07:00:00") == Approx(86400.0 + 25200.0));
  CHECK_FALSE(parse_sumo_time_s("triggered"));
  CHECK_FALSE(parse_sumo_time_s("07:00"));
  CHECK_FALSE(parse_sumo_time_s(""));
  CHECK(clock_time(25230.0) == "07:00:30");
  CHECK(clock_time(32400.0) == "09:00:00");
  CHECK(clock_time(86400.0 + 3600.0) == "1:01:00:00");
}

TEST_CASE("a demand's departures: vehicles, trips and flows", "[unit][greenwave]") {
  TempDir dir;
  write_text(dir / "a.rou.xml", R"(<routes>
    <vType id="car"/>
    <vehicle id="v0" depart="100"><route edges="a b"/></vehicle>
    <trip id="t0" depart="07:00:00" from="a" to="b"/>
    <trip id="t1" depart="triggered" from="a" to="b"/>
    <person id="p0" depart="50"><walk edges="a b"/></person>
</routes>
)");
  write_text(dir / "b.rou.xml", R"(<routes>
    <flow id="f0" begin="200" end="300" number="4" from="a" to="b"/>
    <flow id="f1" begin="1000" end="1060" vehsPerHour="120" from="a" to="b"/>
</routes>
)");
  const auto span = read_demand_span({dir / "a.rou.xml", dir / "b.rou.xml"});
  // v0, t0, four of f0 (every 25 s from 200 s), two of f1 (every 30 s from 1000 s).
  CHECK(span.trips() == 8);
  CHECK(span.skipped == 1);
  CHECK(span.first_s() == Approx(100.0));
  CHECK(span.last_s() == Approx(25200.0));
  CHECK(span.trips_between(200.0, 300.0) == 4);
  CHECK(span.trips_between(225.0, 1001.0) == 4);
  CHECK(span.trips_between(0.0, 100.0) == 0);
  CHECK(span.trips_between(1030.0, std::nullopt) == 2);

  CHECK_THROWS_WITH(read_demand_span({dir / "missing.rou.xml"}), Catch::Contains("missing.rou.xml") &&
                                                                     Catch::Contains("not found"));
  write_text(dir / "broken.rou.xml", "<routes><trip");
  CHECK_THROWS_WITH(read_demand_span({dir / "broken.rou.xml"}), Catch::Contains("broken.rou.xml"));
}

TEST_CASE("greenwave's default window on the demo territory is its demand's span", "[integration][greenwave]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest to use the generated demo territory");
    return;
  }
  GreenwaveOptions o;
  o.net = *dir / "network.net.xml";
  o.routes = {*dir / "demand.rou.xml"};
  o.tls_ids = {"J3_9", "J5_9"};
  const auto w = resolve_window(o);
  // The morning peak: 07:00-09:00.
  REQUIRE(w.demand.trips() > 1000);
  CHECK(w.demand.first_s() >= 25200.0);
  CHECK(w.demand.last_s() <= 32400.0);
  CHECK(w.begin_s == Approx(25200.0));
  CHECK_FALSE(w.end_s);
  CHECK(w.run_until_s > w.demand.last_s());
  // Every trip departs in it.
  CHECK(w.trips_in_window == w.demand.trips());

  // A window before the demand holds none: refused before anything runs,
  // naming the route file and when the demand departs.
  TempDir tmp;
  o.begin_s = 0.0;
  o.end_s = 21600.0;
  o.out = tmp / "out";
  CHECK_THROWS_WITH(run_greenwave(o), Catch::Contains("demand.rou.xml") && Catch::Contains("no trip departs") &&
                                          Catch::Contains("07:00:00"));
  CHECK_FALSE(std::filesystem::exists(o.out));
}
