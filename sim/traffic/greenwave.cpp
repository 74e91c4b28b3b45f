#include "cadereau/sim/traffic/greenwave.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <pugixml.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

namespace cadereau::sim::traffic {

namespace {

constexpr double kHaltingSpeed_m_s = 0.1;  // SUMO's own threshold for a stop
// An open window runs until the demand has left the network, or this long
// after its last departure at most (a gridlock does not run for ever).
constexpr double kMaxDrainAfterLastDeparture_s = 3600.0;

double mean_of(double sum, long n) { return n > 0 ? sum / static_cast<double>(n) : 0.0; }

std::filesystem::path temp_file(const std::string& stem) {
  static int counter = 0;
  return std::filesystem::temp_directory_path() / fmt::format("cadereau-{}-{}-{}.xml", stem, ::getpid(), ++counter);
}

}  // namespace

std::optional<BandwidthProblem> bandwidth_problem(const Corridor& corridor, const std::vector<twin::TrafficLight>& programs,
                                                  double speed_m_s, double forward_weight, double backward_weight) {
  const std::size_t n = corridor.signals.size();
  if (programs.size() != n || n == 0) return std::nullopt;
  const auto cycle = common_cycle_s(programs);
  if (!cycle) return std::nullopt;
  BandwidthProblem p;
  p.cycle_s = *cycle;
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

void write_plan_additional(const std::vector<twin::TrafficLight>& programs, const std::filesystem::path& file,
                           const std::vector<WautSwitch>& switches, const std::string& waut_id) {
  std::ofstream out(file);
  if (!out) fail(file.string(), "cannot write the plan");
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<!-- Coordinated light plan written by `cadereau greenwave`: the junctions' own phases with new\n"
         "     durations and offsets. Loading it (sumo -a FILE) makes these programs the active ones"
      << (switches.empty() ? "" : ",\n     switched by time of day by the WAUT below") << ". -->\n<additional>\n";
  for (const auto& p : programs) {
    out << fmt::format("    <tlLogic id=\"{}\" type=\"static\" programID=\"{}\" offset=\"{:.1f}\">\n", p.id,
                       p.program_id, p.offset_s);
    for (const auto& ph : p.phases)
      out << fmt::format("        <phase duration=\"{:.1f}\" state=\"{}\"/>\n", ph.duration_s, ph.state);
    out << "    </tlLogic>\n";
  }
  if (!switches.empty()) {
    out << fmt::format("    <WAUT id=\"{}\" refTime=\"0\" startProg=\"{}\">\n", waut_id, switches.front().program_id);
    for (const auto& s : switches)
      out << fmt::format("        <wautSwitch time=\"{:.0f}\" to=\"{}\"/>\n", s.time_s, s.program_id);
    out << "    </WAUT>\n";
    std::vector<std::string> lights;
    for (const auto& p : programs)
      if (std::find(lights.begin(), lights.end(), p.id) == lights.end()) lights.push_back(p.id);
    for (const auto& id : lights) out << fmt::format("    <wautJunction wautID=\"{}\" junctionID=\"{}\"/>\n", waut_id, id);
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

SimulationWindow resolve_window(const GreenwaveOptions& options) {
  SimulationWindow w;
  w.demand = read_demand_span(options.routes);
  // Whole seconds: SUMO steps from there.
  w.begin_s = options.begin_s ? *options.begin_s : std::floor(w.demand.first_s());
  w.end_s = options.end_s;
  w.run_until_s = w.end_s ? *w.end_s : std::max(w.begin_s, w.demand.last_s()) + kMaxDrainAfterLastDeparture_s;
  w.trips_in_window = w.demand.trips_between(w.begin_s, w.end_s);
  return w;
}

Evaluation evaluate(const GreenwaveOptions& options, const std::vector<std::filesystem::path>& additionals,
                    Detail detail) {
  const bool full = detail == Detail::full;
  const auto wall_start = std::chrono::steady_clock::now();
  const SimulationWindow window = resolve_window(options);
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
    to.additionals = options.additionals;
    to.additionals.insert(to.additionals.end(), additionals.begin(), additionals.end());
    to.seed = options.seed;
    to.begin_s = window.begin_s;
    to.end_s = window.end_s;
    // Fixed routes: a light plan is judged on the same trips, not on drivers
    // discovering other streets.
    to.rerouting_probability = 0.0;
    to.tripinfo_output = tripinfo;
    to.extra_sumo_options = {"--tripinfo-output.write-unfinished", "true"};
    if (options.demand_scale != 1.0) {
      to.extra_sumo_options.push_back("--scale");
      to.extra_sumo_options.push_back(fmt::format("{}", options.demand_scale));
    }
    TrafficModel model(to);
    ev.corridor = find_corridor(model, options.tls_ids);
    const Corridor& c = ev.corridor;
    const std::size_t n = c.signals.size();

    // The programs in effect. Additional files replace the network's
    // programs of the same id and program id, or (a <tlLogic> without
    // phases, as tlsCoordinator.py writes) only change their offset.
    std::map<std::pair<std::string, std::string>, twin::TrafficLight> known;
    for (const auto& t : model.network().traffic_lights()) known[{t.id, t.program_id}] = t;
    for (const auto& a : to.additionals) {
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
          if (full)
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
    while (model.time_s() + 1e-9 < window.run_until_s) {
      model.step();
      const double t = model.time_s();
      for (std::size_t i = 0; i < n && full; ++i) {
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
      queue_samples += full;
      follow(c.forward_edges, c.forward_edge_start_m, true, t);
      if (c.two_way()) follow(c.backward_edges, c.backward_edge_start_m, false, t);
      // SUMO reads routes a few minutes ahead: before the last departure an
      // empty network may still have trips to come.
      if (!window.end_s && t >= window.demand.last_s() && model.expected_vehicles() == 0) break;
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


}  // namespace cadereau::sim::traffic