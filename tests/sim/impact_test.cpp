#include "cadereau/sim/impact/impact_model.h"
#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>

#include <limits>

using namespace cadereau;
using namespace cadereau::sim::impact;
using twin::AssetType;

namespace {

twin::Asset asset(std::string id, AssetType type, twin::MapPoint where, std::vector<std::string> deps = {}) {
  twin::Asset a = twin::asset_of_type(std::move(id), type, where);
  a.depends_on = std::move(deps);
  a.capacity = 100.0;
  return a;
}

twin::PopulationZone zone(std::string id, double x0, double y0, double people) {
  twin::PopulationZone z;
  z.id = id;
  z.name = id;
  z.area.outer = {{x0, y0}, {x0 + 1000.0, y0}, {x0 + 1000.0, y0 + 1000.0}, {x0, y0 + 1000.0}};
  z.population = people;
  return z;
}

// A small town: one substation feeding a traffic light (no backup), a pumping
// station (30 min of backup) and a hospital (48 h of generators); a telecom
// node on the same substation serving the hospital.
struct Town {
  ImpactLog log;
  ImpactModel model;
  std::uint64_t hazard;
  Town()
      : model({asset("sub", AssetType::substation, {500, 500}),
               asset("light", AssetType::traffic_signal, {600, 500}, {"sub"}),
               asset("pump", AssetType::pumping_station, {700, 500}, {"sub"}),
               asset("tel", AssetType::telecom_node, {800, 500}, {"sub"}),
               asset("hosp", AssetType::hospital, {900, 500}, {"sub", "tel"})},
              {zone("z-near", 0, 0, 1200), zone("z-far", 5000, 5000, 800)}, log) {
    Impact h;
    h.kind = kind::inflow;
    h.target = "cadereau d'Uzès";
    h.detail = "180 m3/s";
    hazard = log.add(h);
  }
  std::size_t at(const char* id) const { return *model.asset_index(id); }
  const Impact* last(const std::string& k, const std::string& target) const {
    const Impact* found = nullptr;
    for (const auto& i : log.all())
      if (i.kind == k && i.target == target) found = &i;
    return found;
  }
};

}  // namespace

TEST_CASE("Dependencies are typed by what the supplier gives", "[unit][impact]") {
  Town town;
  int physical = 0, cyber = 0;
  for (const auto& d : town.model.dependencies()) {
    if (d.kind == DependencyKind::physical) ++physical;
    if (d.kind == DependencyKind::cyber) ++cyber;
  }
  CHECK(town.model.dependencies().size() == 5);
  CHECK(physical == 4);  // the substation feeds four assets
  CHECK(cyber == 1);     // the telecom node serves the hospital
  CHECK(town.model.zone_substation(0) == town.at("sub"));
}

TEST_CASE("A flooded substation takes down what it feeds once their backups run out", "[unit][impact]") {
  Town town;
  auto& m = town.model;
  m.observe_water(town.at("sub"), 600.0, 0.1, {town.hazard});
  CHECK(m.status(town.at("sub")) == AssetStatus::in_service);  // below its 0.3 m threshold
  m.observe_water(town.at("sub"), 660.0, 0.45, {town.hazard});
  CHECK(m.status(town.at("sub")) == AssetStatus::out_of_service);
  // No backup: the light goes dark at once; the pump runs on its backup.
  CHECK(m.status(town.at("light")) == AssetStatus::out_of_service);
  CHECK(m.status(town.at("pump")) == AssetStatus::on_backup);
  CHECK(m.status(town.at("hosp")) == AssetStatus::on_backup);
  CHECK_FALSE(m.zone_has_power(0));
  CHECK(m.zone_has_power(1) == false);  // the only substation feeds both zones

  // The pump's 30 minutes of backup run out at 660 + 1800 s exactly, even
  // though the next observation comes later.
  m.advance_to(3000.0);
  const Impact* pump = town.last(kind::asset_failed, "pump");
  REQUIRE(pump != nullptr);
  CHECK(pump->t_s == Approx(660.0 + 1800.0));
  CHECK(m.status(town.at("hosp")) == AssetStatus::on_backup);  // 48 h of generators

  // The chain goes back to the hazard: pump failed <- pump on backup <- sub
  // failed <- water at sub <- inflow.
  const auto chain = town.log.chain(pump->id);
  REQUIRE(chain.size() == 4);
  CHECK(chain[0]->kind == kind::asset_on_backup);
  CHECK(chain[1]->kind == kind::asset_failed);
  CHECK(chain[1]->target == "sub");
  CHECK(chain[2]->kind == kind::water);
  CHECK(chain[2]->detail == "0.45 m of water > 0.30 m");
  CHECK(chain[3]->id == town.hazard);
  const Impact* dark = town.last(kind::asset_failed, "light");
  REQUIRE(dark != nullptr);
  CHECK(dark->t_s == 660.0);
  CHECK(town.log.chain(dark->id).size() == 3);
  const Impact* zone = town.last(kind::zone_without_power, "z-near");
  REQUIRE(zone != nullptr);
  CHECK(zone->people == 1200.0);
}

TEST_CASE("Recovery follows the water down, after the repair time for electrical gear", "[unit][impact]") {
  Town town;
  auto& m = town.model;
  m.observe_water(town.at("sub"), 600.0, 0.5, {town.hazard});
  m.observe_water(town.at("sub"), 1200.0, 0.28, {town.hazard});  // within 10% of the threshold: still wet
  CHECK(town.last(kind::water_receded, "sub") == nullptr);
  m.observe_water(town.at("sub"), 1800.0, 0.05, {town.hazard});
  CHECK(town.last(kind::water_receded, "sub") != nullptr);
  CHECK(m.status(town.at("sub")) == AssetStatus::out_of_service);  // 4 h of repair
  m.advance_to(1800.0 + 4 * 3600.0 - 1.0);
  CHECK(m.status(town.at("sub")) == AssetStatus::out_of_service);
  m.advance_to(1800.0 + 4 * 3600.0);
  CHECK(m.status(town.at("sub")) == AssetStatus::in_service);
  CHECK(m.status(town.at("light")) == AssetStatus::in_service);
  CHECK(m.status(town.at("pump")) == AssetStatus::in_service);
  CHECK(m.status(town.at("hosp")) == AssetStatus::in_service);
  CHECK(m.zone_has_power(0));
  const Impact* back = town.last(kind::asset_recovered, "light");
  REQUIRE(back != nullptr);
  CHECK(town.log.at(back->causes.at(0)).kind == kind::asset_recovered);  // the substation's recovery
}

TEST_CASE("A hospital cut off by water carries the road closure in its chain", "[unit][impact]") {
  Town town;
  auto& m = town.model;
  const std::size_t hosp = town.at("hosp");
  m.observe_asset_access(hosp, 0.0, 360.0, {});  // 6 min before the crisis
  m.observe_asset_access(hosp, 600.0, 480.0, {});
  CHECK(town.last(kind::asset_cut_off, "hosp") == nullptr);  // 8 min: slower, not cut off
  Impact water;
  water.t_s = 1800.0;
  water.kind = kind::water;
  water.target = "E12";
  water.detail = "0.42 m of water > 0.30 m";
  water.causes = {town.hazard};
  const auto w = town.log.add(water);
  Impact closed = water;
  closed.kind = kind::road_closed;
  closed.causes = {w};
  closed.detail = "";
  const auto c = town.log.add(closed);
  m.observe_asset_access(hosp, 1800.0, std::numeric_limits<double>::infinity(), {c});
  const Impact* cut = town.last(kind::asset_cut_off, "hosp");
  REQUIRE(cut != nullptr);
  CHECK(cut->detail == "emergency access 6 min -> no route");
  const auto chain = town.log.chain(cut->id);
  REQUIRE(chain.size() == 3);
  CHECK(chain[0]->kind == kind::road_closed);
  CHECK(chain[1]->kind == kind::water);
  CHECK(chain[2]->kind == kind::inflow);
  m.observe_asset_access(hosp, 3600.0, 400.0, {});
  CHECK(town.last(kind::asset_reachable, "hosp") != nullptr);
}

TEST_CASE("Zones: degraded then unreachable access, people in flooded buildings", "[unit][impact]") {
  Town town;
  auto& m = town.model;
  m.observe_zone_access(0, 0.0, 360.0, {});
  m.observe_zone_access(0, 600.0, 600.0, {town.hazard});  // 10 min: < 6 + 5 min
  CHECK(town.last(kind::zone_access_degraded, "z-near") == nullptr);
  m.observe_zone_access(0, 1200.0, 1140.0, {town.hazard});  // 19 min
  const Impact* degraded = town.last(kind::zone_access_degraded, "z-near");
  REQUIRE(degraded != nullptr);
  CHECK(degraded->detail == "emergency access 6 min -> 19 min");
  CHECK(degraded->people == 1200.0);
  m.observe_zone_access(0, 1800.0, std::numeric_limits<double>::infinity(), {town.hazard});
  CHECK(town.last(kind::zone_unreachable, "z-near") != nullptr);
  m.observe_zone_access(0, 2400.0, 400.0, {town.hazard});
  CHECK(town.last(kind::zone_access_restored, "z-near") != nullptr);

  m.observe_zone_flooding(1, 600.0, 50.0, {town.hazard});
  m.observe_zone_flooding(1, 660.0, 52.0, {town.hazard});  // not a tenth more
  m.observe_zone_flooding(1, 720.0, 90.0, {town.hazard});
  int records = 0;
  for (const auto& i : town.log.all()) records += i.kind == kind::zone_flooded;
  CHECK(records == 2);

  // A zone no road reached before the crisis is not a consequence of it.
  m.observe_zone_access(1, 3000.0, std::numeric_limits<double>::infinity(), {});
  m.observe_zone_access(1, 3600.0, std::numeric_limits<double>::infinity(), {town.hazard});
  CHECK(town.last(kind::zone_unreachable, "z-far") == nullptr);
}

TEST_CASE("The same facts give the same log", "[unit][impact]") {
  auto run = [] {
    Town town;
    auto& m = town.model;
    m.observe_water(town.at("tel"), 100.0, 1.0, {town.hazard});
    m.observe_water(town.at("sub"), 200.0, 1.0, {town.hazard});
    m.advance_to(20000.0);
    std::vector<std::string> lines;
    for (const auto& i : town.log.all()) lines.push_back(ImpactLog::describe(i));
    return lines;
  };
  const auto a = run();
  CHECK(a == run());
  CHECK(a.size() > 8);
}

TEST_CASE("Bad impact input is refused", "[unit][impact]") {
  ImpactLog log;
  CHECK_THROWS_AS(ImpactModel({asset("a", AssetType::school, {0, 0}, {"nowhere"})}, {}, log), Error);
  Impact i;
  i.kind = kind::road_closed;
  i.causes = {7};
  CHECK_THROWS_AS(log.add(i), Error);
  CHECK_THROWS_AS(log.at(3), Error);
}
