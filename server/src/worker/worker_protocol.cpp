#include "worker_protocol.h"

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace cadereau::server::worker {

bool LineChannel::read_line(std::string& line, std::size_t max_bytes) {
  while (true) {
    const auto newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      line.assign(buffer_, 0, newline);
      buffer_.erase(0, newline + 1);
      return true;
    }
    if (buffer_.size() > max_bytes) return false;
    char chunk[65536];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool LineChannel::write_line(std::string_view line) {
  std::lock_guard lock(write_mutex_);
  std::string text(line);
  text += '\n';
  std::size_t sent = 0;
  while (sent < text.size()) {
    // MSG_NOSIGNAL: a server that is gone is an answer (false), not a SIGPIPE.
    const ssize_t n = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace cadereau::server::worker
