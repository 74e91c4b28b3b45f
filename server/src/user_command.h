#pragma once
// `cadereau user`: the server's users, managed on the machine that holds the
// data folder (DATA/users.json, service/users.h).
//
//   cadereau user add NAME --role ROLE [--cell CELL] --data DIR
//       the password is one line on standard input (not echoed on a terminal)
//   cadereau user list --data DIR
//
// Each addition is recorded in DATA/audit.jsonl as done by "local:<unix user>".

#include <iosfwd>
#include <string>
#include <vector>

namespace cadereau::server {

// args: the words after "user"; `in` gives the password. Returns 0 when done.
// Throws UsageError (command_args.h) for a bad command line and
// cadereau::Error for the rest: bad_input for a bad name, role, cell or
// password, conflict for a name already taken, internal for a corrupt users
// file or audit log.
int user_command(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace cadereau::server
