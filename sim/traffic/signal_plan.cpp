#include "cadereau/sim/traffic/signal_plan.h"

#include "cadereau/twin/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cadereau::sim::traffic {

namespace {

double wrap(double t, double cycle_s) {
  double r = std::fmod(t, cycle_s);
  return r < 0.0 ? r + cycle_s : r;
}

// Longest cyclic run of true in flags; returns (start index, length).
std::pair<std::size_t, std::size_t> longest_cyclic_run(const std::vector<char>& flags) {
  const std::size_t n = flags.size();
  if (n == 0) return {0, 0};
  if (std::all_of(flags.begin(), flags.end(), [](char f) { return f != 0; })) return {0, n};
  // Start scanning just after a false so that a run wrapping the end is seen whole.
  std::size_t first_false = 0;
  while (flags[first_false]) ++first_false;
  std::size_t best_start = 0, best_len = 0, start = 0, len = 0;
  for (std::size_t k = 1; k <= n; ++k) {
    const std::size_t i = (first_false + k) % n;
    if (flags[i]) {
      if (len == 0) start = i;
      ++len;
      if (len > best_len) {
        best_len = len;
        best_start = start;
      }
    } else {
      len = 0;
    }
  }
  return {best_start, best_len};
}

// Whether two arcs [s1, s1+l1] and [s2, s2+l2] on a circle of circumference
// c meet; when they do, mid receives the middle of (one of) the overlaps.
bool arcs_meet(double s1, double l1, double s2, double l2, double c, double& mid) {
  if (l1 < 0.0 || l2 < 0.0) return false;
  if (l1 >= c) {
    mid = s2 + 0.5 * std::min(l2, c);
    return true;
  }
  if (l2 >= c) {
    mid = s1 + 0.5 * l1;
    return true;
  }
  const double d = wrap(s2 - s1, c);  // s2 seen from s1, in [0, c)
  if (d <= l1) {                      // arc 2 starts inside arc 1
    mid = 0.5 * (s1 + d + std::min(s1 + l1, s1 + d + l2));
    return true;
  }
  if (d + l2 >= c) {  // arc 2 wraps round onto the start of arc 1
    const double end = std::min(l1, d + l2 - c);
    mid = s1 + 0.5 * end;
    return true;
  }
  return false;
}

}  // namespace

bool is_green(char signal) { return signal == 'G' || signal == 'g'; }

bool is_intergreen(const std::string& state) {
  const bool yellow = state.find_first_of("yY") != std::string::npos;
  const bool green = state.find_first_of("Gg") != std::string::npos;
  return yellow || !green;
}

std::optional<double> common_cycle_s(const std::vector<twin::TrafficLight>& programs) {
  if (programs.empty()) return std::nullopt;
  const double c = programs.front().cycle_s();
  for (const auto& p : programs)
    if (std::abs(p.cycle_s() - c) > 0.05 || p.cycle_s() <= 0.0) return std::nullopt;
  return c;
}

double webster_cycle_s(double lost_time_s, double flow_ratio_sum, double min_cycle_s, double max_cycle_s) {
  if (flow_ratio_sum >= 0.95) return max_cycle_s;
  const double c = (1.5 * lost_time_s + 5.0) / (1.0 - std::max(0.0, flow_ratio_sum));
  return std::clamp(c, min_cycle_s, max_cycle_s);
}

double lost_time_s(const twin::TrafficLight& program, double lost_per_stage_s) {
  const auto& ph = program.phases;
  const std::size_t n = ph.size();
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (is_intergreen(ph[i].state)) continue;
    double intergreen = 0.0;
    for (std::size_t k = 1; k < n && is_intergreen(ph[(i + k) % n].state); ++k) intergreen += ph[(i + k) % n].duration_s;
    total += std::max(intergreen, lost_per_stage_s);
  }
  return total;
}

twin::TrafficLight retime(const twin::TrafficLight& program, double cycle_s, const std::vector<double>& stage_flow_ratio,
                          double min_green_s) {
  twin::TrafficLight out = program;
  std::vector<std::size_t> stages;
  double intergreen_s = 0.0;
  for (std::size_t i = 0; i < program.phases.size(); ++i) {
    if (is_intergreen(program.phases[i].state))
      intergreen_s += program.phases[i].duration_s;
    else
      stages.push_back(i);
  }
  if (stages.empty()) return out;
  const double green_s = cycle_s - intergreen_s;
  if (green_s < min_green_s * static_cast<double>(stages.size()))
    fail("light " + program.id, "a {:.0f} s cycle cannot hold {:.0f} s of intergreens and {} stages of {:.0f} s",
         cycle_s, intergreen_s, stages.size(), min_green_s);
  std::vector<double> weight(stages.size());
  double total_weight = 0.0;
  for (std::size_t k = 0; k < stages.size(); ++k) {
    const std::size_t i = stages[k];
    weight[k] = i < stage_flow_ratio.size() ? std::max(0.0, stage_flow_ratio[i]) : 0.0;
    total_weight += weight[k];
  }
  if (total_weight <= 0.0) {
    for (std::size_t k = 0; k < stages.size(); ++k) weight[k] = program.phases[stages[k]].duration_s;
    total_weight = std::accumulate(weight.begin(), weight.end(), 0.0);
  }
  // Webster's proportional split; stages pinned at the minimum green leave the
  // rest to be shared again among the others.
  std::vector<char> pinned(stages.size(), 0);
  std::vector<double> green(stages.size(), 0.0);
  for (int round = 0; round < static_cast<int>(stages.size()) + 1; ++round) {
    double free_green = green_s, free_weight = 0.0;
    for (std::size_t k = 0; k < stages.size(); ++k) {
      if (pinned[k])
        free_green -= min_green_s;
      else
        free_weight += weight[k];
    }
    bool changed = false;
    for (std::size_t k = 0; k < stages.size(); ++k) {
      if (pinned[k]) {
        green[k] = min_green_s;
        continue;
      }
      green[k] = free_weight > 0.0 ? free_green * weight[k] / free_weight : free_green / static_cast<double>(stages.size());
      if (green[k] < min_green_s) {
        pinned[k] = 1;
        changed = true;
      }
    }
    if (!changed) break;
  }
  // Whole seconds (SUMO switches lights on step boundaries), the rounding
  // error given to the longest stage so the cycle stays exact.
  double sum = 0.0;
  std::size_t longest = 0;
  for (std::size_t k = 0; k < stages.size(); ++k) {
    green[k] = std::round(green[k]);
    sum += green[k];
    if (green[k] > green[longest]) longest = k;
  }
  green[longest] += green_s - sum;
  for (std::size_t k = 0; k < stages.size(); ++k) out.phases[stages[k]].duration_s = green[k];
  return out;
}

GreenWindow green_window(const twin::TrafficLight& program, const std::vector<int>& link_indices) {
  const auto& ph = program.phases;
  std::vector<char> flags(ph.size(), 0);
  for (std::size_t i = 0; i < ph.size(); ++i) {
    bool all = !link_indices.empty();
    for (int l : link_indices)
      all = all && l >= 0 && static_cast<std::size_t>(l) < ph[i].state.size() && is_green(ph[i].state[static_cast<std::size_t>(l)]);
    flags[i] = all;
  }
  const auto [start, len] = longest_cyclic_run(flags);
  GreenWindow w;
  for (std::size_t i = 0; i < start; ++i) w.start_s += ph[i].duration_s;
  for (std::size_t k = 0; k < len; ++k) w.duration_s += ph[(start + k) % ph.size()].duration_s;
  return w;
}

Bandwidth evaluate_bandwidth(const BandwidthProblem& p, const std::vector<double>& offsets_s, double resolution_s) {
  const double c = p.cycle_s;
  const std::size_t samples = static_cast<std::size_t>(std::ceil(c / resolution_s));
  const std::size_t n = p.forward_green.size();
  Bandwidth b;
  auto band = [&](const std::vector<GreenWindow>& green, const std::vector<double>& arrival, double& width, double& start) {
    if (green.empty() || std::all_of(green.begin(), green.end(), [](const GreenWindow& g) { return g.duration_s <= 0.0; })) {
      width = 0.0;
      return;
    }
    std::vector<char> ok(samples, 1);
    for (std::size_t k = 0; k < samples; ++k) {
      const double tau = static_cast<double>(k) * resolution_s;
      for (std::size_t i = 0; i < n && ok[k]; ++i) {
        const double into_green = wrap(tau + arrival[i] - offsets_s[i] - green[i].start_s, c);
        ok[k] = into_green < green[i].duration_s;
      }
    }
    const auto [s, len] = longest_cyclic_run(ok);
    width = std::min(c, static_cast<double>(len) * resolution_s);
    start = static_cast<double>(s) * resolution_s;
  };
  band(p.forward_green, p.forward_arrival_s, b.forward_s, b.forward_start_s);
  band(p.backward_green, p.backward_arrival_s, b.backward_s, b.backward_start_s);
  return b;
}

// The method. MAXBAND (Little, 1966; Little, Kelson & Gartner, 1981) seeks
// offsets giving the widest pair of progression bands, one per direction,
// each a parallelogram of constant width crossing every signal inside its
// through green. Its mixed-integer program is small for one arterial and
// one fixed cycle, and the same optimum can be had by exact enumeration:
//   * the time origin is free, so put the forward band's start at signal 0 at
//     t = 0; what remains is the backward band's start tau_b (at the last
//     signal) and the two widths b_f, b_b;
//   * given (b_f, tau_b, b_b), signals decouple: signal i fits both bands iff
//     its offset lies in the arc where the forward band [T_i, T_i + b_f] sits
//     inside its forward green, AND in the arc where the backward band sits
//     inside its backward green. Both arcs are explicit (length g - b), so
//     feasibility is an O(n) test of arc intersections;
//   * for fixed (tau_b, b_f) feasibility is monotone in b_b (the arcs only
//     shrink), so the widest b_b is found by bisection.
// Enumerating tau_b and b_f on a grid of `resolution_s` gives the optimum of
// w_f b_f + w_b b_b to that resolution, where MAXBAND's weights are the
// directional volumes. Each offset is then put in the middle of its feasible
// arc, which centres the bands inside the greens and leaves slack on both
// sides for platoon dispersion and turning queues.
BandwidthPlan maximise_bandwidth(const BandwidthProblem& p, double resolution_s) {
  const double c = p.cycle_s;
  const std::size_t n = p.forward_green.size();
  if (n == 0) return {};
  const bool two_way = p.backward_green.size() == n && p.backward_weight > 0.0 &&
                       std::all_of(p.backward_green.begin(), p.backward_green.end(),
                                   [](const GreenWindow& g) { return g.duration_s > 0.0; });
  double max_f = c, max_b = two_way ? c : 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    max_f = std::min(max_f, p.forward_green[i].duration_s);
    if (two_way) max_b = std::min(max_b, p.backward_green[i].duration_s);
  }
  // Offsets when every signal fits the bands in use; false otherwise. A band
  // not in use (one-way progression) constrains nothing.
  auto fits = [&](bool use_f, double b_f, bool use_b, double tau_b, double b_b, std::vector<double>* out) {
    for (std::size_t i = 0; i < n; ++i) {
      double s1 = 0.0, l1 = c, s2 = 0.0, l2 = c;
      if (use_f) {
        const auto& gf = p.forward_green[i];
        s1 = p.forward_arrival_s[i] + b_f - gf.start_s - gf.duration_s;
        l1 = gf.duration_s - b_f;
      }
      if (use_b) {
        const auto& gb = p.backward_green[i];
        s2 = tau_b + p.backward_arrival_s[i] + b_b - gb.start_s - gb.duration_s;
        l2 = gb.duration_s - b_b;
      }
      double mid = 0.0;
      if (!arcs_meet(s1, l1, s2, l2, c, mid)) return false;
      if (out) (*out)[i] = wrap(mid, c);
    }
    return true;
  };
  struct Candidate {
    bool use_f = false, use_b = false;
    double b_f = 0.0, b_b = 0.0, tau_b = 0.0, score = -1.0, balance = -1.0;
  } best;
  auto consider = [&](const Candidate& k) {
    if (k.score > best.score + 1e-9 || (std::abs(k.score - best.score) <= 1e-9 && k.balance > best.balance)) best = k;
  };
  // One band only: the widest is the narrowest green, always reachable.
  if (max_f > 0.0) consider({true, false, max_f, 0.0, 0.0, p.forward_weight * max_f, 0.0});
  if (two_way && max_b > 0.0) consider({false, true, 0.0, max_b, 0.0, p.backward_weight * max_b, 0.0});
  // Both bands.
  if (two_way) {
    const int steps_tau = static_cast<int>(std::ceil(c / resolution_s));
    const int steps_f = static_cast<int>(std::floor(max_f / resolution_s + 1e-9));
    const int steps_b = static_cast<int>(std::floor(max_b / resolution_s + 1e-9));
    for (int kt = 0; kt < steps_tau; ++kt) {
      const double tau_b = kt * resolution_s;
      for (int kf = steps_f; kf >= 0; --kf) {
        const double b_f = kf * resolution_s;
        if (!fits(true, b_f, true, tau_b, 0.0, nullptr)) continue;
        int lo = 0, hi = steps_b;
        while (lo < hi) {  // largest feasible b_b index
          const int mid = (lo + hi + 1) / 2;
          if (fits(true, b_f, true, tau_b, mid * resolution_s, nullptr))
            lo = mid;
          else
            hi = mid - 1;
        }
        const double b_b = lo * resolution_s;
        consider({true, true, b_f, b_b, tau_b, p.forward_weight * b_f + p.backward_weight * b_b, std::min(b_f, b_b)});
      }
    }
  }
  BandwidthPlan plan;
  plan.offsets_s.assign(n, 0.0);
  if (best.score < 0.0 || !fits(best.use_f, best.b_f, best.use_b, best.tau_b, best.b_b, &plan.offsets_s)) {
    // No band at all (a light without through green): keep offsets 0.
    plan.bandwidth = evaluate_bandwidth(p, plan.offsets_s, resolution_s);
    return plan;
  }
  // Signal 0's offset at 0, as planners read them.
  const double shift = plan.offsets_s[0];
  for (auto& o : plan.offsets_s) o = wrap(o - shift, c);
  plan.bandwidth = evaluate_bandwidth(p, plan.offsets_s, resolution_s);
  return plan;
}

}  // namespace cadereau::sim::traffic
