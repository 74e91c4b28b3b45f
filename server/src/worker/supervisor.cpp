#include "supervisor.h"

#include "cadereau/twin/error.h"

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace cadereau::server::worker {
namespace {

namespace asio = boost::asio;
using LocalSocket = asio::local::stream_protocol::socket;

constexpr std::size_t kMaxWorkerLine = 32u << 20;  // a depth frame is never sent inline: generous

class Worker final : public WorkerHandle, public std::enable_shared_from_this<Worker> {
 public:
  Worker(asio::io_context& io, int fd, pid_t pid, WorkerCallbacks callbacks)
      : strand_(asio::make_strand(io)), socket_(strand_), pid_(pid), callbacks_(std::move(callbacks)),
        input_(kMaxWorkerLine) {
    socket_.assign(asio::local::stream_protocol(), fd);
  }

  void send(std::string line) override {
    line += '\n';
    asio::post(strand_, [self = shared_from_this(), line = std::move(line)]() mutable {
      if (self->closed_) return;
      self->outbox_.push_back(std::move(line));
      if (self->outbox_.size() == 1) self->write_next();
    });
  }

  void signal(int signal) override {
    std::lock_guard lock(mutex_);
    if (!exited_) ::kill(pid_, signal);
  }
  pid_t pid() const override { return pid_; }

  void read_next() {
    asio::async_read_until(socket_, input_, '\n', [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec) {
        self->closed_ = true;
        self->outbox_.clear();
        boost::system::error_code ignored;
        self->socket_.close(ignored);
        self->finish(false);
        return;
      }
      std::string line(asio::buffers_begin(self->input_.data()), asio::buffers_begin(self->input_.data()) + n - 1);
      self->input_.consume(n);
      if (self->callbacks_.on_line) self->callbacks_.on_line(std::move(line));
      self->read_next();
    });
  }

  // Told from SIGCHLD handling, on the supervisor's thread.
  void exited(int status) {
    asio::post(strand_, [self = shared_from_this(), status] {
      {
        std::lock_guard lock(self->mutex_);
        self->exited_ = true;
        self->status_ = status;
      }
      self->finish(true);
    });
  }

 private:
  void write_next() {
    asio::async_write(socket_, asio::buffer(outbox_.front()), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (ec) {
        self->outbox_.clear();
        return;
      }
      self->outbox_.pop_front();
      if (!self->outbox_.empty()) self->write_next();
    });
  }

  // The exit is told once both the process is gone and its last line read.
  void finish(bool from_exit) {
    if (from_exit) exit_seen_ = true;
    if (!from_exit) eof_seen_ = true;
    if (exit_seen_ && eof_seen_ && !told_) {
      told_ = true;
      if (callbacks_.on_exit) callbacks_.on_exit(status_);
    }
  }

  asio::strand<asio::io_context::executor_type> strand_;
  LocalSocket socket_;
  const pid_t pid_;
  WorkerCallbacks callbacks_;
  asio::streambuf input_;
  std::deque<std::string> outbox_;
  bool closed_ = false;
  bool exit_seen_ = false;
  bool eof_seen_ = false;
  bool told_ = false;
  std::mutex mutex_;
  bool exited_ = false;
  int status_ = 0;
};

}  // namespace

struct Supervisor::Impl {
  std::filesystem::path executable;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  asio::signal_set children{io, SIGCHLD};
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  std::mutex mutex;
  std::map<pid_t, std::weak_ptr<Worker>> workers;
  std::thread thread;
  bool stopped = false;

  void wait_children() {
    children.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      reap();
      wait_children();
    });
  }

  void reap() {
    while (true) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      std::shared_ptr<Worker> worker;
      {
        std::lock_guard lock(mutex);
        auto it = workers.find(pid);
        if (it == workers.end()) continue;
        worker = it->second.lock();
        workers.erase(it);
      }
      if (worker) worker->exited(status);
    }
  }

  void tick(asio::steady_timer& timer, std::chrono::milliseconds period, std::function<void()> work_fn) {
    timer.expires_after(period);
    timer.async_wait([this, &timer, period, work_fn = std::move(work_fn)](boost::system::error_code ec) {
      if (ec) return;
      work_fn();
      tick(timer, period, work_fn);
    });
  }
};

Supervisor::Supervisor(std::filesystem::path executable) : impl_(std::make_unique<Impl>()) {
  impl_->executable = std::move(executable);
  impl_->wait_children();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

Supervisor::~Supervisor() { stop(); }

void Supervisor::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->children.cancel(ignored);
    for (auto& t : impl_->timers) t->cancel();
  });
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Supervisor::post(std::function<void()> work) { asio::post(impl_->io, std::move(work)); }

void Supervisor::every(std::chrono::milliseconds period, std::function<void()> tick) {
  auto timer = std::make_unique<asio::steady_timer>(impl_->io);
  auto& ref = *timer;
  impl_->timers.push_back(std::move(timer));
  asio::post(impl_->io, [this, &ref, period, tick = std::move(tick)] { impl_->tick(ref, period, tick); });
}

std::shared_ptr<WorkerHandle> Supervisor::start(const std::filesystem::path& session_dir, WorkerCallbacks callbacks) {
  return run({"worker", "--session", session_dir.string(), "--fd", "3"}, session_dir / "worker.log", std::move(callbacks));
}

std::shared_ptr<WorkerHandle> Supervisor::run(const std::vector<std::string>& arguments, const std::filesystem::path& log_file,
                                              WorkerCallbacks callbacks) {
  return run_program(impl_->executable, arguments, log_file, std::move(callbacks));
}

std::shared_ptr<WorkerHandle> Supervisor::run_program(const std::filesystem::path& program,
                                                      const std::vector<std::string>& arguments,
                                                      const std::filesystem::path& log_file, WorkerCallbacks callbacks) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    fail_as(ErrorCategory::unavailable, log_file.string(), "cannot make a socket for a child: {}", std::strerror(errno));
  // Everything the child needs is made before fork(): after it, only
  // async-signal-safe calls until exec.
  const std::string exe = program.string();
  const std::string log = log_file.string();
  std::vector<const char*> argv{exe.c_str()};
  for (const auto& a : arguments) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  const long open_max = ::sysconf(_SC_OPEN_MAX);
  const int max_fd = open_max > 0 && open_max < (1 << 20) ? static_cast<int>(open_max) : 1 << 16;
  std::lock_guard lock(impl_->mutex);  // a fast exit is reaped only once the child is registered
  // Every signal waits until the child has put back the default handlers
  // (below): one sent to it before exec must not run the parent's.
  sigset_t all, before;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);
  const pid_t pid = ::fork();
  if (pid != 0) ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    fail_as(ErrorCategory::unavailable, log, "cannot start a child: {}", std::strerror(errno));
  }
  if (pid == 0) {
    // A signal sent before exec (a job stopped as soon as it started) must
    // not run a handler of the parent's in this copy of it: exec would reset
    // them, but it has not happened yet. SIGPIPE stays as the parent set it.
    // Then every signal is unblocked (the server blocks SIGTERM to sigwait()
    // for it).
    for (int sig = 1; sig < NSIG; ++sig)
      if (sig != SIGKILL && sig != SIGSTOP && sig != SIGPIPE) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // No PR_SET_PDEATHSIG: it follows the thread that forked (an HTTP
    // handler thread, gone at shutdown), not the server. A worker ends when
    // its socket closes instead.
    ::dup2(fds[1], 3);  // dup2 clears close-on-exec on 3
    // Nothing else of the server's goes with it: a client's socket kept open
    // by a child would outlive the server's closing it, and the client's next
    // request on that connection would wait for an answer forever.
    if (::close_range(4, ~0U, 0) != 0)
      for (int fd = 4; fd < max_fd; ++fd) ::close(fd);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) ::dup2(null, 0);
    ::execv(exe.c_str(), const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  ::close(fds[1]);
  auto worker = std::make_shared<Worker>(impl_->io, fds[0], pid, std::move(callbacks));
  impl_->workers[pid] = worker;
  asio::post(impl_->io, [worker] { worker->read_next(); });
  return worker;
}

std::filesystem::path current_executable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("cadereau") : path;
}

}  // namespace cadereau::server::worker
