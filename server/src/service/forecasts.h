#pragma once
// Rolling forecasts of a live session, as the server reasons about them:
// when one is due, what changed from the previous one, how well one did once
// its time has passed, which gauge thresholds it says will be crossed, and
// the population alert an operator may send for it. The forecast itself is
// a `cadereau forecast` run from the live engine's state; its document is
// forecast_document.h's.
//
// No I/O and no locks here: the session calls these under its own lock.

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cadereau::server::service {

struct ForecastSettings {
  double every_s = 300.0;        // a forecast this often; 0: only when an operator asks
  double horizon_s = 7200.0;     // each one this far ahead
  double jump_m = 0.25;          // and one at once when a level gauge moved this much since the last
  double jump_rain_mm_h = 20.0;  // or a rain gauge's rate this much
};
// From a live session's request: {"every_min" (1 to 60, or 0 for forecasts
// only when asked), "horizon_min", "jump_m", "jump_rain_mm_h"}, each optional. Throws Error (bad_input) naming the
// field and its range.
ForecastSettings parse_forecast_settings(const nlohmann::json& request);
nlohmann::json to_json(const ForecastSettings& settings);

// What changed from `previous` to `current` (two forecast documents): the
// impacts `current` predicts that `previous` did not (new), those `previous`
// predicted between `current`'s issue time and its horizon that `current`
// no longer does (dropped), and those both predict more than 5 minutes
// apart (earlier, later). {"since_s", "new", "dropped", "earlier", "later",
// "summary"}.
nlohmann::json forecast_changes(const nlohmann::json& previous, const nlohmann::json& current);

// What the live twin did, to score forecasts against.
struct Happened {
  // Every time each (kind, target) happened, in time order.
  std::map<std::pair<std::string, std::string>, std::vector<double>> impacts;
  // Each level gauge's readings: (measured, s since the start; depth, m).
  std::map<std::string, std::vector<std::pair<double, double>>> readings;
};

// Scores `forecast` over the part of its horizon up to until_s: per group
// (roads, assets, zones) hits, misses and false alarms, the hit rate
// (probability of detection), the false alarm ratio, the critical success
// index and the time errors of the hits (predicted minus happened); per
// level gauge with readings, the forecast's level error (bias, RMSE,
// largest). "final" once until_s reaches the end of its horizon.
nlohmann::json verify_forecast(const nlohmann::json& forecast, const Happened& happened, double until_s);

// A gauge threshold a forecast says will be crossed: the first time its
// level passes above_m, and its peak.
struct Crossing {
  std::string gauge;
  double above_m = 0.0;
  double t_s = 0.0;
  double peak_m = 0.0;
  double peak_t_s = 0.0;
};
std::vector<Crossing> forecast_crossings(const nlohmann::json& forecast,
                                         const std::vector<std::pair<std::string, double>>& thresholds);

// A CAP alert for an operator to review and send (the body POST /alerts
// takes): a flash flood at `gauge_name`, expected (a forecast) or observed,
// over the area of `points` ([lon, lat] of the places hit; their convex
// hull, widened by about 300 m, or about 1 km around `centre` when fewer
// than three).
struct AlertBasis {
  bool forecast = true;
  std::string gauge_name;
  double above_m = 0.0;
  std::string when;  // "08:12"
  std::vector<std::pair<double, double>> points;  // lon, lat
  std::pair<double, double> centre;                // lon, lat of the gauge
  std::vector<std::string> places;                 // names of what is hit, for the description
};
nlohmann::json cap_draft(const AlertBasis& basis);

}  // namespace cadereau::server::service
