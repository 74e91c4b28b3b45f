// Live traffic counts (EngineSetup::follow_counts): the edge of every traffic
// counter of the territory carries a SUMO calibrator, and each reading of a
// counter makes its edge carry the observed flow over the next counting
// interval. Each reading is a record saying what was observed, what the twin
// carried over as long a time before it, and whether it is followed.

#include "engine_impl.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cadereau::sim::engine {

namespace {

// How long the vehicles entering each counted edge are kept: longer than
// the counting interval of any counter.
constexpr double kCountHistory_s = 3600.0;

// The flow into a counted edge over [from_s, to_s], from the samples taken
// at the ends of steps: the span actually covered (0 when none is) and the
// flow over it.
struct SimulatedFlow {
  double span_s = 0.0;
  double veh_per_h = 0.0;
};

SimulatedFlow simulated_flow(const std::deque<std::pair<double, long>>& entered, double from_s, double to_s) {
  constexpr double kEps_s = 1e-6;
  // The last sample at or before each end; the first one when the history
  // starts later (the run started or resumed within the interval).
  const auto at_or_before = [&](double t_s) {
    auto it = std::upper_bound(entered.begin(), entered.end(), t_s + kEps_s,
                               [](double t, const std::pair<double, long>& s) { return t < s.first; });
    return it == entered.begin() ? entered.begin() : std::prev(it);
  };
  if (entered.empty()) return {};
  const auto end = at_or_before(to_s);
  const auto begin = at_or_before(from_s);
  const double span_s = end->first - begin->first;
  if (span_s <= kEps_s) return {};
  return {span_s, static_cast<double>(end->second - begin->second) * 3600.0 / span_s};
}

}  // namespace

std::vector<std::string> Engine::counted_edges() const {
  const std::string where = territory_.manifest.sensors ? territory_.manifest.sensors->string() : std::string("sensors");
  std::vector<std::string> edges;
  for (const auto& s : territory_.sensors) {
    if (s.kind != twin::SensorKind::traffic_counter) continue;
    if (!territory_.network->find_edge(s.edge_id))
      fail_as(ErrorCategory::not_found, where, "traffic counter '{}' counts edge '{}', which the road network does not have",
              s.id, s.edge_id);
    // Two counters on one edge (both directions of a loop, say) share its calibrator.
    if (std::find(edges.begin(), edges.end(), s.edge_id) == edges.end()) edges.push_back(s.edge_id);
  }
  return edges;
}

void Engine::sample_counts(double t_s) {
  for (auto& c : impl_->counted) {
    c.entered.emplace_back(t_s, impl_->traffic->count_following(c.edge_id).passed);
    while (c.entered.size() > 1 && c.entered.front().first < t_s - kCountHistory_s) c.entered.pop_front();
  }
}

void Engine::follow_count(const Observation& o) {
  auto& im = *impl_;
  // A failed counter says nothing of the traffic.
  if (im.counted.empty() || o.failed) return;
  const auto sensor = std::find_if(territory_.sensors.begin(), territory_.sensors.end(),
                                   [&](const twin::Sensor& s) { return s.id == o.sensor_id; });
  if (sensor == territory_.sensors.end() || sensor->kind != twin::SensorKind::traffic_counter) return;
  const auto counted = std::find_if(im.counted.begin(), im.counted.end(),
                                    [&](const Impl::CountedEdge& c) { return c.edge_id == sensor->edge_id; });
  if (counted == im.counted.end()) return;

  // Checked when submitted (check_command): a count >= 0 over a positive interval.
  const double interval_s = o.interval_s.value_or(kDefaultCountInterval_s);
  const double observed_veh_per_h = o.value * 3600.0 / interval_s;
  // What the twin carried over as long a time, up to now (the reading was
  // measured at most an exchange step ago, or is stale).
  const SimulatedFlow simulated = simulated_flow(counted->entered, time_s_ - interval_s, time_s_);
  std::string detail = fmt::format("{} on {}: {:.0f} veh/h observed ({:g} vehicles in {:.0f} s), ", o.sensor_id,
                                   sensor->edge_id, observed_veh_per_h, o.value, interval_s);
  if (simulated.span_s > 0.0)
    detail += fmt::format("{:.0f} veh/h simulated over the last {:.0f} s; ", simulated.veh_per_h, simulated.span_s);
  else
    detail += "no simulated flow yet; ";

  const twin::Edge& edge = *territory_.network->find_edge(sensor->edge_id);
  const double capacity_veh_per_h = kMaxLaneFlow_veh_h * static_cast<double>(std::max<std::size_t>(1, edge.lanes.size()));
  if (time_s_ - o.t_s > interval_s) {
    // A count says how the traffic was over its interval: followed next, it
    // stands for the interval after; much later, for nothing.
    detail += fmt::format("not followed: measured at {}, more than {:.0f} s ago", impact::clock_text(o.t_s), interval_s);
  } else if (observed_veh_per_h > capacity_veh_per_h) {
    detail += fmt::format("not followed: beyond the {:.0f} veh/h {} lane{} can carry", capacity_veh_per_h,
                          edge.lanes.size(), edge.lanes.size() > 1 ? "s" : "");
  } else {
    try {
      const traffic::CountWindow w = im.traffic->follow_count(sensor->edge_id, observed_veh_per_h, std::nullopt, interval_s);
      counted->followed_veh_per_h = observed_veh_per_h;
      counted->followed_until_s = w.end_s - setup_.traffic_begin_s;
      detail += fmt::format("followed from {} to {}", impact::clock_text(w.begin_s - setup_.traffic_begin_s),
                            impact::clock_text(w.end_s - setup_.traffic_begin_s));
    } catch (const std::exception& e) {
      // The step goes on without it: the record says why.
      detail += fmt::format("not followed: {}", e.what());
    }
  }
  log_.add(time_s_, impact::kind::traffic_followed, o.sensor_id, sensor->location, detail, {});
}

}  // namespace cadereau::sim::engine
