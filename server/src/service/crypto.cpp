#include "crypto.h"

#include "cadereau/twin/error.h"

#include <sodium.h>

#include <array>
#include <mutex>

namespace cadereau::server::service {

namespace {

void ensure_sodium() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = sodium_init() >= 0; });
  if (!ok) fail_as(ErrorCategory::internal, "libsodium", "cannot initialise");
}

using Digest = std::array<unsigned char, crypto_hash_sha256_BYTES>;

std::string hex(const Digest& digest) {
  std::string out(2 * digest.size() + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), digest.data(), digest.size());
  out.pop_back();
  return out;
}

const unsigned char* bytes_of(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  ensure_sodium();
  Digest digest;
  crypto_hash_sha256(digest.data(), bytes_of(bytes), bytes.size());
  return hex(digest);
}

std::string chained_sha256_hex(std::string_view prev_hash_hex, std::string_view bytes) {
  ensure_sodium();
  Digest prev;
  std::size_t prev_len = 0;
  const char* end = nullptr;
  if (prev_hash_hex.size() != 2 * prev.size() ||
      sodium_hex2bin(prev.data(), prev.size(), prev_hash_hex.data(), prev_hash_hex.size(), nullptr, &prev_len,
                     &end) != 0 ||
      prev_len != prev.size())
    fail("hash chain", "previous hash '{}' is not 64 hex digits", prev_hash_hex);
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, prev.data(), prev.size());
  crypto_hash_sha256_update(&state, bytes_of(bytes), bytes.size());
  Digest digest;
  crypto_hash_sha256_final(&state, digest.data());
  return hex(digest);
}

std::string random_base64url(std::size_t n) {
  ensure_sodium();
  std::string raw(n, '\0');
  randombytes_buf(raw.data(), raw.size());
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(n, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes_of(raw), raw.size(), variant);
  sodium_memzero(raw.data(), raw.size());
  out.resize(out.find('\0'));
  return out;
}

PasswordCost interactive_password_cost() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordCost moderate_password_cost() { return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE}; }

std::string hash_password(std::string_view password, const PasswordCost& cost) {
  ensure_sodium();
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), cost.ops, cost.memory_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    fail_as(ErrorCategory::unavailable, "password hash", "Argon2id could not get {} MiB of memory",
            cost.memory_bytes >> 20);
  return out.data();
}

bool verify_password(std::string_view hash, std::string_view password) {
  ensure_sodium();
  // libsodium wants a NUL-terminated hash string of bounded length.
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::array<char, crypto_pwhash_STRBYTES> terminated{};
  hash.copy(terminated.data(), hash.size());
  return crypto_pwhash_str_verify(terminated.data(), password.data(), password.size()) == 0;
}

}  // namespace cadereau::server::service
