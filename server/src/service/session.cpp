#include "session.h"

#include "data_files.h"

#include "cadereau/scenarios/scenario.h"

#include "../worker/session_files.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace cadereau::server::service {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// How long a request waits for the engine to take a command: the engine
// takes them between exchange steps, a fraction of a second apart.
constexpr auto kAnswerWait = std::chrono::seconds(10);
// A stream client whose queue stays half full this long is dropped.
constexpr auto kStuckLimit = std::chrono::seconds(30);
// A worker that has not loaded its territory and scenario by then is stuck.
constexpr auto kStartLimit = std::chrono::seconds(300);
// The feed layer on the stream holds every sensor up to this many, else those that changed.
constexpr std::size_t kWholeFeedLayer = 200;
// A worker that dies this many times within a minute is not started again.
constexpr int kMaxRestartsPerMinute = 5;

ErrorCategory category_of(const std::string& code) {
  for (auto c : {ErrorCategory::bad_input, ErrorCategory::unauthenticated, ErrorCategory::forbidden,
                 ErrorCategory::not_found, ErrorCategory::conflict, ErrorCategory::too_large,
                 ErrorCategory::rate_limited, ErrorCategory::unavailable})
    if (code == to_string(c)) return c;
  return ErrorCategory::internal;
}

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  return "ended";
}

SessionState parse_state(const std::string& text) {
  for (auto s : {SessionState::created, SessionState::running, SessionState::paused, SessionState::stopped})
    if (text == to_string(s)) return s;
  return SessionState::created;
}

const char* command_name(ClockRequest::Command c) {
  switch (c) {
    case ClockRequest::Command::none: return "speed";
    case ClockRequest::Command::start: return "start";
    case ClockRequest::Command::pause: return "pause";
    case ClockRequest::Command::resume: return "resume";
    case ClockRequest::Command::stop: return "stop";
    case ClockRequest::Command::seek: return "seek";
  }
  return "?";
}

// The furthest sim time a session's engine reached, rewritten in place at
// every exchange step (session.json is saved less often).
constexpr const char* kReachedFile = "reached_s";

double read_reached(const std::filesystem::path& file) {
  std::ifstream in(file);
  double t = 0.0;
  return in >> t && std::isfinite(t) && t > 0.0 ? t : 0.0;
}

// A feed's reading: journalled once durable, not when the engine takes it.
bool is_feed_observation(const json& event) { return event.value("kind", std::string()) == "observation"; }

// What identifies a record across runs of the engine.
std::string record_key(const json& r) {
  return fmt::format("{} {} {} at {:.0f} s", r.value("kind", std::string()), r.value("target", std::string()),
                     r.value("detail", std::string()), r.value("t_s", 0.0));
}

}  // namespace

std::string_view to_string(SessionState state) {
  switch (state) {
    case SessionState::created: return "created";
    case SessionState::running: return "running";
    case SessionState::paused: return "paused";
    case SessionState::stopped: return "stopped";
  }
  return "?";
}

Session::Session(std::filesystem::path dir, json record, std::shared_ptr<EventJournal> source)
    : dir_(std::move(dir)), record_(std::move(record)) {
  id_ = record_.at("id").get<std::string>();
  mode_ = parse_session_mode(record_.at("mode").get<std::string>());
  state_ = parse_state(record_.value("state", std::string("created")));
  speed_ = record_.value("speed", 1.0);
  sim_time_s_ = record_.value("sim_time_s", 0.0);
  reached_s_ = sim_time_s_;
  duration_s_ = record_.value("duration_s", 0.0);
  elapsed_base_s_ = record_.value("elapsed_s", 0.0);
  if (mode_ == SessionMode::replay) {
    journal_ = std::move(source);
    replay_head_ = journal_ ? journal_->last_seq_until(sim_time_s_) : 0;
  } else {
    journal_ = std::make_shared<EventJournal>(dir_ / worker::kEventsFile);
    for (const auto& line : journal_->after(0, SIZE_MAX)) {
      const auto e = json::parse(line);
      note_road(e);
      if (e.contains("record")) {
        last_record_id_ = std::max(last_record_id_, e["record"].get<std::uint64_t>());
        record_keys_[e["record"].get<std::uint64_t>()] = record_key(e);
      }
    }
    reached_s_ = std::max({reached_s_, journal_->last_t_s(), read_reached(dir_ / kReachedFile)});
    sim_time_s_ = reached_s_;
    reached_fd_ = ::open((dir_ / kReachedFile).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (mode_ == SessionMode::exercise) injects_ = std::make_unique<InjectBook>(dir_);
    alert_book_ = std::make_unique<AlertBook>(dir_, record_.value("territory", std::string()));
    if (mode_ == SessionMode::live) forecast_settings_ = parse_forecast_settings(record_.value("forecast", json()));
  }
}

Session::~Session() {
  {
    std::lock_guard lock(mutex_);
    log_stop_ = true;
  }
  log_changed_.notify_all();
  if (log_committer_.joinable()) log_committer_.join();  // it makes what is written durable first
  if (log_fd_ >= 0) ::close(log_fd_);
  if (reached_fd_ >= 0) ::close(reached_fd_);
}

void Session::note_road(const json& record) {
  const std::string kind = record.value("kind", std::string());
  if (kind == "road_closed") closed_roads_.insert(record.value("target", std::string()));
  if (kind == "road_reopened") closed_roads_.erase(record.value("target", std::string()));
}

void Session::note_reached_locked() {
  // One small write per exchange step, no fsync: what a killed server must
  // not lose is in the page cache already; a lost machine loses a few steps.
  if (reached_fd_ < 0) return;
  char text[32];
  const auto end = fmt::format_to_n(text, sizeof text - 1, "{:<30.3f}", reached_s_).out;
  *end = '\n';
  if (::pwrite(reached_fd_, text, static_cast<std::size_t>(end - text + 1), 0) < 0) return;
}

std::string Session::replay_of() const { return record_.value("of", std::string()); }

std::filesystem::path Session::territory_dir() const {
  std::lock_guard lock(mutex_);
  return record_.value("territory", std::string());
}

json Session::summary() const {
  std::lock_guard lock(mutex_);
  return {{"id", id_},
          {"mode", std::string(to_string(mode_))},
          {"name", record_.value("name", std::string())},
          {"state", std::string(to_string(state_))},
          {"sim_time_s", now_s_locked()},
          {"speed", speed_}};
}

json Session::clock_json_locked() const {
  return {{"type", "clock"},
          {"seq", head_locked()},
          {"state", std::string(to_string(state_))},
          {"sim_time_s", now_s_locked()},
          {"duration_s", duration_s_},
          {"start", record_.value("start", std::string())},
          {"elapsed_s", elapsed_s_locked()},
          {"speed", speed_},
          {"lagging", lagging_},
          {"achieved_speed", state_ == SessionState::running ? achieved_speed_ : 0.0}};
}

json Session::describe_locked() const {
  json d = {{"id", id_},
            {"mode", std::string(to_string(mode_))},
            {"name", record_.value("name", std::string())},
            {"state", std::string(to_string(state_))},
            {"sim_time_s", now_s_locked()},
            {"speed", speed_},
            {"clock", clock_json_locked()},
            {"kpis", kpis_},
            {"last_seq", head_locked()},
            {"created_by", record_.value("created_by", std::string())},
            {"created_at", record_.value("created_at", std::string())}};
  d["clock"].erase("type");
  if (mode_ == SessionMode::replay) {
    d["of"] = record_.value("of", std::string());
  } else {
    static constexpr const char* kWorkerStates[] = {"none", "starting", "ready", "failed"};
    d["worker"] = {{"state", kWorkerStates[static_cast<int>(worker_state_)]},
                   {"restarts", restarts_},
                   {"diverged_records", diverged_},
                   {"problem", worker_problem_},
                   {"pid", worker_ ? worker_->pid() : 0}};
    d["scenario"] = record_.value("scenario_name", std::string());
    if (record_.contains("scenario_ref")) d["scenario_ref"] = record_["scenario_ref"];
    // The green-wave plan its lights run: {"session","plan","programs": {light: program}}.
    if (record_.contains("light_plan")) d["light_plan"] = record_["light_plan"];
  }
  if (mode_ == SessionMode::live) d["forecast"] = to_json(forecast_settings_);
  return d;
}

json Session::describe() const {
  std::lock_guard lock(mutex_);
  return describe_locked();
}

double Session::elapsed_s_locked() const {
  double e = elapsed_base_s_;
  if (state_ == SessionState::running)
    e += std::chrono::duration<double>(SteadyClock::now() - running_since_).count();
  return e;
}

double Session::now_s_locked() const {
  return mode_ == SessionMode::replay ? replay_time_s_locked() : sim_time_s_;
}

double Session::replay_time_s_locked() const {
  if (state_ != SessionState::running) return sim_time_s_;
  const double wall_s = std::chrono::duration<double>(SteadyClock::now() - running_since_).count();
  return std::min(duration_s_, sim_time_s_ + wall_s * speed_);
}

std::uint64_t Session::head_locked() const {
  if (mode_ == SessionMode::replay) return replay_head_;
  return journal_->last_seq();
}

void Session::set_state_locked(SessionState state) {
  if (state_ == SessionState::running && state != SessionState::running) {
    elapsed_base_s_ = elapsed_s_locked();
    if (mode_ == SessionMode::replay) sim_time_s_ = replay_time_s_locked();
  }
  if (state == SessionState::running && state_ != SessionState::running) running_since_ = SteadyClock::now();
  state_ = state;
}

void Session::save_locked() const {
  json r = record_;
  r["state"] = std::string(to_string(state_));
  r["speed"] = speed_;
  r["sim_time_s"] = now_s_locked();
  r["elapsed_s"] = elapsed_s_locked();
  r["duration_s"] = duration_s_;
  write_private_file(dir_ / worker::kSessionFile, r.dump(2));
}

std::uint64_t Session::journal_locked(json event) {
  if (!event.contains("type")) event["type"] = "event";
  if (forecasts_loaded_) note_happened_locked(event);
  return journal_->append(std::move(event));
}

std::uint64_t Session::write_command_line_locked(const json& line) {
  const auto file = dir_ / worker::kCommandsFile;
  if (log_fd_ < 0) log_fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd_ < 0) fail_as(ErrorCategory::unavailable, file.string(), "cannot append");
  const std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (::write(log_fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    fail_as(ErrorCategory::unavailable, file.string(), "cannot append");
  log_written_ += text.size();
  return log_written_;
}

void Session::append_command_line(const json& line, bool durable) {
  write_command_line_locked(line);
  if (!durable) {
    start_committer_locked();
    log_changed_.notify_one();
    return;
  }
  // The commands waiting for the committer were written before this one:
  // durable with it, they go to the engine first.
  const std::uint64_t written = log_written_;
  if (::fdatasync(log_fd_) != 0)
    fail_as(ErrorCategory::unavailable, (dir_ / worker::kCommandsFile).string(), "cannot make the command durable");
  release_durable_locked(written);
}

void Session::release_durable_locked(std::uint64_t synced) {
  log_synced_ = std::max(log_synced_, synced);
  bool journalled = false;
  while (!log_waiting_.empty() && log_waiting_.front().end <= log_synced_) {
    DurableSend& d = log_waiting_.front();
    if (d.journal) {
      // Its engine's answer finds no request waiting: nothing is journalled twice.
      if (auto it = pending_.find(d.ticket); it != pending_.end()) {
        journal_locked(it->second.answer.value_or(json::object()));
        pending_.erase(it);
        journalled = true;
      }
    }
    // A worker starting (again) is re-fed it from the file when ready.
    if (worker_ && worker_state_ == WorkerState::ready) worker_->send(std::move(d.submit));
    log_waiting_.pop_front();
  }
  if (journalled) pump_all_locked();
}

void Session::start_committer_locked() {
  if (!log_committer_.joinable()) log_committer_ = std::thread([this] { commit_loop(); });
}

void Session::commit_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    log_changed_.wait(lock, [&] { return log_stop_ || log_written_ > log_synced_; });
    if (log_written_ <= log_synced_) return;  // stopping, and everything is durable
    const std::uint64_t written = log_written_;
    const int fd = log_fd_;
    // Lines written meanwhile wait for the next sync: the group.
    lock.unlock();
    const bool ok = ::fdatasync(fd) == 0;
    const int error = errno;
    lock.lock();
    if (ok) {
      release_durable_locked(written);
      continue;
    }
    // The commands wait (the engine does not get them) until the disk takes them.
    if (log_failures_++ % 100 == 0)
      spdlog::error("session {}: {} cannot be made durable ({}); its commands wait", id_,
                    (dir_ / worker::kCommandsFile).string(), std::strerror(error));
    if (log_changed_.wait_for(lock, std::chrono::milliseconds(100), [&] { return log_stop_; })) return;
  }
}

// ---- the worker ----

void Session::open(worker::Supervisor& supervisor) {
  std::lock_guard lock(mutex_);
  supervisor_ = &supervisor;
  // Back after the server went away: time did not run meanwhile.
  if (state_ == SessionState::running) state_ = SessionState::paused;
  if (mode_ != SessionMode::replay && state_ != SessionState::stopped) start_worker_locked();
  save_locked();
}

void Session::close() {
  std::lock_guard lock(mutex_);
  closing_ = true;
  if (worker_) worker_->send(json{{"type", "stop"}}.dump());
  if (forecast_run_ && forecast_run_->process) forecast_run_->process->signal(SIGTERM);
  if (state_ == SessionState::running) set_state_locked(SessionState::paused);
  save_locked();
  for (auto& s : subscribers_) s.sink->drop("the server is shutting down");
  subscribers_.clear();
}

void Session::start_worker_locked() {
  worker_state_ = WorkerState::starting;
  worker_started_ = SteadyClock::now();
  std::weak_ptr<Session> weak = weak_from_this();
  worker_ = supervisor_->start(dir_, {[weak](std::string line) {
                                        if (auto self = weak.lock()) self->on_worker_line(line);
                                      },
                                      [weak](int status) {
                                        if (auto self = weak.lock()) self->on_worker_exit(status);
                                      }});
  spdlog::info("session {}: engine worker started (pid {})", id_, worker_->pid());
}

void Session::on_worker_line(const std::string& line) {
  const json message = json::parse(line, nullptr, false);
  if (!message.is_object()) return;
  const std::string type = message.value("type", std::string());
  if (type == "exchange") return on_exchange(message);
  if (type == "ready") return on_ready(message);
  if (type == "checkpoint" || type == "checkpoint_failed") return on_checkpoint(message);
  std::lock_guard lock(mutex_);
  if (type == "ack" || type == "refused") {
    const auto ticket = message.value("ticket", std::uint64_t{0});
    json outcome = {{"ticket", ticket}};
    if (type == "ack")
      outcome["at_s"] = message.value("at_s", 0.0);
    else
      outcome["refused"] = message.value("message", std::string());
    // Written before the answer is journalled; durable with the next group.
    append_command_line(outcome, false);
    auto it = pending_.find(ticket);
    if (it == pending_.end()) return;
    if (type == "ack") {
      json event = it->second.answer.value_or(json::object());
      const std::uint64_t seq = journal_locked(std::move(event));
      it->second.answer = json{{"seq", seq}};
      pump_all_locked();
    } else if (it->second.async) {
      // An inject's effect the engine would not take: the staff are told.
      json event = it->second.answer.value_or(json::object());
      journal_locked({{"t_s", sim_time_s_}, {"kind", "inject_effect_refused"}, {"by", "engine"},
                      {"inject", event.value("inject", std::string())}, {"detail", outcome["refused"]}, {"staff_only", true}});
      pump_all_locked();
    } else {
      it->second.answer = json{{"code", message.value("code", std::string("bad_input"))}, {"message", outcome["refused"]}};
    }
    if (it->second.async) pending_.erase(it);
    answered_.notify_all();
  } else if (type == "ended") {
    sim_time_s_ = message.value("sim_time_s", sim_time_s_);
    set_state_locked(SessionState::stopped);
    closing_ = true;
    journal_locked({{"t_s", sim_time_s_}, {"kind", "session_ended"}, {"by", "engine"}, {"detail", "the scenario's end"}});
    if (worker_) worker_->send(json{{"type", "stop"}}.dump());
    save_locked();
    broadcast_locked(clock_json_locked(), "clock");
    pump_all_locked();
  } else if (type == "failed") {
    worker_problem_ = message.value("message", std::string());
    spdlog::error("session {}: engine worker failed: {}", id_, worker_problem_);
  }
}

void Session::on_ready(const json& message) {
  std::lock_guard lock(mutex_);
  worker_state_ = WorkerState::ready;
  worker_problem_.clear();
  // What a restarted worker tells again is dropped; a first worker tells
  // everything, its records at 0 s too.
  retold_until_s_ = record_keys_.empty() && reached_s_ <= 0.0 ? -1.0 : reached_s_;
  first_new_id_.reset();
  id_offset_ = 0;
  duration_s_ = message.value("duration_s", duration_s_);
  const double at_s = message.value("sim_time_s", 0.0);
  spdlog::info("session {}: engine ready at {:.0f} s{}", id_, at_s,
               reached_s_ > at_s ? fmt::format(", catching up to {:.0f} s", reached_s_) : std::string());
  refeed_locked();
  if (reached_s_ > at_s) worker_->send(json{{"type", "catch_up"}, {"to_s", reached_s_}}.dump());
  send_clock_locked();
  save_locked();
}

// Every command the engine took goes back to a new worker, which submits
// those taken at or after its checkpoint when its time comes; commands with
// no answer yet are sent again as new.
void Session::refeed_locked() {
  std::ifstream in(dir_ / worker::kCommandsFile);
  std::map<std::uint64_t, json> sent;
  std::string line;
  while (std::getline(in, line)) {
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("ticket")) continue;  // a torn last line
    const auto ticket = j["ticket"].get<std::uint64_t>();
    next_ticket_ = std::max(next_ticket_, ticket + 1);
    if (j.contains("command"))
      sent[ticket] = j;
    else if (j.contains("at_s") && sent.count(ticket))
      sent[ticket]["at_s"] = j["at_s"];
    else if (j.contains("refused"))
      sent.erase(ticket);
  }
  for (auto& [ticket, j] : sent) {
    // Not durable yet: the committer sends it once it is.
    if (std::any_of(log_waiting_.begin(), log_waiting_.end(), [&](const DurableSend& w) { return w.ticket == ticket; }))
      continue;
    json submit = {{"type", "submit"}, {"ticket", ticket}, {"command", j["command"]}};
    if (j.contains("at_s")) {
      submit["at_s"] = j["at_s"];
    } else if (!pending_.count(ticket) && !is_feed_observation(j.value("event", json::object()))) {
      // Its request is gone: the answer is journalled when it comes (a
      // feed's reading was journalled once durable).
      pending_[ticket].answer = j.value("event", json::object());
      pending_[ticket].async = true;
    }
    worker_->send(submit.dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

void Session::send_clock_locked() {
  if (!worker_ || worker_state_ != WorkerState::ready) return;
  worker_->send(json{{"type", "clock"},
                     {"state", state_ == SessionState::running ? "running" : "paused"},
                     {"speed", speed_}}
                    .dump());
}

void Session::on_exchange(const json& message) {
  std::lock_guard lock(mutex_);
  sim_time_s_ = message.value("sim_time_s", sim_time_s_);
  reached_s_ = std::max(reached_s_, sim_time_s_);
  note_reached_locked();
  lagging_ = message.value("lagging", false);
  achieved_speed_ = message.value("achieved_speed", 0.0);
  if (message.contains("kpis")) kpis_ = message["kpis"];
  for (const auto& g : message.value("gauges", json::array()))
    if (g.contains("depth_m")) gauge_depth_m_[g.value("id", std::string())] = g["depth_m"].get<double>();
  std::vector<json> events;
  for (const auto& r : message.value("records", json::array())) {
    // A feed's reading is journalled by the session once durable, with its device and digest.
    if (r.value("kind", std::string()) == "observation" &&
        (r.value("by", std::string()) == "mqtt" || r.value("by", std::string()) == "sensorthings"))
      continue;
    json event = r;
    if (r.value("t_s", 0.0) <= retold_until_s_) {
      // A restarted worker telling again what is journalled: checked, not kept.
      const auto known = r.contains("id") ? record_keys_.find(r["id"].get<std::uint64_t>()) : record_keys_.end();
      if (known != record_keys_.end() && known->second != record_key(r) && diverged_++ == 0)
        spdlog::warn("session {}: the restarted engine differs from the first run at record {} ({} against {})", id_,
                     known->first, record_key(r), known->second);
      continue;
    }
    if (r.contains("id")) {
      // Numbered on from the journal's records: a re-run that took another
      // course may have counted differently before.
      const auto id = r["id"].get<std::uint64_t>();
      if (!first_new_id_) {
        first_new_id_ = id;
        id_offset_ = last_record_id_ + 1 > id ? last_record_id_ + 1 - id : 0;
      }
      const auto renumber = [&](std::uint64_t engine_id) { return engine_id >= *first_new_id_ ? engine_id + id_offset_ : engine_id; };
      event.erase("id");
      event["record"] = renumber(id);
      json causes = json::array();
      for (const auto& c : r.value("causes", json::array())) causes.push_back(renumber(c.get<std::uint64_t>()));
      event["causes"] = std::move(causes);
      last_record_id_ = renumber(id);
      record_keys_[last_record_id_] = record_key(r);
    }
    event["type"] = "event";
    note_road(event);
    if (forecasts_loaded_) note_happened_locked(event);
    events.push_back(std::move(event));
  }
  if (!events.empty()) journal_->append_all(std::move(events));
  deliver_due_locked();
  if (alert_book_ && !gauge_depth_m_.empty()) {
    try {
      propose_locked(procedure_book_locked().on_gauges({gauge_depth_m_.begin(), gauge_depth_m_.end()}, sim_time_s_));
    } catch (const Error& e) {
      // Checked when the server starts; a procedure file broken since then
      // must not stop the session.
      if (!procedures_failed_++) spdlog::error("session {}: procedures: {}", id_, e.what());
    }
  }
  pump_all_locked();  // the step's events before the state they lead to
  broadcast_locked(json{{"type", "kpi"}, {"t_s", sim_time_s_}, {"kpis", kpis_}}, "kpi");
  if (message.value("frame", false)) broadcast_locked(json{{"type", "frame"}, {"t_s", sim_time_s_}}, "frame");
  if (message.value("traffic", false)) broadcast_locked(json{{"type", "traffic"}, {"t_s", sim_time_s_}}, "traffic");
}

void Session::on_worker_exit(int status) {
  std::lock_guard lock(mutex_);
  worker_.reset();
  if (closing_ || state_ == SessionState::stopped) {
    worker_state_ = WorkerState::none;
    return;
  }
  const auto now = SteadyClock::now();
  std::erase_if(recent_restarts_, [&](auto t) { return now - t > std::chrono::minutes(1); });
  const bool never_ready = worker_state_ == WorkerState::starting && !worker_problem_.empty();
  spdlog::warn("session {}: engine worker {} at {:.0f} s", id_, exit_text(status), sim_time_s_);
  if (never_ready || static_cast<int>(recent_restarts_.size()) >= kMaxRestartsPerMinute) {
    worker_state_ = WorkerState::failed;
    if (worker_problem_.empty()) worker_problem_ = "the engine worker " + exit_text(status) + " too often";
    if (state_ == SessionState::running) set_state_locked(SessionState::paused);
    journal_locked({{"t_s", sim_time_s_}, {"kind", "engine_failed"}, {"by", "server"}, {"detail", worker_problem_}});
    save_locked();
    broadcast_locked(clock_json_locked(), "clock");
    pump_all_locked();
    return;
  }
  recent_restarts_.push_back(now);
  ++restarts_;
  journal_locked({{"t_s", sim_time_s_},
                  {"kind", "engine_restarted"},
                  {"by", "server"},
                  {"detail", fmt::format("the engine worker {}; started again from its last checkpoint", exit_text(status))}});
  pump_all_locked();
  start_worker_locked();
}

// ---- requests ----

json Session::control_clock(const ClockRequest& request, const Principal& by) {
  using C = ClockRequest::Command;
  std::lock_guard lock(mutex_);
  if (request.speed && !(*request.speed >= kMinSpeed && *request.speed <= kMaxSpeed))
    fail_as(ErrorCategory::bad_input, "speed", "{} is outside {} to {}", *request.speed, kMinSpeed, kMaxSpeed);
  if (state_ == SessionState::stopped) fail_as(ErrorCategory::conflict, id_, "is stopped");
  if (mode_ == SessionMode::live) {
    if (request.speed && *request.speed != 1.0)
      fail_as(ErrorCategory::conflict, id_, "is live: its clock is the wall clock, speed 1");
    if (request.command == C::pause || request.command == C::resume || request.command == C::seek)
      fail_as(ErrorCategory::conflict, id_, "is live: its clock is the wall clock and cannot be paused");
  }
  if (request.command == C::seek && mode_ != SessionMode::replay)
    fail_as(ErrorCategory::bad_input, id_, "seek applies to replays only");
  if (request.command == C::none && !request.speed) fail_as(ErrorCategory::bad_input, "clock", "needs a command or a speed");
  const auto refuse = [&](const char* why) {
    fail_as(ErrorCategory::conflict, id_, "cannot {}: {}", command_name(request.command), why);
  };
  switch (request.command) {
    case C::start:
      if (state_ != SessionState::created) refuse("it has already started (resume a paused one)");
      if (worker_state_ == WorkerState::failed) refuse("its engine failed");
      break;
    case C::pause:
      if (state_ != SessionState::running) refuse("it is not running");
      break;
    case C::resume:
      if (state_ != SessionState::paused) refuse("it is not paused");
      if (worker_state_ == WorkerState::failed) refuse("its engine failed");
      break;
    case C::seek:
      if (!request.time_s || !(*request.time_s >= 0.0 && *request.time_s <= duration_s_))
        fail_as(ErrorCategory::bad_input, "time_s", "a seek needs a time from 0 to {} s", duration_s_);
      break;
    case C::stop:
    case C::none:
      break;
  }
  if (request.speed) {
    if (state_ == SessionState::running) set_state_locked(SessionState::paused), set_state_locked(SessionState::running);
    speed_ = *request.speed;
  }
  switch (request.command) {
    case C::start:
    case C::resume: set_state_locked(SessionState::running); break;
    case C::pause: set_state_locked(SessionState::paused); break;
    case C::stop:
      set_state_locked(SessionState::stopped);
      closing_ = true;
      if (worker_) worker_->send(json{{"type", "stop"}}.dump());
      break;
    case C::seek: {
      const bool running = state_ == SessionState::running;
      if (running) set_state_locked(SessionState::paused);
      sim_time_s_ = *request.time_s;
      if (running) set_state_locked(SessionState::running);
      replay_head_ = journal_->last_seq_until(sim_time_s_);
      for (auto& s : subscribers_) {
        s.next_seq = replay_head_ + 1;
        s.sink->push(json{{"type", "seek"}, {"seq", replay_head_}, {"sim_time_s", sim_time_s_}}.dump());
      }
      break;
    }
    case C::none: break;
  }
  send_clock_locked();
  const double now_s = now_s_locked();
  if (mode_ != SessionMode::replay) {
    json event = {{"t_s", now_s}, {"kind", "clock"}, {"by", principal_text(by)}, {"command", command_name(request.command)},
                  {"speed", speed_}, {"state", std::string(to_string(state_))}};
    journal_locked(std::move(event));
  }
  spdlog::info("session {}: clock {} by {} at {:.0f} s, speed {}", id_, command_name(request.command), principal_text(by), now_s, speed_);
  save_locked();
  broadcast_locked(clock_json_locked(), "clock");
  pump_all_locked();
  return describe_locked();
}

std::uint64_t Session::submit(sim::engine::Command command, const Principal& by, const std::string& what,
                              const json& extra) {
  std::unique_lock lock(mutex_);
  if (mode_ == SessionMode::replay) fail_as(ErrorCategory::conflict, id_, "is a replay: nothing is written into history");
  if (state_ == SessionState::stopped) fail_as(ErrorCategory::conflict, id_, "is stopped");
  if (worker_state_ == WorkerState::failed) fail_as(ErrorCategory::conflict, id_, "its engine failed: {}", worker_problem_);
  if (worker_state_ != WorkerState::ready || !worker_)
    fail_as(ErrorCategory::unavailable, id_, "its engine is starting; try again in a few seconds");
  const std::uint64_t ticket = next_ticket_++;
  json command_json = json::parse(sim::engine::command_json(command));
  json event = {{"t_s", sim_time_s_}, {"kind", what}, {"by", principal_text(by)}, {"command", command_json}, {"ticket", ticket}};
  if (by.cell) event["cell"] = std::string(to_string(*by.cell));
  if (extra.is_object()) event.update(extra);
  append_command_line({{"ticket", ticket}, {"command", command_json}, {"event", event}});
  pending_[ticket].answer = std::move(event);
  worker_->send(json{{"type", "submit"}, {"ticket", ticket}, {"command", command_json}}.dump(
      -1, ' ', false, json::error_handler_t::replace));
  const auto taken = [&] {
    auto it = pending_.find(ticket);
    return it != pending_.end() && it->second.answer &&
           (it->second.answer->contains("seq") || it->second.answer->contains("code"));
  };
  if (!answered_.wait_for(lock, kAnswerWait, taken))
    fail_as(ErrorCategory::unavailable, id_, "the engine has not taken command {} yet; it stays queued", ticket);
  const json answer = *pending_[ticket].answer;
  pending_.erase(ticket);
  if (answer.contains("code"))
    throw Error(id_, answer.value("message", std::string()), category_of(answer["code"].get<std::string>()));
  return answer["seq"].get<std::uint64_t>();
}

void Session::submit_async_locked(sim::engine::Command command, json event) {
  const std::uint64_t ticket = next_ticket_++;
  json command_json = json::parse(sim::engine::command_json(command));
  event["command"] = command_json;
  event["ticket"] = ticket;
  const std::uint64_t end = write_command_line_locked({{"ticket", ticket}, {"command", command_json}, {"event", event}});
  pending_[ticket] = Pending{std::move(event), true};
  // To the engine once durable (the committer's next sync). A feed's
  // reading is acknowledged then: it is safe from that moment, and the
  // engine, which takes commands between its steps, may take seconds.
  log_waiting_.push_back({end, ticket,
                          json{{"type", "submit"}, {"ticket", ticket}, {"command", std::move(command_json)}}.dump(
                              -1, ' ', false, json::error_handler_t::replace),
                          is_feed_observation(pending_[ticket].answer.value_or(json::object()))});
  start_committer_locked();
  log_changed_.notify_one();
}

void Session::note(const std::string& source, const json& payload) {
  std::lock_guard lock(mutex_);
  note_locked(source, payload);
}

void Session::note_locked(const std::string& source, const json& payload) {
  if (worker_ && worker_state_ == WorkerState::ready)
    worker_->send(json{{"type", "note"}, {"source", source}, {"payload", payload}}.dump(-1, ' ', false,
                                                                                         json::error_handler_t::replace));
}

// ---- events and streams ----

std::vector<std::string> Session::events_after(std::uint64_t after_seq, std::size_t limit, const Viewer& viewer) const {
  std::lock_guard lock(mutex_);
  return journal_->after(after_seq, limit, viewer, head_locked());
}

void Session::subscribe(std::shared_ptr<http::StreamSink> sink, std::uint64_t after_seq, const Viewer& viewer) {
  std::lock_guard lock(mutex_);
  json clock = clock_json_locked();
  clock["seq"] = after_seq;
  sink->push(clock.dump(), "clock");
  if (!kpis_.empty())
    sink->push(json{{"type", "kpi"}, {"seq", after_seq}, {"t_s", sim_time_s_}, {"kpis", kpis_}}.dump(), "kpi");
  if (mode_ == SessionMode::live && alert_book_) {
    // The layers a live room shows from the start: the feeds, the latest forecast.
    json layer = feeds_locked();
    layer["type"] = "feed";
    layer["seq"] = after_seq;
    sink->push(layer.dump(-1, ' ', false, json::error_handler_t::replace), "feed");
    json forecast = forecast_message_locked();
    if (!forecast.is_null()) {
      forecast["seq"] = after_seq;
      sink->push(forecast.dump(-1, ' ', false, json::error_handler_t::replace), "forecast");
    }
  }
  subscribers_.push_back({std::move(sink), viewer, after_seq + 1, {}});
  pump_locked(subscribers_.back());
}

void Session::pump_locked(Subscriber& s) {
  const std::uint64_t head = head_locked();
  const std::size_t room = s.sink->capacity() / 2;
  while (s.next_seq <= head && s.sink->queued() < room) {
    std::uint64_t next = s.next_seq;
    const auto batch = journal_->after(s.next_seq - 1, room - s.sink->queued(), s.viewer, head, &next);
    for (const auto& line : batch)
      if (!s.sink->push(line)) return;
    s.next_seq = next;
    if (batch.empty()) break;
  }
  const auto now = SteadyClock::now();
  if (s.next_seq > head) {
    s.stuck_since = {};
  } else if (s.stuck_since == SteadyClock::time_point{}) {
    s.stuck_since = now;
  } else if (now - s.stuck_since > kStuckLimit) {
    s.sink->drop(fmt::format("too slow: {} events behind", head - s.next_seq + 1));
  }
}

void Session::pump_all_locked() {
  std::erase_if(subscribers_, [](const Subscriber& s) { return !s.sink->is_open(); });
  for (auto& s : subscribers_) pump_locked(s);
}

void Session::broadcast_locked(json message, std::string_view key) {
  // A state message carries the seq of the last event its client was sent,
  // so that it never names an event the client has not had yet.
  for (auto& s : subscribers_) {
    message["seq"] = s.next_seq - 1;
    s.sink->push(message.dump(), key);
  }
}

void Session::tick(bool broadcast_clock) {
  std::lock_guard lock(mutex_);
  if (mode_ == SessionMode::replay && state_ == SessionState::running) {
    replay_head_ = journal_->last_seq_until(replay_time_s_locked());
    if (replay_time_s_locked() >= duration_s_) {
      set_state_locked(SessionState::stopped);
      save_locked();
    }
  }
  deliver_due_locked();
  forecast_tick_locked();
  pump_all_locked();
  if (mode_ == SessionMode::live && alert_book_) {
    const auto since = SteadyClock::now() - feeds_told_;
    if ((!feeds_changed_.empty() && since >= std::chrono::seconds(1)) || since >= std::chrono::minutes(1)) {
      feeds_told_ = SteadyClock::now();
      // A large network's layer is what changed: each second's whole table would be megabytes.
      json layer = feeds_locked(feed_health_.size() > kWholeFeedLayer ? &feeds_changed_ : nullptr);
      feeds_changed_.clear();
      layer["type"] = "feed";
      broadcast_locked(std::move(layer), "feed");
    }
  }
  if (broadcast_clock) broadcast_locked(clock_json_locked(), "clock");
  if (worker_ && worker_state_ == WorkerState::starting && SteadyClock::now() - worker_started_ > kStartLimit &&
      worker_problem_.empty()) {
    // A worker that never says it is ready is ended; its exit decides what follows.
    worker_problem_ = fmt::format("the engine did not start within {} s", kStartLimit.count());
    spdlog::error("session {}: {}", id_, worker_problem_);
    worker_->signal(SIGKILL);
  }
  const auto now = SteadyClock::now();
  if (state_ == SessionState::running && now - last_save_ >= std::chrono::seconds(1)) {
    last_save_ = now;
    save_locked();
  }
}

}  // namespace cadereau::server::service

