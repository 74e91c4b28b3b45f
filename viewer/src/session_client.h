#pragma once
// Private to the viewer: a session of a Cadereau server seen through its
// public API only (the same the console uses), over HTTPS and a WebSocket:
// its records, its clock and its latest water, as a RecordedState.
// Beast and OpenSSL stay in session_client.cpp.

#include "cadereau/viewer/recorded_state.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace cadereau::viewer::detail {

struct ServerSession {
  std::string url;                        // "https://127.0.0.1:8443": TLS only
  std::string session;                    // "s-..."
  std::string token;                      // a bearer token (cadereau's POST /api/v1/login)
  std::optional<std::filesystem::path> ca_file;  // PEM to trust (a self-signed server); the system's otherwise
};

// The token in FILE: its first line, without spaces. Throws Error naming the
// file when it is missing or empty.
std::string read_token_file(const std::filesystem::path& file);

class SessionClient {
 public:
  // Throws Error for a URL that is not http(s)://HOST[:PORT] or a session id
  // that is not one.
  explicit SessionClient(ServerSession server);
  ~SessionClient();
  SessionClient(const SessionClient&) = delete;
  SessionClient& operator=(const SessionClient&) = delete;

  // The session as it stands: its records up to now, its clock's time and
  // start, and the latest water frame (none before the first). Throws Error
  // naming the server: unreachable, refused (with the server's message), or
  // a certificate that is not trusted.
  RecordedState state_now();

  // Follows the session's stream (WebSocket) from record `after_seq`:
  // `on_change` is called with the state whenever records or a new water
  // frame came, at most every `every_ms`. Returns when `keep_going` answers
  // false or the stream ends (Error when it cannot be opened).
  void follow(RecordedState state, std::uint64_t after_seq, const std::function<void(const RecordedState&)>& on_change,
              const std::function<bool()>& keep_going, int every_ms = 1000);

  std::uint64_t last_seq() const { return last_seq_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint64_t last_seq_ = 0;
};

}  // namespace cadereau::viewer::detail
