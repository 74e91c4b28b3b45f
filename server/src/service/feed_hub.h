#pragma once
// Where the live feeds come in: each uplink (ChirpStack on MQTT) or
// SensorThings observation is parsed, counted once (ChirpStack's
// deduplicationId), and given to the live sessions whose territory has its
// device. What no session takes (an unknown device, a payload that does not
// read) is counted and logged, and the feed goes on.
//
// Thread-safe: Paho's thread and the HTTP handlers call it.

#include "session_registry.h"

#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>

namespace cadereau::server::service {

class FeedHub {
 public:
  explicit FeedHub(SessionRegistry& sessions) : sessions_(sessions) {}

  // An MQTT message on the uplink topics.
  void uplink(const std::string& topic, const std::string& payload);
  // A SensorThings observation for datastream `id` ({"phenomenonTime", "result"}).
  // Returns the number of live sessions that took it. Throws Error:
  // bad_input for a body that does not read, not_found for a datastream no
  // live session has.
  int sensorthings(const std::string& datastream, const std::string& body);

  // {"uplinks", "duplicates", "malformed", "unknown_devices", "last_problem",
  // "broker": the MQTT subscription's state}.
  nlohmann::json counters() const;
  // What counters() says of the broker (set once, before any request).
  void set_broker_status(std::function<nlohmann::json()> status) { broker_status_ = std::move(status); }

 private:
  // Whether the id was seen (and remembers it).
  bool seen(const std::string& deduplication_id);
  SessionRegistry& sessions_;
  mutable std::mutex mutex_;
  std::unordered_set<std::string> seen_;
  std::deque<std::string> seen_order_;  // the oldest forgotten first
  long uplinks_ = 0, duplicates_ = 0, malformed_ = 0, unknown_ = 0;
  std::string last_problem_;
  std::function<nlohmann::json()> broker_status_;
};

}  // namespace cadereau::server::service
