#include "cadereau/scenarios/scenario.h"
#include "cadereau/twin/error.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using namespace cadereau;
using namespace cadereau::scenarios;

namespace {

const std::string kGood = R"(name: Test storm
territory: demo
start: 1988-10-03T07:30:00
duration: 1h30
rain:
  - mm_h: [[07:30, 10], [08:00, 40]]
  - gauge: rg-mas-de-ponge
    area: [807000, 6303800, 813000, 6305000]
    mm_h: [[0, 100], [3600, 0]]
inflows:
  - name: cadereau d'Alès
    at: lg-ales-amont
    m3_s: [[07:00, 0], [08:10, 480], [09:30, 0]]
  - at: [810000, 6302000]
    m3_s: [[0, 5]]
events:
  - at: "08:40"
    action: close_road
    target: h9_9
    by: police
  - at: 600
    action: speed_limit
    target: h9_9
    value: 30
roles: [director, traffic]
)";

std::string with(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("A scenario reads its times, series and events", "[unit][scenario]") {
  const Scenario s = parse_scenario(kGood, "storm.yaml");
  CHECK(s.name == "Test storm");
  CHECK(s.start_clock_s == 7.5 * 3600);
  CHECK(s.duration_s == 5400.0);
  REQUIRE(s.rain.size() == 2);
  CHECK(s.rain[0].over == RainSpec::Over::territory);
  CHECK(s.rain[0].mm_h.at(900.0) == Approx(25.0));
  CHECK(s.rain[1].over == RainSpec::Over::gauge);
  CHECK(s.rain[1].area->y_min_m == 6303800.0);
  REQUIRE(s.inflows.size() == 2);
  // Clock times are seconds after the start; points before it are kept.
  CHECK(s.inflows[0].m3_s.times_s().front() == -1800.0);
  CHECK(s.inflows[0].m3_s.at(2400.0) == Approx(480.0));
  CHECK(s.inflows[1].location->x_m == 810000.0);
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[0].t_s == 4200.0);
  CHECK(s.events[0].by == "police");
  CHECK(s.events[0].where == "storm.yaml:17");
  CHECK(s.events[0].verb == cadereau::sim::engine::Verb::close_road);
  CHECK(s.events[1].verb == cadereau::sim::engine::Verb::speed_limit);
  CHECK(s.events[1].value == 30.0);
  CHECK(clock_of(s, 4200.0) == "08:40");
  CHECK(s.traffic_model == cadereau::sim::traffic::TrafficModelKind::microscopic);
  const Scenario meso = parse_scenario(with(kGood, "name: Test storm", "name: Test storm\ntraffic_model: mesoscopic"), "m.yaml");
  CHECK(meso.traffic_model == cadereau::sim::traffic::TrafficModelKind::mesoscopic);
}

TEST_CASE("Bad scenarios are refused with file and line", "[unit][scenario]") {
  auto error_of = [](const std::string& text) {
    try {
      parse_scenario(text, "s.yaml");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of(with(kGood, "duration: 1h30", "duration: soon")), Catch::Contains("s.yaml:4") && Catch::Contains("soon"));
  CHECK_THAT(error_of(with(kGood, "[08:10, 480]", "[08:10, -480]")),
             Catch::Contains("s.yaml:13") && Catch::Contains("negative"));
  CHECK_THAT(error_of(with(kGood, "[09:30, 0]", "[08:00, 0]")), Catch::Contains("s.yaml:13") && Catch::Contains("time goes back"));
  CHECK_THAT(error_of(with(kGood, "at: \"08:40\"", "at: \"11:40\"")),
             Catch::Contains("s.yaml:17") && Catch::Contains("outside the run (07:30 to 09:00)"));
  CHECK_THAT(error_of(with(kGood, "at: \"08:40\"", "at: \"8h40\"")), Catch::Contains("s.yaml:17"));
  CHECK_THAT(error_of(with(kGood, "action: close_road", "action: open_the_dam")),
             Catch::Contains("s.yaml:18") && Catch::Contains("unknown action 'open_the_dam'"));
  CHECK_THAT(error_of(with(kGood, "name: Test storm", "name: Test storm\nweather: fine")),
             Catch::Contains("s.yaml:2") && Catch::Contains("unknown key 'weather'"));
  CHECK_THAT(error_of(with(kGood, "name: Test storm", "name: Test storm\ntraffic_model: macroscopic")),
             Catch::Contains("s.yaml:2") && Catch::Contains("'macroscopic' is not microscopic or mesoscopic"));
  CHECK_THAT(error_of(with(kGood, "value: 30", "value: fast")), Catch::Contains("s.yaml:") && Catch::Contains("'fast'"));
  CHECK_THAT(error_of(with(kGood, "start: 1988-10-03T07:30:00", "start: yesterday")), Catch::Contains("s.yaml:3"));
  CHECK_THAT(error_of("name: [unclosed"), Catch::Contains("s.yaml:") && Catch::Contains("not valid YAML"));
  CHECK_THAT(error_of("name: x\n"), Catch::Contains("needs 'territory'"));
  CHECK_THROWS_WITH(read_scenario("/no/such/scenario.yaml"), Catch::Contains("/no/such/scenario.yaml"));
}

TEST_CASE("A scenario is checked against its territory", "[integration][scenario]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  const twin::Territory territory = twin::Territory::load(*dir);
  const auto setup = engine_setup(parse_scenario(kGood, "storm.yaml"), territory);
  CHECK(setup.inflows.size() == 2);
  CHECK(setup.rain_mm_h.has_value());
  REQUIRE(setup.rain_zones.has_value());
  CHECK(setup.rain_zone_labels == std::vector<std::string>{"rg-mas-de-ponge"});
  // The gauge's rain stays inside its area: the hills north of 6 303 800 m.
  const auto& zone = setup.rain_zones->zone;
  const auto north = territory.grid().cell_at({809600.0, 6304600.0});
  const auto town = territory.grid().cell_at({809600.0, 6302000.0});
  CHECK(zone.at(*north) == 0.0f);
  CHECK(zone.at(*town) < 0.0f);
  CHECK(setup.traffic_begin_s == 27000.0);

  auto error_of = [&](const std::string& text) {
    try {
      engine_setup(parse_scenario(text, "s.yaml"), territory);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of(with(kGood, "gauge: rg-mas-de-ponge", "gauge: rg-nowhere")),
             Catch::Contains("s.yaml:7") && Catch::Contains("unknown rain gauge 'rg-nowhere'"));
  CHECK_THAT(error_of(with(kGood, "at: lg-ales-amont", "at: lg-nowhere")),
             Catch::Contains("s.yaml:11") && Catch::Contains("unknown sensor 'lg-nowhere'"));
  CHECK_THAT(error_of(with(kGood, "[810000, 6302000]", "[0, 0]")), Catch::Contains("s.yaml:14") && Catch::Contains("outside"));
  CHECK_THAT(error_of(with(kGood, "area: [807000, 6303800, 813000, 6305000]", "area: [0, 0, 10, 10]")),
             Catch::Contains("s.yaml:7") && Catch::Contains("covers no cell"));
  // A flood grid finer than the DEM's 10 m is named at its line, not by the engine.
  CHECK_THAT(error_of(with(kGood, "duration: 1h30\n", "duration: 1h30\nflood_cell_m: 5\n")),
             Catch::StartsWith("s.yaml:5: flood_cell_m 5 m is finer than the cells of the territory's DEM (10 m"));
  CHECK(error_of(with(kGood, "duration: 1h30\n", "duration: 1h30\nflood_cell_m: 10\n")) == "no error");
}

TEST_CASE("A scenario's light plans are checked against the territory's lights", "[integration][scenario]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  const twin::Territory territory = twin::Territory::load(*dir);
  cadereau::testing::TempDir tmp;
  const std::string logic = R"(<additional>
  <tlLogic id="LIGHT" type="static" programID="greenwave" offset="7">
    <phase duration="20" state="GGrr"/>
    <phase duration="3" state="yyrr"/>
    <phase duration="20" state="rrGG"/>
    <phase duration="3" state="rryy"/>
  </tlLogic>
</additional>
)";
  cadereau::testing::write_text(tmp / "plans" / "plan.add.xml", with(logic, "LIGHT", "J13_9"));
  cadereau::testing::write_text(tmp / "stranger.add.xml", with(logic, "LIGHT", "J99_99"));
  cadereau::testing::write_text(tmp / "empty.add.xml", "<additional/>\n");
  cadereau::testing::write_text(tmp / "broken.add.xml", "<additional><tlLogic id=\"J13_9\"\n");
  const auto scenario_file = tmp / "storm.yaml";
  auto setup_of = [&](const std::string& text) { return engine_setup(parse_scenario(text, scenario_file), territory); };
  auto error_of = [&](const std::string& text) {
    try {
      setup_of(text);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string base = "name: s\nterritory: demo\nstart: 1988-10-03T07:30:00\nduration: 1h\n";
  // Resolved against the scenario's folder and handed to SUMO.
  const auto setup = setup_of(base + "light_plans: [plans/plan.add.xml]\n");
  REQUIRE(setup.light_plans.size() == 1);
  CHECK(setup.light_plans[0] == tmp / "plans" / "plan.add.xml");
  CHECK(setup_of(base).light_plans.empty());
  const std::string where = (tmp / "storm.yaml").string() + ":5";
  CHECK_THAT(error_of(base + "light_plans: [nowhere.add.xml]\n"), Catch::StartsWith(where) && Catch::Contains("no such file"));
  CHECK_THAT(error_of(base + "light_plans: [stranger.add.xml]\n"),
             Catch::StartsWith(where) && Catch::Contains("light 'J99_99' is not in the territory's network"));
  CHECK_THAT(error_of(base + "light_plans: [empty.add.xml]\n"), Catch::StartsWith(where) && Catch::Contains("no light program"));
  CHECK_THAT(error_of(base + "light_plans: [broken.add.xml]\n"), Catch::StartsWith(where) && Catch::Contains("broken.add.xml"));
  CHECK_THAT(error_of(base + "light_plans: [plans/plan.add.xml]\ntraffic: false\n"),
             Catch::StartsWith(where) && Catch::Contains("traffic model"));
  CHECK_THAT(error_of(base + "light_plans: plans/plan.add.xml\n"), Catch::Contains("must be a list"));
}

TEST_CASE("The flagship scenario reads and fits the demo territory", "[unit][scenario]") {
  const Scenario s = parse_scenario(flagship_scenario_text(), "flash-flood-1988.yaml");
  CHECK(s.duration_s == 7200.0);
  CHECK(s.inflows.size() == 3);
  CHECK(s.rain.size() == 4);
  double peak = 0.0;
  for (const auto& in : s.inflows) peak = std::max(peak, in.m3_s.max_value());
  CHECK(peak >= 300.0);  // hundreds of m3/s
  // 250 to 400 mm on the hills.
  const double mm = s.rain[0].mm_h.integral(s.rain[0].mm_h.times_s().front(), s.rain[0].mm_h.end_s()) / 3600.0;
  CHECK(mm >= 250.0);
  CHECK(mm <= 400.0);
  const auto dir = cadereau::testing::demo_territory();
  if (dir) CHECK_NOTHROW(engine_setup(s, twin::Territory::load(*dir)));
}

TEST_CASE("Times and durations as users write them", "[unit][scenario]") {
  using cadereau::scenarios::time_since_start_s;
  const double start = 7 * 3600.0;  // 07:00
  CHECK(time_since_start_s("07:30", start) == 1800.0);
  CHECK(time_since_start_s("07:30:15", start) == 1815.0);
  CHECK(time_since_start_s("25:00", start) == 18.0 * 3600.0);  // into the next day
  CHECK(time_since_start_s("600", start) == 600.0);
  CHECK(time_since_start_s("-60", start) == -60.0);
  CHECK_FALSE(time_since_start_s("7h30", start));
  CHECK_FALSE(time_since_start_s("07:61", start));
  CHECK_FALSE(time_since_start_s("nan", start));
  CHECK_FALSE(time_since_start_s("", start));
  using cadereau::scenarios::parse_duration_s;
  CHECK(parse_duration_s("2h") == 7200.0);
  CHECK(parse_duration_s("1h30") == 5400.0);
  CHECK(parse_duration_s("90min") == 5400.0);
  CHECK(parse_duration_s("45") == 45.0);
  CHECK_FALSE(parse_duration_s("soon"));
  using cadereau::scenarios::clock_of_iso;
  CHECK(clock_of_iso("1988-10-03T07:00:00") == 25200.0);
  CHECK(clock_of_iso("2024-10-03T08:15:30Z") == 29730.0);
  CHECK(clock_of_iso("2024-10-03T08:15:30.250+02:00") == 29730.0);
  CHECK_FALSE(clock_of_iso("2024-10-03"));
}

TEST_CASE("Scenarios refuse duplicate keys, impossible dates, bad seeds and twice-used inflow names",
          "[unit][scenario]") {
  auto refused = [](const std::string& text, const std::string& names) {
    try {
      parse_scenario(text, "storm.yaml");
      FAIL("accepted, expected " << names);
    } catch (const Error& e) {
      CHECK(e.category() == ErrorCategory::bad_input);
      CHECK_THAT(std::string(e.what()), Catch::Contains(names));
    }
  };
  // yaml-cpp would keep the first and drop the second silently.
  refused(with(kGood, "duration: 1h30\n", "duration: 1h30\nduration: 3h\n"), "storm.yaml:5: key 'duration' is given twice");
  refused(with(kGood, "    by: police\n", "    by: police\n    by: traffic\n"), "storm.yaml:21: key 'by'");
  refused(with(kGood, "1988-10-03T", "1988-02-30T"), "storm.yaml:3: start '1988-02-30T07:30:00': 1988-02-30 is not a day");
  refused(with(kGood, "1988-10-03T", "1988-13-01T"), "storm.yaml:3");
  refused(with(kGood, "1988-10-03T", "1989-02-29T"), "storm.yaml:3");
  refused(with(kGood, "T07:30:00", "T24:30:00"), "storm.yaml:3");
  CHECK_NOTHROW(parse_scenario(with(kGood, "1988-10-03T", "1988-02-29T"), "storm.yaml"));
  for (const char* seed : {"9007199254740993", "18446744073709551617", "4.5", "1e3", "-1", "0x10", "abc"}) {
    INFO(seed);
    refused(with(kGood, "duration: 1h30\n", std::string("duration: 1h30\nseed: ") + seed + "\n"), "storm.yaml:5: seed");
  }
  CHECK(parse_scenario(with(kGood, "duration: 1h30\n", "duration: 1h30\nseed: 9007199254740992\n"), "storm.yaml").seed ==
        9007199254740992ULL);
  refused(with(kGood, "[08:00, 40]", "[08:00, 4000]"), "storm.yaml:6: 4000 mm/h in 'mm_h' is above 1000 mm/h");
  refused(with(kGood, "[08:10, 480]", "[08:10, 2e5]"), "storm.yaml:13");
  refused(with(kGood, "duration: 1h30\n", "duration: 1h30\nflood_cell_m: 0.001\n"),
          "storm.yaml:5: flood_cell_m must be between 0.1 and 200 m");
  refused(with(kGood, "  - at: [810000, 6302000]\n", "  - name: cadereau d'Alès\n    at: [810000, 6302000]\n"),
          "storm.yaml:14: inflow name 'cadereau d'Alès' is used twice (first at storm.yaml:11)");
}

TEST_CASE("A scenario's injects read as an MSEL's, and bad ones are refused with file and line", "[unit][scenario]") {
  const std::string injects = R"(injects:
  - number: A1
    time: "07:40"
    type: hazard
    from: Flood officer
    to: [flood, crisis]
    message: The Alès cadereau doubles.
    expected: Warn the police.
    objective: OBJ-2
    effect: inflow cadereau d'Alès 400 m3/s
  - number: A2
    time: after A1 +5min
    to: police
    message: Close the underpass.
)";
  const auto s = parse_scenario(with(kGood, "roles: [director, traffic]\n", injects), "s.yaml");
  REQUIRE(s.injects.size() == 2);
  CHECK(s.injects[0].time_s == 600.0);  // 07:40 with a start at 07:30
  CHECK(s.injects[0].to == std::vector<std::string>{"flood", "crisis"});
  CHECK(s.injects[0].effect.kind == InjectEffect::Kind::inflow);
  CHECK(s.injects[0].effect.target == "cadereau d'Alès");
  CHECK(s.injects[1].after == "A1");
  CHECK(s.injects[1].delay_s == 300.0);

  const auto refused = [&](const std::string& entry) {
    try {
      parse_scenario(with(kGood, "roles: [director, traffic]\n", "injects:\n" + entry), "s.yaml");
    } catch (const cadereau::Error& e) {
      return std::string(e.what());
    }
    FAIL("accepted: " << entry);
    return std::string();
  };
  CHECK_THAT(refused("  - number: 1\n    time: '07:40'\n    to: crisis\n    message: m\n    colour: red\n"),
             Catch::Contains("s.yaml:") && Catch::Contains("unknown key 'colour'"));
  CHECK_THAT(refused("  - number: 1\n    to: crisis\n    message: m\n"), Catch::Contains("needs 'time'"));
  CHECK_THAT(refused("  - number: 1\n    time: '11:00'\n    to: crisis\n    message: m\n"), Catch::Contains("outside the run"));
  CHECK_THAT(refused("  - number: 1\n    time: '07:40'\n    to: firemen\n    message: m\n"),
             Catch::Contains("s.yaml:") && Catch::Contains("firemen"));
  CHECK_THAT(refused("  - number: 1\n    time: '07:40'\n    type: sensor\n    to: flood\n    message: m\n"),
             Catch::Contains("needs an Effect"));
  CHECK_THAT(refused("  - number: 1\n    time: '07:40'\n    to: crisis\n    message: m\n"
                     "  - number: 1\n    time: '07:50'\n    to: crisis\n    message: n\n"),
             Catch::Contains("given twice"));
}
