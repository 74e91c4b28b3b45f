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
    Args cmd(args, 0);
    if (!cmd.positional().empty()) throw UsageError{"unexpected argument '" + cmd.positional().front() + "'"};
    auto net = cmd.take("net"), routes = cmd.take("routes"), tls = cmd.take("tls"), dir = cmd.take("out");
    if (!net || !routes || !tls || !dir) throw UsageError{"greenwave needs --net, --routes, --tls and --out"};
    o.net = *net;
    for (const auto& r : split_commas(*routes)) o.routes.emplace_back(r);
    o.tls_ids = split_commas(*tls);
    for (const auto& id : o.tls_ids)
      if (id.empty()) throw UsageError{"--tls " + *tls + ": empty light id"};
    o.out = *dir;
    if (auto v = cmd.take_number("speed-kmh", 5.0, 130.0)) o.speed_m_s = *v / 3.6;
    if (auto v = cmd.take_number("cycle-s", 10.0, 300.0)) o.cycle_s = *v;
    if (auto v = cmd.take_number("begin", 0.0, 1e7)) o.begin_s = *v;
    if (auto v = cmd.take_number("end", 0.0, 1e7)) o.end_s = *v;
    if (auto v = cmd.take_number("min-green-s", 1.0, 60.0)) o.min_green_s = *v;
    if (auto v = cmd.take_number("min-cycle-s", 10.0, 300.0)) o.min_cycle_s = *v;
    if (auto v = cmd.take_number("max-cycle-s", 10.0, 300.0)) o.max_cycle_s = *v;
    if (auto v = cmd.take_number("seed", 0.0, 1e15)) o.seed = static_cast<std::uint64_t>(*v);
    cmd.finish();
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
