#include "cadereau/viewer/cli.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/territory.h"
#include "cadereau/viewer/recorded_state.h"
#include "cadereau/viewer/snapshot.h"
#include "cadereau/viewer/window.h"

#include <fmt/format.h>

#include <charconv>
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
    if (recording) {
      RecordedState state = read_recorded_state(*recording, at_s);
      if (state.depth_m) scene.water_depth = on_dem_grid(std::move(*state.depth_m), *recording);
      scene.closed_roads = std::move(state.closed_roads);
      scene.asset_status = std::move(state.assets);
      scene.caption = state_caption(state, scene.closed_roads.size(), scene.asset_status.size());
      out << scene.caption << " (" << state.records << " records";
      if (state.frame_time_s) out << ", water of " << clock_text(*state.frame_time_s);
      out << ")\n";
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
    return run_window(territory, window);
  } catch (const Error& e) {
    err << "cadereau-viewer: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cadereau::viewer
