#pragma once
// `cadereau feed play SCENARIO.yaml --mqtt HOST:PORT ...`: a feed simulator.
// Publishes a scenario's sensor readings (feed_plan.h) as ChirpStack v4
// uplinks at QoS 1 on the territory's devices, timed by the scenario's clock
// mapped onto now: the reading at scenario time t is published at
// start + (t - from) / speed, and carries that wall time as its `time`, so
// that a live session takes it as current.

#include "../command_args.h"

#include <iosfwd>

namespace cadereau::server::feeds {

int feed_play_command(Args& args, std::ostream& out, std::ostream& err);

}  // namespace cadereau::server::feeds
