#include "cadereau/viewer/cli.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/territory.h"
#include "cadereau/viewer/recorded_state.h"
#include "cadereau/viewer/snapshot.h"
#include "cadereau/viewer/window.h"
#include "session_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string_view>

namespace cadereau::viewer {
namespace {

constexpr std::string_view kUsage =
    "usage: cadereau-viewer --territory DIR [options]\n"
    "\n"
    "Shows a territory in 3D: terrain, buildings, roads and critical assets.\n"
    "\n"
    "  --territory DIR             territory folder (with territory.yaml)\n"
    "  --snapshot FILE.png         render headless to a PNG and exit (needs an X\n"
    "                              display: run under xvfb-run -a)\n"
    "  --width PX, --height PX     snapshot or window size (default 1600x1000, 1280x800)\n"
    "  --vertical-exaggeration X   height scale (default 3)\n"
    "  --pitch DEG                 snapshot camera angle below the horizon (default 40)\n"
    "  --colour auto|elevation|landcover   terrain colours (default auto)\n"
    "  --water-depth FILE.tif      paint water depths (m) over the terrain, e.g. a flood\n"
    "                              model's max_depth.tif\n"
    "  --recording FILE.h5         show a recorded run or session (cadereau run, demo or\n"
    "                              serve) as it stood at --at: its water, the roads closed\n"
    "                              in red, the assets out of service in their colours\n"
    "  --at SECONDS                the time on the recording's clock (default: its end)\n"
    "  --server https://HOST:PORT  follow a session of a Cadereau server (cadereau serve)\n"
    "  --session ID                  through its API: the window changes as the session\n"
    "  --token-file FILE             goes on; with --snapshot, a picture of it now. The\n"
    "  [--ca-file CERT.pem]          token is POST /api/v1/login's; --ca-file trusts a\n"
    "                                self-signed server's certificate\n"
    "  --no-labels                 no asset names\n"
    "  --max-vertices N            terrain mesh vertex budget (default 60000)\n"
    "  --max-error METRES          terrain mesh vertical error bound (default 0.5)\n"
    "  -h, --help                  this text\n";

struct BadArgument {
  std::string message;
};

template <typename T>
T parse_number(std::string_view option, std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw BadArgument{std::string(option) + ": '" + std::string(text) + "' is not a number"};
  }
  return value;
}

// "1:05:30" from seconds.
std::string clock_text(double s) {
  const long t = std::lround(s);
  return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
}

// "at 08:12 (1:12:00 into the run) · 212 roads closed · 9 assets out of service"
std::string state_caption(const RecordedState& state, std::size_t roads, std::size_t assets) {
  std::string when = clock_text(state.at_s) + " into the run";
  const auto t = state.start_time_iso.find('T');
  int h = 0, m = 0;
  if (t != std::string::npos && std::sscanf(state.start_time_iso.c_str() + t + 1, "%d:%d", &h, &m) == 2) {
    const long of_day = (h * 3600L + m * 60L + std::lround(state.at_s)) % 86400L;
    when = fmt::format("{:02}:{:02} ({})", of_day / 3600, (of_day / 60) % 60, when);
  }
  return fmt::format("at {} \u00b7 {} road{} closed \u00b7 {} asset{} out of service", when, roads, roads == 1 ? "" : "s",
                     assets, assets == 1 ? "" : "s");
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::optional<std::filesystem::path> territory_dir;
  std::optional<std::filesystem::path> snapshot;
  std::optional<int> width_px, height_px;
  std::optional<std::filesystem::path> water_depth_file;
  std::optional<std::filesystem::path> recording;
  std::optional<double> at_s;
  std::optional<std::string> server_url, session_id;
  std::optional<std::filesystem::path> token_file, ca_file;
  SnapshotOptions snapshot_options;
  SceneOptions& scene = snapshot_options.scene;
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      auto value = [&]() -> const std::string& {
        if (i + 1 >= args.size()) throw BadArgument{arg + " needs a value"};
        return args[++i];
      };
      if (arg == "-h" || arg == "--help") {
        out << kUsage;
        return 0;
      } else if (arg == "--territory") {
        territory_dir = value();
      } else if (arg == "--snapshot") {
        snapshot = value();
      } else if (arg == "--width") {
        width_px = parse_number<int>(arg, value());
      } else if (arg == "--height") {
        height_px = parse_number<int>(arg, value());
      } else if (arg == "--vertical-exaggeration") {
        scene.vertical_exaggeration = parse_number<double>(arg, value());
        if (!(scene.vertical_exaggeration > 0.0)) throw BadArgument{arg + " must be positive"};
      } else if (arg == "--pitch") {
        snapshot_options.pitch_deg = parse_number<double>(arg, value());
        if (!(snapshot_options.pitch_deg >= 5.0 && snapshot_options.pitch_deg <= 89.0)) {
          throw BadArgument{arg + " must be between 5 and 89 degrees"};
        }
      } else if (arg == "--colour" || arg == "--color") {
        const std::string& v = value();
        if (v == "auto") {
          scene.colouring = TerrainColouring::automatic;
        } else if (v == "elevation") {
          scene.colouring = TerrainColouring::elevation;
        } else if (v == "landcover" || v == "land-cover") {
          scene.colouring = TerrainColouring::land_cover;
        } else {
          throw BadArgument{arg + ": '" + v + "' is not one of auto, elevation, landcover"};
        }
      } else if (arg == "--water-depth") {
        water_depth_file = value();
      } else if (arg == "--recording") {
        recording = value();
      } else if (arg == "--at") {
        at_s = parse_number<double>(arg, value());
        if (!(*at_s >= 0.0 && std::isfinite(*at_s))) throw BadArgument{arg + " must be a number of seconds >= 0"};
      } else if (arg == "--server") {
        server_url = value();
      } else if (arg == "--session") {
        session_id = value();
      } else if (arg == "--token-file") {
        token_file = value();
      } else if (arg == "--ca-file") {
        ca_file = value();
      } else if (arg == "--no-labels") {
        scene.show_labels = false;
      } else if (arg == "--max-vertices") {
        scene.terrain_mesh.max_vertices = parse_number<std::size_t>(arg, value());
        if (scene.terrain_mesh.max_vertices < 4) throw BadArgument{arg + " must be at least 4"};
      } else if (arg == "--max-error") {
        scene.terrain_mesh.max_vertical_error_m = parse_number<double>(arg, value());
        if (!(scene.terrain_mesh.max_vertical_error_m >= 0.0)) throw BadArgument{arg + " must be >= 0"};
      } else {
        throw BadArgument{"unknown argument '" + arg + "'"};
      }
    }
    if (!territory_dir) throw BadArgument{"--territory DIR is required"};
    if (at_s && !recording) throw BadArgument{"--at needs --recording"};
    if (recording && water_depth_file) throw BadArgument{"--water-depth and --recording both give the water: choose one"};
    if ((server_url || session_id || token_file || ca_file) && !(server_url && session_id && token_file))
      throw BadArgument{"following a session needs --server, --session and --token-file"};
    if (server_url && (recording || water_depth_file))
      throw BadArgument{"--server shows a session as it stands: no --recording nor --water-depth with it"};
    if ((width_px && *width_px <= 0) || (height_px && *height_px <= 0)) throw BadArgument{"--width and --height must be positive"};
  } catch (const BadArgument& bad) {
    err << "cadereau-viewer: " << bad.message << "\n\n" << kUsage;
    return 2;
  }

  try {
    if (!std::filesystem::is_directory(*territory_dir)) {
      fail(territory_dir->string(), "no such territory folder");
    }
    const twin::Territory territory = twin::Territory::load(*territory_dir);
    auto on_dem_grid = [&](twin::Raster depth, const std::filesystem::path& where) {
      if (!depth.grid().same_as(territory.grid())) {
        if (depth.crs().empty()) fail(where.string(), "is not on the DEM grid and has no CRS to warp it with");
        depth = twin::warp_to_grid(depth, territory.grid(), territory.crs, twin::Resampling::bilinear);
      }
      return depth;
    };
    if (water_depth_file) scene.water_depth = on_dem_grid(twin::read_raster(*water_depth_file), *water_depth_file);
    // A state (of a recording or a session) as what the scene shows.
    auto show_state = [&](RecordedState state, SceneOptions& into) {
      into.water_depth.reset();
      if (state.depth_m) into.water_depth = on_dem_grid(std::move(*state.depth_m), server_url ? std::filesystem::path(*server_url) : *recording);
      into.closed_roads = std::move(state.closed_roads);
      into.asset_status = std::move(state.assets);
      into.caption = state_caption(state, into.closed_roads.size(), into.asset_status.size());
    };
    if (recording) {
      RecordedState state = read_recorded_state(*recording, at_s);
      const std::size_t records = state.records;
      const std::optional<double> frame_time_s = state.frame_time_s;
      show_state(std::move(state), scene);
      out << scene.caption << " (" << records << " records";
      if (frame_time_s) out << ", water of " << clock_text(*frame_time_s);
      out << ")\n";
    }
    std::optional<detail::SessionClient> client;
    RecordedState now;
    if (server_url) {
      client.emplace(detail::ServerSession{*server_url, *session_id, detail::read_token_file(*token_file), ca_file});
      now = client->state_now();
      show_state(now, scene);
      out << scene.caption << " (" << now.records << " records)\n";
    }
    if (snapshot) {
      if (width_px) snapshot_options.width_px = *width_px;
      if (height_px) snapshot_options.height_px = *height_px;
      const SnapshotReport report = render_snapshot(territory, snapshot_options, *snapshot);
      out << "wrote " << snapshot->string() << " (" << snapshot_options.width_px << "x" << snapshot_options.height_px
          << " px; terrain " << report.terrain_vertices << " vertices, max error " << report.terrain_error_m << " m)\n";
      return 0;
    }
    WindowOptions window;
    window.scene = scene;
    if (width_px) window.width_px = *width_px;
    if (height_px) window.height_px = *height_px;
    if (!client) return run_window(territory, window);
    // The session's stream on a thread of its own; each new state is drawn at the next frame.
    std::mutex mutex;
    std::optional<RecordedState> latest;
    std::string stream_error;
    std::atomic<bool> open{true};
    std::thread follower([&] {
      try {
        client->follow(now, client->last_seq(), [&](const RecordedState& s) {
          std::lock_guard lock(mutex);
          latest = s;
        }, [&] { return open.load(); });
      } catch (const Error& e) {
        std::lock_guard lock(mutex);
        stream_error = e.what();
      }
    });
    window.refresh = [&]() -> std::optional<SceneOptions> {
      std::lock_guard lock(mutex);
      if (!stream_error.empty()) {
        err << "cadereau-viewer: " << stream_error << " (the view stays as it was)\n";
        stream_error.clear();
      }
      if (!latest) return std::nullopt;
      SceneOptions next = scene;
      show_state(std::move(*latest), next);
      latest.reset();
      spdlog::info("viewer: following {}: {}", *session_id, next.caption);
      return next;
    };
    int code = 0;
    try {
      code = run_window(territory, window);
    } catch (...) {
      open = false;
      follower.join();
      throw;
    }
    open = false;
    follower.join();
    return code;
  } catch (const Error& e) {
    err << "cadereau-viewer: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cadereau::viewer
