#include "greenwave_jobs.h"

#include "data_files.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/territory.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>

namespace cadereau::server::service {
namespace {

using json = nlohmann::json;

constexpr const char* kJobsDir = "greenwave";
constexpr std::size_t kMaxLights = 40;
constexpr int kMaxPeriods = 24;  // periods of the day, each with its pair of diagrams

// The outputs a client may fetch, with their media types.
struct Output {
  const char* name;
  const char* type;
};
constexpr Output kOutputs[] = {
    {"report.json", "application/json"},
    {"plan.add.xml", "application/xml"},
    {"time_space_baseline.svg", "image/svg+xml"},
    {"time_space_plan.svg", "image/svg+xml"},
};

// SUMO's light ids as netconvert writes them; nothing that could read as an option.
bool light_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 && id.front() != '-' &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  c == '.' || c == ':' || c == '#';
         });
}

std::optional<double> number(const json& body, const char* key, double low, double high, const char* unit) {
  if (!body.contains(key) || body[key].is_null()) return std::nullopt;
  const auto& v = body[key];
  if (!v.is_number() || !(v.get<double>() >= low && v.get<double>() <= high))
    fail(key, "must be a number of {} from {:g} to {:g}", unit, low, high);
  return v.get<double>();
}

// Why the planner refused, from the last error line of its log, in the
// request's words rather than the command line's.
std::string problem_of(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (line.rfind("cadereau: ", 0) == 0) last = line.substr(10);
  if (last.empty()) return "the planner stopped without saying why: see its log";
  for (const auto& [flag, field] : {std::pair{"--tls ", "tls "}, {"--begin", "begin_s"}, {"--end", "end_s"},
                                    {"--cycle-s", "cycle_s"}, {"--speed-kmh", "speed_kmh"}}) {
    for (auto at = last.find(flag); at != std::string::npos; at = last.find(flag, at + 1))
      last.replace(at, std::string(flag).size(), field);
  }
  return last;
}

// A period's diagram: time_space_baseline-K.svg or time_space_plan-K.svg, K
// from 1 to kMaxPeriods.
bool period_diagram_name(const std::string& name) {
  for (int k = 1; k <= kMaxPeriods; ++k)
    for (const char* stem : {"time_space_baseline", "time_space_plan"})
      if (name == fmt::format("{}-{}.svg", stem, k)) return true;
  return false;
}

// The planner's last progress line in its log.
std::optional<std::string> last_progress(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line;
  std::optional<std::string> last;
  while (std::getline(in, line))
    if (line.rfind("greenwave: ", 0) == 0) last = line.substr(11);
  return last;
}

std::filesystem::path job_dir(const std::filesystem::path& session_dir, int number) {
  return session_dir / kJobsDir / std::to_string(number);
}

}  // namespace

GreenwaveRequest parse_greenwave_request(const json& body) {
  if (!body.is_object()) fail("body", "must be a JSON object with \"tls\": the lights in order along one street");
  if (!body.contains("tls") || !body["tls"].is_array())
    fail("tls", "must be a list of the lights' ids, in order along one street");
  GreenwaveRequest r;
  std::set<std::string> seen;
  for (const auto& v : body["tls"]) {
    if (!v.is_string() || !light_id(v.get<std::string>()))
      fail("tls", "{} is not a light id (letters, digits, _ - . : #, at most 64)", v.dump().substr(0, 80));
    const auto id = v.get<std::string>();
    if (!seen.insert(id).second) fail("tls", "names light {} twice", id);
    r.tls.push_back(id);
  }
  if (r.tls.size() < 2 || r.tls.size() > kMaxLights)
    fail("tls", "has {} lights: a corridor has 2 to {}", r.tls.size(), kMaxLights);
  if (auto v = number(body, "speed_kmh", 5.0, 130.0, "km/h")) r.speed_kmh = *v;
  r.cycle_s = number(body, "cycle_s", 10.0, 300.0, "seconds");
  r.begin_s = number(body, "begin_s", 0.0, 1e7, "seconds");
  r.end_s = number(body, "end_s", 0.0, 1e7, "seconds");
  if (r.end_s && *r.end_s <= r.begin_s.value_or(0.0)) fail("end_s", "must come after begin_s");
  if (auto v = number(body, "budget_s", 0.0, 1800.0, "seconds")) r.budget_s = *v;
  if (auto v = number(body, "seeds", 1.0, 5.0, "simulations per plan")) {
    if (*v != std::floor(*v)) fail("seeds", "must be a whole number from 1 to 5");
    r.seeds = static_cast<int>(*v);
  }
  if (body.contains("periods") && !body["periods"].is_null()) {
    const auto& v = body["periods"];
    if (!v.is_string() || (v != "auto" && v != "one")) fail("periods", "must be \"auto\" or \"one\"");
    r.periods = v.get<std::string>();
  }
  return r;
}

GreenwaveJobs::~GreenwaveJobs() { stop(); }

json GreenwaveJobs::start(const std::filesystem::path& session_dir, const std::filesystem::path& territory,
                          const GreenwaveRequest& request, const std::string& by) {
  const auto manifest = twin::read_manifest(territory);
  if (!manifest.network || manifest.demand.empty())
    fail_as(ErrorCategory::not_found, "territory", "{} has no road network and demand to plan lights on",
            territory.string());
  std::lock_guard lock(mutex_);
  if (running_)
    fail_as(ErrorCategory::conflict, "greenwave", "a plan is being computed ({}): one at a time, try again when it ends",
            running_dir_.parent_path().parent_path().filename().string() + " #" + running_dir_.filename().string());
  const auto jobs = session_dir / kJobsDir;
  ensure_private_dir(jobs);
  const int n = next_numbered_dir(jobs);
  const auto dir = job_dir(session_dir, n);
  ensure_private_dir(dir);
  json req = {{"tls", request.tls}, {"speed_kmh", request.speed_kmh}};
  if (request.cycle_s) req["cycle_s"] = *request.cycle_s;
  if (request.begin_s) req["begin_s"] = *request.begin_s;
  if (request.end_s) req["end_s"] = *request.end_s;
  req["budget_s"] = request.budget_s;
  req["seeds"] = request.seeds;
  req["periods"] = request.periods;
  write_private_file(dir / "request.json", req.dump(1));
  std::string tls, routes;
  for (const auto& id : request.tls) tls += (tls.empty() ? "" : ",") + id;
  for (const auto& r : manifest.demand) routes += (routes.empty() ? "" : ",") + r.string();
  std::vector<std::string> args{"greenwave", "--net", manifest.network->string(), "--routes", routes, "--tls", tls,
                                "--out", dir.string(), "--speed-kmh", fmt::format("{:g}", request.speed_kmh)};
  if (request.cycle_s) args.insert(args.end(), {"--cycle-s", fmt::format("{:g}", *request.cycle_s)});
  if (request.begin_s) args.insert(args.end(), {"--begin", fmt::format("{:g}", *request.begin_s)});
  if (request.end_s) args.insert(args.end(), {"--end", fmt::format("{:g}", *request.end_s)});
  // One simulation at a time: the sessions' engines need the other core.
  args.insert(args.end(), {"--budget-s", fmt::format("{:g}", request.budget_s), "--seeds", std::to_string(request.seeds),
                           "--periods", request.periods, "--workers", "1"});
  const json state = {{"state", "running"}, {"by", by}, {"started_at", utc_now_iso()}, {"started_epoch_s", unix_now_s()}};
  write_private_file(dir / "state.json", state.dump());
  running_ = supervisor_.run(args, dir / "run.log", {nullptr, [this, dir](int status) { on_exit(dir, status); }});
  running_dir_ = dir;
  spdlog::info("greenwave plan {} started by {}: {}", dir.string(), by, tls);
  return {{"job", n}, {"state", "running"}, {"request", req}, {"by", by}, {"started_at", state["started_at"]},
          {"files", json::array()}};
}

void GreenwaveJobs::on_exit(std::filesystem::path dir, int status) {
  std::lock_guard lock(mutex_);
  if (running_dir_ == dir) {
    running_.reset();
    running_dir_.clear();
  }
  json state = read_json_object(dir / "state.json");
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && std::filesystem::exists(dir / "report.json");
  state["state"] = ok ? "done" : WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? "interrupted" : "failed";
  state["ended_at"] = utc_now_iso();
  state["wall_s"] = std::max(0.0, unix_now_s() - state.value("started_epoch_s", unix_now_s()));
  if (state["state"] == "failed") state["problem"] = problem_of(dir / "run.log");
  try {
    write_private_file(dir / "state.json", state.dump());
  } catch (const Error& e) {
    spdlog::error("greenwave plan {}: {}", dir.string(), e.what());
  }
  spdlog::info("greenwave plan {}: {}", dir.string(), state["state"].get<std::string>());
}

json GreenwaveJobs::job(const std::filesystem::path& session_dir, int number) const {
  json out = summary(session_dir, number);
  if (out["state"] == "done") out["report"] = read_json_object(job_dir(session_dir, number) / "report.json");
  return out;
}

json GreenwaveJobs::summary(const std::filesystem::path& session_dir, int number) const {
  const auto dir = job_dir(session_dir, number);
  if (number < 1 || !std::filesystem::exists(dir / "state.json"))
    fail_as(ErrorCategory::not_found, "greenwave", "no plan #{} in this session", number);
  json state = read_json_object(dir / "state.json");
  {
    std::lock_guard lock(mutex_);
    // Left running by a server that stopped: nothing will finish it.
    if (state.value("state", "") == "running" && running_dir_ != dir) state["state"] = "interrupted";
  }
  json out = {{"job", number}, {"state", state.value("state", "failed")}, {"request", read_json_object(dir / "request.json")},
              {"by", state.value("by", "")}, {"started_at", state.value("started_at", "")}};
  for (const char* key : {"ended_at", "wall_s", "problem"})
    if (state.contains(key)) out[key] = state[key];
  if (out["state"] == "running") {
    out["elapsed_s"] = std::max(0.0, unix_now_s() - state.value("started_epoch_s", unix_now_s()));
    if (auto line = last_progress(dir / "run.log")) out["progress"] = *line;
  }
  json files = json::array();
  for (const auto& o : kOutputs)
    if (std::filesystem::exists(dir / o.name)) files.push_back(o.name);
  for (int k = 1; k <= kMaxPeriods; ++k)
    for (const char* stem : {"time_space_baseline", "time_space_plan"})
      if (std::filesystem::exists(dir / fmt::format("{}-{}.svg", stem, k))) files.push_back(fmt::format("{}-{}.svg", stem, k));
  out["files"] = files;
  return out;
}

json GreenwaveJobs::list(const std::filesystem::path& session_dir) const {
  json jobs = json::array();
  const int last = next_numbered_dir(session_dir / kJobsDir) - 1;
  for (int n = 1; n <= last; ++n) {
    if (std::filesystem::exists(job_dir(session_dir, n) / "state.json")) jobs.push_back(summary(session_dir, n));
  }
  json running = nullptr;
  bool busy = false;
  {
    std::lock_guard lock(mutex_);
    busy = running_ != nullptr;
    if (busy && running_dir_.parent_path() == session_dir / kJobsDir) running = std::stoi(running_dir_.filename().string());
  }
  return {{"jobs", jobs}, {"running", running}, {"busy", busy}};
}

std::string GreenwaveJobs::file(const std::filesystem::path& session_dir, int number, const std::string& name,
                                std::string* content_type) const {
  const auto* output = std::find_if(std::begin(kOutputs), std::end(kOutputs), [&](const Output& o) { return name == o.name; });
  const bool period_diagram = period_diagram_name(name);
  if (output == std::end(kOutputs) && !period_diagram)
    fail_as(ErrorCategory::not_found, "greenwave", "a plan has no file '{}' (report.json, plan.add.xml, "
            "time_space_baseline.svg, time_space_plan.svg, or per period time_space_baseline-K.svg...)", name.substr(0, 64));
  const std::string file_name = period_diagram ? name : output->name;
  const auto path = job_dir(session_dir, number) / file_name;
  std::ifstream in(path, std::ios::binary);
  if (number < 1 || !in) fail_as(ErrorCategory::not_found, "greenwave", "plan #{} has no {} (yet)", number, file_name);
  std::ostringstream text;
  text << in.rdbuf();
  if (content_type) *content_type = period_diagram ? "image/svg+xml" : output->type;
  return text.str();
}

std::filesystem::path GreenwaveJobs::plan_file(const std::filesystem::path& session_dir, int number) const {
  const json j = summary(session_dir, number);
  if (j["state"] != "done")
    fail_as(ErrorCategory::conflict, "light_plan", "plan #{} is {}: only a finished plan can be applied", number,
            j["state"].get<std::string>());
  return job_dir(session_dir, number) / "plan.add.xml";
}

void GreenwaveJobs::stop() {
  std::lock_guard lock(mutex_);
  if (running_) running_->signal(SIGTERM);
}

}  // namespace cadereau::server::service
