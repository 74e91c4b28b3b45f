// MSELs in the ten HSEEP columns: awkward CSV read, times and triggers,
// bad rows refused with their line, the export read back.

#include "cadereau/scenarios/msel.h"
#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace cadereau::scenarios;
using cadereau::Error;
using cadereau::ErrorCategory;

namespace {

constexpr double k0700 = 7 * 3600.0;
const std::string kHeader =
    "Event Number,Designated Scenario Time,Event Type,Inject Mode,From,To,Message,Expected Participant Response,"
    "Exercise Objective,Notes";

std::string refusal(const std::string& csv) {
  try {
    parse_msel(csv, "msel.csv", k0700);
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::bad_input);
    return e.what();
  }
  FAIL("accepted: " << csv);
  return {};
}

}  // namespace

TEST_CASE("An MSEL with a BOM, CRLF, quotes, commas, accents and line breaks in fields is read", "[unit][msel]") {
  const std::string csv = "\xEF\xBB\xBF" + kHeader + "\r\n" +
                          "1,07:40,message,phone,Météo-France,crisis,\"Vigilance rouge \"\"pluie-inondation\"\", "
                          "Gard\",\"Open the PC crise,\r\ncall the prefecture\",OBJ-1,\r\n"
                          "2,after 1 +5min,message,radio,Police patrol,police; traffic,Water on the avenue du "
                          "Languedoc,Close the underpass,OBJ-2,\r\n"
                          "\r\n"
                          "3,manual,report,phone,A resident,REPORTS,Car stuck rue Guizot,,,\r\n"
                          "4,1800,message,email,Prefecture,all,Evacuate the school,,,\r\n";
  const auto injects = parse_msel(csv, "msel.csv", k0700);
  REQUIRE(injects.size() == 4);
  CHECK(injects[0].number == "1");
  CHECK(injects[0].trigger == Inject::Trigger::at_time);
  CHECK(injects[0].time_s == 40 * 60.0);
  CHECK(injects[0].from == "Météo-France");
  CHECK(injects[0].message == "Vigilance rouge \"pluie-inondation\", Gard");
  CHECK(injects[0].expected == "Open the PC crise,\r\ncall the prefecture");
  CHECK(injects[0].to == std::vector<std::string>{"crisis"});
  CHECK(injects[1].trigger == Inject::Trigger::after);
  CHECK(injects[1].after == "1");
  CHECK(injects[1].delay_s == 300.0);
  CHECK(injects[1].to == std::vector<std::string>{"police", "traffic"});
  CHECK(injects[1].line == 4);  // the first record spans lines 2 and 3
  CHECK(injects[2].trigger == Inject::Trigger::manual);
  CHECK(injects[2].to == std::vector<std::string>{"reports"});
  CHECK(injects[2].line == 6);
  CHECK(injects[3].time_s == 1800.0);
  CHECK(injects[3].to == std::vector<std::string>{"all"});
  const auto named = parse_msel(kHeader + "\nINJ-a,07:40,message,,,crisis,a,,,\nINJ-b,AFTER INJ-a,message,,,crisis,b,,,\n",
                                "msel.csv", k0700);
  CHECK(named[1].after == "INJ-a");
  const auto state = parse_msel(kHeader + "\n1,When lg-ales-ville > 2.5m and h9_9 open,message,,,crisis,a,,,\n"
                                          "2,when lg-vistre-est < 0.2 m,message,,,crisis,b,,,\n",
                                "msel.csv", k0700);
  CHECK(state[0].trigger == Inject::Trigger::on_state);
  CHECK(state[0].gauge == "lg-ales-ville");
  CHECK(state[0].depth_m == 2.5);
  CHECK(state[0].rising);
  CHECK(state[0].road == "h9_9");
  CHECK(state[0].road_open);
  CHECK_FALSE(state[1].rising);
  CHECK(state[1].road.empty());
}

TEST_CASE("Bad MSEL rows are refused with their line", "[unit][msel]") {
  CHECK_THAT(refusal("Event Number,Message\n1,x\n"), Catch::Contains("msel.csv:1") && Catch::Contains("Designated"));
  CHECK_THAT(refusal(kHeader + "\n1,07:40,message,,,crisis,a,,,\n1,07:50,message,,,crisis,b,,,\n"),
             Catch::Contains("msel.csv:3") && Catch::Contains("twice"));
  CHECK_THAT(refusal(kHeader + "\n1,25h61,message,,,crisis,a,,,\n"), Catch::Contains("msel.csv:2"));
  CHECK_THAT(refusal(kHeader + "\n1,06:00,message,,,crisis,a,,,\n"), Catch::Contains("msel.csv:2"));
  CHECK_THAT(refusal(kHeader + "\n1,07:40,message,,,firemen,a,,,\n"), Catch::Contains("msel.csv:2") && Catch::Contains("firemen"));
  CHECK_THAT(refusal(kHeader + "\n1,07:40,message,,,crisis,,,,\n"), Catch::Contains("no Message"));
  CHECK_THAT(refusal(kHeader + "\n1,after 9,message,,,crisis,a,,,\n"), Catch::Contains("msel.csv:2") && Catch::Contains("'9'"));
  CHECK_THAT(refusal(kHeader + "\n1,after 2,message,,,crisis,a,,,\n2,after 1,message,,,crisis,b,,,\n"),
             Catch::Contains("itself"));
  CHECK_THAT(refusal(kHeader + "\n1,07:40,message,,,crisis,\"never closed,,,\n"), Catch::Contains("never closed"));
  CHECK_THAT(refusal(kHeader + "\n1,07:40,message,,,crisis,\"a\"b,,,\n"), Catch::Contains("msel.csv:2") && Catch::Contains("after a closing quote"));
  CHECK_THAT(refusal(kHeader + "\n1,07:40,message,,,crisis,a,,,,,extra\n"), Catch::Contains("fields"));
  CHECK_THAT(refusal(""), Catch::Contains("empty"));
  CHECK_THAT(refusal(kHeader + "\n1,when lg-ales-ville >> 2m,message,,,crisis,a,,,\n"), Catch::Contains("msel.csv:2") && Catch::Contains("when GAUGE"));
}

TEST_CASE("An exported MSEL with its outcomes is read back the same", "[unit][msel]") {
  const auto injects = parse_msel(kHeader + "\n1,07:40,message,phone,\"Météo, France\",crisis,\"Line one\nline two\",,OBJ-1,\n"
                                             "2,after 1 +5min,message,,,police;traffic,b,,,\n",
                                  "msel.csv", k0700);
  const std::vector<InjectOutcome> outcomes = {{"acknowledged", "07:40", "07:42 player:bob", "On it, \"now\""},
                                               {"scheduled", "", "", ""}};
  const std::string csv = msel_csv(injects, &outcomes);
  CHECK_THAT(csv, Catch::StartsWith(kHeader + ",State,Delivered,Acknowledged,Response\r\n"));
  const auto again = parse_msel(csv, "export.csv", k0700);
  REQUIRE(again.size() == 2);
  CHECK(again[0].from == "Météo, France");
  CHECK(again[0].message == "Line one\nline two");
  CHECK(again[1].after == "1");
  CHECK(again[1].delay_s == 300.0);
  CHECK(again[1].to == injects[1].to);
  CHECK(read_csv(csv, "export.csv")[1].fields[13] == "On it, \"now\"");
}

TEST_CASE("The flagship MSEL reads, fits its exercise and keeps every cell busy", "[unit][msel]") {
  const auto injects = parse_msel(flagship_msel_text(), "scenarios/flash-flood-1988.msel.csv", k0700);
  CHECK(injects.size() >= 25);
  for (const char* cell : kMselCells) {
    const auto n = std::count_if(injects.begin(), injects.end(), [&](const Inject& i) {
      return std::find(i.to.begin(), i.to.end(), cell) != i.to.end() || i.to == std::vector<std::string>{"all"};
    });
    INFO(cell);
    CHECK(n >= 3);
  }
  for (const auto& i : injects) {
    INFO(i.number);
    CHECK(!i.expected.empty());
    CHECK(!i.objective.empty());
    if (i.trigger == Inject::Trigger::at_time) CHECK(i.time_s <= 2 * 3600.0);  // the exercise lasts 2 h
  }
}

TEST_CASE("Inject effects change the hazard, fake a sensor, place a report and block roads", "[unit][msel]") {
  const std::string header = kHeader + ",Effect";
  const auto injects = parse_msel(
      header + "\n"
               "1,07:40,hazard,radio,Flood officer,flood,Alès rising,,,,\"inflow cadereau-ales 250 m3/s, 400 m3/s at +20min, 50 m3/s at +1h\"\n"
               "2,07:45,sensor,,,flood,Gauge reads 3.2 m,,,,sensor lg-ales-ville 3.2 m\n"
               "3,07:50,sensor,,,flood,Gauge silent,,,,sensor lg-ales-ville failed\n"
               "4,07:55,report,phone,Resident,reports,Water in the street,,,,at 4.3601 43.8367\n"
               "5,08:00,report,phone,Resident,reports,Water at the school,,,,at school-amoureux\n"
               "6,08:05,incident,radio,Patrol,police,Crash on the avenue,,,,block h9_9 -h9_9\n"
               "7,08:10,hazard,,,crisis,Rain doubles,,,,rain territory 80 mm/h\n"
               "8,08:15,message,,,crisis,Just words,,,,\n",
      "msel.csv", k0700);
  REQUIRE(injects.size() == 8);
  using K = InjectEffect::Kind;
  CHECK(injects[0].effect.kind == K::inflow);
  CHECK(injects[0].effect.target == "cadereau-ales");
  CHECK(injects[0].effect.offsets_s == std::vector<double>{0.0, 1200.0, 3600.0});
  CHECK(injects[0].effect.values == std::vector<double>{250.0, 400.0, 50.0});
  CHECK(injects[1].effect.kind == K::sensor_reading);
  CHECK(injects[1].effect.values == std::vector<double>{3.2});
  CHECK(injects[2].effect.kind == K::sensor_failure);
  CHECK(injects[3].effect.kind == K::report);
  CHECK(injects[3].effect.lon == Approx(4.3601));
  CHECK(injects[3].effect.lat == Approx(43.8367));
  CHECK(injects[4].effect.target == "school-amoureux");
  CHECK(injects[5].effect.roads == std::vector<std::string>{"h9_9", "-h9_9"});
  CHECK(injects[6].effect.kind == K::rain);
  CHECK(injects[6].effect.target == "territory");
  CHECK(injects[7].effect.kind == K::none);
  // The export keeps the effects and reads back the same.
  const auto again = parse_msel(msel_csv(injects), "export.csv", k0700);
  REQUIRE(again.size() == 8);
  for (std::size_t k = 0; k < again.size(); ++k) {
    CHECK(again[k].effect.text == injects[k].effect.text);
    CHECK(again[k].effect.values == injects[k].effect.values);
  }
  // Without effects, the export stays the ten HSEEP columns.
  CHECK_THAT(msel_csv({injects[7]}), Catch::StartsWith(kHeader + "\r\n"));
}

TEST_CASE("Bad inject effects are refused with their line and what is wrong", "[unit][msel]") {
  const std::string header = kHeader + ",Effect\n";
  const auto row = [&](const std::string& type, const std::string& effect) {
    return refusal(header + "1,07:40," + type + ",,,flood,a,,,,\"" + effect + "\"\n");
  };
  CHECK_THAT(row("message", "inflow x 10 m3/s"), Catch::Contains("msel.csv:2") && Catch::Contains("Event Type hazard"));
  CHECK_THAT(row("hazard", ""), Catch::Contains("msel.csv:2") && Catch::Contains("needs an Effect"));
  CHECK_THAT(row("incident", ""), Catch::Contains("block EDGE"));
  CHECK_THAT(row("hazard", "inflow x 10 l/s"), Catch::Contains("unit is m3/s"));
  CHECK_THAT(row("hazard", "inflow x -5 m3/s"), Catch::Contains("-5"));
  CHECK_THAT(row("hazard", "inflow x 1e7 m3/s"), Catch::Contains("from 0 to 20000"));
  CHECK_THAT(row("hazard", "inflow x 10 m3/s, 20 m3/s"), Catch::Contains("says when"));
  CHECK_THAT(row("hazard", "inflow x 10 m3/s, 20 m3/s at +1h, 5 m3/s at +30min"), Catch::Contains("increase"));
  CHECK_THAT(row("hazard", "inflow x 10 m3/s, 20 m3/s at +soon"), Catch::Contains("not a duration"));
  CHECK_THAT(row("hazard", "rain territory 900 mm/h"), Catch::Contains("from 0 to 500"));
  CHECK_THAT(row("hazard", "flood everything"), Catch::Contains("expected 'inflow"));
  CHECK_THAT(row("sensor", "sensor g high"), Catch::Contains("'high' is not a reading"));
  CHECK_THAT(row("sensor", "sensor g"), Catch::Contains("sensor ID VALUE"));
  CHECK_THAT(row("report", "at 400 43.8"), Catch::Contains("WGS84"));
  CHECK_THAT(row("report", "at"), Catch::Contains("at ID"));
  CHECK_THAT(row("incident", "block"), Catch::Contains("block EDGE"));
}
