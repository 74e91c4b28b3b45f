// The planner: Webster's cycle and splits on the flows counted in the
// baseline, chosen jointly with MAXBAND offsets (see plan_greenwave).

#include "cadereau/sim/traffic/greenwave.h"

#include "cadereau/twin/error.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

namespace cadereau::sim::traffic {

namespace {

// Webster's (1958) mean delay per vehicle on a fixed-time lane: the uniform
// term (scaled by uniform_factor, the share of arrivals not carried through
// on a green band) plus the random-overflow term, times his 0.9 standing for
// the correction term. Past 95 % of capacity the formula has no meaning; a
// steep penalty keeps such candidates comparable, and last.
double webster_delay_s(double cycle_s, double green_ratio, double flow_veh_s, double saturation_veh_s,
                       double uniform_factor) {
  constexpr double kMaxDegreeOfSaturation = 0.95;
  constexpr double kOverloadPenalty_s = 3600.0;  // per unit of saturation above the maximum
  const double lambda = std::clamp(green_ratio, 1e-3, 1.0);
  const double x = flow_veh_s / (saturation_veh_s * lambda);
  const double xc = std::min(x, kMaxDegreeOfSaturation);
  const double uniform_s = 0.5 * cycle_s * (1.0 - lambda) * (1.0 - lambda) / (1.0 - lambda * xc);
  const double random_s = flow_veh_s > 0.0 ? xc * xc / (2.0 * flow_veh_s * (1.0 - xc)) : 0.0;
  const double overload_s = x > kMaxDegreeOfSaturation ? (x - kMaxDegreeOfSaturation) * kOverloadPenalty_s : 0.0;
  return 0.9 * (uniform_factor * uniform_s + random_s) + overload_s;
}

enum class LaneRole { kCross, kForward, kBackward };

// What the delay model needs of one light: its incoming lanes with the flow
// counted in the baseline and their role along the corridor.
struct LightLoad {
  std::vector<std::string> lanes;
  std::vector<double> flow_veh_s;
  std::vector<LaneRole> role;
  std::vector<double> stage_flow_ratio;  // per phase, Webster's critical flow ratio (0 on intergreens)
  std::vector<char> corridor_stage;      // per phase: a stage showing green to a corridor through link
};

LightLoad light_load(const CorridorSignal& s, const twin::TrafficLight& program, const std::vector<long>& link_counts,
                     double duration_s, double saturation_veh_s) {
  LightLoad load;
  std::map<std::string, double> lane_flow;
  for (std::size_t l = 0; l < s.link_lanes.size(); ++l) {
    if (s.link_lanes[l].empty()) continue;
    lane_flow[s.link_lanes[l]] += (l < link_counts.size() ? static_cast<double>(link_counts[l]) : 0.0) / duration_s;
  }
  std::set<std::string> forward_lanes, backward_lanes;
  for (int l : s.forward_links) forward_lanes.insert(s.link_lanes[static_cast<std::size_t>(l)]);
  for (int l : s.backward_links) backward_lanes.insert(s.link_lanes[static_cast<std::size_t>(l)]);
  for (const auto& [lane, q] : lane_flow) {
    load.lanes.push_back(lane);
    load.flow_veh_s.push_back(q);
    load.role.push_back(forward_lanes.count(lane) ? LaneRole::kForward
                        : backward_lanes.count(lane) ? LaneRole::kBackward
                                                      : LaneRole::kCross);
  }
  // A lane green in several stages is served by each: its load is shared.
  std::map<std::string, int> stages_of_lane;
  for (const auto& ph : program.phases) {
    if (is_intergreen(ph.state)) continue;
    std::set<std::string> green_lanes;
    for (std::size_t l = 0; l < s.link_lanes.size() && l < ph.state.size(); ++l)
      if (is_green(ph.state[l])) green_lanes.insert(s.link_lanes[l]);
    for (const auto& lane : green_lanes) stages_of_lane[lane]++;
  }
  load.stage_flow_ratio.assign(program.phases.size(), 0.0);
  load.corridor_stage.assign(program.phases.size(), 0);
  for (std::size_t p = 0; p < program.phases.size(); ++p) {
    const auto& state = program.phases[p].state;
    if (is_intergreen(state)) continue;
    double y = 0.0;
    for (std::size_t l = 0; l < s.link_lanes.size() && l < state.size(); ++l)
      if (is_green(state[l]))
        y = std::max(y, lane_flow[s.link_lanes[l]] / saturation_veh_s / std::max(1, stages_of_lane[s.link_lanes[l]]));
    load.stage_flow_ratio[p] = y;
    auto through_green = [&](const std::vector<int>& links) {
      return std::any_of(links.begin(), links.end(), [&](int l) {
        return static_cast<std::size_t>(l) < state.size() && is_green(state[static_cast<std::size_t>(l)]);
      });
    };
    load.corridor_stage[p] = through_green(s.forward_links) || through_green(s.backward_links);
  }
  return load;
}

// Effective green of each incoming lane under a program: per stage where one
// of its links shows green, the green and the following intergreen less the
// stage's lost time (as lost_time_s counts it).
std::vector<double> lane_effective_green_s(const CorridorSignal& s, const LightLoad& load,
                                           const twin::TrafficLight& program, double lost_per_stage_s) {
  const auto& ph = program.phases;
  const std::size_t n = ph.size();
  std::vector<double> green(load.lanes.size(), 0.0);
  for (std::size_t p = 0; p < n; ++p) {
    if (is_intergreen(ph[p].state)) continue;
    double intergreen = 0.0;
    for (std::size_t k = 1; k < n && is_intergreen(ph[(p + k) % n].state); ++k) intergreen += ph[(p + k) % n].duration_s;
    const double effective = std::max(0.0, ph[p].duration_s + intergreen - std::max(intergreen, lost_per_stage_s));
    for (std::size_t k = 0; k < load.lanes.size(); ++k) {
      bool lane_green = false;
      for (std::size_t l = 0; l < s.link_lanes.size() && l < ph[p].state.size() && !lane_green; ++l)
        lane_green = s.link_lanes[l] == load.lanes[k] && is_green(ph[p].state[l]);
      if (lane_green) green[k] += effective;
    }
  }
  return green;
}

}  // namespace

GreenwavePlan plan_greenwave(const GreenwaveOptions& options, const Corridor& corridor, const Evaluation& baseline) {
  const std::size_t n = corridor.signals.size();
  const double duration_s = std::max(1.0, baseline.record.end_s - baseline.record.begin_s);
  const double saturation_veh_s = options.saturation_flow_veh_h_lane / 3600.0;
  GreenwavePlan plan;
  std::vector<LightLoad> loads(n);
  double webster = options.min_cycle_s;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& prog = baseline.programs[i];
    loads[i] = light_load(corridor.signals[i], prog, baseline.record.link_counts[i], duration_s, saturation_veh_s);
    double intergreen = 0.0, y_sum = 0.0;
    int stages = 0;
    for (std::size_t p = 0; p < prog.phases.size(); ++p) {
      if (is_intergreen(prog.phases[p].state)) {
        intergreen += prog.phases[p].duration_s;
      } else {
        ++stages;
        y_sum += loads[i].stage_flow_ratio[p];
      }
    }
    const double c_i = webster_cycle_s(lost_time_s(prog, options.lost_per_stage_s), y_sum, options.min_cycle_s,
                                       options.max_cycle_s);
    // The critical junction sets the common cycle.
    webster = std::max({webster, c_i, intergreen + options.min_green_s * stages});
  }
  plan.webster_cycle_s = std::ceil(webster);
  plan.cycle_source = options.cycle_s ? "given" : "joint";

  // Candidate cycles: a longer cycle buys wider bands (and a progression
  // that fits the block lengths) at the price of longer reds for everyone.
  std::vector<double> cycles;
  if (options.cycle_s) {
    cycles.push_back(*options.cycle_s);
  } else {
    constexpr double kCycleStep_s = 5.0, kMaxCycleOverWebster = 1.5;
    const double top = std::min(kMaxCycleOverWebster * plan.webster_cycle_s, std::max(options.max_cycle_s, plan.webster_cycle_s));
    for (double c = plan.webster_cycle_s; c <= top + 1e-9; c += kCycleStep_s) cycles.push_back(c);
  }
  // Candidate splits: Webster's, then less weight on the corridor's stages
  // (the band carries its platoons through on less green).
  const std::vector<double> corridor_shares = {1.0, 0.9, 0.8, 0.7, 0.6, 0.5};

  // MAXBAND weights the bands by the directional volumes.
  const double vf = static_cast<double>(baseline.record.forward_volume);
  const double vb = static_cast<double>(baseline.record.backward_volume);
  const double wf = vf + vb > 0.0 ? 2.0 * vf / (vf + vb) : 1.0;
  const double wb = vf + vb > 0.0 ? 2.0 * vb / (vf + vb) : 1.0;

  struct Built {
    std::vector<twin::TrafficLight> programs;
    BandwidthPlan bandwidth;
  };
  std::vector<Built> built;
  for (const double cycle_s : cycles) {
    for (const double share : corridor_shares) {
      Built b;
      for (std::size_t i = 0; i < n; ++i) {
        auto weights = loads[i].stage_flow_ratio;
        for (std::size_t p = 0; p < weights.size(); ++p)
          if (loads[i].corridor_stage[p]) weights[p] *= share;
        auto prog = retime(baseline.programs[i], cycle_s, weights, options.min_green_s);
        prog.program_id = options.plan_program_id;
        prog.type = "static";
        b.programs.push_back(std::move(prog));
      }
      // Whole-second greens make neighbouring shares collide: keep the first.
      const bool seen = std::any_of(built.begin(), built.end(), [&](const Built& other) {
        if (std::abs(other.programs[0].cycle_s() - cycle_s) > 0.05) return false;
        for (std::size_t i = 0; i < n; ++i)
          for (std::size_t p = 0; p < b.programs[i].phases.size(); ++p)
            if (std::abs(other.programs[i].phases[p].duration_s - b.programs[i].phases[p].duration_s) > 0.05) return false;
        return true;
      });
      if (seen) continue;
      const auto problem = bandwidth_problem(corridor, b.programs, options.speed_m_s, wf, wb);
      if (!problem) fail("greenwave", "internal: the retimed programs do not share one cycle");
      b.bandwidth = maximise_bandwidth(*problem);

      PlanCandidate k;
      k.cycle_s = cycle_s;
      k.corridor_share = share;
      k.bandwidth_forward_s = b.bandwidth.bandwidth.forward_s;
      k.bandwidth_backward_s = b.bandwidth.bandwidth.backward_s;
      double corridor_veh = 0.0, corridor_flow = 0.0, cross_veh = 0.0, cross_flow = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        const auto& load = loads[i];
        const auto green = lane_effective_green_s(corridor.signals[i], load, b.programs[i], options.lost_per_stage_s);
        for (std::size_t l = 0; l < load.lanes.size(); ++l) {
          const double q = load.flow_veh_s[l];
          if (q <= 0.0) continue;
          // Past the first light of its direction, the share of a platoon
          // inside the band arrives on green (HCM's progression factor
          // 1 - P with P the share arriving on green).
          double band_s = 0.0;
          if (load.role[l] == LaneRole::kForward && i > 0) band_s = k.bandwidth_forward_s;
          if (load.role[l] == LaneRole::kBackward && i + 1 < n) band_s = k.bandwidth_backward_s;
          const double in_band = green[l] > 0.0 ? std::min(1.0, band_s / green[l]) : 0.0;
          const double d = webster_delay_s(cycle_s, green[l] / cycle_s, q, saturation_veh_s, 1.0 - in_band);
          if (load.role[l] == LaneRole::kCross) {
            cross_veh += q * d;
            cross_flow += q;
          } else {
            corridor_veh += q * d;
            corridor_flow += q;
          }
        }
      }
      k.corridor_delay_s = corridor_flow > 0.0 ? corridor_veh / corridor_flow : 0.0;
      k.cross_delay_s = cross_flow > 0.0 ? cross_veh / cross_flow : 0.0;
      k.total_delay_veh = corridor_veh + cross_veh;
      plan.candidates.push_back(k);
      built.push_back(std::move(b));
    }
  }
  // The reference: Webster's own cycle (or the given one) and splits.
  const double reference_cross_s = plan.candidates.front().cross_delay_s;
  std::optional<std::size_t> best;
  for (std::size_t c = 0; c < plan.candidates.size(); ++c) {
    auto& k = plan.candidates[c];
    k.cross_within_webster = k.cross_delay_s <= reference_cross_s + 1e-9;
    if (k.cross_within_webster && (!best || k.total_delay_veh < plan.candidates[*best].total_delay_veh - 1e-9)) best = c;
  }
  plan.chosen = *best;  // the reference itself always qualifies
  plan.cycle_s = plan.candidates[plan.chosen].cycle_s;
  // Whole-second offsets: SUMO switches on step boundaries, and the bands
  // were centred in their feasible arcs, so half a second costs nothing.
  auto with_offsets = [&](const Built& b) {
    auto programs = b.programs;
    const double c = programs.front().cycle_s();
    for (std::size_t i = 0; i < n; ++i) programs[i].offset_s = std::fmod(std::round(b.bandwidth.offsets_s[i]), c);
    return programs;
  };
  plan.webster_programs = with_offsets(built.front());
  plan.maxband_programs = with_offsets(built[plan.chosen]);
  plan.programs = plan.maxband_programs;
  plan.bandwidth = std::move(built[plan.chosen].bandwidth);
  return plan;
}

}  // namespace cadereau::sim::traffic
