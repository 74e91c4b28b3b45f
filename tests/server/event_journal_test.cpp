// A session's journal of events: seqs without gaps, kept across a restart,
// a line torn by a killed server dropped, a corrupt one refused by its line.

#include "service/event_journal.h"

#include "test_support.h"

#include "cadereau/twin/error.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

using cadereau::Error;
using cadereau::ErrorCategory;
using cadereau::server::service::EventJournal;
using cadereau::testing::TempDir;
using nlohmann::json;

TEST_CASE("A journal numbers its events and finds them again after a restart", "[unit][server]") {
  TempDir dir;
  const auto file = dir.path() / "events.jsonl";
  {
    EventJournal journal(file);
    CHECK(journal.append({{"t_s", 0.0}, {"kind", "clock"}}) == 1);
    CHECK(journal.append_all({{{"t_s", 10.0}, {"kind", "water"}}, {{"t_s", 10.0}, {"kind", "road_closed"}}}) == 3);
    CHECK(journal.append({{"t_s", 20.0}, {"kind", "action"}}) == 4);
  }
  EventJournal again(file);
  CHECK(again.last_seq() == 4);
  CHECK(again.last_t_s() == 20.0);
  CHECK(again.last_seq_until(10.0) == 3);
  CHECK(again.last_seq_until(9.9) == 1);
  const auto after = again.after(1, 2);
  REQUIRE(after.size() == 2);
  CHECK(json::parse(after[0])["seq"] == 2);
  CHECK(json::parse(after[1])["kind"] == "road_closed");
  CHECK(again.append({{"t_s", 30.0}}) == 5);
}

TEST_CASE("A journal drops a line torn by a crash and refuses a corrupt one with its line", "[unit][server]") {
  TempDir dir;
  const auto file = dir.path() / "events.jsonl";
  {
    EventJournal journal(file);
    journal.append({{"t_s", 0.0}});
    journal.append({{"t_s", 1.0}});
  }
  std::ofstream(file, std::ios::app) << R"({"t_s":2.0,"se)";  // killed mid-write
  {
    EventJournal journal(file);
    CHECK(journal.last_seq() == 2);
    CHECK(journal.append({{"t_s", 3.0}}) == 3);  // goes where the torn line was
  }
  std::ifstream in(file);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) CHECK(json::parse(line)["seq"] == ++n);
  CHECK(n == 3);

  std::ofstream(file, std::ios::app) << "{\"seq\": 9}\n";
  try {
    EventJournal broken(file);
    FAIL("a journal with a gap in its seqs was opened");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::internal);
    CHECK(std::string(e.what()).find("events.jsonl:4") != std::string::npos);
  }
}
