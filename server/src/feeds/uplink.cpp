#include "uplink.h"

#include "../service/crypto.h"

#include "cadereau/twin/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <regex>

namespace cadereau::server::feeds {

namespace {

bool is_eui(const std::string& text) {
  return text.size() == 16 && text.find_first_not_of("0123456789ABCDEF") == std::string::npos;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<double> rfc3339_epoch_s(std::string_view text) {
  static const std::regex pattern(
      R"((\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2})))");
  std::cmatch m;
  if (!std::regex_match(text.begin(), text.end(), m, pattern)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1].str()) - 1900;
  tm.tm_mon = std::stoi(m[2].str()) - 1;
  tm.tm_mday = std::stoi(m[3].str());
  tm.tm_hour = std::stoi(m[4].str());
  tm.tm_min = std::stoi(m[5].str());
  tm.tm_sec = std::stoi(m[6].str());
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  const std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  double s = static_cast<double>(t);
  if (m[7].matched) s += std::stod("0" + m[7].str());
  if (m[9].matched) {
    const double offset = std::stoi(m[10].str()) * 3600.0 + std::stoi(m[11].str()) * 60.0;
    s += m[9].str() == "+" ? -offset : offset;
  }
  return s;
}

Uplink parse_uplink(std::string_view topic, std::string_view payload) {
  const std::string where = "uplink on " + std::string(topic.substr(0, 200));
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object()) fail(where, "is not a JSON object");
  Uplink u;
  u.digest = service::sha256_hex(payload);
  if (!j.contains("deduplicationId") || !j["deduplicationId"].is_string() || j["deduplicationId"].get<std::string>().empty())
    fail(where, "has no deduplicationId");
  u.deduplication_id = j["deduplicationId"].get<std::string>().substr(0, 128);
  const auto info = j.find("deviceInfo");
  if (info == j.end() || !info->is_object() || !info->contains("devEui") || !(*info)["devEui"].is_string())
    fail(where, "has no deviceInfo.devEui");
  u.dev_eui = upper((*info)["devEui"].get<std::string>());
  if (!is_eui(u.dev_eui)) fail(where, "devEui '{}' is not 16 hexadecimal digits", u.dev_eui.substr(0, 40));
  // The topic names the device too: application/{id}/device/{devEui}/event/up.
  static const std::regex topic_pattern(R"(application/[^/]+/device/([0-9A-Fa-f]{16})/event/up)");
  std::cmatch m;
  if (std::regex_match(topic.begin(), topic.end(), m, topic_pattern) && upper(m[1].str()) != u.dev_eui)
    fail(where, "names device {} but its payload {}", upper(m[1].str()), u.dev_eui);
  if (!j.contains("time") || !j["time"].is_string()) fail(where, "has no time");
  const auto t = rfc3339_epoch_s(j["time"].get<std::string>());
  if (!t) fail(where, "time '{}' is not RFC 3339 (2026-12-01T04:40:00Z)", j["time"].get<std::string>().substr(0, 40));
  u.time_epoch_s = *t;
  const auto object = j.find("object");
  if (object == j.end() || !object->is_object())
    fail(where, "has no decoded object (the device profile needs a codec that gives water_level_m, rain_mm or vehicles)");
  const auto reading = [&](const char* key) -> std::optional<double> {
    const auto v = object->find(key);
    if (v == object->end()) return std::nullopt;
    if (!v->is_number()) fail(where, "object.{} is not a number", key);
    const double x = v->get<double>();
    if (!std::isfinite(x)) fail(where, "object.{} is not finite", key);
    return x;
  };
  u.water_level_m = reading("water_level_m");
  u.rain_mm = reading("rain_mm");
  u.vehicles = reading("vehicles");
  u.interval_s = reading("interval_s");
  if (!u.water_level_m && !u.rain_mm && !u.vehicles) fail(where, "object holds no reading (water_level_m, rain_mm or vehicles)");
  return u;
}

std::string rfc3339_utc(double epoch_s) {
  const double whole = std::floor(epoch_s);
  const auto t = static_cast<std::time_t>(whole);
  int ms = static_cast<int>(std::lround((epoch_s - whole) * 1000.0));
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (ms >= 1000) ms = 999;  // rounding must not carry into the next second
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return text;
}

std::string uplink_payload(const Uplink& u, const std::string& application_id, long frame_counter) {
  nlohmann::json object = nlohmann::json::object();
  if (u.water_level_m) object["water_level_m"] = *u.water_level_m;
  if (u.rain_mm) object["rain_mm"] = *u.rain_mm;
  if (u.vehicles) object["vehicles"] = *u.vehicles;
  if (u.interval_s) object["interval_s"] = *u.interval_s;
  std::string eui = u.dev_eui;
  for (char& c : eui) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const nlohmann::json j = {
      {"deduplicationId", u.deduplication_id},
      {"time", rfc3339_utc(u.time_epoch_s)},
      {"deviceInfo", {{"tenantName", "cadereau"}, {"applicationId", application_id}, {"devEui", eui}}},
      {"fCnt", frame_counter},
      {"fPort", 2},
      {"object", std::move(object)}};
  return j.dump();
}

}  // namespace cadereau::server::feeds
