// Finding a corridor: the roads that join an ordered list of lights, the
// through links at each light, and the distances of the stop lines along it.

#include "cadereau/sim/traffic/corridor.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/geo.h"
#include "cadereau/twin/signalised_streets.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <unordered_map>

namespace cadereau::sim::traffic {

namespace {

std::string edge_of_lane(const std::string& lane) {
  const auto underscore = lane.rfind('_');
  return underscore == std::string::npos ? lane : lane.substr(0, underscore);
}

// Shortest road path (by length) from any junction of `from` to any junction
// of `to` that does not drive through a junction of `signalised`, on the
// edges named `street` (any edge when it is empty).
std::vector<std::string> signal_free_path(const twin::RoadNetwork& net, const std::set<std::string>& from,
                                          const std::set<std::string>& to, const std::set<std::string>& signalised,
                                          const std::string& street) {
  std::unordered_map<std::string, std::vector<const twin::Edge*>> out_edges;
  for (const auto& e : net.edges())
    if (street.empty() || e.name == street) out_edges[e.from_junction].push_back(&e);
  using Item = std::pair<double, std::string>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
  std::unordered_map<std::string, double> dist;
  std::unordered_map<std::string, const twin::Edge*> via;
  for (const auto& j : from) {
    dist[j] = 0.0;
    queue.push({0.0, j});
  }
  while (!queue.empty()) {
    const auto [d, j] = queue.top();
    queue.pop();
    if (d > dist[j]) continue;
    if (to.count(j)) {
      std::vector<std::string> path;
      for (std::string at = j; via.count(at) && !from.count(at);) {
        const twin::Edge* e = via[at];
        path.push_back(e->id);
        at = e->from_junction;
      }
      std::reverse(path.begin(), path.end());
      return path;
    }
    if (!from.count(j) && signalised.count(j)) continue;  // another light: no passing through
    for (const twin::Edge* e : out_edges[j]) {
      if (from.count(e->to_junction)) continue;
      const double nd = d + e->length_m();
      auto it = dist.find(e->to_junction);
      if (it == dist.end() || nd < it->second) {
        dist[e->to_junction] = nd;
        via[e->to_junction] = e;
        queue.push({nd, e->to_junction});
      }
    }
  }
  return {};
}

struct LightLinks {
  std::vector<SignalLink> links;
  std::set<std::string> junctions;
};

// The through movement of a light from in_edge to out_edge. Under a light
// that controls several junctions (netconvert's joined lights) the movement
// may cross more than one of them: then it chains the light's own links
// through the short edges between its junctions.
struct ThroughMove {
  std::vector<int> links;                // every link of the chain, sorted
  std::vector<std::string> inner_edges;  // between the light's junctions, in driving order
  std::vector<double> hop_via_m;         // across each junction: inner_edges.size() + 1 of them
};

// An empty in or out edge (the corridor's ends) is taken as the straight
// continuation of the other.
ThroughMove through_links(const std::vector<SignalLink>& links, std::string& in_edge, std::string& out_edge,
                          const std::string& tls_id, const twin::RoadNetwork& net) {
  auto pick = [&](bool want_in) {
    std::map<std::string, int> straight, any;
    for (const auto& l : links) {
      const std::string from = edge_of_lane(l.from_lane), to = edge_of_lane(l.to_lane);
      if (want_in && to == out_edge) {
        any[from]++;
        if (l.direction == "s") straight[from]++;
      }
      if (!want_in && from == in_edge) {
        any[to]++;
        if (l.direction == "s") straight[to]++;
      }
    }
    const auto& pool = straight.empty() ? any : straight;
    std::string best;
    int best_n = 0;
    for (const auto& [e, n] : pool)
      if (n > best_n) {
        best = e;
        best_n = n;
      }
    return best;
  };
  if (in_edge.empty()) in_edge = pick(true);
  if (out_edge.empty()) out_edge = pick(false);
  // Edge to edge through the light's links, fewest hops first.
  constexpr std::size_t kMaxHops = 4;
  std::map<std::string, std::string> came_from;
  std::vector<std::string> frontier = {in_edge};
  came_from[in_edge] = "";
  for (std::size_t hop = 0; hop < kMaxHops && !came_from.count(out_edge) && !frontier.empty(); ++hop) {
    std::vector<std::string> next;
    for (const auto& at : frontier)
      for (const auto& l : links) {
        const std::string from = edge_of_lane(l.from_lane), to = edge_of_lane(l.to_lane);
        if (from != at || came_from.count(to)) continue;
        came_from[to] = from;
        next.push_back(to);
      }
    frontier = std::move(next);
  }
  if (in_edge.empty() || out_edge.empty() || !came_from.count(out_edge))
    fail("corridor", "at light '{}' no signal leads from edge '{}' to edge '{}'", tls_id, in_edge, out_edge);
  std::vector<std::string> chain = {out_edge};
  while (chain.back() != in_edge) chain.push_back(came_from[chain.back()]);
  std::reverse(chain.begin(), chain.end());
  ThroughMove move;
  for (std::size_t k = 0; k + 1 < chain.size(); ++k) {
    double via_m = 0.0;
    for (const auto& l : links)
      if (edge_of_lane(l.from_lane) == chain[k] && edge_of_lane(l.to_lane) == chain[k + 1]) {
        move.links.push_back(l.index);
        via_m = std::max(via_m, l.via_length_m);
      }
    move.hop_via_m.push_back(via_m);
    if (k > 0) move.inner_edges.push_back(chain[k]);
  }
  std::sort(move.links.begin(), move.links.end());
  move.links.erase(std::unique(move.links.begin(), move.links.end()), move.links.end());
  for (const auto& e : move.inner_edges)
    if (!net.find_edge(e)) fail("corridor", "at light '{}' edge '{}' is not in the network", tls_id, e);
  return move;
}

// Across an unsignalised junction between two edges of the corridor: SUMO's
// edges stop at the junction's border, and the network keeps no internal
// lanes, so the gap between their centre lines stands for the lane across.
double crossing_m(const twin::RoadNetwork& net, const std::string& from_edge, const std::string& to_edge) {
  const auto& a = net.find_edge(from_edge)->shape;
  const auto& b = net.find_edge(to_edge)->shape;
  return a.empty() || b.empty() ? 0.0 : twin::distance_m(a.back(), b.front());
}

// "'A'", "'A' and 'B'", "'A', 'B' and 'C'".
std::string quoted_list(const std::vector<std::string>& ids) {
  std::string out;
  for (std::size_t k = 0; k < ids.size(); ++k)
    out += fmt::format("{}'{}'", k == 0 ? "" : k + 1 == ids.size() ? " and " : ", ", ids[k]);
  return out;
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : separator) + s;
  return out;
}

// The streets every light is on. Empty when the network names no street at
// some light (the corridor is then any signal-free road); throws when the
// lights are named but share no street.
std::vector<std::string> shared_streets(const twin::RoadNetwork& net, const std::vector<std::string>& tls_ids) {
  std::vector<std::vector<std::string>> at;
  for (const auto& id : tls_ids) {
    at.push_back(twin::streets_at_light(net, id));
    if (at.back().empty()) return {};
  }
  std::vector<std::string> shared = at[0];
  for (std::size_t i = 1; i < at.size(); ++i) {
    std::vector<std::string> both;
    std::set_intersection(shared.begin(), shared.end(), at[i].begin(), at[i].end(), std::back_inserter(both));
    if (both.empty()) {
      const std::string before = i == 1 ? fmt::format("'{}' is on {}", tls_ids[0], joined(at[0], " and "))
                                        : fmt::format("'{}' to '{}' are on {}", tls_ids[0], tls_ids[i - 1], joined(shared, " and "));
      fail("corridor",
           "traffic lights '{}' and '{}' are not on one street: {}, '{}' on {}; a corridor follows one street through "
           "its lights in order (`cadereau territory info` lists each street's lights)",
           tls_ids[i - 1], tls_ids[i], before, tls_ids[i], joined(at[i], " and "));
    }
    shared = std::move(both);
  }
  return shared;
}

// The roads joining each light to the next (forward) and back, along
// `street` when it is not empty.
struct Joins {
  std::vector<std::vector<std::string>> forward, backward;  // [i]: light i to i+1, light i+1 to i
  std::optional<std::size_t> broken;                        // the first i with no forward road
  bool two_way = true;
};

Joins join_lights(const twin::RoadNetwork& net, const std::vector<LightLinks>& lights,
                  const std::set<std::string>& signalised, const std::string& street) {
  Joins j;
  for (std::size_t i = 0; i + 1 < lights.size(); ++i) {
    j.forward.push_back(signal_free_path(net, lights[i].junctions, lights[i + 1].junctions, signalised, street));
    if (j.forward.back().empty() && !j.broken) j.broken = i;
    j.backward.push_back(signal_free_path(net, lights[i + 1].junctions, lights[i].junctions, signalised, street));
    if (j.backward.back().empty()) j.two_way = false;
  }
  return j;
}

// Why lights i and i+1 do not follow each other along the street, with the
// street's lights in order.
[[noreturn]] void fail_out_of_order(const twin::RoadNetwork& net, const std::vector<std::string>& tls_ids,
                                    const std::vector<LightLinks>& lights, std::size_t i, const std::string& street) {
  const auto along = signal_free_path(net, lights[i].junctions, lights[i + 1].junctions, {}, street);
  std::string why;
  if (along.empty()) {
    why = fmt::format("{} does not lead from '{}' to '{}'", street, tls_ids[i], tls_ids[i + 1]);
  } else {
    std::map<std::string, std::string> light_at;
    for (const auto& t : net.traffic_lights())
      for (const auto& junction : net.light_junctions(t.id)) light_at.emplace(junction, t.id);
    std::vector<std::string> between;
    for (std::size_t k = 0; k + 1 < along.size(); ++k) {
      const auto it = light_at.find(net.find_edge(along[k])->to_junction);
      if (it != light_at.end() && std::find(between.begin(), between.end(), it->second) == between.end())
        between.push_back(it->second);
    }
    why = fmt::format("{} {} between them", quoted_list(between), between.size() == 1 ? "lies" : "lie");
  }
  std::string order;
  for (const auto& s : twin::signalised_streets(net)) {
    if (s.name != street) continue;
    std::vector<std::string> ids;
    for (const auto& l : s.lights) ids.push_back(l.tls_id);
    if (std::find(ids.begin(), ids.end(), tls_ids[i]) != ids.end()) order = "; its lights in order: " + joined(ids, ",");
  }
  fail("corridor", "traffic lights '{}' and '{}' are not next to each other along {}: {}{}", tls_ids[i], tls_ids[i + 1],
       street, why, order);
}

// The links and junctions of each light; `signalised` gets every junction
// of the network under a light.
std::vector<LightLinks> read_lights(const TrafficModel& model, const std::vector<std::string>& tls_ids,
                                    std::set<std::string>& signalised) {
  const auto& net = model.network();
  std::vector<LightLinks> lights(tls_ids.size());
  for (const auto& j : net.junctions())
    if (j.type.rfind("traffic_light", 0) == 0) signalised.insert(j.id);
  for (std::size_t i = 0; i < tls_ids.size(); ++i) {
    lights[i].links = model.signal_links(tls_ids[i]);  // throws on an unknown light
    for (const auto& l : lights[i].links)
      if (const auto* e = net.find_edge(edge_of_lane(l.from_lane))) lights[i].junctions.insert(e->to_junction);
    if (lights[i].junctions.empty()) fail("corridor", "traffic light '{}' controls no road", tls_ids[i]);
    signalised.insert(lights[i].junctions.begin(), lights[i].junctions.end());
  }
  return lights;
}

// The roads of the corridor and the street they follow (left empty on a
// network without street names); throws when the lights are not on one
// street in order.
Joins join_along_street(const twin::RoadNetwork& net, const std::vector<std::string>& tls_ids,
                        const std::vector<LightLinks>& lights, const std::set<std::string>& signalised,
                        std::string& street) {
  const auto streets = shared_streets(net, tls_ids);
  if (streets.empty()) {
    Joins joins = join_lights(net, lights, signalised, "");
    if (joins.broken)
      fail("corridor",
           "traffic lights '{}' and '{}' are not connected in order: no road leads from one to the next without "
           "crossing another signal",
           tls_ids[*joins.broken], tls_ids[*joins.broken + 1]);
    return joins;
  }
  // Two lights may share two streets (where they cross twice): the first
  // along which they follow each other is the corridor's.
  for (const auto& name : streets) {
    Joins joins = join_lights(net, lights, signalised, name);
    if (joins.broken) continue;
    street = name;
    return joins;
  }
  const Joins joins = join_lights(net, lights, signalised, streets.front());
  fail_out_of_order(net, tls_ids, lights, *joins.broken, streets.front());
}

void describe_signal(const twin::RoadNetwork& net, const std::string& tls_id, const LightLinks& light,
                     const std::string& street, CorridorSignal& s) {
  s.tls_id = tls_id;
  for (auto& other : twin::streets_at_light(net, tls_id))
    if (other != street) s.cross_streets.push_back(std::move(other));
  std::set<std::string> approaches;
  for (const auto& l : light.links) {
    approaches.insert(edge_of_lane(l.from_lane));
    const auto index = static_cast<std::size_t>(l.index);
    if (index >= s.link_lanes.size()) {
      s.link_lanes.resize(index + 1);
      s.link_via_lanes.resize(index + 1);
    }
    s.link_lanes[index] = l.from_lane;
    s.link_via_lanes[index] = l.via_lane;
  }
  s.approach_edges.assign(approaches.begin(), approaches.end());
}

// Across light i's junctions from its stop line: the inner edges (under a
// light of several junctions) laid from pos on, pos moved past the last.
void lay_move(const twin::RoadNetwork& net, const ThroughMove& move, double& pos, std::vector<std::string>& edges,
              std::vector<double>& starts) {
  for (std::size_t h = 0; h < move.hop_via_m.size(); ++h) {
    pos += move.hop_via_m[h];
    if (h < move.inner_edges.size()) {
      edges.push_back(move.inner_edges[h]);
      starts.push_back(pos);
      pos += net.find_edge(move.inner_edges[h])->length_m();
    }
  }
}

// Forward frame: light 0's stop line at 0; fwd[i] runs from light i to light i+1.
void lay_forward(const twin::RoadNetwork& net, const std::vector<LightLinks>& lights,
                 const std::vector<std::vector<std::string>>& fwd, Corridor& c) {
  const std::size_t n = lights.size();
  std::string first_in, last_out;
  std::vector<ThroughMove> moves(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string in = i > 0 ? fwd[i - 1].back() : std::string();
    std::string out = i + 1 < n ? fwd[i].front() : std::string();
    moves[i] = through_links(lights[i].links, in, out, c.signals[i].tls_id, net);
    c.signals[i].forward_links = moves[i].links;
    if (i == 0) first_in = in;
    if (i + 1 == n) last_out = out;
  }
  c.forward_edges.push_back(first_in);
  c.forward_edge_start_m.push_back(-net.find_edge(first_in)->length_m());
  double pos = 0.0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    c.signals[i].forward_stop_line_m = pos;
    lay_move(net, moves[i], pos, c.forward_edges, c.forward_edge_start_m);
    for (std::size_t k = 0; k < fwd[i].size(); ++k) {
      if (k > 0) pos += crossing_m(net, fwd[i][k - 1], fwd[i][k]);
      c.forward_edges.push_back(fwd[i][k]);
      c.forward_edge_start_m.push_back(pos);
      pos += net.find_edge(fwd[i][k])->length_m();
    }
  }
  c.signals[n - 1].forward_stop_line_m = pos;
  lay_move(net, moves[n - 1], pos, c.forward_edges, c.forward_edge_start_m);
  c.forward_edges.push_back(last_out);
  c.forward_edge_start_m.push_back(pos);
}

// Backward frame: the last light's stop line at 0; bwd[i] runs from light i+1 to light i.
void lay_backward(const twin::RoadNetwork& net, const std::vector<LightLinks>& lights,
                  const std::vector<std::vector<std::string>>& bwd, Corridor& c) {
  const std::size_t n = lights.size();
  std::vector<ThroughMove> moves(n);
  std::string in_last, out_first;
  for (std::size_t i = 0; i < n; ++i) {
    std::string in = i + 1 < n ? bwd[i].back() : std::string();
    std::string out = i > 0 ? bwd[i - 1].front() : std::string();
    moves[i] = through_links(lights[i].links, in, out, c.signals[i].tls_id, net);
    c.signals[i].backward_links = moves[i].links;
    if (i + 1 == n) in_last = in;
    if (i == 0) out_first = out;
  }
  c.backward_edges.push_back(in_last);
  c.backward_edge_start_m.push_back(-net.find_edge(in_last)->length_m());
  double b = 0.0;
  for (std::size_t i = n - 1; i > 0; --i) {
    c.signals[i].backward_stop_line_m = b;
    lay_move(net, moves[i], b, c.backward_edges, c.backward_edge_start_m);
    const auto& edges = bwd[i - 1];
    for (std::size_t k = 0; k < edges.size(); ++k) {
      if (k > 0) b += crossing_m(net, edges[k - 1], edges[k]);
      c.backward_edges.push_back(edges[k]);
      c.backward_edge_start_m.push_back(b);
      b += net.find_edge(edges[k])->length_m();
    }
  }
  c.signals[0].backward_stop_line_m = b;
  lay_move(net, moves[0], b, c.backward_edges, c.backward_edge_start_m);
  c.backward_edges.push_back(out_first);
  c.backward_edge_start_m.push_back(b);
}

}  // namespace

double Corridor::backward_to_forward_m(double b) const {
  const std::size_t n = signals.size();
  if (n == 0) return b;
  if (b <= signals[n - 1].backward_stop_line_m) return signals[n - 1].forward_stop_line_m - b;
  for (std::size_t i = n - 1; i-- > 0;) {
    const double b0 = signals[i + 1].backward_stop_line_m, b1 = signals[i].backward_stop_line_m;
    if (b <= b1) {
      const double f0 = signals[i + 1].forward_stop_line_m, f1 = signals[i].forward_stop_line_m;
      return b1 > b0 ? f0 + (b - b0) / (b1 - b0) * (f1 - f0) : f1;
    }
  }
  return signals[0].forward_stop_line_m - (b - signals[0].backward_stop_line_m);
}

Corridor find_corridor(const TrafficModel& model, const std::vector<std::string>& tls_ids) {
  const auto& net = model.network();
  if (tls_ids.size() < 2) fail("corridor", "a corridor needs at least two traffic lights, got {}", tls_ids.size());
  for (std::size_t i = 0; i < tls_ids.size(); ++i)
    for (std::size_t k = i + 1; k < tls_ids.size(); ++k)
      if (tls_ids[i] == tls_ids[k]) fail("corridor", "traffic light '{}' appears twice", tls_ids[i]);
  for (const auto& id : tls_ids)
    if (!net.find_traffic_light(id))
      fail("corridor", "unknown traffic light '{}': {} has none of that id", id, model.options().net.filename().string());
  std::set<std::string> signalised;
  const auto lights = read_lights(model, tls_ids, signalised);
  Corridor c;
  const Joins joins = join_along_street(net, tls_ids, lights, signalised, c.street);
  c.signals.resize(tls_ids.size());
  for (std::size_t i = 0; i < tls_ids.size(); ++i) describe_signal(net, tls_ids[i], lights[i], c.street, c.signals[i]);
  lay_forward(net, lights, joins.forward, c);
  if (joins.two_way) lay_backward(net, lights, joins.backward, c);
  return c;
}

}  // namespace cadereau::sim::traffic
