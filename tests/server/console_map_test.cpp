// The console's files built into the server, and the territory drawn for
// its map (server/src/web/). The browser test (console_test.py) drives the
// whole; these check the pieces where they are made.

#include "test_support.h"
#include "web/console_files.h"
#include "web/territory_map.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/map_image.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <regex>
#include <set>
#include <string>
#include <vector>

using cadereau::server::web::find_console_file;

TEST_CASE("The console page names only files the server has", "[unit][console]") {
  const auto* page = find_console_file("/");
  REQUIRE(page);
  CHECK(page->path == "/index.html");
  CHECK(page->content_type.find("text/html") == 0);
  const std::string html(page->body);
  const std::regex reference(R"re((?:src|href)="(/[^"#?]*)")re");
  int named = 0;
  for (std::sregex_iterator it(html.begin(), html.end(), reference), end; it != end; ++it) {
    INFO((*it)[1].str());
    CHECK(find_console_file((*it)[1].str()));
    ++named;
  }
  CHECK(named >= 8);  // Leaflet's script and style, the console's scripts, style and icon
  // Leaflet's style sheet asks for its images next to it.
  const auto* css = find_console_file("/vendor/leaflet/leaflet.css");
  REQUIRE(css);
  const std::string style(css->body);
  const std::regex image(R"re(url\((images/[a-z0-9-]+\.png)\))re");
  for (std::sregex_iterator it(style.begin(), style.end(), image), end; it != end; ++it) {
    INFO((*it)[1].str());
    CHECK(find_console_file("/vendor/leaflet/" + (*it)[1].str()));
  }
  CHECK_FALSE(find_console_file("/nothing.js"));
  CHECK_FALSE(find_console_file("/../index.html"));
  CHECK_FALSE(find_console_file("/api/v1/sessions"));
  for (const auto& f : cadereau::server::web::console_files()) {
    INFO(f.path);
    CHECK_FALSE(f.body.empty());
    CHECK_FALSE(f.content_type.empty());
  }
}

TEST_CASE("PNG encoding refuses sizes that do not add up", "[unit][console]") {
  std::vector<std::uint8_t> rgba(4 * 4 * 4, 255);
  const std::string png = cadereau::twin::png_bytes(4, 4, 4, rgba);
  REQUIRE(png.size() > 8);
  CHECK(png.substr(1, 3) == "PNG");
  CHECK_THROWS_WITH(cadereau::twin::png_bytes(5, 4, 4, rgba), Catch::Contains("do not make 5x4 pixels"));
  CHECK_THROWS_AS(cadereau::twin::png_bytes(4, 4, 5, rgba), cadereau::Error);
}

TEST_CASE("The demo territory drawn for the web map", "[integration][console]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  const auto territory = cadereau::twin::Territory::load(*dir);
  const cadereau::server::web::TerritoryMap map(territory);
  const auto doc = nlohmann::json::parse(map.layers_json());
  const double south = doc["bounds"][0][0], west = doc["bounds"][0][1], north = doc["bounds"][1][0], east = doc["bounds"][1][1];
  REQUIRE(south < north);
  REQUIRE(west < east);
  // Every feature inside the bounds, every road once, each reverse direction the reverse of its reverse.
  std::set<std::string> roads;
  std::map<std::string, std::string> reverse;
  for (const char* layer : {"roads", "assets", "sensors", "zones", "buildings", "lights"}) {
    INFO(layer);
    CHECK_FALSE(doc[layer]["features"].empty());
    for (const auto& f : doc[layer]["features"]) {
      std::vector<nlohmann::json> points;
      const auto& g = f["geometry"];
      if (g["type"] == "Point") points.push_back(g["coordinates"]);
      if (g["type"] == "LineString") points.assign(g["coordinates"].begin(), g["coordinates"].end());
      if (g["type"] == "Polygon") points.assign(g["coordinates"][0].begin(), g["coordinates"][0].end());
      REQUIRE_FALSE(points.empty());
      for (const auto& p : points) {
        CHECK(p[0].get<double>() >= west - 1e-6);
        CHECK(p[0].get<double>() <= east + 1e-6);
        CHECK(p[1].get<double>() >= south - 1e-6);
        CHECK(p[1].get<double>() <= north + 1e-6);
      }
      if (std::string(layer) == "roads") {
        const std::string id = f["properties"]["id"];
        CHECK(roads.insert(id).second);
        if (f["properties"].contains("reverse")) reverse[id] = f["properties"]["reverse"];
      }
    }
  }
  CHECK(roads.size() == territory.network->edges().size());
  for (const auto& [id, back] : reverse) {
    INFO(id);
    CHECK(reverse.count(back));
    if (reverse.count(back)) CHECK(reverse[back] == id);
  }
  CHECK(map.hillshade_png().substr(1, 3) == "PNG");
  // A frame in another CRS is refused, not drawn in the wrong place.
  cadereau::twin::GridSpec grid{10, 10, 500000.0, 5000000.0, 10.0, 10.0};
  const cadereau::twin::Raster elsewhere(grid, cadereau::twin::Crs::from_epsg(32631), 1.0f);
  CHECK_THROWS_WITH(map.water_png(elsewhere), Catch::Contains("water frame") && Catch::Contains("EPSG:32631"));
  const cadereau::twin::Raster dry(territory.grid(), territory.crs, 0.0f);
  CHECK(map.water_png(dry).substr(1, 3) == "PNG");
}
