// The checks the twin makes on what users give it before anything runs:
// text that must be UTF-8, zone rings that must not cross themselves, SUMO
// route files that must be whole.

#include "cadereau/twin/error.h"
#include "cadereau/twin/geometry.h"
#include "cadereau/twin/route_file.h"
#include "cadereau/twin/utf8.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using namespace cadereau::twin;
using cadereau::testing::TempDir;
using cadereau::testing::write_text;

TEST_CASE("UTF-8 is told from Latin-1 and from malformed sequences", "[unit][utf8]") {
  CHECK_FALSE(first_invalid_utf8("plain ASCII"));
  CHECK_FALSE(first_invalid_utf8("N\xC3\xAEmes, cadereau d'Al\xC3\xA8s, \xE2\x82\xAC, \xF0\x9F\x8C\x8A"));
  CHECK(first_invalid_utf8("N\xEEmes") == 1u);            // Latin-1 î
  CHECK(first_invalid_utf8("ok \x92s") == 3u);            // Windows-1252 quote
  CHECK(first_invalid_utf8("\xC0\xAF") == 0u);            // overlong '/'
  CHECK(first_invalid_utf8("x\xE0\x80\xAF") == 1u);       // overlong, three bytes
  CHECK(first_invalid_utf8("\xED\xA0\x80") == 0u);        // UTF-16 surrogate
  CHECK(first_invalid_utf8("\xF4\x90\x80\x80") == 0u);    // past U+10FFFF
  CHECK(first_invalid_utf8("\xF5\x80\x80\x80") == 0u);
  CHECK(first_invalid_utf8("end \xC3") == 4u);            // cut short
  CHECK(first_invalid_utf8("\xE2\x82") == 0u);
  CHECK(first_invalid_utf8("a\xBF") == 1u);               // a lone continuation byte

  CHECK_NOTHROW(require_utf8("name: N\xC3\xAEmes\n", "t.yaml"));
  CHECK_THROWS_WITH(require_utf8("a: 1\nname: N\xEEmes\n", "t.yaml"),
                    Catch::StartsWith("t.yaml:2: byte 0xEE at column 8 is not UTF-8"));
  CHECK_THROWS_WITH(require_utf8("\xE9t\xE9", "t.yaml"), Catch::StartsWith("t.yaml:1: byte 0xE9 at column 1 "));
}

TEST_CASE("A ring that crosses or touches itself is found, with where", "[unit][geometry]") {
  const Ring square{{0, 0}, {10, 0}, {10, 10}, {0, 10}};
  CHECK_FALSE(first_self_crossing(square));
  CHECK_FALSE(first_self_crossing(Ring{{0, 0}, {10, 0}, {0, 10}}));
  // Repeated vertices, in a row or closing the ring, are allowed.
  CHECK_FALSE(first_self_crossing(Ring{{0, 0}, {10, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}));
  // A bow-tie crosses at its waist.
  const auto bow = first_self_crossing(Ring{{0, 0}, {10, 10}, {10, 0}, {0, 10}});
  REQUIRE(bow);
  CHECK(bow->near.x_m == Approx(5.0));
  CHECK(bow->near.y_m == Approx(5.0));
  CHECK(bow->edge_a == 0u);
  CHECK(bow->edge_b == 2u);
  // A figure of eight touching itself at a vertex.
  CHECK(first_self_crossing(Ring{{0, 0}, {4, 0}, {5, 5}, {10, 10}, {6, 10}, {5, 5}}));
  // Too few distinct points to cross.
  CHECK_FALSE(first_self_crossing(Ring{{0, 0}, {1, 1}}));
}

TEST_CASE("Route files are read whole before SUMO sees them", "[unit][routes]") {
  TempDir tmp;
  const auto file = tmp / "d.rou.xml";
  write_text(file,
             "<routes>\n  <vType id=\"car\"/>\n  <vehicle id=\"a\" depart=\"0\"><route edges=\"e1 e2\"/></vehicle>\n"
             "  <trip id=\"b\" depart=\"5\" from=\"e1\" to=\"e2\"/>\n  <flow id=\"c\" begin=\"0\" end=\"60\" number=\"3\" "
             "from=\"e1\" to=\"e2\"/>\n  <person id=\"p\" depart=\"0\"><walk edges=\"e1\"/></person>\n</routes>\n");
  const auto summary = check_route_file(file);
  CHECK(summary.vehicles == 1);
  CHECK(summary.trips == 1);
  CHECK(summary.flows == 1);
  CHECK(summary.persons == 1);
  CHECK(summary.departures() == 4);
  // Only vehicle types: whole, nothing departs (the vehicles may be in another file).
  write_text(file, "<routes><vType id=\"car\"/></routes>\n");
  CHECK(check_route_file(file).departures() == 0);

  const std::string whole =
      "<routes>\n  <vehicle id=\"a\" depart=\"0\">\n    <route edges=\"e1 e2\"/>\n  </vehicle>\n</routes>\n";
  write_text(file, whole.substr(0, whole.size() - 12));
  CHECK_THROWS_WITH(check_route_file(file), Catch::StartsWith(file.string() + ":") && Catch::Contains("truncated"));
  write_text(file, whole.substr(0, 30));
  CHECK_THROWS_WITH(check_route_file(file), Catch::Contains("truncated"));
  write_text(file, "");
  CHECK_THROWS_WITH(check_route_file(file), Catch::Contains("empty"));
  write_text(file, "<additional/>\n");
  CHECK_THROWS_WITH(check_route_file(file), Catch::Contains("expected <routes>"));
  try {
    check_route_file(tmp / "absent.rou.xml");
    FAIL("a missing route file was accepted");
  } catch (const cadereau::Error& e) {
    CHECK(e.category() == cadereau::ErrorCategory::not_found);
  }
}
