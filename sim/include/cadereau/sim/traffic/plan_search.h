#pragma once
// Light plans judged by simulation. Starting plans (the MAXBAND band, Webster's
// cycle and splits, SUMO's own tools, the current programs) are simulated with
// SUMO on the demand over several seeds, in worker processes side by side; a
// coordinate descent then moves offsets, splits and the common cycle of the
// best of them and keeps a move only when the simulations say it is better.
// The plan returned is the best plan simulated, so never worse than the best
// starting plan on the same seeds.
//
// What is minimised (PlanScore::objective_s): the mean delay (SUMO's
// timeLoss) of the trips that drove on the corridor, plus stop_weight_s
// seconds per stop of theirs, plus penalties for the cross streets and for
// the whole network doing worse than under the reference plan (the best of
// SUMO's tools on the corridor, or the first starting plan when no tool
// ran): cross_weight times each second of cross-street travel time above the
// reference's, network_weight times each second of mean trip time above it,
// and network_weight times 600 s shared over the trips for each trip (or
// corridor trip) fewer completed. A batch of simulations is never started
// past the budget; one under way finishes.

#include "cadereau/sim/traffic/greenwave.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::sim::traffic {

// Searches from the starts (at least one; every program of one start on one
// light in corridor order). Plans are written as additional files in
// work_dir. progress receives a line per batch of simulations. Throws Error
// when no start could be simulated.
PlanSearchResult search_plan(const GreenwaveOptions& options, const Corridor& corridor,
                             const std::vector<PlanStart>& starts, const std::filesystem::path& work_dir,
                             const std::function<void(const std::string&)>& progress = {});

// The plans' scores on the seeds of options.search_seeds with the demand
// scaled by each factor, against the reference score: scores[k][p] for scale
// k and plan p, none where a simulation failed. Plans are written in work_dir.
std::vector<std::vector<std::optional<PlanScore>>> score_at_scales(
    const GreenwaveOptions& options, const std::vector<std::vector<twin::TrafficLight>>& plans,
    const std::vector<double>& scales, const PlanScore& reference, const std::filesystem::path& work_dir);

// The score of averaged KPIs against a reference (itself when null).
PlanScore score_plan(const std::vector<Kpis>& runs, const GreenwaveOptions& options, const PlanScore* reference);

}  // namespace cadereau::sim::traffic
