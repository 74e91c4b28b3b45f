#pragma once
// What the players' decisions changed: an exercise's figures at a time
// against those of the same scenario run to that time without them (a
// `cadereau run` the session starts as a child process). The engine is
// deterministic given its commands, so the difference is the players'.
//
// Figures at time T: people in vehicles caught by water, road edges closed,
// assets out of service (the recordings' series at T), and the distinct
// assets failed and zones cut off from emergency access or reached late
// (the records up to T).

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace cadereau::server::service {

// The figures at t_s from `recordings` (a session's, oldest first: the
// series come from the newest that reaches t_s) and `records` (JSON lines
// with kind, target, t_s, people). Throws Error naming a recording that
// cannot be read.
nlohmann::json figures_at(const std::vector<std::filesystem::path>& recordings, const std::vector<std::string>& records,
                          double t_s);
// The records of a recording as JSON lines (for a counterfactual run).
std::vector<std::string> recording_records(const std::filesystem::path& recording);

}  // namespace cadereau::server::service
