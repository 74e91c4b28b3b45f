#include "console_files.h"

namespace cadereau::server::web {

const ConsoleFile* find_console_file(std::string_view path) {
  if (path == "/" || path.empty()) path = "/index.html";
  for (const auto& file : console_files())
    if (file.path == path) return &file;
  return nullptr;
}

}  // namespace cadereau::server::web
