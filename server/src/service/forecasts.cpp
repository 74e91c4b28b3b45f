#include "forecasts.h"

#include "../forecast_document.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <set>

namespace cadereau::server::service {
namespace {

using json = nlohmann::json;
using Key = std::pair<std::string, std::string>;

// Two forecasts of one impact this far apart in time say it moved.
constexpr double kMoved_s = 300.0;
// The alert area reaches this far past the places hit (m).
constexpr double kAreaMargin_m = 300.0;
constexpr double kAroundGauge_m = 1000.0;

double number(const json& request, const char* name, double fallback, double low, double high, const char* unit) {
  if (!request.contains(name)) return fallback;
  const json& v = request[name];
  if (!v.is_number()) fail(fmt::format("forecast.{}", name), "must be a number ({} to {} {})", low, high, unit);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < low || x > high)
    fail(fmt::format("forecast.{}", name), "{} is outside {} to {} {}", x, low, high, unit);
  return x;
}

std::string_view group_of(const std::string& kind) { return forecast_impact_group(kind); }

constexpr const char* kGroups[] = {"roads", "assets", "zones"};

json brief(const json& impact) {
  return {{"kind", impact.value("kind", std::string())},   {"target", impact.value("target", std::string())},
          {"name", impact.value("name", std::string())},   {"t_s", impact.value("t_s", 0.0)},
          {"clock", impact.value("clock", std::string())}};
}

Key key_of(const json& impact) { return {impact.value("kind", std::string()), impact.value("target", std::string())}; }

std::optional<double> ratio(std::size_t a, std::size_t b) {
  if (b == 0) return std::nullopt;
  return static_cast<double>(a) / static_cast<double>(b);
}

json or_null(std::optional<double> x) { return x ? json(*x) : json(nullptr); }

// The forecast's level at t_s: linear between its samples.
std::optional<double> level_at(const json& gauge, double t_s) {
  const auto& t = gauge["t_s"];
  const auto& d = gauge["depth_m"];
  if (t.empty() || t_s < t.front().get<double>() || t_s > t.back().get<double>()) return std::nullopt;
  for (std::size_t k = 1; k < t.size(); ++k) {
    const double t1 = t[k].get<double>();
    if (t_s > t1) continue;
    const double t0 = t[k - 1].get<double>();
    const double w = t1 > t0 ? (t_s - t0) / (t1 - t0) : 1.0;
    return d[k - 1].get<double>() * (1.0 - w) + d[k].get<double>() * w;
  }
  return d.back().get<double>();
}

std::string plural(std::size_t n, const char* one, const char* many) { return fmt::format("{} {}", n, n == 1 ? one : many); }

}  // namespace

ForecastSettings parse_forecast_settings(const json& request) {
  ForecastSettings s;
  if (request.is_null()) return s;
  if (!request.is_object()) fail("forecast", "must be {{\"every_min\", \"horizon_min\", \"jump_m\", \"jump_rain_mm_h\"}}");
  for (const auto& [name, value] : request.items())
    if (name != "every_min" && name != "horizon_min" && name != "jump_m" && name != "jump_rain_mm_h")
      fail("forecast", "'{}' is not a forecast setting (every_min, horizon_min, jump_m, jump_rain_mm_h)", name);
  s.every_s = number(request, "every_min", s.every_s / 60.0, 0.0, 60.0, "min") * 60.0;
  if (s.every_s > 0.0 && s.every_s < 60.0) fail("forecast.every_min", "{} is outside 1 to 60 min (0: only when asked)", s.every_s / 60.0);
  s.horizon_s = number(request, "horizon_min", s.horizon_s / 60.0, 1.0, 720.0, "min") * 60.0;
  s.jump_m = number(request, "jump_m", s.jump_m, 0.05, 10.0, "m");
  s.jump_rain_mm_h = number(request, "jump_rain_mm_h", s.jump_rain_mm_h, 1.0, 500.0, "mm/h");
  return s;
}

json to_json(const ForecastSettings& s) {
  return {{"every_min", s.every_s / 60.0}, {"horizon_min", s.horizon_s / 60.0}, {"jump_m", s.jump_m},
          {"jump_rain_mm_h", s.jump_rain_mm_h}};
}

json forecast_changes(const json& previous, const json& current) {
  const double issued_s = current.value("issued_s", 0.0);
  // The lists themselves, not copies: the maps point into them.
  static const json kNone = json::array();
  const auto impacts = [](const json& doc) -> const json& {
    return doc.contains("impacts") && doc["impacts"].is_array() ? doc["impacts"] : kNone;
  };
  // Only what both cover: from this one's issue to the nearer horizon.
  const double until_s = current.value("until_s", std::numeric_limits<double>::infinity());
  std::map<Key, const json*> before, now;
  for (const auto& i : impacts(previous))
    if (i.value("t_s", 0.0) > issued_s && i.value("t_s", 0.0) <= until_s) before.emplace(key_of(i), &i);
  for (const auto& i : impacts(current)) now.emplace(key_of(i), &i);
  json added = json::array(), dropped = json::array(), earlier = json::array(), later = json::array();
  std::map<std::string, std::size_t> added_by_group;
  for (const auto& [key, i] : now) {
    const auto was = before.find(key);
    if (was == before.end()) {
      added.push_back(brief(*i));
      ++added_by_group[std::string(group_of(key.first))];
      continue;
    }
    const double dt = i->value("t_s", 0.0) - was->second->value("t_s", 0.0);
    if (std::abs(dt) < kMoved_s) continue;
    json moved = brief(*i);
    moved["was_s"] = was->second->value("t_s", 0.0);
    moved["was_clock"] = was->second->value("clock", std::string());
    (dt < 0.0 ? earlier : later).push_back(std::move(moved));
  }
  for (const auto& [key, i] : before)
    if (!now.count(key)) dropped.push_back(brief(*i));
  const auto by_time = [](const json& a, const json& b) { return a["t_s"].get<double>() < b["t_s"].get<double>(); };
  for (json* list : {&added, &dropped, &earlier, &later}) std::sort(list->begin(), list->end(), by_time);

  std::vector<std::string> parts;
  if (added_by_group["roads"]) parts.push_back(plural(added_by_group["roads"], "new road closure", "new road closures"));
  if (added_by_group["assets"]) parts.push_back(plural(added_by_group["assets"], "asset newly threatened", "assets newly threatened"));
  if (added_by_group["zones"]) parts.push_back(plural(added_by_group["zones"], "zone newly hit", "zones newly hit"));
  if (!earlier.empty()) parts.push_back(plural(earlier.size(), "impact earlier", "impacts earlier"));
  if (!later.empty()) parts.push_back(plural(later.size(), "impact later", "impacts later"));
  if (!dropped.empty()) parts.push_back(plural(dropped.size(), "impact no longer expected", "impacts no longer expected"));
  // The first asset newly threatened is what an operator reads first.
  for (const auto& a : added)
    if (group_of(a["kind"].get<std::string>()) == "assets") {
      parts.push_back(fmt::format("first: {} {} at {}", a["kind"].get<std::string>(),
                                  a["name"].get<std::string>().empty() ? a["target"].get<std::string>() : a["name"].get<std::string>(),
                                  a["clock"].get<std::string>()));
      break;
    }
  return {{"since_s", previous.value("issued_s", 0.0)},
          {"new", std::move(added)},
          {"dropped", std::move(dropped)},
          {"earlier", std::move(earlier)},
          {"later", std::move(later)},
          {"summary", parts.empty() ? std::string("no change") : fmt::format("{}", fmt::join(parts, "; "))}};
}

json verify_forecast(const json& forecast, const Happened& happened, double until_s) {
  const double from_s = forecast.value("issued_s", 0.0);
  const double end_s = std::min(until_s, forecast.value("until_s", from_s));
  const auto in_window = [&](double t) { return t > from_s + 1e-6 && t <= end_s + 1e-6; };
  json out = {{"from_s", from_s}, {"to_s", end_s}, {"final", until_s >= forecast.value("until_s", from_s) - 1e-6}};

  std::map<std::string, std::map<Key, double>> predicted, observed;
  for (const auto& i : forecast.value("impacts", json::array())) {
    const double t = i.value("t_s", 0.0);
    const auto group = group_of(i.value("kind", std::string()));
    if (!group.empty() && in_window(t)) predicted[std::string(group)].emplace(key_of(i), t);
  }
  for (const auto& [key, times] : happened.impacts) {
    const auto group = group_of(key.first);
    if (group.empty()) continue;
    const auto first = std::find_if(times.begin(), times.end(), in_window);
    if (first != times.end()) observed[std::string(group)].emplace(key, *first);
  }
  for (const char* group : kGroups) {
    const auto& p = predicted[group];
    const auto& o = observed[group];
    std::size_t hits = 0;
    std::vector<double> errors;
    json misses = json::array(), false_alarms = json::array();
    for (const auto& [key, t] : p) {
      const auto seen = o.find(key);
      if (seen == o.end()) {
        false_alarms.push_back({{"kind", key.first}, {"target", key.second}, {"t_s", t}});
        continue;
      }
      ++hits;
      errors.push_back(t - seen->second);
    }
    for (const auto& [key, t] : o)
      if (!p.count(key)) misses.push_back({{"kind", key.first}, {"target", key.second}, {"t_s", t}});
    json times = nullptr;
    if (!errors.empty()) {
      double sum = 0.0, largest = 0.0;
      for (double e : errors) {
        sum += e;
        largest = std::max(largest, std::abs(e));
      }
      std::sort(errors.begin(), errors.end());
      times = {{"mean_s", sum / static_cast<double>(errors.size())}, {"median_s", errors[errors.size() / 2]},
               {"largest_s", largest}};
    }
    const std::size_t n_fa = false_alarms.size(), n_miss = misses.size();
    out[group] = {{"predicted", p.size()},
                  {"happened", o.size()},
                  {"hits", hits},
                  {"misses", n_miss},
                  {"false_alarms", n_fa},
                  {"hit_rate", or_null(ratio(hits, o.size()))},
                  {"false_alarm_ratio", or_null(ratio(n_fa, p.size()))},
                  {"critical_success_index", or_null(ratio(hits, hits + n_miss + n_fa))},
                  {"time_error", std::move(times)},
                  {"missed", std::move(misses)},
                  {"false_alarm_list", std::move(false_alarms)}};
  }

  json gauges = json::array();
  for (const auto& g : forecast.value("gauges", json::array())) {
    const auto readings = happened.readings.find(g.value("id", std::string()));
    if (readings == happened.readings.end()) continue;
    double sum = 0.0, sum2 = 0.0, largest = 0.0;
    std::size_t n = 0;
    for (const auto& [t, depth] : readings->second) {
      if (!in_window(t)) continue;
      const auto level = level_at(g, t);
      if (!level) continue;
      const double e = *level - depth;
      sum += e;
      sum2 += e * e;
      largest = std::max(largest, std::abs(e));
      ++n;
    }
    if (n == 0) continue;
    gauges.push_back({{"id", g.value("id", std::string())},
                      {"readings", n},
                      {"bias_m", sum / static_cast<double>(n)},
                      {"rmse_m", std::sqrt(sum2 / static_cast<double>(n))},
                      {"largest_m", largest}});
  }
  out["gauges"] = std::move(gauges);
  return out;
}

std::vector<Crossing> forecast_crossings(const json& forecast, const std::vector<std::pair<std::string, double>>& thresholds) {
  std::vector<Crossing> out;
  for (const auto& g : forecast.value("gauges", json::array())) {
    const std::string id = g.value("id", std::string());
    const auto& t = g["t_s"];
    const auto& d = g["depth_m"];
    if (t.empty()) continue;
    for (const auto& [gauge, above_m] : thresholds) {
      if (gauge != id) continue;
      // Already above when issued: that is an observation, not a forecast.
      if (d.front().get<double>() >= above_m) continue;
      std::optional<double> crossed;
      double peak = 0.0, peak_t = t.front().get<double>();
      for (std::size_t k = 0; k < t.size(); ++k) {
        const double depth = d[k].get<double>();
        if (!crossed && depth >= above_m) crossed = t[k].get<double>();
        if (depth > peak) {
          peak = depth;
          peak_t = t[k].get<double>();
        }
      }
      if (crossed) out.push_back({id, above_m, *crossed, peak, peak_t});
    }
  }
  return out;
}

json cap_draft(const AlertBasis& b) {
  // Metres to degrees near the territory: enough for an alert's area.
  const double lat0 = b.centre.second * std::numbers::pi / 180.0;
  const double m_per_deg_lat = 111320.0, m_per_deg_lon = 111320.0 * std::cos(lat0);
  std::vector<std::pair<double, double>> pts;
  const auto around = [&](std::pair<double, double> c, double r_m) {
    for (int k = 0; k < 12; ++k) {
      const double a = 2.0 * std::numbers::pi * k / 12.0;
      pts.emplace_back(c.first + r_m * std::cos(a) / m_per_deg_lon, c.second + r_m * std::sin(a) / m_per_deg_lat);
    }
  };
  if (b.points.size() < 3) {
    around(b.centre, kAroundGauge_m);
  } else {
    for (const auto& p : b.points) around(p, kAreaMargin_m);
  }
  // Convex hull (monotone chain), counter-clockwise.
  std::sort(pts.begin(), pts.end());
  pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
  const auto cross = [](auto o, auto a, auto bb) {
    return (a.first - o.first) * (bb.second - o.second) - (a.second - o.second) * (bb.first - o.first);
  };
  std::vector<std::pair<double, double>> hull(2 * pts.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0) --k;
    hull[k++] = pts[i];
  }
  for (std::size_t i = pts.size() - 1, lower = k + 1; i > 0; --i) {
    while (k >= lower && cross(hull[k - 2], hull[k - 1], pts[i - 1]) <= 0) --k;
    hull[k++] = pts[i - 1];
  }
  hull.resize(k);  // the last point is the first again: closed, as CAP wants
  json polygon = json::array();
  for (const auto& [lon, lat] : hull) polygon.push_back({std::round(lon * 1e6) / 1e6, std::round(lat * 1e6) / 1e6});

  std::string places;
  for (std::size_t i = 0; i < b.places.size() && i < 8; ++i) places += (i ? ", " : "") + b.places[i];
  if (b.places.size() > 8) places += fmt::format(" and {} more", b.places.size() - 8);
  const std::string what = b.forecast ? fmt::format("is expected to pass {:.2f} m at about {}", b.above_m, b.when)
                                      : fmt::format("passed {:.2f} m at {}", b.above_m, b.when);
  return {{"event", "Flash flood"},
          {"headline", fmt::format("Flash flood: {} {}", b.gauge_name, b.forecast ? "rising" : "in spate").substr(0, 160)},
          {"description", fmt::format("The water at {} {}.{}", b.gauge_name, what,
                                      places.empty() ? std::string()
                                                     : fmt::format(" {} hit: {}.", b.forecast ? "Forecast to be" : "Now", places))},
          {"instruction",
           "Keep away from the cadereaux, underpasses and low streets. Do not drive through water. Go up to a floor "
           "above the water if it reaches your home."},
          {"category", "Met"},
          {"severity", "Severe"},
          {"urgency", b.forecast ? "Expected" : "Immediate"},
          {"certainty", b.forecast ? "Likely" : "Observed"},
          {"response_type", b.forecast ? "Prepare" : "Avoid"},
          {"area", {{"description", places.empty() ? b.gauge_name : fmt::format("Around {}", b.gauge_name)},
                    {"polygon", std::move(polygon)}}}};
}

}  // namespace cadereau::server::service
