#pragma once
// `cadereau demo --serve`: the crisis server ready for a first exercise on
// the demo territory: a self-signed certificate made at first start, demo
// users for every role and cell with their passwords printed, the flagship
// exercise created ready to start, and the console's address.

#include "command_args.h"

#include <iosfwd>

namespace cadereau::server {

// args: the words after "demo" (--serve taken). Runs until SIGTERM or SIGINT.
int demo_serve_command(Args& args, std::ostream& out, std::ostream& err);

}  // namespace cadereau::server
