// What `cadereau greenwave` tells: report.json, and the summary it prints,
// read from the same JSON so that the two always agree. A mean over no
// vehicle is null in the file and "n/a" on the terminal, never 0.

#include "cadereau/sim/traffic/greenwave.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace cadereau::sim::traffic {

namespace {

using nlohmann::json;

json measured(long vehicles, double mean) { return vehicles > 0 ? json(mean) : json(nullptr); }

json to_json(const TripKpis& t) {
  return {{"vehicles", t.vehicles},
          {"mean_travel_time_s", measured(t.vehicles, t.mean_travel_time_s)},
          {"mean_delay_s", measured(t.vehicles, t.mean_delay_s)},
          {"stops_per_vehicle", measured(t.vehicles, t.stops_per_vehicle)}};
}

json to_json(const Kpis& k) {
  auto dir = [&](const DirectionKpis& d) {
    return json{{"vehicles", d.vehicles},
                {"mean_travel_time_s", measured(d.vehicles, d.mean_travel_time_s)},
                {"stops_per_vehicle", measured(d.vehicles, d.stops_per_vehicle)},
                {"bandwidth_s", k.bandwidth_defined ? json(d.bandwidth_s) : json(nullptr)}};
  };
  const long corridor_n = k.forward.vehicles + k.backward.vehicles;
  const double corridor_stops =
      corridor_n > 0 ? (k.forward.stops_per_vehicle * k.forward.vehicles + k.backward.stops_per_vehicle * k.backward.vehicles) /
                           static_cast<double>(corridor_n)
                     : 0.0;
  return {{"mean_corridor_travel_time_s", measured(corridor_n, k.mean_corridor_travel_time_s)},
          {"corridor_stops_per_vehicle", measured(corridor_n, corridor_stops)},
          {"stops_per_vehicle", measured(k.all.vehicles, k.all.stops_per_vehicle)},
          {"mean_delay_s", measured(k.all.vehicles, k.all.mean_delay_s)},
          {"mean_travel_time_s", measured(k.all.vehicles, k.all.mean_travel_time_s)},
          {"mean_queue_veh", k.mean_queue_veh},
          {"max_queue_veh", k.max_queue_veh},
          {"throughput_veh_h", k.throughput_veh_h},
          {"bandwidth_forward_s", k.bandwidth_defined ? json(k.forward.bandwidth_s) : json(nullptr)},
          {"bandwidth_backward_s", k.bandwidth_defined ? json(k.backward.bandwidth_s) : json(nullptr)},
          {"forward", dir(k.forward)},
          {"backward", dir(k.backward)},
          {"all_trips", to_json(k.all)},
          {"corridor_trips", to_json(k.corridor)},
          {"cross_street_trips", to_json(k.cross)},
          {"unfinished", k.unfinished},
          {"sim_s", k.sim_s},
          {"wall_s", k.wall_s}};
}

json to_json(const twin::TrafficLight& p) {
  json phases = json::array();
  for (const auto& ph : p.phases) phases.push_back({{"duration_s", ph.duration_s}, {"state", ph.state}});
  return {{"id", p.id}, {"program_id", p.program_id}, {"offset_s", p.offset_s}, {"cycle_s", p.cycle_s()}, {"phases", phases}};
}

json window_json(const GreenwaveOptions& options, const SimulationWindow& w) {
  json routes = json::array();
  for (const auto& f : options.routes) routes.push_back(f.string());
  return {{"net", options.net.string()},
          {"routes", routes},
          {"seed", options.seed},
          {"begin_s", w.begin_s},
          {"end_s", w.end_s ? json(*w.end_s) : json(nullptr)},
          {"begin_clock", clock_time(w.begin_s)},
          {"end_clock", w.end_s ? json(clock_time(*w.end_s)) : json(nullptr)},
          {"trips_in_window", w.trips_in_window},
          {"trips_in_demand", w.demand.trips()},
          {"first_departure_s", w.demand.trips() > 0 ? json(w.demand.first_s()) : json(nullptr)},
          {"last_departure_s", w.demand.trips() > 0 ? json(w.demand.last_s()) : json(nullptr)}};
}

json corridor_json(const GreenwaveOptions& options, const Corridor& c) {
  json lights = json::array();
  for (const auto& s : c.signals)
    lights.push_back({{"id", s.tls_id},
                      {"cross_streets", s.cross_streets},
                      {"forward_stop_line_m", s.forward_stop_line_m},
                      {"backward_stop_line_m", c.two_way() ? json(s.backward_stop_line_m) : json(nullptr)}});
  return {{"street", c.street.empty() ? json(nullptr) : json(c.street)},
          {"lights", lights},
          {"length_m", c.length_m()},
          {"two_way", c.two_way()},
          {"forward_edges", c.forward_edges},
          {"backward_edges", c.backward_edges},
          {"progression_speed_kmh", options.speed_m_s * 3.6}};
}

json score_json(const PlanScore& s) {
  return {{"objective_s", s.objective_s},
          {"corridor_trips", s.corridor_trips},
          {"corridor_delay_s", s.corridor_delay_s},
          {"corridor_delay_spread_s", {s.corridor_delay_min_s, s.corridor_delay_max_s}},
          {"corridor_trip_stops", s.corridor_trip_stops},
          {"whole_corridor_vehicles", s.corridor_vehicles},
          {"whole_corridor_travel_time_s", s.corridor_vehicles > 0 ? json(s.corridor_travel_time_s) : json(nullptr)},
          {"whole_corridor_stops", s.corridor_vehicles > 0 ? json(s.corridor_stops) : json(nullptr)},
          {"forward", {{"travel_time_s", s.forward_travel_time_s}, {"stops_per_vehicle", s.forward_stops}}},
          {"backward", {{"travel_time_s", s.backward_travel_time_s}, {"stops_per_vehicle", s.backward_stops}}},
          {"cross_street_travel_time_s", s.cross_travel_time_s},
          {"all_trips_travel_time_s", s.all_travel_time_s},
          {"all_trips_delay_s", s.all_delay_s},
          {"trips_completed", s.completed},
          {"seeds", s.seeds}};
}

json search_json(const GreenwaveOptions& options, const PlanSearchResult& s) {
  json starts = json::array(), improvements = json::array();
  for (const auto& p : s.starts) starts.push_back({{"name", p.name}, {"score", score_json(p.score)}});
  for (const auto& i : s.improvements)
    improvements.push_back(
        {{"simulations", i.simulations}, {"elapsed_s", i.elapsed_s}, {"move", i.move}, {"objective_s", i.objective_s}});
  return {{"method",
           "every starting plan simulated with SUMO on the demand over the seeds, then coordinate descent on offsets, "
           "splits and the common cycle from the best, each move simulated on the same seeds and kept only when it "
           "lowers the objective; steps halve when a round finds nothing"},
          {"objective",
           "mean delay (SUMO timeLoss) of the trips that drove on the corridor + stop_weight_s per stop of theirs + "
           "cross_weight per second of cross-street trip time above the reference + network_weight per second of "
           "mean trip time above the reference (+ network_weight x 600 s shared over the trips per trip, or corridor "
           "trip, fewer completed)"},
          {"weights",
           {{"stop_weight_s", options.stop_weight_s}, {"cross_weight", options.cross_weight},
            {"network_weight", options.network_weight}}},
          {"seeds", s.seed_list},
          {"budget_s", options.search_budget_s},
          {"wall_s", s.wall_s},
          {"simulations", s.simulations},
          {"plans", s.plans},
          {"converged", s.converged},
          {"reference", s.reference},
          {"starts", starts},
          {"failed", s.failed},
          {"best", {{"name", s.best.name}, {"score", score_json(s.best.score)}}},
          {"improvements", improvements}};
}

json plan_json(const GreenwaveOptions& options, const GreenwavePlan& plan) {
  json programs = json::array(), candidates = json::array();
  for (const auto& p : plan.programs) programs.push_back(to_json(p));
  for (std::size_t c = 0; c < plan.candidates.size(); ++c) {
    const auto& k = plan.candidates[c];
    candidates.push_back({{"cycle_s", k.cycle_s},
                          {"corridor_share", k.corridor_share},
                          {"bandwidth_forward_s", k.bandwidth_forward_s},
                          {"bandwidth_backward_s", k.bandwidth_backward_s},
                          {"corridor_delay_s", k.corridor_delay_s},
                          {"cross_delay_s", k.cross_delay_s},
                          {"total_delay_veh", k.total_delay_veh},
                          {"cross_within_webster", k.cross_within_webster},
                          {"chosen", c == plan.chosen}});
  }
  json robustness = json::array();
  for (const auto& r : plan.robustness)
    robustness.push_back({{"demand_scale", r.scale}, {"plan", score_json(r.plan)}, {"reference", score_json(r.reference)}});
  const bool common = plan.cycle_s > 0.0;
  auto share = [](double band, double max) { return max > 0.0 ? json(band / max) : json(nullptr); };
  return {{"period",
           {{"name", plan.period.name},
            {"begin_s", plan.period.begin_s},
            {"end_s", plan.period.end_s ? json(*plan.period.end_s) : json(nullptr)},
            {"trips", plan.period.trips},
            {"peak", plan.period.peak}}},
          {"program_id", plan.programs.empty() ? json(nullptr) : json(plan.programs.front().program_id)},
          {"cycle_s", common ? json(plan.cycle_s) : json(nullptr)},
          {"bandwidth_forward_s", common ? json(plan.bandwidth.bandwidth.forward_s) : json(nullptr)},
          {"bandwidth_backward_s", common ? json(plan.bandwidth.bandwidth.backward_s) : json(nullptr)},
          {"max_bandwidth_forward_s", plan.max_band_forward_s},
          {"max_bandwidth_backward_s", plan.max_band_backward_s},
          {"band_share_of_max_forward", common ? share(plan.bandwidth.bandwidth.forward_s, plan.max_band_forward_s) : json(nullptr)},
          {"band_share_of_max_backward", common ? share(plan.bandwidth.bandwidth.backward_s, plan.max_band_backward_s) : json(nullptr)},
          {"programs", programs},
          {"analytic",
           {{"method",
             "cycle and splits chosen jointly with the offsets: cycles from Webster's (critical junction, link flows "
             "counted in the baseline run) to 1.5 times it, Webster splits and splits with less green for the "
             "corridor's stages, each with offsets by exact enumeration of the MAXBAND two-way bandwidth problem "
             "(bands weighted by directional volumes); the plan has the least total Webster delay over all lanes, "
             "corridor platoons inside the band meeting no uniform delay, among candidates whose cross-street delay "
             "estimate is not above that of Webster's own cycle and splits"},
            {"cycle_source", plan.cycle_source},
            {"webster_cycle_s", plan.webster_cycle_s},
            {"candidates", candidates}}},
          {"search", search_json(options, plan.search)},
          {"robustness", robustness},
          {"sumo_tools_without_plan", plan.tool_errors},
          {"diagrams",
           {{"baseline", plan.baseline_diagram.filename().string()}, {"plan", plan.plan_diagram.filename().string()}}}};
}

json signal_plan_json(const GreenwaveOptions& options, const GreenwaveReport& r) {
  json base_programs = json::array(), periods = json::array(), waut = json::array();
  for (const auto& p : r.baseline.programs) base_programs.push_back(to_json(p));
  for (const auto& plan : r.plans) periods.push_back(plan_json(options, plan));
  if (r.plans.size() > 1)
    for (const auto& plan : r.plans)
      waut.push_back({{"time_s", plan.period.begin_s}, {"clock", clock_time(plan.period.begin_s)},
                      {"program_id", plan.programs.front().program_id}});
  const json& first = periods.front();
  // The first period's plan at the top, where a single-period plan has it.
  json out = {{"file", r.plan_file.filename().string()},
              {"program_id", first["program_id"]},
              {"cycle_s", first["cycle_s"]},
              {"bandwidth_forward_s", first["bandwidth_forward_s"]},
              {"bandwidth_backward_s", first["bandwidth_backward_s"]},
              {"programs", first["programs"]},
              {"periods", periods},
              {"waut", waut},
              {"baseline_programs", base_programs}};
  return out;
}

// The summary's table: a label and where its value sits in a run's KPIs.
struct SummaryRow {
  const char* label;
  const char* pointer;  // JSON pointer into to_json(Kpis)
  bool count;           // a whole number of vehicles
};

constexpr SummaryRow kSummaryRows[] = {
    {"trips completed (veh)", "/all_trips/vehicles", true},
    {"  mean travel time (s)", "/all_trips/mean_travel_time_s", false},
    {"  mean delay (s)", "/all_trips/mean_delay_s", false},
    {"  stops per vehicle", "/all_trips/stops_per_vehicle", false},
    {"corridor trips, on any part of it (veh)", "/corridor_trips/vehicles", true},
    {"  mean travel time (s)", "/corridor_trips/mean_travel_time_s", false},
    {"  mean delay (s)", "/corridor_trips/mean_delay_s", false},
    {"  stops per vehicle", "/corridor_trips/stops_per_vehicle", false},
    {"cross-street trips (veh)", "/cross_street_trips/vehicles", true},
    {"  mean travel time (s)", "/cross_street_trips/mean_travel_time_s", false},
    {"  mean delay (s)", "/cross_street_trips/mean_delay_s", false},
    {"whole corridor forward (veh)", "/forward/vehicles", true},
    {"  travel time along it (s)", "/forward/mean_travel_time_s", false},
    {"  stops along it per vehicle", "/forward/stops_per_vehicle", false},
    {"whole corridor backward (veh)", "/backward/vehicles", true},
    {"  travel time along it (s)", "/backward/mean_travel_time_s", false},
    {"  stops along it per vehicle", "/backward/stops_per_vehicle", false},
    {"still driving at the end (veh)", "/unfinished", true},
    {"mean queue at the lights (veh)", "/mean_queue_veh", false},
    {"throughput (veh/h)", "/throughput_veh_h", false},
    {"green band forward (s)", "/bandwidth_forward_s", false},
    {"green band backward (s)", "/bandwidth_backward_s", false},
};

std::string cell(const json& value, bool count) {
  if (value.is_null()) return "n/a";
  return count ? fmt::format("{}", value.get<long>()) : fmt::format("{:.2f}", value.get<double>());
}

// A period's plan and how the search got there: each starting plan and the
// best plan as simulated over the seeds.
std::string plan_summary(const GreenwavePlan& plan, bool periods) {
  const auto& s = plan.search;
  std::string out;
  const std::string head = periods ? fmt::format("greenwave: period {} ({} trips): ", plan.period.name, plan.period.trips)
                                   : std::string("greenwave: ");
  std::string seeds = s.seed_list.empty() ? "" : fmt::format("{}", s.seed_list.front());
  if (s.seed_list.size() > 1) seeds += fmt::format("-{}", s.seed_list.back());
  out += fmt::format("{}{} simulations of {} plans on seeds {} in {:.0f} s ({}); reference: {}\n", head, s.simulations,
                     s.plans, seeds, s.wall_s, s.converged ? "converged" : "budget spent", s.reference);
  // Names whole, however long: "+ search" at the end says the search moved it.
  std::size_t width = 40;
  for (const auto& p : s.starts) width = std::max(width, p.name.size() + 2);
  width = std::max(width, s.best.name.size() + 8);
  out += fmt::format("  {:<{}}{:>10}{:>8}{:>7}{:>8}{:>7}{:>8}{:>8}{:>10}\n", "plan, simulated (means over the seeds)", width,
                     "objective", "c.delay", "stops", "whole", "stops", "cross", "all", "completed");
  auto row = [&](const std::string& name, const PlanScore& p) {
    out += fmt::format("  {:<{}}{:>10.1f}{:>8.1f}{:>7.2f}{:>8}{:>7}{:>8.1f}{:>8.1f}{:>10.0f}\n", name, width,
                       p.objective_s, p.corridor_delay_s, p.corridor_trip_stops,
                       p.corridor_vehicles > 0 ? fmt::format("{:.1f}", p.corridor_travel_time_s) : "n/a",
                       p.corridor_vehicles > 0 ? fmt::format("{:.2f}", p.corridor_stops) : "n/a", p.cross_travel_time_s,
                       p.all_travel_time_s, p.completed);
  };
  for (const auto& p : s.starts) row(p.name, p.score);
  row("best: " + s.best.name, s.best.score);
  out += "  (c.delay and stops: corridor trips' delay (s) and stops; whole: travel time (s) and stops of the vehicles\n"
         "   through the whole corridor; cross: cross-street trips' travel time (s); all: every trip's travel time (s))\n";
  for (const auto& e : plan.tool_errors) out += fmt::format("  no plan from {}\n", e);
  for (const auto& r : plan.robustness)
    out += fmt::format("  demand x{:.2f}: corridor trips' delay {:.1f} s and {:.2f} stops, all trips {:.1f} s; "
                       "{}: {:.1f} s, {:.2f} stops, {:.1f} s\n",
                       r.scale, r.plan.corridor_delay_s, r.plan.corridor_trip_stops, r.plan.all_travel_time_s,
                       plan.search.reference, r.reference.corridor_delay_s, r.reference.corridor_trip_stops,
                       r.reference.all_travel_time_s);
  if (plan.cycle_s > 0.0)
    out += fmt::format("  cycle {:.0f} s (Webster's {:.0f} s); bands {:.1f} s forward of at most {:.1f} s, {:.1f} s backward "
                       "of at most {:.1f} s\n",
                       plan.cycle_s, plan.webster_cycle_s, plan.bandwidth.bandwidth.forward_s, plan.max_band_forward_s,
                       plan.bandwidth.bandwidth.backward_s, plan.max_band_backward_s);
  else
    out += "  the lights keep cycles of their own: no common band\n";
  return out;
}

}  // namespace

void write_greenwave_report(const GreenwaveOptions& options, const GreenwaveReport& r, const std::filesystem::path& file) {
  const json report = {{"demand", window_json(options, r.window)},
                       {"corridor", corridor_json(options, r.corridor)},
                       {"baseline", to_json(r.baseline.kpis)},
                       {"plan", to_json(r.planned.kpis)},
                       {"signal_plan", signal_plan_json(options, r)},
                       {"warnings", r.warnings}};
  std::ofstream out(file);
  out << report.dump(2) << "\n";
  if (!out) fail(file.string(), "cannot write the report");
}

std::string greenwave_summary(const GreenwaveReport& r) {
  const auto& c = r.corridor;
  const auto& w = r.window;
  std::string out;
  const std::string along = c.street.empty() ? "" : " along " + c.street;
  out += fmt::format("greenwave: {} lights{} ({:.0f} m, {}), forward {} to {}\n", c.signals.size(), along, c.length_m(),
                     c.two_way() ? "two-way" : "one-way", c.signals.front().tls_id, c.signals.back().tls_id);
  const std::string span =
      w.end_s ? fmt::format("{} to {} ({:.0f}-{:.0f} s)", clock_time(w.begin_s), clock_time(*w.end_s), w.begin_s, *w.end_s)
              : fmt::format("{} ({:.0f} s) until the demand had left the network ({} in the baseline)",
                            clock_time(w.begin_s), w.begin_s, clock_time(r.baseline.record.end_s));
  out += fmt::format("greenwave: window {}; {} of the demand's {} trips depart in it\n", span, w.trips_in_window,
                     w.demand.trips());
  for (const auto& plan : r.plans) out += plan_summary(plan, r.plans.size() > 1);
  const json b = to_json(r.baseline.kpis), p = to_json(r.planned.kpis);
  out += fmt::format("{:<42}{:>12}{:>12}\n", "", "baseline", "plan");
  for (const auto& row : kSummaryRows) {
    const json::json_pointer at(row.pointer);
    out += fmt::format("{:<42}{:>12}{:>12}\n", row.label, cell(b.at(at), row.count), cell(p.at(at), row.count));
  }
  return out;
}

}  // namespace cadereau::sim::traffic
