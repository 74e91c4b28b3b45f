#pragma once
// A session's population alerts: each kept as its CAP file
// (DIR/sessions/ID/alerts/N.cap) and listed in alerts.json with its state,
// author, approver and the twin's estimate of whom it reaches.
//
// Reach: the population zones whose centre lies in the alert's polygon, and
// among their people those the twin's records say are in flooded buildings
// or cut off from emergency access at the time of the alert.
//
// Not thread-safe: the session calls it under its own lock.

#include "alerts.h"
#include "roles.h"

#include "cadereau/twin/territory.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace cadereau::server::service {

class AlertBook {
 public:
  // `territory_dir`: the session's territory, read when the first alert needs it.
  AlertBook(std::filesystem::path session_dir, std::filesystem::path territory_dir);
  ~AlertBook();

  // Who the polygon reaches, from the records so far (the session's journal
  // lines, in order).
  nlohmann::json reach(const AlertRequest& alert, const std::vector<std::string>& records);
  // Keeps a new alert; returns its entry ({"id", "status", "state", ...}).
  nlohmann::json add(const AlertRequest& alert, const std::string& status, const std::string& state, const Principal& by,
                     double sim_time_s, const std::string& note, nlohmann::json reach);
  // A second operator approves an Actual alert. Throws Error: not_found,
  // conflict (not awaiting approval), forbidden (its own author).
  nlohmann::json approve(const std::string& id, const Principal& by);
  nlohmann::json list() const { return alerts_; }
  // The session's territory, read on first use (also for checking an MSEL's
  // gauges and roads). Throws Error naming the folder.
  const twin::Territory& territory();
  // The CAP XML of alert `id`. Throws Error (not_found).
  std::string cap(const std::string& id) const;

 private:
  void save() const;
  std::filesystem::path dir_;
  std::filesystem::path territory_dir_;
  std::unique_ptr<twin::Territory> territory_;
  nlohmann::json alerts_ = nlohmann::json::array();
};

}  // namespace cadereau::server::service
