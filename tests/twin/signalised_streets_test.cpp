// Streets and their lights: a small named town built by netconvert in the
// test (one avenue of five junctions 200 m apart, three of them signalised,
// written east to west), then the demo territory's avenue du Languedoc as
// `territory info` lists it.

#include "cadereau/twin/road_network.h"
#include "cadereau/twin/signalised_streets.h"
#include "cadereau/twin/territory.h"
#include "test_support.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <string>

using cadereau::testing::TempDir;
using cadereau::testing::read_text;
using cadereau::testing::write_text;
using namespace cadereau::twin;

namespace {

// Avenue A (east) .. E (west) on y = 6302000; lights at B, C and E; a side
// street north of every junction.
std::filesystem::path build_avenue(const TempDir& dir) {
  struct Node {
    const char* id;
    double x_m;
    bool light;
  };
  const Node nodes[] = {{"A", 810800, false}, {"B", 810600, true}, {"C", 810400, true}, {"D", 810200, false}, {"E", 810000, true}};
  std::string nod = "<nodes>\n", edg = "<edges>\n";
  for (const auto& n : nodes) {
    nod += fmt::format("  <node id=\"{}\" x=\"{}\" y=\"6302000\" type=\"{}\"/>\n", n.id, n.x_m,
                       n.light ? "traffic_light" : "priority");
    nod += fmt::format("  <node id=\"{}n\" x=\"{}\" y=\"6302150\" type=\"priority\"/>\n", n.id, n.x_m);
    edg += fmt::format("  <edge id=\"{0}n\" from=\"{0}\" to=\"{0}n\" numLanes=\"1\" speed=\"13.89\" name=\"rue {0}\"/>\n", n.id);
    edg += fmt::format("  <edge id=\"-{0}n\" from=\"{0}n\" to=\"{0}\" numLanes=\"1\" speed=\"13.89\" name=\"rue {0}\"/>\n", n.id);
  }
  for (std::size_t k = 0; k + 1 < std::size(nodes); ++k) {
    const char* a = nodes[k].id;
    const char* b = nodes[k + 1].id;
    edg += fmt::format("  <edge id=\"{0}{1}\" from=\"{0}\" to=\"{1}\" numLanes=\"1\" speed=\"13.89\" name=\"avenue Test\"/>\n", a, b);
    edg += fmt::format("  <edge id=\"{1}{0}\" from=\"{1}\" to=\"{0}\" numLanes=\"1\" speed=\"13.89\" name=\"avenue Test\"/>\n", a, b);
  }
  write_text(dir / "n.nod.xml", nod + "</nodes>\n");
  write_text(dir / "e.edg.xml", edg + "</edges>\n");
  const auto net = dir / "avenue.net.xml";
  ::setenv("SUMO_HOME", "/usr/share/sumo", 1);
  const std::string line = fmt::format("netconvert --node-files \"{}\" --edge-files \"{}\" -o \"{}\" > \"{}\" 2>&1",
                                       (dir / "n.nod.xml").string(), (dir / "e.edg.xml").string(), net.string(),
                                       (dir / "netconvert.log").string());
  const int rc = std::system(line.c_str());
  INFO(line << "\n" << read_text(dir / "netconvert.log"));
  REQUIRE(rc == 0);
  return net;
}

}  // namespace

TEST_CASE("a street's lights come in order west to east with their cross streets", "[unit][streets]") {
  TempDir dir;
  const auto net = RoadNetwork::load(build_avenue(dir));
  CHECK(net.light_junctions("B") == std::vector<std::string>{"B"});
  CHECK(net.light_junctions("nowhere").empty());
  CHECK(streets_at_light(net, "C") == std::vector<std::string>{"avenue Test", "rue C"});
  CHECK(streets_at_light(net, "nowhere").empty());

  const auto streets = signalised_streets(net);
  // The side streets carry one light each: only the avenue is listed.
  REQUIRE(streets.size() == 1);
  const auto& s = streets[0];
  CHECK(s.name == "avenue Test");
  // Written east to west, read west to east.
  REQUIRE(s.lights.size() == 3);
  CHECK(s.lights[0].tls_id == "E");
  CHECK(s.lights[1].tls_id == "C");
  CHECK(s.lights[2].tls_id == "B");
  // Positions along the street, to the junctions' sizes (netconvert shortens
  // edges by the junction shapes): 0, 400 and 600 m.
  CHECK(s.lights[0].position_m == Approx(0.0).margin(1e-9));
  CHECK(s.lights[1].position_m == Approx(400.0).margin(30.0));
  CHECK(s.lights[2].position_m == Approx(600.0).margin(30.0));
  CHECK(s.length_m == Approx(800.0).margin(40.0));
  CHECK(s.lights[1].cross_streets == std::vector<std::string>{"rue C"});
}

TEST_CASE("territory info lists the demo avenue's lights in order with their street", "[integration][streets]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest to use the generated demo territory");
    return;
  }
  const Territory t = Territory::load(*dir);
  REQUIRE(t.network);
  const auto streets = signalised_streets(*t.network);
  const auto avenue = std::find_if(streets.begin(), streets.end(),
                                   [](const SignalisedStreet& s) { return s.name == "avenue du Languedoc"; });
  REQUIRE(avenue != streets.end());
  // The generator signalises every other junction of the arterial's row
  // (lattice columns 3 to 29, row 9), west to east.
  std::string ids;
  for (int column = 3; column <= 29; column += 2) ids += fmt::format("{}J{}_9", ids.empty() ? "" : ",", column);
  std::string listed;
  for (std::size_t k = 0; k < avenue->lights.size(); ++k) {
    listed += (k ? "," : "") + avenue->lights[k].tls_id;
    if (k > 0) CHECK(avenue->lights[k].position_m > avenue->lights[k - 1].position_m + 200.0);
  }
  CHECK(listed == ids);
  // The most lights of any street: listed first.
  CHECK(streets.front().name == "avenue du Languedoc");

  const std::string info = describe(t);
  INFO(info);
  CHECK_THAT(info, Catch::Contains("avenue du Languedoc (14 lights over") && Catch::Contains(ids));
  // Every light on a line of its own, with its asset's name and its streets.
  CHECK_THAT(info, Catch::Contains("J17_9   Feux avenue du Languedoc / avenue Jean Jaurès") &&
                       Catch::Contains("avenue Jean Jaurès, avenue du Languedoc\n"));
}
