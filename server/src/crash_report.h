#pragma once
// What a process says when it dies of a fatal signal inside a library it
// cannot guard (SUMO dereferencing a null lane, say): one line on stderr
// naming what it was doing (the state it ran on from, the sim time it had
// reached), then the default action, so the exit status stays 128 + signal
// and a supervisor sees the crash for what it is.

#include <string_view>

namespace cadereau::server {

// Installs the handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT.
// Idempotent.
void install_crash_report();

// What the process is doing now, printed if it crashes: "running on from
// state R/state at 07:31:20". Truncated to 511 bytes. Cheap: call it at
// every step. Not thread-safe: call it from one thread.
void set_crash_context(std::string_view context);

}  // namespace cadereau::server
