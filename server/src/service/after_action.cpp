#include "after_action.h"

#include "../html.h"
#include "cadereau/scenarios/scenario.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace cadereau::server::service {
namespace {

using json = nlohmann::json;

// An action counts as the answer to the latest inject its cell received
// within this time, when the player did not name one.
constexpr double kPromptWindow_s = 15 * 60.0;
// The consequences a crisis cell reviews (the rest is in the recording).
const std::set<std::string> kMajor = {"asset_failed", "asset_cut_off", "zone_unreachable", "zone_flooded",
                                      "people_at_risk", "zone_without_power", "unit_arrived", "unit_stopped"};

const char* rating_words(const std::string& r) {
  if (r == "P") return "Performed without challenges";
  if (r == "S") return "Performed with some challenges";
  if (r == "M") return "Performed with major challenges";
  return "Unable to be performed";
}

std::string draft_rating(int answered, int total, double mean_delay_s) {
  if (total == 0) return "U";
  const double share = static_cast<double>(answered) / total;
  if (share >= 0.9 && mean_delay_s <= 10 * 60.0) return "P";
  if (share >= 0.6) return "S";
  if (share >= 0.3) return "M";
  return "U";
}

// An action's verb, target and the kind of the engine's record of it: a
// network verb, or a dispatch (its unit is the target).
std::string verb_of(const json& command) {
  return command.value("command", std::string()) == "dispatch" ? "dispatch_unit" : command.value("verb", std::string());
}
std::string target_of(const json& command) {
  return command.value("command", std::string()) == "dispatch" ? command.value("unit", std::string())
                                                                 : command.value("target", std::string());
}
std::string record_kind_of(const json& command) {
  return command.value("command", std::string()) == "dispatch" ? "unit_dispatched" : "action";
}

}  // namespace

std::string parse_rating(const std::string& text) {
  if (text == "P" || text == "S" || text == "M" || text == "U") return text;
  fail("rating", "'{}' is not an HSEEP rating (P, S, M or U)", text);
}

json after_action_review(const AfterActionInputs& in) {
  std::vector<json> events;
  for (const auto& line : *in.events) events.push_back(json::parse(line, nullptr, false));
  // Records and what caused them, to follow an action to its consequences.
  std::map<std::uint64_t, const json*> record;
  for (const auto& e : events)
    if (e.contains("record")) record[e["record"].get<std::uint64_t>()] = &e;

  json timeline = json::array();
  const auto at = [&](double t) { return scenario_clock(in.start_iso, t, false); };
  // Deliveries by inject, with the cells they reached.
  struct Delivery {
    double t_s;
    std::vector<std::string> to;
    std::string number;
  };
  std::vector<Delivery> deliveries;
  for (const auto& e : events) {
    const std::string kind = e.value("kind", std::string());
    const double t = e.value("t_s", 0.0);
    if (kind == "inject_delivered") {
      deliveries.push_back({t, e.value("to", std::vector<std::string>{}), e.value("inject", std::string())});
      timeline.push_back({{"t_s", t}, {"clock", at(t)}, {"what", "inject"}, {"by", e.value("from", std::string())},
                          {"text", fmt::format("Inject {} to {}: {}", e.value("inject", std::string()),
                                               fmt::join(e.value("to", std::vector<std::string>{}), ", "),
                                               e.value("message", std::string()))}});
    } else if (kind == "inject_acknowledged") {
      timeline.push_back({{"t_s", t}, {"clock", at(t)}, {"what", "acknowledgement"}, {"by", e["by"]},
                          {"text", fmt::format("Inject {} acknowledged: {}", e.value("inject", std::string()),
                                               e.value("comment", std::string()))}});
    } else if (kind == "alert_sent") {
      timeline.push_back({{"t_s", t}, {"clock", at(t)}, {"what", "alert"}, {"by", e["by"]},
                          {"text", fmt::format("{} alert: {} (reaches {:.0f} people)", e.value("status", std::string()),
                                               e.value("headline", std::string()),
                                               e.contains("reach") ? e["reach"].value("people", 0.0) : 0.0)}});
    } else if (kind == "action_accepted") {
      const auto& c = e["command"];
      timeline.push_back({{"t_s", t}, {"clock", at(t)}, {"what", "action"}, {"by", e["by"]},
                          {"text", fmt::format("{} {}", verb_of(c), target_of(c))}});
    } else if (kMajor.count(kind)) {
      timeline.push_back({{"t_s", t}, {"clock", at(t)}, {"what", "impact"}, {"by", "twin"},
                          {"text", fmt::format("{} {}: {}", kind, e.value("target", std::string()),
                                               e.value("detail", std::string()))}});
    }
  }

  // The players' actions, each with its inject and its consequences.
  json actions = json::array();
  std::map<std::string, std::vector<json>> prompted;  // by inject number
  for (const auto& e : events) {
    if (e.value("kind", std::string()) != "action_accepted") continue;
    const double t = e.value("t_s", 0.0);
    const auto& c = e["command"];
    std::string inject = e.value("inject", std::string());
    const std::string cell = e.value("cell", std::string());
    if (inject.empty() && !cell.empty())
      for (auto d = deliveries.rbegin(); d != deliveries.rend(); ++d)
        if (d->t_s <= t && t - d->t_s <= kPromptWindow_s &&
            (std::find(d->to.begin(), d->to.end(), cell) != d->to.end() ||
             std::find(d->to.begin(), d->to.end(), "all") != d->to.end())) {
          inject = d->number;
          break;
        }
    // The engine's record of the action, then everything caused by it.
    json consequences = json::array();
    std::set<std::uint64_t> chain;
    for (const auto& [id, r] : record) {
      if (r->value("kind", std::string()) == record_kind_of(c) && r->value("by", std::string()) == e.value("by", std::string()) &&
          r->value("target", std::string()) == target_of(c) && r->value("t_s", 0.0) >= t && chain.empty())
        chain.insert(id);
      if (chain.empty() || chain.count(id)) continue;
      for (const auto& cause : r->value("causes", std::vector<std::uint64_t>{}))
        if (chain.count(cause)) {
          chain.insert(id);
          consequences.push_back({{"t_s", r->value("t_s", 0.0)}, {"kind", r->value("kind", std::string())},
                                  {"target", r->value("target", std::string())}, {"detail", r->value("detail", std::string())}});
          break;
        }
    }
    json a = {{"seq", e["seq"]}, {"t_s", t}, {"clock", at(t)}, {"by", e["by"]}, {"cell", cell},
              {"verb", verb_of(c)}, {"target", target_of(c)},
              {"inject", inject}, {"inject_named_by_player", e.contains("inject")}, {"consequences", consequences}};
    if (!inject.empty()) prompted[inject].push_back(a);
    actions.push_back(std::move(a));
  }

  // Injects: delivered, answered, how fast; expected beside actual.
  json injects = json::array();
  struct Tally {
    int total = 0, answered = 0;
    double delay_sum_s = 0.0;
    std::vector<std::string> numbers;
  };
  std::map<std::string, Tally> by_objective;
  for (const auto& entry : *in.injects) {
    const auto& i = entry.inject;
    json j = {{"number", i.number}, {"to", i.to}, {"message", i.message}, {"expected", i.expected},
              {"objective", i.objective}, {"state", std::string(to_string(entry.state))}};
    std::optional<double> answered_s;
    if (entry.delivered_s) {
      j["delivered"] = at(*entry.delivered_s);
      j["delivered_s"] = *entry.delivered_s;
    }
    if (entry.acknowledged_s) {
      j["acknowledged"] = at(*entry.acknowledged_s);
      j["acknowledged_by"] = entry.acknowledged_by;
      j["response"] = entry.response;
      answered_s = entry.acknowledged_s;
    }
    j["actions"] = prompted.count(i.number) ? json(prompted[i.number]) : json::array();
    for (const auto& a : j["actions"]) answered_s = std::min(answered_s.value_or(1e300), a["t_s"].get<double>());
    if (entry.delivered_s && answered_s) j["response_delay_s"] = *answered_s - *entry.delivered_s;
    if (!i.objective.empty() && entry.state != InjectState::cancelled && entry.delivered_s) {
      auto& tally = by_objective[i.objective];
      ++tally.total;
      tally.numbers.push_back(i.number);
      if (answered_s) {
        ++tally.answered;
        tally.delay_sum_s += *answered_s - *entry.delivered_s;
      }
    }
    injects.push_back(std::move(j));
  }

  json objectives = json::array(), improvement = json::array();
  for (const auto& [objective, t] : by_objective) {
    const double mean_delay_s = t.answered ? t.delay_sum_s / t.answered : 0.0;
    const std::string draft = draft_rating(t.answered, t.total, mean_delay_s);
    const auto set = in.ratings.find(objective);
    const std::string rating = set != in.ratings.end() ? set->second : draft;
    objectives.push_back({{"objective", objective}, {"injects", t.numbers}, {"delivered", t.total},
                          {"answered", t.answered}, {"mean_response_s", mean_delay_s}, {"draft_rating", draft},
                          {"rating", rating}, {"rating_words", rating_words(rating)},
                          {"rated_by_director", set != in.ratings.end()}});
    if (rating == "M" || rating == "U")
      improvement.push_back({{"objective", objective},
                             {"issue", fmt::format("{} of {} injects answered", t.answered, t.total)},
                             {"corrective_action", ""}, {"owner", ""}, {"due", ""}});
  }
  std::stable_sort(timeline.begin(), timeline.end(),
                   [](const json& a, const json& b) { return a["t_s"].get<double>() < b["t_s"].get<double>(); });
  return {{"session", in.session}, {"timeline", timeline}, {"injects", injects}, {"actions", actions},
          {"alerts", in.alerts},   {"objectives", objectives}, {"improvement_plan", improvement}};
}

std::string after_action_html(const json& r) {
  const auto esc = [](const json& v) { return escape_html(v.is_string() ? v.get<std::string>() : v.dump()); };
  std::string h = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>After-action review</title>"
                  "<style>body{font:14px sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%;"
                  "margin:1em 0}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}"
                  "th{background:#eee}.U,.M{color:#a00;font-weight:bold}.P{color:#070}</style></head><body>";
  const auto& s = r["session"];
  h += fmt::format("<h1>After-action review: {}</h1><p>Session {} · {} · simulated to {:.0f} min · by {}</p>",
                   esc(s.value("name", json(""))), esc(s.value("id", json(""))), esc(s.value("state", json(""))),
                   s.value("sim_time_s", 0.0) / 60.0, esc(s.value("created_by", json(""))));
  h += "<h2>Objectives</h2><table><tr><th>Objective</th><th>Injects answered</th><th>Mean response</th><th>Rating</th></tr>";
  for (const auto& o : r["objectives"])
    h += fmt::format("<tr><td>{}</td><td>{} of {}</td><td>{:.0f} min</td><td class=\"{}\">{} ({}){}</td></tr>",
                     esc(o["objective"]), o["answered"].get<int>(), o["delivered"].get<int>(),
                     o["mean_response_s"].get<double>() / 60.0, esc(o["rating"]), esc(o["rating"]),
                     esc(o["rating_words"]), o["rated_by_director"].get<bool>() ? "" : ", draft");
  h += "</table><h2>Injects, expected and actual</h2><table><tr><th>#</th><th>Delivered</th><th>To</th><th>Message</th>"
       "<th>Expected</th><th>Actual</th><th>Delay</th></tr>";
  for (const auto& i : r["injects"]) {
    std::string actual;
    if (i.contains("acknowledged")) actual += fmt::format("{} acknowledged at {}: {}<br>", esc(i["acknowledged_by"]), esc(i["acknowledged"]), esc(i["response"]));
    for (const auto& a : i["actions"]) actual += fmt::format("{} {} {} {}<br>", esc(a["clock"]), esc(a["by"]), esc(a["verb"]), esc(a["target"]));
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", esc(i["number"]),
                     i.contains("delivered") ? esc(i["delivered"]) : esc(i["state"]), esc(fmt::format("{}", fmt::join(i["to"].get<std::vector<std::string>>(), ", "))),
                     esc(i["message"]), esc(i["expected"]), actual.empty() ? "<i>none</i>" : actual,
                     i.contains("response_delay_s") ? fmt::format("{:.0f} min", i["response_delay_s"].get<double>() / 60.0) : "");
  }
  h += "</table><h2>Actions and what they changed</h2><table><tr><th>Time</th><th>Who</th><th>Action</th><th>Inject</th>"
       "<th>Consequences</th></tr>";
  for (const auto& a : r["actions"]) {
    std::string c;
    for (const auto& x : a["consequences"]) c += fmt::format("{} {} ({})<br>", esc(x["kind"]), esc(x["target"]), esc(x["detail"]));
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>", esc(a["clock"]), esc(a["by"]),
                     esc(a["verb"]), esc(a["target"]), esc(a["inject"]), c);
  }
  h += "</table><h2>Timeline</h2><table><tr><th>Time</th><th>What</th><th>Who</th><th></th></tr>";
  for (const auto& t : r["timeline"])
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", esc(t["clock"]), esc(t["what"]), esc(t["by"]), esc(t["text"]));
  if (r.contains("procedures") && !r["procedures"].empty()) {
    h += "</table><h2>Guided procedures</h2><table><tr><th>Proposed</th><th>Cell</th><th>Procedure</th><th>Why</th>"
         "<th>Steps done</th></tr>";
    for (const auto& p : r["procedures"]) {
      std::string steps;
      for (const auto& st : p["steps"])
        steps += fmt::format("{} {}. {}{}<br>", st.value("done", false) ? "&#9745;" : "&#9744;", st["n"].get<int>(),
                             esc(st["text"]),
                             st.contains("by") ? fmt::format(" <i>({} {}: {})</i>", esc(st["by"]), esc(st["clock"]), esc(st["comment"])) : "");
      h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", esc(p["clock"]), esc(p["cell"]),
                       esc(p["title"]), esc(p["reason"]), steps);
    }
  }
  h += "</table><h2>Improvement plan</h2><table><tr><th>Objective</th><th>Issue</th><th>Corrective action</th><th>Owner</th>"
       "<th>Due</th></tr>";
  for (const auto& p : r["improvement_plan"])
    h += fmt::format("<tr><td>{}</td><td>{}</td><td></td><td></td><td></td></tr>", esc(p["objective"]), esc(p["issue"]));
  h += "</table></body></html>\n";
  return h;
}

}  // namespace cadereau::server::service
