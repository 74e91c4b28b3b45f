#pragma once
// The audit log: DATA/audit.jsonl, append-only, one hash-chained record per
// line (audit_record.h for the format). Who did what, on which session, and
// what the server answered.
//
// append() writes the whole line with O_APPEND and fdatasync()s it before
// returning, so a record the caller has seen is on disk. Writers take an
// exclusive flock on the file, and a writer that finds records appended by
// another process (the server and `cadereau user add`) verifies them and
// chains onto the last one.
//
// Opening verifies the whole chain. A torn last line (a crash mid-write:
// bytes without an end of line) is reported, moved to DATA/audit.jsonl.torn
// and cut off, so the next record follows the last complete one and is never
// merged into the fragment. A record that does not verify anywhere else is
// tampering or corruption: the log is not opened (Error, internal) and a
// person must look; moving the file aside starts a new chain and keeps the
// old one as evidence.
//
// A hash chain shows a changed, inserted or removed record, but not records
// cut off at the end at a line boundary: compare last_hash() with a copy
// kept elsewhere for that.

#include "audit_record.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

namespace cadereau::server::service {

inline constexpr const char* kAuditLogFile = "audit.jsonl";

// What a verification found.
struct AuditCheck {
  std::uint64_t records = 0;          // complete records that verify, from seq 1
  std::string last_hash = std::string(kAuditGenesisHash);  // of the last of them
  std::uint64_t good_bytes = 0;       // the length of the file they fill

  std::optional<std::uint64_t> bad_seq;  // the first record that does not verify
  std::uint64_t bad_line = 0;            // and its line (1-based)
  std::string reason;                    // and why

  std::uint64_t torn_bytes = 0;  // an unfinished last line, not counted above

  // Every line is a complete record that verifies.
  bool ok() const { return !bad_seq && torn_bytes == 0; }
};

// Verifies an audit log file without changing it. A missing file is an empty
// log. Throws Error (unavailable) when it cannot be read.
AuditCheck verify_audit_log(const std::filesystem::path& file);

class AuditLog {
 public:
  // Opens DATA/audit.jsonl (creating DATA and the file, mode 0600), verifies
  // it and cuts off a torn last line (see above; opened() tells). Throws
  // Error: internal "FILE:LINE: seq N: why" when a record does not verify,
  // unavailable when the file cannot be opened.
  explicit AuditLog(const std::filesystem::path& data_dir);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // What opening found, before cutting off a torn line.
  const AuditCheck& opened() const { return opened_; }

  // Appends `entry` as the next record, stamped `now`, and returns it once it
  // is on disk. Throws Error: unavailable when it cannot be written (the file
  // is left without a partial line), internal when another writer's records
  // do not verify. Thread-safe.
  AuditRecord append(const AuditEntry& entry, std::chrono::system_clock::time_point now);

  std::uint64_t last_seq() const;
  std::string last_hash() const;
  const std::filesystem::path& file() const { return file_; }

 private:
  // Verifies what was added to the file since state_ (by another writer, or
  // everything when opening) and cuts off a torn last line; returns what it
  // found before cutting. Needs mutex_ and the flock.
  AuditCheck catch_up_locked();

  std::filesystem::path file_;
  int fd_ = -1;
  mutable std::mutex mutex_;
  AuditCheck state_;  // the verified part of the file
  AuditCheck opened_;
};

}  // namespace cadereau::server::service
