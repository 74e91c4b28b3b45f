#pragma once
// Starts and watches engine worker processes (`cadereau worker`), each
// connected to the server by a local stream socket, on one Asio thread of
// its own: lines from a worker and its exit reach the server as callbacks on
// that thread, SIGCHLD is taken through Asio (no blocking waitpid on a
// server thread), and no engine ever runs in the server process.
//
// The same thread runs the server's periodic ticks (clock broadcasts).

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace cadereau::server::worker {

class Supervisor;

// One running worker. Thread-safe.
class WorkerHandle {
 public:
  virtual ~WorkerHandle() = default;
  // Queues one line (without its newline) for the worker; dropped once the
  // worker is gone.
  virtual void send(std::string line) = 0;
  // Sends a signal to the worker process (SIGTERM, SIGKILL in tests).
  virtual void signal(int signal) = 0;
  virtual pid_t pid() const = 0;
};

struct WorkerCallbacks {
  // Each line the worker writes, in order, on the supervisor's thread.
  std::function<void(std::string line)> on_line;
  // Once the worker has exited and its last line was read: its wait status.
  std::function<void(int wait_status)> on_exit;
};

class Supervisor {
 public:
  // `executable`: the cadereau binary that has the `worker` command.
  explicit Supervisor(std::filesystem::path executable);
  ~Supervisor();  // stop()s
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts `cadereau worker --session DIR --fd 3`, its output appended to
  // DIR/worker.log. Throws Error (unavailable) when the process cannot be
  // started.
  std::shared_ptr<WorkerHandle> start(const std::filesystem::path& session_dir, WorkerCallbacks callbacks);
  // Starts another cadereau command (a counterfactual run) with these
  // arguments, its output appended to `log`; told on_exit like a worker.
  std::shared_ptr<WorkerHandle> run(const std::vector<std::string>& arguments, const std::filesystem::path& log,
                                    WorkerCallbacks callbacks);
  // The same for another program (the 3D viewer under xvfb-run).
  std::shared_ptr<WorkerHandle> run_program(const std::filesystem::path& program, const std::vector<std::string>& arguments,
                                            const std::filesystem::path& log, WorkerCallbacks callbacks);
  // Calls `tick` every `period` on the supervisor's thread until stop().
  void every(std::chrono::milliseconds period, std::function<void()> tick);
  // Runs `work` on the supervisor's thread.
  void post(std::function<void()> work);
  // Stops the ticks and the thread. Workers still running are not touched:
  // the caller stops them first (they also exit when their socket closes).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The cadereau executable this process runs from (/proc/self/exe).
std::filesystem::path current_executable();

}  // namespace cadereau::server::worker
