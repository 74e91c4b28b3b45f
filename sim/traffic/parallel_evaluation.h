#pragma once
// Simulating many light plans at once: libsumo runs one simulation per
// process, so each simulation is a worker process forked from this one,
// running evaluate() and handing its KPIs back through a pipe. At most
// `workers` run at a time; results come back in the order of the jobs.

#include "cadereau/sim/traffic/greenwave.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::sim::traffic {

struct EvaluationJob {
  std::vector<std::filesystem::path> additionals;  // the plan; none: the network's own programs
  std::uint64_t seed = 42;
  double demand_scale = 1.0;
};

struct EvaluationResult {
  std::optional<Kpis> kpis;  // none when the simulation failed or did not run
  std::string error;         // why it failed; empty when it did not run (past the deadline)
};

// Runs every job with options' network, demand and window (the seed from the
// job), starting none after the deadline. The calling process must not be
// running a libsumo simulation itself.
std::vector<EvaluationResult> evaluate_in_workers(
    const GreenwaveOptions& options, const std::vector<EvaluationJob>& jobs, int workers,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

}  // namespace cadereau::sim::traffic
