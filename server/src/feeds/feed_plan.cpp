#include "feed_plan.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <regex>

namespace cadereau::server::feeds {

namespace {

// Where one sensor's readings come from.
struct Source {
  const twin::Sensor* sensor = nullptr;
  const sim::flood::TimeSeries* rain_mm_h = nullptr;  // a rain gauge
  const sim::flood::TimeSeries* inflow_m3_s = nullptr;  // a level gauge carrying an inflow
  twin::SeriesData wse_m;                             // a level gauge from the recording
  double bed_m = 0.0;
};

// What falls at a rain gauge: its own entry, else the last zone or area
// entry covering it (later entries take the cells of earlier ones), else the
// territory-wide one.
const sim::flood::TimeSeries* rain_at(const scenarios::Scenario& scenario, const twin::Territory& territory,
                                      const twin::Sensor& gauge) {
  const sim::flood::TimeSeries* covering = nullptr;
  const sim::flood::TimeSeries* everywhere = nullptr;
  for (const auto& rain : scenario.rain) {
    using Over = scenarios::RainSpec::Over;
    if (rain.over == Over::gauge) {
      if (rain.id == gauge.id) return &rain.mm_h;
      continue;
    }
    if (rain.area && !rain.area->contains(gauge.location)) continue;
    if (rain.over == Over::territory && !rain.area) {
      everywhere = &rain.mm_h;
      continue;
    }
    if (rain.over == Over::zone) {
      const auto zone = std::find_if(territory.zones.begin(), territory.zones.end(),
                                     [&](const twin::PopulationZone& z) { return z.id == rain.id; });
      if (zone == territory.zones.end() || !zone->area.contains(gauge.location)) continue;
    }
    covering = &rain.mm_h;
  }
  return covering ? covering : everywhere;
}

// The bed of a level gauge as the engine took it, from its series'
// description ("... (bed at 51.23 m)").
std::optional<double> recorded_bed_m(const twin::SeriesInfo& info) {
  static const std::regex bed(R"(bed at (-?[0-9]+(\.[0-9]+)?) m)");
  std::smatch m;
  if (!std::regex_search(info.description, m, bed)) return std::nullopt;
  return std::stod(m[1].str());
}

// Linear between samples (the series is sampled at every exchange step).
double sample_at(const twin::SeriesData& s, double t_s) {
  const auto it = std::lower_bound(s.time_s.begin(), s.time_s.end(), t_s);
  if (it == s.time_s.begin()) return s.values.front();
  if (it == s.time_s.end()) return s.values.back();
  const std::size_t k = static_cast<std::size_t>(it - s.time_s.begin());
  const double t0 = s.time_s[k - 1], t1 = s.time_s[k];
  const double w = t1 > t0 ? (t_s - t0) / (t1 - t0) : 1.0;
  return s.values[k - 1] + w * (s.values[k] - s.values[k - 1]);
}

std::string recording_hint(const scenarios::Scenario& scenario) {
  return fmt::format("make one with `cadereau run {} --out DIR` and give --recording DIR/recording.h5",
                     scenario.file.string());
}

Source level_source(const twin::Sensor& sensor, const scenarios::Scenario& scenario,
                    const twin::RecordingReader& recording, const FeedPlanOptions& options) {
  const std::string name = "gauge_" + sensor.id + "_wse_m";
  const auto names = recording.series_names();
  if (std::find(names.begin(), names.end(), name) == names.end())
    fail(recording.path().string(), "has no series {} (is it a recording of {}?)", name, scenario.file.string());
  Source s;
  s.sensor = &sensor;
  s.wse_m = recording.series(name);
  if (s.wse_m.time_s.empty()) fail(recording.path().string(), "series {} is empty", name);
  const auto bed = recorded_bed_m(s.wse_m.info);
  if (!bed) fail(recording.path().string(), "series {} does not say its gauge's bed (\"bed at ... m\")", name);
  s.bed_m = *bed;
  // One exchange step of slack: the last sample is at the run's end.
  const double last_s = s.wse_m.time_s.back();
  if (options.until_s > last_s + scenario.exchange_s)
    fail(recording.path().string(), "ends at {:.0f} s, before the window's end ({:.0f} s); {}", last_s, options.until_s,
         recording_hint(scenario));
  return s;
}

}  // namespace

double rated_stage_m(const std::vector<std::pair<double, double>>& rating, double discharge_m3_s) {
  if (rating.empty()) return 0.0;
  if (rating.size() < 2 || discharge_m3_s <= rating.front().second) return rating.front().first;
  std::size_t k = 1;
  while (k + 1 < rating.size() && discharge_m3_s > rating[k].second) ++k;
  const auto& [s0, q0] = rating[k - 1];
  const auto& [s1, q1] = rating[k];
  return q1 > q0 ? s0 + (s1 - s0) * (discharge_m3_s - q0) / (q1 - q0) : s1;
}

FeedPlan plan_feed(const scenarios::Scenario& scenario, const twin::Territory& territory,
                   const twin::RecordingReader* recording, const FeedPlanOptions& options) {
  if (!(options.every_s > 0.0)) fail("every", "must be positive seconds");
  if (!(options.until_s >= options.from_s)) fail("until", "{:.0f} s is before from ({:.0f} s)", options.until_s, options.from_s);
  for (const auto& id : options.sensors) {
    const auto it = std::find_if(territory.sensors.begin(), territory.sensors.end(),
                                 [&](const twin::Sensor& s) { return s.id == id; });
    if (it == territory.sensors.end()) fail("sensors", "unknown sensor '{}' in territory {}", id, territory.manifest.name);
  }
  const auto asked = [&](const std::string& id) {
    return options.sensors.empty() || std::find(options.sensors.begin(), options.sensors.end(), id) != options.sensors.end();
  };
  FeedPlan plan;
  std::vector<Source> sources;
  // A sensor the user named that cannot be played is an error; among all, a note.
  const auto skip = [&](const twin::Sensor& s, const std::string& why) {
    if (!options.sensors.empty()) fail("sensors", "{} cannot be played: {}", s.id, why);
    plan.skipped.emplace_back(s.id, why);
  };
  for (const auto& s : territory.sensors) {
    if (!asked(s.id)) continue;
    if (s.dev_eui.empty()) {
      skip(s, "it has no dev_eui in the territory's sensors file");
      continue;
    }
    switch (s.kind) {
      case twin::SensorKind::rain_gauge: {
        Source src;
        src.sensor = &s;
        src.rain_mm_h = rain_at(scenario, territory, s);
        plan.played.emplace_back(s.id, src.rain_mm_h ? "rain from the scenario" : "no rain in the scenario: 0 mm");
        sources.push_back(std::move(src));
        break;
      }
      case twin::SensorKind::level_gauge: {
        const auto inflow = std::find_if(scenario.inflows.begin(), scenario.inflows.end(),
                                         [&](const scenarios::InflowSpec& f) { return f.sensor && *f.sensor == s.id; });
        if (inflow != scenario.inflows.end() && !s.rating.empty()) {
          Source src;
          src.sensor = &s;
          src.inflow_m3_s = &inflow->m3_s;
          plan.played.emplace_back(s.id, "the stage of the scenario's inflow on its rating curve");
          sources.push_back(std::move(src));
        } else if (recording) {
          sources.push_back(level_source(s, scenario, *recording, options));
          plan.played.emplace_back(s.id, "depth above its bed in the recording");
        } else {
          skip(s, "its level comes from a recording of the scenario: " + recording_hint(scenario));
        }
        break;
      }
      case twin::SensorKind::traffic_counter: skip(s, "a recording keeps no per-counter vehicle counts"); break;
      case twin::SensorKind::camera: skip(s, "a camera gives no reading"); break;
    }
  }
  std::mt19937_64 random(options.seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const long rounds = static_cast<long>(std::floor((options.until_s - options.from_s) / options.every_s + 1e-9)) + 1;
  for (long k = 0; k < rounds; ++k) {
    const double t_s = options.from_s + static_cast<double>(k) * options.every_s;
    for (const auto& src : sources) {
      PlannedReading r;
      r.t_s = t_s;
      r.sensor = src.sensor->id;
      r.dev_eui = src.sensor->dev_eui;
      // Drawn for every reading whatever the options, so that a plan's gaps
      // do not change with its noise.
      const double noise = gauss(random);
      r.dropped = uniform(random) < options.gaps;
      r.duplicated = !r.dropped && uniform(random) < options.duplicates;
      if (src.sensor->kind == twin::SensorKind::rain_gauge) {
        const double mm = src.rain_mm_h ? src.rain_mm_h->integral(t_s - options.every_s, t_s) / 3600.0 : 0.0;
        r.rain_mm = std::max(0.0, mm * (1.0 + options.noise * noise));
      } else {
        const double depth_m = src.inflow_m3_s ? rated_stage_m(src.sensor->rating, src.inflow_m3_s->at(t_s))
                                               : sample_at(src.wse_m, t_s) - src.bed_m;
        r.water_level_m = std::max(0.0, depth_m + options.noise * noise);
      }
      plan.readings.push_back(std::move(r));
    }
  }
  return plan;
}

}  // namespace cadereau::server::feeds
