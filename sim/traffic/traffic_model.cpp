#include "cadereau/sim/traffic/traffic_model.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/route_file.h"

#include "sumo_state.h"

#include "xml_text.h"

#include <libsumo/libsumo.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <unistd.h>

namespace cadereau::sim::traffic {

namespace {

// libsumo is a process-wide singleton: this flag is what makes a second
// TrafficModel fail loudly instead of silently sharing the first one's state.
bool g_running = false;

constexpr const char* kEmergencyType = "cadereau_emergency";
// The vehicles calibrators add are SUMO's default passenger cars.
constexpr const char* kCountedType = "DEFAULT_VEHTYPE";

std::string join(const std::vector<std::filesystem::path>& files) {
  std::string out;
  for (const auto& f : files) {
    if (!out.empty()) out += ',';
    out += f.string();
  }
  return out;
}

std::string number(double v) { return fmt::format("{}", v); }

// A calibrator acts only while one of its flow intervals is current; with
// none it falls asleep for a simulated day. Between count windows the model
// keeps it awake with flow-less intervals this long. Longer ones would make a
// new count wait longer; shorter ones pile up (SUMO keeps every interval).
constexpr double kIdleInterval_s = 30.0;
// Times are compared at SUMO's resolution (1 ms).
constexpr double kTimeEps_s = 1e-4;


}  // namespace

// The calibrator on a counted edge, its flow intervals as given to SUMO
// (contiguous, in time order, never removed: SUMO keeps them too, and a
// loaded state may make an earlier one current again), and what it did.
struct TrafficModel::Counter {
  struct Interval {
    double begin_s = 0.0;
    double end_s = 0.0;
    std::optional<double> veh_per_h;  // none: idle, the calibrator only keeps watch
    std::optional<double> speed_m_s;
  };
  std::string edge_id;
  std::string calibrator_id;
  std::vector<Interval> intervals;
  double covered_until_s = 0.0;  // end of the last interval
  // Lane speed limits saved while an observed speed caps the edge.
  std::vector<std::pair<std::string, double>> saved_lane_speeds;
  std::optional<double> capped_speed_m_s;
  std::vector<std::string> last_on_edge;  // sorted vehicle ids after the previous step
  int last_removed = 0;                   // SUMO's count for its current interval
  long passed = 0;
  long inserted = 0;
  long removed = 0;

  // Index of the first interval still running at time_s (end > time_s);
  // intervals.size() when all are over.
  std::size_t current(double time_s) const {
    return static_cast<std::size_t>(
        std::upper_bound(intervals.begin(), intervals.end(), time_s + kTimeEps_s,
                         [](double t, const Interval& i) { return t < i.end_s; }) -
        intervals.begin());
  }
  const Interval* running_at(double time_s) const {
    const auto i = current(time_s);
    if (i == intervals.size() || intervals[i].begin_s > time_s + kTimeEps_s) return nullptr;
    return &intervals[i];
  }
};

TrafficModel::TrafficModel(TrafficOptions options) : options_(std::move(options)) {
  if (g_running) fail("traffic", "a SUMO simulation is already running in this process (libsumo allows one)");
  if (!std::filesystem::exists(options_.net)) fail_as(ErrorCategory::not_found, options_.net.string(), "no such network file");
  network_ = twin::RoadNetwork::load(options_.net);
  for (const auto& files : {options_.routes, options_.additionals})
    for (const auto& f : files)
      if (!std::filesystem::exists(f)) fail_as(ErrorCategory::not_found, f.string(), "no such file");
  // SUMO reports a damaged route file as a failure to start: check each
  // first, so the message names it and its line.
  for (const auto& f : options_.routes) twin::check_route_file(f, &network_);
  if (!(options_.step_length_s > 0.0)) fail("traffic", "step length must be positive, not {}", options_.step_length_s);
  for (const auto& e : network_.edges())
    for (const auto& l : e.lanes) lane_ids_.push_back(l.id);
  std::sort(lane_ids_.begin(), lane_ids_.end());
  for (const auto& edge_id : options_.counted_edges) {
    if (!network_.find_edge(edge_id))
      fail(options_.net.string(), "counted edge '{}' is not in the network", edge_id);
    if (std::any_of(counters_.begin(), counters_.end(), [&](const Counter& c) { return c.edge_id == edge_id; }))
      fail("traffic", "counted edge '{}' is listed twice", edge_id);
    Counter c;
    c.edge_id = edge_id;
    c.calibrator_id = "cadereau_count_" + edge_id;
    c.covered_until_s = options_.begin_s;
    counters_.push_back(std::move(c));
  }
  std::vector<std::filesystem::path> additionals = options_.additionals;
  if (!counters_.empty()) additionals.push_back(write_counter_file());

  // SUMO fetches XML schemas from the web unless SUMO_HOME points at the
  // local copy; offline that fails, so validation is off as well.
  if (!std::getenv("SUMO_HOME") && std::filesystem::exists("/usr/share/sumo")) ::setenv("SUMO_HOME", "/usr/share/sumo", 0);
  std::vector<std::string> args = {"sumo", "-n", options_.net.string(), "--seed", std::to_string(options_.seed),
                                   "--begin", number(options_.begin_s), "--step-length", number(options_.step_length_s),
                                   "--xml-validation", "never", "--no-step-log", "true", "--no-warnings", "true",
                                   "--duration-log.disable", "true",
                                   // A vehicle whose route became impossible (a closure) is
                                   // dropped with a warning rather than aborting the run.
                                   "--ignore-route-errors", "true"};
  if (options_.kind == TrafficModelKind::mesoscopic)
    args.insert(args.end(), {"--mesosim", "true", "--meso-junction-control", "true"});
  if (!options_.routes.empty()) args.insert(args.end(), {"-r", join(options_.routes)});
  if (!additionals.empty()) args.insert(args.end(), {"-a", join(additionals)});
  if (options_.end_s) args.insert(args.end(), {"--end", number(*options_.end_s)});
  if (options_.rerouting_probability > 0.0) {
    args.insert(args.end(), {"--device.rerouting.probability", number(options_.rerouting_probability),
                             "--device.rerouting.period", number(options_.rerouting_period_s)});
    if (!options_.route_on_insertion) args.insert(args.end(), {"--device.rerouting.pre-period", "0"});
  }
  if (options_.tripinfo_output) args.insert(args.end(), {"--tripinfo-output", options_.tripinfo_output->string()});
  args.insert(args.end(), options_.extra_sumo_options.begin(), options_.extra_sumo_options.end());
  try {
    libsumo::Simulation::start(args);
    g_running = true;
    libsumo::VehicleType::copy("DEFAULT_VEHTYPE", kEmergencyType);
    libsumo::VehicleType::setVehicleClass(kEmergencyType, "emergency");
    libsumo::VehicleType::setParameter(kEmergencyType, "has.bluelight.device", "true");
    vehicle_types_.push_back("emergency");
  } catch (const std::exception& e) {
    release();
    // Blame the input SUMO's message names; without one, all of them.
    const std::string message = e.what();
    std::string blamed;
    for (const auto& files : {options_.routes, additionals})
      for (const auto& f : files)
        if (blamed.empty() && message.find(f.filename().string()) != std::string::npos) blamed = f.string();
    if (blamed.empty() && message.find(options_.net.filename().string()) != std::string::npos)
      blamed = options_.net.string();
    // SUMO speaks of the demand's vehicles, routes, trips and flows without
    // naming the file they came from.
    std::string lower = message;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (blamed.empty() && !options_.routes.empty())
      for (const char* word : {"vehicle", "route", "trip", "flow", "vtype", "person"})
        if (lower.find(word) != std::string::npos) {
          blamed = join(options_.routes);
          break;
        }
    if (blamed.empty()) {
      blamed = options_.net.string();
      if (!options_.routes.empty()) blamed += " with " + join(options_.routes);
      if (!additionals.empty()) blamed += " and " + join(additionals);
    }
    fail(blamed, "SUMO did not start: {}", message);
  }
}

TrafficModel::~TrafficModel() { release(); }

void TrafficModel::release() noexcept {
  if (g_running) {
    try {
      libsumo::Simulation::close();
    } catch (const std::exception&) {
      // Closing an aborted simulation may complain; nothing is left to save.
    }
    g_running = false;
  }
  if (!counter_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(counter_dir_, ec);
  }
}

std::filesystem::path TrafficModel::write_counter_file() {
  std::string pattern = (std::filesystem::temp_directory_path() / "cadereau-counts-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) fail(pattern, "cannot create a folder for the calibrator file");
  counter_dir_ = pattern;
  const auto file = counter_dir_ / "counters.add.xml";
  std::ofstream out(file);
  out << "<additional>\n";
  for (const auto& c : counters_) {
    const std::string edge = xml_escaped(c.edge_id);
    const std::string id = xml_escaped(c.calibrator_id);
    // The probe's routes are what the calibrator samples for the vehicles
    // it adds; a new distribution starts every 5 minutes, so the routes
    // follow closures and reroutes.
    out << fmt::format("  <routeProbe id=\"{}_probe\" edge=\"{}\" period=\"300\" file=\"{}\"/>\n", id, edge,
                       xml_escaped((counter_dir_ / ("probe_" + std::to_string(&c - counters_.data()) + ".xml")).string()));
    // SUMO schedules a calibrator only if its file gives it an interval: an
    // empty one at the start, the model sets the rest (keep_counters_alive).
    out << fmt::format("  <calibrator id=\"{}\" edge=\"{}\" pos=\"0\" period=\"{}\" routeProbe=\"{}_probe\">\n", id, edge,
                       number(options_.step_length_s), id);
    out << fmt::format("    <flow begin=\"{0}\" end=\"{0}\" vehsPerHour=\"0\"/>\n", number(options_.begin_s));
    out << "  </calibrator>\n";
  }
  out << "</additional>\n";
  out.close();
  if (!out) {
    std::error_code ec;
    std::filesystem::remove_all(counter_dir_, ec);
    fail(file.string(), "cannot write the calibrator file");
  }
  return file;
}

bool TrafficModel::running() { return g_running; }

double TrafficModel::time_s() const { return libsumo::Simulation::getTime(); }

int TrafficModel::expected_vehicles() const { return libsumo::Simulation::getMinExpectedNumber(); }

void TrafficModel::step() { step_to(time_s() + options_.step_length_s); }

void TrafficModel::step_to(double target_s) {
  if (failed_) fail("traffic", "the simulation aborted earlier and cannot step");
  // Step one SUMO step at a time: arrivals are only visible for the last step.
  const double eps = 1e-6;
  try {
    if (!newly_closed_.empty() && libsumo::Simulation::getTime() + eps < target_s) reroute_around_closures();
    while (libsumo::Simulation::getTime() + eps < target_s) {
      if (!counters_.empty()) keep_counters_alive(libsumo::Simulation::getTime());
      libsumo::Simulation::step();
      if (!counters_.empty()) track_counters();
      if (!closed_edges_.empty()) reroute_departed();
      departed_total_ += libsumo::Simulation::getDepartedNumber();
      const int arrived = libsumo::Simulation::getArrivedNumber();
      arrived_total_ += arrived;
      if (arrived > 0) {
        arrived_last_step_ = libsumo::Simulation::getArrivedIDList();
        const double now = libsumo::Simulation::getTime();
        for (auto& trip : emergency_trips_) {
          if (!trip.arrival_s &&
              std::find(arrived_last_step_.begin(), arrived_last_step_.end(), trip.vehicle_id) != arrived_last_step_.end())
            trip.arrival_s = now;
        }
      } else {
        arrived_last_step_.clear();
      }
    }
  } catch (const std::exception& e) {
    // SUMO's ProcessError (e.g. a vehicle left without a route) is not a
    // TraCIException; both leave the simulation unusable.
    failed_ = true;
    fail("traffic", "SUMO stopped at t={} s: {}", libsumo::Simulation::getTime(), e.what());
  }
}

void TrafficModel::keep_counters_alive(double step_s) {
  for (auto& c : counters_) {
    if (c.covered_until_s > step_s + kTimeEps_s) continue;
    const Counter::Interval idle{c.covered_until_s, c.covered_until_s + kIdleInterval_s, std::nullopt, std::nullopt};
    // A negative flow and speed: SUMO neither adds, removes nor slows down.
    libsumo::Calibrator::setFlow(c.calibrator_id, idle.begin_s, idle.end_s, -1.0, -1.0, kCountedType, "");
    c.intervals.push_back(idle);
    c.covered_until_s = idle.end_s;
  }
}

void TrafficModel::track_counters() {
  const double now = libsumo::Simulation::getTime();
  std::vector<std::string> departed;
  if (libsumo::Simulation::getDepartedNumber() > 0) departed = libsumo::Simulation::getDepartedIDList();
  for (auto& c : counters_) {
    auto on_edge = libsumo::Edge::getLastStepVehicleIDs(c.edge_id);
    std::sort(on_edge.begin(), on_edge.end());
    for (const auto& id : on_edge)
      if (!std::binary_search(c.last_on_edge.begin(), c.last_on_edge.end(), id)) ++c.passed;
    c.last_on_edge = std::move(on_edge);
    // Vehicles the calibrator adds are named after it.
    const std::string prefix = c.calibrator_id + ".";
    for (const auto& id : departed)
      if (id.compare(0, prefix.size(), prefix) == 0) ++c.inserted;
    // SUMO counts removals per interval and zeroes the count as an interval
    // ends: a smaller count is a new interval.
    const int removed = libsumo::Calibrator::getRemoved(c.calibrator_id);
    c.removed += removed >= c.last_removed ? removed - c.last_removed : removed;
    c.last_removed = removed;

    apply_speed_cap(c, now);
  }
}

void TrafficModel::apply_speed_cap(Counter& c, double now_s) {
  // The observed speed caps the edge while its window runs.
  const auto* running = c.running_at(now_s);
  const std::optional<double> cap = running ? running->speed_m_s : std::nullopt;
  if (cap == c.capped_speed_m_s) return;
  const auto* edge = network_.find_edge(c.edge_id);
  if (!c.capped_speed_m_s) {
    c.saved_lane_speeds.clear();
    for (const auto& lane : edge->lanes) c.saved_lane_speeds.emplace_back(lane.id, libsumo::Lane::getMaxSpeed(lane.id));
  }
  if (cap) {
    libsumo::Edge::setMaxSpeed(c.edge_id, *cap);
  } else {
    for (const auto& [lane, speed_m_s] : c.saved_lane_speeds) libsumo::Lane::setMaxSpeed(lane, speed_m_s);
  }
  c.capped_speed_m_s = cap;
}

TrafficModel::Counter& TrafficModel::counter(const std::string& edge_id) {
  return const_cast<Counter&>(static_cast<const TrafficModel*>(this)->counter(edge_id));
}

const TrafficModel::Counter& TrafficModel::counter(const std::string& edge_id) const {
  check_edge(edge_id);
  for (const auto& c : counters_)
    if (c.edge_id == edge_id) return c;
  fail("traffic", "edge '{}' has no counter (TrafficOptions::counted_edges)", edge_id);
}

CountWindow TrafficModel::follow_count(const std::string& edge_id, double observed_veh_per_h,
                                       std::optional<double> observed_speed_m_s, double window_s) {
  auto& c = counter(edge_id);
  if (!std::isfinite(observed_veh_per_h) || observed_veh_per_h < 0.0)
    fail("count", "edge '{}': flow must be a finite number >= 0, not {} veh/h", edge_id, observed_veh_per_h);
  if (observed_speed_m_s && !(std::isfinite(*observed_speed_m_s) && *observed_speed_m_s > 0.0))
    fail("count", "edge '{}': speed must be positive, not {} m/s", edge_id, *observed_speed_m_s);
  if (!(std::isfinite(window_s) && window_s > 0.0))
    fail("count", "edge '{}': window must be positive, not {} s", edge_id, window_s);
  if (failed_) fail("traffic", "the simulation aborted earlier");

  const double now = time_s();
  // The window starts now, or when the idle interval running now ends; a
  // window already open takes the new flow from its own start.
  std::size_t k = c.current(now);
  double start_s = now;
  if (k < c.intervals.size() && !c.intervals[k].veh_per_h && c.intervals[k].begin_s <= now + kTimeEps_s) {
    start_s = c.intervals[k].end_s;
    ++k;
  }
  const double begin_s = k < c.intervals.size() ? std::min(c.intervals[k].begin_s, start_s) : start_s;
  const double end_s = start_s + window_s;
  try {
    for (; k < c.intervals.size() && c.intervals[k].veh_per_h; ++k) {
      auto& i = c.intervals[k];
      libsumo::Calibrator::setFlow(c.calibrator_id, i.begin_s, i.end_s, observed_veh_per_h, -1.0, kCountedType, "",
                                   "allowed", "max");
      i.veh_per_h = observed_veh_per_h;
      i.speed_m_s = observed_speed_m_s;
    }
    if (end_s > c.covered_until_s + kTimeEps_s) {
      const Counter::Interval window{std::max(c.covered_until_s, now), end_s, observed_veh_per_h, observed_speed_m_s};
      libsumo::Calibrator::setFlow(c.calibrator_id, window.begin_s, window.end_s, observed_veh_per_h, -1.0,
                                   kCountedType, "", "allowed", "max");
      c.intervals.push_back(window);
      c.covered_until_s = window.end_s;
    }
  } catch (const std::exception& e) {
    fail("count", "edge '{}': SUMO refused the flow at t={} s: {}", edge_id, now, e.what());
  }
  apply_speed_cap(c, now);
  return {begin_s, std::max(end_s, c.covered_until_s)};
}

CountFollowing TrafficModel::count_following(const std::string& edge_id) const {
  const auto& c = counter(edge_id);
  CountFollowing f;
  f.edge_id = c.edge_id;
  if (const auto* running = c.running_at(time_s())) f.target_veh_per_h = running->veh_per_h;
  f.passed = c.passed;
  f.inserted = c.inserted;
  f.removed = c.removed;
  return f;
}

void TrafficModel::check_edge(const std::string& edge_id) const {
  if (!network_.find_edge(edge_id)) fail(options_.net.string(), "unknown edge '{}'", edge_id);
}

void TrafficModel::check_tls(const std::string& tls_id) const {
  if (!network_.find_traffic_light(tls_id)) fail(options_.net.string(), "unknown traffic light '{}'", tls_id);
}

namespace {

EdgeState read_edge_state(const twin::Edge& e) {
  EdgeState s;
  s.vehicles = libsumo::Edge::getLastStepVehicleNumber(e.id);
  s.travel_time_s = libsumo::Edge::getTraveltime(e.id);
  if (s.vehicles == 0) {
    // Most edges are empty at any time: two lookups instead of five (every
    // libsumo getter is a lookup by id). Empty, SUMO reports the speed limit.
    s.mean_speed_m_s = s.travel_time_s > 0.0 ? e.length_m() / s.travel_time_s : e.speed_m_s();
  } else {
    s.halting = libsumo::Edge::getLastStepHaltingNumber(e.id);
    s.mean_speed_m_s = libsumo::Edge::getLastStepMeanSpeed(e.id);
    s.occupancy = libsumo::Edge::getLastStepOccupancy(e.id);
  }
  return s;
}

}  // namespace

std::vector<EdgeState> TrafficModel::edge_states() const {
  std::vector<EdgeState> out;
  out.reserve(network_.edges().size());
  for (const auto& e : network_.edges()) out.push_back(read_edge_state(e));
  return out;
}

std::vector<EdgeState> TrafficModel::edge_states(const std::vector<std::size_t>& edge_indices) const {
  const auto& edges = network_.edges();
  for (const auto i : edge_indices)
    if (i >= edges.size()) fail(options_.net.string(), "edge index {} is past the last edge ({})", i, edges.size() - 1);
  std::vector<EdgeState> out;
  out.reserve(edge_indices.size());
  for (const auto i : edge_indices) out.push_back(read_edge_state(edges[i]));
  return out;
}

EdgeState TrafficModel::edge_state(const std::string& edge_id) const {
  check_edge(edge_id);
  EdgeState s;
  s.vehicles = libsumo::Edge::getLastStepVehicleNumber(edge_id);
  s.halting = libsumo::Edge::getLastStepHaltingNumber(edge_id);
  s.mean_speed_m_s = libsumo::Edge::getLastStepMeanSpeed(edge_id);
  s.occupancy = libsumo::Edge::getLastStepOccupancy(edge_id);
  s.travel_time_s = libsumo::Edge::getTraveltime(edge_id);
  return s;
}

std::vector<VehicleState> TrafficModel::vehicles() const {
  std::vector<VehicleState> out;
  const auto ids = libsumo::Vehicle::getIDList();
  out.reserve(ids.size());
  const auto& location = network_.location();
  for (const auto& id : ids) {
    VehicleState v;
    v.id = id;
    v.type_id = libsumo::Vehicle::getTypeID(id);
    v.vehicle_class = libsumo::Vehicle::getVehicleClass(id);
    v.edge_id = libsumo::Vehicle::getRoadID(id);
    v.lane_position_m = libsumo::Vehicle::getLanePosition(id);
    const auto p = libsumo::Vehicle::getPosition(id);
    v.position = location.to_map(p.x, p.y);
    v.speed_m_s = libsumo::Vehicle::getSpeed(id);
    v.heading_deg = libsumo::Vehicle::getAngle(id);
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<VehicleOnEdge> TrafficModel::vehicles_on_edge(const std::string& edge_id) const {
  check_edge(edge_id);
  std::vector<VehicleOnEdge> out;
  for (const auto& id : libsumo::Edge::getLastStepVehicleIDs(edge_id))
    out.push_back({id, libsumo::Vehicle::getLanePosition(id), libsumo::Vehicle::getSpeed(id)});
  return out;
}

std::vector<std::string> TrafficModel::vehicle_ids_on_lane(const std::string& lane_id) const {
  if (lane_id.empty() || (lane_id[0] != ':' && !std::binary_search(lane_ids_.begin(), lane_ids_.end(), lane_id)))
    fail(options_.net.string(), "unknown lane '{}'", lane_id);
  try {
    return libsumo::Lane::getLastStepVehicleIDs(lane_id);
  } catch (const libsumo::TraCIException& e) {
    fail(options_.net.string(), "lane '{}': {}", lane_id, e.what());
  }
}

void TrafficModel::apply_lane_access(const std::string& lane_id, Access access,
                                     const std::vector<std::string>& authorised_classes) {
  ++access_version_;
  auto it = std::find_if(original_allowed_.begin(), original_allowed_.end(),
                         [&](const auto& p) { return p.first == lane_id; });
  if (it == original_allowed_.end()) {
    original_allowed_.emplace_back(lane_id, libsumo::Lane::getAllowed(lane_id));
    it = std::prev(original_allowed_.end());
  }
  switch (access) {
    case Access::open:
      // An empty allowed list from SUMO means "every class"; setting an
      // empty allowed list would mean "none", so reopen by disallowing nothing.
      if (it->second.empty())
        libsumo::Lane::setDisallowed(lane_id, std::vector<std::string>{});
      else
        libsumo::Lane::setAllowed(lane_id, it->second);
      break;
    case Access::emergency_only:
      libsumo::Lane::setAllowed(lane_id, authorised_classes);
      break;
    case Access::closed:
      libsumo::Lane::setAllowed(lane_id, std::vector<std::string>{});
      break;
  }
}

void TrafficModel::set_edge_access(const std::string& edge_id, Access access) {
  check_edge(edge_id);
  for (const auto& lane : network_.find_edge(edge_id)->lanes)
    apply_lane_access(lane.id, access, {"emergency", "authority"});
  note_access(edge_id, access);
}

void TrafficModel::note_access(const std::string& edge_id, Access access) {
  const auto at = std::lower_bound(closed_edges_.begin(), closed_edges_.end(), edge_id);
  const bool was_closed = at != closed_edges_.end() && *at == edge_id;
  if (access == Access::open) {
    if (was_closed) closed_edges_.erase(at);
    return;
  }
  if (!was_closed) closed_edges_.insert(at, edge_id);
  // Vehicles about to enter it re-plan before the next step instead of
  // queueing at its entrance; several closures cost one pass.
  newly_closed_.push_back(edge_id);
}

void TrafficModel::set_lane_access(const std::string& lane_id, Access access) {
  if (!std::binary_search(lane_ids_.begin(), lane_ids_.end(), lane_id))
    fail(options_.net.string(), "unknown lane '{}'", lane_id);
  apply_lane_access(lane_id, access, {"emergency", "authority"});
}

void TrafficModel::lower_bollard(const std::string& edge_id, const std::vector<std::string>& authorised_classes) {
  check_edge(edge_id);
  if (authorised_classes.empty()) fail("bollard", "edge '{}': a bollard needs at least one authorised class", edge_id);
  try {
    for (const auto& lane : network_.find_edge(edge_id)->lanes)
      apply_lane_access(lane.id, Access::emergency_only, authorised_classes);
  } catch (const libsumo::TraCIException& e) {
    fail("bollard", "edge '{}': {}", edge_id, e.what());
  }
  note_access(edge_id, Access::emergency_only);
}

void TrafficModel::set_speed_limit(const std::string& edge_id, double speed_m_s) {
  check_edge(edge_id);
  if (!(speed_m_s > 0.0) || !std::isfinite(speed_m_s))
    fail("speed limit", "edge '{}': speed must be positive, not {} m/s", edge_id, speed_m_s);
  libsumo::Edge::setMaxSpeed(edge_id, speed_m_s);
}

void TrafficModel::restore_speed_limit(const std::string& edge_id) {
  check_edge(edge_id);
  for (const auto& lane : network_.find_edge(edge_id)->lanes) libsumo::Lane::setMaxSpeed(lane.id, lane.speed_m_s);
}

std::vector<std::string> TrafficModel::light_programs(const std::string& tls_id) const {
  check_tls(tls_id);
  std::vector<std::string> out;
  for (const auto& logic : libsumo::TrafficLight::getAllProgramLogics(tls_id)) out.push_back(logic.programID);
  return out;
}

std::string TrafficModel::light_program(const std::string& tls_id) const {
  check_tls(tls_id);
  return libsumo::TrafficLight::getProgram(tls_id);
}

std::string TrafficModel::light_state(const std::string& tls_id) const {
  check_tls(tls_id);
  return libsumo::TrafficLight::getRedYellowGreenState(tls_id);
}

int TrafficModel::light_phase(const std::string& tls_id) const {
  check_tls(tls_id);
  return libsumo::TrafficLight::getPhase(tls_id);
}

void TrafficModel::remember_program(const std::string& tls_id) {
  for (const auto& p : original_program_)
    if (p.first == tls_id) return;
  original_program_.emplace_back(tls_id, libsumo::TrafficLight::getProgram(tls_id));
}

void TrafficModel::set_light_program(const std::string& tls_id, const std::string& program_id) {
  check_tls(tls_id);
  const auto programs = light_programs(tls_id);
  if (program_id != "off" && std::find(programs.begin(), programs.end(), program_id) == programs.end())
    fail("traffic light", "'{}' has no program '{}'", tls_id, program_id);
  remember_program(tls_id);
  libsumo::TrafficLight::setProgram(tls_id, program_id);
}

void TrafficModel::set_light_phase(const std::string& tls_id, int phase_index) {
  check_tls(tls_id);
  try {
    libsumo::TrafficLight::setPhase(tls_id, phase_index);
  } catch (const libsumo::TraCIException& e) {
    fail("traffic light", "'{}': phase {}: {}", tls_id, phase_index, e.what());
  }
}

void TrafficModel::set_light_off(const std::string& tls_id) { set_light_program(tls_id, "off"); }

void TrafficModel::set_light_flashing(const std::string& tls_id) {
  check_tls(tls_id);
  remember_program(tls_id);
  const auto n = libsumo::TrafficLight::getRedYellowGreenState(tls_id).size();
  // SUMO keeps a state set this way as a one-phase "online" program.
  libsumo::TrafficLight::setRedYellowGreenState(tls_id, std::string(n, 'o'));
}

void TrafficModel::restore_light(const std::string& tls_id) {
  check_tls(tls_id);
  for (const auto& p : original_program_)
    if (p.first == tls_id) {
      libsumo::TrafficLight::setProgram(tls_id, p.second);
      return;
    }
}

std::vector<SignalLink> TrafficModel::signal_links(const std::string& tls_id) const {
  check_tls(tls_id);
  std::vector<SignalLink> out;
  const auto controlled = libsumo::TrafficLight::getControlledLinks(tls_id);
  for (std::size_t i = 0; i < controlled.size(); ++i) {
    for (const auto& link : controlled[i]) {
      SignalLink s;
      s.index = static_cast<int>(i);
      s.from_lane = link.fromLane;
      s.to_lane = link.toLane;
      s.via_lane = link.viaLane;
      for (const auto& c : libsumo::Lane::getLinks(link.fromLane)) {
        if (c.approachedLane == link.toLane && (link.viaLane.empty() || c.approachedInternal == link.viaLane)) {
          s.direction = c.direction;
          break;
        }
      }
      if (!link.viaLane.empty()) s.via_length_m = libsumo::Lane::getLength(link.viaLane);
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::string TrafficModel::vehicle_type_for(const std::string& vehicle_class) const {
  if (vehicle_class == "passenger" || vehicle_class.empty()) return "DEFAULT_VEHTYPE";
  const std::string type = vehicle_class == "emergency" ? kEmergencyType : "cadereau_" + vehicle_class;
  if (std::find(vehicle_types_.begin(), vehicle_types_.end(), vehicle_class) == vehicle_types_.end()) {
    try {
      libsumo::VehicleType::copy("DEFAULT_VEHTYPE", type);
      libsumo::VehicleType::setVehicleClass(type, vehicle_class);
    } catch (const std::exception& e) {
      fail("traffic", "vehicle class '{}': {}", vehicle_class, e.what());
    }
    vehicle_types_.push_back(vehicle_class);
  }
  return type;
}

std::optional<Route> TrafficModel::route(const std::string& from_edge, const std::string& to_edge,
                                         const std::string& vehicle_class) const {
  check_edge(from_edge);
  check_edge(to_edge);
  const std::string type = vehicle_type_for(vehicle_class);
  try {
    const auto stage = libsumo::Simulation::findRoute(from_edge, to_edge, type);
    if (stage.edges.empty()) return std::nullopt;
    return Route{stage.edges, stage.travelTime, stage.length};
  } catch (const libsumo::TraCIException&) {
    // The origin itself is closed to the class: no route.
    return std::nullopt;
  }
}

std::string TrafficModel::nearest_edge(twin::MapPoint point, const std::string& vehicle_class) const {
  // The answer changes only when a lane's permissions do: emergency access
  // asks for the same stations and zones every few minutes.
  if (nearest_edge_cache_version_ != access_version_) {
    nearest_edge_cache_.clear();
    nearest_edge_cache_version_ = access_version_;
  }
  const auto key = std::make_tuple(point.x_m, point.y_m, vehicle_class);
  if (const auto hit = nearest_edge_cache_.find(key); hit != nearest_edge_cache_.end()) return hit->second;
  return nearest_edge_cache_[key] = find_nearest_edge(point, vehicle_class);
}

std::string TrafficModel::find_nearest_edge(twin::MapPoint point, const std::string& vehicle_class) const {
  double x = 0.0, y = 0.0;
  network_.location().to_sumo(point, x, y);
  try {
    const auto road = libsumo::Simulation::convertRoad(x, y, false, vehicle_class);
    if (!road.edgeID.empty() && road.edgeID[0] != ':') return road.edgeID;
  } catch (const libsumo::TraCIException&) {
  }
  // SUMO looks only a short way around the point; a hospital in its grounds
  // or a zone's centroid in the fields is further from any road. Take the
  // nearest edge by geometry, within a kilometre, whose lanes admit the class.
  struct Candidate {
    double distance_m;
    std::size_t edge;
  };
  std::vector<Candidate> near;
  for (std::size_t e = 0; e < network_.edges().size(); ++e) {
    const auto& shape = network_.edges()[e].shape;
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t k = 1; k < shape.size(); ++k) {
      const double ax = shape[k - 1].x_m, ay = shape[k - 1].y_m, bx = shape[k].x_m, by = shape[k].y_m;
      const double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
      const double t = len2 > 0.0 ? std::clamp(((point.x_m - ax) * dx + (point.y_m - ay) * dy) / len2, 0.0, 1.0) : 0.0;
      best = std::min(best, std::hypot(point.x_m - (ax + t * dx), point.y_m - (ay + t * dy)));
    }
    if (best <= 1000.0) near.push_back({best, e});
  }
  std::sort(near.begin(), near.end(), [](const Candidate& a, const Candidate& b) {
    return a.distance_m < b.distance_m || (a.distance_m == b.distance_m && a.edge < b.edge);
  });
  for (const auto& c : near) {
    const auto& edge = network_.edges()[c.edge];
    for (const auto& lane : edge.lanes) {
      try {
        const auto allowed = libsumo::Lane::getAllowed(lane.id);
        const auto disallowed = libsumo::Lane::getDisallowed(lane.id);
        const bool ok = (allowed.empty() || std::find(allowed.begin(), allowed.end(), vehicle_class) != allowed.end()) &&
                        std::find(disallowed.begin(), disallowed.end(), vehicle_class) == disallowed.end();
        if (ok) return edge.id;
      } catch (const libsumo::TraCIException&) {
      }
    }
  }
  return {};
}

AccessMatrix TrafficModel::emergency_access(const std::vector<AccessPoint>& origins,
                                            const std::vector<AccessPoint>& destinations) const {
  AccessMatrix m;
  for (const auto& o : origins) {
    m.origin_ids.push_back(o.id);
    m.origin_edges.push_back(nearest_edge(o.location, "emergency"));
  }
  for (const auto& d : destinations) {
    m.destination_ids.push_back(d.id);
    m.destination_edges.push_back(nearest_edge(d.location, "emergency"));
  }
  const double inf = std::numeric_limits<double>::infinity();
  m.travel_time_s.assign(origins.size(), std::vector<double>(destinations.size(), inf));
  for (std::size_t i = 0; i < origins.size(); ++i) {
    if (m.origin_edges[i].empty()) continue;
    for (std::size_t j = 0; j < destinations.size(); ++j) {
      if (m.destination_edges[j].empty()) continue;
      if (m.origin_edges[i] == m.destination_edges[j]) {
        m.travel_time_s[i][j] = 0.0;
        continue;
      }
      if (auto r = route(m.origin_edges[i], m.destination_edges[j], "emergency")) m.travel_time_s[i][j] = r->travel_time_s;
    }
  }
  return m;
}

void TrafficModel::dispatch_emergency(const std::string& vehicle_id, const std::string& from_edge,
                                      const std::string& to_edge) {
  check_edge(from_edge);
  check_edge(to_edge);
  const auto r = route(from_edge, to_edge, "emergency");
  if (!r) fail("dispatch", "no road from '{}' to '{}' for an emergency vehicle", from_edge, to_edge);
  try {
    const std::string route_id = "cadereau_route_" + vehicle_id;
    libsumo::Route::add(route_id, r->edges);
    libsumo::Vehicle::add(vehicle_id, route_id, kEmergencyType, "now", "best", "base", "max");
  } catch (const libsumo::TraCIException& e) {
    fail("dispatch", "vehicle '{}': {}", vehicle_id, e.what());
  }
  emergency_trips_.push_back({vehicle_id, from_edge, to_edge, time_s(), std::nullopt});
}

void TrafficModel::save_state(const std::filesystem::path& file) const {
  try {
    libsumo::Simulation::saveState(file.string());
  } catch (const std::exception& e) {
    fail(file.string(), "SUMO could not save its state: {}", e.what());
  }
  if (!std::filesystem::exists(file)) fail(file.string(), "SUMO did not write its state");
}

int TrafficModel::load_state(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) fail_as(ErrorCategory::not_found, file.string(), "no such state file");
  // SUMO cannot restore a vehicle caught mid-teleport (sumo_state.h): those
  // are loaded without it and put back below.
  std::string scratch = (std::filesystem::temp_directory_path() / "cadereau-state-XXXXXX").string();
  if (!::mkdtemp(scratch.data())) fail(scratch, "cannot create a folder for the SUMO state");
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{scratch};
  const PreparedState prepared = prepare_state_for_load(file, std::filesystem::path(scratch) / "state.xml");
  try {
    libsumo::Simulation::loadState(prepared.file.string());
  } catch (const std::exception& e) {
    fail(file.string(), "SUMO could not load the state: {}", e.what());
  }
  int put_back = 0;
  for (const auto& t : prepared.teleporting) {
    try {
      std::vector<std::string> rest = t.rest_edges;
      if (rest.empty()) {
        const auto route = libsumo::Route::getEdges(t.route_id);
        if (t.route_index >= route.size()) continue;
        rest.assign(route.begin() + static_cast<std::ptrdiff_t>(t.route_index), route.end());
      }
      const std::string route_id = "cadereau_resumed_" + t.id;
      libsumo::Route::add(route_id, rest);
      libsumo::Vehicle::add(t.id, route_id, t.type_id, "now", "best", "base", "max");
      libsumo::Vehicle::setSpeedFactor(t.id, t.speed_factor);
      ++put_back;
    } catch (const libsumo::TraCIException& e) {
      fail(file.string(), "vehicle '{}', teleporting when the state was saved, cannot be put back: {}", t.id, e.what());
    }
  }
  return put_back;
}

void TrafficModel::remove_vehicle(const std::string& vehicle_id) {
  try {
    libsumo::Vehicle::remove(vehicle_id, libsumo::REMOVE_VAPORIZED);
  } catch (const libsumo::TraCIException& e) {
    fail("vehicle " + vehicle_id, "cannot take it out of the traffic: {}", e.what());
  }
}

std::vector<AccessPoint> emergency_origins(const std::vector<twin::Asset>& assets) {
  std::vector<AccessPoint> out;
  for (const auto& a : assets)
    if (a.type == twin::AssetType::fire_station || a.type == twin::AssetType::hospital) out.push_back({a.id, a.location});
  return out;
}

std::vector<AccessPoint> zone_centroids(const std::vector<twin::PopulationZone>& zones) {
  std::vector<AccessPoint> out;
  for (const auto& z : zones) out.push_back({z.id, z.area.centroid()});
  return out;
}

int TrafficModel::reroute_around_closures() {
  std::vector<std::string> edges;
  edges.swap(newly_closed_);
  return reroute_vehicles_using(edges);
}

void TrafficModel::reroute_departed() {
  if (libsumo::Simulation::getDepartedNumber() == 0) return;
  for (const std::string& v : libsumo::Simulation::getDepartedIDList()) {
    const std::vector<std::string> route = libsumo::Vehicle::getRoute(v);
    if (route.size() < 2 || std::none_of(route.begin() + 1, route.end(), [&](const std::string& e) {
          return std::binary_search(closed_edges_.begin(), closed_edges_.end(), e);
        }))
      continue;
    try {
      libsumo::Vehicle::rerouteTraveltime(v, true);
    } catch (const libsumo::TraCIException&) {
      // No other way: the vehicle drives up to the closure and waits, as a driver would.
    }
  }
}

int TrafficModel::reroute_vehicles_using(const std::vector<std::string>& edge_ids) {
  if (edge_ids.empty()) return 0;
  std::vector<std::string> avoid(edge_ids);
  std::sort(avoid.begin(), avoid.end());
  int rerouted = 0;
  try {
    for (const std::string& v : libsumo::Vehicle::getIDList()) {
      const std::vector<std::string> route = libsumo::Vehicle::getRoute(v);
      const int at = std::max(0, libsumo::Vehicle::getRouteIndex(v));
      bool uses = false;
      // The edge it is on now stays: a vehicle stalled there is not rerouted.
      for (std::size_t k = static_cast<std::size_t>(at) + 1; k < route.size() && !uses; ++k)
        uses = std::binary_search(avoid.begin(), avoid.end(), route[k]);
      if (!uses) continue;
      libsumo::Vehicle::rerouteTraveltime(v, true);
      ++rerouted;
    }
  } catch (const libsumo::TraCIException& e) {
    fail("reroute", "at {} s: {}", time_s(), e.what());
  }
  return rerouted;
}

}  // namespace cadereau::sim::traffic
