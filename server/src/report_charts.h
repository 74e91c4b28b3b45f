#pragma once
// The report's charts, as SVG files beside report.html: the water depth at
// the level gauges over time, and the timeline of the records by kind. A
// forecast's predicted part is shaded on both.

#include "report.h"

#include <string>

namespace cadereau::server {

// DIR/gauges.svg; returns the legend (HTML) that names each line's gauge.
std::string write_gauges_chart(const ReportInputs& in);
// DIR/timeline.svg.
void write_timeline_chart(const ReportInputs& in);

}  // namespace cadereau::server
