// cadereau-viewer: the command line lives in the viewer library (cli.cpp).
#include "cadereau/viewer/cli.h"

#include <exception>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) try {
  return cadereau::viewer::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
} catch (const std::exception& e) {
  std::cerr << "cadereau-viewer: " << e.what() << "\n";
  return 1;
}
