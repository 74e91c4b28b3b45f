// Session: rolling forecasts of a live session (see session.h, "rolling
// forecasts", and forecasts.h).
//
// A forecast is asked for on the session's clock (every settings.every_s,
// or at once when a gauge jumps, or by an operator). The engine worker saves
// its state once it has taken every reading sent before the request; a
// `cadereau forecast --brief` process runs on from that state over the
// horizon, as fast as it can on one core (the other is the live room's:
// the server and the live engine), and writes forecast.json. The server then
// announces it, says what changed, raises the thresholds it crosses and,
// once the horizon has passed on the live clock, scores it against what the
// twin did.
//
// DIR/forecasts/NNNN/: scenario.yaml, state/ (removed once the forecast is
// read), forecast.json, impacts.json, summary.json, run.log, result.json.

#include "session.h"

#include "audit_record.h"
#include "data_files.h"

#include "../forecast_document.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sys/wait.h>

namespace cadereau::server::service {

using json = nlohmann::json;

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kForecastsDir = "forecasts";
constexpr const char* kResultFile = "result.json";
constexpr const char* kDocumentFile = "forecast.json";
// A threshold alerts again once a reading is this far below it.
constexpr double kRearm_m = 0.2;

std::string threshold_key(const std::string& basis, const std::string& gauge, double above_m) {
  return fmt::format("{} {} {:.3f}", basis, gauge, above_m);
}

// Gauges that keep jumping ask for a forecast at most this often (s of the
// live clock): a flood of readings must not become forecasts back to back.
constexpr double kJumpGap_s = 120.0;

// A state not saved within this is given up (the worker restarted).
constexpr auto kCheckpointWait = std::chrono::seconds(60);

std::optional<json> read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string clock_text(const std::string& start, double t_s) {
  const auto epoch = local_epoch_s(start);
  if (!epoch) return fmt::format("{:.0f} s", t_s);
  const std::time_t t = static_cast<std::time_t>(*epoch + t_s);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min);
}

// What a list of forecasts shows of one: the result without the long lists.
json summary_of(const json& result) {
  json s = result;
  if (s.contains("changes") && s["changes"].is_object()) {
    json c = {{"summary", s["changes"].value("summary", std::string())}};
    for (const char* k : {"new", "dropped", "earlier", "later"}) c[k] = s["changes"].value(k, json::array()).size();
    s["changes"] = std::move(c);
  }
  return s;
}

}  // namespace

std::filesystem::path Session::forecast_dir(int number) const {
  return dir_ / kForecastsDir / fmt::format("{:04}", number);
}

// Forecasts issued before a restart of the server, and what the twin did.
void Session::forecasts_init_locked() const {
  if (forecasts_loaded_) return;
  forecasts_loaded_ = true;
  std::error_code ec;
  for (int n = 1;; ++n) {
    const auto dir = forecast_dir(n);
    if (!std::filesystem::exists(dir, ec)) break;
    json result = read_json(dir / kResultFile).value_or(json{{"number", n}, {"state", "failed"}, {"problem", "no result"}});
    if (result.value("state", std::string()) == "running") {
      result["state"] = "failed";
      result["problem"] = "the server stopped while it ran";
    }
    if (result.value("state", std::string()) == "done") {
      if (auto doc = read_json(dir / kDocumentFile)) {
        latest_forecast_ = *doc;
        if (!result.contains("verification") || !result["verification"].value("final", false))
          forecasts_in_flight_[n] = std::move(*doc);
      }
    }
    forecast_results_.push_back(std::move(result));
  }
  for (const auto& line : journal_->after(0, SIZE_MAX)) {
    const json e = json::parse(line, nullptr, false);
    if (e.is_object()) note_happened_locked(e);
  }
}

void Session::note_happened_locked(const json& e) const {
  const std::string kind = e.value("kind", std::string());
  if (kind == "threshold_alert") {
    thresholds_alerted_.insert(threshold_key(e.value("basis", std::string()), e.value("target", std::string()), e.value("above_m", 0.0)));
  } else if (forecast_impact_kind(kind)) {
    happened_.impacts[{kind, e.value("target", std::string())}].push_back(e.value("t_s", 0.0));
  } else if (kind == "observation" && e.contains("value") && e.value("unit", std::string()) == "m") {
    happened_.readings[e.value("target", std::string())].emplace_back(e.value("measured_s", e.value("t_s", 0.0)),
                                                                       e["value"].get<double>());
  }
}

void Session::note_reading_locked(const std::string& sensor, twin::SensorKind kind, double value, double measured_s,
                                  double rate) {
  forecasts_init_locked();
  const double now = kind == twin::SensorKind::rain_gauge ? rate : value;
  gauge_now_[sensor] = now;
  // A jump since the last forecast asks for the next one now; a gauge not
  // heard from then was taken as dry (the twin assumed so).
  if (forecast_due_.empty() && !forecast_results_.empty()) {
    const auto basis = forecast_basis_.find(sensor);
    const double was = basis != forecast_basis_.end() ? basis->second : 0.0;
    const double moved = now - was;
    if (kind == twin::SensorKind::level_gauge && std::abs(moved) >= forecast_settings_.jump_m)
      forecast_due_ = fmt::format("{} {} {:.2f} m since the last forecast ({:.2f} to {:.2f} m)", sensor,
                                  moved > 0 ? "rose" : "fell", std::abs(moved), was, now);
    if (kind == twin::SensorKind::rain_gauge && std::abs(moved) >= forecast_settings_.jump_rain_mm_h)
      forecast_due_ = fmt::format("the rain at {} went from {:.0f} to {:.0f} mm/h since the last forecast", sensor, was, now);
  }
  if (kind != twin::SensorKind::level_gauge || !alert_book_) return;
  // A reading past a procedure's threshold is an alert of its own, whatever
  // the twin says; once the water that passed it is well below again, the
  // next rise (forecast or read) alerts again.
  try {
    for (const auto& [gauge, above_m] : procedure_book_locked().gauge_thresholds())
      if (gauge == sensor && value < above_m - kRearm_m && thresholds_alerted_.erase(threshold_key("observed", gauge, above_m)))
        thresholds_alerted_.erase(threshold_key("forecast", gauge, above_m));
      else if (gauge == sensor && value >= above_m)
        threshold_alert_locked("observed", gauge, above_m, value, measured_s,
                               fmt::format("a reading of {:.2f} m at {}", value, clock_text(record_.value("start", std::string()), measured_s)));
  } catch (const Error& e) {
    if (!procedures_failed_++) spdlog::error("session {}: procedures: {}", id_, e.what());
  }
}

void Session::threshold_alert_locked(const std::string& basis, const std::string& gauge, double above_m, double value_m,
                                     double at_s, const std::string& detail) {
  if (!thresholds_alerted_.insert(threshold_key(basis, gauge, above_m)).second) return;
  const auto& territory = alert_book_locked().territory();
  const twin::CrsTransform to_geo(territory.crs, twin::Crs::wgs84());
  AlertBasis b;
  b.forecast = basis == "forecast";
  b.above_m = above_m;
  b.when = clock_text(record_.value("start", std::string()), at_s);
  b.gauge_name = gauge;
  for (const auto& s : territory.sensors)
    if (s.id == gauge) {
      b.gauge_name = s.name;
      const auto geo = to_geo.forward({s.location.x_m, s.location.y_m});
      b.centre = {geo.x, geo.y};
    }
  // The area: what the latest forecast says is hit (roads, assets, zones).
  if (latest_forecast_) {
    std::set<std::string> named;
    for (const auto& i : latest_forecast_->value("impacts", json::array())) {
      b.points.emplace_back(i.value("lon", 0.0), i.value("lat", 0.0));
      const std::string name = i.value("name", std::string());
      if (!name.empty() && named.insert(name).second) b.places.push_back(name);
    }
  }
  json draft = cap_draft(b);
  std::vector<std::size_t> proposed;
  try {
    proposed = procedure_book_locked().on_gauges({{gauge, value_m}}, sim_time_s_,
                                                 b.forecast ? fmt::format("forecast for {}", b.when)
                                                            : fmt::format("reading at {}", b.when));
  } catch (const Error& e) {
    if (!procedures_failed_++) spdlog::error("session {}: procedures: {}", id_, e.what());
  }
  json procedures = json::array();
  for (auto k : proposed) procedures.push_back(procedure_book_->procedure(k).id);
  journal_locked({{"type", "alert"},
                  {"kind", "threshold_alert"},
                  {"t_s", sim_time_s_},
                  {"by", "twin"},
                  {"basis", basis},
                  {"target", gauge},
                  {"above_m", above_m},
                  {"value_m", value_m},
                  {"at_s", at_s},
                  {"clock", b.when},
                  {"detail", fmt::format("{} {} {:.2f} m: {}", gauge, b.forecast ? "forecast to pass" : "passed", above_m, detail)},
                  {"procedures", std::move(procedures)},
                  {"cap_draft", std::move(draft)}});
  propose_locked(proposed);
  spdlog::info("session {}: threshold {} {:.2f} m ({}) at {}", id_, gauge, above_m, basis, b.when);
}

void Session::forecast_tick_locked() {
  if (mode_ != SessionMode::live) return;
  forecasts_init_locked();
  // Scores made final once the live clock has passed a forecast's horizon.
  for (auto it = forecasts_in_flight_.begin(); it != forecasts_in_flight_.end();) {
    if (sim_time_s_ < it->second.value("until_s", 0.0)) {
      ++it;
      continue;
    }
    json scores = verify_forecast(it->second, happened_, sim_time_s_);
    auto& result = forecast_results_.at(static_cast<std::size_t>(it->first - 1));
    result["verification"] = scores;
    write_private_file(forecast_dir(it->first) / kResultFile, result.dump(1));
    json event = {{"kind", "forecast_verified"}, {"t_s", sim_time_s_}, {"by", "server"}, {"forecast", it->first},
                  {"issued_s", result.value("issued_s", 0.0)}};
    for (const char* group : {"roads", "assets", "zones"})
      event[group] = {{"hits", scores[group]["hits"]},
                      {"misses", scores[group]["misses"]},
                      {"false_alarms", scores[group]["false_alarms"]},
                      {"hit_rate", scores[group]["hit_rate"]},
                      {"false_alarm_ratio", scores[group]["false_alarm_ratio"]},
                      {"time_error", scores[group]["time_error"]}};
    event["gauges"] = scores["gauges"];
    journal_locked(std::move(event));
    it = forecasts_in_flight_.erase(it);
  }
  if (forecast_run_) {
    if (!forecast_run_->issued_s && SteadyClock::now() - forecast_run_->asked > kCheckpointWait) {
      spdlog::warn("session {}: forecast {}: the engine did not save its state; asked again later", id_, forecast_run_->number);
      auto& result = forecast_results_.at(static_cast<std::size_t>(forecast_run_->number - 1));
      result["state"] = "failed";
      result["problem"] = "the engine did not save its state in time";
      write_private_file(forecast_dir(forecast_run_->number) / kResultFile, result.dump(1));
      forecast_run_.reset();
    }
    return;
  }
  if (state_ != SessionState::running || worker_state_ != WorkerState::ready || !supervisor_) return;
  if (forecast_settings_.every_s <= 0.0) return;  // only when an operator asks
  if (!forecast_due_.empty() && sim_time_s_ - last_forecast_asked_s_ >= std::min(kJumpGap_s, forecast_settings_.every_s)) {
    start_forecast_locked(std::exchange(forecast_due_, std::string()), "twin", forecast_settings_.horizon_s);
  } else if (sim_time_s_ - last_forecast_asked_s_ >= forecast_settings_.every_s - 1e-6) {
    start_forecast_locked(fmt::format("every {:g} min", forecast_settings_.every_s / 60.0), "twin",
                          forecast_settings_.horizon_s);
  }
}

void Session::start_forecast_locked(std::string reason, std::string by, double horizon_s) {
  ForecastRun run;
  run.number = static_cast<int>(forecast_results_.size()) + 1;
  run.reason = std::move(reason);
  run.by = std::move(by);
  run.horizon_s = horizon_s;
  run.ticket = next_checkpoint_++;
  run.asked = SteadyClock::now();
  const auto dir = forecast_dir(run.number);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write_private_file(dir / "scenario.yaml", record_.value("scenario_yaml", std::string()));
  json result = {{"number", run.number}, {"state", "running"}, {"reason", run.reason}, {"by", run.by},
                 {"horizon_s", horizon_s}, {"asked_s", sim_time_s_}, {"asked_at", iso8601_utc(std::chrono::system_clock::now())}};
  write_private_file(dir / kResultFile, result.dump(1));
  forecast_results_.push_back(std::move(result));
  last_forecast_asked_s_ = sim_time_s_;
  forecast_basis_ = gauge_now_;
  worker_->send(json{{"type", "checkpoint"}, {"ticket", run.ticket}, {"dir", (dir / "state").string()}}.dump(
      -1, ' ', false, json::error_handler_t::replace));
  spdlog::info("session {}: forecast {} asked at {:.0f} s ({})", id_, run.number, sim_time_s_, run.reason);
  forecast_run_ = std::move(run);
}

void Session::on_checkpoint(const json& message) {
  std::lock_guard lock(mutex_);
  if (!forecast_run_ || forecast_run_->issued_s || message.value("ticket", std::uint64_t{0}) != forecast_run_->ticket) return;
  auto& run = *forecast_run_;
  auto& result = forecast_results_.at(static_cast<std::size_t>(run.number - 1));
  const auto dir = forecast_dir(run.number);
  if (message.value("type", std::string()) == "checkpoint_failed") {
    result["state"] = "failed";
    result["problem"] = "the engine could not save its state: " + message.value("message", std::string());
    write_private_file(dir / kResultFile, result.dump(1));
    spdlog::error("session {}: forecast {}: {}", id_, run.number, result["problem"].get<std::string>());
    forecast_run_.reset();
    return;
  }
  run.issued_s = message.value("sim_time_s", sim_time_s_);
  result["issued_s"] = *run.issued_s;
  if (const auto epoch = local_epoch_s(record_.value("start", std::string()))) result["issued_at"] = iso_utc(*epoch + *run.issued_s);
  write_private_file(dir / kResultFile, result.dump(1));
  std::weak_ptr<Session> weak = weak_from_this();
  const int number = run.number;
  run.process = supervisor_->run(
      {"forecast", (dir / "scenario.yaml").string(), "--state", (dir / "state").string(), "--hours",
       fmt::format("{:.6f}", run.horizon_s / 3600.0), "--out", dir.string(), "--territory",
       record_.value("territory", std::string()), "--brief", "--threads", "1"},
      dir / "run.log", {nullptr, [weak, number](int status) {
                          if (auto self = weak.lock()) self->on_forecast_end(number, status);
                        }});
}

void Session::on_forecast_end(int number, int status) {
  std::lock_guard lock(mutex_);
  if (!forecast_run_ || forecast_run_->number != number) return;
  const ForecastRun run = std::move(*forecast_run_);
  forecast_run_.reset();
  const auto dir = forecast_dir(number);
  auto& result = forecast_results_.at(static_cast<std::size_t>(number - 1));
  result["wall_s"] = std::chrono::duration<double>(SteadyClock::now() - run.asked).count();
  std::error_code ec;
  std::filesystem::remove_all(dir / "state", ec);  // megabytes each, and the forecast is read
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  auto doc = ok ? read_json(dir / kDocumentFile) : std::nullopt;
  if (!doc) {
    result["state"] = "failed";
    result["problem"] = ok ? fmt::format("no readable {}", (dir / kDocumentFile).string())
                           : fmt::format("the forecast run failed: see {}", (dir / "run.log").string());
    write_private_file(dir / kResultFile, result.dump(1));
    spdlog::error("session {}: forecast {}: {}", id_, number, result["problem"].get<std::string>());
    journal_locked({{"kind", "forecast_failed"}, {"t_s", sim_time_s_}, {"by", "server"}, {"forecast", number},
                    {"detail", result["problem"]}});
    pump_all_locked();
    return;
  }
  result["state"] = "done";
  result["horizon_s"] = doc->value("horizon_s", run.horizon_s);
  result["until_s"] = doc->value("until_s", 0.0);
  result["figures"] = doc->value("figures", json::object());
  result["assumption"] = doc->value("assumption", std::string());
  result["changes"] = latest_forecast_ ? forecast_changes(*latest_forecast_, *doc) : json(nullptr);
  publish_forecast_locked(std::move(*doc), result);
}

void Session::publish_forecast_locked(json doc, json result) {
  const int number = result.value("number", 0);
  write_private_file(forecast_dir(number) / kResultFile, result.dump(1));
  forecast_results_.at(static_cast<std::size_t>(number - 1)) = result;
  const std::string changes = result["changes"].is_object() ? result["changes"].value("summary", std::string()) : "first forecast";
  journal_locked({{"kind", "forecast"},
                  {"t_s", sim_time_s_},
                  {"by", "server"},
                  {"forecast", number},
                  {"issued_s", result.value("issued_s", 0.0)},
                  {"horizon_s", result.value("horizon_s", 0.0)},
                  {"reason", result.value("reason", std::string())},
                  {"figures", result["figures"]},
                  {"detail", fmt::format("forecast {} for {:.0f} min: {} roads closed, {} assets failed, {} zones hit; {}",
                                         number, result.value("horizon_s", 0.0) / 60.0,
                                         result["figures"].value("roads_closed", 0), result["figures"].value("assets_failed", 0),
                                         result["figures"].value("zones_hit", 0), changes)}});
  latest_forecast_ = doc;
  forecasts_in_flight_[number] = std::move(doc);
  json message = forecast_message_locked();
  spdlog::info("session {}: forecast {} from {:.0f} s: {}", id_, number, result.value("issued_s", 0.0), changes);
  // Gauge thresholds it says will be crossed: alerts, procedures and a CAP draft.
  if (alert_book_) {
    try {
      for (const auto& c : forecast_crossings(*latest_forecast_, procedure_book_locked().gauge_thresholds()))
        threshold_alert_locked("forecast", c.gauge, c.above_m, c.peak_m, c.t_s,
                               fmt::format("at {} (peak {:.2f} m at {}), forecast issued at {}",
                                           clock_text(record_.value("start", std::string()), c.t_s), c.peak_m,
                                           clock_text(record_.value("start", std::string()), c.peak_t_s),
                                           clock_text(record_.value("start", std::string()), result.value("issued_s", 0.0))));
    } catch (const Error& e) {
      if (!procedures_failed_++) spdlog::error("session {}: procedures: {}", id_, e.what());
    }
  }
  pump_all_locked();
  broadcast_locked(std::move(message), "forecast");
}

json Session::forecast_message_locked() const {
  forecasts_init_locked();
  if (!latest_forecast_) return nullptr;
  const json* result = nullptr;
  for (auto it = forecast_results_.rbegin(); it != forecast_results_.rend() && !result; ++it)
    if (it->value("state", std::string()) == "done") result = &*it;
  if (!result) return nullptr;
  const json& doc = *latest_forecast_;
  return {{"type", "forecast"},
          {"number", result->value("number", 0)},
          {"issued_at", result->value("issued_at", std::string())},
          {"issued_s", result->value("issued_s", 0.0)},
          {"horizon_s", result->value("horizon_s", 0.0)},
          {"reason", result->value("reason", std::string())},
          {"assumption", doc.value("assumption", std::string())},
          {"figures", result->value("figures", json::object())},
          {"changes", result->value("changes", json())},
          {"impacts", doc.value("impacts", json::array())},
          {"gauges", doc.value("gauges", json::array())}};
}

json Session::forecast() const {
  std::lock_guard lock(mutex_);
  if (mode_ != SessionMode::live) fail_as(ErrorCategory::conflict, id_, "is not live: forecasts are a live session's");
  forecasts_init_locked();
  if (!latest_forecast_) fail_as(ErrorCategory::not_found, id_, "has no forecast yet");
  json out;
  for (auto it = forecast_results_.rbegin(); it != forecast_results_.rend(); ++it)
    if (it->value("state", std::string()) == "done") {
      out = *it;
      break;
    }
  const int number = out.value("number", 0);
  if (!out.contains("verification") || !out["verification"].value("final", false))
    out["verification"] = verify_forecast(*latest_forecast_, happened_, sim_time_s_);
  out["impacts"] = latest_forecast_->value("impacts", json::array());
  out["gauges"] = latest_forecast_->value("gauges", json::array());
  out["running"] = forecast_run_ ? json(forecast_run_->number) : json(nullptr);
  out["settings"] = to_json(forecast_settings_);
  out["number"] = number;
  return out;
}

json Session::forecasts() const {
  std::lock_guard lock(mutex_);
  if (mode_ != SessionMode::live) fail_as(ErrorCategory::conflict, id_, "is not live: forecasts are a live session's");
  forecasts_init_locked();
  json list = json::array();
  for (const auto& r : forecast_results_) {
    json s = summary_of(r);
    const auto doc = forecasts_in_flight_.find(r.value("number", 0));
    if (doc != forecasts_in_flight_.end()) s["verification"] = verify_forecast(doc->second, happened_, sim_time_s_);
    if (s.contains("verification"))
      for (const char* group : {"roads", "assets", "zones"}) {
        s["verification"][group].erase("missed");
        s["verification"][group].erase("false_alarm_list");
      }
    list.push_back(std::move(s));
  }
  return {{"settings", to_json(forecast_settings_)}, {"forecasts", std::move(list)}};
}

json Session::request_forecast(const Principal& by, std::optional<double> horizon_s) {
  std::lock_guard lock(mutex_);
  if (mode_ != SessionMode::live) fail_as(ErrorCategory::conflict, id_, "is not live: forecasts are a live session's");
  if (state_ != SessionState::running) fail_as(ErrorCategory::conflict, id_, "is {}: start it first", to_string(state_));
  if (worker_state_ != WorkerState::ready) fail_as(ErrorCategory::unavailable, id_, "its engine is not ready");
  if (horizon_s && !(*horizon_s >= 60.0 && *horizon_s <= 720.0 * 60.0))
    fail_as(ErrorCategory::bad_input, "horizon_min", "{} is outside 1 to 720 min", *horizon_s / 60.0);
  forecasts_init_locked();
  if (forecast_run_) return {{"number", forecast_run_->number}, {"state", "running"}};
  start_forecast_locked("asked by " + principal_text(by), principal_text(by), horizon_s.value_or(forecast_settings_.horizon_s));
  return {{"number", forecast_run_->number}, {"state", "running"}};
}

}  // namespace cadereau::server::service
