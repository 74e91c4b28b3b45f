#include "cadereau/server/cli.h"

#include "crash_report.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  // OpenMP's threads spin at barriers by default; when another process holds
  // a core (SUMO, the server, a second forecast), a spinning flood step runs
  // several times slower than on one thread. Passive waiting costs ~15% on an
  // idle machine and keeps the speed-up on a busy one. The runtime reads the
  // variable when it loads, so set it and start again once; an explicit
  // setting by the user wins.
  if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("CADEREAU_NO_REEXEC")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    setenv("CADEREAU_NO_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    // Could not start again: carry on with the default policy.
  }
  // One logger for the process, on stderr, so stdout carries only results.
  auto logger = spdlog::stderr_color_mt("cadereau");
  logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  cadereau::server::install_crash_report();
  std::vector<std::string> args(argv + 1, argv + argc);
  return cadereau::server::run_cli(args, std::cout, std::cerr);
}
