#pragma once
// An exercise's injects (its MSEL) and what happened to each: the director's
// book. States: scheduled -> delivered -> acknowledged, or on_hold (not
// delivered until released) and cancelled (never delivered). Kept in the
// session's folder (injects.json), replaced atomically on every change.
//
// Not thread-safe: the session calls it under its own lock.

#include "roles.h"

#include "cadereau/scenarios/msel.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::server::service {

// "07:40:00" (or "07:40" without seconds): sim time t_s after a start of
// "1988-10-03T07:00:00", as the MSEL, its export and the review write it.
std::string scenario_clock(const std::string& start_iso, double t_s, bool seconds = true);

enum class InjectState { scheduled, on_hold, delivered, acknowledged, cancelled };
std::string_view to_string(InjectState state);

// test: shows the inject to the staff as it would be delivered, whatever its
// state, and changes nothing (a director checking an MSEL before the start).
enum class InjectCommand { fire, hold, release, cancel, test };
// "fire", "hold", "release", "cancel", "test"; throws Error (bad_input) otherwise.
InjectCommand parse_inject_command(std::string_view text);

struct InjectEntry {
  scenarios::Inject inject;
  InjectState state = InjectState::scheduled;
  std::optional<double> delivered_s;
  std::optional<double> acknowledged_s;
  std::string acknowledged_by;
  std::string response;
};

class InjectBook {
 public:
  // Reads DIR/injects.json when it is there.
  explicit InjectBook(std::filesystem::path session_dir);

  // Replaces the list. Throws Error (conflict) once an inject was delivered.
  void load(std::vector<scenarios::Inject> injects);
  bool empty() const { return entries_.empty(); }
  const std::vector<InjectEntry>& entries() const { return entries_; }

  // What state triggers look at: a gauge's water depth (nothing before the
  // engine reported it) and whether a road edge is closed now.
  struct TwinState {
    std::function<std::optional<double>(const std::string&)> gauge_depth_m;
    std::function<bool(const std::string&)> road_closed;
  };
  // The injects due at sim time t_s, in MSEL order: scheduled ones whose time
  // has come, those after an inject delivered long enough ago, and those
  // whose state of the twin is reached.
  std::vector<std::size_t> due(double t_s, const TwinState& twin) const;
  void deliver(std::size_t index, double t_s);
  // Applies a director's command. Throws Error (conflict) when the state
  // does not allow it (a delivered inject cannot be held).
  void command(std::size_t index, InjectCommand command);
  // A player acknowledges. Throws Error: forbidden when the inject is not
  // for the player's cell, conflict when it was not delivered or already
  // acknowledged.
  void acknowledge(std::size_t index, const Principal& player, double t_s, std::string comment);
  // The index of inject `id` (its Event Number). Throws Error (not_found).
  std::size_t find(const std::string& id) const;
  // Whether `who` is among those the inject is addressed to (its cells;
  // staff always).
  static bool addressed_to(const scenarios::Inject& inject, const Principal& who);

  // One inject as the API shows it to `who`: the staff see everything,
  // players their delivered injects without the expected response.
  nlohmann::json view(std::size_t index, const Principal& who, const std::string& start_iso) const;
  // The MSEL with its outcomes (scenarios::msel_csv).
  std::string csv(const std::string& start_iso) const;

 private:
  void save() const;
  std::filesystem::path file_;
  std::vector<InjectEntry> entries_;
};

}  // namespace cadereau::server::service
