// What `cadereau run` leaves behind, read as a newcomer would: the report, the
// GIS layers in QGIS, the rasters in gdalinfo, the recording in h5py.

#include "cadereau/twin/raster.h"
#include "cadereau/twin/territory.h"
#include "cli_run.h"
#include "test_support.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

using cadereau::testing::read_text;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::vector<std::string> split(const std::string& text, const std::string& separator) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  for (auto at = text.find(separator); at != std::string::npos; at = text.find(separator, from)) {
    parts.push_back(text.substr(from, at - from));
    from = at + separator.size();
  }
  parts.push_back(text.substr(from));
  return parts;
}
std::vector<std::string> split(const std::string& text, char separator) { return split(text, std::string(1, separator)); }

// Every position of a GeoJSON geometry, whatever its type.
void each_position(const nlohmann::json& coordinates, const std::function<void(double, double)>& f) {
  if (coordinates.at(0).is_number()) return f(coordinates[0].get<double>(), coordinates[1].get<double>());
  for (const auto& c : coordinates) each_position(c, f);
}

// RFC 7946 as QGIS and web maps read it: no crs member, longitude and latitude
// (here around Nîmes, 4.36 E 43.84 N).
void check_rfc7946_near_nimes(const nlohmann::json& collection) {
  CHECK(collection["type"] == "FeatureCollection");
  CHECK_FALSE(collection.contains("crs"));
  for (const auto& f : collection["features"])
    each_position(f["geometry"]["coordinates"], [](double lon, double lat) {
      CHECK(lon == Approx(4.36).margin(0.1));
      CHECK(lat == Approx(43.84).margin(0.1));
    });
}

}  // namespace

TEST_CASE("cadereau run outputs say what they hold: report and GIS layers and rasters and recording", "[integration][cli]") {
  const auto territory_dir = cadereau::testing::demo_territory();
  if (!territory_dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  cadereau::testing::TempDir tmp;
  const auto scenario = tmp / "storm.yaml";
  // Ten minutes of a cadereau in spate, and the police closing one street.
  cadereau::testing::write_text(scenario, "name: Short storm\nterritory: " + territory_dir->string() +
                                              "\nstart: 2026-11-25T07:30:00\nduration: 10min\nflood_cell_m: 20\n"
                                              "inflows:\n  - name: cadereau d'Uzès\n    at: lg-uzes-amont\n"
                                              "    m3_s: [[0, 150], [600, 250]]\n"
                                              "events:\n  - at: \"07:33\"\n    action: close_road\n    target: h9_9\n"
                                              "    by: police\n");
  const auto out = tmp / "run";
  const auto r = cadereau::testing::run_cadereau({"run", scenario.string(), "--out", out.string(), "--no-snapshots"});
  INFO(r.err);
  REQUIRE(r.code == 0);

  // closed_roads.geojson: a feature per street, both directions and all its sections together.
  const auto roads = nlohmann::json::parse(read_text(out / "closed_roads.geojson"));
  check_rfc7946_near_nimes(roads);
  REQUIRE(roads["features"].size() >= 3);
  std::set<std::string> streets, edges;
  bool both_directions_merged = false, by_order = false;
  for (const auto& f : roads["features"]) {
    const auto& p = f["properties"];
    INFO(p.dump());
    CHECK(streets.insert(p["street"].get<std::string>()).second);  // once per street
    for (const char* flag : {"closed_by_water", "closed_by_order", "closed_at_end"}) CHECK(p[flag].is_boolean());
    const auto ids = split(p["edges"].get<std::string>(), ',');
    for (const auto& id : ids) CHECK(edges.insert(id).second);  // an edge in one street only
    both_directions_merged = both_directions_merged || ids.size() > p["sections"].get<std::size_t>();
    by_order = by_order || (p["closed_by_order"] == true && edges.count("h9_9"));
  }
  CHECK(both_directions_merged);
  CHECK(by_order);

  // impacts.geojson: every record as a point, its story from the hazard on, in time order.
  const auto impacts = nlohmann::json::parse(read_text(out / "impacts.geojson"));
  check_rfc7946_near_nimes(impacts);
  std::size_t told = 0;
  for (const auto& f : impacts["features"]) {
    const auto& p = f["properties"];
    CHECK(p["hazard"].is_boolean());
    const std::string story = p["story"];
    if (p["kind"] != "road_closed" || p["causes"] == "") continue;
    INFO(story);
    std::string last = "00:00";
    for (const auto& step : split(story, "\u2192 ")) {  // "07:31 water at rue Sully (...) "
      CHECK(step.substr(0, 5) >= last);
      last = step.substr(0, 5);
    }
    CHECK((story.find("stream in spate") == 6 || story.find("heavy rain") == 6 || story.find("order") == 6));
    ++told;
  }
  CHECK(told > 0);

  // report.html: streets once each, kinds in words, a map with names, scale,
  // north and colour bar, the water at chosen times, the flood grid's cells.
  const std::string html = read_text(out / "report.html");
  const auto table_at = html.find("data-testid=\"streets-closed\"");
  REQUIRE(table_at != std::string::npos);
  const std::string table = html.substr(table_at, html.find("</table>", table_at) - table_at);
  for (const auto& s : streets) {
    INFO(s);
    CHECK(occurrences(table, "<td>" + s + "</td>") == 1);
  }
  CHECK(html.find("road_closed") == std::string::npos);
  CHECK(html.find("asset_failed") == std::string::npos);
  CHECK_THAT(html, Catch::Contains("class=\"north\"") && Catch::Contains("class=\"scale\"") &&
                       Catch::Contains("class=\"colourbar\"") && Catch::Contains("20 m &times; 20 m cells"));
  const auto territory = cadereau::twin::Territory::load(*territory_dir);
  for (const auto& a : territory.assets)
    if (a.name == "Poste source du Vistre") CHECK_THAT(html, Catch::Contains(">" + a.name + "</text>"));
  CHECK_THAT(html, Catch::Contains("src=\"timeline.svg\"") && Catch::Contains("href=\"water_1.png\""));
  CHECK(std::filesystem::exists(out / "water_1.png"));
  CHECK_THAT(read_text(out / "timeline.svg"), Catch::Contains("records</text>"));
  CHECK(html.find("forecast-banner") == std::string::npos);  // not a forecast

  // arrival_time.tif says what arrived means.
  const auto arrival = cadereau::twin::read_raster(out / "arrival_time.tif");
  CHECK(arrival.band().unit == "s");
  CHECK(arrival.band().metadata.at("ARRIVAL_DEPTH_M") == "0.01");

  // recording.h5 in h5py: units (and the datum of elevations) on every series, sources as text.
  const auto python = cadereau::testing::python_with("h5py");
  if (!python) {
    WARN("h5py not installed; the recording's h5py checks skipped");
    return;
  }
  const auto script = tmp / "read.py";
  cadereau::testing::write_text(script, R"(import sys, h5py
f = h5py.File(sys.argv[1], "r")
gauges = 0
for name, series in f["timeseries"].items():
    assert isinstance(series.attrs["units"], str) and series.attrs["units"], name
    if name.startswith("gauge_"):
        assert series.attrs["units"] == "m" and series.attrs["datum"] == "NGF-IGN69", dict(series.attrs)
        gauges += 1
assert gauges > 0
sources = set(f["events/source"].asstr()[:])
assert sources == {"engine"}, sources
assert f["meta"].attrs["scenario"] == "Short storm"
print("h5py ok")
)");
  const auto log = tmp / "py.txt";
  CHECK(std::system(fmt::format("{} '{}' '{}' > '{}' 2>&1", *python, script.string(), (out / "recording.h5").string(),
                                log.string())
                        .c_str()) == 0);
  CHECK_THAT(read_text(log), Catch::Contains("h5py ok"));
}
