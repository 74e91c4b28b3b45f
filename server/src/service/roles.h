#pragma once
// Who a user is to the server: a role, a cell for exercise players, and the
// mode of the session they act on. Parsed from text at the boundary (users
// file, CLI, JSON) and switched on inside.

#include <optional>
#include <string>
#include <string_view>

namespace cadereau::server::service {

// The server's roles (DESIGN.md, "The server"). Text forms: "admin",
// "director", "operator", "player", "observer".
enum class Role {
  admin,          // manages users, may do everything a session's mode allows
  director,       // runs exercises and replays (exercise control, EXCON)
  live_operator,  // works the live crisis room
  player,         // exercise participant, in one cell
  observer,       // reads only (evaluators)
};

// An exercise player's cell. Text forms are the enumerators' names.
enum class Cell { police, traffic, crisis, flood, reports };

// What a session is. Text forms are the enumerators' names.
enum class SessionMode { exercise, live, replay };

std::string_view to_string(Role role);
std::string_view to_string(Cell cell);
std::string_view to_string(SessionMode mode);

// Parse the text forms above. Throw cadereau::Error (bad_input) naming the
// value and the accepted ones.
Role parse_role(std::string_view text);
Cell parse_cell(std::string_view text);
SessionMode parse_session_mode(std::string_view text);

// The authenticated caller of a request.
struct Principal {
  std::string user;
  Role role = Role::observer;
  std::optional<Cell> cell;  // players only

  bool operator==(const Principal&) const = default;
};

// "director:anne": how records, events and alerts name who did something.
std::string principal_text(const Principal& who);

}  // namespace cadereau::server::service
