#include "replay_command.h"

#include "command_args.h"
#include "pacing.h"
#include "record_target.h"
#include "run_command.h"

#include "cadereau/scenarios/scenario.h"
#include "cadereau/sim/engine/engine.h"
#include "cadereau/sim/flood/flood_run.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>

namespace cadereau::server {

const char* const kReplayUsage =
    "  replay FILE.h5 --verify             check a recording: JSON summary, hash chain, every frame,\n"
    "                                        keyframe and time series read whole; exit 1 if damaged\n"
    "  replay FILE.h5 --export-frame TIME --out FILE.tif [--channel depth_m]\n"
    "                                        the frame nearest that time as a GeoTIFF (TIME within\n"
    "                                        the recorded frames)\n"
    "  replay FILE.h5 --export-events [--out FILE.jsonl] [--from TIME] [--to TIME]\n"
    "                                        the event log as JSON lines (stdout without --out); a\n"
    "                                        broken hash chain is exported, said on stderr, exit 1\n"
    "  replay FILE.h5 --out DIR [--seek TIME] [--until TIME] [--speed X] [--record NEW.h5 [--overwrite]]\n"
    "                                        re-drive the recorded run from the keyframe at or\n"
    "                                        before TIME (default the start) with the recorded inputs\n"
    "  replay FILE.h5 --fork TIME --out DIR [--record NEW.h5 [--overwrite]] [--until TIME]\n"
    "        [--action TIME,VERB,TARGET[,VALUE]]... [--by WHO] [--manning N]\n"
    "                                        what-if: a new session from that moment, with actions\n"
    "                                        added (a scenario run's verbs: close_road, speed_limit\n"
    "                                        VALUE km/h, light_program VALUE...), recorded with its\n"
    "                                        parent and fork point; --manning for a flood run\n"
    "  TIME is HH:MM[:SS] on the scenario's day (a scenario run's recording) or seconds since the start.\n"
    "  --record refuses a file that exists (a recording or not) unless --overwrite is given.\n";

namespace {

nlohmann::json time_or_null(double t) { return std::isfinite(t) ? nlohmann::json(t) : nlohmann::json(nullptr); }

int verify(const twin::RecordingReader& r, std::ostream& out, std::ostream& err) {
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
  // Everything else the file holds, read whole.
  const auto data = r.check_datasets();
  j["datasets"] = {{"frames_read", data.frames},
                   {"edge_rows_read", data.edge_rows},
                   {"keyframes_read", data.keyframes},
                   {"series_read", data.series},
                   {"torn_frames", data.torn_frames},
                   {"torn_keyframes", data.torn_keyframes},
                   {"ok", data.ok()}};
  problems.insert(problems.end(), data.problems.begin(), data.problems.end());
  j["consistent"] = problems.empty();
  if (!problems.empty()) j["problems"] = problems;
  out << j.dump(2) << "\n";
  // The verdict where a script or a person looks for it, one line per problem.
  for (const auto& p : problems) err << "cadereau: " << r.path().string() << ": " << p << "\n";
  return problems.empty() ? 0 : 1;
}

// A time outside the frames would get the first or last frame under
// another time's name: refused, with the span the recording holds. Within
// it, the nearest frame (half a frame interval either side of the ends).
void require_within_frames(const twin::RecordingReader& r, const std::string& channel, double time_s,
                           const std::string& given) {
  const auto channels = r.frame_channels();
  if (std::find(channels.begin(), channels.end(), channel) == channels.end())
    fail("--channel " + channel, "{} has no frame channel '{}' (it has: {})", r.path().string(), channel,
         channels.empty() ? std::string("none") : fmt::format("{}", fmt::join(channels, ", ")));
  const auto times = r.frame_times_s(channel);
  if (times.empty()) fail(r.path().string(), "holds no frame of '{}'", channel);
  const double step_s = times.size() > 1 ? (times.back() - times.front()) / static_cast<double>(times.size() - 1) : 0.0;
  const double slack_s = std::max(0.5 * step_s, 1e-6);
  if (time_s >= times.front() - slack_s && time_s <= times.back() + slack_s) return;
  fail("--export-frame " + given, "{} s is {} the frames of '{}' in {}: they span {} to {} s ({} frames)", time_s,
       time_s < times.front() ? "before" : "after", channel, r.path().string(), times.front(), times.back(),
       times.size());
}

int export_frame(const twin::RecordingReader& r, double time_s, const std::string& given, const std::string& channel,
                 const std::filesystem::path& path, std::ostream& out) {
  require_within_frames(r, channel, time_s, given);
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

// An export is evidence: a log whose chain is broken is still written (an
// investigation wants it), but never without a word, and the exit is 1.
int say_if_chain_broken(const twin::RecordingReader& r, std::ostream& err) {
  const auto chain = r.verify_chain();
  if (chain.ok) return 0;
  err << fmt::format(
      "cadereau: {}: the hash chain breaks at seq {} ({}): the events exported from seq {} on cannot be trusted "
      "(cadereau replay {} --verify)\n",
      r.path().string(), chain.first_bad_seq, chain.problem, chain.first_bad_seq, r.path().string());
  return 1;
}

// A time given on the command line: HH:MM[:SS] on the day of a scenario
// run's recording, or seconds since the start of any recording.
double recording_time_s(const twin::RecordingReader& r, const std::string& option, const std::string& text) {
  if (text.find(':') == std::string::npos) return parse_number(option, text, -1e12, 1e12);
  const auto start = r.meta().scenario == "flood" ? std::nullopt : scenarios::clock_of_iso(r.meta().start_time_iso);
  if (!start)
    throw UsageError{fmt::format("--{} {}: this recording has no scenario clock (a flood run): give seconds", option, text)};
  const auto t = scenarios::time_since_start_s(text, *start);
  if (!t) throw UsageError{fmt::format("--{} {}: expected HH:MM[:SS] or seconds", option, text)};
  return *t;
}

struct Redrive {
  double at_s = 0.0;
  bool fork = false;
  std::filesystem::path out;
  std::optional<std::filesystem::path> record;
  std::optional<double> until_s;
  std::optional<double> manning_n;
  double speed = 0.0;  // 0: as fast as possible
  std::vector<sim::engine::TimedAction> actions;  // added to a scenario run (a what-if)
};

// A flood run recorded by `cadereau flood --record`, from its keyframe.
int redrive_flood(const twin::RecordingReader& r, const Redrive& d, std::ostream& out) {
  const std::string where = r.path().string();
  const auto& meta = r.meta();
  if (!d.actions.empty()) fail(where, "is a flood run: actions need a scenario run's recording (cadereau run or demo)");
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
  const Pacer pacer(d.speed, key->sim_s);
  const auto summary = sim::flood::run_flood(o, [&](double t, double) { pacer.wait_for(t); });
  out << fmt::format("replay: {} from the keyframe at {} s of {} to {} s: {} steps, max depth {:.3f} m\n",
                     d.fork ? "forked" : "re-drove", key->sim_s, where, summary.sim_s, summary.steps,
                     summary.max_depth_m);
  out << "replay: outputs in " << d.out.string() << "\n";
  if (d.record) out << "replay: recorded to " << d.record->string() << "\n";
  return 0;
}

// A scenario run recorded by `cadereau run` or `demo`: the whole engine from
// its keyframe, with the recorded scenario and the actions added.
int redrive_scenario(const twin::RecordingReader& r, const nlohmann::json& run, const Redrive& d, std::ostream& out,
                     std::ostream& err) {
  const std::string where = r.path().string();
  if (d.manning_n) fail(where, "--manning applies to a flood run's recording; a scenario run takes its territory's");
  scenarios::Scenario scenario;
  std::filesystem::path territory;
  std::vector<sim::engine::TimedAction> recorded_actions;
  try {
    scenario = scenarios::parse_scenario(run.at("scenario_yaml").get<std::string>(),
                                         run.at("scenario_file").get<std::string>());
    territory = run.at("territory").get<std::string>();
    for (const auto& a : run.value("added_actions", nlohmann::json::array())) {
      const auto command = sim::engine::command_from_json(a.dump(), where + " (its added actions)");
      const auto* action = std::get_if<sim::engine::TimedAction>(&command);
      if (!action) fail(where, "its added actions hold a command that is not an action");
      recorded_actions.push_back(*action);
    }
  } catch (const nlohmann::json::exception& e) {
    fail(where, "its run options are not a scenario run's: {}", e.what());
  }
  if (!std::filesystem::exists(territory / "territory.yaml"))
    fail(where, "was run on the territory {}, which is no longer there", territory.string());
  const auto key = r.keyframe_at_or_before(d.at_s);
  if (!key)
    fail(where, "has no keyframe at or before {} ({} s){}", scenarios::clock_of(scenario, d.at_s), d.at_s,
         r.keyframe_times_s().empty() ? ": it was recorded without keyframes" : "");

  RunOptions o;
  o.out = d.out;
  o.recording = d.record.value_or(d.out / "recording.h5");
  o.snapshots = false;
  o.speed = d.speed;
  o.resume = sim::engine::engine_state_from_keyframe(*key, where);
  o.resume_where = where;
  o.resume_kind = d.fork ? "what-if" : "replay";
  if (d.fork) o.parent_recording = std::filesystem::absolute(r.path()).lexically_normal().string();
  o.added_actions = recorded_actions;
  for (const auto& a : d.actions) {
    if (a.t_s < key->sim_s - 1e-9)
      fail(a.where, "at {} is before the fork point {}: it would not be applied", scenarios::clock_of(scenario, a.t_s),
           scenarios::clock_of(scenario, key->sim_s));
    o.added_actions.push_back(a);
  }
  if (d.until_s) {
    if (*d.until_s <= key->sim_s)
      fail(where, "--until {} is not after the keyframe at {}", scenarios::clock_of(scenario, *d.until_s),
           scenarios::clock_of(scenario, key->sim_s));
    scenario.duration_s = *d.until_s;
    std::erase_if(scenario.events, [&](const auto& e) { return e.t_s > scenario.duration_s; });
  }
  out << fmt::format("== {} from the keyframe at {} of {} ==\n", d.fork ? "What-if" : "Replay",
                     scenarios::clock_of(scenario, key->sim_s), where);
  for (const auto& a : d.actions)
    out << fmt::format("   added: {} {} {} by {}\n", scenarios::clock_of(scenario, a.t_s), sim::engine::to_string(a.verb), a.target, a.by);
  return run_scenario(scenario, territory, o, out, err);
}

int redrive(const twin::RecordingReader& r, const Redrive& d, std::ostream& out, std::ostream& err) {
  const auto run = nlohmann::json::parse(r.meta().run_options_json, nullptr, false);
  if (run.is_object() && run.value("kind", std::string()) == kScenarioRunKind) return redrive_scenario(r, run, d, out, err);
  if (r.meta().scenario != "flood" || r.meta().run_options_json.empty())
    fail(r.path().string(), "holds no run to re-drive (scenario '{}', recorded without its run options)", r.meta().scenario);
  return redrive_flood(r, d, out);
}

// "TIME,VERB,TARGET[,VALUE]" for --action.
sim::engine::TimedAction parse_action(const twin::RecordingReader& r, const std::string& spec, const std::string& by) {
  const auto f = split_commas(spec);
  if (f.size() < 3 || f.size() > 4 || f[1].empty() || f[2].empty())
    throw UsageError{"--action " + spec + ": expected TIME,VERB,TARGET[,VALUE]"};
  sim::engine::TimedAction a;
  a.t_s = recording_time_s(r, "action", f[0]);
  using sim::engine::Verb;
  const auto verb = sim::engine::parse_verb(f[1]);
  if (!verb)
    throw UsageError{fmt::format("--action {}: unknown verb '{}' (one of {})", spec, f[1],
                                 fmt::join(sim::engine::verb_names(), ", "))};
  a.verb = *verb;
  a.target = f[2];
  if (a.verb == Verb::speed_limit) {
    if (f.size() != 4) throw UsageError{"--action " + spec + ": speed_limit needs a VALUE in km/h"};
    a.value = parse_number("action", f[3], 1.0, 200.0);
  } else if (a.verb == Verb::light_program) {
    if (f.size() != 4) throw UsageError{"--action " + spec + ": light_program needs the program's id as VALUE"};
    a.program = f[3];
  } else if (f.size() == 4) {
    throw UsageError{"--action " + spec + ": " + f[1] + " takes no VALUE"};
  }
  a.by = by;
  a.where = "--action " + spec;
  return a;
}

}  // namespace

int replay_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    Args cmd(args, 0, {"verify", "export-events", "overwrite"});
    if (cmd.positional().empty()) throw UsageError{"replay needs a recording FILE.h5"};
    if (cmd.positional().size() > 1) throw UsageError{"unexpected argument '" + cmd.positional()[1] + "'"};
    const std::filesystem::path file = cmd.positional().front();
    const bool verify_flag = cmd.take_flag("verify");
    const bool events_flag = cmd.take_flag("export-events");
    const auto export_frame_at = cmd.take("export-frame");
    const auto fork_at = cmd.take("fork");
    const int modes = int(verify_flag) + int(events_flag) + int(export_frame_at.has_value()) + int(fork_at.has_value());
    if (modes > 1) throw UsageError{"choose one of --verify, --export-frame, --export-events, --fork"};

    if (verify_flag) {
      cmd.finish(1);
      return verify(twin::RecordingReader(file), out, err);
    }
    if (export_frame_at) {
      const auto path = cmd.take("out");
      if (!path) throw UsageError{"--export-frame needs --out FILE.tif"};
      const std::string channel = cmd.take("channel").value_or(sim::flood::kDepthFrame);
      cmd.finish(1);
      const twin::RecordingReader reader(file);
      return export_frame(reader, recording_time_s(reader, "export-frame", *export_frame_at), *export_frame_at, channel,
                          *path, out);
    }
    if (events_flag) {
      const auto path = cmd.take("out");
      const auto from = cmd.take("from");
      const auto to = cmd.take("to");
      cmd.finish(1);
      const twin::RecordingReader reader(file);
      std::optional<double> from_s, to_s;
      if (from) from_s.emplace(recording_time_s(reader, "from", *from));
      if (to) to_s.emplace(recording_time_s(reader, "to", *to));
      if (!path) {
        export_events(reader, from_s, to_s, out);
      } else {
        std::ofstream sink(*path);
        if (!sink) fail(*path, "cannot write");
        export_events(reader, from_s, to_s, sink);
        sink.close();
        if (!sink) fail(*path, "cannot write");
        out << fmt::format("replay: {} events written to {}\n", reader.event_count(), *path);
      }
      return say_if_chain_broken(reader, err);
    }
    Redrive d;
    const bool overwrite = cmd.take_flag("overwrite");
    const auto dir = cmd.take("out");
    if (!dir) throw UsageError{"re-driving a recording needs --out DIR (or one of --verify, --export-frame, --export-events)"};
    d.out = *dir;
    if (auto rec = cmd.take("record")) d.record = *rec;
    d.speed = cmd.take_number("speed", 0.0, 1e9).value_or(0.0);
    const auto until = cmd.take("until");
    const auto seek = cmd.take("seek");
    const auto action_specs = cmd.take_all("action");
    const std::string by = cmd.take("by").value_or("what-if");
    if (fork_at) {
      d.fork = true;
      d.manning_n = cmd.take_number("manning", 0.0, 1.0);
      if (seek) throw UsageError{"--seek and --fork both say where to start: give one"};
    } else if (!action_specs.empty()) {
      throw UsageError{"--action needs --fork TIME: actions make a what-if"};
    }
    cmd.finish(1);
    if (overwrite && !d.record) throw UsageError{"--overwrite applies to --record NEW.h5, which is not given"};
    if (d.record && std::filesystem::exists(*d.record) && std::filesystem::exists(file) &&
        std::filesystem::equivalent(*d.record, file))
      throw UsageError{"--record must name a new file, not the recording being replayed"};
    if (d.record) check_record_target(*d.record, overwrite);
    const twin::RecordingReader reader(file);
    if (fork_at && !d.record && reader.meta().scenario == "flood")
      throw UsageError{"--fork of a flood run needs --record NEW.h5 for the new session"};
    d.at_s = fork_at ? recording_time_s(reader, "fork", *fork_at) : seek ? recording_time_s(reader, "seek", *seek) : 0.0;
    if (until) {
      d.until_s = recording_time_s(reader, "until", *until);
      if (!(*d.until_s > 0.0)) throw UsageError{"--until " + *until + ": must be after the start"};
    }
    for (const auto& spec : action_specs) d.actions.push_back(parse_action(reader, spec, by));
    return redrive(reader, d, out, err);
  } catch (const UsageError& u) {
    err << "cadereau: " << u.message << "\nusage:\n" << kReplayUsage;
    return 2;
  }
}

}  // namespace cadereau::server
