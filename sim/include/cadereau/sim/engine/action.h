#pragma once
// What people do to the city through the twin: the verbs of an action and an
// action at a time. Verbs are a closed set: text from a scenario, a command
// line or a request is parsed into a Verb where it comes in, and everything
// inside switches on the enum.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cadereau::sim::engine {

enum class Verb {
  close_road,             // closed to every vehicle
  close_road_to_traffic,  // emergency and authority vehicles still pass
  reopen_road,
  lower_bollard,          // like close_road_to_traffic, at a bollard
  raise_bollard,
  speed_limit,            // value: km/h
  restore_speed_limit,
  light_program,          // program: the light's program id
  light_off,
  light_flashing,
  restore_light,
};

// "close_road", ... as written in scenarios and requests.
const char* to_string(Verb verb);
// Nothing for a name that is not a verb.
std::optional<Verb> parse_verb(std::string_view name);
// Every verb's name, in the order above, for messages.
const std::vector<std::string>& verb_names();
// Verbs whose target is a traffic light (the others act on a road edge).
bool acts_on_light(Verb verb);
// Verbs that close a road (their target stays closed until reopened).
bool closes_road(Verb verb);

// Something done to the network at a given time: by the police, by an
// operator, by the scenario.
struct TimedAction {
  double t_s = 0.0;     // since the start of the run
  Verb verb = Verb::close_road;
  std::string target;   // edge or traffic light id
  double value = 0.0;   // speed_limit: km/h
  std::string program;  // light_program
  std::string by;       // who acts: "police", "operator:alice", "scenario"
  std::string where;    // where it was written ("scenario.yaml:12"), for errors
};

}  // namespace cadereau::sim::engine
