// RoadNetwork::load on small networks built by SUMO's own tools, and on
// hand-written broken files. Tolerances are on map coordinates: SUMO writes
// positions with two decimals, so the round trip through netOffset must give
// back the input node positions to the millimetre.

#include "cadereau/twin/error.h"
#include "cadereau/twin/road_network.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>

using cadereau::Error;
using cadereau::testing::TempDir;
using cadereau::testing::read_text;
using cadereau::testing::write_text;
using namespace cadereau::twin;

namespace {

constexpr double kTolM = 0.001;  // 1 mm

// Runs a SUMO tool with its schemas taken from the local install (otherwise it
// tries to fetch them from the network). Output goes to a log beside the net.
void run_sumo_tool(const std::string& command, const std::filesystem::path& log) {
  ::setenv("SUMO_HOME", "/usr/share/sumo", 1);
  const std::string line = command + " > \"" + log.string() + "\" 2>&1";
  const int rc = std::system(line.c_str());
  INFO(line << "\n" << read_text(log));
  REQUIRE(rc == 0);
}

// Nodes in Lambert-93 around Nîmes: netconvert moves them to the origin and
// records the shift in netOffset, which load() must undo.
struct NodeSpec {
  const char* id;
  double x_m;
  double y_m;
  const char* type;
};
constexpr NodeSpec kNodes[] = {
    {"A", 810000.00, 6302000.00, "priority"},
    {"B", 810100.00, 6302000.00, "traffic_light"},
    {"C", 810200.00, 6302000.00, "priority"},
    {"D", 810100.00, 6302123.45, "priority"},
};

std::filesystem::path build_lambert_net(const TempDir& dir) {
  std::string nodes = "<nodes>\n";
  for (const auto& n : kNodes)
    nodes += fmt::format("  <node id=\"{}\" x=\"{:.2f}\" y=\"{:.2f}\" type=\"{}\"/>\n", n.id, n.x_m, n.y_m, n.type);
  nodes += "</nodes>\n";
  write_text(dir / "n.nod.xml", nodes);
  write_text(dir / "e.edg.xml", R"(<edges>
  <edge id="AB" from="A" to="B" numLanes="2" speed="13.89" name="Rue de la Cigale"/>
  <edge id="BA" from="B" to="A" numLanes="1" speed="13.89"/>
  <edge id="BC" from="B" to="C" numLanes="1" speed="8.33" shape="810100,6302000 810150,6302030 810200,6302000"/>
  <edge id="CB" from="C" to="B" numLanes="1" speed="8.33"/>
  <edge id="BD" from="B" to="D" numLanes="3" speed="11.11"/>
  <edge id="DB" from="D" to="B" numLanes="1" speed="11.11"/>
</edges>
)");
  const auto net = dir / "lambert.net.xml";
  run_sumo_tool(fmt::format("netconvert --xml-validation never --node-files \"{}\" --edge-files \"{}\" "
                            "--tls.cycle.time 90 -o \"{}\"",
                            (dir / "n.nod.xml").string(), (dir / "e.edg.xml").string(), net.string()),
                dir / "netconvert.log");
  return net;
}

// A minimal, valid network written by hand (one edge, one junction), used as
// the base of the broken-file tests.
constexpr const char* kTinyNet = R"(<?xml version="1.0" encoding="UTF-8"?>
<net version="1.9">
    <location netOffset="-810000.00,-6302000.00" convBoundary="0.00,0.00,100.00,0.00" origBoundary="810000,6302000,810100,6302000" projParameter="!"/>
    <edge id=":J0_0" function="internal">
        <lane id=":J0_0_0" index="0" speed="5.00" length="3.00" shape="0.00,0.00 1.00,1.00"/>
    </edge>
    <edge id="E1" from="J0" to="J1" priority="2">
        <lane id="E1_0" index="0" speed="13.89" length="100.00" shape="0.00,-1.60 100.00,-1.60"/>
    </edge>
    <junction id="J0" type="dead_end" x="0.00" y="0.00" incLanes="" intLanes="" shape="0.00,0.00 0.00,-3.20"/>
    <junction id=":J0_0_0" type="internal" x="0.50" y="0.50" incLanes="" intLanes=""/>
</net>
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  return text.replace(pos, from.size(), to);
}

// Loads a file that must fail and returns the error.
Error load_error(const std::filesystem::path& path) {
  try {
    RoadNetwork::load(path);
  } catch (const Error& e) {
    return e;
  }
  FAIL("RoadNetwork::load(" << path << ") did not throw");
  return Error("", "");
}

}  // namespace

TEST_CASE("netconvert network: edges, lanes, junctions and lights in map coordinates", "[integration][road_network]") {
  TempDir dir;
  const auto path = build_lambert_net(dir);
  const RoadNetwork net = RoadNetwork::load(path);

  SECTION("netOffset is read and undone") {
    CHECK(net.location().offset_x_m == Approx(-810000.0).margin(kTolM));
    CHECK(net.location().offset_y_m == Approx(-6302000.0).margin(kTolM));
    CHECK(net.location().proj_parameter == "!");
    CHECK(net.location().original_boundary.x_min_m == Approx(810000.0).margin(kTolM));
    CHECK(net.location().converted_boundary.x_min_m == Approx(0.0).margin(kTolM));
  }

  SECTION("edges: ids, lanes, speeds; internal edges excluded") {
    REQUIRE(read_text(path).find("function=\"internal\"") != std::string::npos);  // the file has some
    std::set<std::string> ids;
    for (const auto& e : net.edges()) ids.insert(e.id);
    CHECK(ids == std::set<std::string>{"AB", "BA", "BC", "CB", "BD", "DB"});
    CHECK(net.edges().size() == 6);

    const Edge* ab = net.find_edge("AB");
    REQUIRE(ab);
    CHECK(ab->name == "Rue de la Cigale");
    CHECK(ab->from_junction == "A");
    CHECK(ab->to_junction == "B");
    REQUIRE(ab->lanes.size() == 2);
    CHECK(ab->lanes[0].index == 0);
    CHECK(ab->lanes[1].index == 1);
    CHECK(ab->lanes[0].id == "AB_0");
    CHECK(ab->speed_m_s() == Approx(13.89).margin(1e-9));
    CHECK(ab->length_m() > 80.0);
    CHECK(ab->length_m() < 100.0);
    CHECK(net.find_edge("BD")->lanes.size() == 3);
    CHECK(net.find_edge("BC")->speed_m_s() == Approx(8.33).margin(1e-9));
    CHECK(net.find_edge(":B_0") == nullptr);
    CHECK_FALSE(net.edge_index(":B_0"));
    REQUIRE(net.edge_index("CB"));
    CHECK(net.edges()[*net.edge_index("CB")].id == "CB");

    // Lanes sit in map coordinates, on the road between A (x 810000) and B.
    for (const auto& p : ab->lanes[0].shape) {
      CHECK(p.x_m >= 810000.0 - kTolM);
      CHECK(p.x_m <= 810100.0 + kTolM);
      CHECK(p.y_m == Approx(6302000.0).margin(10.0));
    }
  }

  SECTION("centre lines: given shape, middle lane, mean of the two middle lanes") {
    const Edge& bc = *net.find_edge("BC");
    REQUIRE(bc.shape.size() == 3);  // the shape given to netconvert, not the lane's
    CHECK(bc.shape[1].x_m == Approx(810150.0).margin(kTolM));
    CHECK(bc.shape[1].y_m == Approx(6302030.0).margin(kTolM));

    const Edge& bd = *net.find_edge("BD");  // 3 lanes: lane 1
    REQUIRE(bd.shape == bd.lanes[1].shape);

    const Edge& ab = *net.find_edge("AB");  // 2 lanes: halfway between them
    REQUIRE(ab.shape.size() == ab.lanes[0].shape.size());
    for (std::size_t i = 0; i < ab.shape.size(); ++i) {
      CHECK(ab.shape[i].y_m == Approx(0.5 * (ab.lanes[0].shape[i].y_m + ab.lanes[1].shape[i].y_m)).margin(kTolM));
      CHECK(ab.shape[i].x_m == Approx(ab.lanes[0].shape[i].x_m).margin(kTolM));
    }
  }

  SECTION("junctions at the input node positions, to the millimetre") {
    CHECK(net.junctions().size() == std::size(kNodes));
    for (const auto& n : kNodes) {
      const Junction* j = net.find_junction(n.id);
      REQUIRE(j);
      CHECK(j->type == n.type);
      CHECK(j->position.x_m == Approx(n.x_m).margin(kTolM));
      CHECK(j->position.y_m == Approx(n.y_m).margin(kTolM));
      CHECK(j->shape.size() >= 2);
    }
    for (const auto& j : net.junctions()) CHECK(j.id.front() != ':');
    const Box box = net.bounds();
    for (const auto& n : kNodes) CHECK(box.contains({n.x_m, n.y_m}));
  }

  SECTION("traffic light and its cycle") {
    REQUIRE(net.traffic_lights().size() == 1);
    const TrafficLight* tls = net.find_traffic_light("B");
    REQUIRE(tls);
    CHECK(tls->type == "static");
    CHECK(tls->program_id == "0");
    CHECK(tls->offset_s == 0.0);
    REQUIRE(tls->phases.size() >= 2);
    double sum_s = 0.0;
    for (const auto& phase : tls->phases) {
      sum_s += phase.duration_s;
      CHECK(phase.state.size() == tls->phases.front().state.size());
    }
    CHECK(tls->cycle_s() == Approx(sum_s));
    CHECK(tls->cycle_s() == Approx(90.0));  // --tls.cycle.time 90
    CHECK(net.find_traffic_light("A") == nullptr);
  }

  SECTION("total length is the sum of the edge lengths") {
    double sum_m = 0.0;
    for (const auto& e : net.edges()) sum_m += e.length_m();
    CHECK(net.total_length_m() == Approx(sum_m));
    CHECK(net.total_length_m() > 400.0);
  }
}

TEST_CASE("netgenerate 3x3 grid with guessed lights and a positive netOffset", "[integration][road_network]") {
  TempDir dir;
  const auto path = dir / "grid.net.xml";
  // --offset.x/y shift SUMO's coordinates away from the input frame: map
  // coordinates must come back to the 0..200 m grid that netgenerate laid out.
  run_sumo_tool(fmt::format("netgenerate --xml-validation never --grid --grid.number 3 --grid.length 100 "
                            "--tls.guess true --tls.guess.threshold 1 --tls.cycle.time 90 "
                            "--offset.x 810000 --offset.y 6302000 -o \"{}\"",
                            path.string()),
                dir / "netgenerate.log");
  const RoadNetwork net = RoadNetwork::load(path);

  CHECK(net.location().offset_x_m == Approx(810000.0).margin(kTolM));
  CHECK(net.location().offset_y_m == Approx(6302000.0).margin(kTolM));
  CHECK(net.edges().size() == 24);  // 12 streets, both ways
  CHECK(net.junctions().size() == 9);
  const char* cols = "ABC";
  for (int c = 0; c < 3; ++c) {
    for (int r = 0; r < 3; ++r) {
      const std::string id = fmt::format("{}{}", cols[c], r);
      const Junction* j = net.find_junction(id);
      REQUIRE(j);
      CHECK(j->position.x_m == Approx(100.0 * c).margin(kTolM));
      CHECK(j->position.y_m == Approx(100.0 * r).margin(kTolM));
    }
  }
  const Edge* e = net.find_edge("A0B0");
  REQUIRE(e);
  CHECK(e->from_junction == "A0");
  CHECK(e->to_junction == "B0");
  REQUIRE(e->lanes.size() == 1);
  for (const auto& p : e->shape) CHECK(p.y_m == Approx(-1.6).margin(kTolM));  // right-hand lane, 3.2 m wide

  // The junctions with three or four arms get lights; the corners stay priority.
  std::set<std::string> lights;
  for (const auto& t : net.traffic_lights()) {
    lights.insert(t.id);
    CHECK(t.cycle_s() == Approx(90.0));
    CHECK(net.find_junction(t.id)->type == "traffic_light");
  }
  CHECK(lights == std::set<std::string>{"A1", "B0", "B1", "B2", "C1"});
  for (const auto& edge : net.edges()) CHECK(edge.id.front() != ':');
}

TEST_CASE("a hand-written network loads, internal edges and junctions excluded", "[unit][road_network]") {
  TempDir dir;
  write_text(dir / "tiny.net.xml", kTinyNet);
  const RoadNetwork net = RoadNetwork::load(dir / "tiny.net.xml");
  REQUIRE(net.edges().size() == 1);
  const Edge& e = net.edges()[0];
  CHECK(e.id == "E1");
  CHECK(e.priority == 2);
  CHECK(e.lanes[0].width_m == Approx(3.2));  // SUMO's default when the file says nothing
  REQUIRE(e.shape.size() == 2);
  CHECK(e.shape[0].x_m == Approx(810000.0).margin(kTolM));
  CHECK(e.shape[0].y_m == Approx(6301998.4).margin(kTolM));
  CHECK(e.shape[1].x_m == Approx(810100.0).margin(kTolM));
  REQUIRE(net.junctions().size() == 1);
  CHECK(net.junctions()[0].id == "J0");
  CHECK(net.traffic_lights().empty());
}

TEST_CASE("road network errors say which file, line and element", "[unit][road_network]") {
  TempDir dir;

  SECTION("missing file") {
    const auto path = dir / "nowhere.net.xml";
    const Error e = load_error(path);
    CHECK(e.where() == path.string());
    CHECK_THAT(e.what(), Catch::Contains(path.string()));
  }

  SECTION("truncated file: the XML error is located") {
    std::string text = kTinyNet;
    text.resize(text.find("</edge>", text.find("id=\"E1\"")));  // cut inside edge E1 (line 8)
    const auto path = dir / "truncated.net.xml";
    write_text(path, text);
    const Error e = load_error(path);
    CHECK_THAT(e.where(), Catch::StartsWith(path.string() + ":"));
    CHECK_THAT(e.what(), Catch::Contains("XML"));
  }

  SECTION("corrupt XML: the line of the fault") {
    const auto path = dir / "corrupt.net.xml";
    // Line 7 loses the closing quote of its id.
    write_text(path, replace(kTinyNet, "<edge id=\"E1\" from", "<edge id=\"E1 from=\"J0\" <<"));
    const Error e = load_error(path);
    CHECK(e.where() == path.string() + ":7");
  }

  SECTION("root is not <net>") {
    const auto path = dir / "routes.xml";
    write_text(path, "<routes>\n  <vehicle id=\"v\"/>\n</routes>\n");
    const Error e = load_error(path);
    CHECK_THAT(e.what(), Catch::Contains(path.string()) && Catch::Contains("<routes>"));
  }

  SECTION("no <location>") {
    const auto path = dir / "nolocation.net.xml";
    std::string text = kTinyNet;
    const auto start = text.find("    <location");
    text.erase(start, text.find('\n', start) + 1 - start);
    write_text(path, text);
    CHECK_THAT(load_error(path).what(), Catch::Contains(path.string()) && Catch::Contains("location"));
  }

  SECTION("malformed lane shape names the edge, the lane and the line") {
    const auto path = dir / "shape.net.xml";
    write_text(path, replace(kTinyNet, "0.00,-1.60 100.00,-1.60", "0.00,-1.60 100.00;-1.60"));
    const Error e = load_error(path);
    CHECK(e.where() == path.string() + ":8");
    CHECK_THAT(e.what_only(), Catch::Contains("edge 'E1'") && Catch::Contains("lane 'E1_0'") &&
                                   Catch::Contains("shape") && Catch::Contains("100.00;-1.60"));
  }

  SECTION("malformed edge shape names the edge") {
    const auto path = dir / "edgeshape.net.xml";
    write_text(path, replace(kTinyNet, "priority=\"2\">", "priority=\"2\" shape=\"0,0 12,x\">"));
    const Error e = load_error(path);
    CHECK(e.where() == path.string() + ":7");
    CHECK_THAT(e.what_only(), Catch::Contains("edge 'E1'") && Catch::Contains("shape"));
  }

  SECTION("bad number names the element and attribute") {
    const auto path = dir / "speed.net.xml";
    write_text(path, replace(kTinyNet, "speed=\"13.89\"", "speed=\"fast\""));
    const Error e = load_error(path);
    CHECK_THAT(e.what_only(), Catch::Contains("lane 'E1_0'") && Catch::Contains("speed") && Catch::Contains("fast"));
  }

  SECTION("bad junction coordinate") {
    const auto path = dir / "junction.net.xml";
    write_text(path, replace(kTinyNet, "x=\"0.00\" y=\"0.00\"", "x=\"0.00\" y=\"nan\""));
    const Error e = load_error(path);
    CHECK(e.where() == path.string() + ":10");
    CHECK_THAT(e.what_only(), Catch::Contains("junction 'J0'") && Catch::Contains("'y'"));
  }

  SECTION("a network of internal edges only") {
    const auto path = dir / "empty.net.xml";
    std::string text = kTinyNet;
    const auto start = text.find("    <edge id=\"E1\"");
    const auto end = text.find("</edge>", start) + std::string("</edge>\n").size();
    text.erase(start, end - start);
    write_text(path, text);
    CHECK_THAT(load_error(path).what(), Catch::Contains(path.string()) && Catch::Contains("no edges"));
  }
}

TEST_CASE("The point of a street's shape nearest to a place", "[unit][geometry]") {
  const Polyline l{{0.0, 0.0}, {100.0, 0.0}, {100.0, 50.0}};
  const auto near = [&](MapPoint p) { return nearest_on_polyline(l, p); };
  CHECK(near({40.0, 7.0}) == MapPoint{40.0, 0.0});     // over the first segment
  CHECK(near({130.0, 20.0}) == MapPoint{100.0, 20.0}); // beside the second
  CHECK(near({-10.0, -10.0}) == MapPoint{0.0, 0.0});   // before the start
  CHECK(near({120.0, 90.0}) == MapPoint{100.0, 50.0}); // past the end
  CHECK(nearest_on_polyline({}, {3.0, 4.0}) == MapPoint{3.0, 4.0});
  CHECK(nearest_on_polyline({{5.0, 5.0}}, {3.0, 4.0}) == MapPoint{5.0, 5.0});
  CHECK(segment_distance_m({40.0, 7.0}, {0.0, 0.0}, {100.0, 0.0}) == 7.0);
}
