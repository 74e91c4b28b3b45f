// Commands to a running engine: checked when submitted, applied at the next
// exchange step, recorded with the time they took effect, and read back from
// a recording to re-drive a run.

#include "engine_impl.h"

#include "cadereau/twin/error.h"

#include "overloaded.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace cadereau::sim::engine {

namespace {

constexpr const char* kUniformRain = "territory";

std::string where_of_dispatch(const Dispatch& d) { return d.where.empty() ? "dispatch of " + d.unit : d.where; }

}  // namespace

std::string Engine::action_where(const TimedAction& a) const {
  return a.where.empty() ? fmt::format("action {} {}", to_string(a.verb), a.target) : a.where;
}

void Engine::check_action_target(const TimedAction& a) const {
  const auto& net = *territory_.network;
  if (acts_on_light(a.verb)) {
    if (!net.find_traffic_light(a.target))
      fail_as(ErrorCategory::not_found, action_where(a), "no traffic light '{}' in the network", a.target);
  } else if (!net.find_edge(a.target)) {
    fail_as(ErrorCategory::not_found, action_where(a), "no road edge '{}' in the network", a.target);
  }
  if (a.verb == Verb::speed_limit && !(a.value > 0.0 && a.value <= 150.0))
    fail(action_where(a), "a speed limit is between 0 and 150 km/h, not {}", a.value);
  if (a.verb == Verb::light_program && a.program.empty()) fail(action_where(a), "light_program needs a program id");
  // Known before the run starts rather than when the action comes due. SUMO
  // loads the network file's programs and those of the light plans.
  if (a.verb == Verb::light_program && a.program != "off") {
    auto programs = net.light_programs(a.target);
    if (const auto it = impl_->plan_programs.find(a.target); it != impl_->plan_programs.end())
      programs.insert(programs.end(), it->second.begin(), it->second.end());
    if (std::find(programs.begin(), programs.end(), a.program) == programs.end())
      fail_as(ErrorCategory::not_found, action_where(a), "traffic light '{}' has no program '{}' (its programs: {}, off)",
              a.target, a.program, fmt::join(programs, ", "));
  }
}

void Engine::check_command(const Command& command) const {
  std::visit(
      Overloaded{
          [&](const TimedAction& a) {
            if (!impl_->traffic)
              fail_as(ErrorCategory::conflict, action_where(a), "action '{}' needs the traffic model, which is off",
                      to_string(a.verb));
            if (!std::isfinite(a.t_s) || a.t_s > setup_.duration_s)
              fail(action_where(a), "action at {} s is outside the run (0 to {} s)", a.t_s, setup_.duration_s);
            check_action_target(a);
          },
          [&](const ForcingChange& f) {
            const std::string where = f.where.empty() ? "forcing change of " + f.target : f.where;
            if (!std::isfinite(f.from_s)) fail(where, "the change starts at {} s", f.from_s);
            if (f.series.empty()) fail(where, "the new series has no points");
            for (double v : f.series.values())
              if (!(v >= 0.0) || !std::isfinite(v)) fail(where, "value {} is negative or not finite", v);
            if (f.kind == ForcingChange::Kind::inflow) {
              const bool known = std::any_of(setup_.inflows.begin(), setup_.inflows.end(),
                                             [&](const flood::PointInflow& i) { return i.label == f.target; });
              if (!known) fail_as(ErrorCategory::not_found, where, "no inflow named '{}' in this run", f.target);
            } else if (f.target != kUniformRain &&
                       std::find(setup_.rain_zone_labels.begin(), setup_.rain_zone_labels.end(), f.target) ==
                           setup_.rain_zone_labels.end()) {
              fail_as(ErrorCategory::not_found, where, "no rain zone '{}' in this run ('{}' for the rain everywhere)",
                      f.target, kUniformRain);
            }
          },
          [&](const Observation& o) {
            const auto sensor = std::find_if(territory_.sensors.begin(), territory_.sensors.end(),
                                             [&](const twin::Sensor& s) { return s.id == o.sensor_id; });
            if (sensor == territory_.sensors.end())
              fail_as(ErrorCategory::not_found, "observation", "no sensor '{}' in the territory", o.sensor_id);
            const std::string where = "observation of " + o.sensor_id;
            if (!std::isfinite(o.value) || !std::isfinite(o.t_s))
              fail(where, "value {} at {} s is not a finite number", o.value, o.t_s);
            if (o.interval_s && !(std::isfinite(*o.interval_s) && *o.interval_s > 0.0))
              fail(where, "counting interval {} s is not positive", *o.interval_s);
            if (sensor->kind == twin::SensorKind::traffic_counter && !o.failed && o.value < 0.0)
              fail(where, "{} vehicles: a count is not negative", o.value);
          },
          [&](const Dispatch& d) { check_dispatch(d); }},
      command);
}

void Engine::submit(Command command) {
  check_command(command);
  std::lock_guard lock(impl_->pending_mutex);
  if (const auto* d = std::get_if<Dispatch>(&command)) {
    auto& names = impl_->unit_names;
    if (std::find(names.begin(), names.end(), d->unit) != names.end())
      fail_as(ErrorCategory::conflict, where_of_dispatch(*d), "unit '{}' is already on its way", d->unit);
    names.push_back(d->unit);
  }
  impl_->pending.push_back(std::move(command));
}

void Engine::note(EngineNote note) {
  std::lock_guard lock(impl_->pending_mutex);
  impl_->notes.push_back(std::move(note));
}

void Engine::apply_commands() {
  auto& im = *impl_;
  std::vector<Command> pending;
  {
    std::lock_guard lock(im.pending_mutex);
    pending.swap(im.pending);
  }
  for (auto& command : pending) {
    std::visit(Overloaded{[&](TimedAction& a) {
                            // Due now when its time is past; after the actions already due at the same time.
                            a.t_s = std::max(a.t_s, time_s_);
                            const auto at = std::upper_bound(
                                im.actions.begin() + static_cast<std::ptrdiff_t>(im.next_action), im.actions.end(), a.t_s,
                                [](double t, const TimedAction& b) { return t < b.t_s; });
                            const auto index = at - im.actions.begin();
                            im.actions.insert(at, std::move(a));
                            im.action_taken_s.insert(im.action_taken_s.begin() + index, time_s_);
                          },
                          [&](ForcingChange& f) { apply_forcing(std::move(f)); },
                          [&](Observation& o) { record_observation(o); },
                          [&](Dispatch& d) { dispatch_unit(d); }},
               command);
  }
  // One record per gauge nudged in this step.
  for (const auto& [g, n] : im.step_nudges)
    log_.add(time_s_, impact::kind::flood_nudged, gauges_[g].id, gauges_[g].location,
             fmt::format("model {:.2f} m, observed {:.2f} m at {}{}, now {:.2f} m: {}{:.0f} m3 over {} cell{}", n.model_m,
                         n.observed_m, impact::clock_text(n.measured_s),
                         n.readings > 1 ? fmt::format(" ({} readings)", n.readings) : std::string(), n.now_m,
                         n.net_m3 < 0.0 ? "-" : "+", std::abs(n.net_m3), n.cells, n.cells > 1 ? "s" : ""),
             {});
  im.step_nudges.clear();
}

void Engine::apply_forcing(ForcingChange f) {
  auto& im = *impl_;
  f.from_s = std::max(f.from_s, time_s_);
  std::uint64_t* root = nullptr;
  twin::MapPoint place;
  std::string unit = "mm/h";
  if (f.kind == ForcingChange::Kind::inflow) {
    const auto k = static_cast<std::size_t>(
        std::find_if(setup_.inflows.begin(), setup_.inflows.end(),
                     [&](const flood::PointInflow& i) { return i.label == f.target; }) -
        setup_.inflows.begin());
    flood_->replace_inflow(k, f.from_s, f.series);
    setup_.inflows[k].discharge_m3_s = setup_.inflows[k].discharge_m3_s.replaced_from(f.from_s, f.series);
    root = &im.inflow_root[k];
    place = setup_.inflows[k].location;
    unit = "m3/s";
  } else if (f.target == kUniformRain) {
    flood_->replace_rain(f.from_s, f.series);
    setup_.rain_mm_h = (setup_.rain_mm_h ? *setup_.rain_mm_h : flood::TimeSeries::constant(0.0)).replaced_from(f.from_s, f.series);
    root = &im.rain_root;
  } else {
    const auto z = static_cast<std::size_t>(
        std::find(setup_.rain_zone_labels.begin(), setup_.rain_zone_labels.end(), f.target) -
        setup_.rain_zone_labels.begin());
    flood_->replace_zone_rain(z, f.from_s, f.series);
    auto& mm_h = setup_.rain_zones->mm_h[z];
    mm_h = (mm_h.empty() ? flood::TimeSeries::constant(0.0) : mm_h).replaced_from(f.from_s, f.series);
    root = &im.zone_rain_root[z];
  }
  if (f.kind == ForcingChange::Kind::rain) {
    const twin::Box box = flood_->grid().extent();
    place = {(box.x_min_m + box.x_max_m) / 2.0, (box.y_min_m + box.y_max_m) / 2.0};
  }
  const double peak = *std::max_element(f.series.values().begin(), f.series.values().end());
  const std::string detail = fmt::format("{:.0f} {} from {}, peak {:.0f} {}{}", f.series.at(f.from_s + 1e-3), unit,
                                         impact::clock_text(f.from_s), peak, unit, f.by.empty() ? "" : ", by " + f.by);
  // The change is now what the water of this source answers to.
  const auto id = log_.add(time_s_, impact::kind::forcing_changed, f.target, place, detail,
                           *root ? std::vector<std::uint64_t>{*root} : std::vector<std::uint64_t>{});
  *root = id;
  nlohmann::json j = nlohmann::json::parse(command_json(f));
  j["taken_s"] = time_s_;
  im.command_of_record[id] = j.dump();
}

void Engine::record_observation(const Observation& o) {
  impl_->observations_taken.push_back({time_s_, o});
  if (setup_.nudge_levels) nudge_to(o);
  follow_count(o);
}

void Engine::nudge_to(const Observation& o) {
  auto& im = *impl_;
  // A failed sensor says nothing of the water; a stale reading says what it
  // was, not what it is. A rated gauge's reading is a stream's flow (the
  // server turns it into an inflow), not a level to impose.
  if (o.failed || time_s_ - o.t_s > setup_.nudge_max_age_s) return;
  const auto sensor = std::find_if(territory_.sensors.begin(), territory_.sensors.end(),
                                   [&](const twin::Sensor& s) { return s.id == o.sensor_id; });
  if (sensor == territory_.sensors.end() || sensor->kind != twin::SensorKind::level_gauge || !sensor->rating.empty())
    return;
  const auto g = static_cast<std::size_t>(
      std::find_if(gauges_.begin(), gauges_.end(), [&](const GaugeSeries& s) { return s.id == o.sensor_id; }) -
      gauges_.begin());
  if (g == gauges_.size()) return;  // off the flood grid
  const std::size_t cell = im.gauge_cell[g];
  if (!flood_->inside(cell)) return;
  // The reading is a depth above the gauge's datum, taken to be the bed of
  // its flood cell, the same bed the engine reports the gauge's level from.
  const double model_m = flood_->depth_m(cell);
  const flood::NudgeResult n = flood_->nudge_level(cell, gauges_[g].bed_m + o.value, setup_.level_nudge);
  if (n.cells == 0) return;
  nudged_.added_m3 += n.added_m3;
  nudged_.removed_m3 += n.removed_m3;
  ++nudged_.nudges;
  // Told once the step's commands are applied (apply_commands).
  const bool first = !impl_->step_nudges.count(g);
  auto& step = impl_->step_nudges[g];
  if (first) step.model_m = model_m;
  step.observed_m = o.value;
  step.measured_s = o.t_s;
  step.now_m = n.nudged_wse_m - gauges_[g].bed_m;
  step.net_m3 += n.added_m3 - n.removed_m3;
  step.cells = std::max(step.cells, n.cells);
  ++step.readings;
}

void Engine::note_command(std::uint64_t record, const TimedAction& action) {
  auto& im = *impl_;
  nlohmann::json j = nlohmann::json::parse(command_json(action));
  j["t_s"] = log_.at(record).t_s;  // when it took effect
  if (!std::isnan(im.applying_taken_s)) j["taken_s"] = im.applying_taken_s;
  im.command_of_record[record] = j.dump();
}

std::vector<RecordedCommand> recorded_commands(const twin::RecordingReader& recording, double after_s) {
  std::vector<RecordedCommand> out;
  const std::string where = recording.path().string();
  constexpr std::uint64_t kBatch = 10000;
  for (std::uint64_t first = 0; first < recording.event_count(); first += kBatch) {
    for (const auto& e : recording.events(first, std::min(kBatch, recording.event_count() - first))) {
      if (e.kind != twin::EventKind::operator_action && e.kind != twin::EventKind::inject &&
          e.kind != twin::EventKind::observation)
        continue;
      const auto payload = nlohmann::json::parse(e.payload, nullptr, false);
      if (payload.is_discarded() || !payload.is_object() || !payload.contains("command")) continue;
      // A record carries its command as an object; an observation is one.
      const nlohmann::json& command = payload["command"].is_object() ? payload["command"] : payload;
      if (!command.contains("taken_s")) continue;  // the setup's own, not submitted
      const double taken_s = command["taken_s"].get<double>();
      if (taken_s <= after_s) continue;
      out.push_back({taken_s, command_from_json(command.dump(), fmt::format("{} event {}", where, e.seq))});
    }
  }
  return out;
}

}  // namespace cadereau::sim::engine
