#pragma once
// Green-wave plans computed for the planners on a session's territory: each
// one a `cadereau greenwave` run (sim/traffic/greenwave.h) started as a
// child process, since libsumo is one simulation per process and a plan
// simulates the corridor twice. A plan is kept in its session's folder,
// greenwave/N/: request.json, state.json, run.log and the planner's outputs
// (report.json, plan.add.xml, time_space_baseline.svg, time_space_plan.svg,
// or one pair of diagrams per period of the day: time_space_baseline-K.svg...).
//
// One plan runs at a time on the server: it takes a core's worth of SUMO for
// up to a minute on the demo's morning, and the sessions' engines need the
// rest. A plan left running by a server that stopped is told as interrupted.
//
// Thread-safety: every member may be called from any thread.

#include "../worker/supervisor.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::server::service {

struct GreenwaveRequest {
  std::vector<std::string> tls;  // the lights in order along one street
  double speed_kmh = 50.0;       // progression speed
  std::optional<double> cycle_s;
  std::optional<double> begin_s;  // SUMO seconds (the demo counts from midnight)
  std::optional<double> end_s;
  double budget_s = 0.0;  // the search by simulation's wall time; 0: the best starting plan
  int seeds = 1;          // simulations per plan
  std::string periods = "auto";  // "auto" (from the demand's hourly departures) or "one"
};

// {"tls": [ID, ...], "speed_kmh", "cycle_s", "begin_s", "end_s", "budget_s",
// "seeds", "periods"}. Throws Error (bad_input) naming the field: 2 to 40
// distinct light ids of SUMO's characters, a speed of 5-130 km/h, a cycle of
// 10-300 s, a window that ends after it begins, a budget of 0-1800 s, 1-5
// seeds, periods "auto" or "one".
GreenwaveRequest parse_greenwave_request(const nlohmann::json& body);

class GreenwaveJobs {
 public:
  explicit GreenwaveJobs(worker::Supervisor& supervisor) : supervisor_(supervisor) {}
  ~GreenwaveJobs();  // stop()s

  // Starts a plan of `request` on the territory in folder `territory`, kept
  // in session_dir/greenwave/N. Returns the job as job() gives it. Throws
  // Error: conflict while another plan runs (it is named), not_found for a
  // territory without a road network or demand, unavailable when the
  // process cannot start.
  nlohmann::json start(const std::filesystem::path& session_dir, const std::filesystem::path& territory,
                       const GreenwaveRequest& request, const std::string& by);
  // Every plan of a session, oldest first, without their reports:
  // {"jobs": [...], "running": N|null, "busy": whether a plan of any
  // session runs now}.
  nlohmann::json list(const std::filesystem::path& session_dir) const;
  // Plan n: {"job","state","request","by","started_at"[,"ended_at","wall_s"]
  // [,"problem"][,"progress"][,"report"],"files"}; state is running, done,
  // failed or interrupted; progress is the planner's last progress line
  // while it runs. Throws Error (not_found).
  nlohmann::json job(const std::filesystem::path& session_dir, int number) const;
  // One of plan n's outputs by name (report.json, plan.add.xml, the
  // diagrams) and its media type. Throws Error (not_found).
  std::string file(const std::filesystem::path& session_dir, int number, const std::string& name,
                   std::string* content_type) const;
  // Plan n's SUMO programs (plan.add.xml), to apply to a new session.
  // Throws Error: not_found, conflict while it is computed or when it failed.
  std::filesystem::path plan_file(const std::filesystem::path& session_dir, int number) const;
  // Ends the plan under way (server shutdown).
  void stop();

 private:
  void on_exit(std::filesystem::path dir, int status);
  // Plan n as job() gives it, without its report (the list, a plan's state).
  nlohmann::json summary(const std::filesystem::path& session_dir, int number) const;

  worker::Supervisor& supervisor_;
  mutable std::mutex mutex_;
  std::shared_ptr<worker::WorkerHandle> running_;
  std::filesystem::path running_dir_;
};

}  // namespace cadereau::server::service
