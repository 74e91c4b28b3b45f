// What `cadereau greenwave` tells: report.json, and the summary it prints,
// read from the same JSON so that the two always agree. A mean over no
// vehicle is null in the file and "n/a" on the terminal, never 0.

#include "cadereau/sim/traffic/greenwave.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

json signal_plan_json(const GreenwaveOptions& options, const GreenwaveReport& r) {
  json base_programs = json::array(), plan_programs = json::array();
  for (const auto& p : r.baseline.programs) base_programs.push_back(to_json(p));
  for (const auto& p : r.plan.programs) plan_programs.push_back(to_json(p));
  json candidates = json::array();
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
  return {{"file", r.plan_file.filename().string()},
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
          {"baseline_programs", base_programs}};
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
  // The bands are in the table, as simulated (offsets in whole seconds).
  out += fmt::format("greenwave: plan cycle {:.0f} s ({}; Webster's cycle {:.0f} s), {} programs in {}\n", r.plan.cycle_s,
                     r.plan.cycle_source == "given" ? "given" : "chosen with the splits and offsets", r.plan.webster_cycle_s,
                     r.plan.programs.size(), r.plan_file.filename().string());
  const json b = to_json(r.baseline.kpis), p = to_json(r.planned.kpis);
  out += fmt::format("{:<42}{:>12}{:>12}\n", "", "baseline", "plan");
  for (const auto& row : kSummaryRows) {
    const json::json_pointer at(row.pointer);
    out += fmt::format("{:<42}{:>12}{:>12}\n", row.label, cell(b.at(at), row.count), cell(p.at(at), row.count));
  }
  return out;
}

}  // namespace cadereau::sim::traffic
