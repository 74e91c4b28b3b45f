#pragma once
// Signal-plan arithmetic, free of SUMO: Webster's cycle and splits, green
// windows of a movement inside a program, and the two-way green bandwidth of
// a corridor with its MAXBAND-style optimum. Programs are twin::TrafficLight
// (phases with one signal character per controlled link, SUMO's alphabet).
//
// Time convention (SUMO's): a program with offset θ is at position
// (t - θ) mod C at simulation time t, i.e. its phase 0 starts at θ + kC.
// All durations in seconds.

#include "cadereau/twin/road_network.h"

#include <optional>
#include <string>
#include <vector>

namespace cadereau::sim::traffic {

// A phase is an intergreen (change interval) when it shows yellow or no green
// at all; its duration is kept by the planner, only "stages" are retimed.
bool is_intergreen(const std::string& state);
bool is_green(char signal);  // 'G' or 'g'

// The cycle every program shares (to 0.05 s); none when they differ, when
// one has no positive cycle, or when there is no program.
std::optional<double> common_cycle_s(const std::vector<twin::TrafficLight>& programs);

// Webster (1958): C0 = (1.5 L + 5) / (1 - Y), clamped to [min, max]; when the
// junction is saturated (Y >= 0.95) the maximum.
double webster_cycle_s(double lost_time_s, double flow_ratio_sum, double min_cycle_s, double max_cycle_s);

// Lost time of a program: per stage, the larger of its following intergreen
// and lost_per_stage_s.
double lost_time_s(const twin::TrafficLight& program, double lost_per_stage_s);

// The same program with cycle_s: intergreens unchanged, the remaining green
// time shared among stages in proportion to their critical flow ratio
// (stage_flow_ratio per phase, ignored on intergreens) with at least
// min_green_s each, in whole seconds. Falls back to the current green proportions when no flow
// was observed. Throws Error when the cycle cannot hold the intergreens and
// minimum greens.
twin::TrafficLight retime(const twin::TrafficLight& program, double cycle_s, const std::vector<double>& stage_flow_ratio,
                          double min_green_s);

// The longest cyclic run of phases where every listed link is green: start
// from the beginning of the program cycle and duration. Duration 0 when the
// links never get green together.
struct GreenWindow {
  double start_s = 0.0;
  double duration_s = 0.0;
};
GreenWindow green_window(const twin::TrafficLight& program, const std::vector<int>& link_indices);

// A corridor of n signals on one common cycle, for the bandwidth problem.
// forward_arrival_s[i]: travel time from signal 0's stop line to signal i's
// at the progression speed (0 for i = 0); backward_arrival_s[i]: from signal
// n-1's stop line to signal i's. A direction without a road (a one-way
// street) has empty windows and weight 0.
struct BandwidthProblem {
  double cycle_s = 90.0;
  std::vector<GreenWindow> forward_green;   // per signal, in its own program time
  std::vector<GreenWindow> backward_green;
  std::vector<double> forward_arrival_s;
  std::vector<double> backward_arrival_s;
  double forward_weight = 1.0;   // MAXBAND's volume weighting of the two bands
  double backward_weight = 1.0;
};

struct Bandwidth {
  double forward_s = 0.0;   // width of the through band, seconds of green
  double backward_s = 0.0;
  double forward_start_s = 0.0;   // band start at signal 0's stop line (mod cycle)
  double backward_start_s = 0.0;  // band start at signal n-1's stop line (mod cycle)
};

// The bands given offsets (one per signal, SUMO's meaning).
Bandwidth evaluate_bandwidth(const BandwidthProblem& problem, const std::vector<double>& offsets_s,
                             double resolution_s = 0.25);

struct BandwidthPlan {
  std::vector<double> offsets_s;  // in [0, cycle)
  Bandwidth bandwidth;
};

// Offsets maximising forward_weight * b_f + backward_weight * b_b (ties:
// the more balanced pair). See signal_plan.cpp for the method.
BandwidthPlan maximise_bandwidth(const BandwidthProblem& problem, double resolution_s = 0.25);

}  // namespace cadereau::sim::traffic
