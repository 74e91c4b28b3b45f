// Bad input, generated (issue 17): a table of mutations applied to each input
// of `cadereau flood` and to a scenario file. Every variant must return within
// a few seconds, exit non-zero, and name the file or the option at fault: a
// hang, a silent acceptance or a message that points nowhere fails here.

#include "bad_run.h"
#include "cadereau/twin/raster.h"
#include "test_support.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <catch2/catch.hpp>

#include <functional>
#include <limits>
#include <tuple>
#include <string>
#include <vector>

using cadereau::testing::TempDir;
using cadereau::testing::write_text;
using namespace cadereau::twin;

namespace {

using cadereau::testing::BadRun;
using cadereau::testing::expect_refused;

const GridSpec kGrid{12, 10, 810000.0, 6302000.0, 10.0, 10.0};

// A tilted plane on Lambert-93: the DEM every flood variant starts from.
Raster plane(const GridSpec& grid, const Crs& crs) {
  Raster dem(grid, crs, 0.0f);
  for (int r = 0; r < grid.rows; ++r)
    for (int c = 0; c < grid.cols; ++c) dem.at(c, r) = static_cast<float>(10.0 - 0.1 * c);
  return dem;
}

// Mutations of a time_s,value CSV: each line is the whole file.
const std::vector<std::pair<std::string, std::string>> kCsvMutations{
    {"nan first row", "nan,50\n600,10\n"},
    {"letter O for zero", "0O,50\n600,10\n"},
    {"infinite time", "inf,50\n600,10\n"},
    {"infinite value", "0,inf\n600,10\n"},
    {"nan value", "0,nan\n600,10\n"},
    {"BOM then nan", "\xEF\xBB\xBF" "nan,5\n600,10\n"},
    {"negative value", "0,-1\n600,10\n"},
    {"value past every bound", "0,1e9\n600,10\n"},
    {"value overflowing a double", "0,1e400\n600,10\n"},
    {"time repeats", "0,1\n0,2\n"},
    {"time goes back", "0,1\n600,2\n300,3\n"},
    {"empty file", ""},
    {"header only", "time_s,value\n"},
    {"semicolons", "0;50\n600;10\n"},
    {"three fields", "0,50,7\n600,10,7\n"},
    {"units in the value", "0,5 mm\n600,10\n"},
    {"hexadecimal time", "0x10,5\n600,10\n"},
    {"text in a later row", "time_s,value\n0,1\nsoon,2\n"},
    {"second header", "time_s,value\n0,1\ntime_s,value\n"},
    {"BOM in a later row", "0,1\n\xEF\xBB\xBF" "600,4\n"},
    {"empty time field", " ,5\n600,10\n"},
};

}  // namespace

TEST_CASE("Generated bad CSV series for flood are refused naming the file", "[integration][robustness]") {
  TempDir tmp;
  const std::string dem = (tmp / "dem.tif").string();
  write_geotiff(plane(kGrid, Crs::lambert93()), dem);
  write_geotiff(Raster(kGrid, Crs::lambert93(), 1.0f), tmp / "zones.tif");
  write_text(tmp / "good.csv", "0,5\n600,0\n");
  const std::vector<std::string> base{"flood", "--dem", dem, "--until", "60", "--out", (tmp / "out").string()};

  // Where a CSV goes on the command line, and the arguments that put it there.
  struct Slot {
    std::string name;
    std::function<std::vector<std::string>(const std::string&)> args;
  };
  const std::vector<Slot> slots{
      {"rain", [](const std::string& f) { return std::vector<std::string>{"--rain", f}; }},
      {"inflow", [](const std::string& f) { return std::vector<std::string>{"--inflow", "810055,6301955," + f}; }},
      {"zone", [&](const std::string& f) {
         return std::vector<std::string>{"--rain-zones", (tmp / "zones.tif").string(), "--rain-zone", "1," + f};
       }},
  };
  std::vector<BadRun> cases;
  int n = 0;
  for (const auto& slot : slots)
    for (const auto& [label, text] : kCsvMutations) {
      const std::string file = (tmp / fmt::format("{}_{}.csv", slot.name, ++n)).string();
      write_text(file, text);
      std::vector<std::string> args = base;
      for (const auto& a : slot.args(file)) args.push_back(a);
      cases.push_back({slot.name + ": " + label, args, std::filesystem::path(file).filename().string()});
    }
  REQUIRE(cases.size() >= 60);
  expect_refused(cases);
}

TEST_CASE("Generated bad flood rasters and options are refused naming the file or option",
          "[integration][robustness]") {
  TempDir tmp;
  const std::string dem = (tmp / "dem.tif").string();
  write_geotiff(plane(kGrid, Crs::lambert93()), dem);
  write_text(tmp / "q.csv", "0,5\n600,0\n");
  const std::string q = (tmp / "q.csv").string();
  const std::string out = (tmp / "out").string();
  const std::vector<std::string> base{"flood", "--dem", dem, "--until", "60", "--out", out};
  std::vector<BadRun> cases;

  // Rasters: each mutation writes its own file given to one option.
  struct RasterCase {
    std::string label;
    std::string option;
    Raster raster;
  };
  std::vector<RasterCase> rasters;
  rasters.push_back({"DEM in degrees (WGS 84)", "--dem",
                     plane(GridSpec{12, 10, 4.35, 43.84, 1e-4, 1e-4}, Crs::wgs84())});
  rasters.push_back({"DEM cells of 1 cm", "--dem", plane(GridSpec{12, 10, 810000.0, 6302000.0, 0.01, 0.01},
                                                         Crs::lambert93())});
  rasters.push_back({"DEM cells of 5 km", "--dem", plane(GridSpec{12, 10, 810000.0, 6302000.0, 5000.0, 5000.0},
                                                         Crs::lambert93())});
  rasters.push_back({"DEM cells in degrees, no CRS", "--dem", plane(GridSpec{12, 10, 4.35, 43.84, 1e-4, 1e-4}, Crs())});
  for (const float v : {150.0f, 1e30f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    Raster depth(kGrid, Crs::lambert93(), 0.0f);
    depth.at(4, 5) = v;
    rasters.push_back({fmt::format("initial depth {}", v), "--initial-depth", depth});
  }
  for (const float v : {250.0f, std::numeric_limits<float>::infinity(), -1.0f}) {
    Raster factor(kGrid, Crs::lambert93(), 1.0f);
    factor.at(4, 5) = v;
    rasters.push_back({fmt::format("rain factor {}", v), "--rain-factor", factor});
  }
  for (const float v : {2.0f, -0.1f, std::numeric_limits<float>::quiet_NaN()}) {
    Raster manning(kGrid, Crs::lambert93(), 0.03f);
    manning.at(4, 5) = v;
    rasters.push_back({fmt::format("Manning {}", v), "--manning-raster", manning});
  }
  int n = 0;
  for (const auto& rc : rasters) {
    const std::string file = (tmp / fmt::format("raster_{}.tif", ++n)).string();
    write_geotiff(rc.raster, file);
    std::vector<std::string> args = base;
    if (rc.option == "--dem")
      args[2] = file;
    else
      args.insert(args.end(), {rc.option, file});
    if (rc.option == "--rain-factor") args.insert(args.end(), {"--rain", q});
    cases.push_back({rc.label, args, std::filesystem::path(file).filename().string()});
  }

  // Options: value mutations, each naming its option.
  const std::vector<std::pair<std::string, std::string>> option_values{
      {"threads", "1.5"},      {"threads", "-1"},     {"threads", "2x"},       {"threads", "1e3"},
      {"manning", "2"},        {"manning", "nan"},    {"manning", "-0.1"},     {"initial-wse", "500"},
      {"initial-wse", "1e200"}, {"initial-wse", "nan"}, {"initial-wse", "inf"}, {"probe-every", "0"},
      {"probe-every", "-5"},   {"scheme", "magic"},   {"probe", "a,b"},        {"probe", "p,1,2"},
      {"inflow", "1,2"},       {"inflow", "x,y," + q}, {"inflow", "1e300,2," + q}, {"rain-zone", "1.5,r.csv"},
      {"rain-zone", "-1,r.csv"}, {"frame-every", "10"}, {"keyframe-every", "0"},
  };
  for (const auto& [option, value] : option_values) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--" + option, value});
    // An inflow outside the DEM is named by its file; every other value by its option.
    const bool outside = option == "inflow" && value.rfind("1e300", 0) == 0;
    cases.push_back({"--" + option + " " + value, args, outside ? std::string("q.csv") : "--" + option});
  }
  for (const std::string until : {"0", "-5", "1e9", "nan", "inf", "soon", "8d", "700000"}) {
    std::vector<std::string> args = base;
    args[4] = until;
    cases.push_back({"--until " + until, args, "--until"});
  }
  // Words that are not options.
  for (const auto& extra : std::vector<std::vector<std::string>>{
           {"--fast"}, {"-threads", "2"}, {"stray"}, {"--fast", "--open-boundaries"}, {"-h2"}}) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    cases.push_back({fmt::format("{}", fmt::join(extra, " ")), args, extra.front()});
  }
  REQUIRE(cases.size() >= 40);
  expect_refused(cases);
}

TEST_CASE("Generated bad scenario files are refused naming the file", "[integration][robustness]") {
  TempDir tmp;
  const std::string good = R"(name: Generated storm
territory: demo
start: 1988-10-03T07:30:00
duration: 1h
seed: 42
flood_cell_m: 20
rain:
  - mm_h: [[07:30, 10], [08:00, 40]]
inflows:
  - name: cadereau d'Alès
    at: [810000, 6302000]
    m3_s: [[07:00, 0], [08:10, 480]]
  - name: cadereau de Valdegour
    at: [811000, 6302500]
    m3_s: [[0, 5]]
events:
  - at: "07:40"
    action: close_road
    target: h9_9
    by: police
)";
  // (label, text to find, its replacement)
  const std::vector<std::tuple<std::string, std::string, std::string>> mutations{
      {"duplicate top-level key", "seed: 42\n", "seed: 42\nseed: 7\n"},
      {"duplicate nested key", "    by: police\n", "    by: police\n    by: traffic\n"},
      {"duplicate inflow key", "    m3_s: [[0, 5]]\n", "    m3_s: [[0, 5]]\n    m3_s: [[0, 9]]\n"},
      {"30 February", "1988-10-03T", "1988-02-30T"},
      {"29 February of a common year", "1988-10-03T", "1989-02-29T"},
      {"month 13", "1988-10-03T", "1988-13-03T"},
      {"day 0", "1988-10-03T", "1988-10-00T"},
      {"hour 25", "T07:30:00", "T25:30:00"},
      {"date with letters", "1988-10-03T", "1988-1O-03T"},
      {"no time", "1988-10-03T07:30:00", "1988-10-03"},
      {"seed past 2^53", "seed: 42", "seed: 9007199254740993"},
      {"seed past 2^64", "seed: 42", "seed: 18446744073709551617"},
      {"fractional seed", "seed: 42", "seed: 4.5"},
      {"seed in exponent form", "seed: 42", "seed: 4e1"},
      {"negative seed", "seed: 42", "seed: -1"},
      {"seed as a list", "seed: 42", "seed: [4, 2]"},
      {"two inflows with one name", "cadereau de Valdegour", "cadereau d'Alès"},
      {"duration past 7 days", "duration: 1h", "duration: 200h"},
      {"zero duration", "duration: 1h", "duration: 0"},
      {"nan duration", "duration: 1h", "duration: nan"},
      {"negative flow", "[08:10, 480]", "[08:10, -480]"},
      {"nan flow", "[08:10, 480]", "[08:10, nan]"},
      {"infinite rain", "[08:00, 40]", "[08:00, .inf]"},
      {"rain of 5000 mm/h", "[08:00, 40]", "[08:00, 5000]"},
      {"inflow of a million m3/s", "[08:10, 480]", "[08:10, 1e6]"},
      {"time going back", "[08:10, 480]", "[06:10, 480]"},
      {"unknown key", "seed: 42", "sed: 42"},
      {"flood cell of 0 m", "flood_cell_m: 20", "flood_cell_m: 0"},
      {"flood cell of 1 mm", "flood_cell_m: 20", "flood_cell_m: 0.001"},
      {"flood cell of 1 km", "flood_cell_m: 20", "flood_cell_m: 1000"},
      {"tab indentation", "    at: [811000, 6302500]", "\tat: [811000, 6302500]"},
      {"unclosed list", "m3_s: [[0, 5]]", "m3_s: [[0, 5]"},
      {"inflow without flow", "    m3_s: [[0, 5]]\n", ""},
      {"Latin-1 in the name", "Generated storm", "Generated st\xF6rm"},
      {"Latin-1 in an inflow name", "cadereau d'Al\xC3\xA8s", "cadereau d'Al\xE8s"},
      {"Windows-1252 quote", "by: police", "by: police\x92s"},
      {"UTF-8 cut short", "by: police", "by: polic\xC3"},
      {"UTF-16 surrogate in UTF-8", "by: police", "by: \xED\xA0\x80police"},
      {"duration of a dot", "duration: 1h", "duration: ."},
      {"duration with two dots", "duration: 1h", "duration: 1.2.3h"},
      {"duration of 400 digits", "duration: 1h", "duration: " + std::string(400, '9') + "h"},
      {"duration ending in a dot", "duration: 1h", "duration: 1h."},
  };
  std::vector<BadRun> cases;
  int n = 0;
  for (const auto& [label, from, to] : mutations) {
    std::string text = good;
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    const std::string file = (tmp / fmt::format("bad_{}.yaml", ++n)).string();
    write_text(file, text);
    // A territory that does not exist: a scenario that parses fails on it,
    // naming the territory rather than the file, so it shows up here.
    cases.push_back({label, {"run", file, "--out", (tmp / "out").string(), "--territory", (tmp / "none").string()},
                     std::filesystem::path(file).filename().string()});
  }
  // The baseline parses: the mutations, not the base, are what is refused.
  write_text(tmp / "good.yaml", good);
  const auto base = cadereau::testing::run_cadereau(
      {"run", (tmp / "good.yaml").string(), "--out", (tmp / "out").string(), "--territory", (tmp / "none").string()});
  CHECK_THAT(base.err, !Catch::Contains("good.yaml") && Catch::Contains("none"));
  expect_refused(cases);
}

TEST_CASE("Flood inputs that once failed in a library's words name their file or option",
          "[integration][robustness]") {
  TempDir tmp;
  const std::string dem = (tmp / "dem.tif").string();
  write_geotiff(plane(kGrid, Crs::lambert93()), dem);
  write_text(tmp / "q.csv", "0,5\n600,0\n");
  write_text(tmp / "a_file", "not a folder\n");
  const std::string out = (tmp / "out").string();
  const std::vector<std::string> base{"flood", "--dem", dem, "--until", "60", "--out", out};
  std::vector<BadRun> cases;
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };

  // Rasters in another place or CRS: warped, they cover nothing of the DEM.
  const GridSpec far{12, 10, 500000.0, 4800000.0, 10.0, 10.0};
  const GridSpec utm{12, 10, 600000.0, 4850000.0, 10.0, 10.0};
  const GridSpec shifted{12, 10, 810500.0, 6302000.0, 10.0, 10.0};
  const GridSpec degrees{12, 10, 2.30, 48.90, 1e-4, 1e-4};  // Paris, in WGS 84
  struct RasterCase {
    std::string label, option, file;
    Raster raster;
    std::vector<std::string> also;
  };
  std::vector<RasterCase> rasters;
  rasters.push_back({"Manning raster in UTM elsewhere", "--manning-raster", "manning_utm.tif",
                     Raster(far, Crs::from_user_input("EPSG:32631"), 0.03f), {"covers 0 of the DEM"}});
  rasters.push_back({"Manning raster 500 m east", "--manning-raster", "manning_east.tif",
                     Raster(shifted, Crs::lambert93(), 0.03f), {"covers 0 of the DEM"}});
  rasters.push_back({"Manning raster in Lambert-93 numbers read as UTM", "--manning-raster", "manning_crs.tif",
                     Raster(kGrid, Crs::from_user_input("EPSG:32631"), 0.03f), {"covers 0 of the DEM"}});
  rasters.push_back({"rain factor in degrees over Paris", "--rain-factor", "factor_paris.tif",
                     Raster(degrees, Crs::wgs84(), 1.0f), {"covers 0 of the DEM"}});
  rasters.push_back({"rain zones in UTM elsewhere", "--rain-zones", "zones_utm.tif",
                     Raster(utm, Crs::from_user_input("EPSG:32631"), 1.0f), {"covers 0 of the DEM"}});
  rasters.push_back({"initial depths on a shifted grid", "--initial-depth", "depth_shifted.tif",
                     Raster(shifted, Crs::lambert93(), 0.1f), {"x 810500.00"}});
  rasters.push_back({"initial depths in another CRS", "--initial-depth", "depth_crs.tif",
                     Raster(kGrid, Crs::from_user_input("EPSG:32631"), 0.1f), {"EPSG:32631"}});
  rasters.push_back({"Manning raster on another grid, no CRS", "--manning-raster", "manning_nocrs.tif",
                     Raster(shifted, Crs(), 0.03f), {"no CRS"}});
  for (const auto& rc : rasters) {
    const auto file = tmp / rc.file;
    write_geotiff(rc.raster, file);
    std::vector<std::string> extra{rc.option, file.string()};
    if (rc.option == "--rain-factor") extra.insert(extra.end(), {"--rain", (tmp / "q.csv").string()});
    if (rc.option == "--rain-zones") extra.insert(extra.end(), {"--rain-zone", "1," + (tmp / "q.csv").string()});
    cases.push_back({rc.label, with(extra), rc.file, rc.also});
  }

  // A raster too large to hold: its size and memory said before anything is
  // allocated (a VRT declares 20000 x 20000 cells in a few bytes).
  for (const auto& [name, cols, rows] : std::vector<std::tuple<std::string, int, int>>{
           {"huge_dem.vrt", 20000, 20000}, {"wide_dem.vrt", 200000, 600}, {"huge_manning.vrt", 12000, 12000}}) {
    write_text(tmp / name, fmt::format(R"(<VRTDataset rasterXSize="{}" rasterYSize="{}">
  <SRS>EPSG:2154</SRS>
  <GeoTransform>810000, 10, 0, 6302000, 0, -10</GeoTransform>
  <VRTRasterBand dataType="Float32" band="1"/>
</VRTDataset>
)",
                                       cols, rows));
    auto args = name == "huge_manning.vrt" ? with({"--manning-raster", (tmp / name).string()}) : base;
    if (name != "huge_manning.vrt") args[2] = (tmp / name).string();
    cases.push_back({"raster of " + std::to_string(cols) + " x " + std::to_string(rows), args, name,
                     {fmt::format("{} x {} cells", cols, rows), "GB"}});
  }

  // Durations that std::stod once threw on or read in part.
  for (const std::string until :
       std::vector<std::string>{".", "1.2.3", "1..5h", "h", "1e999", std::string(400, '9') + "h", "1h.", "-", "+"}) {
    auto args = base;
    args[4] = until;
    cases.push_back({"--until " + until.substr(0, 12), args, "--until"});
  }

  // The file system's refusals, with the path they concern.
  {
    auto args = base;
    args[6] = (tmp / "a_file" / "out").string();
    cases.push_back({"--out under a file", args, "a_file"});
  }
  {
    auto args = with({"--record", (tmp / "a_file" / "run.h5").string()});
    cases.push_back({"--record under a file", args, "a_file"});
  }
  REQUIRE(cases.size() >= 20);
  expect_refused(cases);
}
