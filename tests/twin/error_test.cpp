#include "cadereau/twin/error.h"
#include "cadereau/twin/territory.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using cadereau::Error;
using cadereau::ErrorCategory;

TEST_CASE("Errors carry a category that decides the exit code", "[unit][error]") {
  const Error plain("scenario.yaml:3", "unknown gauge 'x'");
  CHECK(plain.category() == ErrorCategory::bad_input);
  CHECK(std::string(plain.what()) == "scenario.yaml:3: unknown gauge 'x'");
  try {
    cadereau::fail_as(ErrorCategory::conflict, "session s1", "already running since {}", "07:00");
    FAIL("fail_as returned");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::conflict);
    CHECK(e.where() == "session s1");
    CHECK(e.what_only() == "already running since 07:00");
  }
  CHECK(cadereau::exit_code(ErrorCategory::bad_input) == 1);
  CHECK(cadereau::exit_code(ErrorCategory::not_found) == 1);
  CHECK(cadereau::exit_code(ErrorCategory::unavailable) == 69);
  CHECK(cadereau::exit_code(ErrorCategory::internal) == 70);
  CHECK(std::string(cadereau::to_string(ErrorCategory::rate_limited)) == "rate_limited");
}

TEST_CASE("A missing territory is not found, a broken one is bad input", "[unit][error]") {
  cadereau::testing::TempDir tmp;
  try {
    cadereau::twin::Territory::load(tmp / "nowhere");
    FAIL("loaded a missing territory");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::not_found);
  }
  cadereau::testing::write_text(tmp / "broken" / "territory.yaml", "name: [unclosed\n");
  try {
    cadereau::twin::Territory::load(tmp / "broken");
    FAIL("loaded a broken territory");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::bad_input);
  }
}
