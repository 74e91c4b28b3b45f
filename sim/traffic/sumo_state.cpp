#include "sumo_state.h"

#include "cadereau/twin/error.h"

#include <pugixml.hpp>

#include <cstring>
#include <map>
#include <sstream>

namespace cadereau::sim::traffic {

namespace {

// The vehicle's index into its route: the third field of its `state`
// attribute (parameters set, departure, route offset, ...).
std::size_t route_index_of(const pugi::xml_node& vehicle, const std::string& where) {
  std::istringstream fields(vehicle.attribute("state").as_string());
  std::string parameters, departure;
  long long index = -1;
  if (!(fields >> parameters >> departure >> index) || index < 0)
    fail(where, "vehicle '{}' has no route position in its state attribute", vehicle.attribute("id").as_string());
  return static_cast<std::size_t>(index);
}

std::vector<std::string> split_spaces(const char* text) {
  std::vector<std::string> out;
  std::istringstream words(text);
  for (std::string w; words >> w;) out.push_back(std::move(w));
  return out;
}

}  // namespace

PreparedState prepare_state_for_load(const std::filesystem::path& state, const std::filesystem::path& out) {
  const std::string where = state.string();
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_file(state.c_str());
  if (!parsed) fail(where, "not a readable SUMO state: {} at byte {}", parsed.description(), parsed.offset);
  pugi::xml_node snapshot = doc.child("snapshot");
  if (!snapshot) fail(where, "not a SUMO state (no <snapshot>)");

  std::map<std::string, pugi::xml_node> vehicles;
  std::map<std::string, pugi::xml_node> routes;
  std::vector<pugi::xml_node> transfers;
  for (pugi::xml_node n : snapshot.children()) {
    if (std::strcmp(n.name(), "vehicle") == 0) vehicles.emplace(n.attribute("id").as_string(), n);
    if (std::strcmp(n.name(), "route") == 0) routes.emplace(n.attribute("id").as_string(), n);
    if (std::strcmp(n.name(), "vehicleTransfer") == 0 && !n.attribute("parking")) transfers.push_back(n);
  }
  PreparedState prepared{state, {}};
  if (transfers.empty()) return prepared;

  for (pugi::xml_node transfer : transfers) {
    const std::string id = transfer.attribute("id").as_string();
    const auto v = vehicles.find(id);
    snapshot.remove_child(transfer);
    if (v == vehicles.end()) continue;  // SUMO skips it too: the vehicle is gone
    TeleportingVehicle t;
    t.id = id;
    t.type_id = v->second.attribute("type").as_string("DEFAULT_VEHTYPE");
    t.route_id = v->second.attribute("route").as_string();
    t.route_index = route_index_of(v->second, where);
    t.speed_factor = v->second.attribute("speedFactor").as_double(1.0);
    if (const auto r = routes.find(t.route_id); r != routes.end()) {
      const auto edges = split_spaces(r->second.attribute("edges").as_string());
      if (t.route_index >= edges.size())
        fail(where, "vehicle '{}' is at edge {} of route '{}', which has {}", id, t.route_index, t.route_id, edges.size());
      t.rest_edges.assign(edges.begin() + static_cast<std::ptrdiff_t>(t.route_index), edges.end());
    }
    snapshot.remove_child(v->second);
    prepared.teleporting.push_back(std::move(t));
  }
  // The vehicles taken out no longer count as loaded and running; putting
  // them back counts them again.
  if (pugi::xml_node delay = snapshot.child("delay")) {
    const long n = static_cast<long>(prepared.teleporting.size());
    delay.attribute("number").set_value(delay.attribute("number").as_llong() - n);
    delay.attribute("begin").set_value(delay.attribute("begin").as_llong() - n);
  }
  if (!doc.save_file(out.c_str(), "    ")) fail(out.string(), "cannot write the prepared SUMO state");
  prepared.file = out;
  return prepared;
}

}  // namespace cadereau::sim::traffic
