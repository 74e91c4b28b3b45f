#include "street_closures.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace cadereau::server {

namespace kind = sim::impact::kind;

std::string street_of(const twin::Edge& edge) {
  if (!edge.name.empty()) return edge.name;
  return edge.id.rfind('-', 0) == 0 ? edge.id.substr(1) : edge.id;
}

std::vector<StreetClosure> street_closures(const sim::impact::ImpactLog& log, const twin::RoadNetwork& network,
                                           const std::vector<double>& edge_max_depth_m) {
  std::vector<StreetClosure> streets;
  std::map<std::string, std::size_t> street_index;
  // Per street: its sections by junction pair, and the edges closed now.
  std::vector<std::set<std::pair<std::string, std::string>>> sections_of;
  std::vector<std::set<std::string>> closed_now;
  std::vector<std::set<std::string>> edges_seen;
  for (const auto& r : log.all()) {
    if (r.kind != kind::road_closed && r.kind != kind::road_reopened) continue;
    const auto e = network.edge_index(r.target);
    if (!e) continue;
    const twin::Edge& edge = network.edges()[*e];
    const std::string street = street_of(edge);
    auto [it, added] = street_index.emplace(street, streets.size());
    if (added) {
      if (r.kind == kind::road_reopened) {  // reopened before any closure we know of
        street_index.erase(it);
        continue;
      }
      StreetClosure s;
      s.name = street;
      s.first_closed_s = r.t_s;
      s.first_record = r.id;
      streets.push_back(std::move(s));
      sections_of.emplace_back();
      closed_now.emplace_back();
      edges_seen.emplace_back();
    }
    const std::size_t k = it->second;
    StreetClosure& s = streets[k];
    if (r.kind == kind::road_reopened) {
      closed_now[k].erase(edge.id);
      if (closed_now[k].empty()) s.reopened_s = r.t_s;
      continue;
    }
    closed_now[k].insert(edge.id);
    s.reopened_s.reset();
    // The cause says why: water on the road, or an order.
    const bool by_order = std::any_of(r.causes.begin(), r.causes.end(),
                                      [&](std::uint64_t c) { return log.at(c).kind == kind::action; });
    (by_order ? s.by_order : s.by_water) = true;
    if (*e < edge_max_depth_m.size()) s.max_depth_m = std::max(s.max_depth_m, edge_max_depth_m[*e]);
    if (!edges_seen[k].insert(edge.id).second) continue;
    s.edge_ids.push_back(edge.id);
    auto section = std::minmax(edge.from_junction, edge.to_junction);
    if (sections_of[k].insert(section).second) {
      s.sections.push_back(edge.shape);
      s.length_m += edge.length_m();
    }
  }
  for (std::size_t k = 0; k < streets.size(); ++k) streets[k].closed_at_end = !closed_now[k].empty();
  return streets;
}

std::vector<std::size_t> edges_closed_at(const std::vector<sim::impact::Impact>& log, const twin::RoadNetwork& network,
                                         double t_s) {
  std::set<std::size_t> closed;
  for (const auto& r : log) {
    if (r.t_s > t_s) break;
    if (r.kind != kind::road_closed && r.kind != kind::road_reopened) continue;
    const auto e = network.edge_index(r.target);
    if (!e) continue;
    if (r.kind == kind::road_closed)
      closed.insert(*e);
    else
      closed.erase(*e);
  }
  return {closed.begin(), closed.end()};
}

}  // namespace cadereau::server
