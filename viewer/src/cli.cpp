#include "cadereau/viewer/cli.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/territory.h"
#include "cadereau/viewer/snapshot.h"
#include "cadereau/viewer/window.h"

#include <charconv>
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

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::optional<std::filesystem::path> territory_dir;
  std::optional<std::filesystem::path> snapshot;
  std::optional<int> width_px, height_px;
  std::optional<std::filesystem::path> water_depth_file;
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
    if (water_depth_file) {
      twin::Raster depth = twin::read_raster(*water_depth_file);
      if (!depth.grid().same_as(territory.grid())) {
        if (depth.crs().empty()) fail(water_depth_file->string(), "is not on the DEM grid and has no CRS to warp it with");
        depth = twin::warp_to_grid(depth, territory.grid(), territory.crs, twin::Resampling::bilinear);
      }
      scene.water_depth = std::move(depth);
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
