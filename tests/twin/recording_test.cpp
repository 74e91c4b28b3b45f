#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"
#include "test_support.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

using namespace cadereau::twin;
using cadereau::Error;
using cadereau::testing::TempDir;

namespace {

// A 24 x 16 grid of 10 m cells at Nîmes (Lambert-93).
const GridSpec kGrid{24, 16, 810000.0, 6302000.0, 10.0, 10.0};
constexpr std::size_t kCells = 24 * 16;

RecordingLayout test_layout() {
  RecordingLayout layout;
  layout.meta.territory = "nimes-test";
  layout.meta.scenario = "unit";
  layout.meta.crs_wkt = Crs::lambert93().wkt();
  layout.frames.push_back({"depth_m", kGrid, Crs::lambert93().wkt(), "m", -9999.0, "water depth"});
  layout.series = {"gauge_m", "volume_m3"};
  layout.series_info = {{"gauge_m", {"m", "water-surface elevation at the gauge", "NGF-IGN69"}},
                        {"volume_m3", {"m3", "water in the domain", ""}}};
  layout.keyframe_fields = {{"depth_m", KeyframeFieldLayout::Type::float64_array, kCells},
                            {"sumo_state", KeyframeFieldLayout::Type::blob, 0}};
  return layout;
}

std::vector<float> frame_values(double t) {
  std::vector<float> v(kCells);
  for (std::size_t i = 0; i < kCells; ++i) v[i] = static_cast<float>(t * 1e-3 + static_cast<double>(i) * 1e-4);
  return v;
}

std::vector<double> state_values(double t) {
  std::vector<double> v(kCells);
  for (std::size_t i = 0; i < kCells; ++i) v[i] = t + static_cast<double>(i) / 7.0;
  return v;
}

void append_keyframe(Recorder& rec, double t) {
  const auto depth = state_values(t);
  const std::string blob = fmt::format("<sumo-state time=\"{}\"/>", t);
  rec.append_keyframe(t, {{"depth_m", depth, {}},
                          {"sumo_state", {}, {reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()}}});
}

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Opens and reads everything; any problem must come out as cadereau::Error.
void read_everything(const std::filesystem::path& p) {
  RecordingReader r(p);
  (void)r.verify_chain();
  if (r.event_count() > 0) (void)r.events(0, r.event_count());
  for (const auto& c : r.frame_channels())
    for (double t : r.frame_times_s(c)) (void)r.frame_nearest(c, t);
  for (const auto& c : r.edge_channels())
    for (double t : r.edge_times_s(c)) (void)r.edge_values_at_or_before(c, t);
  for (double t : r.keyframe_times_s()) (void)r.keyframe_at_or_before(t);
  for (const auto& s : r.series_names()) (void)r.series(s);
}

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-4 test vectors", "[unit][recording]") {
  auto hex = [](const std::string& s) {
    return to_hex(sha256({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}));
  };
  CHECK(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 55 and 56 bytes straddle the one-block padding limit.
  CHECK(hex(std::string(55, 'x')) != hex(std::string(56, 'x')));
}

TEST_CASE("Every event kind, the metadata, series, frames and keyframes round-trip", "[unit][recording]") {
  TempDir tmp;
  const auto path = tmp / "session.h5";
  RecordingLayout layout = test_layout();
  layout.meta.parent_recording = "/data/parent.h5";
  layout.meta.fork_sim_s = 1800.0;
  layout.meta.run_options_json = R"({"until_s": 3600})";
  layout.meta.start_time_iso = "1988-10-03T06:00:00Z";

  std::vector<Event> written;
  {
    Recorder rec(path, layout);
    for (int k = 0; k < kEventKindCount; ++k) {
      Event e;
      e.kind = static_cast<EventKind>(k);
      e.sim_s = 10.0 * k;
      e.wall_s = 591170400.0 + k;  // 3 October 1988, explicit so the round trip is exact
      e.source = k == 2 ? "operator:jean-pierre" : std::string("source-") + to_string(e.kind);
      e.cause_seq = k > 0 ? static_cast<std::uint64_t>(k) : 0;
      e.payload = fmt::format(R"({{"kind":"{}","text":"Cadereau d'Uzès à 220 m³/s","k":{}}})", to_string(e.kind), k);
      e.seq = rec.append(e.kind, e.sim_s, e.source, e.payload, e.cause_seq, e.wall_s);
      written.push_back(e);
    }
    // Empty and large payloads, and a source of exactly 64 bytes.
    written.push_back({});
    written.back().seq = rec.append(EventKind::audit, 70.0, std::string(64, 's'), "", 0, 1.0);
    written.back().source = std::string(64, 's');
    written.back().kind = EventKind::audit;
    written.back().sim_s = 70.0;
    written.back().wall_s = 1.0;
    written.push_back({});
    written.back().payload = std::string(200000, 'p');
    written.back().seq = rec.append(EventKind::observation, 70.0, "gauge", written.back().payload, 0, 2.0);
    written.back().source = "gauge";
    written.back().kind = EventKind::observation;
    written.back().sim_s = 70.0;
    written.back().wall_s = 2.0;

    CHECK_THROWS_AS(rec.append(EventKind::inject, 60.0, "late", "{}"), Error);               // time goes back
    CHECK_THROWS_AS(rec.append(EventKind::inject, 80.0, std::string(65, 'x'), "{}"), Error);  // source too long
    CHECK_THROWS_AS(rec.append(EventKind::inject, 80.0, "x", "{}", 999), Error);             // unknown cause
    CHECK_THROWS_AS(rec.append_sample("nope", 1.0, 1.0), Error);
    CHECK_THROWS_AS(rec.append_frame("depth_m", 1.0, std::vector<float>(3)), Error);

    for (int i = 0; i < 5; ++i) {
      rec.append_sample("gauge_m", 60.0 * i, 0.5 * i);
      rec.append_sample("volume_m3", 60.0 * i, 1000.0 * i);
      const auto f = frame_values(60.0 * i);
      rec.append_frame("depth_m", 60.0 * i, f);
    }
    append_keyframe(rec, 0.0);
    append_keyframe(rec, 120.0);
    append_keyframe(rec, 240.0);
    CHECK_THROWS_AS(rec.append_keyframe(300.0, {{"depth_m", state_values(1.0), {}}}), Error);  // blob missing
    rec.close();
  }

  RecordingReader r(path);
  CHECK(r.meta().territory == "nimes-test");
  CHECK(r.meta().scenario == "unit");
  CHECK(r.meta().crs_wkt == Crs::lambert93().wkt());
  CHECK(r.meta().start_time_iso == "1988-10-03T06:00:00Z");
  CHECK_THAT(r.meta().software_version, Catch::StartsWith("cadereau "));
  CHECK(r.meta().parent_recording == "/data/parent.h5");
  REQUIRE(r.meta().fork_sim_s);
  CHECK(*r.meta().fork_sim_s == 1800.0);
  CHECK(r.meta().run_options_json == R"({"until_s": 3600})");

  REQUIRE(r.event_count() == written.size());
  CHECK(r.torn_events() == 0);
  const auto events = r.events(0, r.event_count());
  Sha256 prev{};
  for (std::size_t i = 0; i < written.size(); ++i) {
    INFO("event " << i);
    CHECK(events[i].seq == i + 1);
    CHECK(events[i].kind == written[i].kind);
    CHECK(events[i].sim_s == written[i].sim_s);
    CHECK(events[i].wall_s == written[i].wall_s);
    CHECK(events[i].source == written[i].source);
    CHECK(events[i].cause_seq == written[i].cause_seq);
    CHECK(events[i].payload == written[i].payload);
    CHECK(events[i].prev_hash == prev);
    CHECK(events[i].hash == event_hash(prev, events[i]));
    prev = events[i].hash;
  }
  for (int k = 0; k < kEventKindCount; ++k) CHECK(parse_event_kind(to_string(static_cast<EventKind>(k))) == static_cast<EventKind>(k));
  CHECK_THROWS_AS(parse_event_kind("rumour"), Error);

  const auto check = r.verify_chain();
  CHECK(check.ok);
  CHECK(check.events == written.size());
  CHECK(r.first_sim_s() == 0.0);
  CHECK(r.last_sim_s() == 70.0);
  const auto window = r.events_between(20.0, 40.0);
  REQUIRE(window.size() == 3);
  CHECK(window.front().sim_s == 20.0);
  CHECK(window.back().sim_s == 40.0);
  CHECK(r.events_between(71.0, 100.0).empty());

  const auto gauge = r.series("gauge_m");
  REQUIRE(gauge.time_s.size() == 5);
  CHECK(gauge.time_s[4] == 240.0);
  CHECK(gauge.values[4] == 2.0);
  CHECK(gauge.info.units == "m");
  CHECK(gauge.info.datum == "NGF-IGN69");
  CHECK(gauge.info.description == "water-surface elevation at the gauge");
  CHECK(r.series("volume_m3").info.datum.empty());
  CHECK_THROWS_AS(r.series("nope"), Error);

  REQUIRE(r.frame_channels() == std::vector<std::string>{"depth_m"});
  const auto frame = r.frame_nearest("depth_m", 100.0);
  REQUIRE(frame);
  CHECK(frame->time_s == 120.0);  // nearest of 60 and 120
  CHECK(frame->raster.grid().same_as(kGrid));
  CHECK(frame->raster.crs().epsg() == 2154);
  CHECK(frame->raster.nodata() == -9999.0);
  CHECK(frame->raster.values() == frame_values(120.0));
  // The frame says what it holds and when, for the GeoTIFF it may become.
  CHECK(frame->raster.band().unit == "m");
  CHECK(frame->raster.band().metadata.at("TIME_S") == "120");
  CHECK(frame->raster.band().metadata.at("TIME") == "1988-10-03T06:02:00Z");
  CHECK_THAT(frame->raster.band().description, Catch::StartsWith("water depth at 1988-10-03T06:02:00Z"));

  CHECK(r.keyframe_times_s() == std::vector<double>{0.0, 120.0, 240.0});
  CHECK_FALSE(r.keyframe_at_or_before(-1.0));
  const auto key = r.keyframe_at_or_before(239.9);
  REQUIRE(key);
  CHECK(key->sim_s == 120.0);
  CHECK(key->event_seq == written.size());
  CHECK(key->array("depth_m") == state_values(120.0));
  const auto& blob = key->blob("sumo_state");
  CHECK(std::string(blob.begin(), blob.end()) == "<sumo-state time=\"120\"/>");
  CHECK_THROWS_AS(key->array("nope"), Error);
}

TEST_CASE("Edge channels keep a value per road edge, read back at or before a time", "[unit][recording]") {
  TempDir tmp;
  RecordingLayout layout = test_layout();
  const std::vector<std::string> ids{"e1", "e2", "-e2", ":J3_0"};
  layout.edge_channels.push_back({"traffic_vehicles", ids, "vehicles", "vehicles on the road edge"});
  layout.edge_channels.push_back({"traffic_speed_ratio", ids, "1", ""});
  {
    Recorder rec(tmp / "edges.h5", layout);
    rec.append_edge_values("traffic_vehicles", 60.0, std::vector<float>{0, 3, 7, 1});
    rec.append_edge_values("traffic_speed_ratio", 60.0, std::vector<float>{1.0f, 0.5f, 0.1f, 0.9f});
    rec.append_edge_values("traffic_vehicles", 120.0, std::vector<float>{2, 0, 9, 1});
    CHECK_THROWS_WITH(rec.append_edge_values("traffic_vehicles", 180.0, std::vector<float>{1, 2}),
                      Catch::Contains("2 values") && Catch::Contains("4 edges"));
    CHECK_THROWS_WITH(rec.append_edge_values("traffic_speed", 180.0, std::vector<float>{1, 2, 3, 4}),
                      Catch::Contains("'traffic_speed'"));
    rec.close();
  }
  RecordingReader r(tmp / "edges.h5");
  CHECK(r.edge_channels() == std::vector<std::string>{"traffic_speed_ratio", "traffic_vehicles"});
  CHECK(r.edge_times_s("traffic_vehicles") == std::vector<double>{60.0, 120.0});
  CHECK(r.edge_times_s("traffic_speed_ratio") == std::vector<double>{60.0});
  CHECK_FALSE(r.edge_values_at_or_before("traffic_vehicles", 59.0));
  auto at = r.edge_values_at_or_before("traffic_vehicles", 119.0);
  REQUIRE(at);
  CHECK(at->time_s == 60.0);
  CHECK(at->index == 0);
  CHECK(at->edge_ids == ids);
  CHECK(at->values == std::vector<float>{0, 3, 7, 1});
  CHECK(at->units == "vehicles");
  CHECK(at->description == "vehicles on the road edge");
  at = r.edge_values_at_or_before("traffic_vehicles", 1e9);
  REQUIRE(at);
  CHECK(at->time_s == 120.0);
  CHECK(at->values == std::vector<float>{2, 0, 9, 1});
  const auto ratio = r.edge_values_at_or_before("traffic_speed_ratio", 120.0);
  REQUIRE(ratio);
  CHECK(ratio->values[2] == 0.1f);
  CHECK(ratio->description == "traffic_speed_ratio");  // the name when none is given
  CHECK_THROWS_WITH(r.edge_times_s("traffic"), Catch::Contains("no edge channel 'traffic'"));
  const auto check = r.check_datasets();
  CHECK(check.ok());
  CHECK(check.edge_rows == 3);

  // A recording without edge channels has none, and says so without an error.
  {
    Recorder rec(tmp / "plain.h5", test_layout());
    rec.close();
  }
  CHECK(RecordingReader(tmp / "plain.h5").edge_channels().empty());
}

TEST_CASE("An edge channel's bad values and layouts are named", "[unit][recording]") {
  TempDir tmp;
  RecordingLayout layout = test_layout();
  layout.edge_channels.push_back({"traffic_vehicles", {"e1", "e2"}, "vehicles", ""});
  {
    Recorder rec(tmp / "nan.h5", layout);
    rec.append_edge_values("traffic_vehicles", 60.0, std::vector<float>{1, std::nanf("")});
    rec.close();
  }
  const auto check = RecordingReader(tmp / "nan.h5").check_datasets();
  REQUIRE(check.problems.size() == 1);
  CHECK_THAT(check.problems[0], Catch::Contains("edges/traffic_vehicles/values") && Catch::Contains("edge 1"));

  RecordingLayout empty = test_layout();
  empty.edge_channels.push_back({"traffic_vehicles", {}, "vehicles", ""});
  CHECK_THROWS_WITH(Recorder(tmp / "e.h5", empty), Catch::Contains("'traffic_vehicles' has no edges"));
  RecordingLayout newline = test_layout();
  newline.edge_channels.push_back({"traffic_vehicles", {"e1", "e\n2"}, "vehicles", ""});
  CHECK_THROWS_WITH(Recorder(tmp / "n.h5", newline), Catch::Contains("newline"));
  RecordingLayout twice = layout;
  twice.edge_channels.push_back(layout.edge_channels.front());
  CHECK_THROWS_WITH(Recorder(tmp / "t.h5", twice), Catch::Contains("declared twice"));
}

TEST_CASE("A bad layout or path is refused with an Error", "[unit][recording]") {
  TempDir tmp;
  RecordingLayout dup = test_layout();
  dup.series.push_back("gauge_m");
  CHECK_THROWS_AS(Recorder(tmp / "a.h5", dup), Error);
  RecordingLayout slash = test_layout();
  slash.series.push_back("a/b");
  CHECK_THROWS_AS(Recorder(tmp / "b.h5", slash), Error);
  RecordingLayout stray = test_layout();
  stray.series_info["gauge_mm"] = {"mm", "", ""};  // a typo: no such series
  CHECK_THROWS_WITH(Recorder(tmp / "s.h5", stray), Catch::Contains("gauge_mm"));
  CHECK_THROWS_AS(Recorder(tmp / "missing-dir" / "c.h5", test_layout()), Error);
  CHECK_THROWS_AS(Recorder(tmp.path(), test_layout()), Error);
}

TEST_CASE("Verification reports the first altered event", "[unit][recording]") {
  TempDir tmp;
  const auto path = tmp / "tamper.h5";
  {
    Recorder rec(path, test_layout());  // events are not compressed: payload bytes are findable
    for (int i = 1; i <= 50; ++i)
      rec.append(EventKind::operator_action, i, "operator:alice", fmt::format(R"({{"action":"close_road","n":{:04}}})", i));
  }
  REQUIRE(RecordingReader(path).verify_chain().ok);
  std::string bytes = read_bytes(path);
  const auto at = bytes.find(R"("n":0017)");
  REQUIRE(at != std::string::npos);
  bytes[at + 7] = '8';  // seq 17 now claims to be action 0018
  write_bytes(path, bytes);
  const auto check = RecordingReader(path).verify_chain();
  CHECK_FALSE(check.ok);
  CHECK(check.first_bad_seq == 17);
  CHECK_THAT(check.problem, Catch::Contains("altered"));
}

TEST_CASE("A missing, foreign, truncated or corrupt file gets an Error, never a crash", "[unit][recording]") {
  TempDir tmp;
  CHECK_THROWS_AS(RecordingReader(tmp / "absent.h5"), Error);
  cadereau::testing::write_text(tmp / "text.h5", "this is not HDF5\n");
  CHECK_THROWS_WITH(RecordingReader(tmp / "text.h5"), Catch::Contains("not an HDF5 file"));

  const auto path = tmp / "good.h5";
  {
    Recorder rec(path, test_layout());
    for (int i = 0; i < 2000; ++i)
      rec.append(static_cast<EventKind>(i % kEventKindCount), i * 0.5, "feed", fmt::format(R"({{"i":{}}})", i));
    for (int i = 0; i < 4; ++i) rec.append_frame("depth_m", 300.0 * i, frame_values(300.0 * i));
    append_keyframe(rec, 0.0);
    append_keyframe(rec, 600.0);
    for (int i = 0; i < 100; ++i) rec.append_sample("gauge_m", i, i);
  }
  const std::string good = read_bytes(path);
  REQUIRE(good.size() > 4096);
  read_everything(path);

  const auto bad = tmp / "bad.h5";
  int errors = 0, opened = 0;
  // Truncations: the header, the middle, the last byte.
  for (std::size_t size : {std::size_t{0}, std::size_t{7}, std::size_t{100}, std::size_t{1000}, good.size() / 4,
                           good.size() / 2, good.size() - 4096, good.size() - 1}) {
    INFO("truncated to " << size << " bytes");
    write_bytes(bad, good.substr(0, size));
    try {
      read_everything(bad);
      ++opened;
    } catch (const Error& e) {
      ++errors;
      CHECK_THAT(e.what(), Catch::Contains(bad.string()));
    }
  }
  CHECK(errors >= 6);  // only a lost last byte or block may still read (HDF5 tolerates slack at the end)
  // Garbage over the superblock, the metadata and the data, at fixed pseudo-random places.
  std::mt19937 rng(1988);
  for (int trial = 0; trial < 40; ++trial) {
    std::string bytes = good;
    const std::size_t at = trial < 4 ? static_cast<std::size_t>(trial) * 16 : rng() % bytes.size();
    const std::size_t len = std::min<std::size_t>(bytes.size() - at, 1 + rng() % 256);
    for (std::size_t i = 0; i < len; ++i) bytes[at + i] = static_cast<char>(rng());
    write_bytes(bad, bytes);
    INFO("garbage at " << at << " for " << len << " bytes");
    try {
      read_everything(bad);
      ++opened;
    } catch (const Error&) {
      ++errors;
    }
  }
  CHECK(errors > 6);
}

TEST_CASE("h5dump and h5py read a recording", "[integration][recording]") {
  if (std::system("command -v h5dump > /dev/null 2>&1") != 0) {
    WARN("h5dump not installed; skipped");
    return;
  }
  TempDir tmp;
  const auto path = tmp / "dump.h5";
  {
    Recorder rec(path, test_layout());
    rec.append(EventKind::inject, 0.0, "scenario", R"({"inflow_m3_s": 220})");
    rec.append_frame("depth_m", 0.0, frame_values(0.0));
    append_keyframe(rec, 0.0);
    rec.append_sample("gauge_m", 0.0, 1.5);
  }
  const auto out = tmp / "dump.txt";
  REQUIRE(std::system(fmt::format("h5dump -H '{}' > '{}' 2>&1", path.string(), out.string()).c_str()) == 0);
  const std::string header = cadereau::testing::read_text(out);
  CHECK_THAT(header, Catch::Contains("/events/index") || Catch::Contains("\"index\""));
  CHECK_THAT(header, Catch::Contains("geotransform"));
  CHECK_THAT(header, Catch::Contains("H5T_ENUM"));
  // The data, not just the header.
  REQUIRE(std::system(fmt::format("h5dump -d /events/index '{}' > '{}' 2>&1", path.string(), out.string()).c_str()) == 0);
  CHECK_THAT(cadereau::testing::read_text(out), Catch::Contains("H5T_STD_U8LE"));
  REQUIRE(std::system(fmt::format("h5dump -d /events/source '{}' > '{}' 2>&1", path.string(), out.string()).c_str()) == 0);
  CHECK_THAT(cadereau::testing::read_text(out), Catch::Contains("\"scenario\\000"));

  // h5py, the other standard reader, when an interpreter has it.
  const std::string python = cadereau::testing::python_with("h5py").value_or("");
  if (python.empty()) {
    WARN("h5py not installed; skipped");
    return;
  }
  const auto script = tmp / "read.py";
  cadereau::testing::write_text(script, R"(import sys, h5py
f = h5py.File(sys.argv[1], "r")
ev = f["events/index"]
row = ev[0]
payload = bytes(f["events/payload"][row["payload_offset"]:row["payload_offset"] + row["payload_size"]]).decode()
assert payload == '{"inflow_m3_s": 220}', payload
assert f["events/source"].asstr()[0] == "scenario", f["events/source"][0]
assert h5py.check_enum_dtype(ev.dtype["kind"])["inject"] == row["kind"]
v = f["frames/depth_m/values"]
assert v.shape == (1, 16, 24) and abs(v[0, 0, 1] - 1e-4) < 1e-9
assert list(v.attrs["geotransform"]) == [810000.0, 10.0, 0.0, 6302000.0, 0.0, -10.0]
assert v.attrs["units"] == "m" and v.attrs["description"] == "water depth", dict(v.attrs)
assert f["keyframes/depth_m"].shape == (1, 24 * 16)
g = f["timeseries/gauge_m"]
assert g[0]["value"] == 1.5
# Text attributes come back as str, not bytes.
assert g.attrs["units"] == "m" and g.attrs["datum"] == "NGF-IGN69", dict(g.attrs)
assert f["meta"].attrs["territory"] == "nimes-test", f["meta"].attrs["territory"]
assert all(isinstance(f["meta"].attrs[k], str) for k in ("scenario", "crs_wkt", "start_time_iso", "run_options_json"))
print("h5py ok")
)");
  CHECK(std::system(fmt::format("{} '{}' '{}' > '{}' 2>&1", python, script.string(), path.string(), out.string()).c_str()) == 0);
  CHECK_THAT(cadereau::testing::read_text(out), Catch::Contains("h5py ok"));
}

TEST_CASE("A format 1 recording still reads with the event sources in its index rows", "[integration][recording]") {
  const std::string python = cadereau::testing::python_with("h5py").value_or("");
  if (python.empty()) {
    WARN("h5py not installed; skipped");
    return;
  }
  TempDir tmp;
  // One event as format 1 laid it out: the source inside the index row,
  // fixed-length text attributes; hashed as the format says.
  const auto script = tmp / "v1.py";
  cadereau::testing::write_text(script, R"(import sys, struct, hashlib, h5py, numpy as np
f = h5py.File(sys.argv[1], "w", libver="latest")
m = f.create_group("meta")
m.attrs["format"] = np.bytes_("cadereau-recording")
m.attrs["format_version"] = np.int64(1)
m.attrs["scenario"] = np.bytes_("old")
kind = h5py.enum_dtype({"observation": 0, "inject": 1, "operator_action": 2, "simulation_event": 3,
                        "impact": 4, "alert": 5, "audit": 6}, basetype="u1")
row = np.dtype([("seq", "<u8"), ("sim_s", "<f8"), ("wall_s", "<f8"), ("kind", kind), ("cause", "<u8"),
                ("source", h5py.string_dtype("utf-8", 64)), ("payload_offset", "<u8"), ("payload_size", "<u4"),
                ("prev_hash", "u1", (32,)), ("hash", "u1", (32,))])
payload = b'{"a":1}'
source = b"operator:alice"
prev = bytes(32)
text = lambda b: struct.pack("<I", len(b)) + b
digest = hashlib.sha256(prev + struct.pack("<QddBQ", 1, 5.0, 1e9, 2, 0) + text(source) + text(payload)).digest()
e = f.create_group("events")
e.create_dataset("index", data=np.array([(1, 5.0, 1e9, 2, 0, source, 0, len(payload), np.zeros(32, "u1"),
                                          np.frombuffer(digest, "u1"))], dtype=row), maxshape=(None,), chunks=(16,))
e.create_dataset("payload", data=np.frombuffer(payload, "u1"), maxshape=(None,), chunks=(64,))
k = f.create_group("keyframes")
k.create_dataset("time_s", shape=(0,), dtype="<f8", maxshape=(None,), chunks=(16,))
k.create_dataset("event_seq", shape=(0,), dtype="<u8", maxshape=(None,), chunks=(16,))
f.create_group("frames")
f.create_group("timeseries")
)");
  const auto path = tmp / "v1.h5";
  REQUIRE(std::system(fmt::format("{} '{}' '{}'", python, script.string(), path.string()).c_str()) == 0);
  RecordingReader r(path);
  CHECK(r.meta().scenario == "old");
  REQUIRE(r.event_count() == 1);
  const Event e = r.events(0, 1).front();
  CHECK(e.source == "operator:alice");
  CHECK(e.kind == EventKind::operator_action);
  CHECK(e.payload == R"({"a":1})");
  CHECK(r.verify_chain().ok);
}

namespace {

// The child of the crash test: writes events (with frames, keyframes and
// samples among them) until killed, and reports each flushed seq on the pipe.
[[noreturn]] void crash_child(const std::filesystem::path& path, int report_fd, unsigned seed) {
  try {
    RecorderOptions options;
    options.flush_every_wall_s = 0.01;
    options.flush_every_sim_s = 0.0;
    Recorder rec(path, test_layout(), options);
    std::uint64_t reported = 0;
    if (write(report_fd, &reported, sizeof reported) != sizeof reported) _exit(4);
    std::mt19937 rng(seed);
    for (std::uint64_t i = 1;; ++i) {
      const double t = static_cast<double>(i) * 0.01;
      rec.append(static_cast<EventKind>(i % kEventKindCount), t, "crash-test",
                 fmt::format(R"({{"i":{},"pad":"{}"}})", i, std::string(rng() % 200, 'x')), i > 1 ? i - 1 : 0);
      if (i % 97 == 0) rec.append_frame("depth_m", t, frame_values(t));
      if (i % 41 == 0) rec.append_sample("gauge_m", t, static_cast<double>(i));
      if (i % 500 == 0) append_keyframe(rec, t);
      if (rec.flushed_seq() != reported) {
        reported = rec.flushed_seq();
        if (write(report_fd, &reported, sizeof reported) != sizeof reported) _exit(4);
      }
    }
  } catch (...) {
    _exit(3);
  }
}

}  // namespace

TEST_CASE("A writer killed with SIGKILL leaves a file holding every flushed event", "[integration][recording]") {
  TempDir tmp;
  std::mt19937 rng(20241003);
  constexpr int kRuns = 20;
  std::uint64_t total_flushed = 0, total_torn = 0;
  int opened = 0;
  for (int run = 0; run < kRuns; ++run) {
    const auto path = tmp / fmt::format("crash-{}.h5", run);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const unsigned child_seed = rng();
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      crash_child(path, fds[1], child_seed);
    }
    close(fds[1]);
    // Kill at a random moment: twice during creation, otherwise mid-stream,
    // timed from the child's word that its file exists so that a loaded
    // machine (a slow fork) does not turn every run into a creation kill.
    bool created = false;
    std::uint64_t flushed = 0, value = 0;
    const bool during_creation = run < 2;
    if (!during_creation && read(fds[0], &value, sizeof value) == sizeof value) created = true;
    const int delay_ms = during_creation ? static_cast<int>(rng() % 5) : 20 + static_cast<int>(rng() % 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    REQUIRE(kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    INFO("run " << run << ", killed after " << delay_ms << " ms");
    REQUIRE(WIFSIGNALED(status));  // the child died by the kill, not by an error of its own
    while (read(fds[0], &value, sizeof value) == sizeof value) {
      created = true;
      flushed = value;
    }
    close(fds[0]);
    if (!created) {
      // Killed before the file was complete: it may be absent or unreadable, but never a crash.
      try {
        RecordingReader r(path);
      } catch (const Error&) {
      }
      continue;
    }
    RecordingReader r(path);
    INFO("flushed " << flushed << ", on disk " << r.event_count() << ", torn " << r.torn_events());
    CHECK(r.event_count() >= flushed);
    const auto check = r.verify_chain();
    CHECK(check.ok);
    if (!check.ok) WARN(check.problem);
    if (flushed > 0) {
      const auto last = r.events(flushed - 1, 1).at(0);
      CHECK(last.seq == flushed);
      CHECK_THAT(last.payload, Catch::StartsWith(fmt::format(R"({{"i":{},)", flushed)));
      CHECK(last.cause_seq == flushed - 1);
    }
    read_everything(path);
    total_flushed += flushed;
    total_torn += r.torn_events();
    ++opened;
  }
  CHECK(total_flushed > 0);
  CHECK(opened >= kRuns - 2);
  fmt::print("crash test: {} of {} killed writers left a file with events; {} flushed events all found; {} torn\n",
             opened, kRuns, total_flushed, total_torn);
}

TEST_CASE("A reader follows a recording while it is being written", "[integration][recording]") {
  TempDir tmp;
  const auto path = tmp / "live.h5";
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    try {
      RecorderOptions options;
      options.flush_every_wall_s = 0.02;
      Recorder rec(path, test_layout(), options);
      char ready = 1;
      if (write(fds[1], &ready, 1) != 1) _exit(4);
      const auto start = std::chrono::steady_clock::now();
      for (int i = 1; std::chrono::steady_clock::now() - start < std::chrono::milliseconds(600); ++i) {
        rec.append(EventKind::observation, i * 0.1, "gauge", fmt::format(R"({{"level_m":{}}})", i * 0.01));
        if (i % 50 == 0) rec.append_frame("depth_m", i * 0.1, frame_values(i * 0.1));
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      rec.close();
    } catch (...) {
      _exit(3);
    }
    _exit(0);
  }
  close(fds[1]);
  char ready = 0;
  REQUIRE(read(fds[0], &ready, 1) == 1);
  close(fds[0]);
  RecordingReader r(path);
  std::uint64_t seen = r.event_count();
  int growths = 0;
  for (int poll = 0; poll < 10; ++poll) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r.refresh();
    if (r.event_count() > seen) ++growths;
    CHECK(r.event_count() >= seen);
    seen = r.event_count();
    CHECK(r.verify_chain().ok);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(growths >= 3);
  r.refresh();
  const auto final_count = r.event_count();
  CHECK(RecordingReader(path).event_count() == final_count);
  CHECK(RecordingReader(path).frame_times_s("depth_m").size() == r.frame_times_s("depth_m").size());
}

TEST_CASE("Recording throughput and seek time", "[.benchmark][recording]") {
  TempDir tmp;
  const auto path = tmp / "bench.h5";
  // Two hours of session: a million small events, a 500 x 500 depth frame a minute, a keyframe every ten.
  constexpr std::uint64_t kEvents = 1000000;
  constexpr double kDuration_s = 7200.0;
  const GridSpec grid{500, 500, 800000.0, 6310000.0, 5.0, 5.0};
  RecordingLayout layout;
  layout.meta.crs_wkt = Crs::lambert93().wkt();
  layout.frames.push_back({"depth_m", grid, layout.meta.crs_wkt, "m", -9999.0, "water depth"});
  layout.keyframe_fields = {{"h", KeyframeFieldLayout::Type::float64_array, grid.cell_count()},
                            {"qx", KeyframeFieldLayout::Type::float64_array, grid.cell_count()},
                            {"qy", KeyframeFieldLayout::Type::float64_array, grid.cell_count()}};
  std::vector<float> frame(grid.cell_count());
  std::vector<double> h(grid.cell_count()), qx(grid.cell_count()), qy(grid.cell_count());
  // A wet patch growing in a dry domain, like a flood.
  auto fill = [&](double t) {
    const double radius = 20.0 + 200.0 * t / kDuration_s;
    for (int r = 0; r < grid.rows; ++r)
      for (int c = 0; c < grid.cols; ++c) {
        const double d = std::hypot(r - 250.0, c - 250.0);
        const std::size_t i = static_cast<std::size_t>(r) * grid.cols + c;
        h[i] = d < radius ? 0.5 * (1.0 - d / radius) + 0.01 * std::sin(0.1 * c) : 0.0;
        qx[i] = h[i] * 0.3;
        qy[i] = -h[i] * 0.1;
        frame[i] = static_cast<float>(h[i]);
      }
  };

  const auto event_start = std::chrono::steady_clock::now();
  std::uint64_t payload_bytes = 0;
  double frames_s = 0.0, keyframes_s = 0.0;
  std::size_t frame_count = 0, keyframe_count = 0;
  {
    Recorder rec(path, layout);
    double next_frame_s = 0.0;
    for (std::uint64_t i = 0; i < kEvents; ++i) {
      const double t = kDuration_s * static_cast<double>(i) / kEvents;
      if (t >= next_frame_s) {
        fill(t);
        const auto f0 = std::chrono::steady_clock::now();
        rec.append_frame("depth_m", t, frame);
        ++frame_count;
        if (frame_count % 10 == 1) {
          rec.append_keyframe(t, {{"h", h, {}}, {"qx", qx, {}}, {"qy", qy, {}}});
          ++keyframe_count;
        }
        rec.flush();  // a frame may wait in HDF5's chunk cache: time its compression here, not in the events
        const auto f1 = std::chrono::steady_clock::now();
        (frame_count % 10 == 1 ? keyframes_s : frames_s) += std::chrono::duration<double>(f1 - f0).count();
        next_frame_s += 60.0;
      }
      const std::string payload = fmt::format(R"({{"sensor":"S{}","level_m":{:.3f}}})", i % 800, (i % 1000) * 0.001);
      payload_bytes += payload.size();
      rec.append(static_cast<EventKind>(i % kEventKindCount), t, "feed", payload, i > 0 ? i : 0);
    }
  }
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - event_start).count();
  const double event_s = total_s - frames_s - keyframes_s;
  const double file_mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
  const double raw_frame_mb = frame_count * grid.cell_count() * 4.0 / 1e6;
  const double raw_key_mb = keyframe_count * grid.cell_count() * 24.0 / 1e6;

  RecordingReader r(path);
  const auto open_s = std::chrono::steady_clock::now();
  RecordingReader fresh(path);
  const double open_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - open_s).count();
  std::mt19937 rng(7);
  double worst_seek_ms = 0.0, sum_seek_ms = 0.0;
  constexpr int kSeeks = 20;
  for (int i = 0; i < kSeeks; ++i) {
    const double t = std::uniform_real_distribution<double>(0.0, kDuration_s)(rng);
    const auto s0 = std::chrono::steady_clock::now();
    const auto key = fresh.keyframe_at_or_before(t);
    const auto frame_at = fresh.frame_nearest("depth_m", t);
    const auto window = fresh.events_between(t, t + 1.0);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count();
    REQUIRE(key);
    REQUIRE(frame_at);
    CHECK_FALSE(window.empty());
    worst_seek_ms = std::max(worst_seek_ms, ms);
    sum_seek_ms += ms;
  }
  const auto v0 = std::chrono::steady_clock::now();
  const auto check = r.verify_chain();
  const double verify_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - v0).count();
  CHECK(check.ok);
  CHECK(r.event_count() == kEvents);

  const double event_mb = (kEvents * 173.0 + payload_bytes) / 1e6;  // 173-byte index rows + payloads
  fmt::print("recording benchmark: {} events in {:.2f} s: {:.0f} events/s, {:.1f} MB/s written ({:.1f} MB/s of payload)\n",
             kEvents, event_s, kEvents / event_s, event_mb / event_s, payload_bytes / 1e6 / event_s);
  fmt::print("  {} frames {}x{} in {:.2f} s: {:.1f} MB/s raw float32\n", frame_count - keyframe_count, grid.cols,
             grid.rows, frames_s, (frame_count - keyframe_count) * grid.cell_count() * 4.0 / 1e6 / frames_s);
  fmt::print("  {} frames+keyframes (3 x float64) in {:.2f} s: {:.1f} MB/s raw\n", keyframe_count, keyframes_s,
             (keyframe_count * grid.cell_count() * 4.0 / 1e6 + raw_key_mb) / keyframes_s);
  fmt::print("  file {:.1f} MB for {:.1f} MB of raw frames + keyframes + {:.1f} MB payload\n", file_mb,
             raw_frame_mb + raw_key_mb, payload_bytes / 1e6);
  fmt::print("  open {:.1f} ms; seek (keyframe + nearest frame + 1 s of events): mean {:.1f} ms, worst {:.1f} ms\n",
             open_ms, sum_seek_ms / kSeeks, worst_seek_ms);
  fmt::print("  verify hash chain: {:.2f} s ({:.0f} events/s)\n", verify_s, kEvents / verify_s);
  CHECK(worst_seek_ms < 200.0);
}
