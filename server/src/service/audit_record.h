#pragma once
// One record of the audit log (DATA/audit.jsonl), its canonical form and its
// link in the hash chain.
//
// A record is one line of JSON:
//   {"action":"login","detail":"","hash":"…","prev_hash":"…","result":200,
//    "role":"player","seq":1,"session":"","target":"",
//    "time":"2024-05-01T12:00:00.123Z","user":"bob"}
// seq counts from 1 without gaps; time is UTC, ISO 8601 with milliseconds;
// role is empty when the user is not known (a failed login); result is the
// HTTP status given to the request.
//
// hash = SHA-256(the 32 bytes of prev_hash || canonical JSON of the record
// without "hash"), as 64 lowercase hex digits; prev_hash is the previous
// record's hash, 64 zeros for seq 1. Canonical JSON is nlohmann::json's
// compact form: keys sorted by byte, no whitespace, UTF-8 as is (invalid
// bytes replaced by U+FFFD when written), integers in decimal. A verifier
// rebuilds it from the parsed values, so only the values are attested, not
// the layout of the line.

#include "roles.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cadereau::server::service {

inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// What the caller audits.
struct AuditEntry {
  std::string user;
  std::optional<Role> role;  // none when the user is unknown
  std::string action;        // e.g. "login", "session.create", "action.post"
  std::string session;       // may be empty
  std::string target;        // what was acted on, may be empty
  int result = 0;            // HTTP status
  std::string detail;

  bool operator==(const AuditEntry&) const = default;
};

struct AuditRecord {
  std::uint64_t seq = 0;
  std::string time;
  AuditEntry entry;
  std::string prev_hash;
  std::string hash;
};

// "2024-05-01T12:00:00.123Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t);
// The same from seconds since the epoch.
std::string iso_utc(double epoch_s);
// A session's start ("2026-12-01T05:10:00", the server's local time) in
// seconds since the epoch; nullopt when it is not such a time.
std::optional<double> local_epoch_s(const std::string& iso);

// The record of `entry` as number `seq` after `prev_hash`, with its hash.
AuditRecord seal(const AuditEntry& entry, std::uint64_t seq, std::string time, std::string prev_hash);

// The record as one line of JSON, without the line break.
std::string to_line(const AuditRecord& record);

// Reads one line as the record expected after (expected_seq - 1, whose hash
// is expected_prev_hash). Returns the record, or nothing with `problem` set
// to why it does not verify: not JSON, a missing or unknown field, another
// seq, a prev_hash that does not link, a hash that does not match.
std::optional<AuditRecord> check_line(std::string_view line, std::uint64_t expected_seq,
                                      std::string_view expected_prev_hash, std::string& problem);

}  // namespace cadereau::server::service
