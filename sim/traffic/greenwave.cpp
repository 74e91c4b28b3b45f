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

Evaluation evaluate(const GreenwaveOptions& options, const std::vector<std::filesystem::path>& additionals) {
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
    to.additionals = additionals;
    to.seed = options.seed;
    to.begin_s = window.begin_s;
    to.end_s = window.end_s;
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
    while (model.time_s() + 1e-9 < window.run_until_s) {
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


namespace {

// Refuses, before anything is simulated, a window in which no trip departs.
void require_trips(const GreenwaveOptions& options, const SimulationWindow& w) {
  if (w.trips_in_window > 0) return;
  std::string files;
  for (const auto& f : options.routes) files += (files.empty() ? "" : ", ") + f.string();
  if (w.demand.trips() == 0) fail(files, "no vehicle, trip or flow with a departure time: nothing to simulate");
  const std::string end = w.end_s ? fmt::format("{} ({:.0f} s)", clock_time(*w.end_s), *w.end_s) : "the end";
  fail(files,
       "no trip departs in the window from {} ({:.0f} s) to {}: the demand's {} trips depart from {} to {} ({:.0f}-{:.0f} "
       "s); leave the window to its default (the demand's span) or move it there",
       clock_time(w.begin_s), w.begin_s, end, w.demand.trips(), clock_time(w.demand.first_s()),
       clock_time(w.demand.last_s()), w.demand.first_s(), w.demand.last_s());
}

// Refuses a baseline in which no vehicle used the corridor: a plan would rest
// on no corridor flow and both runs would report zeros.
void require_corridor_traffic(const GreenwaveOptions& options, const SimulationWindow& w, const Corridor& c,
                              const Kpis& k) {
  if (k.corridor.vehicles > 0) return;
  std::string files;
  for (const auto& f : options.routes) files += (files.empty() ? "" : ", ") + f.string();
  const std::string end = w.end_s ? fmt::format("{} ({:.0f} s)", clock_time(*w.end_s), *w.end_s) : "the end";
  fail(files,
       "no vehicle drove on the corridor ({} to {}{}) in the window from {} ({:.0f} s) to {}, though {} trips depart "
       "in it: there is no corridor flow to plan for; widen the window or give a demand that uses the corridor",
       c.signals.front().tls_id, c.signals.back().tls_id, c.street.empty() ? "" : " along " + c.street,
       clock_time(w.begin_s), w.begin_s, end, w.trips_in_window);
}

// What makes the baseline's figures weak: a direction no vehicle drove end
// to end (its travel time is then n/a).
std::vector<std::string> baseline_warnings(const Corridor& c, const Kpis& k) {
  std::vector<std::string> out;
  const std::string& first = c.signals.front().tls_id;
  const std::string& last = c.signals.back().tls_id;
  auto direction = [&](int vehicles, const std::string& from, const std::string& to) {
    if (vehicles == 0)
      out.push_back(fmt::format("no vehicle drove the whole corridor from {} to {} in the baseline: its travel time is "
                                "n/a; the {} corridor trips drove part of it",
                                from, to, k.corridor.vehicles));
  };
  direction(k.forward.vehicles, first, last);
  if (c.two_way()) direction(k.backward.vehicles, last, first);
  return out;
}

// Both diagrams show the same stretch: the baseline's busiest ten minutes.
void write_diagrams(const GreenwaveOptions& options, GreenwaveReport& r) {
  constexpr double kDiagramWindow_s = 600.0;
  const auto [t0, t1] = busiest_window(r.baseline.record, kDiagramWindow_s);
  const double run_end_s = std::max(r.baseline.record.end_s, r.planned.record.end_s);
  TimeSpaceView view;
  view.t0_s = t0;
  view.t1_s = t1;
  view.speed_m_s = options.speed_m_s;
  view.subtitle = fmt::format("{} to {}: the {:.0f} minutes with the most vehicles on the corridor in the baseline run "
                              "({} to {})",
                              clock_time(t0), clock_time(t1), (t1 - t0) / 60.0, clock_time(r.baseline.record.begin_s),
                              clock_time(run_end_s));
  const std::string on = r.corridor.street.empty() ? "" : ", " + r.corridor.street;
  std::vector<double> base_offsets, plan_offsets;
  for (const auto& p : r.baseline.programs) base_offsets.push_back(p.offset_s);
  for (const auto& p : r.plan.programs) plan_offsets.push_back(p.offset_s);
  view.title = "Baseline: the network's own programs" + on;
  r.baseline_diagram = options.out / "time_space_baseline.svg";
  write_time_space_svg(r.baseline_diagram, view, r.corridor, r.baseline.record,
                       bandwidth_problem(r.corridor, r.baseline.programs, options.speed_m_s, 1, 1), base_offsets);
  view.title = fmt::format("Green-wave plan: cycle {:.0f} s, {:.0f} km/h{}", r.plan.cycle_s, options.speed_m_s * 3.6, on);
  r.plan_diagram = options.out / "time_space_plan.svg";
  write_time_space_svg(r.plan_diagram, view, r.corridor, r.planned.record,
                       bandwidth_problem(r.corridor, r.plan.programs, options.speed_m_s, 1, 1), plan_offsets);
}

}  // namespace

GreenwaveReport run_greenwave(const GreenwaveOptions& options, const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& m) {
    if (progress) progress(m);
  };
  if (!(options.speed_m_s > 0.0)) fail("greenwave", "the progression speed must be positive");
  if (options.routes.empty()) fail("greenwave", "no route file");
  GreenwaveReport r;
  r.window = resolve_window(options);
  require_trips(options, r.window);
  GreenwaveOptions o = options;
  o.begin_s = r.window.begin_s;
  std::filesystem::create_directories(o.out);
  say(fmt::format("baseline: simulating the network's own programs from {}", clock_time(r.window.begin_s)));
  r.baseline = evaluate(o, {});
  r.corridor = r.baseline.corridor;
  require_corridor_traffic(options, r.window, r.corridor, r.baseline.kpis);
  r.warnings = baseline_warnings(r.corridor, r.baseline.kpis);
  say("planning: cycle, splits and MAXBAND offsets chosen together");
  r.plan = plan_greenwave(o, r.corridor, r.baseline);
  r.plan_file = o.out / "plan.add.xml";
  write_plan_additional(r.plan.programs, r.plan_file);
  say("plan: simulating the coordinated programs on the same demand and seed");
  r.planned = evaluate(o, {r.plan_file});
  for (const auto& p : r.planned.programs)
    if (p.program_id != o.plan_program_id)
      fail(r.plan_file.string(), "SUMO did not activate the plan at light '{}' (it runs '{}')", p.id, p.program_id);
  write_diagrams(o, r);
  r.report_file = o.out / "report.json";
  write_greenwave_report(o, r, r.report_file);
  return r;
}

}  // namespace cadereau::sim::traffic