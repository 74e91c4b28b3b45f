#pragma once
// The report's maps: the maximum depth with the streets closed and the
// assets hit, and the water at chosen times as small multiples. Each is a
// PNG picture (shaded relief, water, roads, assets) in an SVG figure that
// says what a picture cannot say crisply: the depth colour bar, a scale bar,
// a north arrow and the assets' names. The figures go inline into
// report.html; map.svg holds the main one for use elsewhere.

#include "report.h"
#include "street_closures.h"

#include "cadereau/twin/map_image.h"

#include <string>
#include <vector>

namespace cadereau::server {

// Water is painted from this depth, in these colours (the report's maps and
// the console's).
inline constexpr double kShownDepthM = 0.1;
const std::vector<twin::ColourStop>& depth_ramp();

struct MapFigure {
  std::string png;      // the picture's file name in the report folder
  std::string svg;      // the figure, inline SVG referring to the picture
  double t_s = 0.0;     // the time shown (frames)
  std::string caption;  // what a reader needs under it
};

// DIR/map.png and DIR/map.svg: maximum depth, streets closed by water (red),
// assets out of service, degraded or unaffected, with names.
MapFigure write_max_depth_map(const ReportInputs& in, const std::vector<StreetClosure>& streets);

// DIR/water_K.png: the recorded water depth at `count` times spread over the
// run (the nearest recorded frames), with the streets closed at that time.
// Nothing without a recording or frames in it.
std::vector<MapFigure> write_water_frames(const ReportInputs& in, int count);

// The depth colour bar alone, as an inline SVG (shared by the frames).
std::string depth_colour_bar_svg(const std::string& title);

}  // namespace cadereau::server
