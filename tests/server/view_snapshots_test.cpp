// 3D views as server jobs (server/src/service/view_snapshots.h): the
// recording that holds the time asked, the time brought back to the last one
// recorded, a view's life (running, done with the viewer's counts, failed
// with its reason, one at a time, interrupted), the newest views kept, and a
// server without a viewer saying why; with a stand-in viewer, so that no
// OpenGL runs here: the console test draws real ones.

#include "service/view_snapshots.h"
#include "job_test_support.h"
#include "test_support.h"
#include "worker/supervisor.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <chrono>
#include <functional>
#include <thread>

using cadereau::Error;
using cadereau::ErrorCategory;
using cadereau::server::service::kViewsKept;
using cadereau::server::service::ViewSnapshots;
using cadereau::testing::category_of;
using cadereau::testing::TempDir;
using cadereau::testing::write_text;
using nlohmann::json;
namespace twin = cadereau::twin;

namespace {

// Stands in for `cadereau-viewer`: --at 13 is refused as the viewer refuses,
// --at 99 takes a minute, other times give a picture and the caption.
constexpr const char* kViewer = R"SH(#!/bin/sh
png=""; at=""; rec=""; prev=""
for a in "$@"; do
  [ "$prev" = "--snapshot" ] && png="$a"
  [ "$prev" = "--at" ] && at="$a"
  [ "$prev" = "--recording" ] && rec="$a"
  prev="$a"
done
case "$at" in
  13) echo "cadereau-viewer: $rec: no frame channel 'depth_m'" >&2; exit 1;;
  99) exec sleep 60;;
esac
echo "at 07:0$((at / 600)) (0:00:$at into the run) · 3 roads closed · 1 asset out of service (5 records, water of 0:00:00)"
printf 'PNG %s %s' "$at" "$(basename "$rec")" > "$png"
echo "wrote $png"
)SH";

// A session's recordings: the first to 600 s, the second resumed at 300 s and run to 900 s.
std::vector<std::filesystem::path> recordings(const std::filesystem::path& session) {
  std::vector<std::filesystem::path> files{session / "recording-001.h5", session / "recording-002.h5"};
  for (int k = 0; k < 2; ++k) {
    twin::RecordingLayout layout;
    if (k == 1) {
      layout.meta.parent_recording = files[0].string();
      layout.meta.fork_sim_s = 300.0;
    }
    twin::Recorder recorder(files[k], layout);
    for (double t = k == 0 ? 0.0 : 300.0; t <= (k == 0 ? 600.0 : 900.0); t += 100.0)
      recorder.append(twin::EventKind::simulation_event, t, "engine", R"({"kind":"water","target":"e1"})");
    recorder.close();
  }
  return files;
}

json wait_done(const ViewSnapshots& views, const std::filesystem::path& session, int n) {
  return cadereau::testing::until_ended([&] { return views.view(session, n); }, "view " + std::to_string(n));
}

}  // namespace

TEST_CASE("3D views are drawn one at a time from the recording that holds their time", "[unit][views]") {
  TempDir dir;
  const auto viewer = dir / "viewer.sh";
  write_text(viewer, kViewer);
  ::chmod(viewer.c_str(), 0755);
  const auto session = dir / "session";
  std::filesystem::create_directories(session);
  const auto files = recordings(session);
  cadereau::server::worker::Supervisor supervisor("/bin/false");
  ViewSnapshots views(supervisor, {viewer.string()});
  const auto territory = dir / "territory";

  CHECK(category_of([&] { views.view(session, 1); }) == ErrorCategory::not_found);
  CHECK(category_of([&] { views.start(session, territory, {}, 10.0, "director:anne"); }) == ErrorCategory::not_found);

  // Times and the recording each is read from: before the restart, after it, past the end.
  const std::vector<std::tuple<double, double, std::string>> cases = {
      {100.0, 100.0, "recording-001.h5"}, {500.4, 500.0, "recording-002.h5"}, {5000.0, 900.0, "recording-002.h5"}};
  int n = 0;
  for (const auto& [asked, drawn, file] : cases) {
    INFO("asked " << asked);
    const json started = views.start(session, territory, files, asked, "director:anne");
    CHECK(started["view"] == ++n);
    CHECK(started["state"] == "running");
    CHECK(started["t_s"] == drawn);
    const json done = wait_done(views, session, n);
    CHECK(done["state"] == "done");
    CHECK(done["t_s"] == drawn);
    CHECK(done["roads_closed"] == 3);
    CHECK(done["assets_out_of_service"] == 1);
    CHECK(done["caption"].get<std::string>().find("3 roads closed · 1 asset out of service") != std::string::npos);
    CHECK(done["caption"].get<std::string>().find("records") == std::string::npos);
    CHECK(views.png(session, n) == "PNG " + std::to_string(static_cast<int>(drawn)) + " " + file);
  }

  // Refused by the viewer: failed, with its reason.
  views.start(session, territory, files, 13.0, "director:anne");
  const json failed = wait_done(views, session, ++n);
  CHECK(failed["state"] == "failed");
  CHECK(failed["problem"].get<std::string>().find("no frame channel 'depth_m'") != std::string::npos);
  CHECK(failed["problem"].get<std::string>().rfind("cadereau-viewer", 0) == std::string::npos);
  CHECK(category_of([&] { views.png(session, n); }) == ErrorCategory::not_found);

  // One at a time; a view stopped by the server's end is told as interrupted.
  views.start(session, territory, files, 99.0, "director:anne");
  ++n;
  CHECK(views.view(session, n)["state"] == "running");
  CHECK(category_of([&] { views.start(session, territory, files, 10.0, "player:bob"); }) == ErrorCategory::conflict);
  views.stop();
  CHECK(wait_done(views, session, n)["state"] == "interrupted");

  // Bad times.
  CHECK(category_of([&] { views.start(session, territory, files, -1.0, "x"); }) == ErrorCategory::bad_input);
  CHECK(category_of([&] { views.start(session, territory, files, std::nan(""), "x"); }) == ErrorCategory::bad_input);

  // The newest views stay, the older ones go.
  while (n < kViewsKept + 3) {
    views.start(session, territory, files, 200.0, "observer:eva");
    wait_done(views, session, ++n);
  }
  CHECK_FALSE(std::filesystem::exists(session / "views" / "1"));
  CHECK_FALSE(std::filesystem::exists(session / "views" / "3"));
  CHECK(std::filesystem::exists(session / "views" / std::to_string(n - kViewsKept + 1)));
  CHECK(category_of([&] { views.view(session, 1); }) == ErrorCategory::not_found);
  CHECK(views.view(session, n)["state"] == "done");
}

TEST_CASE("A server without a viewer says why it draws no 3D views", "[unit][views]") {
  TempDir dir;
  cadereau::server::worker::Supervisor supervisor("/bin/false");
  ViewSnapshots views(supervisor, {}, "xvfb-run is not installed (Debian package xvfb)");
  try {
    views.start(dir.path(), dir.path(), {}, 0.0, "director:anne");
    FAIL("a view started without a viewer");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::unavailable);
    CHECK(std::string(e.what()).find("xvfb-run is not installed") != std::string::npos);
  }
  // Found where the build puts it, or told what is missing.
  std::string why;
  const auto command = ViewSnapshots::find_viewer_command(&why);
  INFO(why);
  CHECK((command.empty() ? !why.empty() : command.back().find("cadereau-viewer") != std::string::npos));
}
