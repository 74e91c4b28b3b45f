#pragma once
// A session's guided procedures (scenarios/procedures.h): which were
// proposed, to which cell, when and why, and each step ticked with its
// author, time and comment. Kept in the session's folder (procedures.json),
// replaced atomically on every change.
//
// A procedure is proposed once, the first time one of its triggers fires.
// One whose gauge trigger names a gauge the territory does not have is
// listed as unavailable, with the reason, rather than waiting forever.
//
// Not thread-safe: the session calls it under its own lock.

#include "roles.h"

#include "cadereau/scenarios/procedures.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::server::service {

class ProcedureBook {
 public:
  // Reads DIR/procedures.json when it is there. `gauges`: the territory's
  // level gauges.
  ProcedureBook(std::filesystem::path session_dir, std::vector<scenarios::Procedure> library,
                const std::vector<std::string>& gauges);

  // What fires: each returns the procedures proposed now (their indices),
  // noting the reason. A gauge fires when its depth passes above_m;
  // `basis` says what says so when it is not the twin ("a reading", "the
  // forecast issued at 07:30, at 08:12").
  std::vector<std::size_t> on_gauges(const std::map<std::string, double>& depth_m, double t_s,
                                     const std::string& basis = std::string());
  // The gauge thresholds of the procedures that can fire: (gauge, above_m).
  std::vector<std::pair<std::string, double>> gauge_thresholds() const;
  std::vector<std::size_t> on_alert(const std::string& event, double t_s);
  std::vector<std::size_t> on_inject(const std::string& type, const std::string& number, double t_s);

  const scenarios::Procedure& procedure(std::size_t index) const { return entries_.at(index).procedure; }
  std::size_t size() const { return entries_.size(); }
  // The index of procedure `id`. Throws Error (not_found).
  std::size_t find(const std::string& id) const;

  // `who` ticks (done) or unticks step n (from 1) with a comment. Throws
  // Error: not_found (no such step), conflict (not proposed yet, or already
  // in that state), forbidden (a player of another cell; the staff watch).
  nlohmann::json tick(std::size_t index, int step, bool done, const std::string& comment, const Principal& who, double t_s);

  // One procedure as `who` sees it; players only see those proposed to their cell.
  nlohmann::json view(std::size_t index) const;
  bool visible_to(std::size_t index, const Principal& who) const;

 private:
  struct StepState {
    bool done = false;
    std::optional<double> t_s;
    std::string by;
    std::string comment;
  };
  struct Entry {
    scenarios::Procedure procedure;
    std::optional<double> proposed_s;
    std::string reason;
    std::string unavailable;  // why it can never fire here
    std::vector<StepState> steps;
  };
  std::vector<std::size_t> propose(std::size_t index, double t_s, std::string reason);
  void save() const;
  std::filesystem::path file_;
  std::vector<Entry> entries_;
};

}  // namespace cadereau::server::service
