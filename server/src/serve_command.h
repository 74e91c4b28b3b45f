#pragma once
// `cadereau serve --data DIR [--listen ADDR:PORT] (--tls-cert F --tls-key F
// | --plain-http)`: the crisis server (DESIGN.md, "The server").

#include "command_args.h"

#include <iosfwd>

namespace cadereau::server {

// Runs until SIGTERM or SIGINT, then stops the workers (recordings closed),
// saves the clocks and returns 0. Prints "listening on URL" once it takes
// requests.
int serve_command(Args& args, std::ostream& out, std::ostream& err);

}  // namespace cadereau::server
