#include "places.h"

#include "random.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/geometry.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numbers>
#include <set>

namespace cadereau::data::detail {

namespace {

using twin::AssetType;
using twin::MapPoint;

constexpr double kSuburbRadius_m = 2300.0;
constexpr double kStoreyHeight_m = 3.0;

bool is_park(int i, int j) {
  // Jardins de la Fontaine (north-west of the Écusson), Stade des Costières (south).
  static const std::set<std::pair<int, int>> parks = {{-6, 3}, {-5, 3}, {-6, 2}, {2, -14}, {3, -14}};
  return parks.count({i, j}) != 0;
}

bool is_industrial(int i, int j) { return i >= 5 && i <= 11 && j >= -17 && j <= -13; }

MapPoint bilinear(const std::array<MapPoint, 4>& q, double u, double v) {
  // q: south-west, south-east, north-east, north-west corners.
  const double w0 = (1 - u) * (1 - v), w1 = u * (1 - v), w2 = u * v, w3 = (1 - u) * v;
  return {w0 * q[0].x_m + w1 * q[1].x_m + w2 * q[2].x_m + w3 * q[3].x_m,
          w0 * q[0].y_m + w1 * q[1].y_m + w2 * q[2].y_m + w3 * q[3].y_m};
}

double round_to(double v, double step) { return std::round(v / step) * step; }

struct BlockStyle {
  int parcels_u;
  int parcels_v;
  double margin_min;  // fraction of the parcel left free on each side
  double margin_max;
  double height_min_m;
  double height_max_m;
  double skip_probability;
};

BlockStyle style_of(BlockKind kind) {
  switch (kind) {
    case BlockKind::historic: return {3, 3, 0.04, 0.12, 12.0, 22.0, 0.0};
    case BlockKind::town: return {3, 2, 0.12, 0.28, 6.0, 15.0, 0.05};
    case BlockKind::suburb: return {2, 2, 0.2, 0.35, 4.0, 8.0, 0.2};
    case BlockKind::industrial: return {2, 1, 0.08, 0.16, 7.0, 12.0, 0.1};
    default: return {0, 0, 0, 0, 0, 0, 1.0};
  }
}

std::string pick_use(BlockKind kind, double r) {
  switch (kind) {
    case BlockKind::historic: return r < 0.6 ? "residential" : (r < 0.9 ? "commercial" : "public");
    case BlockKind::town: return r < 0.82 ? "residential" : (r < 0.94 ? "commercial" : "public");
    case BlockKind::suburb: return r < 0.95 ? "residential" : "commercial";
    case BlockKind::industrial: return r < 0.85 ? "industrial" : "commercial";
    default: return "residential";
  }
}

twin::Polygon ellipse(MapPoint c, double a_m, double b_m, int vertices) {
  twin::Polygon p;
  for (int k = 0; k < vertices; ++k) {
    const double t = 2.0 * std::numbers::pi * k / vertices;
    p.outer.push_back({round_to(c.x_m + a_m * std::cos(t), 0.01), round_to(c.y_m + b_m * std::sin(t), 0.01)});
  }
  return p;
}

twin::Polygon rectangle(MapPoint c, double w_m, double h_m) {
  twin::Polygon p;
  p.outer = {{c.x_m - w_m / 2, c.y_m - h_m / 2}, {c.x_m + w_m / 2, c.y_m - h_m / 2},
             {c.x_m + w_m / 2, c.y_m + h_m / 2}, {c.x_m - w_m / 2, c.y_m + h_m / 2}};
  return p;
}

}  // namespace

BlockKind block_kind(const StreetPlan& plan, int i, int j) {
  if (plan.node_at(i, j) < 0 || plan.node_at(i + 1, j) < 0 || plan.node_at(i + 1, j + 1) < 0 ||
      plan.node_at(i, j + 1) < 0)
    return BlockKind::none;
  if (is_park(i, j)) return BlockKind::park;
  if (i >= -kRing && i < kRing && j >= -kRing && j < kRing) return BlockKind::historic;
  if (is_industrial(i, j)) return BlockKind::industrial;
  const double cx = (i + 0.5) * kBlock_m;
  const double cy = (j + 0.5) * kBlock_m;
  return std::hypot(cx, cy) > kSuburbRadius_m ? BlockKind::suburb : BlockKind::town;
}

BlockKind block_kind_at(const StreetPlan& plan, MapPoint p) {
  const int i = static_cast<int>(std::floor((p.x_m - kCentreX_m) / kBlock_m));
  const int j = static_cast<int>(std::floor((p.y_m - kCentreY_m) / kBlock_m));
  return block_kind(plan, i, j);
}

std::vector<twin::Building> make_buildings(const TerrainModel& terrain, const StreetPlan& plan, std::uint64_t seed) {
  std::vector<twin::Building> out;
  // Diagonal avenues cut through blocks: buildings keep clear of them.
  std::map<std::pair<int, int>, std::pair<MapPoint, MapPoint>> diagonal_in_block;
  double diagonal_clearance_m = 0.0;
  for (const auto& s : plan.segments) {
    if (!s.diagonal) continue;
    const auto& a = plan.nodes[static_cast<std::size_t>(s.a)];
    const auto& b = plan.nodes[static_cast<std::size_t>(s.b)];
    diagonal_in_block[{std::min(a.i, b.i), std::min(a.j, b.j)}] = {a.position, b.position};
    diagonal_clearance_m = std::max(diagonal_clearance_m, s.half_width_m() + 3.0);
  }
  Rng rng(hash_keys(seed, 4242));
  int next_id = 0;
  auto add = [&](twin::Polygon footprint, double height_m, std::string use) {
    twin::Building b;
    b.id = fmt::format("b{:05d}", next_id++);
    b.footprint = std::move(footprint);
    b.height_m = round_to(height_m, 0.1);
    b.use = std::move(use);
    out.push_back(std::move(b));
  };

  // Landmarks: the Roman arena in the south of the Écusson and the Maison Carrée.
  const std::pair<int, int> arena_block{0, -4};
  const std::pair<int, int> maison_carree_block{-1, 1};
  for (int j = kJMin; j < kJMax; ++j) {
    for (int i = kIMin; i < kIMax; ++i) {
      const BlockKind kind = block_kind(plan, i, j);
      if (kind == BlockKind::none || kind == BlockKind::park) continue;
      const std::array<MapPoint, 4> q = {
          plan.nodes[static_cast<std::size_t>(plan.node_at(i, j))].position,
          plan.nodes[static_cast<std::size_t>(plan.node_at(i + 1, j))].position,
          plan.nodes[static_cast<std::size_t>(plan.node_at(i + 1, j + 1))].position,
          plan.nodes[static_cast<std::size_t>(plan.node_at(i, j + 1))].position,
      };
      if (std::pair{i, j} == arena_block) {
        add(ellipse(bilinear(q, 0.5, 0.5), 55.0, 42.0, 36), 21.0, "public");
        continue;
      }
      if (std::pair{i, j} == maison_carree_block) {
        add(rectangle(bilinear(q, 0.5, 0.5), 15.0, 26.0), 17.0, "public");
        continue;
      }
      const BlockStyle style = style_of(kind);
      // Keep 15 m from the street centre lines: past the widest carriageway and pavement.
      const double setback = 0.1;
      const auto diagonal = diagonal_in_block.find({i, j});
      for (int pv = 0; pv < style.parcels_v; ++pv) {
        for (int pu = 0; pu < style.parcels_u; ++pu) {
          const double span = 1.0 - 2.0 * setback;
          const double u0 = setback + span * pu / style.parcels_u;
          const double u1 = setback + span * (pu + 1) / style.parcels_u;
          const double v0 = setback + span * pv / style.parcels_v;
          const double v1 = setback + span * (pv + 1) / style.parcels_v;
          const double mu0 = rng.uniform(style.margin_min, style.margin_max) * (u1 - u0);
          const double mu1 = rng.uniform(style.margin_min, style.margin_max) * (u1 - u0);
          const double mv0 = rng.uniform(style.margin_min, style.margin_max) * (v1 - v0);
          const double mv1 = rng.uniform(style.margin_min, style.margin_max) * (v1 - v0);
          const double height_m = rng.uniform(style.height_min_m, style.height_max_m);
          const double use_draw = rng.uniform();
          const bool skip = rng.chance(style.skip_probability);
          if (skip) continue;
          twin::Polygon footprint;
          footprint.outer = {bilinear(q, u0 + mu0, v0 + mv0), bilinear(q, u1 - mu1, v0 + mv0),
                             bilinear(q, u1 - mu1, v1 - mv1), bilinear(q, u0 + mu0, v1 - mv1)};
          for (auto& p : footprint.outer) p = {round_to(p.x_m, 0.01), round_to(p.y_m, 0.01)};
          bool clear = true;
          for (const auto& p : footprint.outer) {
            if (terrain.in_channel(p, 4.0)) clear = false;
            if (diagonal != diagonal_in_block.end() &&
                twin::segment_distance_m(p, diagonal->second.first, diagonal->second.second) < diagonal_clearance_m)
              clear = false;
          }
          if (diagonal != diagonal_in_block.end()) {
            // A footprint straddling the diagonal has corners on both sides.
            const auto& [a, b] = diagonal->second;
            int sides = 0;
            for (const auto& p : footprint.outer) {
              const double cross = (b.x_m - a.x_m) * (p.y_m - a.y_m) - (b.y_m - a.y_m) * (p.x_m - a.x_m);
              sides |= cross > 0 ? 1 : 2;
            }
            if (sides == 3) clear = false;
          }
          if (!clear) continue;
          add(std::move(footprint), height_m, pick_use(kind, use_draw));
        }
      }
    }
  }
  return out;
}

std::vector<twin::PopulationZone> make_zones(const std::vector<twin::Building>& buildings) {
  constexpr int kZonesX = 6;
  constexpr int kZonesY = 6;
  constexpr double kZone_m = 1000.0;
  // Neighbourhood names, south row first, west to east.
  static const std::array<const char*, kZonesX * kZonesY> names = {
      "Vistre ouest",        "Vistre – Saint-Césaire", "Vistre – Mas de Vignoles", "Vistre centre",
      "Vistre – Grézan",     "Vistre est",             "Saint-Césaire",            "Mas de Vignoles",
      "Croix de Fer",        "Les Costières",          "Grézan",                   "Mas de Mingue",
      "Carémeau",            "Pissevin",               "Jean Jaurès",              "Feuchères – Gare",
      "Chemin Bas d'Avignon", "Mas de Mingue nord",     "Valdegour",                "Route de Sommières",
      "Écusson ouest",       "Écusson – Arènes",       "Richelieu",                "Courbessac",
      "Les Castors",         "Route de Sauve",         "Jardins de la Fontaine",   "Gambetta – Mont Duplan",
      "Route d'Uzès",        "Courbessac nord",        "Garrigues de Camplanier",  "Garrigues de Ponge",
      "Mas-de-Ponge",        "Puech du Teil",          "Garrigues d'Uzès",         "Garrigues de Courbessac",
  };
  std::array<double, kZonesX * kZonesY> floor_area_m2{};
  for (const auto& b : buildings) {
    if (b.use != "residential") continue;
    const MapPoint c = b.footprint.centroid();
    const int zx = std::clamp(static_cast<int>((c.x_m - kXMin_m) / kZone_m), 0, kZonesX - 1);
    const int zy = std::clamp(static_cast<int>((c.y_m - kYMin_m) / kZone_m), 0, kZonesY - 1);
    const double storeys = std::max(1.0, std::floor(b.height_m / kStoreyHeight_m));
    floor_area_m2[static_cast<std::size_t>(zy * kZonesX + zx)] += b.footprint.area_m2() * storeys;
  }
  double total_m2 = 0.0;
  for (double a : floor_area_m2) total_m2 += a;
  if (total_m2 <= 0.0) fail("demo territory", "no residential floor area to spread the population over");

  // Largest-remainder rounding: whole inhabitants summing exactly to the total.
  std::array<double, kZonesX * kZonesY> exact{};
  std::array<double, kZonesX * kZonesY> whole{};
  double assigned = 0.0;
  for (std::size_t k = 0; k < exact.size(); ++k) {
    exact[k] = kTotalPopulation * floor_area_m2[k] / total_m2;
    whole[k] = std::floor(exact[k]);
    assigned += whole[k];
  }
  std::vector<std::size_t> order(exact.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return exact[a] - whole[a] > exact[b] - whole[b]; });
  for (std::size_t k = 0; assigned < kTotalPopulation && k < order.size(); ++k, assigned += 1.0) whole[order[k]] += 1.0;

  std::vector<twin::PopulationZone> zones;
  for (int zy = 0; zy < kZonesY; ++zy) {
    for (int zx = 0; zx < kZonesX; ++zx) {
      const auto k = static_cast<std::size_t>(zy * kZonesX + zx);
      if (whole[k] <= 0.0) continue;
      twin::PopulationZone z;
      z.id = fmt::format("zone-{}{}", static_cast<char>('A' + zx), zy + 1);
      z.name = names[k];
      const double x0 = kXMin_m + zx * kZone_m;
      const double y0 = kYMin_m + zy * kZone_m;
      z.area.outer = {{x0, y0}, {x0 + kZone_m, y0}, {x0 + kZone_m, y0 + kZone_m}, {x0, y0 + kZone_m}};
      z.population = whole[k];
      zones.push_back(std::move(z));
    }
  }
  return zones;
}

std::string junction_name(const StreetPlan& plan, int node) {
  std::vector<std::string> names;
  for (const auto& s : plan.segments) {
    if (s.a != node && s.b != node) continue;
    if (std::find(names.begin(), names.end(), s.name) == names.end()) names.push_back(s.name);
  }
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    auto rank = [&](const std::string& n) {
      for (const auto& s : plan.segments)
        if (s.name == n) return -s.priority;
      return 0;
    };
    return rank(a) < rank(b);
  });
  if (names.empty()) return plan.nodes[static_cast<std::size_t>(node)].id;
  if (names.size() == 1) return names[0];
  return names[0] + " / " + names[1];
}

std::vector<twin::Asset> make_assets(const TerrainModel& terrain, const std::vector<SignalSite>& signals) {
  const Stream& ales = terrain.stream("ales");
  const Stream& uzes = terrain.stream("uzes");
  auto on_stream = [](const Stream& s, double y_m, double offset_m) { return MapPoint{s.centre_x_m(y_m) + offset_m, y_m}; };
  auto beside_vistre = [&](double x_m, double offset_m) { return MapPoint{x_m, terrain.vistre_y_m(x_m) + offset_m}; };

  // The substation feeding a sector: north of the centre from Nîmes-Nord, the
  // south-east from Courbessac, the south-west from the Vistre substation,
  // which sits in a low spot of the cadereau d'Alès: its failure cascades.
  auto substation_for = [](MapPoint p) -> std::string {
    if (p.y_m > kCentreY_m) return "sub-nord";
    return p.x_m > kCentreX_m ? "sub-courbessac" : "sub-vistre";
  };

  std::vector<twin::Asset> assets;
  auto add = [&](std::string id, std::string name, AssetType type, MapPoint where, std::vector<std::string> deps,
                 double capacity, double threshold_m = -1.0) {
    twin::Asset a = twin::asset_of_type(std::move(id), type, {round_to(where.x_m, 0.01), round_to(where.y_m, 0.01)});
    a.name = std::move(name);
    if (threshold_m > 0.0) a.flood_threshold_m = threshold_m;
    a.depends_on = std::move(deps);
    a.capacity = capacity;
    assets.push_back(std::move(a));
  };
  auto powered = [&](MapPoint p, std::vector<std::string> more = {}) {
    std::vector<std::string> deps{substation_for(p)};
    deps.insert(deps.end(), more.begin(), more.end());
    return deps;
  };

  // Power (capacity: MVA).
  add("sub-nord", "Poste source Nîmes-Nord", AssetType::substation, {810600.0, 6304300.0}, {}, 80.0);
  add("sub-courbessac", "Poste source Courbessac", AssetType::substation, {812300.0, 6302600.0}, {}, 60.0);
  add("sub-vistre", "Poste source du Vistre", AssetType::substation, on_stream(ales, 6300500.0, 35.0), {}, 60.0);

  // Telecom (capacity: subscriber lines).
  const MapPoint tel_centre{810450.0, 6302950.0};
  const MapPoint tel_east{812100.0, 6302300.0};
  add("tel-centre", "NRO Nîmes-Centre", AssetType::telecom_node, tel_centre, powered(tel_centre), 40000.0);
  add("tel-courbessac", "NRO Courbessac", AssetType::telecom_node, tel_east, powered(tel_east), 25000.0);

  // Health (capacity: beds). The CHU stands west of the centre on rising ground
  // between the Camplanier and Alès valleys; the clinic sits beside the Uzès cadereau.
  const MapPoint chu{808500.0, 6302500.0};
  add("hosp-chu", "CHU Carémeau", AssetType::hospital, chu, powered(chu, {"tel-centre"}), 1800.0);
  const MapPoint clinic = on_stream(uzes, 6301900.0, 45.0);
  add("hosp-kennedy", "Clinique Kennedy", AssetType::hospital, clinic, powered(clinic, {"tel-courbessac"}), 220.0);

  // Schools (capacity: pupils). Three stand in the cadereau valleys, as Nîmes' did in 1988.
  struct Named {
    const char* id;
    const char* name;
    MapPoint where;
    double capacity;
  };
  const std::vector<Named> schools = {
      {"school-jean-zay", "École Jean Zay", on_stream(ales, 6302300.0, 30.0), 280},
      {"school-jules-ferry", "École Jules Ferry", on_stream(ales, 6301300.0, -40.0), 320},
      {"school-gazelle", "École de la Gazelle", on_stream(uzes, 6302600.0, -30.0), 240},
      {"school-daudet", "Lycée Alphonse Daudet", {810150.0, 6303100.0}, 1400},
      {"school-feucheres", "Collège Feuchères", {810700.0, 6302300.0}, 650},
      {"school-pasteur", "École Pasteur", {811000.0, 6303600.0}, 300},
      {"school-courbessac", "Groupe scolaire Courbessac", {812200.0, 6301600.0}, 350},
      {"school-jules-verne", "Collège Jules Verne", {808250.0, 6301400.0}, 600},
  };
  for (const auto& s : schools) add(s.id, s.name, AssetType::school, s.where, powered(s.where), s.capacity);

  // Retirement homes (capacity: residents).
  const std::vector<Named> homes = {
      {"ehpad-cigales", "EHPAD Les Cigales", on_stream(ales, 6301800.0, 35.0), 90},
      {"ehpad-oliviers", "EHPAD Le Mas des Oliviers", {811300.0, 6303200.0}, 110},
      {"ehpad-magnolias", "Résidence Les Magnolias", {809000.0, 6300700.0}, 75},
  };
  for (const auto& h : homes) add(h.id, h.name, AssetType::retirement_home, h.where, powered(h.where), h.capacity);

  // Emergency services (capacity: vehicles or staff on duty).
  add("sdis-nord", "SDIS 30 — Centre de secours Nîmes-Nord", AssetType::fire_station, {810900.0, 6303900.0}, {}, 14);
  add("sdis-sud", "SDIS 30 — Centre de secours Nîmes-Sud", AssetType::fire_station, {809700.0, 6300900.0}, {}, 10);
  add("police-hotel", "Hôtel de police", AssetType::police, {810950.0, 6302600.0}, {"tel-centre"}, 120);
  const MapPoint hyperviseur{810550.0, 6303250.0};
  add("crisis-hyperviseur", "Hyperviseur — PC de crise", AssetType::crisis_post, hyperviseur,
      powered(hyperviseur, {"tel-centre"}), 40);

  // Water (capacity: m3/h pumped or treated).
  const MapPoint pump_vistre = beside_vistre(810300.0, 60.0);
  add("pump-vistre", "Station de pompage du Vistre", AssetType::pumping_station, pump_vistre, powered(pump_vistre), 1200);
  const MapPoint pump_uzes = on_stream(uzes, 6300700.0, -40.0);
  add("pump-uzes", "Station de relevage du cadereau d'Uzès", AssetType::pumping_station, pump_uzes, powered(pump_uzes),
      600);
  const MapPoint wwtp = beside_vistre(807600.0, 80.0);
  add("wwtp-ouest", "Station d'épuration Nîmes-Ouest", AssetType::water_treatment, wwtp, powered(wwtp), 2500);

  // Underpasses (trémies) where avenues dip under the cadereaux' path: the first to flood.
  const double arterial_y = kCentreY_m + kArterialJ * kBlock_m;
  add("tremie-languedoc-ales", "Trémie du Languedoc (cadereau d'Alès)", AssetType::underpass,
      on_stream(ales, arterial_y, 0.0), {}, 0);
  add("tremie-languedoc-uzes", "Trémie du Languedoc (cadereau d'Uzès)", AssetType::underpass,
      on_stream(uzes, arterial_y, 0.0), {}, 0);
  add("tremie-sommieres", "Trémie de la route de Sommières", AssetType::underpass, on_stream(ales, kCentreY_m, 0.0), {},
      0);

  // Car parks (capacity: spaces). The underground one floods from its ramps.
  add("parking-arenes", "Parking souterrain des Arènes", AssetType::car_park, {810100.0, 6302300.0}, {}, 600, 0.1);
  add("parking-jaures", "Parking Jean Jaurès", AssetType::car_park, {810330.0, 6301900.0}, {}, 400);
  add("parking-costieres", "Parking relais Costières", AssetType::car_park, {810800.0, 6300750.0}, {}, 800);

  // One controller per SUMO traffic light, powered by its sector's substation.
  for (const auto& s : signals) {
    add("tls-" + s.tls_id, "Feux " + s.name, AssetType::traffic_signal, s.position, {substation_for(s.position)}, 0);
    assets.back().tls_id = s.tls_id;
  }
  return assets;
}

namespace {

// The rating curve of a cadereau at northing y, from the ground itself:
// Manning's formula on the cross-section of the valley (1 m slices across
// it, n = 0.035 as the land cover gives channels, the bed's slope over
// 400 m), stages above the thalweg. A live session turns the gauge's
// readings into the inflow this section carries.
std::vector<std::pair<double, double>> channel_rating(const TerrainModel& terrain, const Stream& s, double y) {
  const double n = 0.035;
  const double slope = std::max(1e-4, (terrain.thalweg_m(s, y + 200.0) - terrain.thalweg_m(s, y - 200.0)) / 400.0);
  const double bed = terrain.thalweg_m(s, y);
  const double centre = s.centre_x_m(y);
  std::vector<std::pair<double, double>> rating;
  for (double stage : {0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0}) {
    double area = 0.0, perimeter = 0.0, previous = 0.0;
    for (double x = centre - 150.0; x <= centre + 150.0; x += 1.0) {
      const double depth = std::max(0.0, bed + stage - terrain.elevation_m(x, y));
      area += depth;
      if (depth > 0.0 || previous > 0.0) perimeter += std::hypot(1.0, depth - previous);
      previous = depth;
    }
    const double q = perimeter > 0.0 ? area * std::pow(area / perimeter, 2.0 / 3.0) * std::sqrt(slope) / n : 0.0;
    rating.emplace_back(stage, round_to(q, 0.1));
  }
  // Stages whose discharge rounds to the previous one add nothing.
  std::vector<std::pair<double, double>> kept{rating.front()};
  for (std::size_t k = 1; k < rating.size(); ++k)
    if (rating[k].second > kept.back().second) kept.push_back(rating[k]);
  return kept;
}

}  // namespace

std::vector<twin::Sensor> make_sensors(const TerrainModel& terrain, const StreetPlan& plan) {
  std::vector<twin::Sensor> sensors;
  auto add = [&](std::string id, std::string name, twin::SensorKind kind, MapPoint where) {
    twin::Sensor s;
    s.id = std::move(id);
    s.name = std::move(name);
    s.kind = kind;
    s.location = {round_to(where.x_m, 0.01), round_to(where.y_m, 0.01)};
    sensors.push_back(std::move(s));
    return &sensors.back();
  };
  using twin::SensorKind;
  add("rg-mas-de-ponge", "Mas-de-Ponge", SensorKind::rain_gauge, {809600.0, 6304650.0});
  add("rg-puech-du-teil", "Puech du Teil", SensorKind::rain_gauge, {811200.0, 6304700.0});
  add("rg-camplanier", "Garrigues de Camplanier", SensorKind::rain_gauge, {807600.0, 6304500.0});
  add("rg-courbessac", "Courbessac", SensorKind::rain_gauge, {812500.0, 6303900.0});

  for (const auto& s : terrain.streams()) {
    const double y_hills = 6303800.0;
    const double y_town = 6301500.0;
    auto* upstream = add(fmt::format("lg-{}-amont", s.id), s.name + " (sortie des garrigues)", SensorKind::level_gauge,
                         {s.centre_x_m(y_hills), y_hills});
    upstream->watercourse = s.name;
    upstream->rating = channel_rating(terrain, s, y_hills);
    add(fmt::format("lg-{}-ville", s.id), s.name + " (traversée urbaine)", SensorKind::level_gauge,
        {s.centre_x_m(y_town), y_town})->watercourse = s.name;
  }
  for (double x : {808500.0, 811800.0}) {
    add(fmt::format("lg-vistre-{}", x < kCentreX_m ? "ouest" : "est"),
        fmt::format("Vistre ({})", x < kCentreX_m ? "ouest" : "est"), SensorKind::level_gauge,
        {x, terrain.vistre_y_m(x)})->watercourse = "Vistre";
  }

  // Traffic counters on the main roads; edge ids as written in the plain XML.
  const auto seg_id = [](char kind, int a, int b) { return fmt::format("{}{}_{}", kind, a, b); };
  const std::vector<std::pair<std::string, bool>> wanted = {
      {seg_id('h', kArterialJ - kJMin, -10 - kIMin), false},  // avenue du Languedoc, west
      {seg_id('h', kArterialJ - kJMin, 5 - kIMin), true},     // avenue du Languedoc, east
      {seg_id('h', kRing - kJMin, 0 - kIMin), false},         // boulevard Gambetta
      {seg_id('v', -kRing - kIMin, 0 - kJMin), true},         // boulevard Victor Hugo
      {seg_id('v', 0 - kIMin, 6 - kJMin), true},              // route d'Alès, inbound
      {seg_id('v', 0 - kIMin, -12 - kJMin), false},           // avenue Jean Jaurès, inbound
      {seg_id('h', 0 - kJMin, 9 - kIMin), true},              // route d'Avignon, inbound
      {seg_id('d', -6 - kIMin, -6 - kJMin), true},            // route de Montpellier, inbound
  };
  int n = 0;
  for (const auto& [segment, reverse] : wanted) {
    const auto it = std::find_if(plan.segments.begin(), plan.segments.end(),
                                 [&](const StreetSegment& s) { return s.id == segment; });
    if (it == plan.segments.end()) continue;
    const auto& a = plan.nodes[static_cast<std::size_t>(it->a)].position;
    const auto& b = plan.nodes[static_cast<std::size_t>(it->b)].position;
    auto* s = add(fmt::format("tc-{:02d}", ++n), fmt::format("Comptage {}", it->name), SensorKind::traffic_counter,
                  {(a.x_m + b.x_m) / 2, (a.y_m + b.y_m) / 2});
    s->edge_id = (reverse ? "-" : "") + segment;
  }
  // Each sensor reports through a LoRaWAN device and a SensorThings datastream
  // of its own, numbered in this order (the feed simulator and the tests name them).
  for (std::size_t k = 0; k < sensors.size(); ++k) {
    sensors[k].dev_eui = fmt::format("70B3D57ED0{:06X}", k + 1);
    sensors[k].datastream = std::to_string(k + 1);
  }
  return sensors;
}

}  // namespace cadereau::data::detail
