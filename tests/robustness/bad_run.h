#pragma once
// The generated bad-input suites (issue 17) share one judge: every variant
// must return within a few seconds, exit non-zero, and name the file or the
// option at fault. A hang, a silent acceptance or a message that points
// nowhere fails the case, and the report lists the command line.

#include "cli_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace cadereau::testing {

// Past this a variant counts as a hang. Variants run on small worlds: a
// 12 x 10 grid for 60 s, a coarse demo territory, a short recording.
constexpr double kMaxWall_s = 5.0;

struct BadRun {
  std::string label;
  std::vector<std::string> args;
  std::string named;               // the file or option the message must name
  std::vector<std::string> also = {};  // more words it must hold (the item: an id, a line)
};

// Runs every case; reports the ones that pass, hang or point nowhere.
inline void expect_refused(const std::vector<BadRun>& cases, double max_wall_s = kMaxWall_s) {
  for (const auto& c : cases) {
    const auto started = std::chrono::steady_clock::now();
    const auto r = run_cadereau(c.args);
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    INFO(c.label << "\n  cadereau " << fmt::format("{}", fmt::join(c.args, " ")) << "\n  exit " << r.code << ", "
                 << wall_s << " s\n  " << r.err);
    CHECK(wall_s < max_wall_s);
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::Contains(c.named));
    for (const auto& word : c.also) CHECK_THAT(r.err, Catch::Contains(word));
  }
}

}  // namespace cadereau::testing
