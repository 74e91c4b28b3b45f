#pragma once
// What a forecast run predicts, as one JSON document (DIR/forecast.json):
// the server reads it to announce a live session's rolling forecast, score
// it later against what happened, and say what changed from the previous
// one.
//
// {"issued_s", "until_s", "horizon_s", "start", "assumption",
//  "impacts": [{"kind", "target", "name", "t_s", "clock", "detail", "people",
//               "lon", "lat", "chain": [{"t_s", "clock", "kind", "target", "detail"}]}],
//  "gauges": [{"id", "name", "bed_m", "t_s": [...], "depth_m": [...]}],
//  "figures": {"roads_closed", "assets_failed", "assets_cut_off", "zones_hit",
//              "people_at_risk"},
//  "wall_s"}
//
// An impact is the first time a road, an asset or a zone is hit past the
// issue time (a road that closes, reopens and closes again is one impact,
// at its first closing), in time order, each with its chain of causes back
// to the hazard.

#include "cadereau/scenarios/scenario.h"
#include "cadereau/sim/engine/engine.h"

#include <nlohmann/json.hpp>

#include <string_view>

namespace cadereau::server {

// The record kinds a forecast predicts and a verification scores.
bool forecast_impact_kind(std::string_view kind);
// "roads", "assets" or "zones" for those kinds.
std::string_view forecast_impact_group(std::string_view kind);

// The engine ran on from issued_s: what it predicts past that time.
nlohmann::json forecast_document(const scenarios::Scenario& scenario, const sim::engine::Engine& engine,
                                 double issued_s);

}  // namespace cadereau::server
