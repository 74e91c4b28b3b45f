#pragma once
// One session of the server: its clock, its engine worker, its journal of
// events and the clients streaming it.
//
// An exercise or live session drives an engine worker process (worker/):
// the clock's commands and the players' actions go to it, and every record
// it reports becomes an event with a seq in the session's journal and goes
// to the streams. A worker that dies is started again from its last
// keyframe and re-fed the commands since (commands.jsonl), then runs
// unpaced to where the session was; records it reports a second time are
// recognised by their id and not journalled twice.
//
// A replay session has no worker: it plays the journal of another session
// back on its own clock, and can seek.
//
// Thread-safety: every public member may be called from any thread (HTTP
// handler threads, the supervisor's thread).

#include "alert_book.h"
#include "event_journal.h"
#include "forecasts.h"
#include "injects.h"
#include "procedure_book.h"
#include "roles.h"

#include "../http/transport.h"
#include "../worker/supervisor.h"
#include "cadereau/sim/engine/command.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cadereau::server::service {

enum class SessionState { created, running, paused, stopped };
std::string_view to_string(SessionState state);

inline constexpr double kMinSpeed = 1.0;
inline constexpr double kMaxSpeed = 60.0;

// A clock request as the API takes it.
struct ClockRequest {
  enum class Command { none, start, pause, resume, stop, seek };
  Command command = Command::none;
  std::optional<double> speed;   // 1..60
  std::optional<double> time_s;  // seek (replays)
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `record`: what session.json holds (id, mode, name, scenario, territory,
  // and the clock as it was). `source` is the journal a replay plays back.
  Session(std::filesystem::path dir, nlohmann::json record, std::shared_ptr<EventJournal> source = nullptr);
  ~Session();

  const std::string& id() const { return id_; }
  SessionMode mode() const { return mode_; }
  const std::filesystem::path& dir() const { return dir_; }
  // Its journal (what a replay of it plays back).
  std::shared_ptr<EventJournal> journal() const { return journal_; }
  // The replayed session's id; empty for others.
  std::string replay_of() const;
  // Its territory's folder; empty for a replay (its played session has it).
  std::filesystem::path territory_dir() const;

  // {"id","mode","name","state","sim_time_s","speed"}
  nlohmann::json summary() const;
  // The summary with the clock, the KPIs, the worker's state and the last seq.
  nlohmann::json describe() const;

  // Starts (or restarts) the engine worker; a session that was running comes
  // back paused (a server that starts again after a crash).
  void open(worker::Supervisor& supervisor);
  // Whether its worker process is still there.
  bool has_worker() const {
    std::lock_guard lock(mutex_);
    return worker_ != nullptr;
  }
  // Stops the worker and closes the recording (server shutdown); the state
  // on disk is kept.
  void close();

  // Applies a clock request from `by`. Throws Error: bad_input (a speed out
  // of 1..60, a seek outside a replay), conflict (a transition the state
  // does not allow, a live clock paused or sped up). Returns describe().
  nlohmann::json control_clock(const ClockRequest& request, const Principal& by);
  // Sends a command to the engine and waits for it to be taken (a bounded
  // time). Returns the seq of the event that records it. Throws Error:
  // conflict (stopped, a replay), unavailable (the worker is not ready),
  // and the engine's own refusal (not_found, bad_input).
  // `extra` goes into that event (the inject the player answers).
  std::uint64_t submit(sim::engine::Command command, const Principal& by, const std::string& what,
                       const nlohmann::json& extra = nlohmann::json::object());

  // An audit note for the session's recording (who changed what, or was
  // refused it), kept with the engine's next step. Lost when no engine runs:
  // the server's audit log has it anyway.
  void note(const std::string& source, const nlohmann::json& payload);

  // Events with seq > after (at most limit) that `viewer` may see, as JSON
  // text; a replay's stop at its clock.
  std::vector<std::string> events_after(std::uint64_t after_seq, std::size_t limit, const Viewer& viewer) const;
  // A client of the stream: sent the events after `after_seq` it may see,
  // then everything new it may see.
  void subscribe(std::shared_ptr<http::StreamSink> sink, std::uint64_t after_seq, const Viewer& viewer);

  // ---- injects (exercises) ----
  // Replaces the MSEL (HSEEP CSV). Returns the number of injects. Throws
  // Error: bad_input naming the line, conflict outside an exercise or once
  // an inject was delivered.
  std::size_t load_msel(const std::string& csv, const Principal& by);
  // The same from a scenario's `injects:` (errors name `where`).
  std::size_t load_injects(std::vector<scenarios::Inject> injects, const std::string& where, const Principal& by);
  // The MSEL with the outcomes so far.
  std::string msel_csv() const;
  // The injects `who` may see (players: those delivered to their cell).
  nlohmann::json injects(const Principal& who) const;
  // fire, hold, release or cancel inject `id`; returns its view.
  nlohmann::json inject_command(const std::string& id, InjectCommand command, const Principal& by);
  // A player acknowledges inject `id`; returns the seq of the event.
  std::uint64_t acknowledge_inject(const std::string& id, const Principal& player, const std::string& comment);

  // A point given as WGS84 longitude and latitude, in the territory's
  // working CRS (a dispatch to a place on the map).
  twin::MapPoint map_point(double lon, double lat) const;

  // ---- population alerts (session_exercise.cpp) ----
  // Keeps and announces an alert with the twin's estimate of its reach. In
  // an exercise its status is Exercise (asking for Actual is forbidden); in
  // a live session an Actual alert waits for a second operator's approval.
  nlohmann::json send_alert(const AlertRequest& alert, const Principal& by);
  // Whom that alert would reach now, without sending it (the workbench's preview).
  nlohmann::json alert_reach(const AlertRequest& alert);
  nlohmann::json approve_alert(const std::string& id, const Principal& by);
  nlohmann::json alerts() const;
  std::string alert_cap(const std::string& id) const;

  // ---- live feeds (session_feeds.cpp) ----
  // A reading from a feed for one of this live session's sensors: checked
  // (the sensor's kind, a plausible value, a time neither in the future nor
  // before the last one) then recorded as an observation event and given to
  // the engine, or recorded as observation_rejected with its reason. Returns
  // false when no sensor of its territory has this device (or datastream).
  struct FeedReading {
    std::string source;       // "mqtt", "sensorthings"
    std::string device;       // a devEui, or a datastream id (source sensorthings)
    double measured_epoch_s = 0.0;
    double received_epoch_s = 0.0;
    std::optional<double> water_level_m, rain_mm, vehicles, result;  // result: SensorThings, in the sensor's unit
    std::optional<double> interval_s;  // what `vehicles` covers, when the uplink says
    std::string digest;       // of the raw payload
  };
  bool observe(const FeedReading& reading);
  // A citizen's report at a place (WGS84): placed on the twin (its zone, the
  // nearest street), given to the reports cell and the staff, recorded.
  // Throws Error (bad_input) for a place outside the territory.
  struct CitizenReport {
    double lon = 0.0, lat = 0.0;
    std::string category;  // flooding, stranded_vehicle, person_in_danger, road_blocked, power_cut, other
    std::string text;
    std::string photo;     // a reference to a photo, when there is one
  };
  nlohmann::json citizen_report(const CitizenReport& report, const Principal& by);
  // A repeated uplink of a device of this session's (counted, not recorded).
  bool count_duplicate(const std::string& device);
  // Per sensor: last value and time, readings, duplicates, rejections by
  // reason, stale when not heard for three expected intervals. The same
  // goes on the stream as {"type":"feed","sensors","stale"} to each client
  // as it connects, then at most once a second while readings come in and
  // every minute (staleness grows without readings); a territory of more
  // than 200 sensors gets only those that changed ("of": how many there
  // are), the whole table staying on GET .../feeds.
  nlohmann::json feeds() const;

  // ---- rolling forecasts (live sessions; session_forecasts.cpp) ----
  // A live session runs a forecast from its engine's state every
  // settings.every_s of its clock, and at once when a gauge jumps; each one
  // is announced on the stream ({"type":"forecast",...}) with what changed
  // from the previous one, its gauge thresholds raise alerts with a CAP
  // draft and propose procedures, and it is scored once its time has passed.
  // The latest forecast: its impacts with their chains, its gauge levels,
  // what changed and its scores so far. Throws Error (not_found) before the
  // first, (conflict) outside a live session.
  nlohmann::json forecast() const;
  // Every forecast issued: when and why, its figures, what changed, its
  // scores (final once its horizon has passed).
  nlohmann::json forecasts() const;
  // An operator asks for a forecast now (`horizon_s`: other than the
  // session's). Returns {"number","state"}; one already under way is
  // answered with its own number. Throws Error (conflict) outside a running
  // live session.
  nlohmann::json request_forecast(const Principal& by, std::optional<double> horizon_s);

  // ---- guided procedures (exercises and live sessions) ----
  // The procedures `who` may see: players those proposed to their cell.
  nlohmann::json procedures(const Principal& who) const;
  // Ticks (or unticks) step n of procedure `id` with a comment; recorded.
  nlohmann::json tick_procedure(const std::string& id, int step, bool done, const std::string& comment,
                                const Principal& who);

  // ---- after-action review (exercises; after_action.h) ----
  nlohmann::json after_action() const;
  // The director's ratings, by objective ("P", "S", "M", "U").
  nlohmann::json rate_objectives(const nlohmann::json& ratings, const Principal& by);
  // Starts the run of the same scenario without the players' actions, to
  // the time the exercise reached (counterfactual.h); the review shows it
  // once done. Throws Error (conflict) while one runs or before the start.
  void start_counterfactual(const Principal& by);

  // Every tick (the supervisor's thread): clock broadcasts, replay playback,
  // clients catching up, the clock saved.
  void tick(bool broadcast_clock);

 private:
  struct Subscriber {
    std::shared_ptr<http::StreamSink> sink;
    Viewer viewer;
    std::uint64_t next_seq = 1;
    std::chrono::steady_clock::time_point stuck_since{};
  };
  struct Pending {
    std::optional<nlohmann::json> answer;  // the worker's ack or refusal
    bool async = false;                    // nobody waits: an inject's effect
  };

  void start_worker_locked();
  void on_worker_line(const std::string& line);
  void on_worker_exit(int status);
  void on_exchange(const nlohmann::json& message);
  void on_ready(const nlohmann::json& message);
  void send_clock_locked();
  void refeed_locked();
  std::uint64_t journal_locked(nlohmann::json event);
  nlohmann::json clock_json_locked() const;
  nlohmann::json describe_locked() const;
  void save_locked() const;
  void pump_locked(Subscriber& s);
  void pump_all_locked();
  void broadcast_locked(nlohmann::json message, std::string_view key);
  double elapsed_s_locked() const;
  double replay_time_s_locked() const;
  // Sim time now: a replay's playhead, else the engine's last step.
  double now_s_locked() const;
  std::uint64_t head_locked() const;
  // Appends a line to the command log (commands.jsonl). `durable`: made
  // durable (fdatasync) before it returns, with every line written before
  // it; otherwise written at once (a killed server keeps it) and made
  // durable with the next group. Throws Error (unavailable).
  void append_command_line(const nlohmann::json& line, bool durable = true);
  void set_state_locked(SessionState state);
  void deliver_due_locked();
  void deliver_locked(std::size_t index, const std::string& by);
  // What a delivered inject does to the twin, sent to the engine without
  // waiting (kept in commands.jsonl first, so a worker starting again gets it).
  void apply_effect_locked(const scenarios::Inject& inject);
  void submit_async_locked(sim::engine::Command command, nlohmann::json event);
  // Refuses injects whose state trigger or effect names what this session's
  // territory or scenario does not have.
  void check_injects_locked(const std::vector<scenarios::Inject>& injects, const std::string& where);
  InjectBook& book_locked() const;
  ProcedureBook& procedure_book_locked() const;
  // Announces procedures just proposed to their cells.
  void propose_locked(const std::vector<std::size_t>& proposed);
  AlertBook& alert_book_locked() const;
  void note_locked(const std::string& source, const nlohmann::json& payload);
  void note_reached_locked();
  void note_road(const nlohmann::json& record);
  // Forecasts (session_forecasts.cpp).
  struct ForecastRun {
    int number = 0;
    std::string reason;
    std::string by;
    double horizon_s = 0.0;
    std::uint64_t ticket = 0;
    std::optional<double> issued_s;  // once the state is saved
    std::chrono::steady_clock::time_point asked{};
    std::shared_ptr<worker::WorkerHandle> process;
  };
  void forecasts_init_locked() const;
  void forecast_tick_locked();
  void start_forecast_locked(std::string reason, std::string by, double horizon_s);
  void on_checkpoint(const nlohmann::json& message);
  void on_forecast_end(int number, int status);
  void publish_forecast_locked(nlohmann::json doc, nlohmann::json result);
  // The latest forecast as the stream carries it; null before the first.
  nlohmann::json forecast_message_locked() const;
  void threshold_alert_locked(const std::string& basis, const std::string& gauge, double above_m, double value_m,
                              double at_s, const std::string& detail);
  void note_happened_locked(const nlohmann::json& event) const;
  void note_reading_locked(const std::string& sensor, twin::SensorKind kind, double value, double measured_s, double rate);
  std::filesystem::path forecast_dir(int number) const;

  const std::filesystem::path dir_;
  std::string id_;
  SessionMode mode_;
  mutable std::mutex mutex_;
  std::condition_variable answered_;
  nlohmann::json record_;
  SessionState state_ = SessionState::created;
  double speed_ = 1.0;
  double sim_time_s_ = 0.0;
  double reached_s_ = 0.0;  // the furthest time the engine reached, kept over restarts
  int reached_fd_ = -1;
  double duration_s_ = 0.0;
  double elapsed_base_s_ = 0.0;
  std::chrono::steady_clock::time_point running_since_{};
  bool lagging_ = false;
  double achieved_speed_ = 0.0;
  nlohmann::json kpis_ = nlohmann::json::object();
  std::unordered_map<std::string, double> gauge_depth_m_;  // the latest step's
  mutable std::unique_ptr<ProcedureBook> procedure_book_;  // made when first needed
  int procedures_failed_ = 0;
  std::unordered_set<std::string> closed_roads_;           // from the records
  struct FeedHealth {
    std::string sensor;
    std::string kind;
    std::string device;      // devEui
    std::string datastream;  // SensorThings
    std::optional<double> last_value;
    std::optional<double> last_measured_epoch_s;
    std::optional<double> last_received_epoch_s;
    long readings = 0;
    long duplicates = 0;
    std::map<std::string, long> rejected;  // by reason
  };
  mutable std::map<std::string, FeedHealth> feed_health_;  // by sensor id; made when first needed
  std::uint64_t citizen_reports_ = 0;
  // Sensors whose readings drive the twin (rain zones, inflows), read from the scenario when first needed.
  std::optional<std::unordered_set<std::string>> feed_forcing_;
  void feed_health_init_locked() const;
  // Every sensor, or only those in `only` (with "of": how many there are).
  nlohmann::json feeds_locked(const std::set<std::string>* only = nullptr) const;
  std::set<std::string> feeds_changed_;  // sensors whose health changed since the layer last went out
  std::chrono::steady_clock::time_point feeds_told_{};

  ForecastSettings forecast_settings_;
  mutable bool forecasts_loaded_ = false;
  mutable std::vector<nlohmann::json> forecast_results_;        // result.json of each, by number - 1
  mutable std::map<int, nlohmann::json> forecasts_in_flight_;  // documents not finally scored yet
  mutable std::optional<nlohmann::json> latest_forecast_;      // the latest document
  mutable Happened happened_;                                  // what the twin did, for the scores
  std::optional<ForecastRun> forecast_run_;
  std::string forecast_due_;                         // why one is due now (a jump), empty when none
  double last_forecast_asked_s_ = -1e18;
  std::uint64_t next_checkpoint_ = 1;
  std::map<std::string, double> forecast_basis_;     // each gauge's value when the last forecast was asked
  std::map<std::string, double> gauge_now_;          // each gauge's latest value (level m, rain mm/h)
  mutable std::set<std::string> thresholds_alerted_;  // "basis gauge above_m" told, not re-armed since

  std::shared_ptr<EventJournal> journal_;  // own (exercise, live) or the replayed one's
  std::unique_ptr<InjectBook> injects_;    // exercises only
  std::unique_ptr<AlertBook> alert_book_;  // exercises and live sessions
  std::shared_ptr<worker::WorkerHandle> counterfactual_run_;
  std::uint64_t last_record_id_ = 0;       // records journalled, by engine id
  std::unordered_map<std::uint64_t, std::string> record_keys_;  // what each of them was
  std::uint64_t diverged_ = 0;             // told again by a restarted worker, but different
  double retold_until_s_ = 0.0;            // this worker's records up to here are journalled already
  std::optional<std::uint64_t> first_new_id_;  // this worker's first record past that
  std::uint64_t id_offset_ = 0;            // added to its ids from there
  std::uint64_t replay_head_ = 0;          // a replay's events shown so far

  worker::Supervisor* supervisor_ = nullptr;
  std::shared_ptr<worker::WorkerHandle> worker_;
  enum class WorkerState { none, starting, ready, failed } worker_state_ = WorkerState::none;
  std::string worker_problem_;
  std::chrono::steady_clock::time_point worker_started_{};
  int restarts_ = 0;
  std::vector<std::chrono::steady_clock::time_point> recent_restarts_;
  bool closing_ = false;
  std::uint64_t next_ticket_ = 1;
  std::map<std::uint64_t, Pending> pending_;
  std::vector<Subscriber> subscribers_;
  std::chrono::steady_clock::time_point last_save_{};

  // ---- the command log, group-committed (session.cpp) ----
  // A command submitted without waiting (a feed's reading, an inject's
  // effect) is written to commands.jsonl at once and given to the engine
  // only once durable, so that a worker started again is re-fed it. One
  // committer thread makes everything written so far durable with one
  // fdatasync, then sends what waited for it, in the order written: at a
  // thousand readings a second, one sync covers many of them. A feed's
  // reading is acknowledged (its observation event journalled) then too,
  // rather than when the engine takes it between two of its steps.
  struct DurableSend {
    std::uint64_t end = 0;  // the log's length once its line is in, bytes
    std::uint64_t ticket = 0;
    std::string submit;     // the message for the worker
    bool journal = false;   // its event is journalled once durable
  };
  std::uint64_t write_command_line_locked(const nlohmann::json& line);
  void release_durable_locked(std::uint64_t synced);
  void start_committer_locked();
  void commit_loop();
  int log_fd_ = -1;
  std::uint64_t log_written_ = 0;  // bytes written since opened
  std::uint64_t log_synced_ = 0;   // of which durable
  std::deque<DurableSend> log_waiting_;
  std::condition_variable log_changed_;
  std::thread log_committer_;
  bool log_stop_ = false;
  long log_failures_ = 0;
};

}  // namespace cadereau::server::service
