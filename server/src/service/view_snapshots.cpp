#include "view_snapshots.h"

#include "data_files.h"
#include "hdf5_lock.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

namespace cadereau::server::service {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kViewsDir = "views";
constexpr int kWidthPx = 1600;
constexpr int kHeightPx = 1000;

fs::path view_dir(const fs::path& session_dir, int number) { return session_dir / kViewsDir / std::to_string(number); }

bool executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::optional<fs::path> on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && executable(fs::path(dir) / name)) return fs::path(dir) / name;
  return std::nullopt;
}

// The recording that holds t_s: the newest whose own part starts by then (a
// worker restarted from a checkpoint writes a new one, forked from the last).
// t_s is brought back to the last time it holds (a replay's clock runs to
// the scenario's end, its session may have stopped before).
fs::path recording_at(const std::vector<fs::path>& recordings, double& t_s) {
  std::lock_guard lock(hdf5_mutex());
  for (auto it = recordings.rbegin(); it != recordings.rend(); ++it) {
    try {
      const twin::RecordingReader reader(*it);
      const auto fork = reader.meta().fork_sim_s;
      if (fork && *fork > t_s + 1e-6) continue;
      const auto channels = reader.frame_channels();
      double end = std::isnan(reader.last_sim_s()) ? 0.0 : reader.last_sim_s();
      if (std::find(channels.begin(), channels.end(), "depth_m") != channels.end()) {
        const auto frames = reader.frame_times_s("depth_m");
        if (!frames.empty()) end = std::max(end, frames.back());
      }
      t_s = std::min(t_s, std::floor(end));
      return *it;
    } catch (const Error&) {
      // A worker that has just started may not have laid its recording out yet.
    }
  }
  fail_as(ErrorCategory::not_found, "view", "the session has no recording to draw at {:.0f} s yet", t_s);
}

// The viewer's caption ("at 08:15 (1:15:00 into the run) · ..."), or why it
// refused, from its log.
std::string log_line(const fs::path& log, const std::string& prefix) {
  std::ifstream in(log);
  std::string line, found;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) found = line;
  return found;
}

}  // namespace

ViewSnapshots::ViewSnapshots(worker::Supervisor& supervisor, std::vector<std::string> command, std::string missing)
    : supervisor_(supervisor), command_(std::move(command)), missing_(std::move(missing)) {}

ViewSnapshots::~ViewSnapshots() { stop(); }

std::vector<std::string> ViewSnapshots::find_viewer_command(std::string* why) {
  std::optional<fs::path> viewer;
  if (const char* env = std::getenv("CADEREAU_VIEWER"); env && *env) {
    if (!executable(env)) {
      if (why) *why = fmt::format("CADEREAU_VIEWER={} is not an executable file", env);
      return {};
    }
    viewer = fs::path(env);
  } else {
    const fs::path here = worker::current_executable().parent_path();
    for (const fs::path& candidate : {here / "cadereau-viewer", here.parent_path() / "viewer" / "cadereau-viewer"})
      if (!viewer && executable(candidate)) viewer = candidate;
    if (!viewer) viewer = on_path("cadereau-viewer");
  }
  const auto xvfb = on_path("xvfb-run");
  const auto timeout = on_path("timeout");
  if (!viewer || !xvfb || !timeout) {
    if (why)
      *why = !viewer ? "cadereau-viewer is not beside the server nor on the PATH (build it, or set CADEREAU_VIEWER)"
                     : !xvfb ? "xvfb-run is not installed (Debian package xvfb)" : "timeout is not on the PATH";
    return {};
  }
  return {timeout->string(), "60", xvfb->string(), "-a", "-s", fmt::format("-screen 0 {}x{}x24", kWidthPx, kHeightPx + 200),
          viewer->string()};
}

json ViewSnapshots::start(const fs::path& session_dir, const fs::path& territory, const std::vector<fs::path>& recordings,
                          double t_s, const std::string& by) {
  if (command_.empty()) fail_as(ErrorCategory::unavailable, "view", "this server draws no 3D views: {}", missing_);
  if (!std::isfinite(t_s) || t_s < 0) fail("t_s", "must be a time in seconds from the start");
  t_s = std::floor(t_s);
  const fs::path recording = recording_at(recordings, t_s);
  std::lock_guard lock(mutex_);
  if (running_)
    fail_as(ErrorCategory::conflict, "view", "a 3D view is being drawn ({}): one at a time, try again in a few seconds",
            running_dir_.parent_path().parent_path().filename().string() + " #" + running_dir_.filename().string());
  const auto views = session_dir / kViewsDir;
  ensure_private_dir(views);
  const int n = next_numbered_dir(views);
  // The newest views stay; the older ones go.
  std::error_code ec;
  for (int old = n - kViewsKept; old >= 1 && fs::exists(view_dir(session_dir, old), ec); --old)
    fs::remove_all(view_dir(session_dir, old), ec);
  const auto dir = view_dir(session_dir, n);
  ensure_private_dir(dir);
  const json request = {{"t_s", t_s}, {"recording", recording.filename().string()}};  // t_s as drawn
  write_private_file(dir / "request.json", request.dump());
  std::vector<std::string> args(command_.begin() + 1, command_.end());
  args.insert(args.end(), {"--territory", territory.string(), "--recording", recording.string(), "--at",
                           fmt::format("{:.0f}", t_s), "--snapshot", (dir / "view.png").string(), "--width",
                           std::to_string(kWidthPx), "--height", std::to_string(kHeightPx)});
  const json state = {{"state", "running"}, {"by", by}, {"started_at", utc_now_iso()}, {"started_epoch_s", unix_now_s()}};
  write_private_file(dir / "state.json", state.dump());
  running_ = supervisor_.run_program(command_.front(), args, dir / "run.log",
                                     {nullptr, [this, dir](int status) { on_exit(dir, status); }});
  running_dir_ = dir;
  return {{"view", n}, {"state", "running"}, {"t_s", t_s}, {"by", by}, {"started_at", state["started_at"]}};
}

void ViewSnapshots::on_exit(fs::path dir, int status) {
  std::lock_guard lock(mutex_);
  if (running_dir_ == dir) {
    running_.reset();
    running_dir_.clear();
  }
  json state = read_json_object(dir / "state.json");
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && fs::exists(dir / "view.png");
  state["state"] = ok ? "done" : WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? "interrupted" : "failed";
  state["ended_at"] = utc_now_iso();
  state["wall_s"] = std::max(0.0, unix_now_s() - state.value("started_epoch_s", unix_now_s()));
  if (ok) {
    // "at 08:15 (1:15:00 into the run) · 357 roads closed · 29 assets out of service (969 records, ...)"
    std::string caption = log_line(dir / "run.log", "at ");
    if (const auto paren = caption.rfind(" ("); paren != std::string::npos && caption.back() == ')') caption.resize(paren);
    state["caption"] = caption;
    static const std::regex counts(R"(· (\d+) roads? closed · (\d+) assets? out of service)");
    if (std::smatch m; std::regex_search(caption, m, counts)) {
      state["roads_closed"] = std::stoi(m[1].str());
      state["assets_out_of_service"] = std::stoi(m[2].str());
    }
  } else {
    const std::string why = log_line(dir / "run.log", "cadereau-viewer: ");
    state["problem"] = !why.empty() ? why.substr(17)
                       : WIFEXITED(status) && WEXITSTATUS(status) == 124 ? "the viewer took more than 60 s"
                                                                         : "the viewer stopped without saying why: see its log";
  }
  try {
    write_private_file(dir / "state.json", state.dump());
  } catch (const Error& e) {
    spdlog::error("view {}: {}", dir.string(), e.what());
  }
  spdlog::info("view {}: {}{}", dir.string(), state["state"].get<std::string>(),
               state.contains("problem") ? ": " + state["problem"].get<std::string>() : "");
}

json ViewSnapshots::view(const fs::path& session_dir, int number) const {
  const auto dir = view_dir(session_dir, number);
  if (number < 1 || !fs::exists(dir / "state.json"))
    fail_as(ErrorCategory::not_found, "view", "no view #{} in this session", number);
  json state = read_json_object(dir / "state.json");
  {
    std::lock_guard lock(mutex_);
    if (state.value("state", "") == "running" && running_dir_ != dir) state["state"] = "interrupted";
  }
  const json request = read_json_object(dir / "request.json");
  json out = {{"view", number}, {"state", state.value("state", "failed")}, {"t_s", request.value("t_s", 0.0)},
              {"by", state.value("by", "")}, {"started_at", state.value("started_at", "")}};
  for (const char* key : {"ended_at", "wall_s", "caption", "roads_closed", "assets_out_of_service", "problem"})
    if (state.contains(key)) out[key] = state[key];
  return out;
}

std::string ViewSnapshots::png(const fs::path& session_dir, int number) const {
  if (view(session_dir, number)["state"] != "done")
    fail_as(ErrorCategory::not_found, "view", "view #{} has no picture (yet)", number);
  std::ifstream in(view_dir(session_dir, number) / "view.png", std::ios::binary);
  if (!in) fail_as(ErrorCategory::not_found, "view", "view #{} has no picture", number);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void ViewSnapshots::stop() {
  std::lock_guard lock(mutex_);
  if (running_) running_->signal(SIGTERM);
}

}  // namespace cadereau::server::service
