// Bad green-wave requests, generated (issue 17): lights out of order or off
// one street, route files empty, cut short or for another network, windows
// with no traffic, cycle bounds that contradict each other. Each used to
// give an all-zero or zig-zag report; each must be refused, naming the
// option or the file, before (or instead of) a plan.

#include "bad_run.h"
#include "cadereau/data/demo_territory.h"
#include "test_support.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using cadereau::testing::BadRun;
using cadereau::testing::TempDir;
using cadereau::testing::expect_refused;
using cadereau::testing::read_text;
using cadereau::testing::run_cadereau;
using cadereau::testing::write_text;
namespace fs = std::filesystem;

TEST_CASE("Generated bad green-wave requests are refused naming the option or the file",
          "[integration][robustness][greenwave]") {
  TempDir tmp;
  const fs::path dir = tmp / "territory";
  cadereau::data::DemoOptions options;
  options.cell_size_m = 50.0;
  options.peak_vehicles = 200;
  cadereau::data::write_demo_territory(dir, options);
  const std::string net = (dir / "network.net.xml").string(), routes = (dir / "demand.rou.xml").string();
  const std::string out = (tmp / "out").string();
  const std::string demand = read_text(routes);

  auto request = [&](const std::string& tls, const std::string& route_files, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"greenwave", "--net", net, "--routes", route_files, "--tls", tls, "--out", out};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  auto routes_file = [&](const std::string& name, const std::string& text) {
    write_text(tmp / name, text);
    return (tmp / name).string();
  };
  const std::string avenue = "J3_9,J5_9,J7_9";
  std::vector<BadRun> cases;

  // Lights: out of order, off the street, repeated, alone, unknown.
  for (const auto& [tls, word] : std::vector<std::pair<std::string, std::string>>{
           {"J5_9,J3_9,J7_9", "not next to each other"},
           {"J3_9,J7_9,J5_9", "not next to each other"},
           {"J7_9,J3_9", "'J5_9' lies between them"},
           {"J3_9,J9_17", "not on one street"},
           {"J3_9,J5_9,J13_13", "not on one street"},
           {"J3_9,J3_9", "twice"},
           {"J3_9", "at least two"},
           {"J3_9,J99_99", "J99_99"},
           {"J3_9,,J5_9", "empty light id"}})
    cases.push_back({"--tls " + tls, request(tls, routes), "--tls", {word}});

  // Route files: empty, cut short, of another kind, for another network, none departing.
  const std::vector<std::tuple<std::string, std::string, std::string>> bad_routes{
      {"empty.rou.xml", "", "empty"},
      {"blank.rou.xml", "\n\n   \n", "empty"},
      {"cut_half.rou.xml", demand.substr(0, demand.size() / 2), "truncated"},
      {"cut_end.rou.xml", demand.substr(0, demand.rfind("</routes>")), "truncated"},
      {"additional.rou.xml", "<additional><vType id=\"car\"/></additional>\n", "<additional>"},
      {"none.rou.xml", "<routes>\n  <vType id=\"car\"/>\n</routes>\n", "no vehicle"},
      {"elsewhere.rou.xml",
       "<routes>\n  <vehicle id=\"v0\" depart=\"25200\">\n    <route edges=\"nowhere_1 nowhere_2\"/>\n  </vehicle>\n"
       "</routes>\n",
       "'nowhere_1'"},
      {"bad_depart.rou.xml", "<routes>\n  <vehicle id=\"v0\" depart=\"soon\">\n    <route edges=\"v1_6\"/>\n  </vehicle>\n</routes>\n",
       "no vehicle"},
  };
  for (const auto& [name, text, word] : bad_routes)
    cases.push_back({"routes " + name, request(avenue, routes_file(name, text)), name, {word}});
  cases.push_back({"routes that do not exist", request(avenue, (tmp / "absent.rou.xml").string()), "absent.rou.xml"});

  // Windows: before the demand, after it, reversed, and one whose only
  // vehicle never comes near the corridor (side streets of avenue Talabot).
  cases.push_back({"window before the demand", request(avenue, routes, {"--begin", "0", "--end", "100"}), "demand.rou.xml",
                   {"no trip departs in the window"}});
  cases.push_back({"window after the demand", request(avenue, routes, {"--begin", "90000"}), "demand.rou.xml",
                   {"no trip departs in the window"}});
  cases.push_back({"window reversed", request(avenue, routes, {"--begin", "28000", "--end", "27000"}), "--end"});
  const std::string side = routes_file(
      "side.rou.xml",
      "<routes>\n  <vType id=\"car\"/>\n  <vehicle id=\"s0\" type=\"car\" depart=\"25200\">\n"
      "    <route edges=\"v1_6 v1_7\"/>\n  </vehicle>\n</routes>\n");
  cases.push_back({"no traffic on the corridor", request(avenue, side), "side.rou.xml",
                   {"no vehicle drove on the corridor", "J3_9", "J7_9"}});

  // Cycle and green bounds that contradict each other.
  cases.push_back({"min cycle above max cycle", request(avenue, routes, {"--min-cycle-s", "100", "--max-cycle-s", "60"}),
                   "--min-cycle-s", {"--max-cycle-s"}});
  cases.push_back({"cycle below the min cycle", request(avenue, routes, {"--cycle-s", "40", "--min-cycle-s", "60"}),
                   "--cycle-s"});
  cases.push_back({"cycle above the max cycle", request(avenue, routes, {"--cycle-s", "150", "--max-cycle-s", "120"}),
                   "--cycle-s"});
  cases.push_back({"min green that fills the cycle", request(avenue, routes, {"--cycle-s", "60", "--min-green-s", "40"}),
                   "--min-green-s"});
  cases.push_back({"speed of zero", request(avenue, routes, {"--speed-kmh", "0"}), "--speed-kmh"});
  cases.push_back({"cycle of a second", request(avenue, routes, {"--cycle-s", "1"}), "--cycle-s"});

  // The search's settings: periods that are not periods, no seed, a negative
  // budget, a base file that is not there, periods outside the window.
  cases.push_back({"periods not HH:MM-HH:MM", request(avenue, routes, {"--periods", "7-9"}), "--periods",
                   {"not a period"}});
  cases.push_back({"periods reversed", request(avenue, routes, {"--periods", "09:00-07:00"}), "--periods"});
  cases.push_back({"no seed", request(avenue, routes, {"--seeds", "0"}), "--seeds"});
  cases.push_back({"negative budget", request(avenue, routes, {"--budget-s", "-5"}), "--budget-s"});
  cases.push_back({"additional file absent", request(avenue, routes, {"--additional", (tmp / "absent.add.xml").string()}),
                   "absent.add.xml"});
  cases.push_back({"period outside the window", request(avenue, routes, {"--periods", "03:00-04:00"}), "--periods",
                   {"outside the window"}});

  // The network itself: cut short.
  const std::string net_text = read_text(net);
  write_text(tmp / "cut.net.xml", net_text.substr(0, net_text.size() / 3));
  auto cut = request(avenue, routes);
  cut[2] = (tmp / "cut.net.xml").string();
  cases.push_back({"network cut short", cut, "cut.net.xml"});

  REQUIRE(cases.size() >= 31);
  expect_refused(cases, 10.0);
  CHECK_FALSE(fs::exists(fs::path(out) / "report.json"));
}
