#include "alert_book.h"

#include "audit_record.h"
#include "data_files.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/geo.h"
#include "cadereau/twin/geometry.h"

#include <fmt/format.h>

#include <fstream>
#include <map>

namespace cadereau::server::service {
namespace {

using json = nlohmann::json;
constexpr const char* kAlertsFile = "alerts.json";

std::string sent_now() {
  // CAP's dateTime wants an explicit offset, not "Z".
  std::string t = iso8601_utc(std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  const auto dot = t.find('.');
  if (dot != std::string::npos) t = t.substr(0, dot);
  if (!t.empty() && t.back() == 'Z') t.pop_back();
  return t + "+00:00";
}

}  // namespace

AlertBook::AlertBook(std::filesystem::path session_dir, std::filesystem::path territory_dir)
    : dir_(std::move(session_dir)), territory_dir_(std::move(territory_dir)) {
  std::ifstream in(dir_ / kAlertsFile);
  if (!in) return;
  json doc = json::parse(in, nullptr, false);
  if (!doc.is_object() || !doc.contains("alerts") || !doc["alerts"].is_array())
    fail_as(ErrorCategory::internal, (dir_ / kAlertsFile).string(), "is not an alert list");
  alerts_ = doc["alerts"];
}

AlertBook::~AlertBook() = default;

void AlertBook::save() const {
  write_private_file(dir_ / kAlertsFile, json{{"version", 1}, {"alerts", alerts_}}.dump(1, ' ', false, json::error_handler_t::replace));
}

const twin::Territory& AlertBook::territory() {
  if (!territory_) territory_ = std::make_unique<twin::Territory>(twin::Territory::load(territory_dir_));
  return *territory_;
}

json AlertBook::reach(const AlertRequest& alert, const std::vector<std::string>& records) {
  territory();
  const twin::CrsTransform to_map(twin::Crs::wgs84(), territory_->crs);
  twin::Polygon area;
  for (const auto& p : alert.polygon) {
    const auto xy = to_map.forward({p.lon, p.lat});
    area.outer.push_back({xy.x, xy.y});
  }
  area.outer.pop_back();  // Ring: closed implicitly
  // What the records say of each zone, latest first wins.
  std::map<std::string, double> flooded, cut_off;
  for (const auto& line : records) {
    const json e = json::parse(line, nullptr, false);
    const std::string kind = e.value("kind", std::string());
    const std::string zone = e.value("target", std::string());
    if (kind == "zone_flooded") flooded[zone] = e.value("people", 0.0);
    if (kind == "zone_unreachable") cut_off[zone] = e.value("people", 0.0);
    if (kind == "zone_access_restored") cut_off.erase(zone);
  }
  json zones = json::array();
  double people = 0.0, in_water = 0.0, isolated = 0.0;
  for (const auto& z : territory_->zones) {
    if (!area.contains(z.area.centroid())) continue;
    const double f = flooded.count(z.id) ? flooded[z.id] : 0.0;
    const double c = cut_off.count(z.id) ? (cut_off[z.id] > 0.0 ? cut_off[z.id] : z.population) : 0.0;
    zones.push_back({{"id", z.id}, {"name", z.name}, {"population", z.population},
                     {"people_in_flooded_buildings", f}, {"people_cut_off", c}});
    people += z.population;
    in_water += f;
    isolated += c;
  }
  return {{"people", people}, {"people_in_flooded_buildings", in_water}, {"people_cut_off", isolated}, {"zones", zones}};
}

json AlertBook::add(const AlertRequest& alert, const std::string& status, const std::string& state, const Principal& by,
                    double sim_time_s, const std::string& note, json reach) {
  const std::string id = std::to_string(alerts_.size() + 1);
  const std::string sent = sent_now();
  const std::string identifier = fmt::format("cadereau-{}-{}", dir_.filename().string(), id);
  const std::string xml = cap_xml(alert, identifier, "crisis-room@cadereau", sent, status, note);
  std::filesystem::create_directories(dir_ / "alerts");
  write_private_file(dir_ / "alerts" / (id + ".cap"), xml);
  json entry = {{"id", id},
                {"identifier", identifier},
                {"status", status},
                {"state", state},
                {"sent", sent},
                {"t_s", sim_time_s},
                {"by", principal_text(by)},
                {"event", alert.event},
                {"headline", alert.headline},
                {"severity", alert.severity},
                {"urgency", alert.urgency},
                {"certainty", alert.certainty},
                {"response_type", alert.response_type},
                {"area", {{"description", alert.area_description}, {"polygon", json::array()}}},
                {"reach", std::move(reach)}};
  for (const auto& p : alert.polygon) entry["area"]["polygon"].push_back({p.lon, p.lat});
  alerts_.push_back(entry);
  save();
  return entry;
}

json AlertBook::approve(const std::string& id, const Principal& by) {
  for (auto& a : alerts_) {
    if (a["id"] != id) continue;
    const std::string who = principal_text(by);
    if (a["state"] != "awaiting_approval") fail_as(ErrorCategory::conflict, "alert " + id, "is {}, not awaiting approval", a["state"].get<std::string>());
    if (a["by"] == who) fail_as(ErrorCategory::forbidden, "alert " + id, "needs another operator's approval than its author's");
    a["state"] = "sent";
    a["approved_by"] = who;
    save();
    return a;
  }
  fail_as(ErrorCategory::not_found, "alert", "no alert '{}'", id);
}

std::string AlertBook::cap(const std::string& id) const {
  for (const auto& a : alerts_)
    if (a["id"] == id) {
      std::ifstream in(dir_ / "alerts" / (id + ".cap"));
      if (!in) fail_as(ErrorCategory::internal, (dir_ / "alerts" / (id + ".cap")).string(), "is missing");
      return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
  fail_as(ErrorCategory::not_found, "alert", "no alert '{}'", id);
}

}  // namespace cadereau::server::service
