#pragma once
// The story of a crisis as a list of records, each with the ids of its causes:
// hazards (an inflow, rain), the water they bring onto a road or an asset,
// the actions of operators, and the consequences (a road closed, an asset
// failed, a zone cut off). Any record can be explained as the chain of its
// causes back to the hazard:
//   school-gazelle cut off at 0:42 <- road E12 closed at 0:31
//     <- 0.42 m of water on E12 at 0:31 <- inflow cadereau d'Uzès 180 m3/s

#include "cadereau/twin/geometry.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cadereau::sim::impact {

// Kinds of records. Hazards and actions start chains; a correction of the
// water to a gauge (flood_nudged) and of the traffic to a counter
// (traffic_followed) stand alone; the rest are consequences.
namespace kind {
inline constexpr const char* inflow = "inflow";              // a stream brings water in (hazard)
inline constexpr const char* rain = "rain";                  // rain on a zone of the territory (hazard)
inline constexpr const char* forcing_changed = "forcing_changed";  // an inject changed a stream's flow or the rain
inline constexpr const char* flood_nudged = "flood_nudged";  // a level gauge's reading corrected the water around it
inline constexpr const char* traffic_followed = "traffic_followed";  // a traffic counter's reading set its edge's flow
inline constexpr const char* water = "water";                // water above a threshold at a road or an asset
inline constexpr const char* water_receded = "water_receded";
inline constexpr const char* action = "action";              // an operator's or the scenario's act
inline constexpr const char* road_closed = "road_closed";
inline constexpr const char* road_reopened = "road_reopened";
inline constexpr const char* asset_on_backup = "asset_on_backup";  // a supplier failed, backup running
inline constexpr const char* asset_failed = "asset_failed";
inline constexpr const char* asset_recovered = "asset_recovered";
inline constexpr const char* asset_cut_off = "asset_cut_off";      // no emergency route reaches it
inline constexpr const char* asset_reachable = "asset_reachable";
inline constexpr const char* zone_without_power = "zone_without_power";
inline constexpr const char* zone_power_restored = "zone_power_restored";
inline constexpr const char* zone_access_degraded = "zone_access_degraded";
inline constexpr const char* zone_unreachable = "zone_unreachable";
inline constexpr const char* zone_access_restored = "zone_access_restored";
inline constexpr const char* zone_flooded = "zone_flooded";        // people in flooded buildings
inline constexpr const char* people_at_risk = "people_at_risk";    // vehicles caught in deep water
inline constexpr const char* unit_dispatched = "unit_dispatched";  // an emergency unit sent (an act, like action)
inline constexpr const char* unit_arrived = "unit_arrived";        // it reached its destination: travel time
inline constexpr const char* unit_stopped = "unit_stopped";        // it will not arrive: no route, or caught by water
}  // namespace kind

struct Impact {
  std::uint64_t id = 0;  // 1, 2, ... in the order recorded
  double t_s = 0.0;      // sim time
  std::string kind;      // one of impact::kind
  std::string target;    // edge, asset, zone, inflow or vehicle id
  twin::MapPoint place;  // working CRS
  std::string detail;    // for people: "0.42 m of water > 0.30 m"
  double people = 0.0;   // people concerned, when the kind counts them
  std::vector<std::uint64_t> causes;  // ids of earlier records
};

class ImpactLog {
 public:
  // Stores the record and returns its id. Throws cadereau::Error when a cause
  // does not name an earlier record.
  std::uint64_t add(Impact impact);
  // The same from its fields; causes of 0 (none known) are left out.
  std::uint64_t add(double t_s, std::string kind, std::string target, twin::MapPoint place, std::string detail,
                    std::vector<std::uint64_t> causes, double people = 0.0);

  const Impact& at(std::uint64_t id) const;
  const std::vector<Impact>& all() const { return impacts_; }
  std::size_t size() const { return impacts_.size(); }

  // The causes of a record back to the hazards, each once, depth first
  // (the first cause's own causes before the second cause).
  std::vector<const Impact*> chain(std::uint64_t id) const;
  // "road_closed E12 at 0:31 (0.42 m of water > 0.30 m)"
  static std::string describe(const Impact& impact);

  // The whole log as JSON text, and back (a forecast worker resumes from it).
  // restore() throws cadereau::Error on text that is not a log.
  std::string save() const;
  void restore(const std::string& json);

 private:
  std::vector<Impact> impacts_;
};

// "H:MM" of a sim time in seconds.
std::string clock_text(double t_s);

}  // namespace cadereau::sim::impact
