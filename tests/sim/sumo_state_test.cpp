// SUMO state files: vehicles caught mid-teleport are taken out before SUMO
// loads the state (it would crash on them) and handed back to be put back.
#include "sumo_state.h"

#include "cadereau/twin/error.h"
#include "test_support.h"

#include <pugixml.hpp>

#include <catch2/catch.hpp>

using cadereau::sim::traffic::prepare_state_for_load;

namespace {

// The shape of a SUMO 1.15 state with one vehicle on a lane, one teleporting
// and one parked off the road.
constexpr const char* kState = R"(<?xml version="1.0" encoding="UTF-8"?>
<snapshot version="1.15.0" time="26400.00" type="micro">
    <route id="!a" state="0" edges="e1 e2 e3"/>
    <route id="!b" state="0" edges="e1 e2 e3 e4"/>
    <route id="!c" state="0" edges="e4 e5"/>
    <delay number="3" begin="10" end="7" depart="1.00" time="100.00"/>
    <vType id="car" vClass="passenger"/>
    <vehicle id="a" type="car" depart="25800.00" route="!a" speedFactor="1.0" state="22 25800000 1 4.60 0 3.0 26399000 0 0" pos="10.00 10.00 0.00" speed="8.00 8.00"/>
    <vehicle id="b" type="car" depart="25810.00" route="!b" speedFactor="0.9094" state="22 25810000 2 4.60 286000 588.84 26399000 0 0" pos="0.00 113.58 0.00" speed="0.00 0.00">
        <device id="routing_b" state="0"/>
    </vehicle>
    <vehicle id="c" type="car" depart="25820.00" route="!c" speedFactor="1.1" state="22 25820000 0 4.60 0 0 26399000 1 0" pos="5.00 5.00 0.00" speed="0.00 0.00"/>
    <lane id="e2_0">
        <vehicles value="a"/>
    </lane>
    <vehicleTransfer id="b" depart="26504746"/>
    <vehicleTransfer id="c" depart="26500000" parking="e4_0"/>
</snapshot>
)";

}  // namespace

TEST_CASE("A teleporting vehicle is taken out of a SUMO state with the rest of its route", "[unit][traffic]") {
  cadereau::testing::TempDir tmp;
  cadereau::testing::write_text(tmp / "state.xml", kState);
  const auto prepared = prepare_state_for_load(tmp / "state.xml", tmp / "prepared.xml");
  REQUIRE(prepared.file == tmp / "prepared.xml");
  REQUIRE(prepared.teleporting.size() == 1);
  const auto& b = prepared.teleporting.front();
  CHECK(b.id == "b");
  CHECK(b.type_id == "car");
  CHECK(b.route_index == 2);
  CHECK(b.rest_edges == std::vector<std::string>{"e3", "e4"});
  CHECK(b.speed_factor == Approx(0.9094));

  pugi::xml_document doc;
  REQUIRE(doc.load_file((tmp / "prepared.xml").c_str()));
  const auto snapshot = doc.child("snapshot");
  CHECK_FALSE(snapshot.find_child_by_attribute("vehicle", "id", "b"));
  CHECK_FALSE(snapshot.find_child_by_attribute("vehicleTransfer", "id", "b"));
  // The vehicle on a lane and the parked one stay as they were.
  CHECK(snapshot.find_child_by_attribute("vehicle", "id", "a"));
  CHECK(snapshot.find_child_by_attribute("vehicleTransfer", "id", "c"));
  // One running and loaded vehicle fewer: SUMO counts it again when it is put back.
  CHECK(snapshot.child("delay").attribute("number").as_int() == 2);
  CHECK(snapshot.child("delay").attribute("begin").as_int() == 9);
  CHECK(snapshot.child("delay").attribute("end").as_int() == 7);
}

TEST_CASE("A SUMO state with no teleporting vehicle is loaded as it is", "[unit][traffic]") {
  cadereau::testing::TempDir tmp;
  std::string state = kState;
  state.erase(state.find("    <vehicleTransfer id=\"b\""), std::string("    <vehicleTransfer id=\"b\" depart=\"26504746\"/>\n").size());
  cadereau::testing::write_text(tmp / "state.xml", state);
  const auto prepared = prepare_state_for_load(tmp / "state.xml", tmp / "prepared.xml");
  CHECK(prepared.file == tmp / "state.xml");
  CHECK(prepared.teleporting.empty());
  CHECK_FALSE(std::filesystem::exists(tmp / "prepared.xml"));
}

TEST_CASE("A broken SUMO state is refused naming the file", "[unit][traffic]") {
  cadereau::testing::TempDir tmp;
  cadereau::testing::write_text(tmp / "state.xml", "<snapshot><vehicle id=\"x\"");
  try {
    prepare_state_for_load(tmp / "state.xml", tmp / "prepared.xml");
    FAIL("accepted a truncated state");
  } catch (const cadereau::Error& e) {
    CHECK(e.where() == (tmp / "state.xml").string());
  }
  cadereau::testing::write_text(tmp / "other.xml", "<net/>");
  CHECK_THROWS_AS(prepare_state_for_load(tmp / "other.xml", tmp / "prepared.xml"), cadereau::Error);
}
