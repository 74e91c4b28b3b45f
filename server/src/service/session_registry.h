#pragma once
// The server's sessions (DATA/sessions/ID/): made from an API request,
// found again in DATA when the server starts, each with its worker.
//
// Scenarios are named (DATA/scenarios/NAME.yaml, or "flash-flood-1988",
// the flagship shipped with Cadereau) or uploaded as YAML. Territories are
// folders of DATA/territories; "demo" is the embedded demo territory, made
// there when first needed. A scenario may name no other place: an uploaded
// file never reaches outside DATA.

#include "session.h"

#include "../worker/supervisor.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::server::service {

inline constexpr const char* kFlagshipScenarioName = "flash-flood-1988";

class SessionRegistry {
 public:
  SessionRegistry(std::filesystem::path data_dir, worker::Supervisor& supervisor);
  ~SessionRegistry();

  // Finds the sessions kept in DATA and opens them (workers started; a
  // running session comes back paused). A session whose folder is broken
  // is left out with an error in the log.
  void load();
  // The territory "demo" in DATA/territories, made if it is not there yet.
  std::filesystem::path demo_territory();

  // A session from a POST /api/v1/sessions body. Throws Error: bad_input (a
  // bad mode, scenario or territory, with the YAML's line), not_found (an
  // unknown scenario name or replayed session).
  // `light_plan`: a green-wave plan's programs (plan.add.xml) the session's
  // traffic runs from its start; kept in its folder and named by its
  // scenario's light_plans. A scenario given by name or text may name no
  // light plan itself (no file outside DATA).
  std::shared_ptr<Session> create(const nlohmann::json& request, SessionMode mode, const Principal& by,
                                  const std::optional<std::filesystem::path>& light_plan = std::nullopt);
  // Throws Error (not_found).
  std::shared_ptr<Session> find(const std::string& id) const;
  std::vector<std::shared_ptr<Session>> list() const;

  // Every 200 ms; the clock goes out every fifth.
  void tick();
  // Stops every worker and saves every clock (shutdown).
  void close_all();
  // Waits until every worker has exited, at most `limit`; true when they have.
  bool wait_for_workers(std::chrono::milliseconds limit);

 private:
  std::shared_ptr<Session> open_session(const std::filesystem::path& dir, nlohmann::json record);
  nlohmann::json scenario_record(const nlohmann::json& request, SessionMode mode, const std::filesystem::path& dir,
                                 const std::optional<std::filesystem::path>& light_plan);
  std::filesystem::path territory_folder(const std::string& name, const std::string& where);

  std::filesystem::path data_dir_;
  worker::Supervisor& supervisor_;
  mutable std::mutex mutex_;
  std::mutex demo_mutex_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
  unsigned ticks_ = 0;
};

}  // namespace cadereau::server::service
