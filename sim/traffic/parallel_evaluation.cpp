#include "parallel_evaluation.h"

#include "cadereau/twin/error.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <type_traits>

namespace cadereau::sim::traffic {

namespace {

// The KPIs travel as raw bytes between two copies of the same program image.
static_assert(std::is_trivially_copyable_v<Kpis>);

constexpr char kOk = 'k';
constexpr char kFailed = 'e';

struct Running {
  pid_t pid = -1;
  int read_fd = -1;
  std::size_t job = 0;
  std::string bytes;
};

void write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

// In the child: simulate, report, and leave without running the parent's
// exit handlers (SUMO's and the test framework's static state belong to it).
[[noreturn]] void run_child(const GreenwaveOptions& options, const EvaluationJob& job, int write_fd) {
  try {
    GreenwaveOptions o = options;
    o.seed = job.seed;
    o.demand_scale = job.demand_scale;
    const Evaluation ev = evaluate(o, job.additionals, Detail::kpis);
    write_all(write_fd, &kOk, 1);
    write_all(write_fd, &ev.kpis, sizeof(Kpis));
  } catch (const std::exception& e) {
    write_all(write_fd, &kFailed, 1);
    write_all(write_fd, e.what(), std::strlen(e.what()));
  } catch (...) {
    write_all(write_fd, &kFailed, 1);
  }
  ::close(write_fd);
  ::_exit(0);
}

Running start(const GreenwaveOptions& options, const EvaluationJob& job, std::size_t index) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail_as(ErrorCategory::internal, "greenwave", "cannot make a pipe: {}", std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    fail_as(ErrorCategory::internal, "greenwave", "cannot start a simulation process: {}", std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(options, job, fds[1]);
  }
  ::close(fds[1]);
  return {pid, fds[0], index, {}};
}

// Reads what is there; true at the end of the stream.
bool drain(Running& r) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(r.read_fd, buffer, sizeof buffer);
    if (n > 0) {
      r.bytes.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n == 0 || errno != EAGAIN;
  }
}

EvaluationResult finish(Running& r) {
  ::close(r.read_fd);
  int status = 0;
  while (::waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
  }
  EvaluationResult out;
  if (!r.bytes.empty() && r.bytes[0] == kOk && r.bytes.size() == 1 + sizeof(Kpis)) {
    Kpis k;
    std::memcpy(&k, r.bytes.data() + 1, sizeof(Kpis));
    out.kpis = k;
  } else if (!r.bytes.empty() && r.bytes[0] == kFailed) {
    out.error = r.bytes.size() > 1 ? r.bytes.substr(1) : "the simulation failed";
  } else if (WIFSIGNALED(status)) {
    out.error = fmt::format("the simulation process died of signal {}", WTERMSIG(status));
  } else {
    out.error = "the simulation process ended without a result";
  }
  return out;
}

}  // namespace

std::vector<EvaluationResult> evaluate_in_workers(const GreenwaveOptions& options, const std::vector<EvaluationJob>& jobs,
                                                  int workers, std::chrono::steady_clock::time_point deadline) {
  std::vector<EvaluationResult> results(jobs.size());
  std::deque<std::size_t> waiting;
  for (std::size_t j = 0; j < jobs.size(); ++j) waiting.push_back(j);
  std::vector<Running> running;
  const std::size_t limit = static_cast<std::size_t>(std::max(1, workers));
  while (!waiting.empty() || !running.empty()) {
    if (std::chrono::steady_clock::now() >= deadline) waiting.clear();
    if (waiting.empty() && running.empty()) break;
    while (!waiting.empty() && running.size() < limit) {
      const std::size_t j = waiting.front();
      waiting.pop_front();
      running.push_back(start(options, jobs[j], j));
      ::fcntl(running.back().read_fd, F_SETFL, O_NONBLOCK);
    }
    std::vector<pollfd> fds;
    for (const auto& r : running) fds.push_back({r.read_fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR)
      fail_as(ErrorCategory::internal, "greenwave", "waiting for the simulations: {}", std::strerror(errno));
    for (std::size_t k = running.size(); k-- > 0;) {
      if (fds[k].revents == 0) continue;
      if (!drain(running[k])) continue;
      results[running[k].job] = finish(running[k]);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  return results;
}

}  // namespace cadereau::sim::traffic
