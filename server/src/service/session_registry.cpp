#include "session_registry.h"

#include "audit_record.h"
#include "crypto.h"
#include "data_files.h"

#include "../worker/session_files.h"
#include "cadereau/data/demo_territory.h"
#include "cadereau/scenarios/msel.h"
#include "cadereau/scenarios/scenario.h"
#include "cadereau/sim/traffic/greenwave.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/territory.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <fstream>
#include <regex>
#include <thread>

namespace cadereau::server::service {
namespace {

using json = nlohmann::json;

bool plain_name(const std::string& name) {
  static const std::regex pattern(R"([A-Za-z0-9][A-Za-z0-9._-]{0,63})");
  return std::regex_match(name, pattern) && name.find("..") == std::string::npos;
}

std::string new_session_id() {
  std::string id = "s-" + random_base64url(9);
  std::replace(id.begin() + 2, id.end(), '_', 'x');
  std::replace(id.begin() + 2, id.end(), '-', 'y');
  return id;
}

// Now, as a scenario's start: the server's local time, to the second.
std::string local_now_iso() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &local);
  return text;
}

}  // namespace

SessionRegistry::SessionRegistry(std::filesystem::path data_dir, worker::Supervisor& supervisor)
    : data_dir_(std::move(data_dir)), supervisor_(supervisor) {
  ensure_private_dir(data_dir_ / "sessions");
}

SessionRegistry::~SessionRegistry() = default;

std::filesystem::path SessionRegistry::demo_territory() {
  std::lock_guard lock(demo_mutex_);
  const auto folder = data_dir_ / "territories" / "demo";
  if (!std::filesystem::exists(folder / "territory.yaml")) {
    spdlog::info("making the demo territory in {}", folder.string());
    std::filesystem::create_directories(folder.parent_path());
    data::write_demo_territory(folder, {});
  }
  return folder;
}

std::filesystem::path SessionRegistry::territory_folder(const std::string& name, const std::string& where) {
  if (name == "demo") return demo_territory();
  if (!plain_name(name))
    fail(where, "territory '{}': a territory of this server is named by its folder in {} (letters, digits, . _ -)", name,
         (data_dir_ / "territories").string());
  const auto folder = data_dir_ / "territories" / name;
  if (!std::filesystem::exists(folder / "territory.yaml"))
    fail_as(ErrorCategory::not_found, where, "no territory '{}' in {}", name, (data_dir_ / "territories").string());
  return folder;
}

json SessionRegistry::scenario_record(const json& request, SessionMode mode, const std::filesystem::path& dir,
                                      const std::optional<std::filesystem::path>& light_plan) {
  std::string text, file;
  if (mode == SessionMode::live) {
    const std::string territory = request.value("territory", std::string("demo"));
    if (!plain_name(territory)) fail("territory", "'{}' is not a territory name", territory);
    text = fmt::format("name: Live operation on {}\nterritory: {}\nstart: {}\nduration: 24h\nseed: 42\n", territory,
                       territory, local_now_iso());
    file = (dir / "scenario.yaml").string();
  } else if (request.contains("scenario_yaml")) {
    if (!request["scenario_yaml"].is_string()) fail("scenario_yaml", "must be the YAML text");
    text = request["scenario_yaml"].get<std::string>();
    file = (dir / "scenario.yaml").string();
  } else if (request.contains("scenario")) {
    if (!request["scenario"].is_string()) fail("scenario", "must be a scenario's name");
    const std::string name = request["scenario"].get<std::string>();
    if (name == kFlagshipScenarioName) {
      text = scenarios::flagship_scenario_text();
      file = "scenarios/flash-flood-1988.yaml";
    } else {
      if (!plain_name(name)) fail("scenario", "'{}' is not a scenario name", name);
      const auto path = data_dir_ / "scenarios" / (name + ".yaml");
      std::ifstream in(path);
      if (!in) fail_as(ErrorCategory::not_found, "scenario", "no scenario '{}' ({} or {})", name, kFlagshipScenarioName, path.string());
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      file = path.string();
    }
  } else {
    fail("session", "an exercise needs \"scenario\" (a name) or \"scenario_yaml\" (the text)");
  }
  scenarios::Scenario scenario = scenarios::parse_scenario(text, file);
  if (!scenario.light_plans.empty())
    fail(scenario.light_plans_where.front(),
         "light_plans name files: on this server a green-wave plan is applied with \"light_plan\": "
         "{{\"session\": ID, \"plan\": N}}");
  const auto territory_dir = territory_folder(scenario.territory, file);
  // Checked here, so that a bad scenario is a 400 now rather than a worker that fails.
  const twin::Territory territory = twin::Territory::load(territory_dir);
  if (mode == SessionMode::live) {
    // The feeds drive a live twin: the rain of each rain gauge over its
    // area (nearest gauge), and the flow of each rated level gauge as an
    // inflow there, dry until the first readings.
    std::string rain, inflows;
    for (const auto& sensor : territory.sensors) {
      if (sensor.kind == twin::SensorKind::rain_gauge)
        rain += fmt::format("  - gauge: {}\n    mm_h: [[0, 0]]\n", sensor.id);
      if (sensor.kind == twin::SensorKind::level_gauge && !sensor.rating.empty())
        inflows += fmt::format("  - name: {0}\n    at: {0}\n    m3_s: [[0, 0]]\n", sensor.id);
    }
    if (!rain.empty()) text += "rain:\n" + rain;
    if (!inflows.empty()) text += "inflows:\n" + inflows;
    scenario = scenarios::parse_scenario(text, file);
  }
  if (light_plan) {
    // The session keeps its own copy: the plan's folder may go, the session's recording names this one.
    const auto copy = std::filesystem::absolute(dir / "light-plan.add.xml");
    ensure_private_dir(dir);
    std::error_code ec;
    std::filesystem::copy_file(*light_plan, copy, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) fail_as(ErrorCategory::unavailable, copy.string(), "cannot keep the light plan here: {}", ec.message());
    if (!text.empty() && text.back() != '\n') text += '\n';
    text += "light_plans: [" + json(copy.string()).dump() + "]\n";
    scenario = scenarios::parse_scenario(text, file);
  }
  (void)scenarios::engine_setup(scenario, territory);
  json out = {{"scenario_yaml", text},
              {"scenario_file", file},
              {"scenario_name", scenario.name},
              {"territory", std::filesystem::absolute(territory_dir).lexically_normal().string()},
              {"start", scenario.start},
              {"duration_s", scenario.duration_s}};
  // The scenario's name as asked, so that a client can ask for it again (with a plan).
  if (mode == SessionMode::exercise && request.contains("scenario")) out["scenario_ref"] = request["scenario"];
  return out;
}

std::shared_ptr<Session> SessionRegistry::create(const json& request, SessionMode mode, const Principal& by,
                                                 const std::optional<std::filesystem::path>& light_plan) {
  const std::string id = new_session_id();
  const auto dir = data_dir_ / "sessions" / id;
  json record = {{"id", id},
                 {"mode", std::string(to_string(mode))},
                 {"state", "created"},
                 {"speed", 1.0},
                 {"sim_time_s", 0.0},
                 {"created_by", principal_text(by)},
                 {"created_at", iso8601_utc(std::chrono::system_clock::now())}};
  if (mode == SessionMode::replay) {
    if (light_plan) fail("light_plan", "a replay plays what happened: no light plan applies to it");
    const auto of = find(request.value("of", std::string()));
    if (of->mode() == SessionMode::replay) fail("of", "{} is a replay itself: replay the session it plays", of->id());
    const json d = of->describe();
    record["of"] = of->id();
    record["name"] = "Replay of " + d.value("name", of->id());
    record["duration_s"] = d["clock"].value("duration_s", 0.0);
    record["start"] = d["clock"].value("start", std::string());
  } else {
    if (mode != SessionMode::live && request.contains("forecast"))
      fail("forecast", "forecast settings apply to live sessions only");
    json scenario, programs = json::object();
    try {
      scenario = scenario_record(request, mode, dir, light_plan);
      // What the plan programs, for the console's light popups.
      if (light_plan)
        for (const auto& p : sim::traffic::read_programs(*light_plan)) programs[p.id] = p.program_id;
    } catch (...) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);  // the plan's copy, when it was made
      throw;
    }
    record.update(scenario);
    if (light_plan)
      record["light_plan"] = {{"session", request["light_plan"]["session"]}, {"plan", request["light_plan"]["plan"]},
                              {"programs", std::move(programs)}};
    if (mode == SessionMode::live) record["forecast"] = to_json(parse_forecast_settings(request.value("forecast", json())));
    record["name"] = request.value("name", scenario.value("scenario_name", id));
  }
  if (record.contains("name") && !record["name"].is_string()) fail("name", "must be text");
  ensure_private_dir(dir);
  write_private_file(dir / worker::kSessionFile, record.dump(2));
  const std::string scenario_yaml = record.value("scenario_yaml", std::string());
  const std::string scenario_file = record.value("scenario_file", std::string("scenario.yaml"));
  auto session = open_session(dir, std::move(record));
  // The flagship comes with its MSEL; another scenario's is uploaded.
  if (mode == SessionMode::exercise && request.value("scenario", std::string()) == kFlagshipScenarioName) {
    session->load_msel(scenarios::flagship_msel_text(), by);
  } else if (mode == SessionMode::exercise) {
    auto scenario = scenarios::parse_scenario(scenario_yaml, scenario_file);
    try {
      if (!scenario.injects.empty()) session->load_injects(std::move(scenario.injects), scenario_file, by);
    } catch (...) {
      // Injects that do not fit the territory: no session is left behind.
      session->close();
      {
        std::lock_guard lock(mutex_);
        sessions_.erase(id);
      }
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
      throw;
    }
  }
  spdlog::info("session {}: {} created by {}", id, to_string(mode), principal_text(by));
  return session;
}

std::shared_ptr<Session> SessionRegistry::open_session(const std::filesystem::path& dir, json record) {
  std::shared_ptr<EventJournal> source;
  if (record.value("mode", std::string()) == "replay") {
    const auto of = find(record.value("of", std::string()));
    source = of->journal();
  }
  auto session = std::make_shared<Session>(dir, std::move(record), std::move(source));
  session->open(supervisor_);
  std::lock_guard lock(mutex_);
  sessions_[session->id()] = session;
  return session;
}

void SessionRegistry::load() {
  std::vector<std::pair<std::filesystem::path, json>> replays;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir_ / "sessions")) {
    const auto file = entry.path() / worker::kSessionFile;
    std::ifstream in(file);
    json record = json::parse(in, nullptr, false);
    if (!record.is_object() || !record.contains("id") || !record.contains("mode")) {
      spdlog::error("{}: not a session, left out", file.string());
      continue;
    }
    if (record.value("mode", std::string()) == "replay") {
      replays.emplace_back(entry.path(), std::move(record));
      continue;
    }
    try {
      open_session(entry.path(), std::move(record));
    } catch (const std::exception& e) {
      spdlog::error("{}: left out: {}", file.string(), e.what());
    }
  }
  for (auto& [dir, record] : replays) {
    try {
      open_session(dir, std::move(record));
    } catch (const std::exception& e) {
      spdlog::error("{}: left out: {}", (dir / worker::kSessionFile).string(), e.what());
    }
  }
}

std::shared_ptr<Session> SessionRegistry::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) fail_as(ErrorCategory::not_found, "session", "no session '{}'", id);
  return it->second;
}

std::vector<std::shared_ptr<Session>> SessionRegistry::list() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<Session>> out;
  for (const auto& [id, s] : sessions_) out.push_back(s);
  return out;
}

void SessionRegistry::tick() {
  const bool clock = ticks_++ % 5 == 0;
  for (const auto& s : list()) s->tick(clock);
}

void SessionRegistry::close_all() {
  for (const auto& s : list()) s->close();
}

bool SessionRegistry::wait_for_workers(std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (true) {
    const auto sessions = list();
    if (std::none_of(sessions.begin(), sessions.end(), [](const auto& s) { return s->has_worker(); })) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace cadereau::server::service
