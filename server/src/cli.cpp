#include "cadereau/server/cli.h"

#include "command_args.h"
#include "programs.h"
#include "record_target.h"
#include "run_command.h"

#include "feeds/feed_play.h"
#include "greenwave_command.h"
#include "replay_command.h"
#include "serve_command.h"
#include "user_command.h"
#include "worker/engine_worker.h"

#include "cadereau/data/demo_territory.h"
#include "cadereau/scenarios/scenario.h"
#include "cadereau/sim/flood/flood_run.h"
#include "cadereau/twin/error.h"
#include "cadereau/twin/raster.h"
#include "cadereau/twin/territory.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <algorithm>
#include <functional>
#include <iostream>
#include <new>
#include <unistd.h>
#include <map>
#include <optional>
#include <ostream>


namespace cadereau::server {

namespace {

// One entry per command: its name and its usage lines, shown by
// `cadereau help`, `cadereau help COMMAND` and `cadereau COMMAND --help`.
struct CommandHelp {
  const char* name;
  const char* text;
};

constexpr CommandHelp kCommands[] = {
    {"demo", R"(  demo [--out DIR] [--threads N] [--no-snapshots]
                                        build the demo territory of Nîmes and run the flagship
                                        scenario on it: a 1988-type flash flood during the
                                        morning traffic peak (DIR/report.html)
  demo --serve [--data DIR] [--listen ADDR:PORT]
                                        the crisis server ready for a first exercise: a
                                        self-signed certificate, demo users for every role
                                        (passwords printed), the flagship exercise created;
                                        open https://127.0.0.1:8443/ (DIR: cadereau-server)
)"},
    {"run", R"(  run SCENARIO.yaml --out DIR [--territory DIR] [--threads N] [--no-snapshots]
        [--save-state-at TIME] [--until TIME] [--commands FILE]
                                        run a scenario headless: flood, traffic and their
                                        consequences; writes recording.h5 (with keyframes every
                                        10 min for replay --seek and --fork), impacts.json,
                                        max_depth.tif, summary.json and report.html (and
                                        DIR/state, the state at TIME, for forecasts); --until
                                        stops early; TIME is HH:MM[:SS] on the scenario's day
                                        or seconds; --commands feeds commands taken during a
                                        session (JSON lines {"at_s": S, "command": {...}}) at
                                        their times
)"},
    {"forecast", R"(  forecast SCENARIO.yaml --state DIR --hours H --out OUT [--territory DIR] [--threads N]
        [--no-snapshots] [--brief]
                                        the forecast worker: run on H hours from a saved
                                        state and write the predicted impacts (impacts.json,
                                        forecast.json); --brief writes only those and
                                        summary.json (no recording, rasters or report)
)"},
    {"territory", R"(  territory demo --out DIR [--cell-size M] [--seed N] [--vehicles N]
                                        write the demo territory folder
  territory info DIR                    describe any territory folder
)"},
    {"flood", R"(  flood --dem FILE --until DURATION --out DIR
        [--manning N | --manning-raster FILE] [--inflow X,Y,FILE]... [--rain FILE]
        [--rain-zones RASTER --rain-zone K,FILE...] [--rain-factor RASTER]
        [--initial-wse METRES] [--initial-depth FILE] [--probe NAME,X,Y]...
        [--probe-every SECONDS] [--threads N] [--open-boundaries] [--scheme fv|fv2|inertial]
        [--record FILE.h5 [--overwrite] [--frame-every SECONDS] [--keyframe-every SECONDS]]
                                        run the 2D flood model alone on any GDAL raster;
                                        DURATION in seconds or as 2h, 90min, 1h30;
                                        rain CSVs are time_s,intensity_mm_h: --rain falls
                                        everywhere, --rain-zone K,FILE where the zone raster
                                        holds K (any grid, warped nearest onto the DEM),
                                        --rain-factor scales all rain per cell (radar pattern);
                                        --record refuses an existing file without --overwrite
)"},
    {"greenwave", nullptr},  // kGreenwaveUsage
    {"replay", nullptr},     // kReplayUsage
    {"serve", R"(  serve --data DIR [--listen ADDR:PORT] (--tls-cert FILE --tls-key FILE | --plain-http)
        [--mqtt HOST:PORT]
                                        the crisis server: sessions (exercise, live, replay),
                                        game clock, roles, audit, a live stream over
                                        WebSocket; one engine process per session; DIR holds
                                        users, sessions and the audit log (default listen
                                        127.0.0.1:8443); --mqtt subscribes to the ChirpStack
                                        uplinks of a broker for the live sessions' sensors
)"},
    {"feed", R"(  feed play SCENARIO.yaml --mqtt HOST:PORT [--speed X] [--from TIME] [--until TIME]
        [--every S] [--recording FILE.h5] [--territory DIR] [--sensors ID,...] [--noise SIGMA]
        [--gaps P] [--duplicates P] [--seed N] [--application ID] [--connect-timeout S]
                                        a feed simulator: publish the scenario's sensor readings
                                        as ChirpStack v4 uplinks (QoS 1) on the territory's
                                        devices, one per sensor every S s of scenario time
                                        (300), its clock mapped onto now at X times real time
                                        (0.1 to 3600, 1); rain gauges the scenario's rain,
                                        gauges carrying an inflow its stage on their rating
                                        curve, other level gauges their depth in a recording of
                                        the scenario (`cadereau run`); no traffic counts;
                                        --noise adds SIGMA m to levels and SIGMA x 100 % to
                                        rain, --gaps drops and --duplicates repeats a share P
                                        of uplinks, all drawn from --seed
)"},
    {"user", R"(  user add NAME --role ROLE [--cell CELL] --data DIR
                                        add a server user; the password is one line on
                                        standard input (12 characters or more); ROLE is admin,
                                        director, operator, player (needs --cell: police,
                                        traffic, crisis, flood, reports) or observer
  user list --data DIR                  list the server's users
)"},
    {"help", R"(  help [COMMAND]                        this text, or one command's
)"},
};

std::string command_usage(const CommandHelp& c) {
  if (std::string(c.name) == "greenwave") return kGreenwaveUsage;
  if (std::string(c.name) == "replay") return kReplayUsage;
  return c.text;
}

const CommandHelp* find_command(const std::string& name) {
  for (const auto& c : kCommands)
    if (name == c.name) return &c;
  return nullptr;
}

std::string usage() {
  std::string text = "usage: cadereau COMMAND [OPTIONS]   (cadereau COMMAND --help for one)\n\nCommands:\n";
  for (const auto& c : kCommands) text += command_usage(c);
  return text;
}

std::string usage_of(const std::string& command) {
  const CommandHelp* c = find_command(command);
  return c ? "usage:\n" + command_usage(*c) : usage();
}

// "cannot create directories" out of "filesystem error: cannot create directories: Not a directory [p]".
std::string filesystem_operation(const std::filesystem::filesystem_error& e) {
  std::string what = e.what();
  const std::string prefix = "filesystem error: ";
  if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
  if (const auto colon = what.find(':'); colon != std::string::npos) what.resize(colon);
  return what;
}

bool asks_for_help(const std::vector<std::string>& args) {
  return std::any_of(args.begin() + 1, args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; });
}

void ensure_sumo_home() {
  // SUMO's tools fetch XML schemas from the web unless SUMO_HOME points at the local copy.
  if (!std::getenv("SUMO_HOME") && std::filesystem::exists("/usr/share/sumo")) setenv("SUMO_HOME", "/usr/share/sumo", 0);
}

int territory_demo(Args& args, std::ostream& out) {
  auto dir = args.take("out");
  if (!dir) throw UsageError{"territory demo needs --out DIR"};
  data::DemoOptions options;
  options.cell_size_m = args.take_number("cell-size", options.cell_size_m, 2.0, 100.0);
  options.seed = static_cast<std::uint64_t>(
      args.take_integer("seed", static_cast<long long>(options.seed), 0, 1'000'000'000'000'000LL));
  options.peak_vehicles = static_cast<int>(args.take_integer("vehicles", options.peak_vehicles, 0, 200000));
  args.finish();
  const auto start = std::chrono::steady_clock::now();
  const auto summary = data::write_demo_territory(*dir, options);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out << fmt::format(
      "Demo territory written to {} in {:.1f} s: DEM {} x {}, {} road edges, {} traffic lights, {} trips, "
      "{} buildings, {} assets, {} sensors, {} population zones\n",
      summary.folder.string(), wall_s, summary.dem_cols, summary.dem_rows, summary.network_edges,
      summary.traffic_lights, summary.trips, summary.buildings, summary.assets, summary.sensors, summary.zones);
  return 0;
}

int territory_info(Args& args, std::ostream& out) {
  if (args.positional().size() < 2) throw UsageError{"territory info needs one folder"};
  args.finish(2);
  const auto territory = twin::Territory::load(args.positional()[1]);
  out << twin::describe(territory);
  return 0;
}

// "A,B,C" as exactly n fields.
std::vector<std::string> fields(const std::string& text, std::size_t n, const std::string& option) {
  auto out = split_commas(text);
  if (out.size() != n) throw UsageError{fmt::format("--{} {}: expected {} comma-separated fields", option, text, n)};
  return out;
}

double number(const std::string& text, const std::string& option) {
  return parse_number(option, text);
}

int flood(Args& args, std::ostream& out) {
  sim::flood::FloodRunOptions o;
  auto dem = args.take("dem");
  auto until = args.take("until");
  auto dir = args.take("out");
  if (!dem || !until || !dir) throw UsageError{"flood needs --dem FILE --until SECONDS --out DIR"};
  o.dem = *dem;
  const auto until_s = scenarios::parse_duration_s(*until);
  if (!until_s || !(*until_s > 0.0) || !(*until_s <= sim::flood::kMaxRunDuration_s))
    throw UsageError{"--until " + *until +
                     ": expected positive seconds or a duration such as 2h, 90min, 1h30, up to 7 days (as a scenario)"};
  o.until_s = *until_s;
  o.out = *dir;
  o.manning_n = args.take_number("manning", 0.03, 0.0, 1.0);
  if (auto m = args.take("manning-raster")) o.manning_raster = *m;
  for (const auto& spec : args.take_all("inflow")) {
    const auto f = fields(spec, 3, "inflow");
    o.inflows.push_back({{number(f[0], "inflow"), number(f[1], "inflow")}, f[2]});
  }
  if (auto r = args.take("rain")) o.rain_csv = *r;
  if (auto z = args.take("rain-zones")) o.rain_zones = *z;
  for (const auto& spec : args.take_all("rain-zone")) {
    const auto f = fields(spec, 2, "rain-zone");
    const long long k = parse_integer("rain-zone", f[0], 0, 65534);
    o.rain_zone_csvs.push_back({static_cast<int>(k), f[1]});
  }
  if (!o.rain_zone_csvs.empty() && !o.rain_zones) throw UsageError{"--rain-zone needs --rain-zones RASTER"};
  if (o.rain_zones && o.rain_zone_csvs.empty()) throw UsageError{"--rain-zones needs a --rain-zone K,FILE per zone"};
  if (auto f = args.take("rain-factor")) o.rain_factor = *f;
  if (auto w = args.take("initial-wse")) o.initial_wse_m = number(*w, "initial-wse");
  if (auto d = args.take("initial-depth")) o.initial_depth = *d;
  for (const auto& spec : args.take_all("probe")) {
    const auto f = fields(spec, 3, "probe");
    o.probes.push_back({f[0], {number(f[1], "probe"), number(f[2], "probe")}});
  }
  o.probe_every_s = args.take_number("probe-every", 60.0, 1e-3, 1e9);
  o.threads = static_cast<int>(args.take_integer("threads", 0, 0, 256));
  o.open_boundaries = args.take_flag("open-boundaries");
  if (auto scheme = args.take("scheme")) {
    if (*scheme == "fv" || *scheme == "finite-volume")
      o.scheme = sim::flood::Scheme::finite_volume;
    else if (*scheme == "fv2" || *scheme == "finite-volume-2")
      o.scheme = sim::flood::Scheme::finite_volume_2;
    else if (*scheme == "inertial" || *scheme == "local-inertial")
      o.scheme = sim::flood::Scheme::local_inertial;
    else
      throw UsageError{"--scheme " + *scheme + ": expected fv, fv2 or inertial"};
  }
  if (auto record = args.take("record")) o.record = *record;
  const bool overwrite = args.take_flag("overwrite");
  o.frame_every_s = args.take_number("frame-every", 60.0, 1e-3, 1e9);
  o.keyframe_every_s = args.take_number("keyframe-every", 600.0, 1e-3, 1e9);
  if (!o.record && o.frame_every_s != 60.0) throw UsageError{"--frame-every needs --record FILE.h5"};
  if (!o.record && overwrite) throw UsageError{"--overwrite applies to --record FILE.h5, which is not given"};
  args.finish();
  if (o.record) check_record_target(*o.record, overwrite);
  const bool tty = isatty(STDERR_FILENO);
  const auto summary = sim::flood::run_flood(o, [tty](double t, double until) {
    if (tty) std::cerr << fmt::format("\rflood: {:6.1f}% ({:.0f} / {:.0f} s)", 100.0 * t / until, t, until) << std::flush;
  });
  if (tty) std::cerr << "\n";
  out << fmt::format(
      "flood: {} cells, {} wet, {} steps, {:.0f} s simulated in {:.2f} s ({:.3g} cell updates/s), max depth {:.3f} m, "
      "mass error {:.2e}\n",
      summary.cells, summary.wet_cells, summary.steps, summary.sim_s, summary.wall_s, summary.cell_updates_per_s,
      summary.max_depth_m, summary.mass.error_rel());
  out << "flood: outputs in " << o.out.string() << "\n";
  if (o.record) out << "flood: recorded to " << o.record->string() << "\n";
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  ensure_sumo_home();
  try {
    if (args.empty()) {
      err << usage();
      return 2;
    }
    if (args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
      if (args.size() == 2 && (args[1] == "--help" || args[1] == "-h")) {
        out << usage_of("help");
        return 0;
      }
      if (args.size() == 2 && find_command(args[1])) {
        out << usage_of(args[1]);
        return 0;
      }
      if (args.size() > 1) throw UsageError{"help: unknown command '" + args[1] + "'"};
      out << usage();
      return 0;
    }
    if (find_command(args[0]) && asks_for_help(args)) {
      out << usage_of(args[0]);
      return 0;
    }
    if (args[0] == "demo") {
      Args a(args, 1, {"no-snapshots", "serve"});
      return demo_command(a, out, err);
    }
    if (args[0] == "run") {
      Args a(args, 0, {"no-snapshots"});
      return run_command(a, out, err);
    }
    if (args[0] == "forecast") {
      Args a(args, 0, {"no-snapshots", "brief"});
      return forecast_command(a, out, err);
    }
    if (args[0] == "flood") {
      Args a(args, 1, {"open-boundaries", "overwrite"});
      return flood(a, out);
    }
    if (args[0] == "greenwave") return greenwave_command({args.begin() + 1, args.end()}, out, err);
    if (args[0] == "replay") return replay_command({args.begin() + 1, args.end()}, out, err);
    if (args[0] == "serve") {
      Args a(args, 1, {"plain-http"});
      return serve_command(a, out, err);
    }
    if (args[0] == "worker") {  // started by serve, not listed
      Args a(args, 1);
      return worker::worker_command(a, out, err);
    }
    if (args[0] == "feed") {
      if (args.size() < 2 || args[1] != "play") throw UsageError{"feed needs a subcommand: play"};
      Args a(args, 2);
      return feeds::feed_play_command(a, out, err);
    }
    if (args[0] == "user") return user_command({args.begin() + 1, args.end()}, std::cin, out, err);
    if (args[0] == "territory") {
      if (args.size() < 2) throw UsageError{"territory needs a subcommand: demo or info"};
      Args a(args, 2);
      if (args[1] == "demo") return territory_demo(a, out);
      if (args[1] == "info") {
        Args info(args, 1);
        return territory_info(info, out);
      }
      throw UsageError{"unknown territory subcommand '" + args[1] + "' (demo or info)"};
    }
    throw UsageError{"unknown command '" + args[0] + "'"};
  } catch (const UsageError& e) {
    err << "cadereau: " << e.message << "\n" << (args.empty() ? usage() : usage_of(args[0]));
    return 2;
  } catch (const Error& e) {
    err << "cadereau: " << e.what() << "\n";
    return exit_code(e.category());
  } catch (const std::filesystem::filesystem_error& e) {
    // The path and the system's reason, not the library's phrasing.
    std::string paths = e.path1().string();
    if (!e.path2().empty()) paths += ", " + e.path2().string();
    err << "cadereau: " << (paths.empty() ? std::string("a file") : paths) << ": " << e.code().message() << " ("
        << filesystem_operation(e) << ")\n";
    return 1;
  } catch (const std::bad_alloc&) {
    err << "cadereau: out of memory" << (args.empty() ? "" : " in '" + args[0] + "'")
        << ": an input is larger than this machine can hold (a raster is limited to "
        << twin::kMaxRasterCells / 1'000'000 << " million cells)\n";
    return exit_code(ErrorCategory::internal);
  } catch (const std::exception& e) {
    err << "cadereau: unexpected error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cadereau::server
