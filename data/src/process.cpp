#include "process.h"

#include "cadereau/twin/error.h"

#include <cerrno>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cadereau::data::detail {

namespace {

constexpr const char* kDefaultSumoHome = "/usr/share/sumo";

std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  bool has_sumo_home = false;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    if (entry.rfind("SUMO_HOME=", 0) == 0) {
      if (entry.size() == std::strlen("SUMO_HOME=")) continue;  // empty: replace below
      has_sumo_home = true;
    }
    env.push_back(std::move(entry));
  }
  if (!has_sumo_home) env.push_back(std::string("SUMO_HOME=") + kDefaultSumoHome);
  return env;
}

}  // namespace

std::string last_lines(const std::filesystem::path& file, int count) {
  std::ifstream in(file);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > count) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "  " + l + "\n";
  return out;
}

void run_tool(const std::string& step, const std::string& program, const std::vector<std::string>& args,
              const std::filesystem::path& working_dir, const std::filesystem::path& log_file) {
  std::vector<std::string> argv_strings;
  argv_strings.push_back(program);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = child_environment();
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log_path = std::filesystem::absolute(log_file).string();
  const std::string cwd = working_dir.string();
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

  pid_t pid = 0;
  const int spawn_error = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    fail(step, "cannot run '{}': {} (is SUMO installed and '{}' on PATH?)", program, std::strerror(spawn_error),
         program);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail(step, "waiting for '{}' failed: {}", program, std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    fail(step, "'{}' could not be started (is SUMO installed and on PATH?); log {}:\n{}", program, log_path,
         last_lines(log_file, 12));
  if (WIFSIGNALED(status))
    fail(step, "'{}' was killed by signal {}; log {}:\n{}", program, WTERMSIG(status), log_path,
         last_lines(log_file, 12));
  fail(step, "'{}' failed with exit code {}; log {}:\n{}", program, WEXITSTATUS(status), log_path,
       last_lines(log_file, 12));
}

void drop_schema_reference(const std::filesystem::path& xml_file) {
  std::string text;
  {
    std::ifstream in(xml_file, std::ios::binary);
    if (!in) fail(xml_file.string(), "cannot read");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // The root element's start tag: past the declaration and the comments
  // (SUMO copies its own options, schema and all, into a header comment).
  std::size_t at = 0;
  while (true) {
    at = text.find('<', at);
    if (at == std::string::npos) fail(xml_file.string(), "no root element");
    if (text.compare(at, 4, "<!--") == 0) {
      at = text.find("-->", at);
    } else if (text.compare(at, 2, "<?") == 0) {
      at = text.find("?>", at);
    } else {
      break;
    }
    if (at == std::string::npos) fail(xml_file.string(), "unterminated comment or declaration");
  }
  const std::size_t tag_end = text.find('>', at);
  if (tag_end == std::string::npos) fail(xml_file.string(), "unterminated root element");
  std::string tag = text.substr(at, tag_end - at);
  for (const char* attribute : {" xsi:noNamespaceSchemaLocation=\"", " xmlns:xsi=\""}) {
    const std::size_t a = tag.find(attribute);
    if (a == std::string::npos) continue;
    const std::size_t close = tag.find('"', a + std::strlen(attribute));
    if (close == std::string::npos) fail(xml_file.string(), "malformed attribute in the root element");
    tag.erase(a, close + 1 - a);
  }
  text.replace(at, tag_end - at, tag);
  std::ofstream out(xml_file, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) fail(xml_file.string(), "cannot write");
}

}  // namespace cadereau::data::detail
