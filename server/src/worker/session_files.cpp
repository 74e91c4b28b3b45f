#include "session_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace cadereau::server::worker {

std::vector<std::filesystem::path> session_recordings(const std::filesystem::path& session_dir) {
  static const std::regex name(R"(recording-\d{3}\.h5)");
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(session_dir, ec))
    if (std::regex_match(entry.path().filename().string(), name)) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::filesystem::path next_recording(const std::filesystem::path& session_dir) {
  return session_dir / fmt::format("recording-{:03}.h5", session_recordings(session_dir).size() + 1);
}

}  // namespace cadereau::server::worker
