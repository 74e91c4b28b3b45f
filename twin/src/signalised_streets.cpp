#include "cadereau/twin/signalised_streets.h"

#include "cadereau/twin/geo.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

namespace cadereau::twin {

namespace {

// The junctions of a light: those its connections enter, or the junction of
// the same id when the network lists no connection for it.
std::vector<std::string> junctions_of(const RoadNetwork& net, const std::string& tls_id) {
  const auto& listed = net.light_junctions(tls_id);
  if (!listed.empty()) return listed;
  if (net.find_junction(tls_id)) return {tls_id};
  return {};
}

// Junction centre to junction centre along an edge: SUMO's edges stop at the
// junctions' borders.
double centre_to_centre_m(const RoadNetwork& net, const Edge& e) {
  double length_m = e.length_m();
  const Junction* from = net.find_junction(e.from_junction);
  const Junction* to = net.find_junction(e.to_junction);
  if (from && !e.shape.empty()) length_m += distance_m(from->position, e.shape.front());
  if (to && !e.shape.empty()) length_m += distance_m(e.shape.back(), to->position);
  return length_m;
}

// One street between two junctions, whatever the number of directions.
struct Segment {
  std::string a;
  std::string b;
  double length_m = 0.0;
  bool used = false;
};

struct Chain {
  std::vector<std::string> junctions;
  std::vector<double> position_m;  // of each junction along the chain
};

// Splits one street's segments into chains between its ends and forks, then
// walks what is left (closed loops) from their first junction.
std::vector<Chain> chains_of(std::vector<Segment>& segments) {
  std::map<std::string, std::vector<std::size_t>> at;  // ordered: the same chains on every run
  for (std::size_t k = 0; k < segments.size(); ++k) {
    at[segments[k].a].push_back(k);
    at[segments[k].b].push_back(k);
  }
  std::vector<Chain> chains;
  auto walk = [&](const std::string& start, std::size_t first) {
    Chain c;
    c.junctions.push_back(start);
    c.position_m.push_back(0.0);
    std::string here = start;
    std::size_t seg = first;
    while (true) {
      Segment& s = segments[seg];
      s.used = true;
      here = s.a == here ? s.b : s.a;
      c.junctions.push_back(here);
      c.position_m.push_back(c.position_m.back() + s.length_m);
      if (here == start || at[here].size() != 2) break;
      const auto& pair = at[here];
      const std::size_t next = pair[0] == seg ? pair[1] : pair[0];
      if (segments[next].used) break;
      seg = next;
    }
    chains.push_back(std::move(c));
  };
  for (auto& [junction, incident] : at)
    if (incident.size() != 2)
      for (std::size_t k : incident)
        if (!segments[k].used) walk(junction, k);
  for (auto& [junction, incident] : at)
    for (std::size_t k : incident)
      if (!segments[k].used) walk(junction, k);
  return chains;
}

// West to east, or south to north when the ends lie further apart that way.
void orient(Chain& c, const RoadNetwork& net) {
  const Junction* first = net.find_junction(c.junctions.front());
  const Junction* last = net.find_junction(c.junctions.back());
  if (!first || !last || first == last) return;
  const double dx = last->position.x_m - first->position.x_m;
  const double dy = last->position.y_m - first->position.y_m;
  const bool backwards = std::abs(dx) >= std::abs(dy) ? dx < 0.0 : dy < 0.0;
  if (!backwards) return;
  std::reverse(c.junctions.begin(), c.junctions.end());
  const double total_m = c.position_m.back();
  std::reverse(c.position_m.begin(), c.position_m.end());
  for (auto& p : c.position_m) p = total_m - p;
}

}  // namespace

std::vector<std::string> streets_at_light(const RoadNetwork& net, const std::string& tls_id) {
  std::set<std::string> names;
  for (const auto& j : junctions_of(net, tls_id))
    for (const auto& e : net.edges())
      if (!e.name.empty() && (e.from_junction == j || e.to_junction == j)) names.insert(e.name);
  return {names.begin(), names.end()};
}

std::vector<SignalisedStreet> signalised_streets(const RoadNetwork& net) {
  std::map<std::string, std::string> light_at;  // junction -> light
  for (const auto& t : net.traffic_lights())
    for (const auto& j : junctions_of(net, t.id)) light_at.emplace(j, t.id);

  std::map<std::string, std::vector<Segment>> by_name;
  std::set<std::pair<std::string, std::string>> seen;  // (name, "a|b") in either direction once
  for (const auto& e : net.edges()) {
    if (e.name.empty() || e.from_junction == e.to_junction) continue;
    const auto& [lo, hi] = std::minmax(e.from_junction, e.to_junction);
    if (!seen.insert({e.name, lo + "|" + hi}).second) continue;
    by_name[e.name].push_back({e.from_junction, e.to_junction, centre_to_centre_m(net, e)});
  }

  std::map<std::string, std::set<std::string>> names_at;  // junction -> street names through it
  for (const auto& e : net.edges()) {
    if (e.name.empty()) continue;
    names_at[e.from_junction].insert(e.name);
    names_at[e.to_junction].insert(e.name);
  }
  auto cross_streets = [&](const std::string& tls, const std::string& street) {
    std::set<std::string> names;
    for (const auto& j : junctions_of(net, tls)) names.insert(names_at[j].begin(), names_at[j].end());
    names.erase(street);
    return std::vector<std::string>(names.begin(), names.end());
  };

  std::vector<SignalisedStreet> out;
  for (auto& [name, segments] : by_name) {
    for (auto& chain : chains_of(segments)) {
      orient(chain, net);
      SignalisedStreet street;
      street.name = name;
      street.length_m = chain.position_m.back();
      for (std::size_t k = 0; k < chain.junctions.size(); ++k) {
        const auto it = light_at.find(chain.junctions[k]);
        if (it == light_at.end()) continue;
        const std::string& tls = it->second;
        const bool listed = std::any_of(street.lights.begin(), street.lights.end(),
                                        [&](const StreetLight& l) { return l.tls_id == tls; });
        if (listed) continue;  // a light joined over several junctions counts once
        StreetLight light;
        light.tls_id = tls;
        light.position_m = chain.position_m[k];
        light.cross_streets = cross_streets(tls, name);
        street.lights.push_back(std::move(light));
      }
      if (street.lights.size() >= 2) out.push_back(std::move(street));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const SignalisedStreet& a, const SignalisedStreet& b) {
    return a.lights.size() > b.lights.size();
  });
  return out;
}

}  // namespace cadereau::twin
