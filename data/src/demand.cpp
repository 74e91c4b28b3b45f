#include "demand.h"

#include "places.h"
#include "random.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <string>

namespace cadereau::data::detail {

namespace {

struct DirectedEdge {
  std::string id;
  std::size_t segment;
  int from;
  int to;
};

// Weighted choice by binary search over cumulative weights.
class Picker {
 public:
  void add(std::size_t item, double weight) {
    if (weight <= 0.0) return;
    total_ += weight;
    items_.push_back(item);
    cumulative_.push_back(total_);
  }
  bool empty() const { return items_.empty(); }
  std::size_t pick(Rng& rng) const {
    const double r = rng.uniform() * total_;
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), r);
    return items_[std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()), items_.size() - 1)];
  }

 private:
  std::vector<std::size_t> items_;
  std::vector<double> cumulative_;
  double total_ = 0.0;
};

// Inverse of the cumulative departure profile: rate 1 over 07:00-07:45,
// 2 over 07:45-08:30, 1 over 08:30-09:00.
double departure_time_s(double u) {
  constexpr double kShoulder1_s = 2700.0;
  constexpr double kPeak_s = 2700.0;
  constexpr double kShoulder2_s = 1800.0;
  const double mass = u * (kShoulder1_s + 2.0 * kPeak_s + kShoulder2_s);
  if (mass < kShoulder1_s) return kPeakBegin_s + mass;
  if (mass < kShoulder1_s + 2.0 * kPeak_s) return kPeakBegin_s + kShoulder1_s + (mass - kShoulder1_s) / 2.0;
  return kPeakBegin_s + kShoulder1_s + kPeak_s + (mass - kShoulder1_s - 2.0 * kPeak_s);
}

}  // namespace

int write_trips(const StreetPlan& plan, const std::vector<twin::Asset>& assets, int vehicles, std::uint64_t seed,
                const std::filesystem::path& trips_xml) {
  if (vehicles < 0) fail("demo territory", "peak_vehicles {} is negative", vehicles);
  std::vector<DirectedEdge> edges;
  for (std::size_t k = 0; k < plan.segments.size(); ++k) {
    const auto& s = plan.segments[k];
    edges.push_back({s.id, k, s.a, s.b});
    edges.push_back({"-" + s.id, k, s.b, s.a});
  }
  auto node = [&](int n) -> const StreetNode& { return plan.nodes[static_cast<std::size_t>(n)]; };
  auto midpoint = [&](const DirectedEdge& e) {
    const auto& a = node(e.from).position;
    const auto& b = node(e.to).position;
    return twin::MapPoint{(a.x_m + b.x_m) / 2, (a.y_m + b.y_m) / 2};
  };
  auto near_asset = [&](twin::MapPoint p, twin::AssetType type, double radius_m) {
    for (const auto& a : assets)
      if (a.type == type && twin::distance_m(a.location, p) <= radius_m) return true;
    return false;
  };

  Picker entries, homes;
  std::array<Picker, 5> destinations;  // centre, hospitals, schools, industry, diffuse jobs
  constexpr std::array<double, 5> kDestinationShare = {0.38, 0.08, 0.17, 0.15, 0.22};
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const auto& e = edges[k];
    const auto& s = plan.segments[e.segment];
    const bool main_road = s.road_class != RoadClass::local && s.road_class != RoadClass::collector;
    if (plan.on_town_edge(e.from) && !plan.on_town_edge(e.to))
      entries.add(k, main_road ? 4.0 : (s.road_class == RoadClass::collector ? 2.0 : 1.0));
    const twin::MapPoint mid = midpoint(e);
    const BlockKind kind = block_kind_at(plan, mid);
    if (!main_road) {
      const double w = kind == BlockKind::suburb ? 1.5 : kind == BlockKind::town ? 1.0 : kind == BlockKind::historic ? 0.4 : 0.0;
      homes.add(k, w);
    }
    if (plan.in_ring(node(e.from).i, node(e.from).j) && plan.in_ring(node(e.to).i, node(e.to).j)) destinations[0].add(k, 1.0);
    if (near_asset(mid, twin::AssetType::hospital, 400.0)) destinations[1].add(k, 1.0);
    if (near_asset(mid, twin::AssetType::school, 250.0)) destinations[2].add(k, 1.0);
    if (kind == BlockKind::industrial) destinations[3].add(k, 1.0);
    if (s.road_class != RoadClass::local) destinations[4].add(k, 1.0);
  }
  if (entries.empty() || homes.empty()) fail("demo territory", "the street plan has no origin edges");
  for (const auto& d : destinations)
    if (d.empty()) fail("demo territory", "the street plan has a demand category without edges");

  struct Trip {
    double depart_s;
    int draw;
    std::size_t from;
    std::size_t to;
  };
  std::vector<Trip> trips;
  trips.reserve(static_cast<std::size_t>(vehicles));
  Rng rng(hash_keys(seed, 700, 900));
  for (int v = 0; v < vehicles; ++v) {
    const double depart_s = std::round(departure_time_s(rng.uniform()) * 100.0) / 100.0;
    const std::size_t from = rng.chance(0.3) ? entries.pick(rng) : homes.pick(rng);
    double r = rng.uniform();
    std::size_t category = 0;
    while (category + 1 < kDestinationShare.size() && r >= kDestinationShare[category]) r -= kDestinationShare[category++];
    std::size_t to = destinations[category].pick(rng);
    for (int retry = 0; retry < 8 && edges[to].segment == edges[from].segment; ++retry) to = destinations[category].pick(rng);
    if (edges[to].segment == edges[from].segment) continue;
    trips.push_back({depart_s, v, from, to});
  }
  std::sort(trips.begin(), trips.end(), [](const Trip& a, const Trip& b) {
    return a.depart_s != b.depart_s ? a.depart_s < b.depart_s : a.draw < b.draw;
  });

  std::ofstream out(trips_xml, std::ios::binary);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<!-- Cadereau demo territory: weekday morning peak 07:00-09:00 (peak 07:45-08:30). -->\n"
      << "<routes>\n"
      << "    <vType id=\"car\" vClass=\"passenger\" length=\"4.50\" minGap=\"2.50\" accel=\"2.6\" decel=\"4.5\" "
         "sigma=\"0.5\" maxSpeed=\"50.00\"/>\n";
  for (std::size_t k = 0; k < trips.size(); ++k) {
    const auto& t = trips[k];
    out << fmt::format(
        "    <trip id=\"t{:05d}\" type=\"car\" depart=\"{:.2f}\" from=\"{}\" to=\"{}\" departLane=\"best\" "
        "departSpeed=\"max\"/>\n",
        k, t.depart_s, edges[t.from].id, edges[t.to].id);
  }
  out << "</routes>\n";
  if (!out) fail(trips_xml.string(), "cannot write");
  return static_cast<int>(trips.size());
}

}  // namespace cadereau::data::detail
