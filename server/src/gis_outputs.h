#pragma once
// The run's outputs for a GIS analyst, RFC 7946 GeoJSON (longitude,
// latitude; QGIS opens them as they are):
//   DIR/impacts.geojson       every record with a place, as a point: when,
//                             what (kind and words), where (target and its
//                             name), people, and its story from the hazard
//   DIR/closed_roads.geojson  a feature per street closed, its closed sections
//                             as a multi-line: when it closed, why (water,
//                             order), how long, how deep, whether it reopened

#include "report.h"
#include "street_closures.h"

#include <vector>

namespace cadereau::server {

// Throws cadereau::Error naming the file when it cannot be written.
void write_impacts_geojson(const ReportInputs& in);
void write_closed_roads_geojson(const ReportInputs& in, const std::vector<StreetClosure>& streets);

// "07:10 stream in spate: cadereau d'Alès (201 m3/s) → 07:48 water at ..." for
// record `id`: its causes from the hazard on, in time order, then the record
// itself unless `with_record` is false. Plain text.
std::string story_text(const ReportInputs& in, std::uint64_t id, const char* arrow = " \u2192 ", bool with_record = true);

}  // namespace cadereau::server
