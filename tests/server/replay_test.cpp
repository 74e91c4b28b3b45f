#include "cadereau/server/cli.h"
#include "cadereau/twin/raster.h"
#include "cadereau/twin/recording.h"
#include "cli_run.h"
#include "test_support.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <chrono>

#include <fstream>
#include <sstream>

using namespace cadereau::twin;
using cadereau::testing::TempDir;

namespace {

using Run = cadereau::testing::CliRun;

Run run(const std::vector<std::string>& args) { return cadereau::testing::run_cadereau(args); }

// A 40 x 30 valley of 10 m cells at Nîmes (Lambert-93): a channel along the
// middle row falling 5 cm a cell to the east, banks rising 20 cm a cell.
struct Valley {
  std::filesystem::path dem, inflow, rain;
  std::string inflow_spec;
};

Valley make_valley(const TempDir& tmp) {
  const GridSpec grid{40, 30, 810000.0, 6302000.0, 10.0, 10.0};
  Raster dem(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) dem.at(c, r) = static_cast<float>(40.0 - 0.05 * c + 0.2 * std::abs(r - 15));
  Valley v;
  v.dem = tmp / "dem.tif";
  write_geotiff(dem, v.dem);
  v.inflow = tmp / "uzes.csv";
  cadereau::testing::write_text(v.inflow, "time_s,discharge_m3_s\n0,0\n240,25\n600,40\n1200,5\n");
  v.rain = tmp / "rain.csv";
  cadereau::testing::write_text(v.rain, "time_s,intensity_mm_h\n0,0\n300,80\n900,0\n");
  const MapPoint source = grid.cell_centre({2, 15});
  v.inflow_spec = fmt::format("{},{},{}", source.x_m, source.y_m, v.inflow.string());
  return v;
}

std::vector<std::string> flood_args(const Valley& v, const std::filesystem::path& out) {
  return {"flood",        "--dem",     v.dem.string(), "--until",        "1200",           "--out",
          out.string(),   "--inflow",  v.inflow_spec,  "--rain",         v.rain.string(),  "--probe",
          "bridge,810305,6301845",     "--probe-every", "30",            "--threads",      "1",
          "--manning",    "0.035"};
}

nlohmann::json verify_json(const std::filesystem::path& file, int expected_code) {
  const Run v = run({"replay", file.string(), "--verify"});
  INFO(v.out << v.err);
  REQUIRE(v.code == expected_code);
  return nlohmann::json::parse(v.out);
}

}  // namespace

TEST_CASE("cadereau flood --record, replay --verify, exports, seek and fork", "[integration][replay]") {
  TempDir tmp;
  const Valley valley = make_valley(tmp);
  const auto a = tmp / "straight.h5";

  auto args = flood_args(valley, tmp / "straight");
  for (const char* extra : {"--record", "", "--frame-every", "60", "--keyframe-every", "300"}) args.push_back(extra);
  args[args.size() - 5] = a.string();
  const Run straight = run(args);
  INFO(straight.err);
  REQUIRE(straight.code == 0);
  CHECK_THAT(straight.out, Catch::Contains("recorded to"));

  // --verify: the JSON summary.
  const auto summary = verify_json(a, 0);
  CHECK(summary["hash_chain"] == "ok");
  CHECK(summary["keyframes"] == 5);  // 0, 300, 600, 900, 1200 s
  CHECK(summary["frames"] == 21);    // every 60 s from 0 to 1200
  CHECK(summary["first_sim_s"] == 0.0);
  CHECK(summary["last_sim_s"] == 1200.0);
  CHECK(summary["events"].get<int>() >= 2 + 4 + 3);  // start, end, inflow and rain breakpoints
  CHECK(summary["torn_events"] == 0);

  // --export-frame: the frame nearest 610 s, on the DEM's grid and CRS.
  const auto tif = tmp / "frame.tif";
  const Run exported = run({"replay", a.string(), "--export-frame", "610", "--out", tif.string()});
  INFO(exported.err);
  REQUIRE(exported.code == 0);
  const Raster frame = read_raster(tif);
  const Raster dem = read_raster(valley.dem);
  CHECK(frame.grid().same_as(dem.grid()));
  CHECK(frame.crs().epsg() == 2154);
  const RecordingReader ra(a);
  const auto recorded = ra.frame_nearest("depth_m", 600.0);
  REQUIRE(recorded);
  CHECK(recorded->time_s == 600.0);
  CHECK(frame.values() == recorded->raster.values());
  CHECK(frame.stats().max > 0.05);  // water has arrived by then

  // --export-events: JSON lines, one per event, in order, with their kinds.
  const auto jsonl = tmp / "events.jsonl";
  REQUIRE(run({"replay", a.string(), "--export-events", "--out", jsonl.string()}).code == 0);
  std::ifstream lines(jsonl);
  std::string line;
  std::uint64_t n = 0;
  bool saw_inject = false, saw_end = false;
  while (std::getline(lines, line)) {
    const auto e = nlohmann::json::parse(line);
    CHECK(e["seq"] == ++n);
    saw_inject = saw_inject || e["kind"] == "inject";
    saw_end = saw_end || (e["payload"].is_object() && e["payload"]["event"] == "run_end");
  }
  CHECK(n == summary["events"].get<std::uint64_t>());
  CHECK(saw_inject);
  CHECK(saw_end);

  // Paced: the 600 s from the keyframe at 600 s at 1000 times the wall clock
  // take at least 0.6 s (a lower bound, whatever the machine).
  {
    const auto started = std::chrono::steady_clock::now();
    const Run paced = run({"replay", a.string(), "--seek", "600", "--speed", "1000", "--out", (tmp / "paced").string()});
    INFO(paced.err);
    REQUIRE(paced.code == 0);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() >= 0.6);
  }

  // Seek: re-driven from the keyframe at 600 s (at or before 700 s), the run
  // reaches exactly the state of the straight run, field by field, bit for bit.
  const auto b = tmp / "seek.h5";
  const Run seek = run({"replay", a.string(), "--seek", "700", "--out", (tmp / "seek").string(), "--record", b.string()});
  INFO(seek.err);
  REQUIRE(seek.code == 0);
  const RecordingReader rb(b);
  CHECK(rb.meta().parent_recording == std::filesystem::absolute(a).lexically_normal().string());
  REQUIRE(rb.meta().fork_sim_s);
  CHECK(*rb.meta().fork_sim_s == 600.0);
  CHECK(rb.keyframe_times_s() == std::vector<double>{600.0, 900.0, 1200.0});
  for (double t : {900.0, 1200.0}) {
    const auto ka = ra.keyframe_at_or_before(t);
    const auto kb = rb.keyframe_at_or_before(t);
    REQUIRE(ka);
    REQUIRE(kb);
    INFO("keyframe at " << t << " s");
    CHECK(kb->sim_s == ka->sim_s);
    for (const char* field : {"depth_m", "discharge_east_m2_s", "discharge_north_m2_s"})
      CHECK(kb->array(field) == ka->array(field));
    CHECK(rb.frame_nearest("depth_m", t)->raster.values() == ra.frame_nearest("depth_m", t)->raster.values());
  }
  CHECK(verify_json(b, 0)["parent_recording"] == std::filesystem::absolute(a).lexically_normal().string());

  // Replay from the start: the same outputs as the original run.
  REQUIRE(run({"replay", a.string(), "--out", (tmp / "again").string()}).code == 0);
  CHECK(cadereau::testing::read_text(tmp / "again" / "probes.csv") ==
        cadereau::testing::read_text(tmp / "straight" / "probes.csv"));
  CHECK(read_raster(tmp / "again" / "max_depth.tif").values() ==
        read_raster(tmp / "straight" / "max_depth.tif").values());

  // Fork: a what-if from 300 s with rougher ground names its parent and diverges.
  const auto c = tmp / "fork.h5";
  const Run fork = run({"replay", a.string(), "--fork", "300", "--manning", "0.08", "--record", c.string(), "--out",
                        (tmp / "fork").string()});
  INFO(fork.err);
  REQUIRE(fork.code == 0);
  const RecordingReader rc(c);
  CHECK(*rc.meta().fork_sim_s == 300.0);
  CHECK(rc.meta().parent_recording == rb.meta().parent_recording);
  CHECK(rc.keyframe_at_or_before(1200.0)->array("depth_m") != ra.keyframe_at_or_before(1200.0)->array("depth_m"));
  CHECK(rc.keyframe_at_or_before(300.0)->array("depth_m") == ra.keyframe_at_or_before(300.0)->array("depth_m"));

  // Usage errors.
  CHECK(run({"replay"}).code == 2);
  CHECK(run({"replay", a.string(), "--fork", "300", "--out", (tmp / "x").string()}).code == 2);  // no --record
  CHECK(run({"replay", a.string(), "--verify", "--export-events"}).code == 2);
  CHECK(run({"replay", a.string(), "--export-frame", "10"}).code == 2);  // no --out
  CHECK(run({"replay", a.string(), "--seek", "10", "--out", (tmp / "y").string(), "--record", a.string()}).code == 2);
  auto no_record = flood_args(valley, tmp / "z");
  no_record.push_back("--frame-every");
  no_record.push_back("30");
  CHECK(run(no_record).code == 2);
}

TEST_CASE("A flood recording and its rasters say what they hold", "[integration][replay]") {
  TempDir tmp;
  const Valley valley = make_valley(tmp);
  const auto h5 = tmp / "run.h5";
  auto args = flood_args(valley, tmp / "out");
  args[4] = "600";  // --until
  for (const std::string& extra : std::vector<std::string>{"--record", h5.string(), "--frame-every", "300", "--keyframe-every", "600"})
    args.push_back(extra);
  const Run r = run(args);
  INFO(r.err);
  REQUIRE(r.code == 0);

  // The rasters: what, in which unit, and for arrival times the depth that counts as arrived.
  const Raster arrival = read_raster(tmp / "out" / "arrival_time.tif");
  CHECK(arrival.band().unit == "s");
  CHECK(arrival.band().metadata.at("ARRIVAL_DEPTH_M") == "0.01");
  CHECK_THAT(arrival.band().description, Catch::Contains("first reached 0.01 m") && Catch::Contains("seconds after"));
  CHECK(read_raster(tmp / "out" / "max_depth.tif").band().unit == "m");
  CHECK(read_raster(tmp / "out" / "max_speed.tif").band().unit == "m/s");
  const auto frame = tmp / "frame.tif";
  REQUIRE(run({"replay", h5.string(), "--export-frame", "290", "--out", frame.string()}).code == 0);
  const Raster depth = read_raster(frame);
  CHECK(depth.band().unit == "m");
  CHECK(depth.band().metadata.at("TIME_S") == "300");
  CHECK_THAT(depth.band().description, Catch::StartsWith("water depth at"));

  // The recording as h5py sees it: text as str, units on every series, the run's options.
  const auto python = cadereau::testing::python_with("h5py");
  if (!python) {
    WARN("h5py not installed; the recording's h5py checks skipped");
    return;
  }
  const auto script = tmp / "read.py";
  cadereau::testing::write_text(script, R"(import sys, json, h5py
f = h5py.File(sys.argv[1], "r")
names = list(f["timeseries"])
assert "probe_bridge_depth_m" in names, names
for name in names:
    units = f["timeseries"][name].attrs["units"]
    assert isinstance(units, str) and units, (name, units)
assert f["timeseries/probe_bridge_depth_m"].attrs["units"] == "m"
options = json.loads(f["meta"].attrs["run_options_json"])
assert options["until_s"] == 600 and options["probes"][0]["name"] == "bridge", options
sources = f["events/source"].asstr()[:]
assert len(sources) == len(f["events/index"]) and set(sources) == {"flood"}, sources
assert f["frames/depth_m/values"].attrs["description"] == "water depth"
print("h5py ok")
)");
  const auto log = tmp / "py.txt";
  CHECK(std::system(fmt::format("{} '{}' '{}' > '{}' 2>&1", *python, script.string(), h5.string(), log.string()).c_str()) == 0);
  CHECK_THAT(cadereau::testing::read_text(log), Catch::Contains("h5py ok"));
}

TEST_CASE("cadereau replay --verify reports a broken chain and refuses a damaged file", "[integration][replay]") {
  TempDir tmp;
  const Valley valley = make_valley(tmp);
  const auto a = tmp / "run.h5";
  auto args = flood_args(valley, tmp / "out");
  args[4] = "300";
  args.push_back("--record");
  args.push_back(a.string());
  REQUIRE(run(args).code == 0);
  REQUIRE(verify_json(a, 0)["hash_chain"] == "ok");

  std::string bytes;
  {
    std::ifstream in(a, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // Rewrite history: the run_start event (seq 1) now claims another scheme.
  auto write_copy = [&](const std::filesystem::path& p, const std::string& data) {
    std::ofstream out(p, std::ios::binary);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  };
  std::string tampered = bytes;
  const auto at = tampered.find("\"finite_volume\",\"until_s\"");  // keys are sorted: the event, not the options
  REQUIRE(at != std::string::npos);
  tampered[at + 13] = 'X';
  write_copy(tmp / "tampered.h5", tampered);
  const auto broken = verify_json(tmp / "tampered.h5", 1);
  CHECK(broken["hash_chain"]["first_bad_seq"] == 1);
  CHECK(broken["consistent"] == false);

  write_copy(tmp / "truncated.h5", bytes.substr(0, bytes.size() / 3));
  const Run truncated = run({"replay", (tmp / "truncated.h5").string(), "--verify"});
  CHECK(truncated.code == 1);
  CHECK_THAT(truncated.err, Catch::Contains("truncated.h5"));

  const Run missing = run({"replay", (tmp / "absent.h5").string(), "--verify"});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Catch::Contains("no such recording"));
}
