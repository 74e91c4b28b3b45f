// CAP 1.2 alerts: the request checked against CAP's lists, the polygon
// turned from GeoJSON's lon,lat into CAP's closed lat,lon ring, the XML
// escaped. (Schema validation runs in the API test, with xmllint.)

#include "service/alerts.h"

#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace cadereau::server::service;
using cadereau::Error;
using nlohmann::json;

namespace {

json request() {
  return {{"event", "Flash flood"}, {"headline", "Stay upstairs & away from <cars>"}, {"severity", "Extreme"},
          {"urgency", "Immediate"}, {"certainty", "Observed"},
          {"area", {{"description", "Nîmes"}, {"polygon", {{4.30, 43.78}, {4.43, 43.78}, {4.43, 43.88}}}}}};
}

std::string refusal(json body) {
  try {
    parse_alert(body);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("accepted: " << body.dump());
  return {};
}

}  // namespace

TEST_CASE("A CAP alert closes its polygon and writes it lat,lon", "[unit][cap]") {
  const auto a = parse_alert(request());
  REQUIRE(a.polygon.size() == 4);
  CHECK(a.polygon.front().lon == a.polygon.back().lon);
  CHECK(a.category == "Met");
  CHECK(a.response_type == "None");
  CHECK(cap_polygon(a.polygon) == "43.780000,4.300000 43.780000,4.430000 43.880000,4.430000 43.780000,4.300000");
  const auto xml = cap_xml(a, "id-1", "room@x", "2026-12-01T08:00:00+00:00", "Exercise", "Exercise: not real");
  CHECK_THAT(xml, Catch::Contains("<status>Exercise</status>"));
  CHECK_THAT(xml, Catch::Contains("<headline>Stay upstairs &amp; away from &lt;cars&gt;</headline>"));
  CHECK_THAT(xml, Catch::Contains("xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\""));
  CHECK(xml.find("<msgType>") < xml.find("<scope>"));
  CHECK(xml.find("<urgency>") < xml.find("<severity>"));
}

TEST_CASE("Bad CAP requests are refused naming the field", "[unit][cap]") {
  auto body = request();
  body["severity"] = "Huge";
  CHECK_THAT(refusal(body), Catch::Contains("severity") && Catch::Contains("Extreme"));
  body = request();
  body["area"]["polygon"] = {{4.3, 43.8}, {4.4, 43.8}};
  CHECK_THAT(refusal(body), Catch::Contains("three distinct points"));
  body["area"]["polygon"] = {{4.3, 43.8}, {4.4, 43.9}, {4.5, 44.0}};
  CHECK_THAT(refusal(body), Catch::Contains("no area"));
  body["area"]["polygon"] = {{4.3, 143.8}, {4.4, 43.8}, {4.3, 43.9}};
  CHECK_THAT(refusal(body), Catch::Contains("point 1"));
  body = request();
  body.erase("headline");
  CHECK_THAT(refusal(body), Catch::Contains("headline"));
  body = request();
  body["status"] = "Real";
  CHECK_THAT(refusal(body), Catch::Contains("status"));
}
