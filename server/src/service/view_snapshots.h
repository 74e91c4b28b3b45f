#pragma once
// 3D views of a session: a picture of the territory as it stood at a time of
// the session (its water, the roads closed in red, the assets out of service
// in their colours), drawn by `cadereau-viewer --recording --at --snapshot`
// (viewer/) in a child process on a virtual X display (xvfb-run): OpenGL and
// OpenSceneGraph stay out of the server. A view is kept in its session's
// folder, views/N/: request.json, state.json, run.log and view.png; the
// newest kViewsKept of a session stay.
//
// One view is drawn at a time on the server (about 2 s on the demo), each
// under a 60 s limit: the sessions' engines come first.
//
// Thread-safety: every member may be called from any thread.

#include "../worker/supervisor.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::server::service {

inline constexpr int kViewsKept = 20;

class ViewSnapshots {
 public:
  // `command`: the viewer's command line before its own options, as
  // find_viewer_command() gives it; empty when the server has no viewer:
  // every start is then refused as unavailable, saying `missing`.
  ViewSnapshots(worker::Supervisor& supervisor, std::vector<std::string> command, std::string missing = {});
  ~ViewSnapshots();  // stop()s

  // The viewer under `timeout` and `xvfb-run`: CADEREAU_VIEWER if set, else
  // cadereau-viewer next to this executable, in ../viewer/ (a build tree)
  // or on the PATH. Empty, with `why` set, when a piece is missing.
  static std::vector<std::string> find_viewer_command(std::string* why);

  // Draws the session at t_s (its clock's seconds; brought back to the last
  // second recorded) from `recordings` (the session's, oldest first: the
  // one that holds t_s is read) on the territory in `territory`, kept in
  // session_dir/views/N. Returns the view
  // as view() gives it. Throws Error: unavailable without a viewer,
  // conflict while another view is drawn, not_found without a recording.
  nlohmann::json start(const std::filesystem::path& session_dir, const std::filesystem::path& territory,
                       const std::vector<std::filesystem::path>& recordings, double t_s, const std::string& by);
  // View n: {"view","state","t_s","by","started_at"[,"ended_at","wall_s"]
  // [,"caption","roads_closed","assets_out_of_service"][,"problem"]}; the
  // caption is the viewer's ("at 08:15 (1:15:00 into the run) · 357 roads
  // closed · 29 assets out of service"); state is running, done, failed or
  // interrupted. Throws Error (not_found).
  nlohmann::json view(const std::filesystem::path& session_dir, int number) const;
  // View n's picture (PNG). Throws Error (not_found) until it is done.
  std::string png(const std::filesystem::path& session_dir, int number) const;
  // Ends the drawing under way (server shutdown).
  void stop();

 private:
  void on_exit(std::filesystem::path dir, int status);

  worker::Supervisor& supervisor_;
  std::vector<std::string> command_;
  std::string missing_;  // why there is no viewer
  mutable std::mutex mutex_;
  std::shared_ptr<worker::WorkerHandle> running_;
  std::filesystem::path running_dir_;
};

}  // namespace cadereau::server::service
