#include "greenwave_command.h"

#include "command_args.h"

#include "cadereau/sim/traffic/greenwave.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>

#include <unistd.h>

#include <iostream>
#include <ostream>

namespace cadereau::server {

const char* const kGreenwaveUsage =
    "  greenwave --net NET.net.xml --routes ROUTES.rou.xml[,MORE] --tls ID,ID,... --out DIR\n"
    "        [--speed-kmh 50] [--cycle-s SECONDS] [--begin S] [--end S] [--seed N]\n"
    "        [--min-green-s 5] [--min-cycle-s 30] [--max-cycle-s 120]\n"
    "                                        plan a green wave along the lights (in order along\n"
    "                                        one street, as `territory info` lists them) and\n"
    "                                        compare it with the current plan in SUMO; the window\n"
    "                                        defaults to the demand's span (S: SUMO seconds)\n";

int greenwave_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  sim::traffic::GreenwaveOptions o;
  std::string tls_text;
  try {
    Args cmd(args, 0);
    if (!cmd.positional().empty()) throw UsageError{"unexpected argument '" + cmd.positional().front() + "'"};
    auto net = cmd.take("net"), routes = cmd.take("routes"), tls = cmd.take("tls"), dir = cmd.take("out");
    if (!net || !routes || !tls || !dir) throw UsageError{"greenwave needs --net, --routes, --tls and --out"};
    o.net = *net;
    for (const auto& r : split_commas(*routes)) o.routes.emplace_back(r);
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
  const bool tty = isatty(STDERR_FILENO);
  sim::traffic::GreenwaveReport r;
  try {
    r = sim::traffic::run_greenwave(o, [&](const std::string& m) {
      if (tty) std::cerr << "greenwave: " << m << "\n";
    });
  } catch (const Error& e) {
    // The lights as the user gave them: the corridor is what --tls says.
    if (e.where() == "corridor") throw Error("--tls " + tls_text, e.what_only(), e.category());
    throw;
  }
  out << sim::traffic::greenwave_summary(r);
  for (const auto& w : r.warnings) err << "greenwave: warning: " << w << "\n";
  out << "greenwave: wrote " << r.plan_file.string() << ", " << r.report_file.string() << ", "
      << r.baseline_diagram.filename().string() << " and " << r.plan_diagram.filename().string() << "\n";
  return 0;
}

}  // namespace cadereau::server
