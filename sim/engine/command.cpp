#include "cadereau/sim/engine/command.h"

#include "cadereau/twin/error.h"

#include "overloaded.h"

#include <nlohmann/json.hpp>

namespace cadereau::sim::engine {

namespace {

nlohmann::json series_json(const flood::TimeSeries& s) {
  nlohmann::json points = nlohmann::json::array();
  for (std::size_t i = 0; i < s.times_s().size(); ++i) points.push_back({s.times_s()[i], s.values()[i]});
  return points;
}

flood::TimeSeries series_from(const nlohmann::json& points, const std::string& where) {
  std::vector<double> times, values;
  for (const auto& p : points) {
    times.push_back(p.at(0).get<double>());
    values.push_back(p.at(1).get<double>());
  }
  return flood::TimeSeries(std::move(times), std::move(values), where);
}

}  // namespace

double command_time_s(const Command& command) {
  return std::visit(Overloaded{[](const TimedAction& a) { return a.t_s; },
                               [](const ForcingChange& f) { return f.from_s; },
                               [](const Observation& o) { return o.t_s; },
                               [](const Dispatch&) { return 0.0; }},
                    command);
}

const std::string& command_by(const Command& command) {
  return std::visit(Overloaded{[](const TimedAction& a) -> const std::string& { return a.by; },
                               [](const ForcingChange& f) -> const std::string& { return f.by; },
                               [](const Observation& o) -> const std::string& { return o.source; },
                               [](const Dispatch& d) -> const std::string& { return d.by; }},
                    command);
}

std::string command_json(const Command& command) {
  const nlohmann::json j = std::visit(
      Overloaded{[](const TimedAction& a) {
                   return nlohmann::json{{"command", "action"}, {"t_s", a.t_s},       {"verb", to_string(a.verb)},
                                         {"target", a.target},  {"value", a.value},   {"program", a.program},
                                         {"by", a.by},          {"where", a.where}};
                 },
                 [](const ForcingChange& f) {
                   return nlohmann::json{{"command", "forcing"},
                                         {"kind", f.kind == ForcingChange::Kind::inflow ? "inflow" : "rain"},
                                         {"target", f.target},
                                         {"from_s", f.from_s},
                                         {"series", series_json(f.series)},
                                         {"by", f.by},
                                         {"where", f.where}};
                 },
                 [](const Observation& o) {
                   nlohmann::json j{{"command", "observation"}, {"sensor", o.sensor_id}, {"t_s", o.t_s},
                                    {"value", o.value},         {"source", o.source}};
                   if (o.failed) j["failed"] = true;
                   if (o.interval_s) j["interval_s"] = *o.interval_s;
                   return j;
                 },
                 [](const Dispatch& d) {
                   nlohmann::json j{{"command", "dispatch"}, {"unit", d.unit}, {"from", d.from},
                                    {"to", d.to},            {"by", d.by},     {"where", d.where}};
                   if (d.to_point) j["to_xy"] = {d.to_point->x_m, d.to_point->y_m};
                   return j;
                 }},
      command);
  return j.dump();
}

Command command_from_json(const std::string& text, const std::string& where) {
  try {
    const auto j = nlohmann::json::parse(text);
    const std::string type = j.at("command").get<std::string>();
    if (type == "action") {
      TimedAction a;
      a.t_s = j.at("t_s").get<double>();
      const std::string verb = j.at("verb").get<std::string>();
      const auto parsed = parse_verb(verb);
      if (!parsed) fail(where, "unknown action verb '{}'", verb);
      a.verb = *parsed;
      a.target = j.at("target").get<std::string>();
      a.value = j.value("value", 0.0);
      a.program = j.value("program", std::string());
      a.by = j.value("by", std::string());
      a.where = j.value("where", std::string());
      return a;
    }
    if (type == "forcing") {
      ForcingChange f;
      const std::string kind = j.at("kind").get<std::string>();
      if (kind != "inflow" && kind != "rain") fail(where, "unknown forcing '{}' (inflow or rain)", kind);
      f.kind = kind == "inflow" ? ForcingChange::Kind::inflow : ForcingChange::Kind::rain;
      f.target = j.at("target").get<std::string>();
      f.from_s = j.at("from_s").get<double>();
      f.series = series_from(j.at("series"), where);
      f.by = j.value("by", std::string());
      f.where = j.value("where", std::string());
      return f;
    }
    if (type == "observation") {
      Observation o;
      o.sensor_id = j.at("sensor").get<std::string>();
      o.t_s = j.at("t_s").get<double>();
      o.value = j.at("value").get<double>();
      o.source = j.value("source", std::string());
      o.failed = j.value("failed", false);
      if (j.contains("interval_s")) o.interval_s = j["interval_s"].get<double>();
      return o;
    }
    if (type == "dispatch") {
      Dispatch d;
      d.unit = j.at("unit").get<std::string>();
      d.from = j.at("from").get<std::string>();
      d.to = j.value("to", std::string());
      if (j.contains("to_xy")) d.to_point = twin::MapPoint{j["to_xy"].at(0).get<double>(), j["to_xy"].at(1).get<double>()};
      d.by = j.value("by", std::string());
      d.where = j.value("where", std::string());
      return d;
    }
    fail(where, "unknown command '{}' (action, forcing, observation or dispatch)", type);
  } catch (const nlohmann::json::exception& e) {
    fail(where, "not a command: {}", e.what());
  }
}

}  // namespace cadereau::sim::engine
