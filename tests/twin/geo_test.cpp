#include "cadereau/twin/error.h"
#include "cadereau/twin/geo.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace cadereau::twin;

TEST_CASE("Lambert-93 reproduces its defining origin", "[unit][geo]") {
  // EPSG:2154: latitude of origin 46.5 N, central meridian 3 E, false easting
  // 700 000 m, false northing 6 600 000 m.
  MapFrame frame(Crs::lambert93());
  const MapPoint origin = frame.to_map({3.0, 46.5});
  CHECK(origin.x_m == Approx(700000.0).margin(1e-3));
  CHECK(origin.y_m == Approx(6600000.0).margin(1e-3));
}

TEST_CASE("Nîmes is near 809.5 km E, 6305 km N in Lambert-93", "[unit][geo]") {
  // Maison Carrée, Nîmes: 4.3561 E, 43.8384 N.
  MapFrame frame(Crs::lambert93());
  const MapPoint p = frame.to_map({4.3561, 43.8384});
  CHECK(p.x_m == Approx(809500.0).margin(1500.0));
  CHECK(p.y_m == Approx(6305300.0).margin(1000.0));
  const GeoPoint back = frame.to_geo(p);
  CHECK(back.lon_deg == Approx(4.3561).margin(1e-9));
  CHECK(back.lat_deg == Approx(43.8384).margin(1e-9));
}

TEST_CASE("UTM 31N maps the equator on the central meridian to its false easting", "[unit][geo]") {
  CrsTransform t(Crs::wgs84(), Crs::from_epsg(32631));
  const auto p = t.forward({3.0, 0.0});
  CHECK(p.x == Approx(500000.0).margin(1e-3));
  CHECK(p.y == Approx(0.0).margin(1e-3));
}

TEST_CASE("Round trips WGS84 <-> Lambert-93 and Lambert-93 <-> UTM stay within a millimetre", "[unit][geo]") {
  MapFrame frame(Crs::lambert93());
  CrsTransform to_utm(Crs::lambert93(), Crs::from_epsg(32631));
  double worst_m = 0.0;
  for (int i = 0; i < 20; ++i)
    for (int j = 0; j < 20; ++j) {
      const MapPoint p{200000.0 + i * 50000.0, 6100000.0 + j * 50000.0};
      worst_m = std::max(worst_m, distance_m(p, frame.to_map(frame.to_geo(p))));
      const auto u = to_utm.forward({p.x_m, p.y_m});
      const auto back = to_utm.inverse(u);
      worst_m = std::max(worst_m, distance_m(p, {back.x, back.y}));
    }
  CHECK(worst_m < 1e-3);
}

TEST_CASE("CRS identification", "[unit][geo]") {
  const Crs l93 = Crs::from_user_input("EPSG:2154");
  CHECK(l93.epsg() == 2154);
  CHECK_FALSE(l93.is_geographic());
  CHECK(l93.label() == "EPSG:2154");
  CHECK(Crs::wgs84().is_geographic());

  // The same CRS as a PROJ string is recognised as equivalent.
  const Crs proj_string = Crs::from_user_input(
      "+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 "
      "+towgs84=0,0,0,0,0,0,0 +units=m +no_defs +type=crs");
  CHECK_FALSE(proj_string.is_geographic());
  CHECK_FALSE(Crs::from_epsg(32631).equivalent_to(l93));
}

TEST_CASE("An unknown CRS is a clear error", "[unit][geo]") {
  CHECK_THROWS_WITH(Crs::from_user_input("EPSG:999999"), Catch::Contains("EPSG:999999"));
  CHECK_THROWS_AS(Crs::from_user_input("not a crs"), cadereau::Error);
  CHECK_THROWS_AS(Crs::from_user_input(""), cadereau::Error);
}
