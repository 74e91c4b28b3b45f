#pragma once
// `cadereau worker --session DIR --fd N`: the engine process of one session,
// started and supervised by `cadereau serve` (worker_protocol.h). Not meant
// to be run by hand.

#include "../command_args.h"

#include <iosfwd>

namespace cadereau::server::worker {

// Runs the session's engine until the server says stop or goes away.
// Returns the exit status; a failure is also told to the server.
int worker_command(Args& args, std::ostream& out, std::ostream& err);

}  // namespace cadereau::server::worker
