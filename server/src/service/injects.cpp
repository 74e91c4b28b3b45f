#include "injects.h"

#include "data_files.h"

#include "cadereau/scenarios/scenario.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace cadereau::server::service {
namespace {

using json = nlohmann::json;
constexpr const char* kInjectsFile = "injects.json";

constexpr const char* kStateNames[] = {"scheduled", "on_hold", "delivered", "acknowledged", "cancelled"};

InjectState parse_state(const std::string& text) {
  for (int s = 0; s < 5; ++s)
    if (text == kStateNames[s]) return static_cast<InjectState>(s);
  fail("injects.json", "unknown inject state '{}'", text);
}

const char* trigger_name(scenarios::Inject::Trigger t) {
  switch (t) {
    case scenarios::Inject::Trigger::at_time: return "time";
    case scenarios::Inject::Trigger::manual: return "manual";
    case scenarios::Inject::Trigger::after: return "after";
    case scenarios::Inject::Trigger::on_state: return "state";
  }
  return "?";
}

json inject_json(const InjectEntry& e) {
  const auto& i = e.inject;
  json j = {{"number", i.number},   {"trigger", static_cast<int>(i.trigger)}, {"time_s", i.time_s},
            {"after", i.after},     {"delay_s", i.delay_s},                   {"when", i.when},
            {"gauge", i.gauge},     {"depth_m", i.depth_m},                   {"rising", i.rising},
            {"road", i.road},       {"road_open", i.road_open},
            {"type", i.type},       {"mode", i.mode},                         {"from", i.from},
            {"to", i.to},           {"message", i.message},                   {"expected", i.expected},
            {"objective", i.objective}, {"notes", i.notes},                   {"line", i.line},
            {"effect", i.effect.text},
            {"state", kStateNames[static_cast<int>(e.state)]},
            {"acknowledged_by", e.acknowledged_by}, {"response", e.response}};
  if (e.delivered_s) j["delivered_s"] = *e.delivered_s;
  if (e.acknowledged_s) j["acknowledged_s"] = *e.acknowledged_s;
  return j;
}

InjectEntry entry_from_json(const json& j) {
  InjectEntry e;
  auto& i = e.inject;
  i.number = j.at("number");
  i.trigger = static_cast<scenarios::Inject::Trigger>(j.at("trigger").get<int>());
  i.time_s = j.at("time_s");
  i.after = j.at("after");
  i.delay_s = j.at("delay_s");
  i.when = j.at("when");
  i.gauge = j.value("gauge", std::string());
  i.depth_m = j.value("depth_m", 0.0);
  i.rising = j.value("rising", true);
  i.road = j.value("road", std::string());
  i.road_open = j.value("road_open", true);
  i.type = j.at("type");
  i.mode = j.at("mode");
  i.from = j.at("from");
  i.to = j.at("to").get<std::vector<std::string>>();
  i.message = j.at("message");
  i.expected = j.at("expected");
  i.objective = j.at("objective");
  i.notes = j.at("notes");
  i.line = j.at("line");
  i.effect = scenarios::parse_effect(j.value("effect", std::string()), "injects.json, inject " + i.number);
  e.state = parse_state(j.at("state"));
  e.acknowledged_by = j.at("acknowledged_by");
  e.response = j.at("response");
  if (j.contains("delivered_s")) e.delivered_s = j["delivered_s"].get<double>();
  if (j.contains("acknowledged_s")) e.acknowledged_s = j["acknowledged_s"].get<double>();
  return e;
}

}  // namespace

std::string scenario_clock(const std::string& start_iso, double t_s, bool seconds) {
  const auto s = static_cast<long>(std::floor(scenarios::clock_of_iso(start_iso).value_or(0.0) + t_s));
  return seconds ? fmt::format("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                 : fmt::format("{:02}:{:02}", s / 3600, s / 60 % 60);
}

std::string_view to_string(InjectState state) { return kStateNames[static_cast<int>(state)]; }

InjectCommand parse_inject_command(std::string_view text) {
  if (text == "fire") return InjectCommand::fire;
  if (text == "hold") return InjectCommand::hold;
  if (text == "release") return InjectCommand::release;
  if (text == "cancel") return InjectCommand::cancel;
  if (text == "test") return InjectCommand::test;
  fail("command", "'{}' is not an inject command (fire, hold, release, cancel, test)", text);
}

InjectBook::InjectBook(std::filesystem::path session_dir) : file_(session_dir / kInjectsFile) {
  std::ifstream in(file_);
  if (!in) return;
  const json doc = json::parse(in, nullptr, false);
  if (!doc.is_object() || !doc.contains("injects")) fail_as(ErrorCategory::internal, file_.string(), "is not an inject book");
  try {
    for (const auto& j : doc["injects"]) entries_.push_back(entry_from_json(j));
  } catch (const json::exception& e) {
    fail_as(ErrorCategory::internal, file_.string(), "is broken: {}", e.what());
  }
}

void InjectBook::save() const {
  json list = json::array();
  for (const auto& e : entries_) list.push_back(inject_json(e));
  write_private_file(file_, json{{"version", 1}, {"injects", list}}.dump(1, ' ', false, json::error_handler_t::replace));
}

void InjectBook::load(std::vector<scenarios::Inject> injects) {
  const bool started = std::any_of(entries_.begin(), entries_.end(), [](const InjectEntry& e) { return e.delivered_s.has_value(); });
  if (started) fail_as(ErrorCategory::conflict, "msel", "injects were delivered already: the MSEL can no longer be replaced");
  entries_.clear();
  for (auto& i : injects) {
    InjectEntry e;
    e.inject = std::move(i);
    entries_.push_back(std::move(e));
  }
  save();
}

std::vector<std::size_t> InjectBook::due(double t_s, const TwinState& twin) const {
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < entries_.size(); ++k) {
    const auto& e = entries_[k];
    if (e.state != InjectState::scheduled) continue;
    const auto& i = e.inject;
    if (i.trigger == scenarios::Inject::Trigger::at_time && i.time_s <= t_s + 1e-9) out.push_back(k);
    if (i.trigger == scenarios::Inject::Trigger::after) {
      const auto& parent = entries_[find(i.after)];
      if (parent.delivered_s && *parent.delivered_s + i.delay_s <= t_s + 1e-9) out.push_back(k);
    }
    if (i.trigger == scenarios::Inject::Trigger::on_state) {
      const auto depth = twin.gauge_depth_m(i.gauge);
      const bool level = depth && (i.rising ? *depth > i.depth_m : *depth < i.depth_m);
      const bool road = i.road.empty() || twin.road_closed(i.road) != i.road_open;
      if (level && road) out.push_back(k);
    }
  }
  return out;
}

void InjectBook::deliver(std::size_t index, double t_s) {
  auto& e = entries_.at(index);
  e.state = InjectState::delivered;
  e.delivered_s = t_s;
  save();
}

void InjectBook::command(std::size_t index, InjectCommand command) {
  auto& e = entries_.at(index);
  const auto refuse = [&](const char* what) {
    fail_as(ErrorCategory::conflict, "inject " + e.inject.number, "cannot {}: it is {}", what, to_string(e.state));
  };
  switch (command) {
    case InjectCommand::fire:
      if (e.state != InjectState::scheduled && e.state != InjectState::on_hold) refuse("fire");
      return;  // the session delivers it
    case InjectCommand::hold:
      if (e.state != InjectState::scheduled) refuse("hold");
      e.state = InjectState::on_hold;
      break;
    case InjectCommand::release:
      if (e.state != InjectState::on_hold) refuse("release");
      e.state = InjectState::scheduled;
      break;
    case InjectCommand::cancel:
      if (e.state != InjectState::scheduled && e.state != InjectState::on_hold) refuse("cancel");
      e.state = InjectState::cancelled;
      break;
    case InjectCommand::test:
      return;  // nothing changes
  }
  save();
}

bool InjectBook::addressed_to(const scenarios::Inject& inject, const Principal& who) {
  if (who.role != Role::player) return true;
  if (!who.cell) return false;
  const std::string cell(to_string(*who.cell));
  return std::any_of(inject.to.begin(), inject.to.end(), [&](const std::string& c) { return c == "all" || c == cell; });
}

void InjectBook::acknowledge(std::size_t index, const Principal& player, double t_s, std::string comment) {
  auto& e = entries_.at(index);
  if (player.role != Role::player || !addressed_to(e.inject, player))
    fail_as(ErrorCategory::forbidden, "inject " + e.inject.number, "is not addressed to {}",
            player.cell ? fmt::format("the {} cell", to_string(*player.cell)) : std::string("you"));
  if (e.state == InjectState::acknowledged)
    fail_as(ErrorCategory::conflict, "inject " + e.inject.number, "was acknowledged already by {}", e.acknowledged_by);
  if (e.state != InjectState::delivered)
    fail_as(ErrorCategory::conflict, "inject " + e.inject.number, "cannot be acknowledged: it is {}", to_string(e.state));
  e.state = InjectState::acknowledged;
  e.acknowledged_s = t_s;
  e.acknowledged_by = principal_text(player);
  e.response = std::move(comment);
  save();
}

std::size_t InjectBook::find(const std::string& id) const {
  for (std::size_t k = 0; k < entries_.size(); ++k)
    if (entries_[k].inject.number == id) return k;
  fail_as(ErrorCategory::not_found, "inject", "no inject '{}'", id);
}

json InjectBook::view(std::size_t index, const Principal& who, const std::string& start_iso) const {
  const auto& e = entries_.at(index);
  const auto& i = e.inject;
  json j = {{"id", i.number},  {"number", i.number}, {"type", i.type},       {"mode", i.mode},
            {"from", i.from},  {"to", i.to},         {"message", i.message}, {"state", std::string(to_string(e.state))}};
  if (e.delivered_s) {
    j["delivered_s"] = *e.delivered_s;
    j["delivered"] = scenario_clock(start_iso, *e.delivered_s);
  }
  if (e.acknowledged_s) {
    j["acknowledged_s"] = *e.acknowledged_s;
    j["acknowledged_by"] = e.acknowledged_by;
    j["response"] = e.response;
  }
  if (who.role == Role::player) return j;
  j["trigger"] = trigger_name(i.trigger);
  j["when"] = i.when;
  if (i.trigger == scenarios::Inject::Trigger::at_time) {
    j["time_s"] = i.time_s;
    j["clock"] = scenario_clock(start_iso, i.time_s);
  }
  if (i.trigger == scenarios::Inject::Trigger::after) {
    j["after"] = i.after;
    j["delay_s"] = i.delay_s;
  }
  j["expected"] = i.expected;
  j["objective"] = i.objective;
  j["notes"] = i.notes;
  if (!i.effect.text.empty()) j["effect"] = i.effect.text;  // players never see that a reading is false
  return j;
}

std::string InjectBook::csv(const std::string& start_iso) const {
  std::vector<scenarios::Inject> injects;
  std::vector<scenarios::InjectOutcome> outcomes;
  for (const auto& e : entries_) {
    injects.push_back(e.inject);
    outcomes.push_back({std::string(to_string(e.state)), e.delivered_s ? scenario_clock(start_iso, *e.delivered_s) : "",
                        e.acknowledged_s ? scenario_clock(start_iso, *e.acknowledged_s) + " " + e.acknowledged_by : "",
                        e.response});
  }
  return scenarios::msel_csv(injects, &outcomes);
}

}  // namespace cadereau::server::service
