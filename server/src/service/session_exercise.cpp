// Session: what only exercises have (injects, the after-action review) and
// population alerts (see session.h).

#include "session.h"

#include "after_action.h"
#include "counterfactual.h"

#include "../worker/session_files.h"
#include "data_files.h"

#include "cadereau/scenarios/scenario.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sys/wait.h>

namespace cadereau::server::service {

using json = nlohmann::json;


// ---- guided procedures ----

ProcedureBook& Session::procedure_book_locked() const {
  if (!procedure_book_) {
    auto& book = alert_book_locked();  // a replay has neither
    std::vector<std::string> gauges;
    for (const auto& sensor : book.territory().sensors)
      if (sensor.kind == twin::SensorKind::level_gauge) gauges.push_back(sensor.id);
    // The library, then the site's own (DATA/procedures), which may replace one by its id.
    auto library = scenarios::builtin_procedures();
    const auto site = dir_.parent_path().parent_path() / "procedures";
    if (std::filesystem::is_directory(site))
      for (auto& p : scenarios::read_procedures(site)) {
        std::erase_if(library, [&](const scenarios::Procedure& q) { return q.id == p.id; });
        library.push_back(std::move(p));
      }
    procedure_book_ = std::make_unique<ProcedureBook>(dir_, std::move(library), gauges);
  }
  return *procedure_book_;
}

void Session::propose_locked(const std::vector<std::size_t>& proposed) {
  for (const auto k : proposed) {
    const json view = procedure_book_->view(k);
    journal_locked({{"type", "procedure"},
                    {"kind", "procedure_proposed"},
                    {"t_s", sim_time_s_},
                    {"by", "twin"},
                    {"procedure", view["id"]},
                    {"title", view["title"]},
                    {"reason", view["reason"]},
                    {"steps", view["steps"]},
                    {"to", json::array({view["cell"]})}});
    spdlog::info("session {}: procedure {} proposed to {} ({})", id_, view["id"].get<std::string>(),
                 view["cell"].get<std::string>(), view["reason"].get<std::string>());
  }
}

json Session::procedures(const Principal& who) const {
  std::lock_guard lock(mutex_);
  auto& book = procedure_book_locked();
  json list = json::array();
  for (std::size_t k = 0; k < book.size(); ++k)
    if (book.visible_to(k, who)) list.push_back(book.view(k));
  return list;
}

json Session::tick_procedure(const std::string& id, int step, bool done, const std::string& comment, const Principal& who) {
  std::lock_guard lock(mutex_);
  if (state_ == SessionState::stopped) fail_as(ErrorCategory::conflict, id_, "is stopped");
  auto& book = procedure_book_locked();
  const auto k = book.find(id);
  if (!book.visible_to(k, who)) fail_as(ErrorCategory::not_found, "procedure", "no procedure '{}' proposed to you", id);
  json view = book.tick(k, step, done, comment, who, sim_time_s_);
  const std::string by = principal_text(who);
  const auto& s = view["steps"][static_cast<std::size_t>(step - 1)];
  journal_locked({{"type", "procedure"},
                  {"kind", "procedure_step"},
                  {"t_s", sim_time_s_},
                  {"by", by},
                  {"procedure", id},
                  {"step", step},
                  {"text", s["text"]},
                  {"done", done},
                  {"comment", comment},
                  {"to", json::array({view["cell"]})}});
  note_locked(by, {{"procedure", id}, {"step", step}, {"done", done}, {"comment", comment}});
  pump_all_locked();
  return view;
}

// ---- injects ----

InjectBook& Session::book_locked() const {
  if (!injects_) fail_as(ErrorCategory::conflict, id_, "is a {} session: injects belong to exercises", to_string(mode_));
  return *injects_;
}

void Session::deliver_locked(std::size_t index, const std::string& by) {
  auto& book = *injects_;
  book.deliver(index, sim_time_s_);
  const auto& i = book.entries()[index].inject;
  json event = {{"type", "inject"},     {"kind", "inject_delivered"}, {"t_s", sim_time_s_}, {"by", by},
                {"inject", i.number},   {"inject_type", i.type},      {"mode", i.mode},     {"from", i.from},
                {"to", i.to},           {"message", i.message}};
  // Where a citizen report comes from: what the reports cell puts on the map.
  if (i.effect.kind == scenarios::InjectEffect::Kind::report) {
    if (i.effect.lon)
      event["place"] = {{"lon", *i.effect.lon}, {"lat", *i.effect.lat}};
    else
      event["place"] = {{"id", i.effect.target}};
  }
  journal_locked(std::move(event));
  spdlog::info("session {}: inject {} delivered to {} at {:.0f} s", id_, i.number, fmt::join(i.to, ", "), sim_time_s_);
  apply_effect_locked(i);
  propose_locked(procedure_book_locked().on_inject(i.type, i.number, sim_time_s_));
}

void Session::apply_effect_locked(const scenarios::Inject& i) {
  using Kind = scenarios::InjectEffect::Kind;
  const auto& e = i.effect;
  if (e.kind == Kind::none || e.kind == Kind::report) return;
  const std::string by = "inject " + i.number;
  // Seen by the staff only: a player must not learn that a reading is false.
  const json event = {{"t_s", sim_time_s_}, {"kind", "inject_effect"}, {"by", by},
                      {"inject", i.number}, {"effect", e.text},        {"staff_only", true}};
  switch (e.kind) {
    case Kind::inflow:
    case Kind::rain: {
      sim::engine::ForcingChange f;
      f.kind = e.kind == Kind::inflow ? sim::engine::ForcingChange::Kind::inflow : sim::engine::ForcingChange::Kind::rain;
      f.target = e.target;
      f.from_s = sim_time_s_;
      std::vector<double> times;
      for (double offset : e.offsets_s) times.push_back(sim_time_s_ + offset);
      f.series = sim::flood::TimeSeries(std::move(times), e.values, "inject " + i.number);
      f.by = by;
      f.where = by;
      submit_async_locked(std::move(f), event);
      break;
    }
    case Kind::sensor_reading:
    case Kind::sensor_failure: {
      sim::engine::Observation o;
      o.sensor_id = e.target;
      o.t_s = sim_time_s_;
      o.value = e.kind == Kind::sensor_reading ? e.values.at(0) : 0.0;
      o.failed = e.kind == Kind::sensor_failure;
      o.source = "feed";  // as the sensor's own readings come
      submit_async_locked(std::move(o), event);
      break;
    }
    case Kind::road_blocked:
      for (const auto& road : e.roads) {
        sim::engine::TimedAction a;
        a.t_s = sim_time_s_;
        a.verb = sim::engine::Verb::close_road;
        a.target = road;
        a.by = by;
        a.where = by;
        submit_async_locked(std::move(a), event);
      }
      break;
    case Kind::none:
    case Kind::report: break;
  }
}

void Session::deliver_due_locked() {
  if (!injects_ || injects_->empty() || state_ == SessionState::created) return;
  // An inject delivered now may make another due ("after"): until none is.
  const InjectBook::TwinState twin{[this](const std::string& gauge) -> std::optional<double> {
                                      const auto it = gauge_depth_m_.find(gauge);
                                      if (it == gauge_depth_m_.end()) return std::nullopt;
                                      return it->second;
                                    },
                                    [this](const std::string& road) { return closed_roads_.count(road) > 0; }};
  for (int round = 0; round < 1000; ++round) {
    const auto due = injects_->due(sim_time_s_, twin);
    if (due.empty()) return;
    for (const auto k : due) deliver_locked(k, "msel");
  }
}

void Session::check_injects_locked(const std::vector<scenarios::Inject>& injects, const std::string& where) {
  using Kind = scenarios::InjectEffect::Kind;
  const auto& territory = alert_book_locked().territory();
  const scenarios::Scenario scenario =
      scenarios::parse_scenario(record_.value("scenario_yaml", std::string()), record_.value("scenario_file", std::string("scenario.yaml")));
  const auto sensor = [&](const std::string& id) -> const twin::Sensor* {
    for (const auto& s : territory.sensors)
      if (s.id == id) return &s;
    return nullptr;
  };
  const auto road = [&](const std::string& id) { return territory.network && territory.network->find_edge(id); };
  for (const auto& i : injects) {
    const std::string at = fmt::format("{}:{}", where, i.line);
    if (i.trigger == scenarios::Inject::Trigger::at_time && i.time_s > duration_s_ + 1e-9)
      fail(at, "inject {} at {} s is after the end of the exercise ({} s)", i.number, i.time_s, duration_s_);
    // A state trigger must name what the twin has, or it would never fire.
    if (i.trigger == scenarios::Inject::Trigger::on_state) {
      const twin::Sensor* gauge = sensor(i.gauge);
      if (!gauge || gauge->kind != twin::SensorKind::level_gauge)
        fail(at, "inject {}: no level gauge '{}' in the territory", i.number, i.gauge);
      if (!i.road.empty() && !road(i.road)) fail(at, "inject {}: no road edge '{}' in the network", i.number, i.road);
    }
    const auto& e = i.effect;
    switch (e.kind) {
      case Kind::inflow: {
        std::vector<std::string> names;
        for (const auto& in : scenario.inflows) names.push_back(in.name);
        if (std::find(names.begin(), names.end(), e.target) == names.end())
          fail(at, "inject {}: no inflow '{}' in scenario '{}' (its inflows: {})", i.number, e.target, scenario.name,
               names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
        break;
      }
      case Kind::rain: {
        std::vector<std::string> zones{"territory"};
        for (const auto& r : scenario.rain)
          if (r.over != scenarios::RainSpec::Over::territory) zones.push_back(r.id);
        if (std::find(zones.begin(), zones.end(), e.target) == zones.end())
          fail(at, "inject {}: no rain zone '{}' in scenario '{}' (its rain zones: {})", i.number, e.target, scenario.name,
               fmt::join(zones, ", "));
        break;
      }
      case Kind::sensor_reading:
      case Kind::sensor_failure:
        if (!sensor(e.target)) fail(at, "inject {}: no sensor '{}' in the territory", i.number, e.target);
        break;
      case Kind::report:
        if (!e.lon && !sensor(e.target) && !road(e.target) && !territory.find_asset(e.target))
          fail(at, "inject {}: no asset, road edge or sensor '{}' where the report comes from", i.number, e.target);
        break;
      case Kind::road_blocked:
        for (const auto& r : e.roads)
          if (!road(r)) fail(at, "inject {}: no road edge '{}' in the network", i.number, r);
        break;
      case Kind::none: break;
    }
  }
}

std::size_t Session::load_msel(const std::string& csv, const Principal& by) {
  std::lock_guard lock(mutex_);
  book_locked();
  const std::string start = record_.value("start", std::string());
  auto injects = scenarios::parse_msel(csv, "msel.csv", scenarios::clock_of_iso(start).value_or(0.0));
  check_injects_locked(injects, "msel.csv");
  const std::size_t n = injects.size();
  book_locked().load(std::move(injects));
  journal_locked({{"t_s", sim_time_s_}, {"kind", "msel_loaded"}, {"by", principal_text(by)}, {"injects", n}, {"staff_only", true}});
  pump_all_locked();
  return n;
}

std::size_t Session::load_injects(std::vector<scenarios::Inject> injects, const std::string& where, const Principal& by) {
  std::lock_guard lock(mutex_);
  book_locked();
  check_injects_locked(injects, where);
  const std::size_t n = injects.size();
  book_locked().load(std::move(injects));
  journal_locked({{"t_s", sim_time_s_}, {"kind", "msel_loaded"}, {"by", principal_text(by)}, {"injects", n},
                  {"source", where}, {"staff_only", true}});
  pump_all_locked();
  return n;
}

std::string Session::msel_csv() const {
  std::lock_guard lock(mutex_);
  return book_locked().csv(record_.value("start", std::string()));
}

json Session::injects(const Principal& who) const {
  std::lock_guard lock(mutex_);
  const auto& book = book_locked();
  json list = json::array();
  for (std::size_t k = 0; k < book.entries().size(); ++k) {
    const auto& e = book.entries()[k];
    if (who.role == Role::player && (!e.delivered_s || !InjectBook::addressed_to(e.inject, who))) continue;
    list.push_back(book.view(k, who, record_.value("start", std::string())));
  }
  return list;
}

json Session::inject_command(const std::string& id, InjectCommand command, const Principal& by) {
  std::lock_guard lock(mutex_);
  auto& book = book_locked();
  if (state_ == SessionState::stopped && command != InjectCommand::test)
    fail_as(ErrorCategory::conflict, id_, "is stopped");
  const auto k = book.find(id);
  book.command(k, command);
  if (command == InjectCommand::fire) {
    deliver_locked(k, principal_text(by));
    deliver_due_locked();
  } else if (command == InjectCommand::test) {
    // What the cells would get, shown to the staff only.
    const auto& i = book.entries()[k].inject;
    journal_locked({{"type", "inject"}, {"kind", "inject_test"}, {"t_s", sim_time_s_}, {"by", principal_text(by)},
                    {"inject", i.number}, {"inject_type", i.type}, {"mode", i.mode}, {"from", i.from},
                    {"addressed_to", i.to}, {"message", i.message}, {"effect", i.effect.text}, {"staff_only", true}});
  } else {
    static constexpr const char* kKinds[] = {"inject_fired", "inject_held", "inject_released", "inject_cancelled"};
    journal_locked({{"t_s", sim_time_s_},
                    {"kind", kKinds[static_cast<int>(command)]},
                    {"by", principal_text(by)},
                    {"inject", id},
                    {"staff_only", true}});
  }
  pump_all_locked();
  return book.view(k, by, record_.value("start", std::string()));
}

std::uint64_t Session::acknowledge_inject(const std::string& id, const Principal& player, const std::string& comment) {
  std::lock_guard lock(mutex_);
  auto& book = book_locked();
  const auto k = book.find(id);
  if (player.role == Role::player && !InjectBook::addressed_to(book.entries()[k].inject, player))
    fail_as(ErrorCategory::not_found, "inject", "no inject '{}'", id);  // what a player may not see does not exist
  book.acknowledge(k, player, sim_time_s_, comment);
  const auto seq = journal_locked({{"t_s", sim_time_s_},
                                   {"kind", "inject_acknowledged"},
                                   {"by", principal_text(player)},
                                   {"inject", id},
                                   {"comment", comment},
                                   {"to", book.entries()[k].inject.to}});
  pump_all_locked();
  return seq;
}


twin::MapPoint Session::map_point(double lon, double lat) const {
  std::lock_guard lock(mutex_);
  if (!std::isfinite(lon) || !std::isfinite(lat) || lon < -180.0 || lon > 180.0 || lat < -90.0 || lat > 90.0)
    fail("to", "({}, {}) is not a longitude and a latitude in degrees", lon, lat);
  auto& book = alert_book_locked();
  const twin::CrsTransform to_map(twin::Crs::wgs84(), book.territory().crs);
  const auto xy = to_map.forward({lon, lat});
  return {xy.x, xy.y};
}

AlertBook& Session::alert_book_locked() const {
  if (!alert_book_) fail_as(ErrorCategory::conflict, id_, "is a replay: nothing is sent from history");
  return *alert_book_;
}

json Session::alert_reach(const AlertRequest& alert) {
  std::lock_guard lock(mutex_);
  return alert_book_locked().reach(alert, journal_->after(0, SIZE_MAX, Viewer{}, head_locked()));
}

json Session::send_alert(const AlertRequest& alert, const Principal& by) {
  std::lock_guard lock(mutex_);
  auto& book = alert_book_locked();
  if (state_ == SessionState::stopped) fail_as(ErrorCategory::conflict, id_, "is stopped");
  std::string status = "Exercise", state = "sent";
  if (mode_ == SessionMode::exercise) {
    if (alert.status == "Actual")
      fail_as(ErrorCategory::forbidden, "status", "an exercise never sends an Actual alert: its alerts are Exercise");
    if (!alert.status.empty() && alert.status != "Exercise")
      fail("status", "an exercise's alerts are Exercise, not {}", alert.status);
  } else {
    if (alert.status == "Exercise") fail("status", "a live session sends Actual or Test alerts, never Exercise");
    status = alert.status.empty() ? "Actual" : alert.status;
    if (status == "Actual") state = "awaiting_approval";
  }
  const std::string by_name = principal_text(by);
  const std::string note = mode_ == SessionMode::exercise
                               ? fmt::format("Exercise {}: not a real alert", record_.value("name", id_))
                               : std::string();
  json reach = book.reach(alert, journal_->after(0, SIZE_MAX, Viewer{}, head_locked()));
  json entry = book.add(alert, status, state, by, sim_time_s_, note, std::move(reach));
  journal_locked({{"type", "alert"},
                  {"kind", state == "sent" ? "alert_sent" : "alert_awaiting_approval"},
                  {"t_s", sim_time_s_},
                  {"by", by_name},
                  {"alert", entry["id"]},
                  {"status", status},
                  {"headline", alert.headline},
                  {"severity", alert.severity},
                  {"area", entry["area"]},
                  {"reach", entry["reach"]}});
  note_locked(by_name, {{"alert", entry}});
  spdlog::info("session {}: alert {} ({}, {}) by {}, reaching {:.0f} people", id_, entry["id"].get<std::string>(),
               status, state, by_name, entry["reach"]["people"].get<double>());
  propose_locked(procedure_book_locked().on_alert(alert.event, sim_time_s_));
  pump_all_locked();
  return entry;
}

json Session::approve_alert(const std::string& id, const Principal& by) {
  std::lock_guard lock(mutex_);
  json entry = alert_book_locked().approve(id, by);
  journal_locked({{"type", "alert"},
                  {"kind", "alert_sent"},
                  {"t_s", sim_time_s_},
                  {"by", entry["approved_by"]},
                  {"alert", id},
                  {"status", entry["status"]},
                  {"headline", entry["headline"]},
                  {"approved_by", entry["approved_by"]},
                  {"reach", entry["reach"]}});
  note_locked(entry["approved_by"].get<std::string>(), {{"alert_approved", id}});
  pump_all_locked();
  return entry;
}

json Session::alerts() const {
  std::lock_guard lock(mutex_);
  return alert_book_locked().list();
}

std::string Session::alert_cap(const std::string& id) const {
  std::lock_guard lock(mutex_);
  return alert_book_locked().cap(id);
}

namespace {

constexpr const char* kRatingsFile = "aar_ratings.json";
constexpr const char* kCounterfactualDir = "counterfactual";

std::map<std::string, std::string> read_ratings(const std::filesystem::path& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  const json j = in ? json::parse(in, nullptr, false) : json();
  if (j.is_object())
    for (const auto& [k, v] : j.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

}  // namespace

json Session::after_action() const {
  std::lock_guard lock(mutex_);
  const auto& book = book_locked();
  const auto events = journal_->after(0, SIZE_MAX, Viewer{}, head_locked());
  AfterActionInputs in;
  in.session = describe_locked();
  in.events = &events;
  in.injects = &book.entries();
  in.alerts = alert_book_ ? alert_book_->list() : json::array();
  in.ratings = read_ratings(dir_ / kRatingsFile);
  in.start_iso = record_.value("start", std::string());
  json review = after_action_review(in);
  // The procedures proposed, with the steps ticked and when.
  json procedures = json::array();
  auto& guided = procedure_book_locked();
  for (std::size_t k = 0; k < guided.size(); ++k) {
    json p = guided.view(k);
    if (!p.contains("proposed_s")) continue;
    p["clock"] = scenario_clock(in.start_iso, p["proposed_s"].get<double>());
    int done = 0;
    for (auto& st : p["steps"])
      if (st.contains("t_s")) {
        st["clock"] = scenario_clock(in.start_iso, st["t_s"].get<double>());
        done += st["done"].get<bool>() ? 1 : 0;
      }
    p["steps_done"] = done;
    procedures.push_back(std::move(p));
  }
  review["procedures"] = std::move(procedures);
  const auto dir = dir_ / kCounterfactualDir;
  json cf = read_json_object(dir / "state.json");
  if (cf.empty()) cf = {{"state", "none"}};
  if (cf["state"] == "done") {
    try {
      const double until_s = cf["until_s"].get<double>();
      const json with = figures_at(worker::session_recordings(dir_), events, until_s);
      const json without = figures_at({dir / "recording.h5"}, recording_records(dir / "recording.h5"), until_s);
      json difference = json::object();
      for (const auto& [k, v] : with.items()) difference[k] = v.get<double>() - without[k].get<double>();
      cf["with_actions"] = with;
      cf["without_actions"] = without;
      cf["difference"] = difference;
    } catch (const Error& e) {
      cf["state"] = "failed";
      cf["problem"] = e.what();
    }
  }
  review["counterfactual"] = cf;
  return review;
}

void Session::start_counterfactual(const Principal& by) {
  std::lock_guard lock(mutex_);
  book_locked();
  const auto dir = dir_ / kCounterfactualDir;
  if (counterfactual_run_) fail_as(ErrorCategory::conflict, id_, "its counterfactual is running");
  if (!(reached_s_ > 0.0)) fail_as(ErrorCategory::conflict, id_, "has not started: nothing to compare yet");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write_private_file(dir / "scenario.yaml", record_.value("scenario_yaml", std::string()));
  const double until_s = reached_s_;
  // The injects' effects are the scenario, not the players': they run again,
  // at the times the engine took them.
  {
    std::ifstream in(dir_ / worker::kCommandsFile);
    std::map<std::uint64_t, json> effects;
    std::string text;
    while (std::getline(in, text)) {
      const json j = json::parse(text, nullptr, false);
      if (!j.is_object() || !j.contains("ticket")) continue;
      const auto ticket = j["ticket"].get<std::uint64_t>();
      if (j.contains("event") && j["event"].value("kind", std::string()) == "inject_effect")
        effects[ticket] = {{"command", j["command"]}};
      else if (j.contains("at_s") && effects.count(ticket))
        effects[ticket]["at_s"] = j["at_s"];
    }
    std::string lines;
    for (const auto& [ticket, e] : effects)
      if (e.contains("at_s") && e["at_s"].get<double>() <= until_s)
        lines += e.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    write_private_file(dir / "commands.jsonl", lines);
  }
  const json state = {{"state", "running"}, {"until_s", until_s}, {"started_by", principal_text(by)}};
  write_private_file(dir / "state.json", state.dump());
  std::weak_ptr<Session> weak = weak_from_this();
  counterfactual_run_ = supervisor_->run(
      {"run", (dir / "scenario.yaml").string(), "--out", dir.string(), "--territory",
       record_.value("territory", std::string()), "--no-snapshots", "--until", fmt::format("{:.0f}", until_s),
       "--commands", (dir / "commands.jsonl").string()},
      dir / "run.log", {nullptr, [weak, dir, state](int status) {
                          auto self = weak.lock();
                          if (!self) return;
                          std::lock_guard lock(self->mutex_);
                          self->counterfactual_run_.reset();
                          json done = state;
                          const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
                          done["state"] = ok ? "done" : "failed";
                          if (!ok) done["problem"] = "the run failed: see " + (dir / "run.log").string();
                          write_private_file(dir / "state.json", done.dump());
                          spdlog::info("session {}: counterfactual {}", self->id_, done["state"].get<std::string>());
                        }});
  journal_locked({{"t_s", sim_time_s_}, {"kind", "counterfactual_started"}, {"by", principal_text(by)}, {"until_s", until_s},
                  {"staff_only", true}});
  pump_all_locked();
}

json Session::rate_objectives(const json& ratings, const Principal& by) {
  {
    std::lock_guard lock(mutex_);
    book_locked();
    if (!ratings.is_object()) fail("ratings", "must be {{\"OBJECTIVE\": \"P|S|M|U\"}}");
    auto current = read_ratings(dir_ / kRatingsFile);
    for (const auto& [objective, rating] : ratings.items()) {
      if (!rating.is_string()) fail("ratings." + objective, "must be P, S, M or U");
      current[objective] = parse_rating(rating.get<std::string>());
    }
    write_private_file(dir_ / kRatingsFile, json(current).dump(1));
    journal_locked({{"t_s", sim_time_s_}, {"kind", "objectives_rated"}, {"by", principal_text(by)}, {"ratings", ratings},
                    {"staff_only", true}});
    pump_all_locked();
  }
  return after_action();
}

}  // namespace cadereau::server::service
