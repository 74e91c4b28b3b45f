#include "cadereau/server/cli.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <sstream>

using cadereau::server::run_cli;

namespace {

struct Run {
  int code = 0;
  std::string out;
  std::string err;
};

Run run(std::vector<std::string> args) {
  std::ostringstream out, err;
  Run r;
  r.code = run_cli(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace

TEST_CASE("Usage errors exit 2 with a message", "[unit][cli]") {
  CHECK(run({}).code == 2);
  const Run unknown = run({"frobnicate"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command 'frobnicate'"));
  CHECK(run({"territory"}).code == 2);
  CHECK_THAT(run({"territory", "demo"}).err, Catch::Contains("--out"));
  CHECK_THAT(run({"territory", "demo", "--out", "x", "--cell-size", "abc"}).err, Catch::Contains("--cell-size abc"));
  CHECK(run({"help"}).code == 0);
}

TEST_CASE("territory info on a missing folder names it", "[unit][cli]") {
  cadereau::testing::TempDir tmp;
  const Run r = run({"territory", "info", (tmp / "nowhere").string()});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("nowhere") && Catch::Contains("not found"));
}

TEST_CASE("territory info describes the demo territory", "[integration][cli]") {
  const auto dir = cadereau::testing::demo_territory();
  if (!dir) {
    WARN("CADEREAU_TEST_TERRITORY is not set: run through ctest");
    return;
  }
  const Run r = run({"territory", "info", dir->string()});
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("EPSG:2154") && Catch::Contains("traffic lights") && Catch::Contains("Population"));
}
