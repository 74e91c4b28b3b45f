// The hash-chained audit log: records on disk, tampering found with its seq,
// a torn last line cut off, several writers on one chain.

#include "service/audit_log.h"

#include "auth_test_support.h"
#include "test_support.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

using namespace cadereau::server::service;
using namespace std::chrono_literals;
using cadereau::ErrorCategory;
using cadereau::testing::TempDir;

namespace {

const auto kT0 = std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + 12h;

AuditEntry entry(int i) {
  return {"bob", Role::player, "action.post", "s-42", "edge h9_" + std::to_string(i), 202, "close_road"};
}

std::vector<std::string> lines_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void write_lines(const std::filesystem::path& file, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  cadereau::testing::write_text(file, text);
}

void fill(const std::filesystem::path& dir, int n) {
  AuditLog log(dir);
  for (int i = 1; i <= n; ++i) log.append(entry(i), kT0 + i * 1s);
}

}  // namespace

TEST_CASE("Audit records are chained lines on disk", "[unit][auth]") {
  TempDir tmp;
  const auto file = tmp / kAuditLogFile;
  {
    AuditLog log(tmp.path());
    CHECK(log.opened().records == 0);
    const AuditRecord first = log.append(entry(1), kT0 + 123ms);
    CHECK(first.seq == 1);
    CHECK(first.time == "2024-05-01T12:00:00.123Z");
    CHECK(first.prev_hash == kAuditGenesisHash);
    const AuditRecord second = log.append({"", std::nullopt, "login", "", "mallory", 401, "bad password"}, kT0 + 2s);
    CHECK(second.seq == 2);
    CHECK(second.prev_hash == first.hash);
    CHECK(log.last_hash() == second.hash);
  }
  CHECK(cadereau::testing::file_mode(file) == 0600);
  const auto lines = lines_of(file);
  REQUIRE(lines.size() == 2);
  const auto j = nlohmann::json::parse(lines[0]);
  CHECK(j["seq"] == 1);
  CHECK(j["user"] == "bob");
  CHECK(j["role"] == "player");
  CHECK(j["session"] == "s-42");
  CHECK(j["target"] == "edge h9_1");
  CHECK(j["result"] == 202);
  CHECK(nlohmann::json::parse(lines[1])["role"] == "");

  const AuditCheck check = verify_audit_log(file);
  CHECK(check.ok());
  CHECK(check.records == 2);

  // Reopened, the log continues the chain.
  AuditLog again(tmp.path());
  const AuditRecord third = again.append(entry(3), kT0 + 3s);
  CHECK(third.seq == 3);
  CHECK(third.prev_hash == check.last_hash);
  CHECK(verify_audit_log(file).records == 3);
}

TEST_CASE("A changed record is found by its seq and the log is not continued", "[unit][auth]") {
  TempDir tmp;
  const auto file = tmp / kAuditLogFile;
  fill(tmp.path(), 4);
  const auto original = lines_of(file);

  SECTION("a value changed") {
    auto lines = original;
    const auto at = lines[1].find("\"result\":202");
    REQUIRE(at != std::string::npos);
    lines[1].replace(at, 12, "\"result\":200");
    write_lines(file, lines);
    const AuditCheck check = verify_audit_log(file);
    CHECK_FALSE(check.ok());
    REQUIRE(check.bad_seq);
    CHECK(*check.bad_seq == 2);
    CHECK(check.bad_line == 2);
    CHECK_THAT(check.reason, Catch::Contains("hash"));
    CHECK(check.records == 1);
    try {
      AuditLog log(tmp.path());
      FAIL("opened");
    } catch (const cadereau::Error& e) {
      CHECK(e.category() == ErrorCategory::internal);
      CHECK_THAT(e.what(), Catch::Contains(file.string() + ":2:") && Catch::Contains("seq 2"));
    }
    CHECK(lines_of(file) == lines);  // left as found, as evidence
  }
  SECTION("a record removed") {
    auto lines = original;
    lines.erase(lines.begin() + 2);
    write_lines(file, lines);
    const AuditCheck check = verify_audit_log(file);
    REQUIRE(check.bad_seq);
    CHECK(*check.bad_seq == 3);
    CHECK_THAT(check.reason, Catch::Contains("seq 4 where 3 was expected"));
  }
  SECTION("a record rewritten with its own hash recomputed") {
    // The forger reseals record 2, but record 3 still names the old hash.
    auto lines = original;
    const auto j = nlohmann::json::parse(lines[1]);
    AuditEntry forged = entry(2);
    forged.result = 403;
    lines[1] = to_line(seal(forged, 2, j["time"].get<std::string>(), j["prev_hash"].get<std::string>()));
    write_lines(file, lines);
    const AuditCheck check = verify_audit_log(file);
    REQUIRE(check.bad_seq);
    CHECK(*check.bad_seq == 3);
    CHECK_THAT(check.reason, Catch::Contains("prev_hash"));
  }
  SECTION("a field added") {
    auto lines = original;
    lines[0].insert(1, "\"extra\":1,");
    write_lines(file, lines);
    const AuditCheck check = verify_audit_log(file);
    REQUIRE(check.bad_seq);
    CHECK(*check.bad_seq == 1);
  }
}

TEST_CASE("A torn last line is reported, kept aside and cut off, and the chain goes on after the last whole record",
          "[unit][auth]") {
  TempDir tmp;
  const auto file = tmp / kAuditLogFile;
  fill(tmp.path(), 3);
  const auto lines = lines_of(file);
  const auto whole_two = lines[0].size() + 1 + lines[1].size() + 1;
  std::filesystem::resize_file(file, whole_two + lines[2].size() / 2);  // a crash mid-write of record 3

  const AuditCheck torn = verify_audit_log(file);
  CHECK_FALSE(torn.ok());
  CHECK_FALSE(torn.bad_seq);  // a crash, not tampering
  CHECK(torn.records == 2);
  CHECK(torn.torn_bytes == lines[2].size() / 2);

  AuditLog log(tmp.path());
  CHECK(log.opened().records == 2);
  CHECK(log.opened().torn_bytes == lines[2].size() / 2);
  CHECK(std::filesystem::file_size(file) == whole_two);
  CHECK_THAT(cadereau::testing::read_text(file.string() + ".torn"),
             Catch::Contains(lines[2].substr(0, lines[2].size() / 2)));

  const AuditRecord next = log.append(entry(9), kT0 + 9s);
  CHECK(next.seq == 3);
  const auto after = lines_of(file);
  REQUIRE(after.size() == 3);
  CHECK(nlohmann::json::parse(after[2])["target"] == "edge h9_9");  // its own line, not merged
  const AuditCheck check = verify_audit_log(file);
  CHECK(check.ok());
  CHECK(check.records == 3);
}

TEST_CASE("Two writers on one log keep one chain", "[unit][auth]") {
  TempDir tmp;
  AuditLog server(tmp.path());
  AuditLog command_line(tmp.path());  // as `cadereau user add` beside a running server
  CHECK(server.append(entry(1), kT0).seq == 1);
  CHECK(command_line.append(entry(2), kT0 + 1s).seq == 2);
  CHECK(server.append(entry(3), kT0 + 2s).seq == 3);
  const AuditCheck check = verify_audit_log(tmp / kAuditLogFile);
  CHECK(check.ok());
  CHECK(check.records == 3);
}

TEST_CASE("Any text in a record stays on its line and verifies", "[unit][auth]") {
  TempDir tmp;
  AuditEntry odd = entry(1);
  odd.detail = "line one\nline two \"quoted\" \\ tab\t nul" + std::string(1, '\0') + " bad utf-8 \xff\xfe é";
  odd.target = std::string(100'000, 't');  // cut to a bounded length
  {
    AuditLog log(tmp.path());
    log.append(odd, kT0);
    log.append(entry(2), kT0 + 1s);
  }
  CHECK(lines_of(tmp / kAuditLogFile).size() == 2);
  CHECK(verify_audit_log(tmp / kAuditLogFile).ok());
  CHECK(verify_audit_log(tmp / "missing.jsonl").records == 0);
}
