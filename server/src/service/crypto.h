#pragma once
// The cryptography the security core uses, behind one wall: libsodium is
// included only in crypto.cpp. Every function initialises libsodium itself
// (once, thread-safe) and throws cadereau::Error (internal) if it cannot.

#include <cstdint>
#include <string>
#include <string_view>

namespace cadereau::server::service {

// SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

// SHA-256 of the 32 bytes that `prev_hash_hex` (64 hex digits) stands for,
// followed by `bytes`, as 64 lowercase hex digits: one link of a hash chain.
// Throws Error (bad_input) when prev_hash_hex is not 64 hex digits.
std::string chained_sha256_hex(std::string_view prev_hash_hex, std::string_view bytes);

// `n` bytes from the operating system's CSPRNG as unpadded base64url.
std::string random_base64url(std::size_t n);

// Argon2id cost of a password hash. The hash string records its own cost, so
// raising these later leaves existing hashes verifiable.
struct PasswordCost {
  std::uint64_t ops = 0;
  std::size_t memory_bytes = 0;
};
// libsodium's "interactive" cost: 2 passes over 64 MiB.
PasswordCost interactive_password_cost();
// libsodium's "moderate" cost: 3 passes over 256 MiB.
PasswordCost moderate_password_cost();

// An Argon2id hash string ("$argon2id$v=19$m=...,t=...,p=1$salt$hash") of
// `password` with a fresh random salt. Throws Error (unavailable) when the
// memory cannot be had.
std::string hash_password(std::string_view password, const PasswordCost& cost);

// Whether `password` matches `hash` (an Argon2id hash string). A malformed
// hash string does not match. Takes the time of one hash at the string's cost.
bool verify_password(std::string_view hash, std::string_view password);

}  // namespace cadereau::server::service
