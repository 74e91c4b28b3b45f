// `cadereau user add` and `cadereau user list`, through the command line.

#include "user_command.h"

#include "service/audit_log.h"
#include "service/users.h"

#include "auth_test_support.h"
#include "cli_run.h"
#include "test_support.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <sstream>

using namespace cadereau::server;
using cadereau::ErrorCategory;
using cadereau::testing::CliRun;
using cadereau::testing::TempDir;

namespace {

// Runs a command line with `input` as its standard input.
CliRun run_with_stdin(const std::vector<std::string>& args, const std::string& input) {
  std::istringstream in(input);
  std::streambuf* saved = std::cin.rdbuf(in.rdbuf());
  CliRun r = cadereau::testing::run_cadereau(args);
  std::cin.rdbuf(saved);
  return r;
}

}  // namespace

TEST_CASE("cadereau user add takes the password from stdin and user list shows the users", "[unit][auth][cli]") {
  TempDir tmp;
  const std::string data = (tmp / "data").string();
  const CliRun added =
      run_with_stdin({"user", "add", "pat", "--role", "player", "--cell", "police", "--data", data}, "a long password here\n");
  INFO(added.err);
  REQUIRE(added.code == 0);
  CHECK_THAT(added.out, Catch::Contains("user pat added") && Catch::Contains("cell police"));
  CHECK(run_with_stdin({"user", "add", "ola", "--role", "operator", "--data", data}, "operator's password\r\n").code == 0);

  const CliRun listed = cadereau::testing::run_cadereau({"user", "list", "--data", data});
  REQUIRE(listed.code == 0);
  CHECK_THAT(listed.out, Catch::Contains("ola") && Catch::Contains("operator") && Catch::Contains("pat") &&
                             Catch::Contains("police"));
  CHECK(listed.out.find("password") == std::string::npos);

  service::UserStore store(data);
  CHECK(store.verify("ola", "operator's password"));  // the \r of a Windows line is not part of it
  const auto pat = store.verify("pat", "a long password here");
  REQUIRE(pat);
  CHECK(pat->cell == service::Cell::police);

  // Each addition is audited, by the local account.
  const auto check = service::verify_audit_log(tmp / "data" / service::kAuditLogFile);
  CHECK(check.ok());
  CHECK(check.records == 2);
  const std::string log = cadereau::testing::read_text(tmp / "data" / service::kAuditLogFile);
  const auto first = nlohmann::json::parse(log.substr(0, log.find('\n')));
  CHECK(first["action"] == "user.add");
  CHECK(first["target"] == "pat");
  CHECK_THAT(first["user"].get<std::string>(), Catch::StartsWith("local:"));
}

TEST_CASE("cadereau user refuses bad input with the right category", "[unit][auth][cli]") {
  TempDir tmp;
  const std::string data = tmp.path().string();
  const auto category = [&](const std::vector<std::string>& args, const std::string& input) {
    return cadereau::testing::error_category([&] {
      std::istringstream in(input);
      std::ostringstream out, err;
      user_command(args, in, out, err);
    });
  };
  CHECK(category({"add", "bob", "--role", "observer", "--data", data}, "short\n") == ErrorCategory::bad_input);
  CHECK(category({"add", "bob", "--role", "observer", "--data", data}, "") == ErrorCategory::bad_input);
  CHECK(category({"add", "bob", "--role", "player", "--data", data}, "long enough password\n") == ErrorCategory::bad_input);
  CHECK(category({"add", "Bob", "--role", "observer", "--data", data}, "long enough password\n") ==
        ErrorCategory::bad_input);
  REQUIRE(run_with_stdin({"user", "add", "bob", "--role", "observer", "--data", data}, "long enough password\n").code == 0);
  CHECK(category({"add", "bob", "--role", "admin", "--data", data}, "another long password\n") == ErrorCategory::conflict);

  // Through the command line: errors exit 1, usage errors 2 with the usage.
  const CliRun dup = run_with_stdin({"user", "add", "bob", "--role", "admin", "--data", data}, "another long password\n");
  CHECK(dup.code == 1);
  CHECK_THAT(dup.err, Catch::Contains("already exists"));
  const CliRun bad_role = run_with_stdin({"user", "add", "zed", "--role", "boss", "--data", data}, "long enough password\n");
  CHECK(bad_role.code == 2);
  CHECK_THAT(bad_role.err, Catch::Contains("--role") && Catch::Contains("'boss'") && Catch::Contains("user add NAME"));
  CHECK(cadereau::testing::run_cadereau({"user", "add", "zed", "--role", "observer"}).code == 2);
  CHECK(cadereau::testing::run_cadereau({"user", "remove", "bob", "--data", data}).code == 2);
  CHECK(cadereau::testing::run_cadereau({"user"}).code == 2);
  const CliRun help = cadereau::testing::run_cadereau({"user", "--help"});
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Catch::Contains("user add NAME --role ROLE") && Catch::Contains("user list --data DIR"));
}
