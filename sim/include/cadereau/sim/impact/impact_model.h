#pragma once
// How failures spread through the territory's infrastructure and reach people.
//
// The assets and their `depends_on` links form a typed dependency graph
// (Rinaldi, Peerenboom and Kelly 2001): a substation feeds what it powers
// (physical), a telecom node serves what it connects (cyber), anything else
// is a logical dependency. When a supplier fails, its dependents run on their
// own backup (a hospital's generators, a telecom node's batteries) and fail
// when it runs out while the supplier is still down; they recover when the
// supplier does. Water above an asset's threshold puts it out of service at
// once; electrical gear stays out for a repair time after the water has gone.
// Population zones lose power with the substation nearest to them, are cut
// off when emergency vehicles can no longer reach them in time, and count
// the people in flooded buildings.
//
// The model is told facts (water at an asset, an access time) and writes what
// they cause into an ImpactLog, every record with the ids of its causes.
// It is deterministic: the same facts in the same order give the same log.

#include "cadereau/sim/impact/impact_log.h"
#include "cadereau/twin/assets.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cadereau::sim::impact {

enum class DependencyKind { physical, cyber, geographic, logical };
std::string_view to_string(DependencyKind kind);
// What depending on an asset of this type means: power and water are
// physical, telecom is cyber, the rest logical.
DependencyKind dependency_kind(twin::AssetType supplier);

struct Dependency {
  std::size_t supplier = 0;   // index into the model's assets
  std::size_t dependent = 0;
  DependencyKind kind = DependencyKind::logical;
};

enum class AssetStatus { in_service, on_backup, out_of_service };
std::string_view to_string(AssetStatus status);

struct ImpactOptions {
  // Hours electrical and telecom gear stays out after the water has left it
  // (drying, inspection, restart).
  double repair_after_flood_h = 4.0;
  // A zone's emergency access is degraded when its access time exceeds both
  // factor x its time before the crisis and that time + extra.
  double access_degraded_factor = 1.5;
  double access_degraded_extra_s = 300.0;
};

class ImpactModel {
 public:
  // Throws cadereau::Error when a dependency names an unknown asset.
  ImpactModel(std::vector<twin::Asset> assets, std::vector<twin::PopulationZone> zones, ImpactLog& log,
              ImpactOptions options = {});

  const std::vector<twin::Asset>& assets() const { return assets_; }
  const std::vector<twin::PopulationZone>& zones() const { return zones_; }
  const std::vector<Dependency>& dependencies() const { return dependencies_; }
  std::optional<std::size_t> asset_index(std::string_view id) const;
  AssetStatus status(std::size_t asset) const { return state_[asset].status; }
  bool zone_has_power(std::size_t zone) const;
  // The substation feeding a zone (the nearest one); nullopt without substations.
  std::optional<std::size_t> zone_substation(std::size_t zone) const { return zone_supply_[zone]; }

  // --- facts, in time order ---------------------------------------------------
  // Water depth at an asset at t_s; `causes` are the hazard records that
  // brought the water (the model writes a `water` record citing them when the
  // threshold is crossed).
  void observe_water(std::size_t asset, double t_s, double depth_m, const std::vector<std::uint64_t>& causes);
  // Emergency access time to an asset that needs road access (+inf: no route).
  // The first observation is its time before the crisis.
  void observe_asset_access(std::size_t asset, double t_s, double access_s, const std::vector<std::uint64_t>& causes);
  void observe_zone_access(std::size_t zone, double t_s, double access_s, const std::vector<std::uint64_t>& causes);
  // People of a zone in buildings with water inside (recorded when it grows).
  void observe_zone_flooding(std::size_t zone, double t_s, double people, const std::vector<std::uint64_t>& causes);
  // Fires what falls due up to t_s: backups running out, repairs ending.
  void advance_to(double t_s);

  double zone_access_baseline_s(std::size_t zone) const { return zone_access_[zone].baseline_s; }

  // The state of every asset and zone (statuses, backups running, repairs,
  // access baselines) as JSON text, and back, for a forecast worker. The log
  // is saved on its own. restore_state() throws cadereau::Error when the text
  // does not fit this territory's assets and zones.
  std::string save_state() const;
  void restore_state(const std::string& json);

 private:
  struct AssetState {
    AssetStatus status = AssetStatus::in_service;
    bool flooded = false;
    std::uint64_t water_record = 0;     // the last water / water_receded record
    double repair_until_s = -std::numeric_limits<double>::infinity();
    int suppliers_out = 0;
    std::uint64_t supply_cause = 0;     // the last supplier failure or recovery
    double backup_until_s = std::numeric_limits<double>::infinity();
    std::uint64_t status_record = 0;    // the record of the current status
    double baseline_access_s = std::numeric_limits<double>::quiet_NaN();
    bool cut_off = false;
  };
  struct ZoneAccess {
    double baseline_s = std::numeric_limits<double>::quiet_NaN();
    int level = 0;  // 0 normal, 1 degraded, 2 unreachable
    bool without_power = false;
    double flooded_people = 0.0;
  };
  struct Timer {
    double t_s;
    std::size_t asset;
  };

  void settle(std::size_t asset, double t_s);
  void supplier_changed(std::size_t supplier, double t_s, bool now_out, std::uint64_t record);
  void fire_due(double t_s);
  std::uint64_t record(double t_s, const char* kind, const twin::Asset& asset, std::string detail,
                       std::vector<std::uint64_t> causes, double people = 0.0);

  std::vector<twin::Asset> assets_;
  std::vector<twin::PopulationZone> zones_;
  ImpactLog& log_;
  ImpactOptions options_;
  std::vector<Dependency> dependencies_;
  std::vector<std::vector<std::size_t>> dependents_;  // supplier -> dependents
  std::vector<AssetState> state_;
  std::vector<std::optional<std::size_t>> zone_supply_;
  std::vector<twin::MapPoint> zone_centre_;
  std::vector<ZoneAccess> zone_access_;
  std::vector<Timer> timers_;  // kept small; scanned in time order
  double now_s_ = 0.0;
};

}  // namespace cadereau::sim::impact
