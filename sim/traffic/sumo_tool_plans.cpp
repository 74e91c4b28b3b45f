#include "sumo_tool_plans.h"

#include "cadereau/twin/error.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace cadereau::sim::traffic {

namespace {

constexpr double kToolTimeLimit_s = 600.0;

std::filesystem::path sumo_tools_dir() {
  const char* home = std::getenv("SUMO_HOME");
  return std::filesystem::path(home && *home ? home : "/usr/share/sumo") / "tools";
}

std::string last_line(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

// Runs python3 with the arguments, output to log; empty when it succeeded,
// else why not.
std::string run_python(const std::vector<std::string>& args, const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> argv_text = {"python3"};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "python3", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fmt::format("cannot run python3: {}", std::strerror(rc));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(kToolTimeLimit_s);
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return "lost the tool's process";
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return fmt::format("stopped after {:.0f} s", kToolTimeLimit_s);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const std::string tail = last_line(log);
  return fmt::format("exit status {}{}", WIFEXITED(status) ? WEXITSTATUS(status) : -1, tail.empty() ? "" : ": " + tail);
}

}  // namespace

std::vector<ToolPlan> sumo_tool_plans(const GreenwaveOptions& options, double begin_s, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto tools = sumo_tools_dir();
  std::string routes;
  for (const auto& r : options.routes) routes += (routes.empty() ? "" : ",") + r.string();
  const auto webster = dir / "tlsCycleAdaptation.add.xml", coordinated = dir / "tlsCoordinator.add.xml",
             both = dir / "tlsCycleAdaptation+tlsCoordinator.add.xml";
  std::vector<ToolPlan> out;
  auto tool = [&](const char* script, std::vector<std::string> args, const std::filesystem::path& file) {
    if (!std::filesystem::exists(tools / script)) return fmt::format("{} not found in {}", script, tools.string());
    args.insert(args.begin(), (tools / script).string());
    auto why = run_python(args, dir / (file.filename().string() + ".log"));
    if (why.empty() && !std::filesystem::exists(file)) why = "wrote no plan";
    return why;
  };
  const std::string w = tool("tlsCycleAdaptation.py",
                             {"-n", options.net.string(), "-r", routes, "-u", "-b", fmt::format("{:.0f}", begin_s), "-o",
                              webster.string()},
                             webster);
  out.push_back({"tlsCycleAdaptation -u", {webster}, w});
  // tlsCoordinator.py reads one route file: the first, which holds the
  // private traffic in SUMO's scenarios (Bologna's buses come second).
  const std::string first_routes = options.routes.front().string();
  const std::string c =
      tool("tlsCoordinator.py", {"-n", options.net.string(), "-r", first_routes, "-o", coordinated.string()}, coordinated);
  out.push_back({"tlsCoordinator", {coordinated}, c});
  std::string b = w.empty() ? tool("tlsCoordinator.py",
                                   {"-n", options.net.string(), "-r", first_routes, "-a", webster.string(), "-o", both.string()},
                                   both)
                            : "needs tlsCycleAdaptation's plan";
  out.push_back({"tlsCycleAdaptation -u + tlsCoordinator", {webster, both}, b});
  for (auto& p : out)
    if (!p.error.empty()) p.additionals.clear();
  return out;
}

std::vector<twin::TrafficLight> programs_after(const std::vector<twin::TrafficLight>& base,
                                               const std::vector<std::filesystem::path>& additionals) {
  auto out = base;
  for (const auto& file : additionals) {
    for (auto& p : read_programs(file)) {
      for (auto& current : out) {
        if (current.id != p.id) continue;
        if (p.phases.empty()) {
          current.offset_s = p.offset_s;
        } else {
          current = std::move(p);
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace cadereau::sim::traffic
