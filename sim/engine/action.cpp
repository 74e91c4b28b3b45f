#include "cadereau/sim/engine/action.h"

#include <array>

namespace cadereau::sim::engine {

namespace {

constexpr std::array<std::pair<Verb, const char*>, 11> kVerbs{{
    {Verb::close_road, "close_road"},
    {Verb::close_road_to_traffic, "close_road_to_traffic"},
    {Verb::reopen_road, "reopen_road"},
    {Verb::lower_bollard, "lower_bollard"},
    {Verb::raise_bollard, "raise_bollard"},
    {Verb::speed_limit, "speed_limit"},
    {Verb::restore_speed_limit, "restore_speed_limit"},
    {Verb::light_program, "light_program"},
    {Verb::light_off, "light_off"},
    {Verb::light_flashing, "light_flashing"},
    {Verb::restore_light, "restore_light"},
}};

}  // namespace

const char* to_string(Verb verb) {
  for (const auto& [v, name] : kVerbs)
    if (v == verb) return name;
  return "?";
}

std::optional<Verb> parse_verb(std::string_view name) {
  for (const auto& [v, n] : kVerbs)
    if (name == n) return v;
  return std::nullopt;
}

const std::vector<std::string>& verb_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [v, n] : kVerbs) out.emplace_back(n);
    return out;
  }();
  return names;
}

bool acts_on_light(Verb verb) {
  switch (verb) {
    case Verb::light_program:
    case Verb::light_off:
    case Verb::light_flashing:
    case Verb::restore_light:
      return true;
    default:
      return false;
  }
}

bool closes_road(Verb verb) {
  return verb == Verb::close_road || verb == Verb::close_road_to_traffic || verb == Verb::lower_bollard;
}

}  // namespace cadereau::sim::engine
