#include "cadereau/server/cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

int main(int argc, char** argv) {
  // One logger for the process, on stderr, so stdout carries only results.
  auto logger = spdlog::stderr_color_mt("cadereau");
  logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
  std::vector<std::string> args(argv + 1, argv + argc);
  return cadereau::server::run_cli(args, std::cout, std::cerr);
}
