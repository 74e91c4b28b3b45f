// Emergency units sent by a dispatcher: a blue-light vehicle from a fire
// station or a hospital to a place, driven by SUMO on the fastest route on
// current travel times and rerouted as roads close. Each trip is three
// records at most: dispatched (an act, re-fed like an action), then arrived
// with its travel time, or stopped (no road open, caught by the water). The
// arrival names as causes the closures met on the way it would have taken
// with every road open, so a late ambulance is explained by the water or
// the orders that made it late.

#include "engine_impl.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <queue>

namespace cadereau::sim::engine {

namespace {

constexpr std::size_t kMaxUnitName = 64;

std::string minutes_text(double s) {
  const long total = std::lround(std::max(0.0, s));
  return total >= 60 ? fmt::format("{} min {:02} s", total / 60, total % 60) : fmt::format("{} s", total);
}


// The fastest way from the end of `from` to the end of `to` at each road's
// own speed, every road open (junction to junction; turn restrictions are
// not known here): the yardstick of a trip's travel time.
std::pair<double, std::vector<std::size_t>> free_flow_way(const twin::RoadNetwork& net, std::size_t from, std::size_t to) {
  const auto& edges = net.edges();
  const auto time_of = [&](std::size_t e) {
    return edges[e].speed_m_s() > 0.0 ? edges[e].length_m() / edges[e].speed_m_s() : std::numeric_limits<double>::infinity();
  };
  if (from == to) return {0.0, {from}};
  std::map<std::string, std::vector<std::size_t>> leaving;
  for (std::size_t e = 0; e < edges.size(); ++e) leaving[edges[e].from_junction].push_back(e);
  // Dijkstra over edges: the time to reach the end of each.
  std::vector<double> best(edges.size(), std::numeric_limits<double>::infinity());
  std::vector<std::size_t> previous(edges.size(), edges.size());
  using Item = std::pair<double, std::size_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
  best[from] = 0.0;
  queue.push({0.0, from});
  while (!queue.empty()) {
    const auto [t, e] = queue.top();
    queue.pop();
    if (t > best[e]) continue;
    if (e == to) break;
    for (std::size_t next : leaving[edges[e].to_junction]) {
      // No U-turn onto the same street the other way.
      if (edges[next].to_junction == edges[e].from_junction) continue;
      const double arrival = t + time_of(next);
      if (arrival < best[next]) {
        best[next] = arrival;
        previous[next] = e;
        queue.push({arrival, next});
      }
    }
  }
  if (!std::isfinite(best[to])) return {std::numeric_limits<double>::infinity(), {}};
  std::vector<std::size_t> way;
  for (std::size_t e = to; e != edges.size(); e = previous[e]) way.push_back(e);
  std::reverse(way.begin(), way.end());
  return {best[to], way};
}

}  // namespace

void Engine::check_dispatch(const Dispatch& d) const {
  const std::string where = d.where.empty() ? "dispatch of " + d.unit : d.where;
  if (!impl_->traffic) fail_as(ErrorCategory::conflict, where, "a dispatch needs the traffic model, which is off");
  if (d.unit.empty()) fail(where, "the unit has no name");
  if (d.unit.size() > kMaxUnitName) fail(where, "a unit's name has at most {} characters", kMaxUnitName);
  const twin::Asset* from = territory_.find_asset(d.from);
  if (!from) fail_as(ErrorCategory::not_found, where, "no asset '{}' in the territory to leave from", d.from);
  if (from->type != twin::AssetType::fire_station && from->type != twin::AssetType::hospital)
    fail(where, "'{}' is a {}: units leave from a fire station or a hospital", d.from, twin::to_string(from->type));
  if (d.to.empty()) {
    if (!d.to_point) fail(where, "no destination: an asset, a road edge or a point");
    if (!std::isfinite(d.to_point->x_m) || !std::isfinite(d.to_point->y_m))
      fail(where, "the destination ({}, {}) is not a finite point", d.to_point->x_m, d.to_point->y_m);
    const twin::Box box = flood_->grid().extent();
    if (d.to_point->x_m < box.x_min_m || d.to_point->x_m > box.x_max_m || d.to_point->y_m < box.y_min_m ||
        d.to_point->y_m > box.y_max_m)
      fail(where, "the destination ({:.0f}, {:.0f}) is outside the territory", d.to_point->x_m, d.to_point->y_m);
  } else if (!territory_.find_asset(d.to) && !territory_.network->find_edge(d.to)) {
    fail_as(ErrorCategory::not_found, where, "no asset nor road edge '{}' to go to", d.to);
  }
}

void Engine::dispatch_unit(const Dispatch& d) {
  auto& im = *impl_;
  auto& tm = *im.traffic;
  const auto& net = *territory_.network;
  const twin::Asset& from = *territory_.find_asset(d.from);
  Impl::UnitTrip trip;
  trip.unit = d.unit;
  trip.vehicle = fmt::format("cadereau_unit_{}", ++im.units_sent);
  trip.from = d.from;
  trip.depart_s = time_s_;
  trip.from_edge = tm.nearest_edge(from.location, "emergency");
  std::string to_name;
  if (const twin::Asset* a = d.to.empty() ? nullptr : territory_.find_asset(d.to)) {
    trip.to = d.to;
    trip.to_place = a->location;
    trip.to_edge = tm.nearest_edge(a->location, "emergency");
    to_name = a->name.empty() ? a->id : a->name;
  } else if (!d.to.empty()) {
    trip.to = trip.to_edge = d.to;
    const auto& shape = net.find_edge(d.to)->shape;
    trip.to_place = shape.empty() ? twin::MapPoint{} : shape.back();
    to_name = net.find_edge(d.to)->name.empty() ? "road " + d.to : net.find_edge(d.to)->name;
  } else {
    trip.to = fmt::format("{:.1f},{:.1f}", d.to_point->x_m, d.to_point->y_m);
    trip.to_place = *d.to_point;
    trip.to_edge = tm.nearest_edge(*d.to_point, "emergency");
    to_name = trip.to_edge.empty() ? trip.to : "road " + trip.to_edge;
  }
  const std::string from_name = from.name.empty() ? from.id : from.name;
  const auto from_index = net.edge_index(trip.from_edge);
  const auto to_index = net.edge_index(trip.to_edge);
  if (from_index && to_index) {
    auto [t, way] = free_flow_way(net, *from_index, *to_index);
    trip.free_flow_s = t;
    trip.free_flow_edges = std::move(way);
  }
  // The closures already on the way it would take with every road open.
  for (std::size_t e : trip.free_flow_edges)
    if ((im.edges[e].closed_by_water || im.edges[e].closed_by_action) && im.edges[e].closure_record)
      trip.closures.push_back(im.edges[e].closure_record);

  std::optional<traffic::Route> route;
  if (!trip.from_edge.empty() && !trip.to_edge.empty()) route = tm.route(trip.from_edge, trip.to_edge, "emergency");
  const std::string by = d.by.empty() ? "" : ", by " + d.by;
  const std::string free_flow =
      std::isfinite(trip.free_flow_s) && !trip.free_flow_edges.empty() ? fmt::format(" ({} with every road open and empty)", minutes_text(trip.free_flow_s)) : "";
  const std::string detail =
      route ? fmt::format("{} from {} to {}, {} on current traffic{}{}", d.unit, from_name, to_name,
                          minutes_text(route->travel_time_s), free_flow, by)
            : fmt::format("{} from {} to {}{}", d.unit, from_name, to_name, by);
  trip.dispatch_record = log_.add(time_s_, impact::kind::unit_dispatched, d.unit, from.location, detail, {});
  nlohmann::json j = nlohmann::json::parse(command_json(d));
  j["taken_s"] = time_s_;
  im.command_of_record[trip.dispatch_record] = j.dump();

  const auto stop = [&](const std::string& why) {
    std::vector<std::uint64_t> causes{trip.dispatch_record};
    causes.insert(causes.end(), trip.closures.begin(), trip.closures.end());
    log_.add(time_s_, impact::kind::unit_stopped, d.unit, from.location, fmt::format("{}: {}", d.unit, why), causes);
    std::lock_guard lock(im.pending_mutex);
    std::erase(im.unit_names, d.unit);
  };
  if (trip.from_edge.empty()) return stop(fmt::format("no road near {} takes an emergency vehicle", from_name));
  if (trip.to_edge.empty()) return stop(fmt::format("no road near {} takes an emergency vehicle", to_name));
  if (!route) return stop(fmt::format("no road open from {} to {}", from_name, to_name));
  try {
    tm.dispatch_emergency(trip.vehicle, trip.from_edge, trip.to_edge);
  } catch (const Error& e) {
    return stop(e.what());
  }
  trip.sumo_depart_s = tm.emergency_trips().back().depart_s;
  im.units.push_back(std::move(trip));
}

void Engine::follow_units(double t_s) {
  auto& im = *impl_;
  if (im.units.empty()) return;
  const auto& trips = im.traffic->emergency_trips();
  for (auto it = im.units.begin(); it != im.units.end();) {
    auto& u = *it;
    for (std::size_t e : u.free_flow_edges)
      if ((im.edges[e].closed_by_water || im.edges[e].closed_by_action) && im.edges[e].closure_record &&
          std::find(u.closures.begin(), u.closures.end(), im.edges[e].closure_record) == u.closures.end())
        u.closures.push_back(im.edges[e].closure_record);
    const auto trip = std::find_if(trips.begin(), trips.end(),
                                   [&](const traffic::EmergencyTrip& x) { return x.vehicle_id == u.vehicle; });
    if (trip == trips.end() || !trip->arrival_s) {
      ++it;
      continue;
    }
    const double travel_s = *trip->arrival_s - u.sumo_depart_s;
    std::string detail = fmt::format("{} reached {} in {}", u.unit, u.to, minutes_text(travel_s));
    if (const twin::Asset* a = territory_.find_asset(u.to)) detail = fmt::format("{} reached {} in {}", u.unit, a->name.empty() ? a->id : a->name, minutes_text(travel_s));
    if (std::isfinite(u.free_flow_s) && !u.free_flow_edges.empty())
      detail += fmt::format(", {} with every road open and empty", minutes_text(u.free_flow_s));
    std::vector<std::uint64_t> causes{u.dispatch_record};
    causes.insert(causes.end(), u.closures.begin(), u.closures.end());
    log_.add(t_s, impact::kind::unit_arrived, u.unit, u.to_place, detail, causes);
    {
      std::lock_guard lock(im.pending_mutex);
      std::erase(im.unit_names, u.unit);
    }
    it = im.units.erase(it);
  }
}

bool Engine::unit_caught(const std::string& vehicle, const std::string& edge, twin::MapPoint place, std::uint64_t closure) {
  auto& im = *impl_;
  const auto it = std::find_if(im.units.begin(), im.units.end(), [&](const Impl::UnitTrip& u) { return u.vehicle == vehicle; });
  if (it == im.units.end()) return false;
  log_.add(time_s_, impact::kind::unit_stopped, it->unit, place,
           fmt::format("{} caught by the water on road {} after {}", it->unit, edge, minutes_text(time_s_ - it->depart_s)),
           {it->dispatch_record, closure});
  {
    std::lock_guard lock(im.pending_mutex);
    std::erase(im.unit_names, it->unit);
  }
  im.units.erase(it);
  return true;
}

}  // namespace cadereau::sim::engine
