#include "feed_hub.h"

#include "crypto.h"

#include "../feeds/uplink.h"

#include "cadereau/twin/error.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

namespace cadereau::server::service {

using json = nlohmann::json;

namespace {

// Deduplication ids remembered: ChirpStack repeats an uplink within seconds
// or after a reconnect, far fewer than this many uplinks apart.
constexpr std::size_t kRemembered = 200000;

double wall_epoch_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

bool FeedHub::seen(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (!seen_.insert(id).second) return true;
  seen_order_.push_back(id);
  if (seen_order_.size() > kRemembered) {
    seen_.erase(seen_order_.front());
    seen_order_.pop_front();
  }
  return false;
}

void FeedHub::uplink(const std::string& topic, const std::string& payload) {
  const double received = wall_epoch_s();
  {
    std::lock_guard lock(mutex_);
    ++uplinks_;
  }
  feeds::Uplink u;
  try {
    u = feeds::parse_uplink(topic, payload);
  } catch (const Error& e) {
    std::lock_guard lock(mutex_);
    if (malformed_++ % 1000 == 0) spdlog::warn("feeds: {} (and every 1000th such after)", e.what());
    last_problem_ = e.what();
    return;
  }
  const auto sessions = sessions_.list();
  if (seen(u.deduplication_id)) {
    {
      std::lock_guard lock(mutex_);
      ++duplicates_;
    }
    for (const auto& s : sessions) s->count_duplicate(u.dev_eui);
    return;
  }
  Session::FeedReading r;
  r.source = "mqtt";
  r.device = u.dev_eui;
  r.measured_epoch_s = u.time_epoch_s;
  r.received_epoch_s = received;
  r.water_level_m = u.water_level_m;
  r.rain_mm = u.rain_mm;
  r.vehicles = u.vehicles;
  r.interval_s = u.interval_s;
  r.digest = u.digest;
  int taken = 0;
  for (const auto& s : sessions) taken += s->observe(r) ? 1 : 0;
  if (taken == 0) {
    std::lock_guard lock(mutex_);
    last_problem_ = "no live session has device " + u.dev_eui;
    if (unknown_++ % 1000 == 0) spdlog::warn("feeds: {} (and every 1000th such after)", last_problem_);
  }
}

int FeedHub::sensorthings(const std::string& datastream, const std::string& body) {
  const double received = wall_epoch_s();
  const std::string where = "Datastreams(" + datastream + ")/Observations";
  const auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) fail(where, "the body is not a JSON object");
  if (!j.contains("result") || !j["result"].is_number()) fail(where, "needs \"result\": a number in the sensor's unit");
  const double result = j["result"].get<double>();
  if (!std::isfinite(result)) fail(where, "result is not finite");
  double measured = received;
  if (j.contains("phenomenonTime")) {
    if (!j["phenomenonTime"].is_string()) fail(where, "phenomenonTime must be an RFC 3339 time");
    const auto t = feeds::rfc3339_epoch_s(j["phenomenonTime"].get<std::string>());
    if (!t) fail(where, "phenomenonTime '{}' is not RFC 3339 (2026-12-01T04:40:00Z)", j["phenomenonTime"].get<std::string>().substr(0, 40));
    measured = *t;
  }
  Session::FeedReading r;
  r.source = "sensorthings";
  r.device = datastream;
  r.measured_epoch_s = measured;
  r.received_epoch_s = received;
  r.result = result;
  r.digest = sha256_hex(body);
  int taken = 0;
  for (const auto& s : sessions_.list()) taken += s->observe(r) ? 1 : 0;
  if (taken == 0) fail_as(ErrorCategory::not_found, where, "no live session has datastream {}", datastream);
  return taken;
}

json FeedHub::counters() const {
  std::lock_guard lock(mutex_);
  return {{"uplinks", uplinks_},          {"duplicates", duplicates_},     {"malformed", malformed_},
          {"unknown_devices", unknown_},  {"last_problem", last_problem_},
          {"broker", broker_status_ ? broker_status_() : json{{"configured", false}}}};
}

}  // namespace cadereau::server::service
