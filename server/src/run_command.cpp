#include "run_command.h"

#include "demo_serve.h"

#include "crash_report.h"
#include "forecast_document.h"
#include "pacing.h"
#include "programs.h"
#include "report.h"

#include "cadereau/data/demo_territory.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <ostream>

namespace cadereau::server {

namespace {

// A progress bar: redrawn in place on a terminal, a line every 10% otherwise.
class ProgressBar {
 public:
  // from_s: where the run starts (a forecast or a fork starts part way).
  ProgressBar(std::ostream& out, double from_s) : out_(out), tty_(&out == &std::cerr && isatty(2)), from_s_(from_s) {}
  void operator()(double t_s, double duration_s, const scenarios::Scenario& s) {
    const double share = t_s / duration_s;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const int tenth = static_cast<int>(share * 10.0 + 1e-9);
    if (!tty_ && tenth == last_tenth_) return;
    if (tty_ && wall - last_draw_ < 0.2 && share < 1.0) return;
    last_tenth_ = tenth;
    last_draw_ = wall;
    const int filled = static_cast<int>(share * 30.0);
    const std::string line =
        fmt::format("[{}{}] {:3.0f}%  {}  {:.0f} of {:.0f} min simulated in {:.0f} s (x{:.0f})",
                    std::string(filled, '#'), std::string(30 - filled, '.'), share * 100.0, scenarios::clock_of(s, t_s),
                    t_s / 60.0, duration_s / 60.0, wall, (t_s - from_s_) / std::max(wall, 1e-3));
    out_ << (tty_ ? "\r" : "") << line << (tty_ && share < 1.0 ? "" : "\n") << std::flush;
  }

 private:
  std::ostream& out_;
  bool tty_;
  double from_s_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  int last_tenth_ = -1;
  double last_draw_ = -1.0;
};

nlohmann::json scenario_run_options(const scenarios::Scenario& scenario, const std::filesystem::path& territory_dir,
                                    const std::vector<sim::engine::TimedAction>& added) {
  nlohmann::json actions = nlohmann::json::array();
  for (const auto& a : added) actions.push_back(nlohmann::json::parse(sim::engine::command_json(a)));
  return {{"kind", kScenarioRunKind},
          {"scenario_file", scenario.file.string()},
          {"scenario_yaml", scenario.text},
          {"territory", std::filesystem::absolute(territory_dir).lexically_normal().string()},
          {"added_actions", actions}};
}

void write_summary(const scenarios::Scenario& scenario, const sim::engine::Engine& engine, const KeyFigures& k,
                   const std::filesystem::path& file) {
  const auto& t = engine.timings();
  nlohmann::json j;
  j["scenario"] = scenario.name;
  j["start"] = scenario.start;
  j["sim_s"] = scenario.duration_s;
  j["wall_s"] = t.total_s;
  j["faster_than_real_time"] = scenario.duration_s / std::max(t.total_s, 1e-9);
  j["time_s"] = {{"flood", t.flood_s},         {"traffic", t.traffic_s}, {"flood_and_traffic_wall", t.step_wall_s},
                 {"emergency_access", t.access_s},
                 {"coupling", t.coupling_s},   {"impacts", t.impacts_s}, {"recording", t.recording_s}};
  j["records"] = engine.log().size();
  j["flood_steps"] = engine.flood().steps();
  j["mass_error_rel"] = engine.flood().mass_balance().error_rel();
  j["volume_nudged_in_m3"] = engine.nudged_water().added_m3;
  j["volume_nudged_out_m3"] = engine.nudged_water().removed_m3;
  j["flooded_km2"] = k.flooded_km2;
  j["max_depth_m"] = k.max_depth_m;
  j["roads_closed"] = k.roads_closed;
  j["roads_closed_km"] = k.roads_closed_km;
  j["vehicles_caught"] = k.vehicles_caught;
  j["people_at_risk"] = k.people_at_risk;
  j["assets_failed"] = k.assets_failed;
  j["people_without_power_peak"] = k.people_without_power;
  j["people_cut_off_peak"] = k.people_cut_off;
  j["people_in_flooded_homes_peak"] = k.people_flooded_homes;
  j["vehicles_arrived"] = engine.vehicles_arrived();
  std::ofstream f(file);
  f << j.dump(2) << "\n";
  if (!f) fail(file.string(), "cannot write");
}

}  // namespace

int run_scenario(const scenarios::Scenario& scenario, const std::filesystem::path& territory_dir,
                 const RunOptions& options, std::ostream& out, std::ostream& progress) {
  const twin::Territory territory = twin::Territory::load(territory_dir);
  for (const auto& w : territory.warnings) progress << "cadereau: warning: " << w << "\n";
  sim::engine::EngineSetup setup = scenarios::engine_setup(scenario, territory);
  std::filesystem::create_directories(options.out);
  setup.recording = options.recording.value_or(options.out / "recording.h5");
  const std::filesystem::path recording = *setup.recording;
  if (options.brief) setup.recording.reset();
  setup.flood_threads = options.threads;
  // Readings re-run here are an exercise's injects (its counterfactual):
  // false readings that mislead players, not the water.
  setup.nudge_levels = false;
  setup.resume = options.resume;
  setup.resume_where = options.resume_where;
  setup.actions.insert(setup.actions.end(), options.added_actions.begin(), options.added_actions.end());
  setup.meta.run_options_json = scenario_run_options(scenario, territory_dir, options.added_actions).dump();
  if (!options.parent_recording.empty()) {
    setup.meta.parent_recording = options.parent_recording;
    setup.meta.fork_sim_s = options.resume ? options.resume->time_s() : 0.0;
  }
  if (options.save_state_at_s && !(*options.save_state_at_s > 0.0 && *options.save_state_at_s < scenario.duration_s))
    fail("--save-state-at", "{} ({} s) is not inside the run ({} to {})", scenarios::clock_of(scenario, *options.save_state_at_s),
         *options.save_state_at_s, scenarios::clock_of(scenario, 0.0), scenarios::clock_of(scenario, scenario.duration_s));
  const double sim_start_s = options.resume ? options.resume->time_s() : 0.0;
  ProgressBar bar(progress, sim_start_s);
  const std::string doing = options.resume ? fmt::format("running on from {}", options.resume_where)
                                           : fmt::format("running {}", scenario.name);
  const Pacer pacer(options.speed, sim_start_s);
  setup.progress = [&](double t, double d) {
    bar(t, d, scenario);
    set_crash_context(fmt::format("{}, past {} ({:.0f} s)", doing, scenarios::clock_of(scenario, t), t));
    pacer.wait_for(t);
  };

  out << fmt::format("== {} ==\n   {} from {} for {:.0f} min: {} inflows, {} rain hyetographs, {} timed events\n",
                     scenario.name, territory.manifest.name, scenario.start, scenario.duration_s / 60.0,
                     scenario.inflows.size(), scenario.rain.size(), scenario.events.size());
  set_crash_context(doing + ", loading");
  sim::engine::Engine engine(territory, std::move(setup));
  const double from_s = engine.time_s();
  std::size_t next_command = 0;
  // Each command is given when the run reaches the time it was taken, as the
  // session's engine took it; it applies at the next exchange step.
  const auto feed_until = [&](double t_s) {
    for (; next_command < options.commands.size() && options.commands[next_command].taken_s <= t_s; ++next_command) {
      const auto& c = options.commands[next_command];
      if (c.taken_s > scenario.duration_s) break;
      engine.advance_to(c.taken_s);
      engine.submit(c.command);
    }
  };
  if (options.save_state_at_s) {
    feed_until(*options.save_state_at_s);
    engine.advance_to(*options.save_state_at_s);
    engine.save_state(options.out / "state");
    progress << "state at " << scenarios::clock_of(scenario, engine.time_s()) << " saved in "
             << (options.out / "state").string() << "\n";
  }
  feed_until(scenario.duration_s);
  engine.run();

  if (options.resume && options.resume_kind == "forecast")
    write_file(options.out / "forecast.json", forecast_document(scenario, engine, from_s).dump(-1, ' ', false,
                                                                                               nlohmann::json::error_handler_t::replace) + "\n");
  if (options.brief) {
    ReportInputs report{&scenario, &engine, options.out, {}, std::nullopt, recording};
    write_impacts_json(report);
    write_summary(scenario, engine, key_figures(engine), options.out / "summary.json");
    const double simulated_s = scenario.duration_s - from_s;
    out << fmt::format("   {:.0f} min simulated in {:.1f} s: {:.0f}x faster than real time\n", simulated_s / 60.0,
                       engine.timings().total_s, simulated_s / std::max(engine.timings().total_s, 1e-9));
    return 0;
  }
  twin::write_geotiff(engine.flood().max_depth_raster(), options.out / "max_depth.tif");
  twin::write_geotiff(engine.flood().arrival_time_raster(), options.out / "arrival_time.tif");
  ReportInputs report{&scenario, &engine, options.out, {}, std::nullopt, recording};
  if (options.resume) report.forecast = ForecastOrigin{options.resume_kind, options.resume_where, from_s};
  write_impacts_json(report);
  const KeyFigures k = key_figures(engine);
  write_summary(scenario, engine, k, options.out / "summary.json");

  if (options.snapshots) {
    const auto png = options.out / "snapshot.png";
    const int status = render_snapshot(territory_dir, png, {"--water-depth", (options.out / "max_depth.tif").string()});
    if (status == 0)
      report.snapshots.push_back("snapshot.png");
    else
      progress << "cadereau: no 3D snapshot (" << (viewer_path().empty() ? "viewer not built" : fmt::format("viewer exit {}", status))
               << "); the rest of the report is complete\n";
  }
  write_report(report);

  const auto& t = engine.timings();
  const double simulated_s = scenario.duration_s - from_s;
  if (options.resume)
    out << fmt::format("   {} from {} to {}: {} records predicted\n", options.resume_kind, scenarios::clock_of(scenario, from_s),
                       scenarios::clock_of(scenario, scenario.duration_s),
                       std::count_if(engine.log().all().begin(), engine.log().all().end(),
                                     [&](const auto& i) { return i.t_s > from_s; }));
  if (engine.teleports_put_back() > 0)
    out << fmt::format("   {} vehicle{} mid-teleport in the saved state, put back where the teleport had reached\n",
                       engine.teleports_put_back(), engine.teleports_put_back() > 1 ? "s" : "");
  out << fmt::format("   {:.0f} min simulated in {:.1f} s: {:.0f}x faster than real time\n", simulated_s / 60.0,
                     t.total_s, simulated_s / std::max(t.total_s, 1e-9));
  out << fmt::format("   time: flood {:.1f} s and traffic {:.1f} s side by side ({:.1f} s together), emergency access "
                     "{:.1f} s, coupling {:.1f} s, impacts {:.2f} s, recording {:.1f} s\n",
                     t.flood_s, t.traffic_s, t.step_wall_s, t.access_s, t.coupling_s, t.impacts_s, t.recording_s);
  out << fmt::format("   {:.2f} km2 under more than 10 cm of water, max depth {:.2f} m\n", k.flooded_km2, k.max_depth_m);
  out << fmt::format("   {} road sections ({:.1f} km) closed by water; {} vehicles caught, {:.0f} people at risk\n",
                     k.roads_closed, k.roads_closed_km, k.vehicles_caught, k.people_at_risk);
  out << fmt::format("   {} assets out of service; peak {:.0f} people without power, {:.0f} with emergency access "
                     "cut or degraded, {:.0f} in flooded homes\n",
                     k.assets_failed, k.people_without_power, k.people_cut_off, k.people_flooded_homes);
  // The first consequences, each with its chain.
  int shown = 0;
  for (const auto& i : engine.log().all()) {
    if (i.kind != sim::impact::kind::asset_failed && i.kind != sim::impact::kind::zone_unreachable &&
        i.kind != sim::impact::kind::asset_cut_off && i.kind != sim::impact::kind::zone_without_power)
      continue;
    if (++shown > 8) break;
    std::string chain;
    for (const auto* c : engine.log().chain(i.id))
      chain += fmt::format(" <- {} {} {}", scenarios::clock_of(scenario, c->t_s), c->kind, c->target);
    out << fmt::format("   {} {} {} ({}){}\n", scenarios::clock_of(scenario, i.t_s), i.kind, i.target, i.detail, chain);
  }
  out << "   report: " << (options.out / "report.html").string() << "\n";
  out << "   recording: " << (options.out / "recording.h5").string() << " (cadereau replay ... --verify)\n";
  return 0;
}

std::vector<sim::engine::RecordedCommand> read_command_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) fail_as(ErrorCategory::not_found, file.string(), "cannot read the commands file");
  std::vector<sim::engine::RecordedCommand> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", file.string(), n);
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("at_s") || !j["at_s"].is_number() || !j.contains("command"))
      fail(where, "expected {{\"at_s\": seconds, \"command\": {{...}}}}");
    const double at_s = j["at_s"].get<double>();
    if (!std::isfinite(at_s) || at_s < 0.0) fail(where, "at_s {} is not a time since the start", at_s);
    out.push_back({at_s, sim::engine::command_from_json(j["command"].dump(), where)});
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.taken_s < b.taken_s; });
  return out;
}

int run_command(Args& args, std::ostream& out, std::ostream& err) {
  if (args.positional().size() < 2) throw UsageError{"run needs one scenario file: cadereau run SCENARIO.yaml --out DIR"};
  RunOptions options;
  const auto dir = args.take("out");
  if (!dir) throw UsageError{"run needs --out DIR"};
  options.out = *dir;
  if (auto t = args.take("territory")) options.territory = *t;
  options.threads = static_cast<int>(args.take_integer("threads", 0, 0, 256));
  options.snapshots = !args.take_flag("no-snapshots");
  const auto save_state_at = args.take("save-state-at");
  const auto until = args.take("until");
  if (const auto commands = args.take("commands")) options.commands = read_command_lines(*commands);
  args.finish(2);
  scenarios::Scenario scenario = scenarios::read_scenario(args.positional()[1]);
  if (until) {
    // A shorter run of the same scenario (a counterfactual to a session's time).
    const auto until_s = scenarios::time_since_start_s(*until, scenario.start_clock_s);
    if (!until_s || !(*until_s > 0.0) || *until_s > scenario.duration_s)
      throw UsageError{fmt::format("--until {}: expected HH:MM[:SS] or seconds after the start and at most the scenario's "
                                   "end ({} s)",
                                   *until, scenario.duration_s)};
    scenario.duration_s = *until_s;
    std::erase_if(scenario.events, [&](const auto& e) { return e.t_s > scenario.duration_s; });
  }
  if (save_state_at) {
    options.save_state_at_s = scenarios::time_since_start_s(*save_state_at, scenario.start_clock_s);
    if (!options.save_state_at_s)
      throw UsageError{"--save-state-at " + *save_state_at + ": expected HH:MM[:SS] on the scenario's day or seconds"};
  }
  std::filesystem::path territory_dir;
  if (options.territory) {
    territory_dir = *options.territory;
  } else if (scenario.territory == "demo") {
    territory_dir = options.out / "territory";
    out << "== Building the demo territory (Nîmes, Lambert-93) in " << territory_dir.string() << " ==\n";
    data::write_demo_territory(territory_dir, {});
  } else {
    territory_dir = scenario.territory_folder();
  }
  return run_scenario(scenario, territory_dir, options, out, err);
}

int demo_command(Args& args, std::ostream& out, std::ostream& err) {
  if (args.take_flag("serve")) return demo_serve_command(args, out, err);
  RunOptions options;
  options.out = args.take("out").value_or("cadereau-demo");
  options.threads = static_cast<int>(args.take_integer("threads", 0, 0, 256));
  options.snapshots = !args.take_flag("no-snapshots");
  args.finish();
  const auto territory_dir = options.out / "territory";
  out << "== Building the demo territory (Nîmes, Lambert-93) ==\n";
  const auto summary = data::write_demo_territory(territory_dir, {});
  out << fmt::format("   {} road edges, {} traffic lights, {} trips, {} buildings, {} assets in {}\n", summary.network_edges,
                     summary.traffic_lights, summary.trips, summary.buildings, summary.assets, territory_dir.string());
  const scenarios::Scenario scenario =
      scenarios::parse_scenario(scenarios::flagship_scenario_text(), "scenarios/flash-flood-1988.yaml");
  const int status = run_scenario(scenario, territory_dir, options, out, err);
  if (status == 0 && !viewer_path().empty())
    out << "Open it in 3D with: " << viewer_path().string() << " --territory " << territory_dir.string()
        << " --water-depth " << (options.out / "max_depth.tif").string() << "\n";
  return status;
}

int forecast_command(Args& args, std::ostream& out, std::ostream& err) {
  if (args.positional().size() < 2)
    throw UsageError{"forecast needs the scenario: cadereau forecast SCENARIO.yaml --state DIR --hours H --out OUT"};
  RunOptions options;
  const auto dir = args.take("out");
  const auto state = args.take("state");
  const auto hours = args.take_number("hours", 1.0 / 60.0, 48.0);
  if (!dir || !state || !hours) throw UsageError{"forecast needs --state DIR, --hours H and --out OUT"};
  options.out = *dir;
  options.threads = static_cast<int>(args.take_integer("threads", 0, 0, 256));
  options.snapshots = !args.take_flag("no-snapshots");
  options.brief = args.take_flag("brief");
  auto territory_option = args.take("territory");
  args.finish(2);
  scenarios::Scenario scenario = scenarios::read_scenario(args.positional()[1]);

  options.resume = sim::engine::read_engine_state(*state);
  options.resume_where = *state;
  const double from_s = options.resume->time_s();
  nlohmann::json saved;
  try {
    saved = nlohmann::json::parse(options.resume->engine_json);
  } catch (const nlohmann::json::exception& e) {
    fail((std::filesystem::path(*state) / "engine.json").string(), "not an engine state: {}", e.what());
  }
  // The forecast runs `hours` past the saved time; events beyond are not in it.
  scenario.duration_s = from_s + *hours * 3600.0;
  std::erase_if(scenario.events, [&](const auto& e) { return e.t_s > scenario.duration_s; });
  const std::filesystem::path territory_dir =
      territory_option ? std::filesystem::path(*territory_option)
                       : scenario.territory == "demo" ? std::filesystem::path(saved.value("territory", std::string()))
                                                      : scenario.territory_folder();
  out << fmt::format("== Forecast: {} h from {} ==\n", *hours, scenarios::clock_of(scenario, from_s));
  return run_scenario(scenario, territory_dir, options, out, err);
}

}  // namespace cadereau::server
