#include "greenwave_command.h"

#include "command_args.h"

#include "cadereau/sim/traffic/greenwave.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>

namespace cadereau::server {

const char* const kGreenwaveUsage =
    "  greenwave --net NET.net.xml --routes ROUTES.rou.xml[,MORE] --tls ID,ID,... --out DIR\n"
    "        [--speed-kmh 50] [--cycle-s SECONDS] [--begin S] [--end S] [--seed N]\n"
    "        [--min-green-s 5] [--min-cycle-s 30] [--max-cycle-s 120]\n"
    "                                        plan a green wave along the lights (in order) and\n"
    "                                        compare it with the current plan in SUMO\n";

int greenwave_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  sim::traffic::GreenwaveOptions o;
  try {
    std::map<std::string, std::string> opt;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i].rfind("--", 0) != 0) throw UsageError{"unexpected argument '" + args[i] + "'"};
      if (i + 1 >= args.size()) throw UsageError{"option " + args[i] + " needs a value"};
      if (!opt.emplace(args[i].substr(2), args[i + 1]).second) throw UsageError{"option " + args[i] + " given twice"};
      ++i;
    }
    auto take = [&](const std::string& name) -> std::optional<std::string> {
      auto it = opt.find(name);
      if (it == opt.end()) return std::nullopt;
      std::string v = it->second;
      opt.erase(it);
      return v;
    };
    auto net = take("net"), routes = take("routes"), tls = take("tls"), dir = take("out");
    if (!net || !routes || !tls || !dir) throw UsageError{"greenwave needs --net, --routes, --tls and --out"};
    o.net = *net;
    for (const auto& r : split_commas(*routes)) o.routes.emplace_back(r);
    o.tls_ids = split_commas(*tls);
    for (const auto& id : o.tls_ids)
      if (id.empty()) throw UsageError{"--tls " + *tls + ": empty light id"};
    o.out = *dir;
    if (auto v = take("speed-kmh")) o.speed_m_s = parse_number("speed-kmh", *v, 5.0, 130.0) / 3.6;
    if (auto v = take("cycle-s")) o.cycle_s = parse_number("cycle-s", *v, 10.0, 300.0);
    if (auto v = take("begin")) o.begin_s = parse_number("begin", *v, 0.0, 1e7);
    if (auto v = take("end")) o.end_s = parse_number("end", *v, 0.0, 1e7);
    if (auto v = take("min-green-s")) o.min_green_s = parse_number("min-green-s", *v, 1.0, 60.0);
    if (auto v = take("min-cycle-s")) o.min_cycle_s = parse_number("min-cycle-s", *v, 10.0, 300.0);
    if (auto v = take("max-cycle-s")) o.max_cycle_s = parse_number("max-cycle-s", *v, 10.0, 300.0);
    if (auto v = take("seed")) o.seed = static_cast<std::uint64_t>(parse_number("seed", *v, 0.0, 1e15));
    if (!opt.empty()) throw UsageError{"unknown option --" + opt.begin()->first};
    if (o.end_s && *o.end_s <= o.begin_s) throw UsageError{"--end must come after --begin"};
  } catch (const UsageError& u) {
    err << "cadereau: " << u.message << "\nusage:\n" << kGreenwaveUsage;
    return 2;
  }
  const bool tty = isatty(STDERR_FILENO);
  const auto r = sim::traffic::run_greenwave(o, [&](const std::string& m) {
    if (tty) std::cerr << "greenwave: " << m << "\n";
  });
  const auto& b = r.baseline.kpis;
  const auto& p = r.planned.kpis;
  out << fmt::format("greenwave: {} lights over {:.0f} m, plan cycle {:.0f} s ({}), bands {:.1f} s / {:.1f} s\n",
                     r.corridor.signals.size(), r.corridor.length_m(), r.plan.cycle_s, r.plan.cycle_source,
                     r.plan.bandwidth.bandwidth.forward_s, r.plan.bandwidth.bandwidth.backward_s);
  out << fmt::format("{:<34}{:>12}{:>12}\n", "", "baseline", "plan");
  auto row = [&](const char* name, double a, double c) { out << fmt::format("{:<34}{:>12.2f}{:>12.2f}\n", name, a, c); };
  row("mean corridor travel time (s)", b.mean_corridor_travel_time_s, p.mean_corridor_travel_time_s);
  row("  forward (s)", b.forward.mean_travel_time_s, p.forward.mean_travel_time_s);
  row("  backward (s)", b.backward.mean_travel_time_s, p.backward.mean_travel_time_s);
  row("corridor stops per vehicle", b.forward.stops_per_vehicle, p.forward.stops_per_vehicle);
  row("stops per vehicle (all trips)", b.all.stops_per_vehicle, p.all.stops_per_vehicle);
  row("mean delay (s, all trips)", b.all.mean_delay_s, p.all.mean_delay_s);
  row("cross-street travel time (s)", b.cross.mean_travel_time_s, p.cross.mean_travel_time_s);
  row("mean queue (veh)", b.mean_queue_veh, p.mean_queue_veh);
  row("throughput (veh/h)", b.throughput_veh_h, p.throughput_veh_h);
  row("bandwidth forward (s)", b.forward.bandwidth_s, p.forward.bandwidth_s);
  row("bandwidth backward (s)", b.backward.bandwidth_s, p.backward.bandwidth_s);
  out << "greenwave: plan " << r.plan_file.string() << ", report " << r.report_file.string() << "\n";
  return 0;
}

}  // namespace cadereau::server
