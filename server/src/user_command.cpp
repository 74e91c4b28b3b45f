#include "user_command.h"

#include "command_args.h"
#include "service/audit_log.h"
#include "service/users.h"

#include "cadereau/twin/error.h"

#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

namespace cadereau::server {

namespace {

using service::Cell;
using service::Role;

// One line of `in`; on a terminal, prompted on `err` and not echoed.
std::string read_password(std::istream& in, std::ostream& err) {
  const bool terminal = &in == &std::cin && ::isatty(STDIN_FILENO);
  termios saved{};
  if (terminal && ::tcgetattr(STDIN_FILENO, &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    err << "password: " << std::flush;
  }
  std::string line;
  std::getline(in, line);
  if (terminal) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    err << "\n";
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) fail("password", "none given: write it as one line on standard input");
  return line;
}

// "local:alice", the account that ran the command.
std::string local_user() {
  const passwd* pw = ::getpwuid(::geteuid());
  return "local:" + (pw ? std::string(pw->pw_name) : std::to_string(::geteuid()));
}

template <typename T, typename Parse>
T parse_option(const std::string& option, const std::string& value, Parse parse) {
  try {
    return parse(value);
  } catch (const Error& e) {
    throw UsageError{fmt::format("--{} {}", option, e.what_only())};
  }
}

int add(Args& args, std::istream& in, std::ostream& out, std::ostream& err) {
  const auto role_text = args.take("role");
  const auto cell_text = args.take("cell");
  const auto data = args.take("data");
  args.finish(1);
  if (args.positional().size() != 1 || !role_text || !data)
    throw UsageError{"user add needs NAME --role ROLE --data DIR"};
  const std::string& name = args.positional()[0];
  const Role role = parse_option<Role>("role", *role_text, service::parse_role);
  std::optional<Cell> cell;
  if (cell_text) cell = parse_option<Cell>("cell", *cell_text, service::parse_cell);
  // Refuse what is wrong before asking for a password.
  service::check_user_name(name);
  service::check_role_and_cell(role, cell);
  const std::string password = read_password(in, err);
  service::check_password(password);

  service::AuditLog audit(*data);
  service::UserStore users(*data);
  const auto user = users.add(name, role, cell, password);
  std::string detail = fmt::format("role {}", service::to_string(role));
  if (cell) detail += fmt::format(", cell {}", service::to_string(*cell));
  audit.append({local_user(), std::nullopt, "user.add", "", name, 201, detail}, std::chrono::system_clock::now());
  out << fmt::format("user {} added to {} ({})\n", user.name, users.file().string(), detail);
  return 0;
}

int list(Args& args, std::ostream& out) {
  const auto data = args.take("data");
  args.finish();
  if (!args.positional().empty() || !data) throw UsageError{"user list needs --data DIR"};
  service::UserStore store(*data);
  const auto users = store.list();
  if (users.empty()) {
    out << "no users in " << store.file().string() << "\n";
    return 0;
  }
  out << fmt::format("{:<24} {:<10} {}\n", "name", "role", "cell");
  for (const auto& u : users)
    out << fmt::format("{:<24} {:<10} {}\n", u.name, service::to_string(u.role),
                       u.cell ? service::to_string(*u.cell) : "");
  return 0;
}

}  // namespace

int user_command(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err) {
  if (args.empty()) throw UsageError{"user needs a subcommand: add or list"};
  Args rest(args, 1);
  if (args[0] == "add") return add(rest, in, out, err);
  if (args[0] == "list") return list(rest, out);
  throw UsageError{"unknown user subcommand '" + args[0] + "' (add or list)"};
}

}  // namespace cadereau::server
