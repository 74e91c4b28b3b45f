// `cadereau greenwave` on the demo territory's avenue du Languedoc over a
// quarter of an hour of the morning peak (6 s of SUMO per run when
// measured): what it prints agrees with report.json, plain `sumo` runs the
// plan without SUMO_HOME, and lights off one street are refused.

#include "cadereau/server/cli.h"
#include "cli_run.h"
#include "test_support.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

using cadereau::testing::CliRun;
using cadereau::testing::TempDir;
using cadereau::testing::read_text;
using cadereau::testing::run_cadereau;

namespace {

// The avenue's lights, west to east (the generator signalises every other
// junction of lattice row 9, columns 3 to 29).
std::string avenue_lights() {
  std::string ids;
  for (int column = 3; column <= 29; column += 2) ids += fmt::format("{}J{}_9", ids.empty() ? "" : ",", column);
  return ids;
}

// The summary's table as "group / row" -> (baseline, plan) cells; an
// indented row belongs to the unindented row above it.
std::map<std::string, std::pair<std::string, std::string>> table(const std::string& out) {
  std::map<std::string, std::pair<std::string, std::string>> cells;
  std::istringstream in(out);
  std::string line, group;
  while (std::getline(in, line)) {
    if (line.rfind("greenwave:", 0) == 0 || line.size() <= 42) continue;
    std::string label = line.substr(0, 42);
    label.erase(label.find_last_not_of(' ') + 1);
    if (label.empty()) continue;
    const bool indented = label[0] == ' ';
    if (!indented) group = label;
    std::istringstream values(line.substr(42));
    std::string b, p;
    values >> b >> p;
    cells[indented ? group + " / " + label.substr(label.find_first_not_of(' ')) : label] = {b, p};
  }
  return cells;
}

std::string expected_cell(const nlohmann::json& value, bool count) {
  if (value.is_null()) return "n/a";
  return count ? fmt::format("{}", value.get<long>()) : fmt::format("{:.2f}", value.get<double>());
}

bool have_sumo() { return std::system("command -v sumo > /dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("greenwave on the demo avenue prints what report.json says", "[integration][cli][greenwave]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest to use the generated demo territory");
    return;
  }
  TempDir tmp;
  const auto out = tmp / "out";
  const std::string net = (*dir / "network.net.xml").string(), routes = (*dir / "demand.rou.xml").string();
  // 07:45-08:00, the height of the peak.
  const CliRun r = run_cadereau({"greenwave", "--net", net, "--routes", routes, "--tls", avenue_lights(), "--begin",
                                 "27900", "--end", "28800", "--budget-s", "10", "--seeds", "1", "--out", out.string()});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  const auto report = nlohmann::json::parse(read_text(out / "report.json"));

  CHECK_THAT(r.out, Catch::Contains("14 lights along avenue du Languedoc") &&
                        Catch::Contains("window 07:45:00 to 08:00:00 (27900-28800 s)"));
  const long in_window = report["demand"]["trips_in_window"];
  CHECK(in_window > 500);
  CHECK_THAT(r.out, Catch::Contains(fmt::format("{} of the demand's {} trips depart in it", in_window,
                                                report["demand"]["trips_in_demand"].get<long>())));
  CHECK(report["corridor"]["street"] == "avenue du Languedoc");
  CHECK(report["corridor"]["lights"].size() == 14);
  // The search's progress comes as it goes, and its starting plans, SUMO's
  // tools among them, are on the terminal beside the plan it kept.
  CHECK_THAT(r.err, Catch::Contains("greenwave: simulating") && Catch::Contains("starting plans on 1 seeds"));
  const auto& search = report["signal_plan"]["periods"][0]["search"];
  CHECK_THAT(r.out, Catch::Contains("reference: " + search["reference"].get<std::string>()) &&
                        Catch::Contains("tlsCoordinator") && Catch::Contains("best: " + search["best"]["name"].get<std::string>()));
  for (const auto& start : search["starts"])
    CHECK(search["best"]["score"]["objective_s"].get<double>() <= start["score"]["objective_s"].get<double>());

  // The trips that carry the traffic are on the terminal, counted, and
  // every row reads as report.json: "n/a" where it has null.
  const auto cells = table(r.out);
  struct Row {
    std::string label;
    const char* pointer;
    bool count;
  };
  const Row rows[] = {
      {"trips completed (veh)", "/all_trips/vehicles", true},
      {"trips completed (veh) / mean travel time (s)", "/all_trips/mean_travel_time_s", false},
      {"corridor trips, on any part of it (veh)", "/corridor_trips/vehicles", true},
      {"corridor trips, on any part of it (veh) / mean travel time (s)", "/corridor_trips/mean_travel_time_s", false},
      {"corridor trips, on any part of it (veh) / mean delay (s)", "/corridor_trips/mean_delay_s", false},
      {"corridor trips, on any part of it (veh) / stops per vehicle", "/corridor_trips/stops_per_vehicle", false},
      {"cross-street trips (veh)", "/cross_street_trips/vehicles", true},
      {"whole corridor forward (veh)", "/forward/vehicles", true},
      {"whole corridor forward (veh) / travel time along it (s)", "/forward/mean_travel_time_s", false},
      {"whole corridor backward (veh)", "/backward/vehicles", true},
      {"whole corridor backward (veh) / travel time along it (s)", "/backward/mean_travel_time_s", false},
      {"still driving at the end (veh)", "/unfinished", true},
      {"throughput (veh/h)", "/throughput_veh_h", false},
      {"green band forward (s)", "/bandwidth_forward_s", false},
  };
  for (const auto& row : rows) {
    INFO(row.label);
    REQUIRE(cells.count(row.label) == 1);
    const nlohmann::json::json_pointer at(row.pointer);
    CHECK(cells.at(row.label).first == expected_cell(report["baseline"].at(at), row.count));
    CHECK(cells.at(row.label).second == expected_cell(report["plan"].at(at), row.count));
  }
  CHECK(report["baseline"]["corridor_trips"]["vehicles"].get<long>() > 20);
  // A direction no vehicle drove end to end is said so, on both sides.
  for (const auto& w : report["warnings"]) CHECK_THAT(r.err, Catch::Contains(w.get<std::string>()));
  if (report["baseline"]["forward"]["vehicles"] == 0)
    CHECK_THAT(r.err, Catch::Contains("no vehicle drove the whole corridor from J3_9 to J29_9"));

  // `sumo -a plan.add.xml` on the demo's files, as a user types it: no SUMO_HOME.
  if (!have_sumo()) {
    WARN("sumo is not on PATH: the plain-sumo run of the plan is skipped");
    return;
  }
  const auto log = tmp / "sumo.log";
  const std::string sumo = fmt::format(
      "env -u SUMO_HOME sumo -n '{}' -r '{}' -a '{}' --begin 27900 --end 27960 --no-step-log > '{}' 2>&1", net, routes,
      (out / "plan.add.xml").string(), log.string());
  const int rc = std::system(sumo.c_str());
  INFO(sumo << "\n" << read_text(log));
  CHECK(rc == 0);
  CHECK(read_text(log).find("Error") == std::string::npos);
}

TEST_CASE("greenwave refuses lights that zig-zag off the avenue, naming them and their streets", "[integration][cli][greenwave]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest to use the generated demo territory");
    return;
  }
  TempDir tmp;
  const std::string net = (*dir / "network.net.xml").string(), routes = (*dir / "demand.rou.xml").string();
  // J3_9 is on the avenue, J9_17 on route de Sommières: the shortest road
  // between them runs through side streets.
  const CliRun zigzag = run_cadereau({"greenwave", "--net", net, "--routes", routes, "--tls", "J3_9,J9_17", "--out",
                                      (tmp / "a").string()});
  CHECK(zigzag.code == 1);
  CHECK_THAT(zigzag.err, Catch::Contains("'J3_9' and 'J9_17' are not on one street") &&
                             Catch::Contains("avenue du Languedoc") && Catch::Contains("route de Sommières"));
  // On the avenue but skipping a light.
  const CliRun skip = run_cadereau({"greenwave", "--net", net, "--routes", routes, "--tls", "J3_9,J7_9", "--out",
                                    (tmp / "b").string()});
  CHECK(skip.code == 1);
  CHECK_THAT(skip.err, Catch::Contains("not next to each other along avenue du Languedoc") &&
                           Catch::Contains("'J5_9' lies between them") &&
                           Catch::Contains("its lights in order: " + avenue_lights()));
  CHECK_FALSE(std::filesystem::exists(tmp / "a" / "report.json"));
}
