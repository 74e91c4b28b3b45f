#pragma once
// Guided procedures: what a cell does when something happens, step by step,
// as a Nîmes-type crisis room's flood sheets say it. A procedure is a YAML
// file (scenarios/procedures/):
//
//   id: underpass-closure
//   title: Close the underpasses and low crossings of a cadereau in town
//   cell: police                  # the cell it is proposed to
//   trigger:                      # any of these proposes it (once)
//     - gauge: lg-ales-ville      #   the water at a level gauge passes a depth
//       above_m: 1.0
//     - alert: any                #   an alert goes out (its event, or any)
//     - inject_type: incident     #   an inject of this Event Type is delivered
//   steps:                        # each one check:, act: or inform:
//     - check: Send a patrol ...
//     - act: Close the underpass ...
//     - inform: Tell the crisis cell ...

#include <filesystem>
#include <string>
#include <vector>

namespace cadereau::scenarios {

struct ProcedureTrigger {
  enum class Kind { gauge, alert, inject_type };
  Kind kind = Kind::gauge;
  std::string value;     // the gauge's id, the alert's event ("any"), the inject's Event Type
  double above_m = 0.0;  // gauge: the water depth it passes
};

struct ProcedureStep {
  std::string kind;  // check, act, inform
  std::string text;
};

struct Procedure {
  std::string id;
  std::string title;
  std::string cell;
  std::vector<ProcedureTrigger> triggers;
  std::vector<ProcedureStep> steps;
  std::string where;  // its file
};

// Reads one procedure. Throws Error "WHERE:LINE: ..." (bad_input) for a
// missing or unknown key, an unknown cell or step kind, a trigger that is
// none of the three, no step.
Procedure parse_procedure(const std::string& yaml, const std::string& where);
// The library shipped with the server (scenarios/procedures/, compiled in).
std::vector<Procedure> builtin_procedures();
// The procedures of a folder (*.yaml, by name), for a site's own. Throws
// Error naming the file for a bad one or two with one id.
std::vector<Procedure> read_procedures(const std::filesystem::path& dir);

}  // namespace cadereau::scenarios
