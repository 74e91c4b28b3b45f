#pragma once
// Population alerts in CAP 1.2 (OASIS Common Alerting Protocol): what the
// crisis cell sends, checked against CAP's value lists, written as XML that
// validates against the OASIS schema.
//
// Polygons come in as GeoJSON does ([longitude, latitude] pairs, WGS84) and
// leave as CAP writes them ("latitude,longitude" pairs separated by spaces,
// the first pair repeated at the end): this file is the one place that swaps
// them.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace cadereau::server::service {

struct LonLat {
  double lon = 0.0;
  double lat = 0.0;
};

struct AlertRequest {
  std::string event;        // "Flash flood"
  std::string headline;
  std::string description;
  std::string instruction;
  std::string category;     // CAP: Geo, Met, Safety, Security, Rescue, Fire, Health, Env, Transport, Infra, CBRNE, Other
  std::string severity;     // Extreme, Severe, Moderate, Minor, Unknown
  std::string urgency;      // Immediate, Expected, Future, Past, Unknown
  std::string certainty;    // Observed, Likely, Possible, Unlikely, Unknown
  std::string response_type;  // Shelter, Evacuate, Prepare, Execute, Avoid, Monitor, Assess, AllClear, None
  std::string area_description;
  std::vector<LonLat> polygon;  // closed: first == last, at least 4 points
  std::string status;       // Actual, Exercise, System, Test, Draft; empty: the session decides
};

// Reads and checks a POST /alerts body. Throws Error (bad_input) naming the
// field: a value outside CAP's list, a polygon with fewer than three distinct
// points, a coordinate out of range, a text too long. An open polygon is
// closed.
AlertRequest parse_alert(const nlohmann::json& body);

// The alert as CAP 1.2 XML. `sent_iso`: "2026-12-01T08:15:00+00:00".
std::string cap_xml(const AlertRequest& alert, const std::string& identifier, const std::string& sender,
                    const std::string& sent_iso, const std::string& status, const std::string& note);

// "lat,lon lat,lon ..." (CAP's polygon).
std::string cap_polygon(const std::vector<LonLat>& polygon);

}  // namespace cadereau::server::service
