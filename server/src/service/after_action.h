#pragma once
// The after-action review of an exercise (HSEEP): what happened, who did
// what, when, in answer to which inject, and what it changed.
//
//   timeline     injects delivered and acknowledged, the players' actions,
//                alerts, and the consequences that matter to a crisis cell
//                (assets failed, people caught, zones cut off), in time order
//   injects      each with its delivery, acknowledgement and delay, the
//                expected response beside the actions it prompted
//   actions      each with its author, the inject it answered (when the
//                player said so, or the latest one delivered to the player's
//                cell within 15 minutes) and the records it caused
//   objectives   per MSEL objective, a draft HSEEP rating (P, S, M, U) from
//                the share of its injects answered and how fast; the director
//                may change it; an improvement-plan row for each M and U
//
// Pure: built from the session's journal, inject book and alerts.

#include "injects.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace cadereau::server::service {

struct AfterActionInputs {
  nlohmann::json session;                   // the session's describe()
  const std::vector<std::string>* events = nullptr;  // the journal, every line
  const std::vector<InjectEntry>* injects = nullptr;
  nlohmann::json alerts = nlohmann::json::array();
  std::map<std::string, std::string> ratings;  // the director's, by objective
  std::string start_iso;
};

nlohmann::json after_action_review(const AfterActionInputs& in);
// The same as a page a director hands to the cell.
std::string after_action_html(const nlohmann::json& review);

// "P", "S", "M" or "U"; throws Error (bad_input) otherwise.
std::string parse_rating(const std::string& text);

}  // namespace cadereau::server::service
