// Session: readings from the live feeds (see session.h, "live feeds").

#include "session.h"

#include "audit_record.h"

#include "cadereau/scenarios/scenario.h"
#include "cadereau/sim/flood/flood_run.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <ctime>

namespace cadereau::server::service {

using json = nlohmann::json;

namespace {

// A reading is expected this often; a sensor not heard for three intervals is stale.
constexpr double kExpectedInterval_s = 300.0;
// How far ahead of the server's clock a measurement may be (clocks drift).
constexpr double kFutureTolerance_s = 300.0;

}  // namespace

void Session::feed_health_init_locked() const {
  if (!feed_health_.empty() || !alert_book_) return;
  for (const auto& s : alert_book_->territory().sensors) {
    if (s.dev_eui.empty() && s.datastream.empty()) continue;
    FeedHealth h;
    h.sensor = s.id;
    h.kind = std::string(twin::to_string(s.kind));
    h.device = s.dev_eui;
    h.datastream = s.datastream;
    feed_health_[s.id] = std::move(h);
  }
}

bool Session::observe(const FeedReading& r) {
  std::lock_guard lock(mutex_);
  if (mode_ != SessionMode::live || state_ == SessionState::stopped || !alert_book_) return false;
  const auto& territory = alert_book_->territory();
  const twin::Sensor* sensor = nullptr;
  for (const auto& s : territory.sensors)
    if (r.source == "sensorthings" ? s.datastream == r.device : s.dev_eui == r.device) sensor = &s;
  if (!sensor) return false;
  feed_health_init_locked();
  auto& health = feed_health_[sensor->id];
  feeds_changed_.insert(sensor->id);
  const auto reject = [&](const std::string& reason) {
    ++health.rejected[reason];
    journal_locked({{"t_s", sim_time_s_}, {"kind", "observation_rejected"}, {"by", r.source}, {"target", sensor->id},
                    {"device", r.device}, {"reason", reason}, {"digest", r.digest}});
    pump_all_locked();
    return true;
  };
  // The reading this sensor gives.
  std::optional<double> value = r.result;
  const char* quantity = "result";
  const char* unit = "";
  double low = 0.0, high = 0.0;
  switch (sensor->kind) {
    case twin::SensorKind::level_gauge:
      if (!value) value = r.water_level_m;
      quantity = "water_level_m", unit = "m", low = -2.0, high = 30.0;
      break;
    case twin::SensorKind::rain_gauge:
      if (!value) value = r.rain_mm;
      quantity = "rain_mm", unit = "mm", low = 0.0, high = 200.0;
      break;
    case twin::SensorKind::traffic_counter:
      if (!value) value = r.vehicles;
      quantity = "vehicles", unit = "vehicles", low = 0.0, high = 10000.0;
      break;
    case twin::SensorKind::camera: return reject("a camera gives no reading the twin uses");
  }
  if (!value) return reject(fmt::format("a {} reports {}, which this uplink does not hold", health.kind, quantity));
  if (*value < low || *value > high)
    return reject(fmt::format("{} {} {} is implausible (from {} to {})", quantity, *value, unit, low, high));
  if (r.measured_epoch_s > r.received_epoch_s + kFutureTolerance_s)
    return reject(fmt::format("measured at {}, {:.0f} s in the future", iso_utc(r.measured_epoch_s),
                              r.measured_epoch_s - r.received_epoch_s));
  const auto start = local_epoch_s(record_.value("start", std::string()));
  const double measured_s = start ? r.measured_epoch_s - *start : sim_time_s_;
  if (measured_s < 0.0) return reject(fmt::format("measured at {}, before the session started", iso_utc(r.measured_epoch_s)));
  if (health.last_measured_epoch_s && r.measured_epoch_s <= *health.last_measured_epoch_s)
    return reject(fmt::format("measured at {}, not after the last reading ({})", iso_utc(r.measured_epoch_s),
                              iso_utc(*health.last_measured_epoch_s)));
  // The twin follows: a rain gauge's rate over its area, a rated gauge's flow.
  if (!feed_forcing_) {
    const scenarios::Scenario scenario = scenarios::parse_scenario(record_.value("scenario_yaml", std::string()), "scenario.yaml");
    feed_forcing_.emplace();
    for (const auto& rain : scenario.rain)
      if (rain.over == scenarios::RainSpec::Over::gauge) feed_forcing_->insert(rain.id);
    for (const auto& inflow : scenario.inflows) feed_forcing_->insert(inflow.name);
  }
  // rain_mm fell since the gauge's previous reading (the expected interval for the first).
  const double interval_s =
      health.last_measured_epoch_s ? std::max(1.0, r.measured_epoch_s - *health.last_measured_epoch_s) : kExpectedInterval_s;
  const double mm_h = sensor->kind == twin::SensorKind::rain_gauge ? *value * 3600.0 / interval_s : 0.0;
  // A count covers the interval its uplink names, else the time since the counter's previous reading.
  std::optional<double> count_interval_s;
  if (sensor->kind == twin::SensorKind::traffic_counter) {
    count_interval_s = r.interval_s.value_or(interval_s);
    if (!(*count_interval_s >= 1.0 && *count_interval_s <= 86400.0))
      return reject(fmt::format("interval_s {} s is implausible (from 1 to 86400)", *count_interval_s));
    const twin::Edge* edge = territory.network ? territory.network->find_edge(sensor->edge_id) : nullptr;
    const std::size_t lanes = edge ? std::max<std::size_t>(1, edge->lanes.size()) : 1;
    const double veh_h = *value * 3600.0 / *count_interval_s;
    if (veh_h > static_cast<double>(lanes) * sim::engine::kMaxLaneFlow_veh_h)
      return reject(fmt::format("{:g} vehicles in {:.0f} s is {:.0f} veh/h, beyond what {} lane{} can carry", *value,
                                *count_interval_s, veh_h, lanes, lanes > 1 ? "s" : ""));
  }
  std::optional<sim::engine::ForcingChange> forcing;
  std::string detail;
  if (feed_forcing_->count(sensor->id)) {
    sim::engine::ForcingChange f;
    f.target = sensor->id;
    f.from_s = measured_s;
    f.by = r.source;
    f.where = fmt::format("{} reading of {}", r.source, sensor->id);
    if (sensor->kind == twin::SensorKind::rain_gauge) {
      f.kind = sim::engine::ForcingChange::Kind::rain;
      f.series = sim::flood::TimeSeries::constant(mm_h);
      detail = fmt::format("{:.1f} mm in {:.0f} s: {:.1f} mm/h over the gauge's area", *value, interval_s, mm_h);
      if (mm_h > sim::flood::kMaxRain_mm_h)
        return reject(fmt::format("{:.1f} mm in {:.0f} s is {:.0f} mm/h, beyond {} mm/h", *value, interval_s, mm_h,
                                  sim::flood::kMaxRain_mm_h));
      forcing = std::move(f);
    } else if (sensor->kind == twin::SensorKind::level_gauge && !sensor->rating.empty()) {
      const double q = twin::rated_discharge_m3_s(sensor->rating, *value);
      f.kind = sim::engine::ForcingChange::Kind::inflow;
      f.series = sim::flood::TimeSeries::constant(q);
      detail = fmt::format("{:.2f} m on the rating curve: {:.1f} m3/s", *value, q);
      if (q > sim::flood::kMaxInflow_m3_s)
        return reject(fmt::format("{:.2f} m gives {:.0f} m3/s on the rating curve, beyond {} m3/s", *value, q,
                                  sim::flood::kMaxInflow_m3_s));
      forcing = std::move(f);
    }
  }
  health.last_value = value;
  health.last_measured_epoch_s = r.measured_epoch_s;
  health.last_received_epoch_s = r.received_epoch_s;
  ++health.readings;
  sim::engine::Observation o;
  o.sensor_id = sensor->id;
  o.t_s = measured_s;
  o.value = *value;
  o.source = r.source;
  o.interval_s = count_interval_s;
  submit_async_locked(std::move(o), {{"t_s", sim_time_s_},
                                     {"kind", "observation"},
                                     {"by", r.source},
                                     {"target", sensor->id},
                                     {"device", r.device},
                                     {"value", *value},
                                     {"unit", unit},
                                     {"measured_s", measured_s},
                                     {"measured", iso_utc(r.measured_epoch_s)},
                                     {"received", iso_utc(r.received_epoch_s)},
                                     {"digest", r.digest}});
  note_reading_locked(sensor->id, sensor->kind, *value, measured_s, mm_h);
  if (forcing)
    submit_async_locked(std::move(*forcing), {{"t_s", sim_time_s_}, {"kind", "feed_forcing"}, {"by", r.source},
                                              {"target", sensor->id}, {"detail", detail}});
  return true;
}

json Session::citizen_report(const CitizenReport& report, const Principal& by) {
  std::lock_guard lock(mutex_);
  if (mode_ == SessionMode::replay) fail_as(ErrorCategory::conflict, id_, "is a replay: nothing is written into history");
  if (state_ == SessionState::stopped) fail_as(ErrorCategory::conflict, id_, "is stopped");
  auto& book = alert_book_locked();
  const auto& territory = book.territory();
  const twin::CrsTransform to_map(twin::Crs::wgs84(), territory.crs);
  const auto xy = to_map.forward({report.lon, report.lat});
  const twin::MapPoint at{xy.x, xy.y};
  if (!territory.grid().extent().contains(at)) fail("point", "({}, {}) is outside the territory", report.lon, report.lat);
  // Where it is, in words the reports cell uses: the zone and the nearest street.
  std::string zone, street;
  for (const auto& z : territory.zones)
    if (z.area.contains(at)) zone = z.name;
  if (territory.network) {
    double best = 1e300;
    for (const auto& e : territory.network->edges())
      for (const auto& p : e.shape) {
        const double d = std::hypot(p.x_m - at.x_m, p.y_m - at.y_m);
        if (d < best) best = d, street = e.name.empty() ? e.id : e.name;
      }
  }
  const std::uint64_t number = ++citizen_reports_;
  json event = {{"type", "report"},   {"kind", "citizen_report"}, {"t_s", sim_time_s_},
                {"by", principal_text(by)}, {"report", number}, {"category", report.category},
                {"text", report.text},  {"place", {{"lon", report.lon}, {"lat", report.lat}}},
                {"x_m", at.x_m},        {"y_m", at.y_m},            {"zone", zone},
                {"street", street},     {"to", json::array({"reports"})}};
  if (!report.photo.empty()) event["photo"] = report.photo;
  journal_locked(event);
  note_locked(principal_text(by), {{"citizen_report", event}});
  pump_all_locked();
  return event;
}

bool Session::count_duplicate(const std::string& device) {
  std::lock_guard lock(mutex_);
  if (mode_ != SessionMode::live || !alert_book_) return false;
  feed_health_init_locked();
  for (auto& [id, h] : feed_health_)
    if (!device.empty() && h.device == device) {
      ++h.duplicates;
      feeds_changed_.insert(id);
      return true;
    }
  return false;
}

json Session::feeds() const {
  std::lock_guard lock(mutex_);
  if (mode_ != SessionMode::live) fail_as(ErrorCategory::conflict, id_, "is a {} session: feeds go to live sessions", to_string(mode_));
  return feeds_locked();
}

json Session::feeds_locked(const std::set<std::string>* only) const {
  feed_health_init_locked();
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  json sensors = json::array();
  long stale = 0;
  for (const auto& [id, h] : feed_health_) {
    const bool is_stale = !h.last_received_epoch_s || now - *h.last_received_epoch_s > 3 * kExpectedInterval_s;
    stale += is_stale ? 1 : 0;
    if (only && !only->count(id)) continue;
    json j = {{"sensor", id},         {"kind", h.kind},           {"device", h.device}, {"datastream", h.datastream},
              {"readings", h.readings},
              {"duplicates", h.duplicates}, {"rejected", h.rejected}, {"expected_interval_s", kExpectedInterval_s},
              {"stale", is_stale}};
    if (h.last_value) j["last_value"] = *h.last_value;
    if (h.last_measured_epoch_s) j["last_measured"] = iso_utc(*h.last_measured_epoch_s);
    if (h.last_received_epoch_s) j["last_seen"] = iso_utc(*h.last_received_epoch_s);
    sensors.push_back(std::move(j));
  }
  json out = {{"sensors", std::move(sensors)}, {"stale", stale}};
  if (only) out["of"] = feed_health_.size();
  return out;
}

}  // namespace cadereau::server::service
