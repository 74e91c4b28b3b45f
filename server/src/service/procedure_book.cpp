#include "procedure_book.h"

#include "data_files.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>

namespace cadereau::server::service {

using json = nlohmann::json;
using Kind = scenarios::ProcedureTrigger::Kind;

namespace {

constexpr const char* kProceduresFile = "procedures.json";
constexpr std::size_t kMaxComment = 2000;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

ProcedureBook::ProcedureBook(std::filesystem::path session_dir, std::vector<scenarios::Procedure> library,
                             const std::vector<std::string>& gauges)
    : file_(session_dir / kProceduresFile) {
  for (auto& p : library) {
    Entry e;
    e.steps.resize(p.steps.size());
    std::vector<std::string> missing;
    bool any_possible = false;
    for (const auto& t : p.triggers) {
      if (t.kind == Kind::gauge && std::find(gauges.begin(), gauges.end(), t.value) == gauges.end())
        missing.push_back(t.value);
      else
        any_possible = true;
    }
    if (!any_possible)
      e.unavailable = fmt::format("the territory has no level gauge {}", fmt::join(missing, ", "));
    e.procedure = std::move(p);
    entries_.push_back(std::move(e));
  }
  std::ifstream in(file_);
  if (!in) return;
  const json doc = json::parse(in, nullptr, false);
  if (!doc.is_object() || !doc.contains("procedures")) fail_as(ErrorCategory::internal, file_.string(), "is not a procedure book");
  try {
    for (const auto& j : doc["procedures"]) {
      const auto it = std::find_if(entries_.begin(), entries_.end(),
                                   [&](const Entry& e) { return e.procedure.id == j.at("id").get<std::string>(); });
      if (it == entries_.end()) continue;  // a procedure no longer in the library
      if (j.contains("proposed_s")) it->proposed_s = j["proposed_s"].get<double>();
      it->reason = j.value("reason", std::string());
      const auto& steps = j.at("steps");
      for (std::size_t k = 0; k < std::min(steps.size(), it->steps.size()); ++k) {
        auto& s = it->steps[k];
        s.done = steps[k].at("done").get<bool>();
        if (steps[k].contains("t_s")) s.t_s = steps[k]["t_s"].get<double>();
        s.by = steps[k].value("by", std::string());
        s.comment = steps[k].value("comment", std::string());
      }
    }
  } catch (const json::exception& e) {
    fail_as(ErrorCategory::internal, file_.string(), "is broken: {}", e.what());
  }
}

void ProcedureBook::save() const {
  json list = json::array();
  for (const auto& e : entries_) {
    json steps = json::array();
    for (const auto& s : e.steps) {
      json j = {{"done", s.done}, {"by", s.by}, {"comment", s.comment}};
      if (s.t_s) j["t_s"] = *s.t_s;
      steps.push_back(std::move(j));
    }
    json j = {{"id", e.procedure.id}, {"reason", e.reason}, {"steps", std::move(steps)}};
    if (e.proposed_s) j["proposed_s"] = *e.proposed_s;
    list.push_back(std::move(j));
  }
  write_private_file(file_, json{{"version", 1}, {"procedures", list}}.dump(1, ' ', false, json::error_handler_t::replace));
}

std::vector<std::size_t> ProcedureBook::propose(std::size_t index, double t_s, std::string reason) {
  auto& e = entries_[index];
  if (e.proposed_s || !e.unavailable.empty()) return {};
  e.proposed_s = t_s;
  e.reason = std::move(reason);
  return {index};
}

std::vector<std::size_t> ProcedureBook::on_gauges(const std::map<std::string, double>& depth_m, double t_s,
                                                  const std::string& basis) {
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < entries_.size(); ++k)
    for (const auto& t : entries_[k].procedure.triggers) {
      if (t.kind != Kind::gauge) continue;
      const auto d = depth_m.find(t.value);
      if (d == depth_m.end() || d->second < t.above_m) continue;
      const std::string what = fmt::format("water at {} passed {:.2f} m ({:.2f} m)", t.value, t.above_m, d->second);
      for (auto i : propose(k, t_s, basis.empty() ? what : fmt::format("{}: {}", basis, what)))
        out.push_back(i);
      break;
    }
  if (!out.empty()) save();
  return out;
}

std::vector<std::pair<std::string, double>> ProcedureBook::gauge_thresholds() const {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& e : entries_)
    if (e.unavailable.empty())
      for (const auto& t : e.procedure.triggers)
        if (t.kind == Kind::gauge && std::find(out.begin(), out.end(), std::make_pair(t.value, t.above_m)) == out.end())
          out.emplace_back(t.value, t.above_m);
  return out;
}

std::vector<std::size_t> ProcedureBook::on_alert(const std::string& event, double t_s) {
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < entries_.size(); ++k)
    for (const auto& t : entries_[k].procedure.triggers) {
      if (t.kind != Kind::alert || (lower(t.value) != "any" && lower(t.value) != lower(event))) continue;
      for (auto i : propose(k, t_s, fmt::format("alert '{}' sent", event))) out.push_back(i);
      break;
    }
  if (!out.empty()) save();
  return out;
}

std::vector<std::size_t> ProcedureBook::on_inject(const std::string& type, const std::string& number, double t_s) {
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < entries_.size(); ++k)
    for (const auto& t : entries_[k].procedure.triggers) {
      if (t.kind != Kind::inject_type || lower(t.value) != lower(type)) continue;
      for (auto i : propose(k, t_s, fmt::format("inject {} ({}) delivered", number, type))) out.push_back(i);
      break;
    }
  if (!out.empty()) save();
  return out;
}

std::size_t ProcedureBook::find(const std::string& id) const {
  for (std::size_t k = 0; k < entries_.size(); ++k)
    if (entries_[k].procedure.id == id) return k;
  fail_as(ErrorCategory::not_found, "procedure", "no procedure '{}'", id);
}

bool ProcedureBook::visible_to(std::size_t index, const Principal& who) const {
  const auto& e = entries_.at(index);
  if (who.role != Role::player) return true;
  return e.proposed_s && who.cell && to_string(*who.cell) == e.procedure.cell;
}

json ProcedureBook::tick(std::size_t index, int step, bool done, const std::string& comment, const Principal& who,
                         double t_s) {
  auto& e = entries_.at(index);
  const std::string where = fmt::format("procedure {}", e.procedure.id);
  const bool may = who.role == Role::admin || who.role == Role::live_operator ||
                   (who.role == Role::player && who.cell && to_string(*who.cell) == e.procedure.cell);
  if (!may)
    fail_as(ErrorCategory::forbidden, where, "its steps are ticked by the {} cell, not by {}", e.procedure.cell,
            principal_text(who));
  if (!e.proposed_s) fail_as(ErrorCategory::conflict, where, "has not been proposed yet");
  if (step < 1 || static_cast<std::size_t>(step) > e.steps.size())
    fail_as(ErrorCategory::not_found, where, "has steps 1 to {}, not {}", e.steps.size(), step);
  if (comment.size() > kMaxComment) fail("comment", "at most {} characters", kMaxComment);
  auto& s = e.steps[static_cast<std::size_t>(step - 1)];
  if (s.done == done) fail_as(ErrorCategory::conflict, where, "step {} is already {}", step, done ? "done" : "not done");
  s.done = done;
  s.t_s = t_s;
  s.by = principal_text(who);
  s.comment = comment;
  save();
  return view(index);
}

json ProcedureBook::view(std::size_t index) const {
  const auto& e = entries_.at(index);
  const auto& p = e.procedure;
  json triggers = json::array();
  for (const auto& t : p.triggers) {
    if (t.kind == Kind::gauge) triggers.push_back({{"gauge", t.value}, {"above_m", t.above_m}});
    if (t.kind == Kind::alert) triggers.push_back({{"alert", t.value}});
    if (t.kind == Kind::inject_type) triggers.push_back({{"inject_type", t.value}});
  }
  json steps = json::array();
  for (std::size_t k = 0; k < p.steps.size(); ++k) {
    const auto& s = e.steps[k];
    json j = {{"n", k + 1}, {"kind", p.steps[k].kind}, {"text", p.steps[k].text}, {"done", s.done}};
    if (s.t_s) j["t_s"] = *s.t_s, j["by"] = s.by, j["comment"] = s.comment;
    steps.push_back(std::move(j));
  }
  const bool all_done = std::all_of(e.steps.begin(), e.steps.end(), [](const StepState& s) { return s.done; });
  json j = {{"id", p.id},
            {"title", p.title},
            {"cell", p.cell},
            {"triggers", triggers},
            {"state", !e.unavailable.empty() ? "unavailable" : !e.proposed_s ? "waiting" : all_done ? "done" : "proposed"},
            {"steps", steps}};
  if (e.proposed_s) j["proposed_s"] = *e.proposed_s, j["reason"] = e.reason;
  if (!e.unavailable.empty()) j["unavailable"] = e.unavailable;
  return j;
}

}  // namespace cadereau::server::service
