#include "replay_command.h"

#include "command_args.h"

#include "cadereau/sim/flood/flood_run.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <thread>

namespace cadereau::server {

const char* const kReplayUsage =
    "  replay FILE.h5 --verify             check a recording: JSON summary, hash chain; exit 1 if broken\n"
    "  replay FILE.h5 --export-frame SECONDS --out FILE.tif [--channel depth_m]\n"
    "                                        the frame nearest that time as a GeoTIFF\n"
    "  replay FILE.h5 --export-events [--out FILE.jsonl] [--from S] [--to S]\n"
    "                                        the event log as JSON lines (stdout without --out)\n"
    "  replay FILE.h5 --out DIR [--seek SECONDS] [--speed X] [--record NEW.h5]\n"
    "                                        re-drive the recorded flood run from the keyframe at or\n"
    "                                        before SECONDS (default 0) with the recorded inputs\n"
    "  replay FILE.h5 --fork SECONDS --record NEW.h5 --out DIR [--until S] [--manning N]\n"
    "                                        what-if: a new session from that moment, recorded with\n"
    "                                        its parent and fork point\n";

namespace {

nlohmann::json time_or_null(double t) { return std::isfinite(t) ? nlohmann::json(t) : nlohmann::json(nullptr); }

int verify(const twin::RecordingReader& r, std::ostream& out) {
  nlohmann::json j;
  j["file"] = r.path().string();
  j["events"] = r.event_count();
  j["torn_events"] = r.torn_events();
  std::vector<std::string> problems;
  const auto keys = r.keyframe_times_s();
  j["keyframes"] = keys.size();
  if (!std::is_sorted(keys.begin(), keys.end())) problems.push_back("keyframe times go back");
  // The span of the session: events, frames and keyframes alike (a crashed
  // flood run has few events but all its frames up to the crash).
  double first_s = r.first_sim_s(), last_s = r.last_sim_s();
  auto widen = [&](const std::vector<double>& times) {
    if (times.empty()) return;
    first_s = std::isfinite(first_s) ? std::min(first_s, times.front()) : times.front();
    last_s = std::isfinite(last_s) ? std::max(last_s, times.back()) : times.back();
  };
  widen(keys);
  std::size_t frames = 0;
  nlohmann::json channels = nlohmann::json::object();
  for (const auto& c : r.frame_channels()) {
    const auto times = r.frame_times_s(c);
    widen(times);
    frames += times.size();
    channels[c] = times.size();
    if (!std::is_sorted(times.begin(), times.end())) problems.push_back("frame times of '" + c + "' go back");
  }
  j["frames"] = frames;
  j["frame_channels"] = channels;
  j["series"] = r.series_names();
  j["first_sim_s"] = time_or_null(first_s);
  j["last_sim_s"] = time_or_null(last_s);
  if (!keys.empty()) j["last_keyframe_s"] = keys.back();
  const auto& meta = r.meta();
  j["scenario"] = meta.scenario;
  j["start_time_iso"] = meta.start_time_iso;
  j["software_version"] = meta.software_version;
  if (!meta.parent_recording.empty()) j["parent_recording"] = meta.parent_recording;
  if (meta.fork_sim_s) j["fork_sim_s"] = *meta.fork_sim_s;
  const auto chain = r.verify_chain();
  if (chain.ok) {
    j["hash_chain"] = "ok";
  } else {
    j["hash_chain"] = {{"first_bad_seq", chain.first_bad_seq}, {"problem", chain.problem}};
    problems.push_back(fmt::format("hash chain breaks at seq {}: {}", chain.first_bad_seq, chain.problem));
  }
  j["consistent"] = problems.empty();
  if (!problems.empty()) j["problems"] = problems;
  out << j.dump(2) << "\n";
  return problems.empty() ? 0 : 1;
}

int export_frame(const twin::RecordingReader& r, double time_s, const std::string& channel,
                 const std::filesystem::path& path, std::ostream& out) {
  const auto frame = r.frame_nearest(channel, time_s);
  if (!frame) fail(r.path().string(), "holds no frame of '{}'", channel);
  twin::write_geotiff(frame->raster, path);
  out << fmt::format("replay: frame {} of '{}' at {} s written to {}\n", frame->index, channel, frame->time_s,
                     path.string());
  return 0;
}

int export_events(const twin::RecordingReader& r, std::optional<double> from_s, std::optional<double> to_s,
                  std::ostream& sink) {
  auto write = [&](const std::vector<twin::Event>& events) {
    for (const auto& e : events) {
      nlohmann::json j{{"seq", e.seq},       {"sim_s", e.sim_s},       {"wall_s", e.wall_s},
                       {"kind", twin::to_string(e.kind)}, {"source", e.source}, {"cause", e.cause_seq}};
      auto payload = nlohmann::json::parse(e.payload, nullptr, false);
      j["payload"] = payload.is_discarded() ? nlohmann::json(e.payload) : payload;
      j["hash"] = twin::to_hex(e.hash);
      sink << j.dump() << "\n";
    }
  };
  if (from_s || to_s) {
    write(r.events_between(from_s.value_or(-HUGE_VAL), to_s.value_or(HUGE_VAL)));
    return 0;
  }
  constexpr std::uint64_t kBatch = 10000;
  for (std::uint64_t first = 0; first < r.event_count(); first += kBatch)
    write(r.events(first, std::min(kBatch, r.event_count() - first)));
  return 0;
}

struct Redrive {
  double at_s = 0.0;
  bool fork = false;
  std::filesystem::path out;
  std::optional<std::filesystem::path> record;
  std::optional<double> until_s;
  std::optional<double> manning_n;
  double speed = 0.0;  // 0: as fast as possible
};

int redrive(const twin::RecordingReader& r, const Redrive& d, std::ostream& out) {
  const std::string where = r.path().string();
  const auto& meta = r.meta();
  if (meta.scenario != "flood" || meta.run_options_json.empty())
    fail(where, "holds no flood run to re-drive (scenario '{}')", meta.scenario);
  auto o = sim::flood::flood_options_from_json(meta.run_options_json, where);
  const auto key = r.keyframe_at_or_before(d.at_s);
  if (!key) fail(where, "has no keyframe at or before {} s", d.at_s);
  sim::flood::FloodState state;
  state.time_s = key->sim_s;
  state.depth_m = key->array(sim::flood::kStateDepth);
  state.discharge_east_m2_s = key->array(sim::flood::kStateDischargeEast);
  state.discharge_north_m2_s = key->array(sim::flood::kStateDischargeNorth);
  o.start_state = std::move(state);
  o.out = d.out;
  if (d.until_s) o.until_s = *d.until_s;
  if (d.manning_n) o.manning_n = *d.manning_n;
  if (d.record) {
    o.record = *d.record;
    o.parent_recording = std::filesystem::absolute(r.path()).lexically_normal().string();
    o.fork_sim_s = key->sim_s;
  }
  const auto wall_start = std::chrono::steady_clock::now();
  const double speed = d.speed;
  const double t0 = key->sim_s;
  const auto summary = sim::flood::run_flood(o, [&](double t, double) {
    if (speed <= 0.0) return;
    // Paced replay: sim time advances at `speed` times the wall clock.
    const auto due = wall_start + std::chrono::duration<double>((t - t0) / speed);
    std::this_thread::sleep_until(std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
  });
  out << fmt::format("replay: {} from the keyframe at {} s of {} to {} s: {} steps, max depth {:.3f} m\n",
                     d.fork ? "forked" : "re-drove", key->sim_s, where, summary.sim_s, summary.steps,
                     summary.max_depth_m);
  out << "replay: outputs in " << d.out.string() << "\n";
  if (d.record) out << "replay: recorded to " << d.record->string() << "\n";
  return 0;
}

}  // namespace

int replay_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    Args cmd(args, 0, {"verify", "export-events"});
    if (cmd.positional().empty()) throw UsageError{"replay needs a recording FILE.h5"};
    if (cmd.positional().size() > 1) throw UsageError{"unexpected argument '" + cmd.positional()[1] + "'"};
    const std::filesystem::path file = cmd.positional().front();
    const bool verify_flag = cmd.take_flag("verify");
    const bool events_flag = cmd.take_flag("export-events");
    const auto export_frame_s = cmd.take_number("export-frame", -1e12, 1e12);
    const auto fork_s = cmd.take_number("fork", -1e12, 1e12);
    const int modes = int(verify_flag) + int(events_flag) + int(export_frame_s.has_value()) + int(fork_s.has_value());
    if (modes > 1) throw UsageError{"choose one of --verify, --export-frame, --export-events, --fork"};

    if (verify_flag) {
      cmd.finish();
      return verify(twin::RecordingReader(file), out);
    }
    if (export_frame_s) {
      const auto path = cmd.take("out");
      if (!path) throw UsageError{"--export-frame needs --out FILE.tif"};
      const std::string channel = cmd.take("channel").value_or(sim::flood::kDepthFrame);
      cmd.finish();
      return export_frame(twin::RecordingReader(file), *export_frame_s, channel, *path, out);
    }
    if (events_flag) {
      const auto path = cmd.take("out");
      const auto from_s = cmd.take_number("from", -1e12, 1e12);
      const auto to_s = cmd.take_number("to", -1e12, 1e12);
      cmd.finish();
      const twin::RecordingReader reader(file);
      if (!path) return export_events(reader, from_s, to_s, out);
      std::ofstream sink(*path);
      if (!sink) fail(*path, "cannot write");
      export_events(reader, from_s, to_s, sink);
      sink.close();
      if (!sink) fail(*path, "cannot write");
      out << fmt::format("replay: {} events written to {}\n", reader.event_count(), *path);
      return 0;
    }
    Redrive d;
    const auto dir = cmd.take("out");
    if (!dir) throw UsageError{"re-driving a recording needs --out DIR (or one of --verify, --export-frame, --export-events)"};
    d.out = *dir;
    if (auto rec = cmd.take("record")) d.record = *rec;
    d.until_s = cmd.take_number("until", 1e-9, 1e12);
    d.speed = cmd.take_number("speed", 0.0, 1e9).value_or(0.0);
    if (fork_s) {
      if (!d.record) throw UsageError{"--fork needs --record NEW.h5 for the new session"};
      d.fork = true;
      d.at_s = *fork_s;
      d.manning_n = cmd.take_number("manning", 0.0, 1.0);
    } else {
      d.at_s = cmd.take_number("seek", -1e12, 1e12).value_or(0.0);
    }
    cmd.finish();
    if (d.record && std::filesystem::exists(*d.record) && std::filesystem::exists(file) &&
        std::filesystem::equivalent(*d.record, file))
      throw UsageError{"--record must name a new file, not the recording being replayed"};
    return redrive(twin::RecordingReader(file), d, out);
  } catch (const UsageError& u) {
    err << "cadereau: " << u.message << "\nusage:\n" << kReplayUsage;
    return 2;
  }
}

}  // namespace cadereau::server
