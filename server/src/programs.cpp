#include "programs.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

extern char** environ;

namespace cadereau::server {

std::filesystem::path own_directory() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

int run_program(const std::vector<std::string>& argv) {
  std::vector<char*> raw;
  for (const auto& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
  raw.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, raw[0], nullptr, nullptr, raw.data(), environ) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string p = path;
  std::size_t start = 0;
  while (start <= p.size()) {
    const std::size_t end = p.find(':', start);
    const std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty() && access((std::filesystem::path(dir) / program).c_str(), X_OK) == 0) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

std::filesystem::path viewer_path() {
  // Installed side by side, or in the build tree's viewer/ folder.
  for (const auto& candidate : {own_directory() / "cadereau-viewer", own_directory().parent_path() / "viewer" / "cadereau-viewer"})
    if (std::filesystem::exists(candidate)) return candidate;
  return {};
}

int render_snapshot(const std::filesystem::path& territory_dir, const std::filesystem::path& png,
                    const std::vector<std::string>& extra) {
  const auto viewer = viewer_path();
  if (viewer.empty()) return -1;
  std::vector<std::string> command;
  const char* display = std::getenv("DISPLAY");
  if ((!display || !*display) && on_path("xvfb-run")) command = {"xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"};
  for (const std::string& a : {viewer.string(), std::string("--territory"), territory_dir.string(), std::string("--snapshot"), png.string()})
    command.push_back(a);
  command.insert(command.end(), extra.begin(), extra.end());
  return run_program(command);
}

}  // namespace cadereau::server
