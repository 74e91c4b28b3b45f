#include "cadereau/server/cli.h"
#include "cadereau/twin/raster.h"
#include "cadereau/twin/recording.h"
#include "cli_run.h"
#include "test_support.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <sstream>


namespace {

using Run = cadereau::testing::CliRun;

Run run(const std::vector<std::string>& args) { return cadereau::testing::run_cadereau(args); }

// A short storm on the demo territory: one inflow at a gauge, on 20 m flood cells.
std::filesystem::path write_storm(const std::filesystem::path& file, const std::filesystem::path& territory,
                                  const std::string& start, const std::string& duration, const std::string& inflow,
                                  const std::string& at, const std::string& m3_s) {
  cadereau::testing::write_text(file, "name: Short storm\nterritory: " + territory.string() + "\nstart: " + start +
                                          "\nduration: " + duration + "\nflood_cell_m: 20\ninflows:\n  - name: " + inflow +
                                          "\n    at: " + at + "\n    m3_s: " + m3_s + "\n");
  return file;
}

}  // namespace

TEST_CASE("Usage errors exit 2 with a message", "[unit][cli]") {
  CHECK(run({}).code == 2);
  const Run unknown = run({"frobnicate"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command 'frobnicate'"));
  CHECK(run({"territory"}).code == 2);
  CHECK_THAT(run({"territory", "demo"}).err, Catch::Contains("--out"));
  CHECK_THAT(run({"territory", "demo", "--out", "x", "--cell-size", "abc"}).err, Catch::Contains("--cell-size abc"));
  const Run twice = run({"flood", "--dem", "a.tif", "--dem", "b.tif", "--until", "60", "--out", "x"});
  CHECK(twice.code == 2);
  CHECK_THAT(twice.err, Catch::Contains("--dem given twice"));
  CHECK(run({"help"}).code == 0);
}

TEST_CASE("Command lines refuse unknown options, stray words and fractional counts", "[unit][cli]") {
  const std::vector<std::string> flood{"flood", "--dem", "a.tif", "--until", "60", "--out", "x"};
  auto with = [](std::vector<std::string> line, std::initializer_list<std::string> more) {
    line.insert(line.end(), more);
    return line;
  };
  struct Case {
    std::vector<std::string> line;
    std::string says;
  };
  const std::vector<Case> cases{
      {with(flood, {"--fast"}), "unknown option --fast"},
      // An unknown flag before a known option must not swallow it.
      {{"flood", "--fast", "--dem", "a.tif", "--until", "60", "--out", "x"}, "unknown option --fast"},
      {with(flood, {"-threads", "2"}), "unknown option -threads"},
      {with(flood, {"stray"}), "unexpected argument 'stray'"},
      {with(flood, {"--threads", "1.5"}), "--threads 1.5: expected a whole number"},
      {with(flood, {"--threads", "2x"}), "--threads 2x: expected a whole number"},
      {{"flood", "--dem", "a.tif", "--until", "800000", "--out", "x"}, "--until 800000: expected"},
      {with(flood, {"--rain-zones", "z.tif", "--rain-zone", "1.5,r.csv"}), "--rain-zone 1.5: expected a whole number"},
      {{"run", "x.yaml", "--out", "d", "--threads", "1.5"}, "--threads 1.5: expected a whole number"},
      {{"run", "x.yaml", "--out", "d", "--fast"}, "unknown option --fast"},
      {{"forecast", "x.yaml", "--state", "s", "--hours", "1", "--out", "d", "-v"}, "unknown option -v"},
      {{"demo", "--out", "d", "extra"}, "unexpected argument 'extra'"},
      {{"demo", "--out", "d", "--threads", "0.5"}, "expected a whole number"},
      {{"territory", "demo", "--out", "d", "--seed", "4.2"}, "--seed 4.2: expected a whole number"},
      {{"territory", "demo", "--out", "d", "--vehicles", "1e3"}, "--vehicles 1e3: expected a whole number"},
      {{"territory", "info", "a", "b"}, "unexpected argument 'b'"},
      {{"greenwave", "--net", "n", "--routes", "r", "--tls", "t", "--out", "o", "--seed", "1.5"},
       "--seed 1.5: expected a whole number"},
  };
  for (const auto& c : cases) {
    const Run r = run(c.line);
    INFO(fmt::format("{}\n{}", fmt::join(c.line, " "), r.err));
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.says));
  }
}

TEST_CASE("Every command has its help", "[unit][cli]") {
  for (const char* command : {"demo", "run", "forecast", "territory", "flood", "greenwave", "replay", "user", "help"}) {
    for (const char* ask : {"--help", "-h"}) {
      const Run r = run({command, ask});
      INFO(command << " " << ask << ": " << r.err);
      CHECK(r.code == 0);
      CHECK_THAT(r.out, Catch::StartsWith("usage:") && Catch::Contains(std::string("  ") + command));
    }
    const Run h = run({"help", command});
    CHECK(h.code == 0);
    CHECK_THAT(h.out, Catch::Contains(command));
  }
  // Help wins over whatever else the line holds.
  CHECK(run({"territory", "demo", "--help"}).code == 0);
  CHECK(run({"flood", "--dem", "x.tif", "--help"}).code == 0);
  CHECK(run({"help", "frobnicate"}).code == 2);
  // A usage error shows the usage of the command that was meant.
  const Run bad = run({"forecast", "x.yaml"});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("forecast SCENARIO.yaml --state DIR") && !Catch::Contains("greenwave --net"));
}

TEST_CASE("territory info on a missing folder names it", "[unit][cli]") {
  cadereau::testing::TempDir tmp;
  const Run r = run({"territory", "info", (tmp / "nowhere").string()});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("nowhere") && Catch::Contains("not found"));
}

TEST_CASE("territory info describes the demo territory", "[integration][cli]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  const Run r = run({"territory", "info", dir->string()});
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("EPSG:2154") && Catch::Contains("traffic lights") && Catch::Contains("Population"));
}

TEST_CASE("cadereau flood runs on any GDAL raster and refuses bad input clearly", "[integration][cli]") {
  using namespace cadereau::twin;
  cadereau::testing::TempDir tmp;
  const GridSpec grid{30, 20, 810000.0, 6302000.0, 10.0, 10.0};
  Raster dem(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) dem.at(c, r) = static_cast<float>(30.0 - 0.05 * c);
  write_ascii_grid(dem, tmp / "dem.asc");
  cadereau::testing::write_text(tmp / "q.csv", "time_s,discharge_m3_s\n0,0\n120,5\n300,0\n");
  const std::string dem_path = (tmp / "dem.asc").string();
  const std::string inflow = fmt::format("{},{},{}", 810025.0, 6301905.0, (tmp / "q.csv").string());

  const Run ok = run({"flood", "--dem", dem_path, "--until", "5min", "--out", (tmp / "out").string(), "--inflow", inflow,
                      "--probe", "p1,810025,6301905", "--probe-every", "30", "--manning", "0.04"});
  INFO(ok.err);
  CHECK(ok.code == 0);
  CHECK_THAT(ok.out, Catch::Contains("mass error"));
  const std::string summary = cadereau::testing::read_text(tmp / "out" / "summary.json");
  for (const char* key : {"cells", "wet_cells", "steps", "sim_s", "wall_s", "cell_updates_per_s", "volume_in_m3",
                          "volume_out_m3", "volume_final_m3", "mass_error_rel", "max_depth_m"})
    CHECK_THAT(summary, Catch::Contains(std::string("\"") + key + "\""));
  CHECK(std::filesystem::exists(tmp / "out" / "max_depth.tif"));
  CHECK(std::filesystem::exists(tmp / "out" / "arrival_time.tif"));

  const Run outside = run({"flood", "--dem", dem_path, "--until", "60", "--out", (tmp / "o2").string(), "--inflow",
                           fmt::format("1,2,{}", (tmp / "q.csv").string())});
  CHECK(outside.code == 1);
  CHECK_THAT(outside.err, Catch::Contains("outside"));

  const Run missing = run({"flood", "--dem", (tmp / "nope.tif").string(), "--until", "60", "--out", (tmp / "o3").string()});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Catch::Contains("nope.tif"));

  CHECK(run({"flood", "--dem", dem_path, "--until", "soon", "--out", (tmp / "o4").string()}).code == 2);
  CHECK(run({"flood", "--dem", dem_path}).code == 2);
  CHECK_THAT(run({"flood", "--dem", dem_path, "--until", "60", "--out", "x", "--probe", "a,b"}).err,
             Catch::Contains("--probe"));
}

TEST_CASE("cadereau flood rains per zone from a zone raster on another grid", "[integration][cli][flood]") {
  using namespace cadereau::twin;
  cadereau::testing::TempDir tmp;
  // A flat 10 x 6 DEM of 10 m cells; zones on a 5 x 3 grid of 20 m cells over the
  // same extent: zone 0 covers DEM columns 0-3 (24 cells), zone 1 columns 4-9 (36 cells).
  const GridSpec grid{10, 6, 810000.0, 6302000.0, 10.0, 10.0};
  write_ascii_grid(Raster(grid, Crs::lambert93(), 5.0f), tmp / "dem.asc");
  Raster zones(GridSpec{5, 3, 810000.0, 6302000.0, 20.0, 20.0}, Crs::lambert93(), 1.0f, -9999.0);
  for (int r = 0; r < 3; ++r) zones.at(0, r) = zones.at(1, r) = 0.0f;
  write_geotiff(zones, tmp / "zones.tif");
  zones.at(4, 2) = 2.0f;
  write_geotiff(zones, tmp / "zones3.tif");
  write_geotiff(Raster(grid, Crs::lambert93(), 0.5f), tmp / "half.tif");
  cadereau::testing::write_text(tmp / "a.csv", "time_s,intensity_mm_h\n0,36\n600,36\n");
  cadereau::testing::write_text(tmp / "b.csv", "time_s,intensity_mm_h\n0,72\n600,72\n");
  cadereau::testing::write_text(tmp / "u.csv", "time_s,intensity_mm_h\n0,18\n");
  const std::string dem = (tmp / "dem.asc").string(), a = "0," + (tmp / "a.csv").string(),
                    b = "1," + (tmp / "b.csv").string();
  auto rain_m3 = [&](const std::string& out) {
    return nlohmann::json::parse(cadereau::testing::read_text(tmp / out / "summary.json")).at("volume_rain_m3").get<double>();
  };

  const Run zoned = run({"flood", "--dem", dem, "--until", "600", "--out", (tmp / "zoned").string(), "--rain-zones",
                         (tmp / "zones.tif").string(), "--rain-zone", a, "--rain-zone", b});
  INFO(zoned.err);
  REQUIRE(zoned.code == 0);
  // 36 mm/h for 600 s on 24 cells of 100 m2, 72 mm/h on 36 cells.
  CHECK(rain_m3("zoned") == Approx(24 * 100 * 0.006 + 36 * 100 * 0.012).epsilon(1e-9));

  // Uniform rain adds to the zones', and the factor scales both.
  const Run scaled = run({"flood", "--dem", dem, "--until", "600", "--out", (tmp / "scaled").string(), "--rain",
                          (tmp / "u.csv").string(), "--rain-zones", (tmp / "zones.tif").string(), "--rain-zone", b,
                          "--rain-zone", a, "--rain-factor", (tmp / "half.tif").string()});
  INFO(scaled.err);
  REQUIRE(scaled.code == 0);
  CHECK(rain_m3("scaled") == Approx(0.5 * (57.6 + 60 * 100 * 0.003)).epsilon(1e-9));

  const Run missing = run({"flood", "--dem", dem, "--until", "600", "--out", (tmp / "missing").string(), "--rain-zones",
                           (tmp / "zones3.tif").string(), "--rain-zone", a, "--rain-zone", b});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Catch::Contains("zones3.tif") && Catch::Contains("zone 2 at DEM cell (8, 4)") &&
                              Catch::Contains("--rain-zone 2,FILE.csv"));

  const Run orphan = run({"flood", "--dem", dem, "--until", "600", "--out", (tmp / "orphan").string(), "--rain-zone", a});
  CHECK(orphan.code == 2);
  CHECK_THAT(orphan.err, Catch::Contains("--rain-zone needs --rain-zones"));
  const Run bad_k = run({"flood", "--dem", dem, "--until", "600", "--out", (tmp / "bad_k").string(), "--rain-zones",
                         (tmp / "zones.tif").string(), "--rain-zone", "1.5," + (tmp / "a.csv").string()});
  CHECK(bad_k.code == 2);
  CHECK_THAT(bad_k.err, Catch::Contains("whole number"));
}

TEST_CASE("cadereau demo runs the flagship flash flood on the demo territory", "[integration][cli]") {
  cadereau::testing::TempDir tmp;
  const auto dir = tmp / "demo";
  const Run r = run({"demo", "--out", dir.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("faster than real time") && Catch::Contains("closed by water") &&
                        Catch::Contains("assets out of service"));
  for (const char* file : {"recording.h5", "impacts.json", "impacts.geojson", "closed_roads.geojson", "max_depth.tif",
                           "arrival_time.tif", "summary.json", "report.html", "map.png", "gauges.svg", "timeline.svg"})
    CHECK(std::filesystem::exists(dir / file));
  const auto impacts = nlohmann::json::parse(cadereau::testing::read_text(dir / "impacts.json"));
  REQUIRE(impacts.is_array());
  std::set<std::string> kinds;
  bool chained = false;
  for (const auto& i : impacts) {
    kinds.insert(i["kind"].get<std::string>());
    for (const char* key : {"t_s", "kind", "target", "x_m", "y_m", "chain"}) REQUIRE(i.contains(key));
    CHECK_FALSE(i["target"].get<std::string>().empty());
    // A failed asset's chain goes back to a hazard: an inflow or the rain.
    if (i["kind"] == "asset_failed" && !i["chain"].empty()) {
      const std::string root = i["chain"].back()["kind"];
      chained = chained || root == "inflow" || root == "rain";
    }
  }
  CHECK(chained);
  // Somewhere emergency access is cut by a road closed by water, and the
  // chain says so: cut off <- road closed <- water <- inflow or rain.
  bool cut_by_water = false;
  for (const auto& i : impacts) {
    const std::string k = i["kind"];
    if (k != "zone_unreachable" && k != "zone_access_degraded" && k != "asset_cut_off") continue;
    const auto& chain = i["chain"];
    if (chain.size() < 3 || chain[0]["kind"] != "road_closed" || chain[1]["kind"] != "water") continue;
    const std::string root = chain[2]["kind"];
    cut_by_water = cut_by_water || root == "inflow" || root == "rain";
  }
  CHECK(cut_by_water);
  for (const char* k : {"inflow", "rain", "water", "road_closed", "asset_failed", "action"}) CHECK(kinds.count(k) == 1);
  const auto summary = nlohmann::json::parse(cadereau::testing::read_text(dir / "summary.json"));
  CHECK(summary["roads_closed"].get<int>() > 50);
  CHECK(summary["faster_than_real_time"].get<double>() > 1.0);
  CHECK(summary["mass_error_rel"].get<double>() < 1e-9);
  const cadereau::twin::Raster max_depth = cadereau::twin::read_raster(dir / "max_depth.tif");
  CHECK(max_depth.crs().epsg() == 2154);
  CHECK(max_depth.stats().max > 1.0);
  CHECK_THAT(cadereau::testing::read_text(dir / "report.html"),
             Catch::Contains("Key figures") && Catch::Contains("map.png") && Catch::Contains("\u2192"));
  // The recording holds every record as an event, with an intact chain, and
  // keyframes of the whole engine every 10 minutes.
  const Run verify = run({"replay", (dir / "recording.h5").string(), "--verify"});
  CHECK(verify.code == 0);
  CHECK(nlohmann::json::parse(verify.out)["keyframes"].get<int>() == 13);

  // Every state of the worst of the flood runs on, SUMO's mesoscopic state
  // included (the flagship's traffic model). Cars caught mid-teleport, which
  // SUMO cannot restore by itself, belong to the microscopic model: the
  // states of sumo_state_test.cpp cover them.
  const std::string recording = (dir / "recording.h5").string();
  for (int minutes = 10; minutes <= 120; minutes += 10) {
    const std::string from = fmt::format("{:02d}:{:02d}", 7 + minutes / 60, minutes % 60);
    const std::string until = fmt::format("{:02d}:{:02d}", 7 + (minutes + 10) / 60, (minutes + 10) % 60);
    const auto out = tmp / ("from-" + std::to_string(minutes));
    const Run fork = run({"replay", recording, "--fork", from, "--until", until, "--out", out.string()});
    INFO("fork from " << from << ": " << fork.err);
    REQUIRE(fork.code == 0);
    CHECK_THAT(fork.out, Catch::Contains("what-if from " + from + " to " + until));
    CHECK(nlohmann::json::parse(cadereau::testing::read_text(out / "summary.json"))["vehicles_arrived"].get<long>() > 0);
  }
}

TEST_CASE("A what-if forks the demo's recording with a police closure and seek re-drives it", "[integration][cli][replay]") {
  const auto territory = cadereau::testing::demo_territory();
  if (!territory) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  cadereau::testing::TempDir tmp;
  const auto scenario = write_storm(tmp / "storm.yaml", *territory, "1988-10-03T07:00:00", "30min",
                                    "cadereau d'Alès", "lg-ales-amont", "[[0, 150], [1800, 350]]");
  const Run r = run({"run", scenario.string(), "--out", (tmp / "run").string(), "--no-snapshots"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string recording = (tmp / "run" / "recording.h5").string();

  // At 07:10 the police close a street that the water never reaches.
  const Run fork = run({"replay", recording, "--fork", "07:10", "--action", "07:12,close_road,h10_20", "--by", "police",
                        "--record", (tmp / "what-if.h5").string(), "--out", (tmp / "what-if").string()});
  INFO(fork.err);
  REQUIRE(fork.code == 0);
  CHECK_THAT(fork.out, Catch::Contains("added: 07:12 close_road h10_20 by police") && Catch::Contains("what-if from 07:10 to 07:30"));
  const auto impacts = nlohmann::json::parse(cadereau::testing::read_text(tmp / "what-if" / "impacts.json"));
  bool closed = false, earlier = false;
  for (const auto& i : impacts) {
    closed = closed || (i["kind"] == "road_closed" && i["target"] == "h10_20" && i["t_s"].get<double>() == 720.0);
    earlier = earlier || i["t_s"].get<double>() < 600.0;
  }
  CHECK(closed);
  CHECK(earlier);  // the history up to the fork comes along
  // The traffic carries on from where it was: SUMO does not insert again the
  // trips that had already departed (arrived ones included).
  {
    using cadereau::twin::RecordingReader;
    const auto parent = RecordingReader(recording).series("vehicles_running");
    const auto child = RecordingReader(tmp / "what-if.h5").series("vehicles_running");
    REQUIRE_FALSE(child.time_s.empty());
    CHECK(child.time_s.front() == 610.0);
    double at_fork = -1.0;
    for (std::size_t k = 0; k < parent.time_s.size(); ++k)
      if (parent.time_s[k] == 610.0) at_fork = parent.values[k];
    INFO("vehicles running 10 s after 07:10: " << at_fork << " in the run, " << child.values.front() << " in the fork");
    CHECK(std::abs(child.values.front() - at_fork) <= 0.05 * at_fork + 2.0);
  }
  const Run child = run({"replay", (tmp / "what-if.h5").string(), "--verify"});
  CHECK(child.code == 0);
  const auto meta = nlohmann::json::parse(child.out);
  CHECK(meta["fork_sim_s"].get<double>() == 600.0);
  CHECK_THAT(meta["parent_recording"].get<std::string>(), Catch::Contains("recording.h5"));

  // A what-if of the what-if carries the police closure along.
  const Run again = run({"replay", (tmp / "what-if.h5").string(), "--fork", "07:20", "--until", "07:25", "--out",
                         (tmp / "again").string()});
  INFO(again.err);
  REQUIRE(again.code == 0);
  const auto options = nlohmann::json::parse(
      cadereau::twin::RecordingReader(tmp / "again" / "recording.h5").meta().run_options_json);
  REQUIRE(options["added_actions"].size() == 1);
  CHECK(options["added_actions"][0]["target"] == "h10_20");
  CHECK(options["added_actions"][0]["by"] == "police");

  // A frame at a clock time.
  const Run frame = run({"replay", recording, "--export-frame", "07:20", "--out", (tmp / "f.tif").string()});
  INFO(frame.err);
  CHECK(frame.code == 0);
  CHECK_THAT(frame.out, Catch::Contains("at 1200 s"));

  // Seek: the recorded run again from its keyframe at or before 07:25.
  const Run seek = run({"replay", recording, "--seek", "07:25", "--out", (tmp / "seek").string()});
  INFO(seek.err);
  REQUIRE(seek.code == 0);
  CHECK_THAT(seek.out, Catch::Contains("replay from 07:20 to 07:30"));

  // Actions need a fork, a time after the fork point, a known verb.
  CHECK(run({"replay", recording, "--action", "07:12,close_road,h10_20", "--out", (tmp / "x").string()}).code == 2);
  const Run before = run({"replay", recording, "--fork", "07:20", "--action", "07:12,close_road,h10_20", "--out",
                          (tmp / "y").string()});
  CHECK(before.code == 1);
  CHECK_THAT(before.err, Catch::Contains("before the fork point"));
  CHECK(run({"replay", recording, "--fork", "07:20", "--action", "07:25,flood_it,h10_20", "--out", (tmp / "z").string()})
            .code == 2);
  const Run unknown = run({"replay", recording, "--fork", "07:20", "--action", "07:25,close_road,nowhere", "--out",
                           (tmp / "w").string()});
  CHECK(unknown.code == 1);
  CHECK_THAT(unknown.err, Catch::Contains("nowhere"));
}

TEST_CASE("cadereau run refuses bad scenarios with file and line", "[integration][cli]") {
  cadereau::testing::TempDir tmp;
  const auto file = tmp / "bad.yaml";
  cadereau::testing::write_text(file, "name: bad\nterritory: demo\nstart: 2026-11-25T08:00:00\nduration: 1h\n"
                                      "inflows:\n  - at: lg-ales-amont\n    m3_s: [[0, 10], [600, -5]]\n");
  const Run r = run({"run", file.string(), "--out", (tmp / "out").string()});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("bad.yaml:7") && Catch::Contains("negative"));
  CHECK(run({"run", "--out", (tmp / "out").string()}).code == 2);
  CHECK(run({"run", file.string()}).code == 2);
  CHECK_THAT(run({"run", (tmp / "none.yaml").string(), "--out", (tmp / "o").string()}).err, Catch::Contains("none.yaml"));
}

TEST_CASE("cadereau run saves a state and cadereau forecast runs on from it", "[integration][cli]") {
  const auto territory = cadereau::testing::demo_territory();
  if (!territory) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  cadereau::testing::TempDir tmp;
  const auto scenario = write_storm(tmp / "storm.yaml", *territory, "2026-11-25T07:30:00", "10min",
                                    "cadereau d'Uzès", "lg-uzes-amont", "[[0, 150], [600, 250]]");
  // Times on the command line are clock times, as in scenarios, or seconds.
  CHECK(run({"run", scenario.string(), "--out", (tmp / "x").string(), "--save-state-at", "7h35"}).code == 2);
  const Run outside = run({"run", scenario.string(), "--out", (tmp / "x").string(), "--save-state-at", "09:35"});
  CHECK(outside.code == 1);
  CHECK_THAT(outside.err, Catch::Contains("09:35") && Catch::Contains("07:30 to 07:40"));
  const Run r = run({"run", scenario.string(), "--out", (tmp / "run").string(), "--no-snapshots", "--save-state-at", "07:35"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  for (const char* f : {"engine.json", "flood.bin", "sumo_state.xml"}) CHECK(std::filesystem::exists(tmp / "run" / "state" / f));
  const Run f = run({"forecast", scenario.string(), "--state", (tmp / "run" / "state").string(), "--hours", "0.25", "--out",
                     (tmp / "fc").string(), "--no-snapshots"});
  INFO(f.err);
  REQUIRE(f.code == 0);
  CHECK_THAT(f.out, Catch::Contains("forecast from 07:35 to 07:50") && Catch::Contains("records predicted"));
  const auto impacts = nlohmann::json::parse(cadereau::testing::read_text(tmp / "fc" / "impacts.json"));
  double last = 0.0;
  for (const auto& i : impacts) last = std::max(last, i["t_s"].get<double>());
  CHECK(last > 600.0);  // past the end of the run it was saved from
  // Its report says it is a forecast, from which state and time; the run's does not.
  const std::string report = cadereau::testing::read_text(tmp / "fc" / "report.html");
  const auto banner_at = report.find("data-testid=\"forecast-banner\"");
  REQUIRE(banner_at != std::string::npos);
  const std::string banner = report.substr(banner_at, report.find("</div>", banner_at) - banner_at);
  CHECK_THAT(banner, Catch::Contains("Forecast") && Catch::Contains("saved at <strong>07:35</strong>") &&
                         Catch::Contains((tmp / "run" / "state").string()));
  CHECK_THAT(report, Catch::Contains("<title>Forecast: Short storm"));
  CHECK_THAT(cadereau::testing::read_text(tmp / "run" / "report.html"), !Catch::Contains("forecast-banner"));

  CHECK_THAT(run({"forecast", scenario.string(), "--state", (tmp / "nowhere").string(), "--hours", "1", "--out",
                  (tmp / "x").string()}).err,
             Catch::Contains("nowhere") && Catch::Contains("engine.json"));
  CHECK(run({"forecast", scenario.string(), "--state", (tmp / "run" / "state").string(), "--out", (tmp / "x").string()})
            .code == 2);
  CHECK(run({"run", scenario.string(), "--out", (tmp / "y").string(), "--save-state-at", "9000"}).code == 1);
}
