#pragma once
// Where `--record FILE` may write. A recording is an exercise's black box and
// the file beside it may be anyone's: neither is replaced without the user
// saying so (--overwrite).

#include <filesystem>

namespace cadereau::server {

// Throws Error (conflict) naming --record and the file when it already exists
// and `overwrite` is false, saying whether it holds a Cadereau recording (and
// whose) or something else; a folder is refused either way.
void check_record_target(const std::filesystem::path& file, bool overwrite);

}  // namespace cadereau::server
