#pragma once
// The server's users: DATA/users.json, one entry per user with a name, a
// role, a cell (players only) and an Argon2id hash of the password. No
// password is ever stored or logged.
//
//   {"version": 1, "users": [
//   {"name": "alice", "role": "director", "hash": "$argon2id$v=19$m=65536,t=2,p=1$..."},
//   {"name": "bob", "role": "player", "cell": "police", "hash": "$argon2id$..."}
//   ]}
//
// The file is replaced atomically (mode 0600). Several processes may add
// users at once (the server and `cadereau user add`): each addition re-reads
// the file under a lock, and a store notices a file changed by another
// process before it verifies or lists.

#include "crypto.h"
#include "roles.h"

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace cadereau::server::service {

inline constexpr const char* kUsersFile = "users.json";
inline constexpr std::size_t kMinPasswordChars = 12;  // Unicode code points
inline constexpr std::size_t kMaxPasswordBytes = 4096;
inline constexpr std::size_t kMaxUserNameChars = 64;

struct User {
  std::string name;
  Role role = Role::observer;
  std::optional<Cell> cell;

  Principal principal() const { return {name, role, cell}; }
};

// Throws Error (bad_input) unless `name` is 1 to 64 of [a-z0-9._-].
void check_user_name(std::string_view name);
// Throws Error (bad_input) unless `password` has at least 12 characters
// (code points of UTF-8) and at most 4096 bytes.
void check_password(std::string_view password);
// Throws Error (bad_input) unless players have a cell and the others none.
void check_role_and_cell(Role role, const std::optional<Cell>& cell);

class UserStore {
 public:
  // The users of DATA/users.json (none if it does not exist yet; the folder
  // is created on the first add). New hashes cost `cost`. Throws Error
  // (internal) "DATA/users.json:LINE: ..." when the file is corrupt: not
  // JSON, an unknown role or cell, a bad name, a duplicate, a hash that is not
  // Argon2id.
  explicit UserStore(std::filesystem::path data_dir, PasswordCost cost = interactive_password_cost());

  // Adds a user and saves the file. Throws Error: bad_input for a bad name,
  // password, or role and cell; conflict when the name is taken.
  User add(const std::string& name, Role role, std::optional<Cell> cell, std::string_view password);

  // The user if `password` is theirs. Takes one Argon2id verification
  // whether or not the user exists, so the time does not tell which names
  // exist.
  std::optional<User> verify(std::string_view name, std::string_view password);

  // Every user, by name.
  std::vector<User> list();

  const std::filesystem::path& file() const { return file_; }

 private:
  struct Entry {
    User user;
    std::string hash;
  };
  // Re-reads the file if another process replaced it. Needs mutex_.
  void refresh_locked();
  void load_locked();
  const std::string& dummy_hash();

  std::filesystem::path dir_;
  std::filesystem::path file_;
  PasswordCost cost_;
  std::mutex mutex_;
  std::vector<Entry> entries_;
  struct FileStamp {
    bool exists = false;
    ino_t inode = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t size = 0;
    bool operator==(const FileStamp&) const = default;
  } stamp_;
  // The file as it is on disk now (exists: false when it is not there).
  FileStamp stamp_now() const;
  std::once_flag dummy_once_;
  std::string dummy_hash_;
};

}  // namespace cadereau::server::service
