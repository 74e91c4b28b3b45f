#pragma once
// The cadereau-viewer command line, as a library so that it is tested:
//   cadereau-viewer --territory DIR [--snapshot FILE.png [--width W] [--height H]]
//                   [--vertical-exaggeration X] [--colour auto|elevation|landcover]
//                   [--no-labels] [--max-vertices N] [--max-error METRES]

#include <iosfwd>
#include <string>
#include <vector>

namespace cadereau::viewer {

// Exit codes: 0 done, 1 failure (message on err naming the problem), 2 bad arguments.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cadereau::viewer
