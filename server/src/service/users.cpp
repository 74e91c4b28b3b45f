#include "users.h"

#include "data_files.h"

#include "cadereau/twin/error.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cadereau::server::service {

namespace fs = std::filesystem;

namespace {

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'; }

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// An exclusive lock on DATA/.users.json.lock for one read-modify-write of
// the users file, across processes.
class FileLock {
 public:
  explicit FileLock(const fs::path& file) : fd_(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0)
      fail_as(ErrorCategory::unavailable, file.string(), "cannot lock: {}", std::strerror(errno));
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

nlohmann::json to_json(const User& user, const std::string& hash) {
  nlohmann::json j = {{"name", user.name}, {"role", to_string(user.role)}};
  if (user.cell) j["cell"] = to_string(*user.cell);
  j["hash"] = hash;
  return j;
}

std::string string_field(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) throw Error("", fmt::format("missing \"{}\"", key));
  if (!j[key].is_string()) throw Error("", fmt::format("\"{}\" is not a string", key));
  return j[key].get<std::string>();
}

}  // namespace

void check_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameChars || !std::all_of(name.begin(), name.end(), is_name_char))
    fail("user name", "'{}' is not 1 to {} of a-z, 0-9, '.', '_', '-'", name, kMaxUserNameChars);
}

void check_password(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) fail("password", "longer than {} bytes", kMaxPasswordBytes);
  if (code_points(password) < kMinPasswordChars)
    fail("password", "too short: at least {} characters are needed", kMinPasswordChars);
}

void check_role_and_cell(Role role, const std::optional<Cell>& cell) {
  if (role == Role::player && !cell) fail("cell", "a player needs a cell (police, traffic, crisis, flood, reports)");
  if (role != Role::player && cell) fail("cell", "only players have a cell, not a user with role {}", to_string(role));
}

UserStore::UserStore(fs::path data_dir, PasswordCost cost)
    : dir_(std::move(data_dir)), file_(dir_ / kUsersFile), cost_(cost) {
  std::lock_guard lock(mutex_);
  load_locked();
}

UserStore::FileStamp UserStore::stamp_now() const {
  struct stat st {};
  if (::stat(file_.c_str(), &st) != 0) return {};
  return {true, st.st_ino, static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_size)};
}

void UserStore::load_locked() {
  const FileStamp stamp = stamp_now();
  std::vector<Entry> entries;
  if (auto doc = read_json_list_file(file_, "users")) {
    const auto& users = doc->document["users"];
    for (std::size_t i = 0; i < users.size(); ++i) {
      const std::size_t line = i < doc->entry_lines.size() ? doc->entry_lines[i] : 1;
      try {
        Entry e;
        e.user.name = string_field(users[i], "name");
        check_user_name(e.user.name);
        e.user.role = parse_role(string_field(users[i], "role"));
        if (users[i].contains("cell")) e.user.cell = parse_cell(string_field(users[i], "cell"));
        check_role_and_cell(e.user.role, e.user.cell);
        e.hash = string_field(users[i], "hash");
        if (e.hash.rfind("$argon2id$", 0) != 0) throw Error("hash", "not an Argon2id hash string");
        if (std::any_of(entries.begin(), entries.end(), [&](const Entry& o) { return o.user.name == e.user.name; }))
          throw Error("", fmt::format("user '{}' appears twice", e.user.name));
        entries.push_back(std::move(e));
      } catch (const Error& e) {
        fail_at_line(file_, line, e.what());
      }
    }
  }
  entries_ = std::move(entries);
  stamp_ = stamp;
}

void UserStore::refresh_locked() {
  if (!(stamp_now() == stamp_)) load_locked();
}

User UserStore::add(const std::string& name, Role role, std::optional<Cell> cell, std::string_view password) {
  check_user_name(name);
  check_role_and_cell(role, cell);
  check_password(password);
  {
    // Refused early, without the cost of a hash; checked again under the lock.
    std::lock_guard lock(mutex_);
    refresh_locked();
    if (std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.user.name == name; }))
      fail_as(ErrorCategory::conflict, "user " + name, "already exists");
  }
  // Hash before taking the file lock: it is the slow part.
  const std::string hash = hash_password(password, cost_);
  ensure_private_dir(dir_);
  std::lock_guard lock(mutex_);
  FileLock file_lock(dir_ / ".users.json.lock");
  load_locked();
  if (std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.user.name == name; }))
    fail_as(ErrorCategory::conflict, "user " + name, "already exists");
  User user{name, role, cell};
  std::vector<Entry> entries = entries_;
  entries.push_back({user, hash});
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.user.name < b.user.name; });
  std::vector<nlohmann::json> json;
  for (const auto& e : entries) json.push_back(to_json(e.user, e.hash));
  write_private_file(file_, json_list_text("users", json));
  load_locked();
  return user;
}

const std::string& UserStore::dummy_hash() {
  std::call_once(dummy_once_, [this] { dummy_hash_ = hash_password(random_base64url(24), cost_); });
  return dummy_hash_;
}

std::optional<User> UserStore::verify(std::string_view name, std::string_view password) {
  const std::string& dummy = dummy_hash();
  std::optional<Entry> found;
  {
    std::lock_guard lock(mutex_);
    refresh_locked();
    for (const auto& e : entries_)
      if (e.user.name == name) found = e;
  }
  // Unknown users are checked against a hash of a random password at the
  // same cost, which never matches.
  const bool ok = verify_password(found ? found->hash : dummy, password);
  if (!found || !ok) return std::nullopt;
  return found->user;
}

std::vector<User> UserStore::list() {
  std::lock_guard lock(mutex_);
  refresh_locked();
  std::vector<User> users;
  for (const auto& e : entries_) users.push_back(e.user);
  std::sort(users.begin(), users.end(), [](const User& a, const User& b) { return a.name < b.name; });
  return users;
}

}  // namespace cadereau::server::service
