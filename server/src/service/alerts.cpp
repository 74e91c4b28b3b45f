#include "alerts.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace cadereau::server::service {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxText = 4000;
constexpr std::size_t kMaxPolygonPoints = 1000;

std::string text(const json& body, const char* name, bool required, std::size_t max = kMaxText) {
  if (!body.contains(name) || body[name].is_null()) {
    if (required) fail(name, "is missing");
    return {};
  }
  if (!body[name].is_string()) fail(name, "must be text");
  std::string value = body[name].get<std::string>();
  if (required && value.empty()) fail(name, "is empty");
  if (value.size() > max) fail(name, "is longer than {} bytes", max);
  return value;
}

std::string one_of(const json& body, const char* name, std::initializer_list<const char*> values, const char* fallback) {
  std::string value = text(body, name, fallback == nullptr);
  if (value.empty() && fallback) return fallback;
  for (const char* v : values)
    if (value == v) return value;
  fail(name, "'{}' is not a CAP 1.2 value ({})", value, fmt::join(values, ", "));
}

std::string escaped(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        // XML 1.0 forbids most control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') continue;
        out += c;
    }
  }
  return out;
}

std::vector<LonLat> read_polygon(const json& area) {
  if (!area.contains("polygon") || !area["polygon"].is_array()) fail("area.polygon", "must be [[lon, lat], ...]");
  std::vector<LonLat> ring;
  for (const auto& p : area["polygon"]) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
      fail("area.polygon", "point {} is not [longitude, latitude]", ring.size() + 1);
    LonLat q{p[0].get<double>(), p[1].get<double>()};
    if (!std::isfinite(q.lon) || !std::isfinite(q.lat) || std::abs(q.lon) > 180.0 || std::abs(q.lat) > 90.0)
      fail("area.polygon", "point {} ({}, {}) is not a longitude and a latitude in degrees", ring.size() + 1, q.lon, q.lat);
    ring.push_back(q);
  }
  if (ring.size() > kMaxPolygonPoints) fail("area.polygon", "has {} points: at most {}", ring.size(), kMaxPolygonPoints);
  const auto same = [](LonLat a, LonLat b) { return a.lon == b.lon && a.lat == b.lat; };
  if (!ring.empty() && !same(ring.front(), ring.back())) ring.push_back(ring.front());
  std::vector<LonLat> distinct;
  for (std::size_t i = 0; i + 1 < ring.size(); ++i)
    if (std::none_of(distinct.begin(), distinct.end(), [&](LonLat d) { return same(d, ring[i]); })) distinct.push_back(ring[i]);
  if (distinct.size() < 3) fail("area.polygon", "needs at least three distinct points (CAP: four with the closing one)");
  double twice_area = 0.0;
  for (std::size_t i = 0; i + 1 < ring.size(); ++i) twice_area += ring[i].lon * ring[i + 1].lat - ring[i + 1].lon * ring[i].lat;
  if (std::abs(twice_area) < 1e-12) fail("area.polygon", "encloses no area (its points are on one line)");
  return ring;
}

}  // namespace

AlertRequest parse_alert(const json& body) {
  AlertRequest a;
  a.event = text(body, "event", true, 500);
  a.headline = text(body, "headline", true, 160);
  a.description = text(body, "description", false);
  a.instruction = text(body, "instruction", false);
  a.category = one_of(body, "category",
                      {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE",
                       "Other"},
                      "Met");
  a.severity = one_of(body, "severity", {"Extreme", "Severe", "Moderate", "Minor", "Unknown"}, nullptr);
  a.urgency = one_of(body, "urgency", {"Immediate", "Expected", "Future", "Past", "Unknown"}, nullptr);
  a.certainty = one_of(body, "certainty", {"Observed", "Likely", "Possible", "Unlikely", "Unknown"}, nullptr);
  a.response_type = one_of(body, "response_type",
                           {"Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None"},
                           "None");
  if (!body.contains("area") || !body["area"].is_object()) fail("area", "must be {{\"description\", \"polygon\"}}");
  a.area_description = text(body["area"], "description", true, 500);
  a.polygon = read_polygon(body["area"]);
  if (body.contains("status"))
    a.status = one_of(body, "status", {"Actual", "Exercise", "System", "Test", "Draft"}, nullptr);
  return a;
}

std::string cap_polygon(const std::vector<LonLat>& polygon) {
  std::string out;
  for (const auto& p : polygon) out += fmt::format("{}{:.6f},{:.6f}", out.empty() ? "" : " ", p.lat, p.lon);
  return out;
}

std::string cap_xml(const AlertRequest& a, const std::string& identifier, const std::string& sender,
                    const std::string& sent_iso, const std::string& status, const std::string& note) {
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n";
  const auto field = [&](const char* name, const std::string& value, int indent = 2) {
    if (!value.empty()) x += fmt::format("{:{}}<{}>{}</{}>\n", "", indent, name, escaped(value), name);
  };
  field("identifier", identifier);
  field("sender", sender);
  field("sent", sent_iso);
  field("status", status);
  field("msgType", "Alert");
  field("scope", "Public");
  field("note", note);
  x += "  <info>\n";
  field("language", "en-GB", 4);
  field("category", a.category, 4);
  field("event", a.event, 4);
  field("responseType", a.response_type, 4);
  field("urgency", a.urgency, 4);
  field("severity", a.severity, 4);
  field("certainty", a.certainty, 4);
  field("senderName", "Cadereau crisis room", 4);
  field("headline", a.headline, 4);
  field("description", a.description, 4);
  field("instruction", a.instruction, 4);
  x += "    <area>\n";
  field("areaDesc", a.area_description, 6);
  field("polygon", cap_polygon(a.polygon), 6);
  x += "    </area>\n  </info>\n</alert>\n";
  return x;
}

}  // namespace cadereau::server::service
