// The inject book: what is due when, on the clock, after another inject, or
// on a state of the twin; the director's commands and the players' answers.

#include "service/injects.h"

#include "test_support.h"

#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>

using namespace cadereau::server::service;
using cadereau::Error;
using cadereau::ErrorCategory;
using cadereau::testing::TempDir;

namespace {

const std::string kMsel =
    "Event Number,Designated Scenario Time,Event Type,Inject Mode,From,To,Message,Expected Participant Response,"
    "Exercise Objective,Notes\n"
    "1,07:10,message,,,crisis,a,,,\n"
    "2,after 1 +5min,message,,,police,b,,,\n"
    "3,when lg-ales-ville > 2m and h9_9 open,message,,,police,c,,,\n"
    "4,manual,message,,,all,d,,,\n";

}  // namespace

TEST_CASE("Injects come due on the clock, after another, and on the twin's state", "[unit][injects]") {
  TempDir dir;
  InjectBook book(dir.path());
  book.load(cadereau::scenarios::parse_msel(kMsel, "msel.csv", 7 * 3600.0));
  double depth = 1.0;
  bool closed = false;
  const InjectBook::TwinState twin{[&](const std::string& g) -> std::optional<double> {
                                     if (g == "lg-ales-ville") return depth;
                                     return std::nullopt;
                                   },
                                   [&](const std::string& r) { return r == "h9_9" && closed; }};
  CHECK(book.due(599, twin).empty());
  REQUIRE(book.due(600, twin) == std::vector<std::size_t>{0});
  book.deliver(0, 600);
  CHECK(book.due(899, twin).empty());
  CHECK(book.due(900, twin) == std::vector<std::size_t>{1});
  depth = 2.1;
  closed = true;  // the road is closed already: the inject is moot
  CHECK(book.due(910, twin) == std::vector<std::size_t>{1});
  closed = false;
  CHECK(book.due(920, twin) == (std::vector<std::size_t>{1, 2}));
  // Held, it waits; released, it comes; the manual one only when fired.
  book.command(2, InjectCommand::hold);
  CHECK(book.due(930, twin) == std::vector<std::size_t>{1});
  book.command(2, InjectCommand::release);
  CHECK(book.due(940, twin) == (std::vector<std::size_t>{1, 2}));
  book.command(1, InjectCommand::cancel);
  CHECK(book.due(950, twin) == std::vector<std::size_t>{2});
  try {
    book.command(0, InjectCommand::hold);
    FAIL("a delivered inject was held");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::conflict);
  }
  // Kept across a restart.
  InjectBook again(dir.path());
  REQUIRE(again.entries().size() == 4);
  CHECK(again.entries()[1].state == InjectState::cancelled);
  CHECK(again.entries()[2].inject.road == "h9_9");
  CHECK(again.due(960, twin) == std::vector<std::size_t>{2});
}

TEST_CASE("Only an addressed player acknowledges, once, a delivered inject", "[unit][injects]") {
  TempDir dir;
  InjectBook book(dir.path());
  book.load(cadereau::scenarios::parse_msel(kMsel, "msel.csv", 7 * 3600.0));
  const Principal police{"bob", Role::player, Cell::police};
  const Principal crisis{"cora", Role::player, Cell::crisis};
  const auto category = [&](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.category();
    }
    return ErrorCategory::internal;
  };
  CHECK(category([&] { book.acknowledge(0, crisis, 700, "x"); }) == ErrorCategory::conflict);  // not delivered
  book.deliver(0, 600);
  CHECK(category([&] { book.acknowledge(0, police, 700, "x"); }) == ErrorCategory::forbidden);
  book.acknowledge(0, crisis, 700, "on it");
  CHECK(book.entries()[0].acknowledged_by == "player:cora");
  CHECK(category([&] { book.acknowledge(0, crisis, 710, "again"); }) == ErrorCategory::conflict);
  CHECK(category([&] { book.load({}); }) == ErrorCategory::conflict);  // delivered: the MSEL stays
}
