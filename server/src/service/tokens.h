#pragma once
// Session tokens: what login hands out and every later request presents
// (Authorization: Bearer, or the session cookie).
//
// A token is 32 random bytes as unpadded base64url (43 characters). Only its
// SHA-256 is kept, in memory and in DATA/tokens.json (mode 0600, replaced
// atomically), with the principal and the issue and expiry times, so that a
// restarted server keeps its logins and a copy of the file opens nothing.
//
//   {"version": 1, "tokens": [
//   {"sha256": "9f86...", "user": "bob", "role": "player", "cell": "police",
//    "issued_at": 1700000000, "expires_at": 1700043200}
//   ]}
//
// Times are Unix seconds (UTC). Expired tokens are dropped when the file is
// read, on each issue and by purge_expired().

#include "roles.h"

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cadereau::server::service {

inline constexpr const char* kTokensFile = "tokens.json";
inline constexpr std::chrono::seconds kDefaultTokenLifetime = std::chrono::hours(12);

using WallTime = std::chrono::sys_seconds;

struct IssuedToken {
  std::string token;  // give it to the client; it is not kept
  Principal principal;
  WallTime issued_at;
  WallTime expires_at;
};

class TokenStore {
 public:
  // Loads DATA/tokens.json if it exists, dropping tokens expired at `now`.
  // Throws Error (internal) "DATA/tokens.json:LINE: ..." when it is corrupt.
  TokenStore(std::filesystem::path data_dir, WallTime now, std::chrono::seconds lifetime = kDefaultTokenLifetime);

  // A new token for `principal`, valid from `now` for the lifetime; saved
  // before it is returned. Throws Error (unavailable) when it cannot be saved.
  IssuedToken issue(const Principal& principal, WallTime now);

  // The principal of a token that is known and not expired at `now`.
  std::optional<Principal> validate(std::string_view token, WallTime now) const;

  // Forgets a token (logout). Returns whether it was known.
  bool revoke(std::string_view token);
  // Forgets every token of a user. Returns how many.
  std::size_t revoke_user(std::string_view user);
  // Forgets tokens expired at `now`. Returns how many.
  std::size_t purge_expired(WallTime now);

  std::size_t size() const;
  const std::filesystem::path& file() const { return file_; }

 private:
  struct Entry {
    Principal principal;
    WallTime issued_at;
    WallTime expires_at;
  };
  void save_locked() const;
  std::size_t purge_locked(WallTime now);

  std::filesystem::path dir_;
  std::filesystem::path file_;
  std::chrono::seconds lifetime_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> by_hash_;  // SHA-256 hex of the token
};

}  // namespace cadereau::server::service
