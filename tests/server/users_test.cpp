// The user store: Argon2id hashes in DATA/users.json, its refusals, and a
// corrupt file named with its line. Each hash costs about 60 ms, so these
// tests hash a handful of times only.

#include "service/users.h"

#include "auth_test_support.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

using namespace cadereau::server::service;
using cadereau::ErrorCategory;
using cadereau::testing::error_category;
using cadereau::testing::error_message;
using cadereau::testing::TempDir;

namespace {

const std::string kPassword = "correct horse battery";

double seconds_of(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("Users are added, verified against their Argon2id hash and listed", "[unit][auth]") {
  TempDir tmp;
  const auto data = tmp / "data";
  UserStore store(data);
  CHECK(store.list().empty());
  store.add("alice", Role::director, std::nullopt, kPassword);
  store.add("bob.p-2_x", Role::player, Cell::police, "another long password");

  const auto alice = store.verify("alice", kPassword);
  REQUIRE(alice);
  CHECK(alice->principal() == Principal{"alice", Role::director, std::nullopt});
  CHECK_FALSE(store.verify("alice", kPassword + " "));
  CHECK_FALSE(store.verify("alice", "another long password"));
  CHECK_FALSE(store.verify("nobody", kPassword));

  const auto users = store.list();
  REQUIRE(users.size() == 2);
  CHECK(users[0].name == "alice");
  CHECK(users[1].name == "bob.p-2_x");
  CHECK(users[1].cell == Cell::police);

  // The file holds hashes only, is private, and is read back by a new store.
  const auto file = data / kUsersFile;
  CHECK(cadereau::testing::file_mode(file) == 0600);
  const std::string text = cadereau::testing::read_text(file);
  CHECK(text.find(kPassword) == std::string::npos);
  CHECK(text.find("$argon2id$v=19$m=65536,t=2,p=1$") != std::string::npos);
  UserStore reopened(data);
  const auto bob = reopened.verify("bob.p-2_x", "another long password");
  REQUIRE(bob);
  CHECK(bob->principal() == Principal{"bob.p-2_x", Role::player, Cell::police});
}

TEST_CASE("Bad names, passwords, roles and cells are refused before hashing", "[unit][auth]") {
  TempDir tmp;
  UserStore store(tmp.path());
  const auto add = [&](const std::string& name, Role role, std::optional<Cell> cell, const std::string& password) {
    return error_category([&] { store.add(name, role, cell, password); });
  };
  for (const std::string& name : std::vector<std::string>{"", "Alice", "a b", "ali/ce", "élise", std::string(65, 'a')}) {
    INFO("'" << name << "'");
    CHECK(add(name, Role::observer, std::nullopt, kPassword) == ErrorCategory::bad_input);
  }
  CHECK(add("pat", Role::player, std::nullopt, kPassword) == ErrorCategory::bad_input);
  CHECK(add("olga", Role::observer, Cell::flood, kPassword) == ErrorCategory::bad_input);
  CHECK(add("olga", Role::observer, std::nullopt, "elevenchars") == ErrorCategory::bad_input);
  // Characters, not bytes: eleven accented letters are 22 bytes but too short.
  CHECK(add("olga", Role::observer, std::nullopt, "ééééééééééé") == ErrorCategory::bad_input);
  CHECK(add("olga", Role::observer, std::nullopt, std::string(5000, 'x')) == ErrorCategory::bad_input);
  CHECK_THAT(error_message([&] { store.add("olga", Role::observer, std::nullopt, "short"); }),
             Catch::Contains("at least 12 characters"));
  CHECK(store.list().empty());
  CHECK_FALSE(std::filesystem::exists(tmp / kUsersFile));
}

TEST_CASE("A name already taken is a conflict, also when another process took it", "[unit][auth]") {
  TempDir tmp;
  UserStore first(tmp.path());
  UserStore second(tmp.path());  // as `cadereau user add` next to a running server
  first.add("carol", Role::live_operator, std::nullopt, kPassword);
  CHECK(error_category([&] { second.add("carol", Role::observer, std::nullopt, kPassword); }) ==
        ErrorCategory::conflict);
  // The other store sees the new user without being reopened.
  const auto users = second.list();
  REQUIRE(users.size() == 1);
  CHECK(users[0].role == Role::live_operator);
}

TEST_CASE("Verifying an unknown user takes as long as a wrong password", "[unit][auth]") {
  TempDir tmp;
  UserStore store(tmp.path());
  store.add("dave", Role::observer, std::nullopt, kPassword);
  store.verify("warm-up", kPassword);  // the first call makes the dummy hash
  double known = 1e9, unknown = 1e9;
  for (int i = 0; i < 2; ++i) {
    known = std::min(known, seconds_of([&] { CHECK_FALSE(store.verify("dave", "not the password")); }));
    unknown = std::min(unknown, seconds_of([&] { CHECK_FALSE(store.verify("eve", "not the password")); }));
  }
  INFO("wrong password " << known * 1e3 << " ms, unknown user " << unknown * 1e3 << " ms");
  CHECK(known > 0.01);  // one Argon2id at 64 MiB is tens of milliseconds
  CHECK(unknown > 0.5 * known);
  CHECK(unknown < 2.0 * known);
}

TEST_CASE("A corrupt users file is refused naming the file and the line", "[unit][auth]") {
  TempDir tmp;
  const auto file = tmp / kUsersFile;
  const std::string hash = "\"$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA\"";
  const auto refused = [&](const std::string& text) {
    cadereau::testing::write_text(file, text);
    try {
      UserStore store(tmp.path());
    } catch (const cadereau::Error& e) {
      CHECK(e.category() == ErrorCategory::internal);
      return std::string(e.what());
    }
    FAIL("accepted:\n" << text);
    return std::string();
  };
  const std::string head = "{\"version\": 1, \"users\": [\n";
  const std::string alice = "{\"name\": \"alice\", \"role\": \"admin\", \"hash\": " + hash + "}";
  // Not JSON on line 3.
  CHECK_THAT(refused(head + alice + ",\n{\"name\": \"bob\" \"role\": \"admin\"}\n]}\n"),
             Catch::Contains(file.string() + ":3:") && Catch::Contains("not valid JSON"));
  // A bad role on line 3, the entry's first line.
  CHECK_THAT(refused(head + alice + ",\n{\"name\": \"bob\",\n \"role\": \"boss\", \"hash\": " + hash + "}\n]}\n"),
             Catch::Contains(file.string() + ":3:") && Catch::Contains("'boss'"));
  // A player without a cell, a duplicate, a hash that is not Argon2id.
  CHECK_THAT(refused(head + alice + ",\n{\"name\": \"bob\", \"role\": \"player\", \"hash\": " + hash + "}\n]}\n"),
             Catch::Contains(":3:") && Catch::Contains("cell"));
  CHECK_THAT(refused(head + alice + ",\n\n" + alice + "\n]}\n"), Catch::Contains(":4:") && Catch::Contains("twice"));
  CHECK_THAT(refused(head + "{\"name\": \"alice\", \"role\": \"admin\", \"hash\": \"secret\"}\n]}\n"),
             Catch::Contains(":2:") && Catch::Contains("Argon2id"));
  CHECK_THAT(refused("{\"version\": 2, \"users\": []}\n"), Catch::Contains(":1:") && Catch::Contains("version"));
  CHECK_THAT(refused(head + "42\n]}\n"), Catch::Contains(":2:"));
}
