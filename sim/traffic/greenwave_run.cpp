// `cadereau greenwave` as a whole: the baseline, the plan of each period of
// the day (the analytic planner, SUMO's tools, the search by simulation), the
// plan file, the plan run, the diagrams and the report.

#include "cadereau/sim/traffic/greenwave.h"
#include "cadereau/sim/traffic/plan_search.h"

#include "sumo_tool_plans.h"

#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cadereau::sim::traffic {

namespace {


// Refuses, before anything is simulated, a window in which no trip departs.
void require_trips(const GreenwaveOptions& options, const SimulationWindow& w) {
  if (w.trips_in_window > 0) return;
  std::string files;
  for (const auto& f : options.routes) files += (files.empty() ? "" : ", ") + f.string();
  if (w.demand.trips() == 0) fail(files, "no vehicle, trip or flow with a departure time: nothing to simulate");
  const std::string end = w.end_s ? fmt::format("{} ({:.0f} s)", clock_time(*w.end_s), *w.end_s) : "the end";
  fail(files,
       "no trip departs in the window from {} ({:.0f} s) to {}: the demand's {} trips depart from {} to {} ({:.0f}-{:.0f} "
       "s); leave the window to its default (the demand's span) or move it there",
       clock_time(w.begin_s), w.begin_s, end, w.demand.trips(), clock_time(w.demand.first_s()),
       clock_time(w.demand.last_s()), w.demand.first_s(), w.demand.last_s());
}

// Refuses a baseline in which no vehicle used the corridor: a plan would rest
// on no corridor flow and both runs would report zeros.
void require_corridor_traffic(const GreenwaveOptions& options, const SimulationWindow& w, const Corridor& c,
                              const Kpis& k) {
  if (k.corridor.vehicles > 0) return;
  std::string files;
  for (const auto& f : options.routes) files += (files.empty() ? "" : ", ") + f.string();
  const std::string end = w.end_s ? fmt::format("{} ({:.0f} s)", clock_time(*w.end_s), *w.end_s) : "the end";
  fail(files,
       "no vehicle drove on the corridor ({} to {}{}) in the window from {} ({:.0f} s) to {}, though {} trips depart "
       "in it: there is no corridor flow to plan for; widen the window or give a demand that uses the corridor",
       c.signals.front().tls_id, c.signals.back().tls_id, c.street.empty() ? "" : " along " + c.street,
       clock_time(w.begin_s), w.begin_s, end, w.trips_in_window);
}

// What makes the baseline's figures weak: a direction no vehicle drove end
// to end (its travel time is then n/a).
std::vector<std::string> baseline_warnings(const Corridor& c, const Kpis& k) {
  std::vector<std::string> out;
  const std::string& first = c.signals.front().tls_id;
  const std::string& last = c.signals.back().tls_id;
  auto direction = [&](int vehicles, const std::string& from, const std::string& to) {
    if (vehicles == 0)
      out.push_back(fmt::format("no vehicle drove the whole corridor from {} to {} in the baseline: its travel time is "
                                "n/a; the {} corridor trips drove part of it",
                                from, to, k.corridor.vehicles));
  };
  direction(k.forward.vehicles, first, last);
  if (c.two_way()) direction(k.backward.vehicles, last, first);
  return out;
}

std::vector<twin::TrafficLight> as_plan(std::vector<twin::TrafficLight> programs, const std::string& program_id) {
  for (auto& p : programs) {
    p.program_id = program_id;
    p.type = "static";
  }
  return programs;
}

bool same_timing(const std::vector<twin::TrafficLight>& a, const std::vector<twin::TrafficLight>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].phases.size() != b[i].phases.size() || std::abs(a[i].offset_s - b[i].offset_s) > 0.05) return false;
    for (std::size_t k = 0; k < a[i].phases.size(); ++k)
      if (std::abs(a[i].phases[k].duration_s - b[i].phases[k].duration_s) > 0.05 || a[i].phases[k].state != b[i].phases[k].state)
        return false;
  }
  return true;
}

// The plan's bands, and the widest its greens allow in each direction: the
// narrowest through green along the corridor.
void measure_bands(const GreenwaveOptions& options, const Corridor& c, GreenwavePlan& plan) {
  plan.max_band_forward_s = plan.max_band_backward_s = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < c.signals.size(); ++i) {
    plan.max_band_forward_s =
        std::min(plan.max_band_forward_s, green_window(plan.programs[i], c.signals[i].forward_links).duration_s);
    plan.max_band_backward_s = c.two_way() ? std::min(plan.max_band_backward_s,
                                                      green_window(plan.programs[i], c.signals[i].backward_links).duration_s)
                                           : 0.0;
  }
  plan.bandwidth = {};
  for (const auto& p : plan.programs) plan.bandwidth.offsets_s.push_back(p.offset_s);
  const auto cycle = common_cycle_s(plan.programs);
  plan.cycle_s = cycle.value_or(0.0);
  if (!cycle) return;
  if (auto problem = bandwidth_problem(c, plan.programs, options.speed_m_s, 1.0, 1.0))
    plan.bandwidth.bandwidth = evaluate_bandwidth(*problem, plan.bandwidth.offsets_s);
}

// Starting plans that favour the corridor: longer common cycles with more of
// the green to the stages that serve it, and their MAXBAND offsets. A band
// only carries a platoon when it is wider than the platoon; SUMO's tools and
// Webster's short cycles leave bands of a few seconds.
std::vector<PlanStart> corridor_priority_starts(const GreenwaveOptions& o, const Corridor& corridor,
                                                const std::vector<twin::TrafficLight>& webster) {
  constexpr double kCycles_s[] = {60.0, 90.0};
  constexpr double kCorridorBoost[] = {1.5};
  std::vector<PlanStart> out;
  for (const double cycle_s : kCycles_s) {
    if (cycle_s < o.min_cycle_s || cycle_s > o.max_cycle_s || cycle_s <= webster.front().cycle_s() + 1.0) continue;
    for (const double boost : kCorridorBoost) {
      std::vector<twin::TrafficLight> programs;
      try {
        for (std::size_t i = 0; i < webster.size(); ++i) {
          const auto& s = corridor.signals[i];
          std::vector<double> weights;
          for (const auto& ph : webster[i].phases) {
            bool serves = false;
            for (const auto* links : {&s.forward_links, &s.backward_links})
              for (int l : *links)
                serves = serves || (static_cast<std::size_t>(l) < ph.state.size() && is_green(ph.state[static_cast<std::size_t>(l)]));
            weights.push_back(ph.duration_s * (serves ? boost : 1.0));
          }
          programs.push_back(retime(webster[i], cycle_s, weights, o.min_green_s));
        }
      } catch (const Error&) {
        continue;
      }
      if (auto problem = bandwidth_problem(corridor, programs, o.speed_m_s, 1.0, 1.0)) {
        const auto band = maximise_bandwidth(*problem);
        for (std::size_t i = 0; i < programs.size(); ++i)
          programs[i].offset_s = std::fmod(std::round(band.offsets_s[i]), cycle_s);
      }
      out.push_back({fmt::format("corridor first: cycle {:.0f} s, corridor green x{:g}, MAXBAND offsets", cycle_s, boost),
                     as_plan(programs, o.plan_program_id), false});
    }
  }
  return out;
}

// One period's plan: the analytic planner on the period's baseline, SUMO's
// tools, then the search by simulation from all of them and the current
// programs.
GreenwavePlan plan_period(const GreenwaveOptions& o, const Corridor& corridor, const Evaluation& baseline,
                          const std::string& suffix, const std::function<void(const std::string&)>& say) {
  GreenwavePlan plan = plan_greenwave(o, corridor, baseline);
  const std::string& id = o.plan_program_id;
  std::vector<PlanStart> starts = {{"MAXBAND band on Webster delays", plan.maxband_programs, false},
                                   {"Webster cycle and splits, MAXBAND offsets", plan.webster_programs, false},
                                   {"current programs", as_plan(baseline.programs, id), false}};
  for (auto& p : corridor_priority_starts(o, corridor, plan.webster_programs)) starts.push_back(std::move(p));
  if (o.sumo_tool_starts) {
    say("running SUMO's tlsCycleAdaptation.py and tlsCoordinator.py for starting plans");
    for (const auto& t : sumo_tool_plans(o, o.begin_s.value_or(0.0), o.out / ("sumo_tools" + suffix))) {
      if (!t.error.empty()) {
        plan.tool_errors.push_back(t.name + ": " + t.error);
        continue;
      }
      starts.push_back({t.name, as_plan(programs_after(baseline.programs, t.additionals), id), true});
    }
  }
  std::vector<PlanStart> distinct;
  for (auto& s : starts) {
    const bool seen = std::any_of(distinct.begin(), distinct.end(),
                                  [&](const PlanStart& d) { return same_timing(d.programs, s.programs); });
    if (!seen) distinct.push_back(std::move(s));
  }
  plan.search = search_plan(o, corridor, distinct, o.out / (".search" + suffix), say);
  plan.programs = as_plan(plan.search.best.programs, id);
  measure_bands(o, corridor, plan);
  const auto reference = std::find_if(plan.search.starts.begin(), plan.search.starts.end(),
                                      [&](const ScoredPlan& p) { return p.name == plan.search.reference; });
  if (o.robustness_scale > 0.0 && reference != plan.search.starts.end()) {
    const std::vector<double> scales = {1.0 - o.robustness_scale, 1.0 + o.robustness_scale};
    say(fmt::format("robustness: the plan and {} on the demand x{:g} and x{:g}", plan.search.reference, scales[0],
                    scales[1]));
    const auto scores = score_at_scales(o, {plan.programs, reference->programs}, scales, reference->score,
                                        o.out / (".scaled" + suffix));
    for (std::size_t k = 0; k < scales.size(); ++k)
      if (scores[k][0] && scores[k][1]) plan.robustness.push_back({scales[k], *scores[k][0], *scores[k][1]});
  }
  return plan;
}

// The diagrams of each period: the busiest ten minutes of the baseline in it,
// baseline and plan over the same stretch.
void write_diagrams(const GreenwaveOptions& options, GreenwaveReport& r) {
  constexpr double kDiagramWindow_s = 600.0;
  const std::string on = r.corridor.street.empty() ? "" : ", " + r.corridor.street;
  std::vector<double> base_offsets;
  for (const auto& p : r.baseline.programs) base_offsets.push_back(p.offset_s);
  for (std::size_t k = 0; k < r.plans.size(); ++k) {
    auto& plan = r.plans[k];
    const double from_s = plan.period.begin_s;
    const double to_s = plan.period.end_s.value_or(std::numeric_limits<double>::infinity());
    const auto [t0, t1] = busiest_window(r.baseline.record, kDiagramWindow_s, from_s, to_s);
    TimeSpaceView view;
    view.t0_s = t0;
    view.t1_s = t1;
    view.speed_m_s = options.speed_m_s;
    view.subtitle = fmt::format("{} to {}: the {:.0f} minutes with the most vehicles on the corridor in the baseline run "
                                "({}{})",
                                clock_time(t0), clock_time(t1), (t1 - t0) / 60.0,
                                r.plans.size() > 1 ? "period " : "", r.plans.size() > 1 ? plan.period.name
                                : clock_time(r.baseline.record.begin_s) + " to " +
                                  clock_time(std::max(r.baseline.record.end_s, r.planned.record.end_s)));
    const std::string suffix = r.plans.size() > 1 ? fmt::format("-{}", k + 1) : "";
    view.title = "Baseline: the network's own programs" + on;
    plan.baseline_diagram = options.out / ("time_space_baseline" + suffix + ".svg");
    write_time_space_svg(plan.baseline_diagram, view, r.corridor, r.baseline.record,
                         bandwidth_problem(r.corridor, r.baseline.programs, options.speed_m_s, 1, 1), base_offsets);
    view.title = plan.cycle_s > 0.0 ? fmt::format("Green-wave plan: cycle {:.0f} s, {:.0f} km/h{}", plan.cycle_s,
                                                  options.speed_m_s * 3.6, on)
                                    : fmt::format("Green-wave plan, {:.0f} km/h{}", options.speed_m_s * 3.6, on);
    plan.plan_diagram = options.out / ("time_space_plan" + suffix + ".svg");
    write_time_space_svg(plan.plan_diagram, view, r.corridor, r.planned.record,
                         bandwidth_problem(r.corridor, plan.programs, options.speed_m_s, 1, 1), plan.bandwidth.offsets_s);
  }
}

}  // namespace

GreenwaveReport run_greenwave(const GreenwaveOptions& options, const std::function<void(const std::string&)>& progress) {
  if (!(options.speed_m_s > 0.0)) fail("greenwave", "the progression speed must be positive");
  if (options.routes.empty()) fail("greenwave", "no route file");
  GreenwaveReport r;
  r.window = resolve_window(options);
  require_trips(options, r.window);
  const auto periods = day_periods(options, r.window);
  GreenwaveOptions o = options;
  o.begin_s = r.window.begin_s;
  std::filesystem::create_directories(o.out);
  auto say = [&](const std::string& m) {
    if (progress) progress(m);
  };
  say(fmt::format("baseline: simulating the network's own programs from {}", clock_time(r.window.begin_s)));
  r.baseline = evaluate(o, {});
  r.corridor = r.baseline.corridor;
  require_corridor_traffic(options, r.window, r.corridor, r.baseline.kpis);
  r.warnings = baseline_warnings(r.corridor, r.baseline.kpis);
  std::vector<twin::TrafficLight> all_programs;
  std::vector<WautSwitch> switches;
  for (std::size_t k = 0; k < periods.size(); ++k) {
    const auto& period = periods[k];
    GreenwaveOptions po = o;
    po.begin_s = period.begin_s;
    po.end_s = period.end_s;
    if (periods.size() > 1) po.plan_program_id = fmt::format("{}-{}", o.plan_program_id, k + 1);
    const std::string tag = periods.size() > 1 ? fmt::format("period {} ({}): ", k + 1, period.name) : "";
    auto period_say = [&](const std::string& m) { say(tag + m); };
    Evaluation period_baseline;
    if (periods.size() > 1) {
      period_say("simulating the network's own programs in the period");
      period_baseline = evaluate(po, {});
    }
    const std::string suffix = periods.size() > 1 ? fmt::format("-{}", k + 1) : "";
    GreenwavePlan plan = plan_period(po, r.corridor, periods.size() > 1 ? period_baseline : r.baseline, suffix, period_say);
    plan.period = period;
    all_programs.insert(all_programs.end(), plan.programs.begin(), plan.programs.end());
    if (periods.size() > 1) switches.push_back({period.begin_s, po.plan_program_id});
    r.plans.push_back(std::move(plan));
  }
  r.plan_file = o.out / "plan.add.xml";
  write_plan_additional(all_programs, r.plan_file, switches, o.plan_program_id);
  say("plan: simulating it over the whole window on the demand and seed of the baseline");
  r.planned = evaluate(o, {r.plan_file});
  for (const auto& p : r.planned.programs)
    if (p.program_id != r.plans.front().programs.front().program_id)
      fail(r.plan_file.string(), "SUMO did not activate the plan at light '{}' (it runs '{}')", p.id, p.program_id);
  write_diagrams(o, r);
  r.report_file = o.out / "report.json";
  write_greenwave_report(o, r, r.report_file);
  return r;
}

}  // namespace cadereau::sim::traffic
