// The simulation-judged search behind `cadereau greenwave` (see plan_search.h):
// starting plans first, then coordinate descent on offsets, splits and the
// common cycle with steps that halve when a whole round finds nothing.

#include "cadereau/sim/traffic/plan_search.h"

#include "parallel_evaluation.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

namespace cadereau::sim::traffic {

namespace {

// What one trip fewer completed costs, shared over all trips: a trip that
// does not arrive is worse than any delay the corridor could win.
constexpr double kMissingTripCost_s = 600.0;
// A move is kept when it lowers the objective by more than this.
constexpr double kMinGain_s = 0.01;
constexpr double kMinOffsetStep_s = 1.0;
constexpr double kMinSplitStep_s = 1.0;
constexpr double kMinCycleStep_s = 5.0;

using Programs = std::vector<twin::TrafficLight>;
using Clock = std::chrono::steady_clock;

double mean(const std::vector<Kpis>& runs, double (*get)(const Kpis&)) {
  double s = 0.0;
  for (const auto& k : runs) s += get(k);
  return runs.empty() ? 0.0 : s / static_cast<double>(runs.size());
}

std::vector<std::size_t> stages_of(const twin::TrafficLight& p) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < p.phases.size(); ++i)
    if (!is_intergreen(p.phases[i].state)) out.push_back(i);
  return out;
}

double wrap(double offset_s, double cycle_s) {
  const double r = std::fmod(offset_s, cycle_s);
  return r < 0.0 ? r + cycle_s : r;
}

double objective_of(const PlanScore& s, const GreenwaveOptions& w, const PlanScore& ref) {
  const double missing = std::max(0.0, ref.completed - s.completed) / std::max(1.0, ref.completed) +
                         std::max(0.0, ref.corridor_trips - s.corridor_trips) / std::max(1.0, ref.corridor_trips);
  return s.corridor_delay_s + w.stop_weight_s * s.corridor_trip_stops +
         w.cross_weight * std::max(0.0, s.cross_travel_time_s - ref.cross_travel_time_s) +
         w.network_weight * std::max(0.0, s.all_travel_time_s - ref.all_travel_time_s) +
         w.network_weight * kMissingTripCost_s * missing;
}

struct Candidate {
  std::string move;
  Programs programs;
  std::optional<std::size_t> light;  // the one light a move changes
};

class Search {
 public:
  Search(const GreenwaveOptions& options, const Corridor& corridor, std::filesystem::path work_dir,
         const std::function<void(const std::string&)>& progress)
      : options_(options), corridor_(corridor), work_dir_(std::move(work_dir)), progress_(progress) {
    for (int s = 0; s < std::max(1, options_.search_seeds); ++s) result_.seed_list.push_back(options_.seed + static_cast<std::uint64_t>(s));
  }

  PlanSearchResult run(const std::vector<PlanStart>& starts) {
    const auto t0 = Clock::now();
    std::filesystem::create_directories(work_dir_);
    std::vector<Candidate> start_plans;
    for (const auto& s : starts) start_plans.push_back({s.name, s.programs});
    say(fmt::format("simulating {} starting plans on {} seeds", starts.size(), result_.seed_list.size()));
    const auto scored = simulate(start_plans, true);
    // The reference: the best of SUMO's tools along the corridor; the first
    // starting plan that ran when no tool did.
    const ScoredPlan* reference = nullptr;
    for (std::size_t i = 0; i < starts.size(); ++i) {
      if (!scored[i]) continue;
      const bool better = !reference || scored[i]->score.corridor_delay_s < reference->score.corridor_delay_s;
      if (starts[i].sumo_tool && better) reference = &*scored[i];
    }
    if (!reference)
      for (std::size_t i = 0; i < starts.size(); ++i)
        if (scored[i] && !reference) reference = &*scored[i];
    if (!reference) {
      std::string why;
      for (const auto& f : result_.failed) why += (why.empty() ? "" : "; ") + f;
      fail("greenwave", "no starting plan could be simulated: {}", why);
    }
    result_.reference = reference->name;
    reference_ = reference->score;
    for (const auto& s : scored) {
      if (!s) continue;
      ScoredPlan p = *s;
      p.score = rescore(p.score);
      result_.starts.push_back(p);
      if (result_.best.programs.empty() || p.score.objective_s < result_.best.score.objective_s) result_.best = p;
    }
    say(fmt::format("best start: {} ({}); reference for cross streets and network: {}", result_.best.name,
                    describe(result_.best.score), result_.reference));
    search_start_ = Clock::now();
    if (options_.search_budget_s > 0.0) descend();
    result_.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::error_code ec;
    std::filesystem::remove_all(work_dir_, ec);
    return result_;
  }

 private:
  void say(const std::string& m) const {
    if (progress_) progress_(m);
  }

  double elapsed_s() const { return std::chrono::duration<double>(Clock::now() - search_start_).count(); }
  bool out_of_time() const { return elapsed_s() >= options_.search_budget_s; }

  std::string describe(const PlanScore& s) const {
    return fmt::format("objective {:.1f} s: corridor trips' delay {:.1f} s and {:.2f} stops, cross streets {:.1f} s, "
                       "all trips {:.1f} s",
                       s.objective_s, s.corridor_delay_s, s.corridor_trip_stops, s.cross_travel_time_s,
                       s.all_travel_time_s);
  }

  PlanScore rescore(PlanScore s) const {
    s.objective_s = objective_of(s, options_, reference_);
    return s;
  }

  // Simulates the plans on every seed; none where a plan's simulation failed.
  std::vector<std::optional<ScoredPlan>> simulate(const std::vector<Candidate>& plans, bool starting = false) {
    std::vector<EvaluationJob> jobs;
    std::vector<std::filesystem::path> files;
    for (const auto& c : plans) {
      files.push_back(work_dir_ / fmt::format("plan-{}.add.xml", ++plan_files_));
      write_plan_additional(c.programs, files.back());
      for (const auto seed : result_.seed_list) jobs.push_back({{files.back()}, seed});
    }
    // The starting plans run whatever the budget; the search's moves stop at it.
    const auto deadline = starting ? Clock::time_point::max()
                                   : search_start_ + std::chrono::duration_cast<Clock::duration>(
                                                         std::chrono::duration<double>(options_.search_budget_s));
    const auto results = evaluate_in_workers(options_, jobs, options_.workers, deadline);
    std::vector<std::optional<ScoredPlan>> out;
    const std::size_t per_plan = result_.seed_list.size();
    for (std::size_t p = 0; p < plans.size(); ++p) {
      std::error_code ec;
      std::filesystem::remove(files[p], ec);
      std::vector<Kpis> runs;
      std::string error;
      bool ran = true;
      for (std::size_t s = 0; s < per_plan; ++s) {
        const auto& r = results[p * per_plan + s];
        ran = ran && (r.kpis || !r.error.empty());
        result_.simulations += r.kpis || !r.error.empty();
        if (r.kpis)
          runs.push_back(*r.kpis);
        else if (error.empty())
          error = r.error;
      }
      if (!ran) {  // cut by the budget
        out.emplace_back();
        continue;
      }
      ++result_.plans;
      if (!error.empty()) {
        result_.failed.push_back(plans[p].move + ": " + error);
        out.emplace_back();
        continue;
      }
      out.push_back(ScoredPlan{plans[p].move, plans[p].programs, score_plan(runs, options_, nullptr)});
    }
    return out;
  }

  void accept(const ScoredPlan& plan, const std::string& move) {
    const std::string from = result_.best.name;
    result_.best = plan;
    result_.best.score = rescore(result_.best.score);
    result_.best.name = from.find(" + search") == std::string::npos ? from + " + search" : from;
    result_.improvements.push_back({result_.simulations, elapsed_s(), move, result_.best.score.objective_s});
    say(fmt::format("{:.0f} s of {:.0f}, {} simulations: {} -> {}", elapsed_s(), options_.search_budget_s,
                    result_.simulations, move, describe(result_.best.score)));
  }

  // Simulates the moves side by side. Each light's best move that beats the
  // best plan is kept; when several lights have one, their moves together
  // are simulated too, and the better of that and the best single move wins.
  bool try_moves(const std::vector<Candidate>& moves) {
    if (moves.empty() || out_of_time()) return false;
    const auto scored = simulate(moves);
    const double bar = result_.best.score.objective_s - kMinGain_s;
    std::map<std::size_t, std::size_t> best_of_light;  // light -> move
    std::optional<std::size_t> winner;
    auto objective = [&](std::size_t i) { return rescore(scored[i]->score).objective_s; };
    for (std::size_t i = 0; i < scored.size(); ++i) {
      if (!scored[i] || objective(i) >= bar) continue;
      if (!winner || objective(i) < objective(*winner)) winner = i;
      if (!moves[i].light) continue;
      auto it = best_of_light.find(*moves[i].light);
      if (it == best_of_light.end() || objective(i) < objective(it->second)) best_of_light[*moves[i].light] = i;
    }
    if (!winner) return false;
    if (best_of_light.size() > 1 && !out_of_time()) {
      Candidate together{"", result_.best.programs, std::nullopt};
      for (const auto& [light, i] : best_of_light) {
        together.programs[light] = moves[i].programs[light];
        together.move += (together.move.empty() ? "" : ", ") + moves[i].move;
      }
      const auto both = simulate({together});
      if (both.front() && rescore(both.front()->score).objective_s < objective(*winner)) {
        accept(*both.front(), together.move);
        return true;
      }
    }
    accept(*scored[*winner], moves[*winner].move);
    return true;
  }

  std::vector<Candidate> offset_moves(std::size_t light, double step_s) const {
    std::vector<Candidate> out;
    for (const double sign : {1.0, -1.0}) {
      Candidate c{fmt::format("offset {} {:+.0f} s", corridor_.signals[light].tls_id, sign * step_s), result_.best.programs,
                  light};
      auto& p = c.programs[light];
      p.offset_s = wrap(std::round(p.offset_s + sign * step_s), p.cycle_s());
      out.push_back(std::move(c));
    }
    return out;
  }

  // Green moved between neighbouring stages of one light, the cycle kept.
  std::vector<Candidate> split_moves(std::size_t light, double step_s) const {
    std::vector<Candidate> out;
    const auto& program = result_.best.programs[light];
    const auto stages = stages_of(program);
    if (stages.size() < 2) return out;
    const std::size_t pairs = stages.size() == 2 ? 1 : stages.size();
    for (std::size_t k = 0; k < pairs; ++k) {
      const std::size_t a = stages[k], b = stages[(k + 1) % stages.size()];
      for (const auto& [to, from] : {std::pair{a, b}, std::pair{b, a}}) {
        if (program.phases[from].duration_s - step_s < options_.min_green_s - 1e-9) continue;
        Candidate c{fmt::format("split {} {:+.0f} s to phase {}", corridor_.signals[light].tls_id, step_s, to),
                    result_.best.programs, light};
        c.programs[light].phases[to].duration_s += step_s;
        c.programs[light].phases[from].duration_s -= step_s;
        out.push_back(std::move(c));
      }
    }
    return out;
  }

  // Every light on a new common cycle, its greens in their current
  // proportions, with offsets scaled and with the MAXBAND offsets.
  std::vector<Candidate> cycle_moves(double step_s) const {
    std::vector<Candidate> out;
    const auto cycle = common_cycle_s(result_.best.programs);
    if (!cycle) return out;
    for (const double sign : {1.0, -1.0}) {
      const double c_new = *cycle + sign * step_s;
      if (c_new < options_.min_cycle_s - 1e-9 || c_new > options_.max_cycle_s + 1e-9) continue;
      Programs scaled;
      try {
        for (const auto& p : result_.best.programs) {
          std::vector<double> weights;
          for (const auto& ph : p.phases) weights.push_back(ph.duration_s);
          auto q = retime(p, c_new, weights, options_.min_green_s);
          q.offset_s = wrap(std::round(p.offset_s * c_new / *cycle), c_new);
          scaled.push_back(std::move(q));
        }
      } catch (const Error&) {
        continue;  // the intergreens and minimum greens do not fit
      }
      out.push_back({fmt::format("cycle {:.0f} s, offsets scaled", c_new), scaled, std::nullopt});
      if (auto problem = bandwidth_problem(corridor_, scaled, options_.speed_m_s, 1.0, 1.0)) {
        const auto band = maximise_bandwidth(*problem);
        Candidate c{fmt::format("cycle {:.0f} s, MAXBAND offsets", c_new), scaled, std::nullopt};
        for (std::size_t i = 0; i < c.programs.size(); ++i) c.programs[i].offset_s = wrap(std::round(band.offsets_s[i]), c_new);
        out.push_back(std::move(c));
      }
    }
    return out;
  }

  void descend() {
    const double cycle = common_cycle_s(result_.best.programs).value_or(result_.best.programs.front().cycle_s());
    double offset_step = std::max(kMinOffsetStep_s, std::round(cycle / 6.0));
    double split_step = 4.0, cycle_step = 10.0;
    const std::size_t n = corridor_.signals.size();
    // Every light's moves of a kind in one batch, the cores kept busy.
    auto all_lights = [&](auto moves_of) {
      std::vector<Candidate> moves;
      for (std::size_t i = 0; i < n; ++i)
        for (auto& m : moves_of(i)) moves.push_back(std::move(m));
      return moves;
    };
    while (!out_of_time()) {
      bool improved = try_moves(all_lights([&](std::size_t i) { return offset_moves(i, offset_step); }));
      improved |= try_moves(all_lights([&](std::size_t i) { return split_moves(i, split_step); }));
      improved |= try_moves(cycle_moves(cycle_step));
      if (out_of_time()) break;
      if (improved) continue;
      if (offset_step <= kMinOffsetStep_s && split_step <= kMinSplitStep_s && cycle_step <= kMinCycleStep_s) {
        result_.converged = true;
        say(fmt::format("converged after {} simulations: no move of {:.0f} s improves the plan", result_.simulations,
                        kMinOffsetStep_s));
        break;
      }
      offset_step = std::max(kMinOffsetStep_s, std::round(offset_step / 2.0));
      split_step = std::max(kMinSplitStep_s, std::round(split_step / 2.0));
      cycle_step = std::max(kMinCycleStep_s, std::round(cycle_step / 2.0));
    }
    if (!result_.converged)
      say(fmt::format("budget of {:.0f} s spent after {} simulations", options_.search_budget_s, result_.simulations));
  }

  const GreenwaveOptions& options_;
  const Corridor& corridor_;
  std::filesystem::path work_dir_;
  const std::function<void(const std::string&)>& progress_;
  PlanSearchResult result_;
  PlanScore reference_;
  Clock::time_point search_start_ = Clock::now();
  int plan_files_ = 0;
};

}  // namespace

PlanScore score_plan(const std::vector<Kpis>& runs, const GreenwaveOptions& options, const PlanScore* reference) {
  PlanScore s;
  s.seeds = static_cast<int>(runs.size());
  if (runs.empty()) return s;
  s.corridor_delay_s = mean(runs, [](const Kpis& k) { return k.corridor.mean_delay_s; });
  s.corridor_delay_min_s = std::numeric_limits<double>::infinity();
  s.corridor_delay_max_s = -std::numeric_limits<double>::infinity();
  for (const auto& k : runs) {
    s.corridor_delay_min_s = std::min(s.corridor_delay_min_s, k.corridor.mean_delay_s);
    s.corridor_delay_max_s = std::max(s.corridor_delay_max_s, k.corridor.mean_delay_s);
  }
  s.corridor_trip_stops = mean(runs, [](const Kpis& k) { return k.corridor.stops_per_vehicle; });
  s.corridor_trips = mean(runs, [](const Kpis& k) { return static_cast<double>(k.corridor.vehicles); });
  s.corridor_travel_time_s = mean(runs, [](const Kpis& k) { return k.mean_corridor_travel_time_s; });
  s.corridor_stops = mean(runs, [](const Kpis& k) {
    const int n = k.forward.vehicles + k.backward.vehicles;
    return n > 0 ? (k.forward.stops_per_vehicle * k.forward.vehicles + k.backward.stops_per_vehicle * k.backward.vehicles) / n
                 : 0.0;
  });
  s.forward_travel_time_s = mean(runs, [](const Kpis& k) { return k.forward.mean_travel_time_s; });
  s.forward_stops = mean(runs, [](const Kpis& k) { return k.forward.stops_per_vehicle; });
  s.backward_travel_time_s = mean(runs, [](const Kpis& k) { return k.backward.mean_travel_time_s; });
  s.backward_stops = mean(runs, [](const Kpis& k) { return k.backward.stops_per_vehicle; });
  s.cross_travel_time_s = mean(runs, [](const Kpis& k) { return k.cross.mean_travel_time_s; });
  s.all_travel_time_s = mean(runs, [](const Kpis& k) { return k.all.mean_travel_time_s; });
  s.all_delay_s = mean(runs, [](const Kpis& k) { return k.all.mean_delay_s; });
  s.completed = mean(runs, [](const Kpis& k) { return static_cast<double>(k.all.vehicles); });
  s.corridor_vehicles = static_cast<int>(std::lround(
      mean(runs, [](const Kpis& k) { return static_cast<double>(k.forward.vehicles + k.backward.vehicles); })));
  s.objective_s = objective_of(s, options, reference ? *reference : s);
  return s;
}

std::vector<std::vector<std::optional<PlanScore>>> score_at_scales(
    const GreenwaveOptions& options, const std::vector<std::vector<twin::TrafficLight>>& plans,
    const std::vector<double>& scales, const PlanScore& reference, const std::filesystem::path& work_dir) {
  std::filesystem::create_directories(work_dir);
  std::vector<std::filesystem::path> files;
  for (std::size_t p = 0; p < plans.size(); ++p) {
    files.push_back(work_dir / fmt::format("scaled-{}.add.xml", p));
    write_plan_additional(plans[p], files.back());
  }
  const int seeds = std::max(1, options.search_seeds);
  std::vector<EvaluationJob> jobs;
  for (const double scale : scales)
    for (const auto& f : files)
      for (int s = 0; s < seeds; ++s) jobs.push_back({{f}, options.seed + static_cast<std::uint64_t>(s), scale});
  const auto results = evaluate_in_workers(options, jobs, options.workers);
  std::vector<std::vector<std::optional<PlanScore>>> out(scales.size(), std::vector<std::optional<PlanScore>>(plans.size()));
  std::size_t j = 0;
  for (std::size_t k = 0; k < scales.size(); ++k) {
    for (std::size_t p = 0; p < plans.size(); ++p) {
      std::vector<Kpis> runs;
      bool ok = true;
      for (int s = 0; s < seeds; ++s, ++j) {
        if (results[j].kpis)
          runs.push_back(*results[j].kpis);
        else
          ok = false;
      }
      if (ok) out[k][p] = score_plan(runs, options, &reference);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(work_dir, ec);
  return out;
}

PlanSearchResult search_plan(const GreenwaveOptions& options, const Corridor& corridor,
                             const std::vector<PlanStart>& starts, const std::filesystem::path& work_dir,
                             const std::function<void(const std::string&)>& progress) {
  if (starts.empty()) fail("greenwave", "internal: no starting plan for the search");
  for (const auto& s : starts)
    if (s.programs.size() != corridor.signals.size())
      fail("greenwave", "internal: starting plan '{}' has {} programs for {} lights", s.name, s.programs.size(),
           corridor.signals.size());
  return Search(options, corridor, work_dir, progress).run(starts);
}

}  // namespace cadereau::sim::traffic
