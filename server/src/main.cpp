#include "cadereau/server/cli.h"

#include <iostream>

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return cadereau::server::run_cli(args, std::cout, std::cerr);
}
