#include "forecast_document.h"

#include "cadereau/sim/impact/impact_log.h"
#include "cadereau/twin/geo.h"

#include <set>
#include <unordered_map>

namespace cadereau::server {
namespace {

namespace kind = sim::impact::kind;

// Gauge levels every minute of the forecast: enough to see a rise and its
// crossing times, small enough to go on the stream.
constexpr double kGaugeEvery_s = 60.0;

}  // namespace

bool forecast_impact_kind(std::string_view k) { return !forecast_impact_group(k).empty(); }

std::string_view forecast_impact_group(std::string_view k) {
  if (k == kind::road_closed) return "roads";
  if (k == kind::asset_on_backup || k == kind::asset_failed || k == kind::asset_cut_off) return "assets";
  if (k == kind::zone_flooded || k == kind::zone_without_power || k == kind::zone_unreachable ||
      k == kind::zone_access_degraded)
    return "zones";
  return {};
}

nlohmann::json forecast_document(const scenarios::Scenario& scenario, const sim::engine::Engine& engine, double issued_s) {
  using json = nlohmann::json;
  const auto& territory = engine.territory();
  std::unordered_map<std::string, std::string> names;
  for (const auto& a : territory.assets) names[a.id] = a.name;
  for (const auto& z : territory.zones) names[z.id] = z.name;
  const twin::CrsTransform to_geo(territory.crs, twin::Crs::wgs84());
  const auto& log = engine.log();

  json impacts = json::array();
  std::set<std::pair<std::string, std::string>> seen;
  std::set<std::string> roads, assets_failed, assets_cut_off, zones;
  double people_at_risk = 0.0;
  for (const auto& i : log.all()) {
    if (i.t_s <= issued_s) continue;
    if (i.kind == kind::people_at_risk) people_at_risk += i.people;
    if (!forecast_impact_kind(i.kind) || !seen.emplace(i.kind, i.target).second) continue;
    if (i.kind == kind::road_closed) roads.insert(i.target);
    if (i.kind == kind::asset_failed) assets_failed.insert(i.target);
    if (i.kind == kind::asset_cut_off) assets_cut_off.insert(i.target);
    if (forecast_impact_group(i.kind) == "zones") zones.insert(i.target);
    json chain = json::array();
    for (const auto* c : log.chain(i.id))
      chain.push_back({{"t_s", c->t_s}, {"clock", scenarios::clock_of(scenario, c->t_s)}, {"kind", c->kind},
                       {"target", c->target}, {"detail", c->detail}});
    const auto geo = to_geo.forward({i.place.x_m, i.place.y_m});
    const auto name = names.find(i.target);
    impacts.push_back({{"kind", i.kind},
                       {"target", i.target},
                       {"name", name != names.end() ? name->second : std::string()},
                       {"t_s", i.t_s},
                       {"clock", scenarios::clock_of(scenario, i.t_s)},
                       {"detail", i.detail},
                       {"people", i.people},
                       {"lon", geo.x},
                       {"lat", geo.y},
                       {"chain", std::move(chain)}});
  }

  json gauges = json::array();
  for (const auto& g : engine.gauges()) {
    json t = json::array(), depth = json::array();
    double next_s = issued_s;
    for (std::size_t k = 0; k < g.t_s.size(); ++k) {
      if (g.t_s[k] < next_s - 1e-6 && k + 1 < g.t_s.size()) continue;
      t.push_back(g.t_s[k]);
      depth.push_back(std::max(0.0, g.wse_m[k] - g.bed_m));
      next_s = g.t_s[k] + kGaugeEvery_s;
    }
    gauges.push_back({{"id", g.id}, {"name", g.name}, {"bed_m", g.bed_m}, {"t_s", std::move(t)}, {"depth_m", std::move(depth)}});
  }

  return {{"issued_s", issued_s},
          {"until_s", engine.time_s()},
          {"horizon_s", engine.time_s() - issued_s},
          {"start", scenario.start},
          {"assumption",
           "the rain at each gauge and the flow at each upstream gauge keep their latest values for the whole "
           "horizon (persistence); later readings come in with the next forecast"},
          {"impacts", std::move(impacts)},
          {"gauges", std::move(gauges)},
          {"figures",
           {{"roads_closed", roads.size()},
            {"assets_failed", assets_failed.size()},
            {"assets_cut_off", assets_cut_off.size()},
            {"zones_hit", zones.size()},
            {"people_at_risk", people_at_risk}}},
          {"wall_s", engine.timings().total_s}};
}

}  // namespace cadereau::server
