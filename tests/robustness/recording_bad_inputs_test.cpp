// Damaged recordings, generated (issue 17): a short flood run recorded, then
// copies damaged with h5py the way a failing disk, a hand edit or a newer
// writer would. `replay --verify` must read every dataset and name the one
// at fault; exports must not pass off a broken log or a missing frame; and
// `--record` must not replace a file without --overwrite.

#include "bad_run.h"
#include "cadereau/twin/raster.h"
#include "cadereau/twin/recording.h"
#include "test_support.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using cadereau::testing::BadRun;
using cadereau::testing::TempDir;
using cadereau::testing::expect_refused;
using cadereau::testing::read_text;
using cadereau::testing::run_cadereau;
using cadereau::testing::write_text;
using namespace cadereau::twin;
namespace fs = std::filesystem;

namespace {

// A 40 x 30 valley of 10 m cells with an inflow at its head: ten minutes,
// frames every minute, keyframes every five (0, 300, 600 s).
struct Recorded {
  fs::path dem, inflow, h5;
  std::vector<std::string> flood_args(const fs::path& out, const fs::path& record) const {
    return {"flood", "--dem", dem.string(), "--until", "600", "--out", out.string(), "--inflow",
            "810025,6301855," + inflow.string(), "--threads", "1", "--record", record.string(), "--frame-every", "60",
            "--keyframe-every", "300"};
  }
};

Recorded record_valley(const TempDir& tmp) {
  const GridSpec grid{40, 30, 810000.0, 6302000.0, 10.0, 10.0};
  Raster dem(grid, Crs::lambert93(), 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) dem.at(c, r) = static_cast<float>(40.0 - 0.05 * c + 0.2 * std::abs(r - 15));
  Recorded v;
  v.dem = tmp / "dem.tif";
  write_geotiff(dem, v.dem);
  v.inflow = tmp / "q.csv";
  write_text(v.inflow, "0,0\n240,25\n600,40\n");
  v.h5 = tmp / "run.h5";
  const auto r = run_cadereau(v.flood_args(tmp / "out", v.h5));
  INFO(r.err);
  REQUIRE(r.code == 0);
  return v;
}

// Each damage: the copy's name, the Python that damages `f` (an h5py File
// open read-write) or the raw bytes (`data`, a bytearray, with `f` read-only
// to find where), and what the refusal must name besides the file.
struct Damage {
  std::string name;
  std::string python;
  std::vector<std::string> also;
  bool raw = false;
};

const std::vector<Damage> kDamages{
    {"nan_frame", "v = f['frames/depth_m/values']; a = v[3]; a[5, 5] = np.nan; v[3] = a", {"frames/depth_m/values", "nan"}},
    {"inf_frame", "v = f['frames/depth_m/values']; a = v[7]; a[1, 2] = np.inf; v[7] = a", {"frames/depth_m/values", "inf"}},
    {"negative_depth", "v = f['frames/depth_m/values']; a = v[4]; a[2, 2] = -5; v[4] = a", {"negative depths", "-5"}},
    {"frame_times_short", "f['frames/depth_m/time_s'].resize((8,))", {"frames/depth_m/values", "8 times"}},
    {"frame_times_long", "t = f['frames/depth_m/time_s']; t.resize((14,)); t[11:] = [660, 720, 780]",
     {"frames/depth_m", "14 times"}},
    {"frame_time_back", "t = f['frames/depth_m/time_s']; t[5] = 10.0", {"frames/depth_m/time_s", "goes back"}},
    {"frame_time_nan", "t = f['frames/depth_m/time_s']; t[2] = np.nan", {"frames/depth_m/time_s", "not finite"}},
    {"keyframe_inf", "k = f['keyframes/depth_m']; a = k[1]; a[7] = np.inf; k[1] = a", {"keyframes/depth_m", "inf"}},
    {"keyframe_nan_discharge", "k = f['keyframes/discharge_east_m2_s']; a = k[2]; a[0] = np.nan; k[2] = a",
     {"keyframes/discharge_east_m2_s"}},
    {"keyframe_times_short", "f['keyframes/time_s'].resize((1,))", {"keyframes/", "1 times"}},
    {"keyframe_seq_past_log", "s = f['keyframes/event_seq']; s[1] = 10**6", {"keyframes/event_seq", "1000000"}},
    {"keyframe_time_back", "t = f['keyframes/time_s']; t[2] = 1.0", {"keyframes/time_s", "goes back"}},
    {"series_nan", "s = f['timeseries/volume_in_m3']; row = s[3]; row['value'] = np.nan; s[3] = row",
     {"timeseries/volume_in_m3", "NaN"}},
    {"series_time_back", "s = f['timeseries/wet_cells']; row = s[4]; row['time_s'] = -50; s[4] = row",
     {"timeseries/wet_cells", "goes back"}},
    {"format_version_3", "del f['meta'].attrs['format_version']; f['meta'].attrs['format_version'] = 3",
     {"format version 3"}},
    {"format_version_2_5", "del f['meta'].attrs['format_version']; f['meta'].attrs['format_version'] = 2.5",
     {"format_version 2.5"}},
    {"format_version_text", "del f['meta'].attrs['format_version']; f['meta'].attrs['format_version'] = '3'",
     {"format_version is not a number"}},
    {"format_version_0", "del f['meta'].attrs['format_version']; f['meta'].attrs['format_version'] = 0",
     {"format_version 0"}},
    {"no_frame_times", "del f['frames/depth_m/time_s']", {"frames/depth_m/time_s"}},
    // Bytes flipped inside a chunk: the checksum (or the inflater) refuses it.
    {"flipped_frame_chunk",
     "i = f['frames/depth_m/values'].id.get_chunk_info(5); o = i.byte_offset + i.size // 2\n"
     "for k in range(8): data[o + k] ^= 0xFF",
     {"frames/depth_m/values", "frame 5"},
     true},
    {"flipped_keyframe_chunk",
     "i = f['keyframes/depth_m'].id.get_chunk_info(1); o = i.byte_offset + i.size // 2\n"
     "for k in range(8): data[o + k] ^= 0xFF",
     {"keyframes/depth_m", "keyframe 1"},
     true},
};

// Makes every damaged copy of `h5` in one Python run.
void damage_copies(const fs::path& h5, const fs::path& dir, const std::string& python) {
  std::string script = "import h5py, numpy as np, shutil, sys\nsrc = sys.argv[1]\n";
  for (const auto& d : kDamages) {
    const std::string copy = (dir / (d.name + ".h5")).string();
    std::string body;
    for (std::size_t start = 0; start < d.python.size();) {
      const auto end = d.python.find('\n', start);
      body += "    " + d.python.substr(start, end == std::string::npos ? std::string::npos : end - start) + "\n";
      start = end == std::string::npos ? d.python.size() : end + 1;
    }
    if (d.raw)
      script += fmt::format(
          "data = bytearray(open(src, 'rb').read())\nwith h5py.File(src, 'r') as f:\n{}open('{}', 'wb').write(data)\n",
          body, copy);
    else
      script += fmt::format("shutil.copy(src, '{}')\nwith h5py.File('{}', 'r+') as f:\n{}", copy, copy, body);
  }
  const auto file = dir / "damage.py";
  write_text(file, script);
  const auto log = dir / "damage.log";
  const int rc = std::system(fmt::format("{} '{}' '{}' > '{}' 2>&1", python, file.string(), h5.string(), log.string()).c_str());
  INFO(read_text(log));
  REQUIRE(rc == 0);
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("Generated damaged recordings fail replay --verify, naming the file and the dataset",
          "[integration][robustness]") {
  const auto python = cadereau::testing::python_with("h5py");
  if (!python) {
    WARN("h5py not installed: the damaged recordings cannot be made");
    return;
  }
  TempDir tmp;
  const Recorded rec = record_valley(tmp);
  // The undamaged recording is consistent, every dataset read whole.
  const auto sound = run_cadereau({"replay", rec.h5.string(), "--verify"});
  INFO(sound.out << sound.err);
  REQUIRE(sound.code == 0);
  const auto summary = nlohmann::json::parse(sound.out);
  CHECK(summary["datasets"]["frames_read"] == 11);
  CHECK(summary["datasets"]["keyframes_read"] == 3);
  CHECK(summary["datasets"]["series_read"].get<int>() >= 5);
  CHECK(sound.err.empty());

  damage_copies(rec.h5, tmp.path(), *python);
  std::vector<BadRun> cases;
  for (const auto& d : kDamages) {
    const std::string file = (tmp / (d.name + ".h5")).string();
    cases.push_back({d.name, {"replay", file, "--verify"}, d.name + ".h5", d.also});
  }
  // Opened but not verified: a future or broken version is refused by every mode.
  for (const char* name : {"format_version_3", "format_version_2_5"}) {
    const std::string file = (tmp / (std::string(name) + ".h5")).string();
    cases.push_back({std::string(name) + " exported", {"replay", file, "--export-events"}, std::string(name) + ".h5"});
    cases.push_back({std::string(name) + " re-driven", {"replay", file, "--out", (tmp / "x").string()},
                     std::string(name) + ".h5"});
  }
  REQUIRE(cases.size() >= 25);
  expect_refused(cases);
}

TEST_CASE("Exports of a recording refuse a time past its frames and say when its chain is broken",
          "[integration][robustness]") {
  TempDir tmp;
  const Recorded rec = record_valley(tmp);
  const std::string h5 = rec.h5.string();
  const std::string tif = (tmp / "frame.tif").string();
  std::vector<BadRun> cases;
  for (const std::string t : {"99999", "660", "-500", "-31", "1e12", "630.5"})
    cases.push_back({"frame at " + t, {"replay", h5, "--export-frame", t, "--out", tif}, "--export-frame", {"0 to 600 s"}});
  cases.push_back({"frame of a channel that is not there",
                   {"replay", h5, "--export-frame", "60", "--out", tif, "--channel", "speed_m_s"}, "--channel",
                   {"depth_m"}});
  // Within the frames: the nearest one, at either end too.
  for (const std::string t : {"0", "629", "310"}) {
    const auto ok = run_cadereau({"replay", h5, "--export-frame", t, "--out", tif});
    INFO(t << ": " << ok.err);
    CHECK(ok.code == 0);
  }

  // A log rewritten after the fact: the export is written, and said broken.
  std::string bytes = bytes_of(rec.h5);
  const auto at = bytes.find("\"finite_volume\",\"until_s\"");  // the run_start event's payload (seq 1)
  REQUIRE(at != std::string::npos);
  bytes[at + 13] = 'X';
  const fs::path tampered = tmp / "tampered.h5";
  {
    std::ofstream out(tampered, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const std::string jsonl = (tmp / "events.jsonl").string();
  cases.push_back({"export of a tampered log", {"replay", tampered.string(), "--export-events"}, "tampered.h5",
                   {"hash chain breaks at seq 1", "cannot be trusted"}});
  cases.push_back({"export of a tampered log to a file",
                   {"replay", tampered.string(), "--export-events", "--out", jsonl}, "tampered.h5",
                   {"hash chain breaks at seq 1"}});
  cases.push_back({"export of a tampered log, a window of it",
                   {"replay", tampered.string(), "--export-events", "--from", "300", "--to", "600"}, "tampered.h5",
                   {"hash chain breaks"}});
  expect_refused(cases);
  // The tampered log was still exported whole: it is the evidence.
  std::ifstream lines(jsonl);
  const auto n = std::count(std::istreambuf_iterator<char>(lines), std::istreambuf_iterator<char>(), '\n');
  CHECK(n == static_cast<long>(RecordingReader(tampered).event_count()));
  // The untouched recording exports with exit 0 and nothing on stderr.
  const auto clean = run_cadereau({"replay", h5, "--export-events", "--out", (tmp / "clean.jsonl").string()});
  CHECK(clean.code == 0);
  CHECK(clean.err.empty());
}

TEST_CASE("A recording is not written over an existing file unless --overwrite is given", "[integration][robustness]") {
  TempDir tmp;
  const Recorded rec = record_valley(tmp);
  const fs::path notes = tmp / "notes.h5";
  write_text(notes, "the duty officer's notes, not a recording\n");
  const fs::path other = tmp / "other.h5";
  REQUIRE(run_cadereau(rec.flood_args(tmp / "o2", other)).code == 0);
  const std::string other_bytes = bytes_of(other);

  std::vector<BadRun> cases;
  cases.push_back({"flood over a file that is not a recording", rec.flood_args(tmp / "o3", notes), "--record",
                   {"notes.h5", "not a Cadereau recording", "--overwrite"}});
  cases.push_back({"flood over another recording", rec.flood_args(tmp / "o4", other), "--record",
                   {"other.h5", "already holds a recording", "--overwrite"}});
  cases.push_back({"flood into a folder", rec.flood_args(tmp / "o5", tmp.path()), "--record", {"folder"}});
  cases.push_back({"fork over a file that is not a recording",
                   {"replay", rec.h5.string(), "--fork", "300", "--manning", "0.05", "--record", notes.string(), "--out",
                    (tmp / "o6").string()},
                   "--record",
                   {"notes.h5"}});
  cases.push_back({"fork over another recording",
                   {"replay", rec.h5.string(), "--fork", "300", "--record", other.string(), "--out", (tmp / "o7").string()},
                   "--record",
                   {"other.h5"}});
  cases.push_back({"re-drive over a file that is not a recording",
                   {"replay", rec.h5.string(), "--seek", "300", "--record", notes.string(), "--out", (tmp / "o8").string()},
                   "--record",
                   {"notes.h5"}});
  auto no_record = rec.flood_args(tmp / "o9", other);
  no_record.erase(no_record.begin() + 11, no_record.begin() + 13);  // --record FILE
  no_record.push_back("--overwrite");
  cases.push_back({"--overwrite without --record", no_record, "--overwrite"});
  cases.push_back({"--overwrite with --verify", {"replay", rec.h5.string(), "--verify", "--overwrite"}, "--overwrite"});
  expect_refused(cases);
  // Nothing was touched.
  CHECK(read_text(notes) == "the duty officer's notes, not a recording\n");
  CHECK(bytes_of(other) == other_bytes);

  // Said explicitly, the file is replaced by the new recording.
  auto args = rec.flood_args(tmp / "o10", notes);
  args.push_back("--overwrite");
  const auto replaced = run_cadereau(args);
  INFO(replaced.err);
  REQUIRE(replaced.code == 0);
  CHECK(RecordingReader(notes).meta().scenario == "flood");
  const auto forked = run_cadereau({"replay", rec.h5.string(), "--fork", "300", "--record", other.string(), "--overwrite",
                                    "--out", (tmp / "o11").string()});
  INFO(forked.err);
  CHECK(forked.code == 0);
  CHECK(RecordingReader(other).meta().fork_sim_s == 300.0);
}
