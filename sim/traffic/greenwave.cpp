#include "cadereau/sim/traffic/greenwave.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace cadereau::sim::traffic {

namespace {

constexpr double kHaltingSpeed_m_s = 0.1;  // SUMO's own threshold for a stop
constexpr double kMaxRunAfterBegin_s = 6.0 * 3600.0;

std::string edge_of_lane(const std::string& lane) {
  const auto underscore = lane.rfind('_');
  return underscore == std::string::npos ? lane : lane.substr(0, underscore);
}

// Shortest road path (by length) from any junction of `from` to any junction
// of `to` that does not drive through another signalised junction.
std::vector<std::string> signal_free_path(const twin::RoadNetwork& net, const std::set<std::string>& from,
                                          const std::set<std::string>& to, const std::set<std::string>& signalised) {
  std::unordered_map<std::string, std::vector<const twin::Edge*>> out_edges;
  for (const auto& e : net.edges()) out_edges[e.from_junction].push_back(&e);
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

// The through links of a light from in_edge to out_edge. An empty in or out
// edge (the corridor's ends) is taken as the straight continuation of the other.
std::vector<int> through_links(const std::vector<SignalLink>& links, std::string& in_edge, std::string& out_edge,
                               const std::string& tls_id) {
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
  std::vector<int> out;
  for (const auto& l : links)
    if (edge_of_lane(l.from_lane) == in_edge && edge_of_lane(l.to_lane) == out_edge) out.push_back(l.index);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.empty())
    fail("corridor", "at light '{}' no signal leads from edge '{}' to edge '{}'", tls_id, in_edge, out_edge);
  return out;
}

double via_length(const std::vector<SignalLink>& links, const std::vector<int>& indices) {
  double len = 0.0;
  for (const auto& l : links)
    if (std::find(indices.begin(), indices.end(), l.index) != indices.end()) len = std::max(len, l.via_length_m);
  return len;
}

double mean_of(double sum, long n) { return n > 0 ? sum / static_cast<double>(n) : 0.0; }

std::filesystem::path temp_file(const std::string& stem) {
  static int counter = 0;
  return std::filesystem::temp_directory_path() / fmt::format("cadereau-{}-{}-{}.xml", stem, ::getpid(), ++counter);
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
  const std::size_t n = tls_ids.size();
  std::vector<LightLinks> lights(n);
  std::set<std::string> signalised;
  for (const auto& j : net.junctions())
    if (j.type.rfind("traffic_light", 0) == 0) signalised.insert(j.id);
  for (std::size_t i = 0; i < n; ++i) {
    lights[i].links = model.signal_links(tls_ids[i]);  // throws on an unknown light
    for (const auto& l : lights[i].links)
      if (const auto* e = net.find_edge(edge_of_lane(l.from_lane))) lights[i].junctions.insert(e->to_junction);
    if (lights[i].junctions.empty()) fail("corridor", "traffic light '{}' controls no road", tls_ids[i]);
    signalised.insert(lights[i].junctions.begin(), lights[i].junctions.end());
  }
  std::vector<std::vector<std::string>> fwd(n - 1), bwd(n - 1);
  bool two_way = true;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    fwd[i] = signal_free_path(net, lights[i].junctions, lights[i + 1].junctions, signalised);
    if (fwd[i].empty())
      fail("corridor",
           "traffic lights '{}' and '{}' are not connected in order: no road leads from one to the next without "
           "crossing another signal",
           tls_ids[i], tls_ids[i + 1]);
    bwd[i] = signal_free_path(net, lights[i + 1].junctions, lights[i].junctions, signalised);
    if (bwd[i].empty()) two_way = false;
  }

  Corridor c;
  c.signals.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& s = c.signals[i];
    s.tls_id = tls_ids[i];
    std::set<std::string> approaches;
    for (const auto& l : lights[i].links) {
      approaches.insert(edge_of_lane(l.from_lane));
      if (static_cast<std::size_t>(l.index) >= s.link_lanes.size()) {
        s.link_lanes.resize(static_cast<std::size_t>(l.index) + 1);
        s.link_via_lanes.resize(static_cast<std::size_t>(l.index) + 1);
      }
      s.link_lanes[static_cast<std::size_t>(l.index)] = l.from_lane;
      s.link_via_lanes[static_cast<std::size_t>(l.index)] = l.via_lane;
    }
    s.approach_edges.assign(approaches.begin(), approaches.end());
  }

  // Forward frame: light 0's stop line at 0.
  std::string first_in, last_out;
  std::vector<double> via_f(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string in = i > 0 ? fwd[i - 1].back() : std::string();
    std::string out = i + 1 < n ? fwd[i].front() : std::string();
    c.signals[i].forward_links = through_links(lights[i].links, in, out, tls_ids[i]);
    via_f[i] = via_length(lights[i].links, c.signals[i].forward_links);
    if (i == 0) first_in = in;
    if (i + 1 == n) last_out = out;
  }
  c.forward_edges.push_back(first_in);
  c.forward_edge_start_m.push_back(-net.find_edge(first_in)->length_m());
  double pos = 0.0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    c.signals[i].forward_stop_line_m = pos;
    pos += via_f[i];
    for (const auto& e : fwd[i]) {
      c.forward_edges.push_back(e);
      c.forward_edge_start_m.push_back(pos);
      pos += net.find_edge(e)->length_m();
    }
  }
  c.signals[n - 1].forward_stop_line_m = pos;
  c.forward_edges.push_back(last_out);
  c.forward_edge_start_m.push_back(pos + via_f[n - 1]);

  if (two_way) {
    // Backward frame: the last light's stop line at 0; bwd[i] runs from light i+1 to light i.
    std::vector<double> via_b(n);
    std::string in_last, out_first;
    for (std::size_t i = 0; i < n; ++i) {
      std::string in = i + 1 < n ? bwd[i].back() : std::string();
      std::string out = i > 0 ? bwd[i - 1].front() : std::string();
      c.signals[i].backward_links = through_links(lights[i].links, in, out, tls_ids[i]);
      via_b[i] = via_length(lights[i].links, c.signals[i].backward_links);
      if (i + 1 == n) in_last = in;
      if (i == 0) out_first = out;
    }
    c.backward_edges.push_back(in_last);
    c.backward_edge_start_m.push_back(-net.find_edge(in_last)->length_m());
    double b = 0.0;
    for (std::size_t i = n - 1; i > 0; --i) {
      c.signals[i].backward_stop_line_m = b;
      b += via_b[i];
      for (const auto& e : bwd[i - 1]) {
        c.backward_edges.push_back(e);
        c.backward_edge_start_m.push_back(b);
        b += net.find_edge(e)->length_m();
      }
    }
    c.signals[0].backward_stop_line_m = b;
    c.backward_edges.push_back(out_first);
    c.backward_edge_start_m.push_back(b + via_b[0]);
  }
  return c;
}

std::optional<BandwidthProblem> bandwidth_problem(const Corridor& corridor, const std::vector<twin::TrafficLight>& programs,
                                                  double speed_m_s, double forward_weight, double backward_weight) {
  const std::size_t n = corridor.signals.size();
  if (programs.size() != n || n == 0) return std::nullopt;
  BandwidthProblem p;
  p.cycle_s = programs[0].cycle_s();
  for (const auto& prog : programs)
    if (std::abs(prog.cycle_s() - p.cycle_s) > 0.05 || prog.cycle_s() <= 0.0) return std::nullopt;
  p.forward_weight = forward_weight;
  p.backward_weight = corridor.two_way() ? backward_weight : 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = corridor.signals[i];
    p.forward_green.push_back(green_window(programs[i], s.forward_links));
    p.forward_arrival_s.push_back(s.forward_stop_line_m / speed_m_s);
    if (corridor.two_way()) {
      p.backward_green.push_back(green_window(programs[i], s.backward_links));
      p.backward_arrival_s.push_back(s.backward_stop_line_m / speed_m_s);
    }
  }
  return p;
}

void write_plan_additional(const std::vector<twin::TrafficLight>& programs, const std::filesystem::path& file) {
  std::ofstream out(file);
  if (!out) fail(file.string(), "cannot write the plan");
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<!-- Coordinated light plan written by `cadereau greenwave`: the junctions' own phases with new\n"
         "     durations and offsets. Loading it (sumo -a FILE) makes these programs the active ones. -->\n"
         "<additional>\n";
  for (const auto& p : programs) {
    out << fmt::format("    <tlLogic id=\"{}\" type=\"static\" programID=\"{}\" offset=\"{:.1f}\">\n", p.id,
                       p.program_id, p.offset_s);
    for (const auto& ph : p.phases)
      out << fmt::format("        <phase duration=\"{:.1f}\" state=\"{}\"/>\n", ph.duration_s, ph.state);
    out << "    </tlLogic>\n";
  }
  out << "</additional>\n";
  if (!out) fail(file.string(), "cannot write the plan");
}

std::vector<twin::TrafficLight> read_programs(const std::filesystem::path& additional) {
  pugi::xml_document doc;
  const auto result = doc.load_file(additional.c_str());
  if (!result) fail(additional.string(), "not a valid XML file: {}", result.description());
  std::vector<twin::TrafficLight> out;
  for (const auto& node : doc.document_element().children("tlLogic")) {
    twin::TrafficLight t;
    t.id = node.attribute("id").as_string();
    t.type = node.attribute("type").as_string("static");
    t.program_id = node.attribute("programID").as_string();
    t.offset_s = node.attribute("offset").as_double(0.0);
    for (const auto& ph : node.children("phase"))
      t.phases.push_back({ph.attribute("duration").as_double(), ph.attribute("state").as_string()});
    out.push_back(std::move(t));
  }
  return out;
}

Evaluation evaluate(const GreenwaveOptions& options, const std::vector<std::filesystem::path>& additionals) {
  const auto wall_start = std::chrono::steady_clock::now();
  Evaluation ev;
  const auto tripinfo = temp_file("tripinfo");
  struct Track {
    std::optional<double> approach_s, exit_s;
    int stops = 0;
    bool moving = false;
    bool seen = false;
  };
  std::unordered_map<std::string, Track> fwd_track, bwd_track;
  std::unordered_set<std::string> on_corridor;
  double queue_sum = 0.0, queue_max = 0.0;
  long queue_samples = 0;
  {
    TrafficOptions to;
    to.net = options.net;
    to.routes = options.routes;
    to.additionals = additionals;
    to.seed = options.seed;
    to.begin_s = options.begin_s;
    to.end_s = options.end_s;
    // Fixed routes: a light plan is judged on the same trips, not on drivers
    // discovering other streets.
    to.rerouting_probability = 0.0;
    to.tripinfo_output = tripinfo;
    to.extra_sumo_options = {"--tripinfo-output.write-unfinished", "true"};
    TrafficModel model(to);
    ev.corridor = find_corridor(model, options.tls_ids);
    const Corridor& c = ev.corridor;
    const std::size_t n = c.signals.size();

    // The programs in effect. Additional files replace the network's
    // programs of the same id and program id, or (a <tlLogic> without
    // phases, as tlsCoordinator.py writes) only change their offset.
    std::map<std::pair<std::string, std::string>, twin::TrafficLight> known;
    for (const auto& t : model.network().traffic_lights()) known[{t.id, t.program_id}] = t;
    for (const auto& a : additionals) {
      for (auto& p : read_programs(a)) {
        auto it = known.find({p.id, p.program_id});
        if (p.phases.empty() && it != known.end())
          it->second.offset_s = p.offset_s;
        else
          known[{p.id, p.program_id}] = std::move(p);
      }
    }
    for (const auto& s : c.signals) {
      const std::string pid = model.light_program(s.tls_id);
      auto it = known.find({s.tls_id, pid});
      if (it == known.end() || it->second.phases.empty())
        fail("greenwave", "light '{}' runs program '{}', found neither in the network nor in the plan", s.tls_id, pid);
      ev.programs.push_back(it->second);
    }

    auto& rec = ev.record;
    rec.begin_s = model.time_s();
    rec.step_s = model.step_length_s();
    rec.forward_green.assign(n, {});
    rec.backward_green.assign(n, {});
    rec.link_counts.assign(n, {});
    std::vector<std::vector<std::unordered_set<std::string>>> link_seen(n);
    for (std::size_t i = 0; i < n; ++i) {
      link_seen[i].resize(c.signals[i].link_lanes.size());
      rec.link_counts[i].assign(c.signals[i].link_lanes.size(), 0);
    }
    auto all_green = [](const std::string& state, const std::vector<int>& links) {
      if (links.empty()) return false;
      for (int l : links)
        if (static_cast<std::size_t>(l) >= state.size() || !is_green(state[static_cast<std::size_t>(l)])) return false;
      return true;
    };
    auto follow = [&](const std::vector<std::string>& edges, const std::vector<double>& starts, bool forward, double t) {
      auto& tracks = forward ? fwd_track : bwd_track;
      auto& trajectories = forward ? rec.forward_trajectories : rec.backward_trajectories;
      for (std::size_t k = 0; k < edges.size(); ++k) {
        for (const auto& v : model.vehicles_on_edge(edges[k])) {
          on_corridor.insert(v.id);
          const double x = starts[k] + v.lane_position_m;
          trajectories[v.id].emplace_back(static_cast<float>(t),
                                          static_cast<float>(forward ? x : c.backward_to_forward_m(x)));
          Track& tr = tracks[v.id];
          if (k == 0 && !tr.approach_s) tr.approach_s = t;
          if (k + 1 == edges.size() && !tr.exit_s) tr.exit_s = t;
          const bool moving = v.speed_m_s >= kHaltingSpeed_m_s;
          if (tr.seen && tr.moving && !moving && !tr.exit_s) ++tr.stops;
          tr.moving = moving;
          tr.seen = true;
        }
      }
    };
    const double hard_end = options.end_s ? *options.end_s : options.begin_s + kMaxRunAfterBegin_s;
    while (model.time_s() + 1e-9 < hard_end) {
      model.step();
      const double t = model.time_s();
      for (std::size_t i = 0; i < n; ++i) {
        const auto& s = c.signals[i];
        const std::string state = model.light_state(s.tls_id);
        rec.forward_green[i].push_back(all_green(state, s.forward_links));
        rec.backward_green[i].push_back(all_green(state, s.backward_links));
        for (std::size_t l = 0; l < s.link_via_lanes.size(); ++l) {
          if (s.link_via_lanes[l].empty()) continue;
          for (auto& id : model.vehicle_ids_on_lane(s.link_via_lanes[l])) link_seen[i][l].insert(std::move(id));
        }
        double halting = 0.0;
        for (const auto& e : s.approach_edges) halting += model.edge_state(e).halting;
        queue_sum += halting;
        queue_max = std::max(queue_max, halting);
      }
      ++queue_samples;
      follow(c.forward_edges, c.forward_edge_start_m, true, t);
      if (c.two_way()) follow(c.backward_edges, c.backward_edge_start_m, false, t);
      if (!options.end_s && model.expected_vehicles() == 0) break;
    }
    rec.end_s = model.time_s();
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t l = 0; l < link_seen[i].size(); ++l) rec.link_counts[i][l] = static_cast<long>(link_seen[i][l].size());
    rec.forward_volume = static_cast<long>(fwd_track.size());
    rec.backward_volume = static_cast<long>(bwd_track.size());
  }  // SUMO closes here and writes the trip file

  Kpis& k = ev.kpis;
  k.sim_s = ev.record.end_s - ev.record.begin_s;
  k.mean_queue_veh = mean_of(queue_sum, queue_samples);
  k.max_queue_veh = queue_max;
  {
    pugi::xml_document doc;
    const auto result = doc.load_file(tripinfo.c_str());
    std::error_code ec;
    std::filesystem::remove(tripinfo, ec);
    if (!result) fail(tripinfo.string(), "SUMO's trip file did not parse: {}", result.description());
    struct Sum {
      double tt = 0, delay = 0, stops = 0;
      long n = 0;
      void add(double a, double b, double c) {
        tt += a;
        delay += b;
        stops += c;
        ++n;
      }
      TripKpis kpis() const { return {static_cast<int>(n), mean_of(tt, n), mean_of(delay, n), mean_of(stops, n)}; }
    } all, corridor, cross;
    for (const auto& trip : doc.document_element().children("tripinfo")) {
      const double arrival = trip.attribute("arrival").as_double(-1.0);
      if (arrival < 0.0) {
        ++k.unfinished;
        continue;
      }
      const double tt = trip.attribute("duration").as_double();
      const double delay = trip.attribute("timeLoss").as_double();
      const double stops = trip.attribute("waitingCount").as_double();
      all.add(tt, delay, stops);
      if (on_corridor.count(trip.attribute("id").as_string()))
        corridor.add(tt, delay, stops);
      else
        cross.add(tt, delay, stops);
    }
    k.all = all.kpis();
    k.corridor = corridor.kpis();
    k.cross = cross.kpis();
    k.throughput_veh_h = k.sim_s > 0.0 ? static_cast<double>(all.n) * 3600.0 / k.sim_s : 0.0;
  }
  double both_sum = 0.0;
  long both_n = 0;
  auto direction = [&](const std::unordered_map<std::string, Track>& tracks, DirectionKpis& d) {
    double tt = 0.0, stops = 0.0;
    long count = 0;
    for (const auto& [id, tr] : tracks) {
      if (!tr.approach_s || !tr.exit_s) continue;
      tt += *tr.exit_s - *tr.approach_s;
      stops += tr.stops;
      ++count;
    }
    d.vehicles = static_cast<int>(count);
    d.mean_travel_time_s = mean_of(tt, count);
    d.stops_per_vehicle = mean_of(stops, count);
    both_sum += tt;
    both_n += count;
  };
  direction(fwd_track, k.forward);
  direction(bwd_track, k.backward);
  k.mean_corridor_travel_time_s = mean_of(both_sum, both_n);
  if (auto p = bandwidth_problem(ev.corridor, ev.programs, options.speed_m_s, 1.0, 1.0)) {
    std::vector<double> offsets;
    for (const auto& prog : ev.programs) offsets.push_back(prog.offset_s);
    const auto b = evaluate_bandwidth(*p, offsets);
    k.bandwidth_defined = true;
    k.forward.bandwidth_s = b.forward_s;
    k.backward.bandwidth_s = b.backward_s;
  }
  k.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return ev;
}

namespace {

// Webster's (1958) mean delay per vehicle on a fixed-time lane: the uniform
// term (scaled by uniform_factor, the share of arrivals not carried through
// on a green band) plus the random-overflow term, times his 0.9 standing for
// the correction term. Past 95 % of capacity the formula has no meaning; a
// steep penalty keeps such candidates comparable, and last.
double webster_delay_s(double cycle_s, double green_ratio, double flow_veh_s, double saturation_veh_s,
                       double uniform_factor) {
  constexpr double kMaxDegreeOfSaturation = 0.95;
  constexpr double kOverloadPenalty_s = 3600.0;  // per unit of saturation above the maximum
  const double lambda = std::clamp(green_ratio, 1e-3, 1.0);
  const double x = flow_veh_s / (saturation_veh_s * lambda);
  const double xc = std::min(x, kMaxDegreeOfSaturation);
  const double uniform_s = 0.5 * cycle_s * (1.0 - lambda) * (1.0 - lambda) / (1.0 - lambda * xc);
  const double random_s = flow_veh_s > 0.0 ? xc * xc / (2.0 * flow_veh_s * (1.0 - xc)) : 0.0;
  const double overload_s = x > kMaxDegreeOfSaturation ? (x - kMaxDegreeOfSaturation) * kOverloadPenalty_s : 0.0;
  return 0.9 * (uniform_factor * uniform_s + random_s) + overload_s;
}

enum class LaneRole { kCross, kForward, kBackward };

// What the delay model needs of one light: its incoming lanes with the flow
// counted in the baseline and their role along the corridor.
struct LightLoad {
  std::vector<std::string> lanes;
  std::vector<double> flow_veh_s;
  std::vector<LaneRole> role;
  std::vector<double> stage_flow_ratio;  // per phase, Webster's critical flow ratio (0 on intergreens)
  std::vector<char> corridor_stage;      // per phase: a stage showing green to a corridor through link
};

LightLoad light_load(const CorridorSignal& s, const twin::TrafficLight& program, const std::vector<long>& link_counts,
                     double duration_s, double saturation_veh_s) {
  LightLoad load;
  std::map<std::string, double> lane_flow;
  for (std::size_t l = 0; l < s.link_lanes.size(); ++l) {
    if (s.link_lanes[l].empty()) continue;
    lane_flow[s.link_lanes[l]] += (l < link_counts.size() ? static_cast<double>(link_counts[l]) : 0.0) / duration_s;
  }
  std::set<std::string> forward_lanes, backward_lanes;
  for (int l : s.forward_links) forward_lanes.insert(s.link_lanes[static_cast<std::size_t>(l)]);
  for (int l : s.backward_links) backward_lanes.insert(s.link_lanes[static_cast<std::size_t>(l)]);
  for (const auto& [lane, q] : lane_flow) {
    load.lanes.push_back(lane);
    load.flow_veh_s.push_back(q);
    load.role.push_back(forward_lanes.count(lane) ? LaneRole::kForward
                        : backward_lanes.count(lane) ? LaneRole::kBackward
                                                      : LaneRole::kCross);
  }
  // A lane green in several stages is served by each: its load is shared.
  std::map<std::string, int> stages_of_lane;
  for (const auto& ph : program.phases) {
    if (is_intergreen(ph.state)) continue;
    std::set<std::string> green_lanes;
    for (std::size_t l = 0; l < s.link_lanes.size() && l < ph.state.size(); ++l)
      if (is_green(ph.state[l])) green_lanes.insert(s.link_lanes[l]);
    for (const auto& lane : green_lanes) stages_of_lane[lane]++;
  }
  load.stage_flow_ratio.assign(program.phases.size(), 0.0);
  load.corridor_stage.assign(program.phases.size(), 0);
  for (std::size_t p = 0; p < program.phases.size(); ++p) {
    const auto& state = program.phases[p].state;
    if (is_intergreen(state)) continue;
    double y = 0.0;
    for (std::size_t l = 0; l < s.link_lanes.size() && l < state.size(); ++l)
      if (is_green(state[l]))
        y = std::max(y, lane_flow[s.link_lanes[l]] / saturation_veh_s / std::max(1, stages_of_lane[s.link_lanes[l]]));
    load.stage_flow_ratio[p] = y;
    auto through_green = [&](const std::vector<int>& links) {
      return std::any_of(links.begin(), links.end(), [&](int l) {
        return static_cast<std::size_t>(l) < state.size() && is_green(state[static_cast<std::size_t>(l)]);
      });
    };
    load.corridor_stage[p] = through_green(s.forward_links) || through_green(s.backward_links);
  }
  return load;
}

// Effective green of each incoming lane under a program: per stage where one
// of its links shows green, the green and the following intergreen less the
// stage's lost time (as lost_time_s counts it).
std::vector<double> lane_effective_green_s(const CorridorSignal& s, const LightLoad& load,
                                           const twin::TrafficLight& program, double lost_per_stage_s) {
  const auto& ph = program.phases;
  const std::size_t n = ph.size();
  std::vector<double> green(load.lanes.size(), 0.0);
  for (std::size_t p = 0; p < n; ++p) {
    if (is_intergreen(ph[p].state)) continue;
    double intergreen = 0.0;
    for (std::size_t k = 1; k < n && is_intergreen(ph[(p + k) % n].state); ++k) intergreen += ph[(p + k) % n].duration_s;
    const double effective = std::max(0.0, ph[p].duration_s + intergreen - std::max(intergreen, lost_per_stage_s));
    for (std::size_t k = 0; k < load.lanes.size(); ++k) {
      bool lane_green = false;
      for (std::size_t l = 0; l < s.link_lanes.size() && l < ph[p].state.size() && !lane_green; ++l)
        lane_green = s.link_lanes[l] == load.lanes[k] && is_green(ph[p].state[l]);
      if (lane_green) green[k] += effective;
    }
  }
  return green;
}

}  // namespace

GreenwavePlan plan_greenwave(const GreenwaveOptions& options, const Corridor& corridor, const Evaluation& baseline) {
  const std::size_t n = corridor.signals.size();
  const double duration_s = std::max(1.0, baseline.record.end_s - baseline.record.begin_s);
  const double saturation_veh_s = options.saturation_flow_veh_h_lane / 3600.0;
  GreenwavePlan plan;
  std::vector<LightLoad> loads(n);
  double webster = options.min_cycle_s;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& prog = baseline.programs[i];
    loads[i] = light_load(corridor.signals[i], prog, baseline.record.link_counts[i], duration_s, saturation_veh_s);
    double intergreen = 0.0, y_sum = 0.0;
    int stages = 0;
    for (std::size_t p = 0; p < prog.phases.size(); ++p) {
      if (is_intergreen(prog.phases[p].state)) {
        intergreen += prog.phases[p].duration_s;
      } else {
        ++stages;
        y_sum += loads[i].stage_flow_ratio[p];
      }
    }
    const double c_i = webster_cycle_s(lost_time_s(prog, options.lost_per_stage_s), y_sum, options.min_cycle_s,
                                       options.max_cycle_s);
    // The critical junction sets the common cycle.
    webster = std::max({webster, c_i, intergreen + options.min_green_s * stages});
  }
  plan.webster_cycle_s = std::ceil(webster);
  plan.cycle_source = options.cycle_s ? "given" : "joint";

  // Candidate cycles: a longer cycle buys wider bands (and a progression
  // that fits the block lengths) at the price of longer reds for everyone.
  std::vector<double> cycles;
  if (options.cycle_s) {
    cycles.push_back(*options.cycle_s);
  } else {
    constexpr double kCycleStep_s = 5.0, kMaxCycleOverWebster = 1.5;
    const double top = std::min(kMaxCycleOverWebster * plan.webster_cycle_s, std::max(options.max_cycle_s, plan.webster_cycle_s));
    for (double c = plan.webster_cycle_s; c <= top + 1e-9; c += kCycleStep_s) cycles.push_back(c);
  }
  // Candidate splits: Webster's, then less weight on the corridor's stages
  // (the band carries its platoons through on less green).
  const std::vector<double> corridor_shares = {1.0, 0.9, 0.8, 0.7, 0.6, 0.5};

  // MAXBAND weights the bands by the directional volumes.
  const double vf = static_cast<double>(baseline.record.forward_volume);
  const double vb = static_cast<double>(baseline.record.backward_volume);
  const double wf = vf + vb > 0.0 ? 2.0 * vf / (vf + vb) : 1.0;
  const double wb = vf + vb > 0.0 ? 2.0 * vb / (vf + vb) : 1.0;

  struct Built {
    std::vector<twin::TrafficLight> programs;
    BandwidthPlan bandwidth;
  };
  std::vector<Built> built;
  for (const double cycle_s : cycles) {
    for (const double share : corridor_shares) {
      Built b;
      for (std::size_t i = 0; i < n; ++i) {
        auto weights = loads[i].stage_flow_ratio;
        for (std::size_t p = 0; p < weights.size(); ++p)
          if (loads[i].corridor_stage[p]) weights[p] *= share;
        auto prog = retime(baseline.programs[i], cycle_s, weights, options.min_green_s);
        prog.program_id = options.plan_program_id;
        prog.type = "static";
        b.programs.push_back(std::move(prog));
      }
      // Whole-second greens make neighbouring shares collide: keep the first.
      const bool seen = std::any_of(built.begin(), built.end(), [&](const Built& other) {
        if (std::abs(other.programs[0].cycle_s() - cycle_s) > 0.05) return false;
        for (std::size_t i = 0; i < n; ++i)
          for (std::size_t p = 0; p < b.programs[i].phases.size(); ++p)
            if (std::abs(other.programs[i].phases[p].duration_s - b.programs[i].phases[p].duration_s) > 0.05) return false;
        return true;
      });
      if (seen) continue;
      const auto problem = bandwidth_problem(corridor, b.programs, options.speed_m_s, wf, wb);
      if (!problem) fail("greenwave", "internal: the retimed programs do not share one cycle");
      b.bandwidth = maximise_bandwidth(*problem);

      PlanCandidate k;
      k.cycle_s = cycle_s;
      k.corridor_share = share;
      k.bandwidth_forward_s = b.bandwidth.bandwidth.forward_s;
      k.bandwidth_backward_s = b.bandwidth.bandwidth.backward_s;
      double corridor_veh = 0.0, corridor_flow = 0.0, cross_veh = 0.0, cross_flow = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        const auto& load = loads[i];
        const auto green = lane_effective_green_s(corridor.signals[i], load, b.programs[i], options.lost_per_stage_s);
        for (std::size_t l = 0; l < load.lanes.size(); ++l) {
          const double q = load.flow_veh_s[l];
          if (q <= 0.0) continue;
          // Past the first light of its direction, the share of a platoon
          // inside the band arrives on green (HCM's progression factor
          // 1 - P with P the share arriving on green).
          double band_s = 0.0;
          if (load.role[l] == LaneRole::kForward && i > 0) band_s = k.bandwidth_forward_s;
          if (load.role[l] == LaneRole::kBackward && i + 1 < n) band_s = k.bandwidth_backward_s;
          const double in_band = green[l] > 0.0 ? std::min(1.0, band_s / green[l]) : 0.0;
          const double d = webster_delay_s(cycle_s, green[l] / cycle_s, q, saturation_veh_s, 1.0 - in_band);
          if (load.role[l] == LaneRole::kCross) {
            cross_veh += q * d;
            cross_flow += q;
          } else {
            corridor_veh += q * d;
            corridor_flow += q;
          }
        }
      }
      k.corridor_delay_s = corridor_flow > 0.0 ? corridor_veh / corridor_flow : 0.0;
      k.cross_delay_s = cross_flow > 0.0 ? cross_veh / cross_flow : 0.0;
      k.total_delay_veh = corridor_veh + cross_veh;
      plan.candidates.push_back(k);
      built.push_back(std::move(b));
    }
  }
  // The reference: Webster's own cycle (or the given one) and splits.
  const double reference_cross_s = plan.candidates.front().cross_delay_s;
  std::optional<std::size_t> best;
  for (std::size_t c = 0; c < plan.candidates.size(); ++c) {
    auto& k = plan.candidates[c];
    k.cross_within_webster = k.cross_delay_s <= reference_cross_s + 1e-9;
    if (k.cross_within_webster && (!best || k.total_delay_veh < plan.candidates[*best].total_delay_veh - 1e-9)) best = c;
  }
  plan.chosen = *best;  // the reference itself always qualifies
  plan.cycle_s = plan.candidates[plan.chosen].cycle_s;
  plan.programs = std::move(built[plan.chosen].programs);
  plan.bandwidth = std::move(built[plan.chosen].bandwidth);
  // Whole-second offsets: SUMO switches on step boundaries, and the bands
  // were centred in their feasible arcs, so half a second costs nothing.
  for (std::size_t i = 0; i < n; ++i)
    plan.programs[i].offset_s = std::fmod(std::round(plan.bandwidth.offsets_s[i]), plan.cycle_s);
  return plan;
}

namespace {

nlohmann::json to_json(const TripKpis& t) {
  return {{"vehicles", t.vehicles},
          {"mean_travel_time_s", t.mean_travel_time_s},
          {"mean_delay_s", t.mean_delay_s},
          {"stops_per_vehicle", t.stops_per_vehicle}};
}

nlohmann::json to_json(const Kpis& k) {
  auto dir = [&](const DirectionKpis& d) {
    nlohmann::json j = {{"vehicles", d.vehicles},
                        {"mean_travel_time_s", d.mean_travel_time_s},
                        {"stops_per_vehicle", d.stops_per_vehicle}};
    j["bandwidth_s"] = k.bandwidth_defined ? nlohmann::json(d.bandwidth_s) : nlohmann::json(nullptr);
    return j;
  };
  const long corridor_n = k.forward.vehicles + k.backward.vehicles;
  const double corridor_stops =
      corridor_n > 0 ? (k.forward.stops_per_vehicle * k.forward.vehicles + k.backward.stops_per_vehicle * k.backward.vehicles) /
                           static_cast<double>(corridor_n)
                     : 0.0;
  return {{"mean_corridor_travel_time_s", k.mean_corridor_travel_time_s},
          {"corridor_stops_per_vehicle", corridor_stops},
          {"stops_per_vehicle", k.all.stops_per_vehicle},
          {"mean_delay_s", k.all.mean_delay_s},
          {"mean_travel_time_s", k.all.mean_travel_time_s},
          {"mean_queue_veh", k.mean_queue_veh},
          {"max_queue_veh", k.max_queue_veh},
          {"throughput_veh_h", k.throughput_veh_h},
          {"bandwidth_forward_s", k.bandwidth_defined ? nlohmann::json(k.forward.bandwidth_s) : nlohmann::json(nullptr)},
          {"bandwidth_backward_s", k.bandwidth_defined ? nlohmann::json(k.backward.bandwidth_s) : nlohmann::json(nullptr)},
          {"forward", dir(k.forward)},
          {"backward", dir(k.backward)},
          {"all_trips", to_json(k.all)},
          {"corridor_trips", to_json(k.corridor)},
          {"cross_street_trips", to_json(k.cross)},
          {"unfinished", k.unfinished},
          {"sim_s", k.sim_s},
          {"wall_s", k.wall_s}};
}

nlohmann::json to_json(const twin::TrafficLight& p) {
  nlohmann::json phases = nlohmann::json::array();
  for (const auto& ph : p.phases) phases.push_back({{"duration_s", ph.duration_s}, {"state", ph.state}});
  return {{"id", p.id}, {"program_id", p.program_id}, {"offset_s", p.offset_s}, {"cycle_s", p.cycle_s()}, {"phases", phases}};
}

}  // namespace

GreenwaveReport run_greenwave(const GreenwaveOptions& options, const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& m) {
    if (progress) progress(m);
  };
  if (!(options.speed_m_s > 0.0)) fail("greenwave", "the progression speed must be positive");
  if (options.routes.empty()) fail("greenwave", "no route file");
  std::filesystem::create_directories(options.out);
  GreenwaveReport r;
  say("baseline: simulating the network's own programs");
  r.baseline = evaluate(options, {});
  r.corridor = r.baseline.corridor;
  say("planning: cycle, splits and MAXBAND offsets chosen together");
  r.plan = plan_greenwave(options, r.corridor, r.baseline);
  r.plan_file = options.out / "plan.add.xml";
  write_plan_additional(r.plan.programs, r.plan_file);
  say("plan: simulating the coordinated programs on the same demand and seed");
  r.planned = evaluate(options, {r.plan_file});
  for (const auto& p : r.planned.programs)
    if (p.program_id != options.plan_program_id)
      fail(r.plan_file.string(), "SUMO did not activate the plan at light '{}' (it runs '{}')", p.id, p.program_id);

  // Diagrams over ten minutes (or the whole run) in the middle of the run.
  const double t_begin = r.baseline.record.begin_s, t_end = std::max(r.baseline.record.end_s, r.planned.record.end_s);
  const double window = std::min(600.0, t_end - t_begin);
  const double t0 = t_begin + std::max(0.0, 0.5 * (t_end - t_begin - window));
  std::vector<double> base_offsets, plan_offsets;
  for (const auto& p : r.baseline.programs) base_offsets.push_back(p.offset_s);
  for (const auto& p : r.plan.programs) plan_offsets.push_back(p.offset_s);
  write_time_space_svg(options.out / "time_space_baseline.svg", "Baseline (network programs)", r.corridor,
                       r.baseline.record, bandwidth_problem(r.corridor, r.baseline.programs, options.speed_m_s, 1, 1),
                       base_offsets, options.speed_m_s, t0, t0 + window);
  write_time_space_svg(options.out / "time_space_plan.svg",
                       fmt::format("Green-wave plan (cycle {:.0f} s, {:.0f} km/h)", r.plan.cycle_s, options.speed_m_s * 3.6),
                       r.corridor, r.planned.record, bandwidth_problem(r.corridor, r.plan.programs, options.speed_m_s, 1, 1),
                       plan_offsets, options.speed_m_s, t0, t0 + window);

  nlohmann::json lights = nlohmann::json::array();
  for (const auto& s : r.corridor.signals)
    lights.push_back({{"id", s.tls_id},
                      {"forward_stop_line_m", s.forward_stop_line_m},
                      {"backward_stop_line_m", r.corridor.two_way() ? nlohmann::json(s.backward_stop_line_m) : nlohmann::json(nullptr)}});
  nlohmann::json base_programs = nlohmann::json::array(), plan_programs = nlohmann::json::array();
  for (const auto& p : r.baseline.programs) base_programs.push_back(to_json(p));
  for (const auto& p : r.plan.programs) plan_programs.push_back(to_json(p));
  nlohmann::json candidates = nlohmann::json::array();
  for (std::size_t c = 0; c < r.plan.candidates.size(); ++c) {
    const auto& k = r.plan.candidates[c];
    candidates.push_back({{"cycle_s", k.cycle_s},
                          {"corridor_share", k.corridor_share},
                          {"bandwidth_forward_s", k.bandwidth_forward_s},
                          {"bandwidth_backward_s", k.bandwidth_backward_s},
                          {"corridor_delay_s", k.corridor_delay_s},
                          {"cross_delay_s", k.cross_delay_s},
                          {"total_delay_veh", k.total_delay_veh},
                          {"cross_within_webster", k.cross_within_webster},
                          {"chosen", c == r.plan.chosen}});
  }
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& f : options.routes) routes.push_back(f.string());
  nlohmann::json report = {
      {"demand",
       {{"net", options.net.string()},
        {"routes", routes},
        {"seed", options.seed},
        {"begin_s", options.begin_s},
        {"end_s", options.end_s ? nlohmann::json(*options.end_s) : nlohmann::json(nullptr)}}},
      {"corridor",
       {{"lights", lights},
        {"length_m", r.corridor.length_m()},
        {"two_way", r.corridor.two_way()},
        {"forward_edges", r.corridor.forward_edges},
        {"backward_edges", r.corridor.backward_edges},
        {"progression_speed_kmh", options.speed_m_s * 3.6}}},
      {"baseline", to_json(r.baseline.kpis)},
      {"plan", to_json(r.planned.kpis)},
      {"signal_plan",
       {{"file", r.plan_file.filename().string()},
        {"program_id", options.plan_program_id},
        {"cycle_s", r.plan.cycle_s},
        {"cycle_source", r.plan.cycle_source},
        {"webster_cycle_s", r.plan.webster_cycle_s},
        {"candidates", candidates},
        {"bandwidth_forward_s", r.plan.bandwidth.bandwidth.forward_s},
        {"bandwidth_backward_s", r.plan.bandwidth.bandwidth.backward_s},
        {"method",
         "cycle and splits chosen jointly with the offsets: cycles from Webster's (critical junction, link flows "
         "counted in the baseline run) to 1.5 times it, Webster splits and splits with less green for the corridor's "
         "stages, each with offsets by exact enumeration of the MAXBAND two-way bandwidth problem (bands weighted by "
         "directional volumes); the plan has the least total Webster delay over all lanes, corridor platoons inside "
         "the band meeting no uniform delay, among candidates whose cross-street delay estimate is not above that of "
         "Webster's own cycle and splits"},
        {"programs", plan_programs},
        {"baseline_programs", base_programs}}}};
  r.report_file = options.out / "report.json";
  std::ofstream out(r.report_file);
  out << report.dump(2) << "\n";
  if (!out) fail(r.report_file.string(), "cannot write the report");
  return r;
}

}  // namespace cadereau::sim::traffic
