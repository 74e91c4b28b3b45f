// Session tokens: random, stored only as their SHA-256, kept across a
// restart, expired and revoked.

#include "service/crypto.h"
#include "service/tokens.h"

#include "auth_test_support.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <set>

using namespace cadereau::server::service;
using namespace std::chrono_literals;
using cadereau::ErrorCategory;
using cadereau::testing::TempDir;

namespace {

const WallTime kNoon = std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + 12h;
const Principal kBob{"bob", Role::player, Cell::police};

}  // namespace

TEST_CASE("SHA-256 gives the FIPS 180-2 test vectors", "[unit][auth]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // A chain link hashes the previous hash's bytes, then the text.
  const std::string zeros(64, '0');
  CHECK(chained_sha256_hex(zeros, "abc") == sha256_hex(std::string(32, '\0') + "abc"));
  CHECK_THROWS_AS(chained_sha256_hex("xyz", "abc"), cadereau::Error);
}

TEST_CASE("A token is 32 random bytes in base64url and validates until it expires", "[unit][auth]") {
  TempDir tmp;
  TokenStore store(tmp.path(), kNoon);
  const IssuedToken issued = store.issue(kBob, kNoon);
  CHECK(issued.token.size() == 43);
  CHECK(issued.token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
  CHECK(issued.expires_at == kNoon + 12h);
  CHECK(store.validate(issued.token, kNoon) == kBob);
  CHECK(store.validate(issued.token, kNoon + 12h - 1s) == kBob);
  CHECK_FALSE(store.validate(issued.token, kNoon + 12h));

  std::string altered = issued.token;
  altered[10] = altered[10] == 'A' ? 'B' : 'A';
  CHECK_FALSE(store.validate(altered, kNoon));
  CHECK_FALSE(store.validate("", kNoon));
  CHECK_FALSE(store.validate(issued.token + "A", kNoon));
  CHECK_FALSE(store.validate(sha256_hex(issued.token), kNoon));  // the stored hash opens nothing

  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(store.issue(kBob, kNoon).token);
  CHECK(seen.size() == 50);
}

TEST_CASE("Tokens survive a restart and are stored only as their SHA-256", "[unit][auth]") {
  TempDir tmp;
  std::string token;
  {
    TokenStore store(tmp.path(), kNoon, 2h);
    token = store.issue({"alice", Role::director, {}}, kNoon).token;
    store.issue(kBob, kNoon);
  }
  const auto file = tmp / kTokensFile;
  CHECK(cadereau::testing::file_mode(file) == 0600);
  const std::string text = cadereau::testing::read_text(file);
  CHECK(text.find(token) == std::string::npos);
  CHECK(text.find(sha256_hex(token)) != std::string::npos);

  TokenStore restarted(tmp.path(), kNoon + 1h, 2h);
  CHECK(restarted.validate(token, kNoon + 1h) == Principal{"alice", Role::director, {}});
  CHECK(restarted.revoke(token));
  CHECK_FALSE(restarted.revoke(token));
  CHECK_FALSE(restarted.validate(token, kNoon + 1h));
  TokenStore again(tmp.path(), kNoon + 1h, 2h);
  CHECK_FALSE(again.validate(token, kNoon + 1h));
  CHECK(again.size() == 1);
}

TEST_CASE("Expired tokens are purged, on load and on demand", "[unit][auth]") {
  TempDir tmp;
  {
    TokenStore store(tmp.path(), kNoon, 1h);
    store.issue(kBob, kNoon);
    store.issue(kBob, kNoon + 30min);
    store.issue({"carol", Role::live_operator, {}}, kNoon + 30min);
    CHECK(store.size() == 3);
    CHECK(store.purge_expired(kNoon + 1h) == 1);
    CHECK(store.size() == 2);
    CHECK(store.revoke_user("bob") == 1);
    CHECK(store.size() == 1);
  }
  TokenStore later(tmp.path(), kNoon + 2h, 1h);
  CHECK(later.size() == 0);
  CHECK(cadereau::testing::read_text(tmp / kTokensFile).find("carol") == std::string::npos);
}

TEST_CASE("A corrupt tokens file is refused naming its line", "[unit][auth]") {
  TempDir tmp;
  cadereau::testing::write_text(tmp / kTokensFile,
                                "{\"version\": 1, \"tokens\": [\n"
                                "{\"sha256\": \"" + std::string(64, 'a') +
                                    "\", \"user\": \"bob\", \"role\": \"player\", \"cell\": \"police\", "
                                    "\"issued_at\": 1, \"expires_at\": 99999999999},\n"
                                    "{\"sha256\": \"" + std::string(64, 'b') +
                                    "\", \"user\": \"eve\", \"role\": \"root\", \"issued_at\": 1, "
                                    "\"expires_at\": 99999999999}\n]}\n");
  try {
    TokenStore store(tmp.path(), kNoon);
    FAIL("accepted");
  } catch (const cadereau::Error& e) {
    CHECK(e.category() == ErrorCategory::internal);
    CHECK_THAT(e.what(), Catch::Contains((tmp / kTokensFile).string() + ":3:") && Catch::Contains("'root'"));
  }
}
