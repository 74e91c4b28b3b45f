// `cadereau worker --session DIR --fd N`: one session's engine, in a process
// of its own (libsumo is one simulation per process), driven by the server
// over the socket on descriptor N (worker_protocol.h).
//
// The engine runs on this process's main thread; a reader thread only parses
// the server's lines into an inbox. Commands are submitted to the engine
// between exchange steps, on the engine's thread, so the time each was taken
// is exact and a re-fed run takes the same course.

#include "engine_worker.h"

#include "session_files.h"
#include "worker_protocol.h"

#include "../run_command.h"
#include "cadereau/scenarios/scenario.h"
#include "cadereau/sim/engine/engine.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/geo.h"
#include "cadereau/twin/recording.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

namespace cadereau::server::worker {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// Keyframes (the checkpoints a restarted worker starts from) this often, sim s.
constexpr double kCheckpointEvery_s = 300.0;
// Behind the paced time by more than this (wall s), the clock gives up the
// debt rather than racing to catch up, and says it is lagging.
constexpr double kLagTolerance_s = 1.0;

struct Inbox {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<json> messages;
  bool closed = false;
};

void read_server(LineChannel& channel, Inbox& inbox) {
  std::string line;
  while (channel.read_line(line)) {
    json message = json::parse(line, nullptr, false);
    if (!message.is_object()) continue;  // the server writes only objects
    std::lock_guard lock(inbox.mutex);
    inbox.messages.push_back(std::move(message));
    inbox.changed.notify_one();
  }
  std::lock_guard lock(inbox.mutex);
  inbox.closed = true;
  inbox.changed.notify_one();
}

// The game clock as the worker keeps it: paced sim time and whether it holds.
struct Pacing {
  bool running = false;
  double speed = 1.0;
  double anchor_sim_s = 0.0;
  SteadyClock::time_point anchor_wall = SteadyClock::now();
  bool lagging = false;
  // Achieved speed over the last few seconds of running.
  double window_sim_s = 0.0;
  SteadyClock::time_point window_wall = SteadyClock::now();
  double achieved_speed = 0.0;

  void restart(double sim_s) {
    anchor_sim_s = sim_s;
    anchor_wall = SteadyClock::now();
    window_sim_s = sim_s;
    window_wall = anchor_wall;
  }
  SteadyClock::time_point due(double sim_s) const {
    return anchor_wall + std::chrono::duration_cast<SteadyClock::duration>(
                             std::chrono::duration<double>((sim_s - anchor_sim_s) / speed));
  }
  void stepped(double sim_s) {
    const auto now = SteadyClock::now();
    const double late_s = std::chrono::duration<double>(now - due(sim_s)).count();
    if (late_s > kLagTolerance_s) {
      lagging = true;
      restart_anchor_only(sim_s, now);
    } else if (late_s < 0.0) {
      lagging = false;
    }
    const double wall_s = std::chrono::duration<double>(now - window_wall).count();
    if (wall_s >= 2.0) {
      achieved_speed = (sim_s - window_sim_s) / wall_s;
      window_sim_s = sim_s;
      window_wall = now;
    }
  }
  void restart_anchor_only(double sim_s, SteadyClock::time_point now) {
    anchor_sim_s = sim_s;
    anchor_wall = now;
  }
};

json record_json(const sim::impact::Impact& r, const std::string& command, const twin::CrsTransform& to_geo) {
  json j = {{"id", r.id},         {"t_s", r.t_s},          {"kind", r.kind},         {"target", r.target},
            {"detail", r.detail}, {"x_m", r.place.x_m},    {"y_m", r.place.y_m},     {"people", r.people},
            {"causes", r.causes}, {"by", std::string("engine")}};
  // WGS84 too, for maps that know no Lambert-93 (the console); six decimals, about 0.1 m.
  if (r.place.x_m != 0.0 || r.place.y_m != 0.0) try {
      const auto g = to_geo.forward({r.place.x_m, r.place.y_m});
      j["lon"] = std::round(g.x * 1e6) / 1e6;
      j["lat"] = std::round(g.y * 1e6) / 1e6;
    } catch (const Error&) {
      // a place PROJ cannot take keeps its map coordinates only
    }
  if (!command.empty()) {
    json c = json::parse(command, nullptr, false);
    if (c.is_object()) {
      if (c.contains("by") && c["by"].is_string() && !c["by"].get<std::string>().empty()) j["by"] = c["by"];
      j["command"] = std::move(c);
    }
  }
  return j;
}

class StreamObserver final : public sim::engine::EngineObserver {
 public:
  StreamObserver(LineChannel& channel, const Pacing& pacing, const twin::Crs& crs)
      : channel_(channel), pacing_(pacing), to_geo_(crs, twin::Crs::wgs84()) {}

  void on_exchange(const sim::engine::ExchangeReport& report) override {
    json records = json::array();
    for (std::size_t i = 0; i < report.new_records.size(); ++i)
      records.push_back(record_json(report.new_records[i],
                                    i < report.record_commands.size() ? report.record_commands[i] : std::string(), to_geo_));
    for (const auto& o : report.observations) {
      const auto& obs = std::get<sim::engine::Observation>(o.command);
      json record = {{"kind", "observation"}, {"t_s", o.taken_s}, {"target", obs.sensor_id},
                     {"value", obs.value},    {"measured_s", obs.t_s}, {"by", obs.source}};
      if (obs.failed) record["failed"] = true;
      records.push_back(std::move(record));
    }
    json gauges = json::array();
    for (const auto& g : report.gauges)
      gauges.push_back({{"id", std::string(g.id)}, {"wse_m", g.wse_m}, {"depth_m", g.depth_m}});
    const json message = {{"type", "exchange"},
                          {"sim_time_s", report.t_s},
                          {"records", std::move(records)},
                          {"kpis",
                           {{"roads_closed", report.kpis.roads_closed},
                            {"people_at_risk", report.kpis.people_at_risk},
                            {"assets_out_of_service", report.kpis.assets_out_of_service},
                            {"vehicles_running", report.kpis.vehicles_running},
                            {"volume_nudged_in_m3", report.kpis.volume_nudged_in_m3},
                            {"volume_nudged_out_m3", report.kpis.volume_nudged_out_m3}}},
                          {"gauges", std::move(gauges)},
                          {"frame", report.depth != nullptr},
                          {"traffic", !report.traffic.empty()},
                          {"lagging", pacing_.lagging},
                          {"achieved_speed", pacing_.achieved_speed}};
    channel_.write_line(message.dump(-1, ' ', false, json::error_handler_t::replace));
  }

 private:
  LineChannel& channel_;
  const Pacing& pacing_;
  twin::CrsTransform to_geo_;
};

// The last keyframe among the session's earlier recordings, newest first; a
// recording too broken to read is passed over for the one before.
std::optional<std::pair<sim::engine::EngineState, std::filesystem::path>> last_checkpoint(
    const std::vector<std::filesystem::path>& recordings, std::ostream& err) {
  for (auto it = recordings.rbegin(); it != recordings.rend(); ++it) {
    try {
      const twin::RecordingReader reader(*it);
      const auto key = reader.keyframe_at_or_before(std::numeric_limits<double>::max());
      if (key) return std::make_pair(sim::engine::engine_state_from_keyframe(*key, it->string()), *it);
    } catch (const Error& e) {
      err << "cadereau worker: passing over " << it->string() << ": " << e.what() << "\n";
    }
  }
  return std::nullopt;
}

class EngineWorker {
 public:
  EngineWorker(const std::filesystem::path& session_dir, int fd, std::ostream& err)
      : session_dir_(session_dir), channel_(fd), err_(err) {}

  int run();

 private:
  void handle(const json& message);
  void submit(const json& message);
  void submit_refed();
  // Waits for a message until `until` (or forever); false when the server is gone.
  bool wait(std::optional<SteadyClock::time_point> until);
  void drain();
  // Saves the state the server asked for (a forecast's start), once the
  // commands sent before the request are in the engine.
  void checkpoint();

  std::filesystem::path session_dir_;
  LineChannel channel_;
  std::ostream& err_;
  Inbox inbox_;
  Pacing pacing_;
  std::unique_ptr<sim::engine::Engine> engine_;
  std::multimap<double, json> refed_;  // re-fed commands by the time they were taken
  double catch_up_to_s_ = -1.0;
  std::optional<json> checkpoint_;  // a request not served yet
  bool stop_ = false;
};

void EngineWorker::checkpoint() {
  if (!checkpoint_) return;
  const json request = std::move(*checkpoint_);
  checkpoint_.reset();
  const auto ticket = request.value("ticket", std::uint64_t{0});
  try {
    const std::filesystem::path dir = request.value("dir", std::string());
    if (dir.empty()) fail("checkpoint", "no folder given");
    engine_->save_state(dir);
    channel_.write_line(json{{"type", "checkpoint"}, {"ticket", ticket}, {"dir", dir.string()}, {"sim_time_s", engine_->time_s()}}
                            .dump(-1, ' ', false, json::error_handler_t::replace));
  } catch (const Error& e) {
    channel_.write_line(json{{"type", "checkpoint_failed"}, {"ticket", ticket}, {"message", e.what()}}
                            .dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

void EngineWorker::submit(const json& message) {
  const std::uint64_t ticket = message.value("ticket", std::uint64_t{0});
  const json& command = message.contains("command") ? message["command"] : json();
  if (message.contains("at_s")) {
    // Taken before the state this worker started from: already in it.
    const double at_s = message["at_s"].get<double>();
    if (at_s >= engine_->time_s() - 1e-6) refed_.emplace(at_s, command);
    return;
  }
  try {
    engine_->submit(sim::engine::command_from_json(command.dump(), fmt::format("command {}", ticket)));
    channel_.write_line(json{{"type", "ack"}, {"ticket", ticket}, {"at_s", engine_->time_s()}}.dump());
  } catch (const Error& e) {
    channel_.write_line(json{{"type", "refused"},
                             {"ticket", ticket},
                             {"code", std::string(to_string(e.category()))},
                             {"message", e.what()}}
                            .dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

void EngineWorker::submit_refed() {
  const double now = engine_->time_s();
  while (!refed_.empty() && refed_.begin()->first <= now + 1e-6) {
    try {
      engine_->submit(sim::engine::command_from_json(refed_.begin()->second.dump(), "re-fed command"));
    } catch (const Error& e) {
      // It was accepted once, by the same engine at the same time: say so loudly.
      err_ << "cadereau worker: a re-fed command is refused: " << e.what() << "\n";
    }
    refed_.erase(refed_.begin());
  }
}

void EngineWorker::handle(const json& message) {
  const std::string type = message.value("type", std::string());
  if (type == "clock") {
    pacing_.running = message.value("state", std::string()) == "running";
    pacing_.speed = std::clamp(message.value("speed", 1.0), 0.01, 1000.0);
    pacing_.lagging = false;
    pacing_.restart(engine_->time_s());
  } else if (type == "submit") {
    submit(message);
  } else if (type == "note") {
    engine_->note({message.value("source", std::string()), message.value("payload", json::object()).dump()});
  } else if (type == "checkpoint") {
    checkpoint_ = message;
  } else if (type == "catch_up") {
    catch_up_to_s_ = message.value("to_s", -1.0);
  } else if (type == "stop") {
    stop_ = true;
  }
}

void EngineWorker::drain() {
  std::deque<json> messages;
  {
    std::lock_guard lock(inbox_.mutex);
    messages.swap(inbox_.messages);
    if (inbox_.closed) stop_ = true;
  }
  for (const auto& m : messages) handle(m);
}

bool EngineWorker::wait(std::optional<SteadyClock::time_point> until) {
  std::unique_lock lock(inbox_.mutex);
  const auto ready = [&] { return !inbox_.messages.empty() || inbox_.closed; };
  if (until)
    inbox_.changed.wait_until(lock, *until, ready);
  else
    inbox_.changed.wait(lock, ready);
  return !inbox_.closed || !inbox_.messages.empty();
}

int EngineWorker::run() {
  std::ifstream in(session_dir_ / kSessionFile);
  const json session = json::parse(in, nullptr, false);
  if (!session.is_object()) fail((session_dir_ / kSessionFile).string(), "is not a session file");
  const scenarios::Scenario scenario =
      scenarios::parse_scenario(session.at("scenario_yaml").get<std::string>(), session.at("scenario_file").get<std::string>());
  const std::filesystem::path territory_dir = session.at("territory").get<std::string>();
  const twin::Territory territory = twin::Territory::load(territory_dir);
  sim::engine::EngineSetup setup = scenarios::engine_setup(scenario, territory);
  const auto earlier = session_recordings(session_dir_);
  setup.recording = next_recording(session_dir_);
  setup.keyframe_every_s = kCheckpointEvery_s;
  // Only a live session's readings are the world's: an exercise's false
  // readings mislead the players, not the water nor the traffic.
  setup.nudge_levels = setup.follow_counts = session.value("mode", std::string()) == "live";
  setup.meta.run_options_json = json{{"kind", kScenarioRunKind},
                                     {"scenario_file", scenario.file.string()},
                                     {"scenario_yaml", scenario.text},
                                     {"territory", territory_dir.string()},
                                     {"added_actions", json::array()}}
                                    .dump();
  std::optional<double> resumed_from_s;
  if (auto checkpoint = last_checkpoint(earlier, err_)) {
    resumed_from_s = checkpoint->first.time_s();
    setup.meta.parent_recording = checkpoint->second.string();
    setup.meta.fork_sim_s = *resumed_from_s;
    setup.resume_where = checkpoint->second.string();
    setup.resume = std::move(checkpoint->first);
  }
  const double exchange_s = setup.exchange_s;
  const double duration_s = setup.duration_s;
  const auto recording = *setup.recording;
  engine_ = std::make_unique<sim::engine::Engine>(territory, std::move(setup));
  StreamObserver observer(channel_, pacing_, territory.crs);
  engine_->add_observer(observer);
  channel_.write_line(json{{"type", "ready"},
                           {"sim_time_s", engine_->time_s()},
                           {"duration_s", duration_s},
                           {"exchange_s", exchange_s},
                           {"start", scenario.start},
                           {"resumed_from_s", resumed_from_s ? json(*resumed_from_s) : json(nullptr)},
                           {"recording", recording.string()}}
                          .dump());
  std::thread reader([this] { read_server(channel_, inbox_); });
  reader.detach();  // blocked in read() until the socket closes; the process ends with it

  bool ended = false;
  while (true) {
    drain();
    if (stop_) break;
    submit_refed();
    const double now_s = engine_->time_s();
    // Commands are taken at the next step: a clock that does not step saves now.
    if (checkpoint_ && (!pacing_.running || now_s >= duration_s - 1e-9) && catch_up_to_s_ <= now_s + 1e-9) checkpoint();
    if (now_s >= duration_s - 1e-9) {
      if (!ended) {
        engine_->run();  // at the end: only tells the observers
        engine_->flush_recording();
        channel_.write_line(json{{"type", "ended"}, {"sim_time_s", now_s}}.dump());
        ended = true;
      }
      if (!wait(std::nullopt)) break;
      continue;
    }
    const double next_s = std::min(duration_s, now_s + exchange_s);
    const bool catching_up = catch_up_to_s_ > now_s + 1e-9;
    if (!catching_up) {
      if (!pacing_.running) {
        // A clock that holds: the recording's file shows the last step to its readers.
        engine_->flush_recording();
        if (!wait(std::nullopt)) break;
        continue;
      }
      const auto due = pacing_.due(next_s);
      if (SteadyClock::now() < due) {
        if (!wait(due)) break;
        if (SteadyClock::now() < due) continue;  // a message came first: handle it, then wait on
      }
    }
    engine_->advance_to(next_s);
    if (engine_->time_s() >= catch_up_to_s_ - 1e-9) checkpoint();
    if (catching_up && engine_->time_s() >= catch_up_to_s_ - 1e-9) pacing_.restart(engine_->time_s());
    if (!catching_up && pacing_.running) pacing_.stepped(engine_->time_s());
  }
  engine_.reset();  // closes the recording
  return 0;
}

}  // namespace

int worker_command(Args& args, std::ostream& /*out*/, std::ostream& err) {
  const auto dir = args.take("session");
  if (!dir) throw UsageError{"worker needs --session DIR"};
  const int fd = static_cast<int>(args.take_integer("fd", 3, 0, 65535));
  args.finish();
  EngineWorker worker(*dir, fd, err);
  LineChannel report(fd);
  try {
    return worker.run();
  } catch (const Error& e) {
    report.write_line(json{{"type", "failed"}, {"message", e.what()}}.dump(-1, ' ', false, json::error_handler_t::replace));
    err << "cadereau worker: " << e.what() << "\n";
    return exit_code(e.category());
  }
}

}  // namespace cadereau::server::worker
