#include "cadereau/sim/impact/impact_model.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace cadereau::sim::impact {

namespace {

using twin::AssetType;

// Gear that stays out for a repair time after the water has gone.
bool electrical(AssetType type) {
  return type == AssetType::substation || type == AssetType::telecom_node || type == AssetType::pumping_station ||
         type == AssetType::water_treatment || type == AssetType::traffic_signal;
}

// Water goes down below this share of the threshold before an asset counts as
// dry again, so a level hovering at the threshold does not flap.
constexpr double kRecedeShare = 0.9;

std::string minutes_text(double s) {
  if (!std::isfinite(s)) return "no route";
  return fmt::format("{:.0f} min", s / 60.0);
}

}  // namespace

std::string_view to_string(DependencyKind kind) {
  switch (kind) {
    case DependencyKind::physical: return "physical";
    case DependencyKind::cyber: return "cyber";
    case DependencyKind::geographic: return "geographic";
    case DependencyKind::logical: return "logical";
  }
  return "logical";
}

DependencyKind dependency_kind(AssetType supplier) {
  switch (supplier) {
    case AssetType::substation:
    case AssetType::pumping_station:
    case AssetType::water_treatment: return DependencyKind::physical;
    case AssetType::telecom_node: return DependencyKind::cyber;
    default: return DependencyKind::logical;
  }
}

std::string_view to_string(AssetStatus status) {
  switch (status) {
    case AssetStatus::in_service: return "in_service";
    case AssetStatus::on_backup: return "on_backup";
    case AssetStatus::out_of_service: return "out_of_service";
  }
  return "in_service";
}

ImpactModel::ImpactModel(std::vector<twin::Asset> assets, std::vector<twin::PopulationZone> zones, ImpactLog& log,
                         ImpactOptions options)
    : assets_(std::move(assets)), zones_(std::move(zones)), log_(log), options_(options) {
  dependents_.resize(assets_.size());
  state_.resize(assets_.size());
  for (std::size_t d = 0; d < assets_.size(); ++d)
    for (const std::string& supplier_id : assets_[d].depends_on) {
      auto s = asset_index(supplier_id);
      if (!s) fail("asset " + assets_[d].id, "depends on '{}', which is not an asset of the territory", supplier_id);
      dependencies_.push_back({*s, d, dependency_kind(assets_[*s].type)});
      dependents_[*s].push_back(d);
    }
  zone_supply_.resize(zones_.size());
  zone_access_.resize(zones_.size());
  for (std::size_t z = 0; z < zones_.size(); ++z) {
    const twin::MapPoint c = zones_[z].area.centroid();
    zone_centre_.push_back(c);
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t a = 0; a < assets_.size(); ++a) {
      if (assets_[a].type != AssetType::substation) continue;
      const double d = std::hypot(assets_[a].location.x_m - c.x_m, assets_[a].location.y_m - c.y_m);
      if (d < best) best = d, zone_supply_[z] = a;
    }
  }
}

std::optional<std::size_t> ImpactModel::asset_index(std::string_view id) const {
  for (std::size_t a = 0; a < assets_.size(); ++a)
    if (assets_[a].id == id) return a;
  return std::nullopt;
}

bool ImpactModel::zone_has_power(std::size_t zone) const { return !zone_access_[zone].without_power; }

std::uint64_t ImpactModel::record(double t_s, const char* kind, const twin::Asset& asset, std::string detail,
                                  std::vector<std::uint64_t> causes, double people) {
  return log_.add(t_s, kind, asset.id, asset.location, std::move(detail), std::move(causes), people);
}

void ImpactModel::observe_water(std::size_t a, double t_s, double depth_m, const std::vector<std::uint64_t>& causes) {
  advance_to(t_s);
  AssetState& st = state_[a];
  const twin::Asset& asset = assets_[a];
  if (!st.flooded && depth_m >= asset.flood_threshold_m) {
    st.water_record = record(t_s, kind::water, asset,
                             fmt::format("{:.2f} m of water > {:.2f} m", depth_m, asset.flood_threshold_m), causes);
    st.flooded = true;
    settle(a, t_s);
  } else if (st.flooded && depth_m < kRecedeShare * asset.flood_threshold_m) {
    st.flooded = false;
    std::string detail = fmt::format("water down to {:.2f} m", depth_m);
    if (electrical(asset.type)) {
      st.repair_until_s = t_s + options_.repair_after_flood_h * 3600.0;
      timers_.push_back({st.repair_until_s, a});
      detail += fmt::format("; back after {:.0f} h of repair", options_.repair_after_flood_h);
    }
    st.water_record = record(t_s, kind::water_receded, asset, std::move(detail), {st.water_record});
    settle(a, t_s);
  }
}

void ImpactModel::settle(std::size_t a, double t_s) {
  AssetState& st = state_[a];
  const twin::Asset& asset = assets_[a];
  const bool supply_down = st.suppliers_out > 0;
  const bool backup_spent = supply_down && t_s >= st.backup_until_s;
  const bool repairing = t_s < st.repair_until_s;
  AssetStatus desired = AssetStatus::in_service;
  if (st.flooded || repairing || backup_spent)
    desired = AssetStatus::out_of_service;
  else if (supply_down)
    desired = AssetStatus::on_backup;
  if (desired == st.status) return;

  const AssetStatus old = st.status;
  std::uint64_t id = 0;
  if (desired == AssetStatus::out_of_service) {
    if (st.flooded) {
      id = record(t_s, kind::asset_failed, asset, "flooded", {st.water_record}, asset.capacity);
    } else if (old == AssetStatus::on_backup) {
      id = record(t_s, kind::asset_failed, asset, fmt::format("backup ran out after {:g} h", asset.backup_h),
                  {st.status_record}, asset.capacity);
    } else {
      id = record(t_s, kind::asset_failed, asset, "lost its supply, no backup", {st.supply_cause}, asset.capacity);
    }
  } else if (desired == AssetStatus::on_backup) {
    id = record(t_s, kind::asset_on_backup, asset, fmt::format("a supplier failed; {:g} h of backup", asset.backup_h),
                {std::max(st.supply_cause, st.water_record)});
  } else {
    id = record(t_s, kind::asset_recovered, asset, "", {std::max(st.supply_cause, st.water_record)});
  }
  st.status = desired;
  st.status_record = id;

  const bool was_out = old == AssetStatus::out_of_service;
  const bool is_out = desired == AssetStatus::out_of_service;
  if (was_out == is_out) return;
  if (asset.type == AssetType::substation) {
    for (std::size_t z = 0; z < zones_.size(); ++z) {
      if (zone_supply_[z] != a) continue;
      zone_access_[z].without_power = is_out;
      log_.add(t_s, is_out ? kind::zone_without_power : kind::zone_power_restored, zones_[z].id, zone_centre_[z],
               fmt::format("fed by {}", asset.name), {id}, zones_[z].population);
    }
  }
  for (std::size_t d : dependents_[a]) supplier_changed(d, t_s, is_out, id);
}

void ImpactModel::supplier_changed(std::size_t d, double t_s, bool now_out, std::uint64_t cause) {
  AssetState& st = state_[d];
  st.supply_cause = cause;
  if (now_out) {
    if (++st.suppliers_out == 1) {
      st.backup_until_s = t_s + assets_[d].backup_h * 3600.0;
      if (assets_[d].backup_h > 0.0) timers_.push_back({st.backup_until_s, d});
    }
  } else if (--st.suppliers_out == 0) {
    st.backup_until_s = std::numeric_limits<double>::infinity();
  }
  settle(d, t_s);
}

void ImpactModel::advance_to(double t_s) {
  // Timers fire in time order at their own time, so a backup that runs out
  // between two observations is dated exactly.
  while (true) {
    auto due = std::min_element(timers_.begin(), timers_.end(),
                                [](const Timer& x, const Timer& y) { return x.t_s < y.t_s || (x.t_s == y.t_s && x.asset < y.asset); });
    if (due == timers_.end() || due->t_s > t_s) break;
    const Timer timer = *due;
    timers_.erase(due);
    now_s_ = std::max(now_s_, timer.t_s);
    settle(timer.asset, timer.t_s);
  }
  now_s_ = std::max(now_s_, t_s);
}

void ImpactModel::observe_asset_access(std::size_t a, double t_s, double access_s,
                                       const std::vector<std::uint64_t>& causes) {
  advance_to(t_s);
  AssetState& st = state_[a];
  const twin::Asset& asset = assets_[a];
  if (!asset.needs_road_access) return;
  if (std::isnan(st.baseline_access_s)) {
    st.baseline_access_s = access_s;
    return;
  }
  const double base = st.baseline_access_s;
  if (!std::isfinite(base)) return;  // no route before the crisis either: not a consequence
  const bool cut = !std::isfinite(access_s) ||
                   access_s > std::max(options_.access_degraded_factor * base, base + options_.access_degraded_extra_s);
  if (cut == st.cut_off) return;
  st.cut_off = cut;
  const std::string detail = fmt::format("emergency access {} -> {}", minutes_text(base), minutes_text(access_s));
  record(t_s, cut ? kind::asset_cut_off : kind::asset_reachable, asset, detail, causes, cut ? asset.capacity : 0.0);
}

void ImpactModel::observe_zone_access(std::size_t z, double t_s, double access_s,
                                      const std::vector<std::uint64_t>& causes) {
  advance_to(t_s);
  ZoneAccess& za = zone_access_[z];
  if (std::isnan(za.baseline_s)) {
    za.baseline_s = access_s;
    return;
  }
  const double base = za.baseline_s;
  if (!std::isfinite(base)) return;  // no route before the crisis either: not a consequence
  int level = 0;
  if (!std::isfinite(access_s))
    level = 2;
  else if (access_s > std::max(options_.access_degraded_factor * base, base + options_.access_degraded_extra_s))
    level = 1;
  if (level == za.level) return;
  za.level = level;
  log_.add(t_s, level == 2 ? kind::zone_unreachable : level == 1 ? kind::zone_access_degraded : kind::zone_access_restored,
           zones_[z].id, zone_centre_[z], fmt::format("emergency access {} -> {}", minutes_text(base), minutes_text(access_s)),
           causes, zones_[z].population);
}

void ImpactModel::observe_zone_flooding(std::size_t z, double t_s, double people,
                                        const std::vector<std::uint64_t>& causes) {
  advance_to(t_s);
  ZoneAccess& za = zone_access_[z];
  // A new record when the count first exceeds zero or grows by a tenth.
  if (people <= 0.0 || people < za.flooded_people * 1.1 + 1.0) return;
  za.flooded_people = people;
  log_.add(t_s, kind::zone_flooded, zones_[z].id, zone_centre_[z], fmt::format("{:.0f} people in flooded buildings", people),
           causes, people);
}

namespace {

// JSON has no infinity or NaN: they travel as null and come back as the
// default of the field they fill.
nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
double number_from(const nlohmann::json& j, double when_null) { return j.is_null() ? when_null : j.get<double>(); }

}  // namespace

std::string ImpactModel::save_state() const {
  nlohmann::json j;
  j["now_s"] = now_s_;
  j["assets"] = nlohmann::json::array();
  for (std::size_t a = 0; a < assets_.size(); ++a) {
    const AssetState& st = state_[a];
    j["assets"].push_back({{"id", assets_[a].id},
                           {"status", static_cast<int>(st.status)},
                           {"flooded", st.flooded},
                           {"water_record", st.water_record},
                           {"repair_until_s", number_or_null(st.repair_until_s)},
                           {"suppliers_out", st.suppliers_out},
                           {"supply_cause", st.supply_cause},
                           {"backup_until_s", number_or_null(st.backup_until_s)},
                           {"status_record", st.status_record},
                           {"baseline_access_s", number_or_null(st.baseline_access_s)},
                           {"baseline_known", !std::isnan(st.baseline_access_s)},
                           {"cut_off", st.cut_off}});
  }
  j["zones"] = nlohmann::json::array();
  for (std::size_t z = 0; z < zones_.size(); ++z) {
    const ZoneAccess& za = zone_access_[z];
    j["zones"].push_back({{"id", zones_[z].id},
                          {"baseline_s", number_or_null(za.baseline_s)},
                          {"baseline_known", !std::isnan(za.baseline_s)},
                          {"level", za.level},
                          {"without_power", za.without_power},
                          {"flooded_people", za.flooded_people}});
  }
  j["timers"] = nlohmann::json::array();
  for (const Timer& t : timers_) j["timers"].push_back({{"t_s", t.t_s}, {"asset", t.asset}});
  return j.dump();
}

void ImpactModel::restore_state(const std::string& text) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  try {
    const auto j = nlohmann::json::parse(text);
    const auto& assets = j.at("assets");
    const auto& zones = j.at("zones");
    if (assets.size() != assets_.size() || zones.size() != zones_.size())
      fail("impact state", "{} assets and {} zones saved, the territory has {} and {}", assets.size(), zones.size(),
           assets_.size(), zones_.size());
    std::vector<AssetState> state(assets_.size());
    for (std::size_t a = 0; a < assets_.size(); ++a) {
      const auto& s = assets[a];
      if (s.at("id").get<std::string>() != assets_[a].id)
        fail("impact state", "asset {} saved as '{}', the territory has '{}'", a, s.at("id").get<std::string>(), assets_[a].id);
      AssetState& st = state[a];
      const int status = s.at("status").get<int>();
      if (status < 0 || status > 2) fail("impact state", "asset '{}' has status {}", assets_[a].id, status);
      st.status = static_cast<AssetStatus>(status);
      st.flooded = s.at("flooded").get<bool>();
      st.water_record = s.at("water_record").get<std::uint64_t>();
      st.repair_until_s = number_from(s.at("repair_until_s"), -inf);
      st.suppliers_out = s.at("suppliers_out").get<int>();
      st.supply_cause = s.at("supply_cause").get<std::uint64_t>();
      st.backup_until_s = number_from(s.at("backup_until_s"), inf);
      st.status_record = s.at("status_record").get<std::uint64_t>();
      st.baseline_access_s = s.at("baseline_known").get<bool>() ? number_from(s.at("baseline_access_s"), inf) : nan;
      st.cut_off = s.at("cut_off").get<bool>();
    }
    std::vector<ZoneAccess> access(zones_.size());
    for (std::size_t z = 0; z < zones_.size(); ++z) {
      const auto& s = zones[z];
      if (s.at("id").get<std::string>() != zones_[z].id)
        fail("impact state", "zone {} saved as '{}', the territory has '{}'", z, s.at("id").get<std::string>(), zones_[z].id);
      access[z].baseline_s = s.at("baseline_known").get<bool>() ? number_from(s.at("baseline_s"), inf) : nan;
      access[z].level = s.at("level").get<int>();
      access[z].without_power = s.at("without_power").get<bool>();
      access[z].flooded_people = s.at("flooded_people").get<double>();
    }
    std::vector<Timer> timers;
    for (const auto& t : j.at("timers")) {
      const auto asset = t.at("asset").get<std::size_t>();
      if (asset >= assets_.size()) fail("impact state", "a timer names asset {}", asset);
      timers.push_back({t.at("t_s").get<double>(), asset});
    }
    state_ = std::move(state);
    zone_access_ = std::move(access);
    timers_ = std::move(timers);
    now_s_ = j.at("now_s").get<double>();
  } catch (const nlohmann::json::exception& e) {
    fail("impact state", "not a saved impact state: {}", e.what());
  }
}

}  // namespace cadereau::sim::impact
