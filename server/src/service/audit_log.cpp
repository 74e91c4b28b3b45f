#include "audit_log.h"

#include "data_files.h"

#include "cadereau/twin/error.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace cadereau::server::service {

namespace fs = std::filesystem;

namespace {

// No record line is longer: fields are cut to these lengths when appended.
constexpr std::size_t kMaxLineBytes = 1 << 20;
constexpr std::size_t kMaxDetailBytes = 8192;
constexpr std::size_t kMaxFieldBytes = 1024;

[[noreturn]] void fail_io(const fs::path& file, std::string_view doing) {
  fail_as(ErrorCategory::unavailable, file.string(), "cannot {}: {}", doing, std::strerror(errno));
}

// Holds a flock on a file descriptor for a scope.
class Flock {
 public:
  Flock(int fd, int operation, const fs::path& file) : fd_(fd) {
    while (::flock(fd_, operation) != 0)
      if (errno != EINTR) fail_io(file, "lock");
  }
  ~Flock() { ::flock(fd_, LOCK_UN); }
  Flock(const Flock&) = delete;
  Flock& operator=(const Flock&) = delete;

 private:
  int fd_;
};

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category());
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Continues the verification in `check` from its good_bytes to the end of
// the file: stops at the first record that does not verify, and counts the
// bytes after the last line break as torn.
void scan(int fd, const fs::path& file, AuditCheck& check) {
  std::string pending;
  std::uint64_t offset = check.good_bytes;
  std::string buffer(1 << 16, '\0');
  while (true) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_io(file, "read");
    if (n == 0) break;
    offset += static_cast<std::uint64_t>(n);
    pending.append(buffer.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      const std::string_view line(pending.data() + start, end - start);
      std::string problem;
      const auto record = check_line(line, check.records + 1, check.last_hash, problem);
      if (!record) {
        check.bad_seq = check.records + 1;
        check.bad_line = check.records + 1;
        check.reason = problem;
        return;
      }
      ++check.records;
      check.last_hash = record->hash;
      check.good_bytes += line.size() + 1;
    }
    pending.erase(0, start);
    if (pending.size() > kMaxLineBytes) {
      check.bad_seq = check.bad_line = check.records + 1;
      check.reason = fmt::format("a line longer than {} bytes", kMaxLineBytes);
      return;
    }
  }
  check.torn_bytes = pending.size();
}

// Keeps a torn last line in FILE.torn and cuts it off FILE.
void cut_torn_line(int fd, const fs::path& file, const AuditCheck& check) {
  std::string fragment(check.torn_bytes, '\0');
  if (::pread(fd, fragment.data(), fragment.size(), static_cast<off_t>(check.good_bytes)) !=
      static_cast<ssize_t>(fragment.size()))
    fail_io(file, "read its torn last line");
  const fs::path aside = file.string() + ".torn";
  const int out = ::open(aside.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (out < 0) fail_io(aside, "open");
  try {
    write_all(out, fmt::format("after seq {} ({} bytes): {}\n", check.records, fragment.size(), fragment));
  } catch (const std::system_error&) {
    ::close(out);
    fail_io(aside, "write");
  }
  const bool synced = ::fsync(out) == 0;
  ::close(out);
  if (!synced) fail_io(aside, "flush");
  if (::ftruncate(fd, static_cast<off_t>(check.good_bytes)) != 0 || ::fdatasync(fd) != 0)
    fail_io(file, "cut off its torn last line");
}

AuditEntry bounded(AuditEntry e) {
  for (std::string* s : {&e.user, &e.action, &e.session, &e.target})
    if (s->size() > kMaxFieldBytes) s->resize(kMaxFieldBytes);
  if (e.detail.size() > kMaxDetailBytes) e.detail.resize(kMaxDetailBytes);
  return e;
}

}  // namespace

AuditCheck verify_audit_log(const fs::path& file) {
  AuditCheck check;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return check;
    fail_io(file, "open");
  }
  try {
    // A shared lock: a writer's line is never seen half-written.
    Flock lock(fd, LOCK_SH, file);
    scan(fd, file, check);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return check;
}

AuditLog::AuditLog(const fs::path& data_dir) : file_(data_dir / kAuditLogFile) {
  ensure_private_dir(data_dir);
  fd_ = ::open(file_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) fail_io(file_, "open");
  try {
    std::lock_guard lock(mutex_);
    Flock flock(fd_, LOCK_EX, file_);
    opened_ = catch_up_locked();
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

AuditCheck AuditLog::catch_up_locked() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail_io(file_, "stat");
  if (static_cast<std::uint64_t>(st.st_size) < state_.good_bytes)
    fail_as(ErrorCategory::internal, file_.string(), "shrank from {} to {} bytes while open: records were removed",
            state_.good_bytes, st.st_size);
  scan(fd_, file_, state_);
  const AuditCheck found = state_;
  if (state_.bad_seq)
    fail_as(ErrorCategory::internal, fmt::format("{}:{}", file_.string(), state_.bad_line),
            "seq {}: {}; the audit chain is broken there, so no record is added after it", *state_.bad_seq,
            state_.reason);
  if (state_.torn_bytes > 0) {
    cut_torn_line(fd_, file_, state_);
    state_.torn_bytes = 0;
  }
  return found;
}

AuditRecord AuditLog::append(const AuditEntry& entry, std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mutex_);
  Flock flock(fd_, LOCK_EX, file_);
  catch_up_locked();
  AuditRecord record = seal(bounded(entry), state_.records + 1, iso8601_utc(now), state_.last_hash);
  const std::string line = to_line(record) + "\n";
  try {
    write_all(fd_, line);
    if (::fdatasync(fd_) != 0) throw std::system_error(errno, std::generic_category());
  } catch (const std::system_error& e) {
    // Leave no partial line for the next record to run into.
    const bool cut = ::ftruncate(fd_, static_cast<off_t>(state_.good_bytes)) == 0;
    fail_as(ErrorCategory::unavailable, file_.string(), "cannot append record {}: {}{}", record.seq,
            e.code().message(), cut ? "" : " (a partial line may remain; the next opening cuts it off)");
  }
  ++state_.records;
  state_.last_hash = record.hash;
  state_.good_bytes += line.size();
  return record;
}

std::uint64_t AuditLog::last_seq() const {
  std::lock_guard lock(mutex_);
  return state_.records;
}

std::string AuditLog::last_hash() const {
  std::lock_guard lock(mutex_);
  return state_.last_hash;
}

}  // namespace cadereau::server::service
