// Rolling forecasts as the server reasons about them: settings checked, what
// changed between two forecasts, scores against what happened (worked by
// hand below), thresholds crossed, and a CAP draft the alert parser takes.

#include "service/alerts.h"
#include "service/forecasts.h"
#include "service/procedure_book.h"

#include "test_support.h"

#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>

using namespace cadereau::server::service;
using json = nlohmann::json;
using Catch::Matchers::Contains;

namespace {

json impact(const std::string& kind, const std::string& target, double t_s, const std::string& name = "") {
  return {{"kind", kind}, {"target", target}, {"name", name}, {"t_s", t_s}, {"clock", "x"}, {"lon", 4.36}, {"lat", 43.83}};
}

json document(double issued_s, double until_s, json impacts, json gauges = json::array()) {
  return {{"issued_s", issued_s}, {"until_s", until_s}, {"impacts", std::move(impacts)}, {"gauges", std::move(gauges)}};
}

json gauge(const std::string& id, json t, json depth) { return {{"id", id}, {"t_s", std::move(t)}, {"depth_m", std::move(depth)}}; }

}  // namespace

TEST_CASE("forecast settings are checked and named when wrong", "[forecasts]") {
  const auto s = parse_forecast_settings(json{{"every_min", 2}, {"horizon_min", 90}});
  CHECK(s.every_s == 120.0);
  CHECK(s.horizon_s == 5400.0);
  CHECK(s.jump_m == 0.25);  // the default
  CHECK(parse_forecast_settings(json()).every_s == 300.0);
  CHECK(parse_forecast_settings(json{{"every_min", 0}}).every_s == 0.0);  // only when asked
  CHECK_THROWS_WITH(parse_forecast_settings(json{{"every_min", 0.5}}), Contains("forecast.every_min") && Contains("outside 1 to 60"));
  CHECK_THROWS_WITH(parse_forecast_settings(json{{"every_min", -1}}), Contains("forecast.every_min") && Contains("outside 0 to 60"));
  CHECK_THROWS_WITH(parse_forecast_settings(json{{"horizon_min", "2h"}}), Contains("must be a number"));
  CHECK_THROWS_WITH(parse_forecast_settings(json{{"horizn_min", 60}}), Contains("'horizn_min' is not a forecast setting"));
  CHECK_THROWS_WITH(parse_forecast_settings(json::array()), Contains("forecast"));
  CHECK(to_json(s)["horizon_min"] == 90.0);
}

TEST_CASE("what changed between two forecasts", "[forecasts]") {
  const json previous = document(0, 7200,
                                 {impact("road_closed", "e1", 600), impact("road_closed", "e2", 1200),
                                  impact("asset_failed", "school-1", 3000, "École Jean Jaurès"),
                                  impact("road_closed", "e-past", 200)});
  const json current = document(300, 7500,
                                {impact("road_closed", "e1", 620),  // the same time, near enough
                                 impact("asset_failed", "school-1", 2000, "École Jean Jaurès"),  // 1000 s earlier
                                 impact("road_closed", "e3", 900), impact("asset_failed", "hosp-1", 4000, "CHU")});
  const json c = forecast_changes(previous, current);
  REQUIRE(c["new"].size() == 2);
  CHECK(c["new"][0]["target"] == "e3");
  CHECK(c["new"][1]["target"] == "hosp-1");
  REQUIRE(c["dropped"].size() == 1);  // e2; e-past was before this forecast's issue
  CHECK(c["dropped"][0]["target"] == "e2");
  REQUIRE(c["earlier"].size() == 1);
  CHECK(c["earlier"][0]["target"] == "school-1");
  CHECK(c["earlier"][0]["was_s"] == 3000.0);
  CHECK(c["later"].empty());
  CHECK(c["since_s"] == 0.0);
  CHECK_THAT(c["summary"].get<std::string>(), Contains("1 new road closure") && Contains("1 asset newly threatened") &&
                                                  Contains("1 impact earlier") && Contains("1 impact no longer expected") &&
                                                  Contains("first: asset_failed CHU"));
  CHECK(forecast_changes(current, current)["summary"] == "no change");
  // A shorter forecast does not drop what lies past its horizon.
  const json shorter = document(300, 1000, {impact("road_closed", "e1", 620), impact("road_closed", "e3", 900)});
  const json s = forecast_changes(previous, shorter);
  CHECK(s["dropped"].empty());
  CHECK(s["new"].size() == 1);
}

TEST_CASE("a forecast is scored against what happened", "[forecasts]") {
  // Predicted from 1000 s to 8200 s: roads a (1500), b (2000), c (9000,
  // past the horizon); school s (3000).
  const json f = document(1000, 8200,
                          {impact("road_closed", "a", 1500), impact("road_closed", "b", 2000), impact("road_closed", "c", 9000),
                           impact("asset_failed", "s", 3000)},
                          json::array({gauge("lg-1", {1000, 2000, 3000}, {0.0, 1.0, 2.0})}));
  Happened h;
  h.impacts[{"road_closed", "a"}] = {1560.0};
  h.impacts[{"road_closed", "d"}] = {500.0, 2500.0};  // closed before the issue, then again inside
  h.impacts[{"road_closed", "e"}] = {9500.0};          // past the horizon: not scored
  h.impacts[{"asset_failed", "s"}] = {2700.0};
  h.impacts[{"water", "a"}] = {1400.0};                // not an impact a forecast scores
  h.readings["lg-1"] = {{1500.0, 0.7}, {2500.0, 1.3}, {900.0, 9.0}};  // the last is before the issue

  SECTION("part way") {
    const json v = verify_forecast(f, h, 2200.0);
    CHECK_FALSE(v["final"].get<bool>());
    CHECK(v["to_s"] == 2200.0);
    // a hit (60 s early), b predicted at 2000 not seen by 2200: a false alarm so far.
    CHECK(v["roads"]["hits"] == 1);
    CHECK(v["roads"]["false_alarms"] == 1);
    CHECK(v["roads"]["misses"] == 0);
    CHECK(v["roads"]["time_error"]["mean_s"] == -60.0);
    CHECK(v["assets"]["predicted"] == 0);
    CHECK(v["assets"]["hit_rate"].is_null());
  }
  SECTION("final") {
    const json v = verify_forecast(f, h, 9000.0);
    CHECK(v["final"].get<bool>());
    CHECK(v["to_s"] == 8200.0);
    const json& roads = v["roads"];
    CHECK(roads["predicted"] == 2);
    CHECK(roads["happened"] == 2);  // a, and d closing again at 2500
    CHECK(roads["hits"] == 1);
    CHECK(roads["misses"] == 1);
    CHECK(roads["false_alarms"] == 1);
    CHECK(roads["hit_rate"] == 0.5);
    CHECK(roads["false_alarm_ratio"] == 0.5);
    CHECK(roads["critical_success_index"].get<double>() == Approx(1.0 / 3.0));
    CHECK(roads["missed"][0]["target"] == "d");
    CHECK(roads["false_alarm_list"][0]["target"] == "b");
    CHECK(v["assets"]["hits"] == 1);
    CHECK(v["assets"]["time_error"]["mean_s"] == 300.0);  // predicted 3000, failed at 2700
    // Gauge: forecast 0.5 m at 1500 (reading 0.7), 1.5 m at 2500 (reading 1.3).
    REQUIRE(v["gauges"].size() == 1);
    CHECK(v["gauges"][0]["readings"] == 2);
    CHECK(v["gauges"][0]["bias_m"].get<double>() == Approx(0.0).margin(1e-12));
    CHECK(v["gauges"][0]["rmse_m"].get<double>() == Approx(0.2));
    CHECK(v["gauges"][0]["largest_m"].get<double>() == Approx(0.2));
  }
}

TEST_CASE("thresholds a forecast crosses", "[forecasts]") {
  const json f = document(0, 3600, json::array(),
                          json::array({gauge("lg-up", {0, 600, 1200, 1800}, {0.1, 0.4, 0.9, 0.6}),
                                       gauge("lg-high", {0, 600}, {1.2, 1.5}), gauge("lg-low", {0, 600}, {0.0, 0.2})}));
  const auto crossings = forecast_crossings(f, {{"lg-up", 0.5}, {"lg-up", 1.0}, {"lg-high", 1.0}, {"lg-low", 0.5}});
  // lg-up passes 0.5 m at 1200 s (its peak), never 1.0 m; lg-high is above
  // already (an observation, not a forecast); lg-low stays below.
  REQUIRE(crossings.size() == 1);
  CHECK(crossings[0].gauge == "lg-up");
  CHECK(crossings[0].above_m == 0.5);
  CHECK(crossings[0].t_s == 1200.0);
  CHECK(crossings[0].peak_m == 0.9);
}

TEST_CASE("a CAP draft from a forecast is an alert the server takes", "[forecasts]") {
  AlertBasis b;
  b.gauge_name = "cadereau d'Alès (sortie des garrigues)";
  b.above_m = 0.5;
  b.when = "08:12";
  b.centre = {4.357, 43.825};
  b.points = {{4.350, 43.830}, {4.360, 43.835}, {4.365, 43.820}, {4.355, 43.825}};
  b.places = {"École Jean Jaurès", "CHU Carémeau"};
  const json draft = cap_draft(b);
  const AlertRequest a = parse_alert(draft);
  CHECK(a.urgency == "Expected");
  CHECK(a.certainty == "Likely");
  CHECK_THAT(a.description, Contains("expected to pass 0.50 m at about 08:12") && Contains("CHU Carémeau"));
  REQUIRE(a.polygon.size() >= 4);
  CHECK(a.polygon.front().lon == a.polygon.back().lon);
  // The area holds every place hit, with room around it.
  for (const auto& [lon, lat] : b.points) {
    bool inside = true;
    for (std::size_t i = 0; i + 1 < a.polygon.size(); ++i) {
      const auto p = a.polygon[i], q = a.polygon[i + 1];
      if ((q.lon - p.lon) * (lat - p.lat) - (q.lat - p.lat) * (lon - p.lon) < 0.0) inside = false;  // counter-clockwise ring
    }
    CHECK(inside);
  }
  CHECK_THAT(cap_xml(a, "id-1", "cadereau@nimes", "2026-12-01T08:00:00+01:00", "Actual", ""),
             Contains("<urgency>Expected</urgency>") && Contains("<polygon>"));

  b.forecast = false;
  b.points.clear();
  const AlertRequest observed = parse_alert(cap_draft(b));
  CHECK(observed.urgency == "Immediate");
  CHECK(observed.certainty == "Observed");
  CHECK(observed.polygon.size() == 13);  // about 1 km around the gauge: 12 points and the closing one
}

TEST_CASE("procedure thresholds and a forecast's reason", "[forecasts]") {
  cadereau::testing::TempDir dir;
  using cadereau::scenarios::parse_procedure;
  ProcedureBook book(dir.path(),
                     {parse_procedure("id: rise\ntitle: Rise\ncell: crisis\ntrigger:\n  - gauge: lg-1\n    above_m: 0.5\n"
                                      "  - gauge: lg-1\n    above_m: 0.5\n  - gauge: lg-2\n    above_m: 1\nsteps: [act: Go.]\n",
                                      "rise.yaml"),
                      parse_procedure("id: none\ntitle: None\ncell: crisis\ntrigger: {gauge: lg-missing, above_m: 1}\n"
                                      "steps: [act: Go.]\n",
                                      "none.yaml")},
                     {"lg-1", "lg-2"});
  const auto thresholds = book.gauge_thresholds();
  // Each once; none for a gauge the territory does not have.
  REQUIRE(thresholds.size() == 2);
  CHECK(thresholds[0] == std::make_pair(std::string("lg-1"), 0.5));
  const auto proposed = book.on_gauges({{"lg-1", 0.8}}, 60.0, "forecast for 08:12");
  REQUIRE(proposed.size() == 1);
  CHECK_THAT(book.view(proposed[0])["reason"].get<std::string>(), Contains("forecast for 08:12: water at lg-1 passed 0.50 m"));
}
