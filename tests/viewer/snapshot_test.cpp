#include "cadereau/viewer/cli.h"
#include "cadereau/viewer/recorded_state.h"
#include "cadereau/viewer/snapshot.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"
#include "test_support.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>
#include <optional>
#include <sstream>
#include <string>

using namespace cadereau;
using cadereau::testing::TempDir;

namespace {

// A 1 km square at a Lambert-93 position: a 60 m hill on a gentle plain,
// a row of buildings at its foot and three assets. Float-precision trouble
// (Lambert-93 northings are ~6.3e6 m) would show as a blank or torn image.
twin::Territory small_territory() {
  constexpr double kXMin = 810000.0;
  constexpr double kYMax = 6302000.0;
  constexpr double kCell = 10.0;
  twin::Territory territory;
  territory.manifest.name = "test hill";
  territory.dem = twin::Raster(twin::GridSpec{100, 100, kXMin, kYMax, kCell, kCell}, twin::Crs{}, 0.0f);
  for (int r = 0; r < 100; ++r) {
    for (int c = 0; c < 100; ++c) {
      const double x = (c + 0.5) * kCell, y = (100 - r - 0.5) * kCell;
      const double hill = 60.0 * std::exp(-((x - 600.0) * (x - 600.0) + (y - 650.0) * (y - 650.0)) / (2 * 180.0 * 180.0));
      territory.dem.at(c, r) = static_cast<float>(40.0 + 0.01 * y + hill + 1.5 * std::sin(x / 40.0));
    }
  }
  for (int i = 0; i < 8; ++i) {
    twin::Building b;
    b.id = fmt::format("b{}", i);
    const double x = kXMin + 120.0 + i * 45.0, y = kYMax - 850.0;
    b.footprint.outer = {{x, y}, {x + 30.0, y}, {x + 30.0, y + 20.0}, {x, y + 20.0}};
    b.height_m = 9.0 + 3.0 * i;
    territory.buildings.push_back(b);
  }
  const std::pair<twin::AssetType, const char*> assets[] = {
      {twin::AssetType::hospital, "Hôpital Carémeau"}, {twin::AssetType::school, "École des Arènes"}, {twin::AssetType::substation, "Poste source"}};
  int k = 0;
  for (const auto& [type, name] : assets) {
    twin::Asset a;
    a.id = fmt::format("a{}", k);
    a.name = name;
    a.type = type;
    a.location = {kXMin + 250.0 + 250.0 * k, kYMax - 500.0};
    territory.assets.push_back(a);
    ++k;
  }
  return territory;
}

viewer::SnapshotOptions small_options() {
  viewer::SnapshotOptions options;
  options.width_px = 640;
  options.height_px = 400;
  return options;
}

// What the process writes on its stdout and stderr while `run` runs (OSG and
// Xlib write there directly, not through std::cerr).
template <class Run>
std::string console_output_of(Run run, const std::filesystem::path& file) {
  std::fflush(stdout);
  std::fflush(stderr);
  const int saved_out = dup(1), saved_err = dup(2);
  const int sink = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(sink >= 0);
  dup2(sink, 1);
  dup2(sink, 2);
  close(sink);
  try {
    run();
  } catch (...) {
    std::fflush(stdout);
    std::fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    throw;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  return cadereau::testing::read_text(file);
}

// A run on the small territory as the engine records it: a metre of water
// over the southern third from 600 s, road r1 closed at 600 s and reopened at
// 1200 s, r2 closed at 900 s, a1 cut off then failed, a2 on backup then
// recovered.
std::filesystem::path small_recording(const twin::Territory& territory, const std::filesystem::path& file) {
  twin::RecordingLayout layout;
  layout.meta.territory = "test hill";
  layout.meta.start_time_iso = "1988-10-03T07:00:00";
  layout.frames.push_back({"depth_m", territory.grid(), "", "m", -9999.0, "water depth"});
  twin::Recorder recorder(file, layout);
  const auto record = [&](double t, const char* kind, const char* target) {
    recorder.append(twin::EventKind::simulation_event, t, "engine",
                    fmt::format(R"({{"id":1,"kind":"{}","target":"{}","x_m":0,"y_m":0}})", kind, target));
  };
  const twin::GridSpec& g = territory.grid();
  std::vector<float> dry(static_cast<std::size_t>(g.cols) * static_cast<std::size_t>(g.rows), 0.0f), wet = dry;
  for (int r = 2 * g.rows / 3; r < g.rows; ++r)
    for (int c = 0; c < g.cols; ++c) wet[static_cast<std::size_t>(r) * static_cast<std::size_t>(g.cols) + static_cast<std::size_t>(c)] = 1.0f;
  recorder.append_frame("depth_m", 0.0, dry);
  record(300, "asset_cut_off", "a1");
  record(300, "asset_on_backup", "a2");
  record(600, "road_closed", "r1");
  recorder.append_frame("depth_m", 600.0, wet);
  record(700, "asset_failed", "a1");
  record(800, "asset_cut_off", "a1");  // a failed asset stays failed
  record(900, "road_closed", "r2");
  recorder.append(twin::EventKind::audit, 950, "operator:alice", R"({"kind":"road_closed","target":"r3"})");  // not a record
  record(1000, "asset_recovered", "a2");
  record(1200, "road_reopened", "r1");
  recorder.append_frame("depth_m", 1200.0, wet);
  recorder.close();
  return file;
}

}  // namespace

TEST_CASE("a recording's state at a time: its water, roads closed and assets out", "[viewer]") {
  const twin::Territory territory = small_territory();
  TempDir dir;
  const auto file = small_recording(territory, dir / "run.h5");
  using viewer::AssetStatus;
  const viewer::RecordedState early = viewer::read_recorded_state(file, 400.0);
  CHECK(early.frame_time_s == 0.0);
  CHECK(early.closed_roads.empty());
  CHECK(early.assets == std::map<std::string, AssetStatus>{{"a1", AssetStatus::cut_off}, {"a2", AssetStatus::on_backup}});
  const viewer::RecordedState mid = viewer::read_recorded_state(file, 950.0);
  CHECK(mid.frame_time_s == 600.0);
  REQUIRE(mid.depth_m);
  CHECK(mid.depth_m->at(5, territory.grid().rows - 1) == 1.0f);
  CHECK(mid.depth_m->at(5, 0) == 0.0f);
  CHECK(mid.closed_roads == std::set<std::string>{"r1", "r2"});
  CHECK(mid.assets == std::map<std::string, AssetStatus>{{"a1", AssetStatus::failed}, {"a2", AssetStatus::on_backup}});
  const viewer::RecordedState end = viewer::read_recorded_state(file, std::nullopt);
  CHECK(end.at_s == 1200.0);
  CHECK(end.closed_roads == std::set<std::string>{"r2"});
  CHECK(end.assets == std::map<std::string, AssetStatus>{{"a1", AssetStatus::failed}});
  CHECK(end.records == 8);
  CHECK(end.start_time_iso == "1988-10-03T07:00:00");
  CHECK_THROWS_WITH(viewer::read_recorded_state(file, 5000.0), Catch::Contains("ends at 1200 s") && Catch::Contains("run.h5"));
  CHECK_THROWS_WITH(viewer::read_recorded_state(file, -1.0), Catch::Contains(">= 0"));
  CHECK_THROWS_WITH(viewer::read_recorded_state(dir / "none.h5", 0.0), Catch::Contains("no such recording"));
  const auto broken = dir / "broken.h5";
  cadereau::testing::write_text(broken, "not HDF5");
  CHECK_THROWS_AS(viewer::read_recorded_state(broken, 0.0), cadereau::Error);
}

TEST_CASE("assets out of service are drawn in their status colours", "[integration][viewer]") {
  const twin::Territory territory = small_territory();
  TempDir dir;
  const auto ok_png = dir / "ok.png", out_png = dir / "out.png";
  viewer::render_snapshot(territory, small_options(), ok_png);
  viewer::SnapshotOptions out = small_options();
  out.scene.asset_status = {{"a0", viewer::AssetStatus::failed}, {"a2", viewer::AssetStatus::on_backup}};
  viewer::render_snapshot(territory, out, out_png);
  const double changed = viewer::changed_fraction(ok_png, out_png);
  INFO("share of the image changed by two assets out of service (and their legend lines): " << changed);
  CHECK(changed > 0.001);
}

TEST_CASE("cadereau-viewer --recording --at draws the roads closed at that time", "[integration][viewer][slow]") {
  const auto folder = cadereau::testing::demo_territory();
  if (!folder || !std::filesystem::exists(*folder / "territory.yaml")) {
    WARN("CADEREAU_TEST_TERRITORY is not set or has no territory.yaml: recording snapshot skipped (run through ctest)");
    return;
  }
  const twin::Territory territory = twin::Territory::load(*folder);
  REQUIRE(territory.network);
  TempDir dir;
  // The longest 150 edges closed at 600 s, no water: what turns red is the closures'.
  std::vector<const twin::Edge*> edges;
  for (const twin::Edge& e : territory.network->edges()) edges.push_back(&e);
  std::sort(edges.begin(), edges.end(), [](const twin::Edge* a, const twin::Edge* b) { return a->length_m() > b->length_m(); });
  edges.resize(std::min<std::size_t>(edges.size(), 150));
  const auto file = dir / "run.h5";
  {
    twin::RecordingLayout layout;
    layout.meta.start_time_iso = "1988-10-03T07:00:00";
    twin::Recorder recorder(file, layout);
    for (const twin::Edge* e : edges)
      recorder.append(twin::EventKind::simulation_event, 600.0, "engine",
                      fmt::format(R"({{"id":1,"kind":"road_closed","target":"{}"}})", e->id));
    recorder.append(twin::EventKind::simulation_event, 1800.0, "engine", R"({"id":2,"kind":"asset_failed","target":"x"})");
    recorder.close();
  }
  std::ostringstream out, err;
  const auto snapshot = [&](const char* at, const std::filesystem::path& png) {
    return viewer::run_cli({"--territory", folder->string(), "--recording", file.string(), "--at", at, "--snapshot",
                            png.string(), "--width", "800", "--height", "500"},
                           out, err);
  };
  const auto before = dir / "before.png", after = dir / "after.png";
  REQUIRE(snapshot("300", before) == 0);
  REQUIRE(snapshot("900", after) == 0);
  INFO(out.str());
  CHECK_THAT(out.str(), Catch::Contains("at 07:05 (0:05:00 into the run) \u00b7 0 roads closed") &&
                            Catch::Contains(fmt::format("at 07:15 (0:15:00 into the run) \u00b7 {} roads closed", edges.size())));
  const double changed = viewer::changed_fraction(before, after);
  INFO("share of the image changed by " << edges.size() << " roads closed: " << changed);
  CHECK(changed > 0.003);

  err.str("");
  CHECK(viewer::run_cli({"--territory", folder->string(), "--at", "10"}, out, err) == 2);
  CHECK_THAT(err.str(), Catch::Contains("--at needs --recording"));
  err.str("");
  CHECK(snapshot("9000", dir / "x.png") == 1);
  CHECK_THAT(err.str(), Catch::Contains("ends at 1800 s") && Catch::Contains("run.h5"));
  CHECK_FALSE(std::filesystem::exists(dir / "x.png"));
}

TEST_CASE("a headless snapshot prints no X11 errors", "[integration][viewer]") {
  const twin::Territory territory = small_territory();
  TempDir dir;
  const std::string console =
      console_output_of([&] { viewer::render_snapshot(territory, small_options(), dir / "quiet.png"); }, dir / "console.txt");
  INFO(console);
  CHECK(std::filesystem::exists(dir / "quiet.png"));
  CHECK_THAT(console, !Catch::Contains("BadMatch") && !Catch::Contains("X11ErrorHandling"));
}

TEST_CASE("a snapshot of a small territory shows the terrain", "[integration][viewer]") {
  const twin::Territory territory = small_territory();
  TempDir dir;
  const auto png = dir / "hill.png";
  const viewer::SnapshotReport report = viewer::render_snapshot(territory, small_options(), png);
  CHECK(report.terrain_vertices > 4);
  CHECK(report.terrain_error_m <= 0.5);
  CHECK(report.building_triangles == 8 * 10);
  CHECK(report.assets == 3);

  const viewer::ImageStats stats = viewer::analyse_png(png);
  INFO("non-background " << stats.non_background_fraction << ", colours " << stats.distinct_colours << ", luminance "
                         << stats.mean_luminance);
  CHECK(stats.width_px == 640);
  CHECK(stats.height_px == 400);
  CHECK(stats.non_background_fraction > 0.5);
  CHECK(stats.distinct_colours > 200);
  CHECK(stats.mean_luminance > 0.15);
  CHECK(stats.mean_luminance < 0.95);

  // The buildings are in the picture: leaving them out changes it.
  viewer::SnapshotOptions bare = small_options();
  bare.scene.show_buildings = false;
  bare.scene.show_assets = false;
  const auto bare_png = dir / "bare.png";
  viewer::render_snapshot(territory, bare, bare_png);
  const double changed = viewer::changed_fraction(png, bare_png);
  INFO("changed " << changed);
  CHECK(changed > 0.002);
  CHECK(changed < 0.5);
}

TEST_CASE("water depths are painted over the terrain", "[integration][viewer]") {
  const twin::Territory territory = small_territory();
  TempDir dir;
  const auto dry_png = dir / "dry.png", wet_png = dir / "wet.png";
  viewer::render_snapshot(territory, small_options(), dry_png);
  viewer::SnapshotOptions wet = small_options();
  // A metre of water over the southern third of the grid.
  twin::Raster depth(territory.grid(), territory.crs, 0.0f);
  for (int r = 2 * territory.grid().rows / 3; r < territory.grid().rows; ++r)
    for (int c = 0; c < territory.grid().cols; ++c) depth.at(c, r) = 1.0f;
  wet.scene.water_depth = depth;
  viewer::render_snapshot(territory, wet, wet_png);
  const double changed = viewer::changed_fraction(dry_png, wet_png);
  INFO("share of the image changed by the water: " << changed);
  CHECK(changed > 0.05);
  // A raster on another grid is not drawn, rather than drawn in the wrong place.
  viewer::SnapshotOptions off = small_options();
  off.scene.water_depth = twin::Raster(twin::GridSpec{3, 3, 0.0, 30.0, 10.0, 10.0}, territory.crs, 1.0f);
  const auto off_png = dir / "off.png";
  viewer::render_snapshot(territory, off, off_png);
  CHECK(viewer::changed_fraction(dry_png, off_png) < 0.001);
}

TEST_CASE("snapshot errors say what went wrong", "[integration][viewer]") {
  const twin::Territory territory = small_territory();
  TempDir dir;
  CHECK_THROWS_WITH(viewer::render_snapshot(territory, small_options(), dir / "no-such-folder" / "x.png"),
                    Catch::Contains("does not exist"));
  CHECK_THROWS_AS(viewer::render_snapshot(territory, small_options(), dir.path()), cadereau::Error);
  viewer::SnapshotOptions zero = small_options();
  zero.width_px = 0;
  CHECK_THROWS_AS(viewer::render_snapshot(territory, zero, dir / "x.png"), cadereau::Error);
  CHECK_THROWS_AS(viewer::analyse_png(dir / "missing.png"), cadereau::Error);

  // No X display at all: the message tells the way out.
  const char* display = std::getenv("DISPLAY");
  const std::string saved = display ? display : "";
  ::unsetenv("DISPLAY");
  CHECK_THROWS_WITH(viewer::render_snapshot(territory, small_options(), dir / "x.png"), Catch::Contains("xvfb-run"));
  if (!saved.empty()) ::setenv("DISPLAY", saved.c_str(), 1);
}

TEST_CASE("the viewer command line", "[integration][viewer]") {
  std::ostringstream out, err;
  CHECK(viewer::run_cli({"--help"}, out, err) == 0);
  CHECK_THAT(out.str(), Catch::Contains("--snapshot"));
  CHECK(viewer::run_cli({}, out, err) == 2);
  CHECK(viewer::run_cli({"--territory"}, out, err) == 2);
  CHECK(viewer::run_cli({"--territory", "x", "--width", "wide"}, out, err) == 2);
  CHECK(viewer::run_cli({"--territory", "x", "--bogus"}, out, err) == 2);
  err.str("");
  TempDir dir;
  CHECK(viewer::run_cli({"--territory", (dir / "nowhere").string(), "--snapshot", (dir / "x.png").string()}, out, err) == 1);
  CHECK_THAT(err.str(), Catch::Contains("nowhere"));

  // Following a session: what is missing or wrong is named before anything is drawn.
  const auto folder = cadereau::testing::demo_territory();
  if (!folder || !std::filesystem::exists(*folder / "territory.yaml")) return;
  const std::string territory = folder->string();
  const auto token = dir / "token";
  cadereau::testing::write_text(token, "abc\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
      {{"--server", "https://127.0.0.1:1"}, "needs --server, --session and --token-file"},
      {{"--server", "https://127.0.0.1:1", "--session", "s-1", "--token-file", token.string(), "--recording", "r.h5"},
       "no --recording"},
  };
  for (const auto& [extra, words] : refused) {
    std::vector<std::string> args{"--territory", territory};
    args.insert(args.end(), extra.begin(), extra.end());
    err.str("");
    CHECK(viewer::run_cli(args, out, err) == 2);
    CHECK_THAT(err.str(), Catch::Contains(words));
  }
  const std::vector<std::pair<std::vector<std::string>, std::string>> failing = {
      {{"--server", "https://127.0.0.1:1", "--session", "s-1", "--token-file", (dir / "none").string()}, "cannot read the token file"},
      {{"--server", "http://127.0.0.1:1", "--session", "s-1", "--token-file", token.string()}, "over TLS only"},
      {{"--server", "127.0.0.1:1", "--session", "s-1", "--token-file", token.string()}, "is not https://HOST[:PORT]"},
      {{"--server", "https://127.0.0.1:1", "--session", "a b", "--token-file", token.string()}, "is not a session id"},
      {{"--server", "https://127.0.0.1:1", "--session", "s-1", "--token-file", token.string()}, "cannot connect"},
  };
  for (const auto& [extra, words] : failing) {
    std::vector<std::string> args{"--territory", territory};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--snapshot", (dir / "x.png").string()});
    err.str("");
    CHECK(viewer::run_cli(args, out, err) == 1);
    CHECK_THAT(err.str(), Catch::Contains(words));
  }
  CHECK_FALSE(std::filesystem::exists(dir / "x.png"));
}

TEST_CASE("a snapshot of the demo territory shows terrain, buildings and roads", "[integration][viewer][slow]") {
  const auto folder = cadereau::testing::demo_territory();
  if (!folder || !std::filesystem::exists(*folder / "territory.yaml")) {
    WARN("CADEREAU_TEST_TERRITORY is not set or has no territory.yaml: demo snapshot skipped (run through ctest)");
    return;
  }
  const twin::Territory territory = twin::Territory::load(*folder);
  TempDir dir;
  viewer::SnapshotOptions options;
  options.width_px = 1200;
  options.height_px = 800;
  const auto full = dir / "demo.png";
  const viewer::SnapshotReport report = viewer::render_snapshot(territory, options, full);
  INFO("terrain " << report.terrain_vertices << " vertices, error " << report.terrain_error_m << " m, scene "
                  << report.scene_s << " s, render " << report.render_s << " s");
  CHECK(report.terrain_error_m <= options.scene.terrain_mesh.max_vertical_error_m + 1e-9);
  CHECK(report.terrain_vertices <= options.scene.terrain_mesh.max_vertices);
  const viewer::ImageStats stats = viewer::analyse_png(full);
  CHECK(stats.non_background_fraction > 0.5);
  CHECK(stats.distinct_colours > 200);

  if (!territory.buildings.empty()) {
    viewer::SnapshotOptions no_buildings = options;
    no_buildings.scene.show_buildings = false;
    const auto png = dir / "no-buildings.png";
    viewer::render_snapshot(territory, no_buildings, png);
    CHECK(viewer::changed_fraction(full, png) > 0.01);
  }
  if (territory.network) {
    CHECK(report.road_edges > 0);
    viewer::SnapshotOptions no_roads = options;
    no_roads.scene.show_roads = false;
    const auto png = dir / "no-roads.png";
    viewer::render_snapshot(territory, no_roads, png);
    CHECK(viewer::changed_fraction(full, png) > 0.01);
  }
}
