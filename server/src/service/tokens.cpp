#include "tokens.h"

#include "crypto.h"
#include "data_files.h"
#include "users.h"

#include "cadereau/twin/error.h"

#include <algorithm>
#include <tuple>

namespace cadereau::server::service {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kTokenBytes = 32;
constexpr std::size_t kTokenChars = 43;  // 32 bytes in unpadded base64url

bool looks_like_token(std::string_view token) {
  return token.size() == kTokenChars && std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
         });
}

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

WallTime seconds_field(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_integer()) throw Error("", fmt::format("\"{}\" is not whole seconds", key));
  return WallTime(std::chrono::seconds(j[key].get<std::int64_t>()));
}

std::string string_field(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) throw Error("", fmt::format("\"{}\" is missing or not a string", key));
  return j[key].get<std::string>();
}

}  // namespace

TokenStore::TokenStore(fs::path data_dir, WallTime now, std::chrono::seconds lifetime)
    : dir_(std::move(data_dir)), file_(dir_ / kTokensFile), lifetime_(lifetime) {
  auto doc = read_json_list_file(file_, "tokens");
  if (!doc) return;
  const auto& tokens = doc->document["tokens"];
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    try {
      const auto& t = tokens[i];
      const std::string hash = string_field(t, "sha256");
      if (!is_sha256_hex(hash)) throw Error("sha256", "not 64 lowercase hex digits");
      Entry e;
      e.principal.user = string_field(t, "user");
      check_user_name(e.principal.user);
      e.principal.role = parse_role(string_field(t, "role"));
      if (t.contains("cell")) e.principal.cell = parse_cell(string_field(t, "cell"));
      check_role_and_cell(e.principal.role, e.principal.cell);
      e.issued_at = seconds_field(t, "issued_at");
      e.expires_at = seconds_field(t, "expires_at");
      by_hash_.emplace(hash, e);
    } catch (const Error& e) {
      fail_at_line(file_, i < doc->entry_lines.size() ? doc->entry_lines[i] : 1, e.what());
    }
  }
  std::lock_guard lock(mutex_);
  if (purge_locked(now) > 0) save_locked();
}

IssuedToken TokenStore::issue(const Principal& principal, WallTime now) {
  IssuedToken out{random_base64url(kTokenBytes), principal, now, now + lifetime_};
  std::lock_guard lock(mutex_);
  purge_locked(now);
  const std::string hash = sha256_hex(out.token);
  by_hash_[hash] = Entry{principal, out.issued_at, out.expires_at};
  try {
    save_locked();
  } catch (...) {
    // A token that would not survive a restart is not handed out.
    by_hash_.erase(hash);
    throw;
  }
  return out;
}

std::optional<Principal> TokenStore::validate(std::string_view token, WallTime now) const {
  if (!looks_like_token(token)) return std::nullopt;
  const std::string hash = sha256_hex(token);
  std::lock_guard lock(mutex_);
  const auto it = by_hash_.find(hash);
  if (it == by_hash_.end() || now >= it->second.expires_at) return std::nullopt;
  return it->second.principal;
}

bool TokenStore::revoke(std::string_view token) {
  if (!looks_like_token(token)) return false;
  const std::string hash = sha256_hex(token);
  std::lock_guard lock(mutex_);
  if (by_hash_.erase(hash) == 0) return false;
  save_locked();
  return true;
}

std::size_t TokenStore::revoke_user(std::string_view user) {
  std::lock_guard lock(mutex_);
  const std::size_t n = std::erase_if(by_hash_, [&](const auto& kv) { return kv.second.principal.user == user; });
  if (n > 0) save_locked();
  return n;
}

std::size_t TokenStore::purge_expired(WallTime now) {
  std::lock_guard lock(mutex_);
  const std::size_t n = purge_locked(now);
  if (n > 0) save_locked();
  return n;
}

std::size_t TokenStore::size() const {
  std::lock_guard lock(mutex_);
  return by_hash_.size();
}

std::size_t TokenStore::purge_locked(WallTime now) {
  return std::erase_if(by_hash_, [&](const auto& kv) { return now >= kv.second.expires_at; });
}

void TokenStore::save_locked() const {
  // Sorted by expiry so that the file reads in order and does not depend on
  // the hash map's order.
  std::vector<std::pair<std::string, Entry>> sorted(by_hash_.begin(), by_hash_.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second.expires_at, a.first) < std::tie(b.second.expires_at, b.first);
  });
  std::vector<nlohmann::json> json;
  for (const auto& [hash, e] : sorted) {
    nlohmann::json j = {{"sha256", hash}, {"user", e.principal.user}, {"role", to_string(e.principal.role)}};
    if (e.principal.cell) j["cell"] = to_string(*e.principal.cell);
    j["issued_at"] = e.issued_at.time_since_epoch().count();
    j["expires_at"] = e.expires_at.time_since_epoch().count();
    json.push_back(std::move(j));
  }
  ensure_private_dir(dir_);
  write_private_file(file_, json_list_text("tokens", json));
}

}  // namespace cadereau::server::service
