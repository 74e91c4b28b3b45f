#include "streets.h"

#include "random.h"
#include "terrain.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/geometry.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <queue>

namespace cadereau::data::detail {

namespace {

constexpr double kJitter_m = 15.0;
constexpr double kKmh = 1.0 / 3.6;

// The town outline: a rounded rectangle (superellipse) in lattice units.
constexpr double kShapeCentreI = -2.0;
constexpr double kShapeCentreJ = -4.5;
constexpr double kShapeRadiusI = 15.6;
constexpr double kShapeRadiusJ = 13.1;

double shape_value(double i, double j) {
  const double u = (i - kShapeCentreI) / kShapeRadiusI;
  const double v = (j - kShapeCentreJ) / kShapeRadiusJ;
  return u * u * u * u + v * v * v * v;
}

// Street names, one per grid line (rows then columns); collectors become avenues.
constexpr std::array<const char*, 60> kLineNames = {
    "de la République", "Nationale",          "de l'Agau",          "Fléchier",           "des Lombards",
    "Séguier",          "Bonfa",              "de la Madeleine",    "du Cirque Romain",   "Notre-Dame",
    "Porte de France",  "Pierre Semard",      "Vincent Faïta",      "de Beaucaire",       "Clérisseau",
    "Jean Reboul",      "des Halles",         "de la Servie",       "Bernard Lazare",     "Émile Jamais",
    "du Mont Duplan",   "Roussy",             "Racine",             "Guizot",             "Pradier",
    "Colbert",          "Pasteur",            "Talabot",            "d'Aquitaine",        "des Tilleuls",
    "Maréchal Juin",    "Georges Pompidou",   "Kennedy",            "du Mas de Mingue",   "de Valdegour",
    "Bir-Hakeim",       "de Courbessac",      "de la Croix de Fer", "des Chassaintes",    "Antoine Bonnet",
    "Florian",          "de Générac",         "de Saint-Césaire",   "du Puech du Teil",   "des Castors",
    "Monjardin",        "Jean Bouin",         "Pierre Gamel",       "Hoche",              "Dhuoda",
    "Briçonnet",        "de la Biche",        "Sully",              "Littré",             "des Arts",
    "du Cadran",        "Fresque",            "de l'Étoile",        "Graverol",           "du Grand Couvent",
};

std::string line_name(int line_index, bool collector) {
  const char* base = kLineNames[static_cast<std::size_t>(line_index) % kLineNames.size()];
  return fmt::format("{} {}", collector ? "avenue" : "rue", base);
}

struct Radial {
  int di;
  int dj;
  const char* name;
};
// Axial and diagonal avenues leaving the ring, named after where they lead.
constexpr std::array<Radial, 8> kRadials = {{
    {0, 1, "route d'Alès"},
    {0, -1, "avenue Jean Jaurès"},
    {1, 0, "route d'Avignon"},
    {-1, 0, "route de Sommières"},
    {1, 1, "route d'Uzès"},
    {-1, 1, "route de Sauve"},
    {1, -1, "route de Beaucaire"},
    {-1, -1, "route de Montpellier"},
}};

void set_class(StreetSegment& s, RoadClass c, const std::string& name, double speed_kmh) {
  s.road_class = c;
  s.name = name;
  s.speed_m_s = speed_kmh * kKmh;
  switch (c) {
    case RoadClass::local: s.lanes_per_direction = 1; s.priority = 1; break;
    case RoadClass::collector: s.lanes_per_direction = 1; s.priority = 3; break;
    case RoadClass::avenue: s.lanes_per_direction = 2; s.priority = 5; break;
    case RoadClass::ring: s.lanes_per_direction = 2; s.priority = 6; break;
    case RoadClass::arterial: s.lanes_per_direction = 2; s.priority = 7; break;
  }
}

bool is_signalised(int i, int j) {
  const bool on_ring = (std::abs(i) == kRing && std::abs(j) <= kRing) || (std::abs(j) == kRing && std::abs(i) <= kRing);
  if (on_ring) return (i + j) % 2 == 0;
  if (j == kArterialJ && i >= kArterialIMin && i <= kArterialIMax) return i % 2 == 0;
  if (i == 0 && (j == 8 || j == -12 || j == -16)) return true;
  if (j == 0 && (i == 8 || i == 12 || i == -8 || i == -12 || i == -16)) return true;
  if (std::abs(i) == 8 && std::abs(j) == 8) return true;
  return false;
}

bool connected(const StreetPlan& plan, const std::vector<bool>& removed) {
  std::vector<std::vector<int>> adjacency(plan.nodes.size());
  for (std::size_t k = 0; k < plan.segments.size(); ++k) {
    if (removed[k]) continue;
    adjacency[static_cast<std::size_t>(plan.segments[k].a)].push_back(plan.segments[k].b);
    adjacency[static_cast<std::size_t>(plan.segments[k].b)].push_back(plan.segments[k].a);
  }
  std::vector<bool> seen(plan.nodes.size(), false);
  std::queue<int> queue;
  queue.push(0);
  seen[0] = true;
  std::size_t count = 1;
  while (!queue.empty()) {
    const int n = queue.front();
    queue.pop();
    for (int m : adjacency[static_cast<std::size_t>(n)]) {
      if (seen[static_cast<std::size_t>(m)]) continue;
      seen[static_cast<std::size_t>(m)] = true;
      ++count;
      queue.push(m);
    }
  }
  return count == plan.nodes.size();
}

}  // namespace

bool town_contains(int i, int j) { return shape_value(i, j) <= 1.0; }

bool town_contains(twin::MapPoint p) {
  return shape_value((p.x_m - kCentreX_m) / kBlock_m, (p.y_m - kCentreY_m) / kBlock_m) <= 1.0;
}

int StreetPlan::node_at(int i, int j) const {
  if (i < kIMin || i > kIMax || j < kJMin || j > kJMax) return -1;
  return lattice[static_cast<std::size_t>((j - kJMin) * (kIMax - kIMin + 1) + (i - kIMin))];
}

bool StreetPlan::on_town_edge(int node) const {
  const auto& n = nodes[static_cast<std::size_t>(node)];
  return node_at(n.i + 1, n.j) < 0 || node_at(n.i - 1, n.j) < 0 || node_at(n.i, n.j + 1) < 0 ||
         node_at(n.i, n.j - 1) < 0;
}

StreetPlan plan_streets(std::uint64_t seed) {
  StreetPlan plan;
  plan.lattice.assign(static_cast<std::size_t>((kIMax - kIMin + 1) * (kJMax - kJMin + 1)), -1);

  for (int j = kJMin; j <= kJMax; ++j) {
    for (int i = kIMin; i <= kIMax; ++i) {
      if (!town_contains(i, j)) continue;
      const bool vertical_main = (std::abs(i) == kRing && std::abs(j) <= kRing) || (i == 0 && std::abs(j) >= kRing);
      const bool horizontal_main = (std::abs(j) == kRing && std::abs(i) <= kRing) || (j == 0 && std::abs(i) >= kRing) ||
                                   (j == kArterialJ && i >= kArterialIMin && i <= kArterialIMax);
      const bool diagonal = std::abs(i) == std::abs(j) && std::abs(i) >= kRing;
      double jx = kJitter_m * signed_unit(hash_keys(seed, i, j, 1));
      double jy = kJitter_m * signed_unit(hash_keys(seed, i, j, 2));
      if (vertical_main || diagonal) jx *= 0.2;
      if (horizontal_main || diagonal) jy *= 0.2;
      StreetNode node;
      node.i = i;
      node.j = j;
      node.id = fmt::format("J{}_{}", i - kIMin, j - kJMin);
      node.position = {kCentreX_m + i * kBlock_m + jx, kCentreY_m + j * kBlock_m + jy};
      node.traffic_light = is_signalised(i, j);
      plan.lattice[static_cast<std::size_t>((j - kJMin) * (kIMax - kIMin + 1) + (i - kIMin))] =
          static_cast<int>(plan.nodes.size());
      plan.nodes.push_back(std::move(node));
    }
  }

  const double local_30_radius_m = 1500.0;
  auto local_speed = [&](int a, int b) {
    const auto& pa = plan.nodes[static_cast<std::size_t>(a)].position;
    const auto& pb = plan.nodes[static_cast<std::size_t>(b)].position;
    const twin::MapPoint mid{(pa.x_m + pb.x_m) / 2, (pa.y_m + pb.y_m) / 2};
    return twin::distance_m(mid, {kCentreX_m, kCentreY_m}) < local_30_radius_m ? 30.0 : 50.0;
  };
  const int rows = kJMax - kJMin + 1;

  // Horizontal segments, west to east.
  for (int j = kJMin; j <= kJMax; ++j) {
    for (int i = kIMin; i < kIMax; ++i) {
      const int a = plan.node_at(i, j);
      const int b = plan.node_at(i + 1, j);
      if (a < 0 || b < 0) continue;
      StreetSegment s;
      s.id = fmt::format("h{}_{}", j - kJMin, i - kIMin);
      s.a = a;
      s.b = b;
      const int line = j - kJMin;
      if (std::abs(j) == kRing && i >= -kRing && i < kRing) {
        set_class(s, RoadClass::ring, j > 0 ? "boulevard Gambetta" : "boulevard des Arènes", 50);
      } else if (j == kArterialJ && i >= kArterialIMin && i < kArterialIMax) {
        set_class(s, RoadClass::arterial, "avenue du Languedoc", 50);
      } else if (j == 0 && (i >= kRing || i < -kRing)) {
        set_class(s, RoadClass::avenue, i > 0 ? "route d'Avignon" : "route de Sommières", 50);
      } else if (plan.in_ring(i, j) && plan.in_ring(i + 1, j)) {
        set_class(s, RoadClass::local, line_name(line, false), 30);
      } else if (j % 4 == 0) {
        set_class(s, RoadClass::collector, line_name(line, true), 50);
      } else {
        set_class(s, RoadClass::local, line_name(line, false), local_speed(a, b));
      }
      plan.segments.push_back(std::move(s));
    }
  }
  // Vertical segments, south to north.
  for (int i = kIMin; i <= kIMax; ++i) {
    for (int j = kJMin; j < kJMax; ++j) {
      const int a = plan.node_at(i, j);
      const int b = plan.node_at(i, j + 1);
      if (a < 0 || b < 0) continue;
      StreetSegment s;
      s.id = fmt::format("v{}_{}", i - kIMin, j - kJMin);
      s.a = a;
      s.b = b;
      const int line = rows + (i - kIMin);
      if (std::abs(i) == kRing && j >= -kRing && j < kRing) {
        set_class(s, RoadClass::ring, i > 0 ? "boulevard Amiral Courbet" : "boulevard Victor Hugo", 50);
      } else if (i == 0 && (j >= kRing || j < -kRing)) {
        set_class(s, RoadClass::avenue, j > 0 ? "route d'Alès" : "avenue Jean Jaurès", 50);
      } else if (plan.in_ring(i, j) && plan.in_ring(i, j + 1)) {
        set_class(s, RoadClass::local, line_name(line, false), 30);
      } else if (i % 4 == 0) {
        set_class(s, RoadClass::collector, line_name(line, true), 50);
      } else {
        set_class(s, RoadClass::local, line_name(line, false), local_speed(a, b));
      }
      plan.segments.push_back(std::move(s));
    }
  }
  // Diagonal avenues from the ring's corners outwards, lattice node to lattice
  // node: they cross the grid only at junctions.
  for (const auto& r : kRadials) {
    if (r.di == 0 || r.dj == 0) continue;
    for (int k = kRing;; ++k) {
      const int a = plan.node_at(k * r.di, k * r.dj);
      const int b = plan.node_at((k + 1) * r.di, (k + 1) * r.dj);
      if (a < 0 || b < 0) break;
      StreetSegment s;
      s.id = fmt::format("d{}_{}", k * r.di - kIMin, k * r.dj - kJMin);
      s.a = a;
      s.b = b;
      s.diagonal = true;
      set_class(s, RoadClass::avenue, r.name, 50);
      plan.segments.push_back(std::move(s));
    }
  }

  // Drop a few local streets for irregularity, keeping every junction at
  // least 2-connected in degree and the whole network connected.
  std::vector<int> degree(plan.nodes.size(), 0);
  for (const auto& s : plan.segments) {
    ++degree[static_cast<std::size_t>(s.a)];
    ++degree[static_cast<std::size_t>(s.b)];
  }
  std::vector<bool> removed(plan.segments.size(), false);
  for (std::size_t k = 0; k < plan.segments.size(); ++k) {
    const auto& s = plan.segments[k];
    if (s.road_class != RoadClass::local) continue;
    if (unit_interval(hash_keys(seed, static_cast<std::int64_t>(k), 77)) >= 0.07) continue;
    if (degree[static_cast<std::size_t>(s.a)] <= 2 || degree[static_cast<std::size_t>(s.b)] <= 2) continue;
    if (plan.nodes[static_cast<std::size_t>(s.a)].traffic_light || plan.nodes[static_cast<std::size_t>(s.b)].traffic_light)
      continue;
    removed[k] = true;
    if (!connected(plan, removed)) {
      removed[k] = false;
      continue;
    }
    --degree[static_cast<std::size_t>(s.a)];
    --degree[static_cast<std::size_t>(s.b)];
  }
  std::vector<StreetSegment> kept;
  for (std::size_t k = 0; k < plan.segments.size(); ++k)
    if (!removed[k]) kept.push_back(std::move(plan.segments[k]));
  plan.segments = std::move(kept);
  if (!connected(plan, std::vector<bool>(plan.segments.size(), false)))
    fail("demo territory", "the generated street grid is not connected");
  return plan;
}

void write_plain_xml(const StreetPlan& plan, const std::filesystem::path& nodes_xml,
                     const std::filesystem::path& edges_xml) {
  {
    std::ofstream out(nodes_xml, std::ios::binary);
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<!-- Cadereau demo territory: street junctions in Lambert-93 (EPSG:2154), metres. -->\n"
        << "<nodes version=\"1.9\">\n"
        << fmt::format(
               "    <location netOffset=\"0.00,0.00\" convBoundary=\"{0:.2f},{1:.2f},{2:.2f},{3:.2f}\" "
               "origBoundary=\"{0:.2f},{1:.2f},{2:.2f},{3:.2f}\" projParameter=\"+proj=lcc +lat_0=46.5 +lon_0=3 "
               "+lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +units=m +no_defs\"/>\n",
               kXMin_m, kYMin_m, kXMax_m, kYMax_m);
    for (const auto& n : plan.nodes) {
      out << fmt::format("    <node id=\"{}\" x=\"{:.2f}\" y=\"{:.2f}\" type=\"{}\"/>\n", n.id, n.position.x_m,
                         n.position.y_m, n.traffic_light ? "traffic_light" : "priority");
    }
    out << "</nodes>\n";
    if (!out) fail(nodes_xml.string(), "cannot write");
  }
  std::ofstream out(edges_xml, std::ios::binary);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<!-- Cadereau demo territory: two-way streets, one edge per direction. -->\n"
      << "<edges version=\"1.9\">\n";
  for (const auto& s : plan.segments) {
    const auto& a = plan.nodes[static_cast<std::size_t>(s.a)];
    const auto& b = plan.nodes[static_cast<std::size_t>(s.b)];
    for (int dir = 0; dir < 2; ++dir) {
      out << fmt::format(
          "    <edge id=\"{}{}\" from=\"{}\" to=\"{}\" priority=\"{}\" numLanes=\"{}\" speed=\"{:.2f}\" name=\"{}\"/>\n",
          dir == 0 ? "" : "-", s.id, dir == 0 ? a.id : b.id, dir == 0 ? b.id : a.id, s.priority,
          s.lanes_per_direction, s.speed_m_s, s.name);
    }
  }
  out << "</edges>\n";
  if (!out) fail(edges_xml.string(), "cannot write");
}

void burn_roads(const StreetPlan& plan, twin::Raster& raster, float value) {
  const auto& g = raster.grid();
  for (const auto& s : plan.segments) {
    const auto& pa = plan.nodes[static_cast<std::size_t>(s.a)].position;
    const auto& pb = plan.nodes[static_cast<std::size_t>(s.b)].position;
    const double hw = std::max(s.half_width_m(), 0.5 * g.cell_w_m);
    const double x0 = std::min(pa.x_m, pb.x_m) - hw;
    const double x1 = std::max(pa.x_m, pb.x_m) + hw;
    const double y0 = std::min(pa.y_m, pb.y_m) - hw;
    const double y1 = std::max(pa.y_m, pb.y_m) + hw;
    const int c0 = std::max(0, static_cast<int>(std::floor((x0 - g.x_min_m) / g.cell_w_m)));
    const int c1 = std::min(g.cols - 1, static_cast<int>(std::floor((x1 - g.x_min_m) / g.cell_w_m)));
    const int r0 = std::max(0, static_cast<int>(std::floor((g.y_max_m - y1) / g.cell_h_m)));
    const int r1 = std::min(g.rows - 1, static_cast<int>(std::floor((g.y_max_m - y0) / g.cell_h_m)));
    for (int r = r0; r <= r1; ++r)
      for (int c = c0; c <= c1; ++c)
        if (twin::segment_distance_m(g.cell_centre({c, r}), pa, pb) <= hw) raster.at(c, r) = value;
  }
}

}  // namespace cadereau::data::detail
