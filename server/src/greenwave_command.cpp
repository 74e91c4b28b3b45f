#include "greenwave_command.h"

#include "command_args.h"

#include "cadereau/sim/traffic/greenwave.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <ostream>

namespace cadereau::server {

const char* const kGreenwaveUsage =
    "  greenwave --net NET.net.xml --routes ROUTES.rou.xml[,MORE] --tls ID,ID,... --out DIR\n"
    "        [--additional FILE,...  (vehicle types, the lights' real programs: the baseline)]\n"
    "        [--speed-kmh 50] [--cycle-s SECONDS] [--begin S] [--end S] [--seed N]\n"
    "        [--min-green-s 5] [--min-cycle-s 30] [--max-cycle-s 120]\n"
    "        [--budget-s 120] [--seeds 3] [--workers 2] [--periods auto|one|HH:MM-HH:MM,...]\n"
    "        [--stop-weight-s 10] [--cross-weight 2] [--network-weight 4] [--no-sumo-tools]\n"
    "        [--robustness-scale 0.15]\n"
    "                                        plan a green wave along the lights (in order along\n"
    "                                        one street, as `territory info` lists them) and\n"
    "                                        compare it with the current plan in SUMO; the window\n"
    "                                        defaults to the demand's span (S: SUMO seconds);\n"
    "                                        starting plans (MAXBAND, Webster, SUMO's tools, the\n"
    "                                        current programs) are simulated on --seeds seeds and\n"
    "                                        improved by a search by simulation for --budget-s;\n"
    "                                        --periods: one plan per period of the day, switched\n"
    "                                        by a WAUT (auto: from the demand's hourly counts);\n"
    "                                        the plan is also run on the demand x(1 -/+ scale)\n";

int greenwave_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  sim::traffic::GreenwaveOptions o;
  std::string tls_text;
  try {
    Args cmd(args, 0, {"no-sumo-tools"});
    if (!cmd.positional().empty()) throw UsageError{"unexpected argument '" + cmd.positional().front() + "'"};
    auto net = cmd.take("net"), routes = cmd.take("routes"), tls = cmd.take("tls"), dir = cmd.take("out");
    if (!net || !routes || !tls || !dir) throw UsageError{"greenwave needs --net, --routes, --tls and --out"};
    o.net = *net;
    for (const auto& r : split_commas(*routes)) o.routes.emplace_back(r);
    if (auto v = cmd.take("additional"))
      for (const auto& f : split_commas(*v)) o.additionals.emplace_back(f);
    o.tls_ids = split_commas(*tls);
    tls_text = *tls;
    for (const auto& id : o.tls_ids)
      if (id.empty()) throw UsageError{"--tls " + *tls + ": empty light id"};
    o.out = *dir;
    if (auto v = cmd.take_number("speed-kmh", 5.0, 130.0)) o.speed_m_s = *v / 3.6;
    if (auto v = cmd.take_number("cycle-s", 10.0, 300.0)) o.cycle_s = *v;
    if (auto v = cmd.take_number("begin", 0.0, 1e7)) o.begin_s = *v;
    if (auto v = cmd.take_number("end", 0.0, 1e7)) o.end_s = *v;
    if (auto v = cmd.take_number("min-green-s", 1.0, 60.0)) o.min_green_s = *v;
    const auto min_cycle = cmd.take_number("min-cycle-s", 10.0, 300.0);
    const auto max_cycle = cmd.take_number("max-cycle-s", 10.0, 300.0);
    if (min_cycle) o.min_cycle_s = *min_cycle;
    if (max_cycle) o.max_cycle_s = *max_cycle;
    if (auto v = cmd.take_integer("seed", 0, 1'000'000'000'000'000LL)) o.seed = static_cast<std::uint64_t>(*v);
    if (auto v = cmd.take_number("budget-s", 0.0, 86400.0)) o.search_budget_s = *v;
    if (auto v = cmd.take_integer("seeds", 1, 20)) o.search_seeds = static_cast<int>(*v);
    if (auto v = cmd.take_integer("workers", 1, 64)) o.workers = static_cast<int>(*v);
    if (auto v = cmd.take_number("stop-weight-s", 0.0, 600.0)) o.stop_weight_s = *v;
    if (auto v = cmd.take_number("cross-weight", 0.0, 100.0)) o.cross_weight = *v;
    if (auto v = cmd.take_number("network-weight", 0.0, 100.0)) o.network_weight = *v;
    o.sumo_tool_starts = !cmd.take_flag("no-sumo-tools");
    if (auto v = cmd.take_number("robustness-scale", 0.0, 0.5)) o.robustness_scale = *v;
    if (auto v = cmd.take("periods")) {
      if (*v == "one") {
        o.auto_periods = false;
      } else if (*v != "auto") {
        for (const auto& span : split_commas(*v)) {
          const auto dash = span.find('-');
          const auto b = dash == std::string::npos ? std::nullopt : sim::traffic::parse_sumo_time_s(span.substr(0, dash) + ":00");
          const auto e = dash == std::string::npos ? std::nullopt : sim::traffic::parse_sumo_time_s(span.substr(dash + 1) + ":00");
          if (!b || !e || !(*e > *b))
            throw UsageError{"--periods " + *v + ": '" + span + "' is not a period HH:MM-HH:MM (auto, one, or periods "
                             "such as 07:00-09:00,09:00-16:00)"};
          o.periods.emplace_back(*b, *e);
        }
      }
    }
    cmd.finish();
    if (o.end_s && *o.end_s <= o.begin_s.value_or(0.0)) throw UsageError{"--end must come after --begin"};
    if (o.min_cycle_s > o.max_cycle_s)
      throw UsageError{fmt::format("--min-cycle-s {:g} is above --max-cycle-s {:g}: no cycle is left to choose from",
                                   o.min_cycle_s, o.max_cycle_s)};
    if (o.cycle_s && (min_cycle || max_cycle) && (*o.cycle_s < o.min_cycle_s || *o.cycle_s > o.max_cycle_s))
      throw UsageError{fmt::format("--cycle-s {:g} is outside --min-cycle-s {:g} .. --max-cycle-s {:g}", *o.cycle_s,
                                   o.min_cycle_s, o.max_cycle_s)};
    if (2.0 * o.min_green_s > (o.cycle_s ? *o.cycle_s : o.max_cycle_s))
      throw UsageError{fmt::format("--min-green-s {:g}: two stages of it do not fit in a cycle of {:g} s",
                                   o.min_green_s, o.cycle_s ? *o.cycle_s : o.max_cycle_s)};
  } catch (const UsageError& u) {
    err << "cadereau: " << u.message << "\nusage:\n" << kGreenwaveUsage;
    return 2;
  }
  sim::traffic::GreenwaveReport r;
  try {
    // Progress goes to the error stream as it comes: a search runs for
    // minutes, and a server job's log shows where it is.
    r = sim::traffic::run_greenwave(o, [&](const std::string& m) { err << "greenwave: " << m << std::endl; });
  } catch (const Error& e) {
    // The lights as the user gave them: the corridor is what --tls says.
    if (e.where() == "corridor") throw Error("--tls " + tls_text, e.what_only(), e.category());
    if (e.where() == "periods") throw Error("--periods", e.what_only(), e.category());
    throw;
  }
  out << sim::traffic::greenwave_summary(r);
  for (const auto& w : r.warnings) err << "greenwave: warning: " << w << "\n";
  out << "greenwave: wrote " << r.plan_file.string() << ", " << r.report_file.string();
  for (const auto& plan : r.plans)
    out << ", " << plan.baseline_diagram.filename().string() << ", " << plan.plan_diagram.filename().string();
  out << "\n";
  return 0;
}

}  // namespace cadereau::server
