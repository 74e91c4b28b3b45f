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
