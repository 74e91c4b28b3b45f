#include "record_words.h"

#include "street_closures.h"

#include <algorithm>
#include <map>

namespace cadereau::server {

namespace kind = sim::impact::kind;

std::string kind_in_words(const std::string& k) {
  static const std::map<std::string, std::string> words{
      {kind::inflow, "stream in spate"},
      {kind::rain, "heavy rain"},
      {kind::water, "water above the threshold"},
      {kind::water_receded, "water receded"},
      {kind::flood_nudged, "water corrected to the gauge"},
      {kind::traffic_followed, "traffic set to the counter"},
      {kind::action, "order"},
      {kind::road_closed, "road closed"},
      {kind::road_reopened, "road reopened"},
      {kind::asset_on_backup, "on backup power"},
      {kind::asset_failed, "out of service"},
      {kind::asset_recovered, "back in service"},
      {kind::asset_cut_off, "no emergency route"},
      {kind::asset_reachable, "emergency route back"},
      {kind::zone_without_power, "power cut"},
      {kind::zone_power_restored, "power back"},
      {kind::zone_access_degraded, "emergency access slowed"},
      {kind::zone_unreachable, "no emergency access"},
      {kind::zone_access_restored, "emergency access back"},
      {kind::zone_flooded, "homes flooded"},
      {kind::people_at_risk, "people caught in cars"},
      {kind::unit_dispatched, "unit dispatched"},
      {kind::unit_arrived, "unit arrived"},
      {kind::unit_stopped, "unit stopped"},
  };
  const auto it = words.find(k);
  return it == words.end() ? k : it->second;
}

std::string target_name(const twin::Territory& territory, const sim::impact::Impact& record) {
  if (const twin::Asset* a = territory.find_asset(record.target)) return a->name;
  for (const auto& z : territory.zones)
    if (z.id == record.target) return z.name;
  for (const auto& s : territory.sensors)
    if (s.id == record.target) return s.name;
  if (territory.network) {
    if (const twin::Edge* e = territory.network->find_edge(record.target)) return street_of(*e);
    if (territory.network->find_traffic_light(record.target)) return "lights at junction " + record.target;
  }
  return record.target;
}

std::string record_phrase(const twin::Territory& territory, const sim::impact::Impact& record) {
  const std::string name = target_name(territory, record);
  std::string text = record.kind == kind::water ? "water at " + name : kind_in_words(record.kind) + ": " + name;
  // Road records repeat the street's name in their detail.
  std::string detail = record.detail;
  if (detail.rfind(name + ", ", 0) == 0) detail = detail.substr(name.size() + 2);
  if (!detail.empty()) text += " (" + detail + ")";
  return text;
}

std::vector<const sim::impact::Impact*> story_of(const sim::impact::ImpactLog& log, std::uint64_t id) {
  std::vector<const sim::impact::Impact*> story = log.chain(id);
  story.push_back(&log.at(id));
  std::sort(story.begin(), story.end(), [](const sim::impact::Impact* a, const sim::impact::Impact* b) {
    return a->t_s != b->t_s ? a->t_s < b->t_s : a->id < b->id;
  });
  return story;
}

}  // namespace cadereau::server
