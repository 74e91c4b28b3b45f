#pragma once
// The operators' console (server/web/) and the map library it uses
// (Leaflet, from Debian's libjs-leaflet), built into the executable: the
// server needs nothing else at run time and fetches nothing.

#include <span>
#include <string_view>

namespace cadereau::server::web {

struct ConsoleFile {
  std::string_view path;  // "/index.html", "/vendor/leaflet/leaflet.js"
  std::string_view content_type;
  std::string_view body;
};

std::span<const ConsoleFile> console_files();

// The file at a URL path ("/" is the console's page); nullptr when none.
const ConsoleFile* find_console_file(std::string_view path);

}  // namespace cadereau::server::web
