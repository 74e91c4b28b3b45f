#include "crash_report.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace cadereau::server {

namespace {

// Two buffers, so the handler never reads one being rewritten.
char g_context[2][512] = {};
std::atomic<int> g_current{0};

void write_all(const char* text) {
  std::size_t left = strlen(text);
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<std::size_t>(n);
  }
}

extern "C" void on_fatal_signal(int signal) {
  // Only async-signal-safe calls from here on.
  write_all("cadereau: fatal signal SIG");
  write_all(sigabbrev_np(signal) ? sigabbrev_np(signal) : "?");
  const char* context = g_context[g_current.load()];
  if (context[0]) {
    write_all(" while ");
    write_all(context);
  }
  write_all("\n");
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

}  // namespace

void install_crash_report() {
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(s, &action, nullptr);
}

void set_crash_context(std::string_view context) {
  const int next = 1 - g_current.load();
  const std::size_t n = std::min(context.size(), sizeof g_context[next] - 1);
  std::copy_n(context.data(), n, g_context[next]);
  g_context[next][n] = '\0';
  g_current.store(next);
}

}  // namespace cadereau::server
