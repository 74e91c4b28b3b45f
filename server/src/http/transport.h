#pragma once
// The boundary between the HTTP/WebSocket transport (Beast, OpenSSL) and the
// service layer. Nothing here names a Beast or Asio type: the service sees a
// request as plain strings and answers with a plain response, so it can be
// tested without sockets.
//
// Threads: the server calls a Handler on its own small pool of handler
// threads, never on the io threads that run the sockets (see HttpServer). A
// handler may therefore take a few hundred milliseconds (an Argon2id password
// check) without stalling other clients, but it must never wait on an engine
// or a worker: it posts a command to the worker's queue and answers (202).
// Requests of one connection reach the handler one at a time, in order;
// requests of different connections may reach it concurrently, so a Handler
// is thread-safe.

#include "cadereau/twin/error.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cadereau::server::http {

struct HttpRequest {
  std::string method;                        // "GET", "POST", ... as sent
  std::string path;                          // the target before '?', not decoded
  std::map<std::string, std::string> query;  // the target after '?', percent-decoded
  // The headers the service needs, empty when absent.
  std::string authorization;
  std::string cookie;
  std::string content_type;
  std::string origin;  // a browser's WebSocket upgrade carries it: check it against cookies' site
  std::string host;
  std::optional<std::uint64_t> content_length;
  std::string body;
  std::string client_address;  // the peer's IP address, for throttling and the audit log
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Further headers (Set-Cookie, Retry-After, Location, ...). The transport
  // adds the security headers, Content-Length and Connection itself.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The one place where an error category becomes an HTTP status
// (bad_input 400, unauthenticated 401, forbidden 403, not_found 404,
// conflict 409, too_large 413, rate_limited 429, unavailable 503, internal 500).
int http_status(ErrorCategory category);

// {"error": {"code": "<category>", "message": "..."}} with the category's status.
HttpResponse error_response(ErrorCategory category, std::string_view message);
// The same for a thrown Error; its message says where and what.
HttpResponse error_response(const Error& error);
// The same body with a status that has no category of its own (408, 431):
// the transport's refusals.
HttpResponse error_response(int status, ErrorCategory category, std::string_view message);

// A JSON answer: `json` is sent as is.
HttpResponse json_response(int status, std::string json);

// Where the service pushes a WebSocket client's messages. Pushing never blocks
// and is thread-safe: the engine's side calls it from any thread. Each client
// has a bounded queue; a message with a coalescing key ("clock", "kpi")
// replaces a queued, not yet sent message with the same key (state: only the
// newest matters), a message without key (an event) never does. A client that
// falls behind by more than its queue holds is closed with the reason
// "too slow: N messages behind".
class StreamSink {
 public:
  virtual ~StreamSink() = default;

  // Queues one JSON text message; `coalesce_key` empty for one that must not
  // be replaced. Returns false once the stream is closed (the client left,
  // was too slow, or the server stops): the caller then drops the sink.
  virtual bool push(std::string message, std::string_view coalesce_key) = 0;
  bool push(std::string message) { return push(std::move(message), {}); }

  virtual bool is_open() const = 0;
  // Messages waiting to be sent, and how many the queue may hold: a producer
  // with a backlog (a client resuming from an old seq) feeds it while
  // queued() stays well below capacity(), rather than overflowing it.
  virtual std::size_t queued() const = 0;
  virtual std::size_t capacity() const = 0;
  // Closes the stream with this reason (sent as the WebSocket close reason),
  // dropping what is queued.
  virtual void drop(std::string reason) = 0;
};

class Handler {
 public:
  virtual ~Handler() = default;

  // Answers one HTTP request. An Error thrown here becomes error_response();
  // any other exception a 500 whose message says nothing of the cause.
  virtual HttpResponse handle(const HttpRequest& request) = 0;

  // A WebSocket upgrade request (on /api/v1/sessions/{id}/stream, but the
  // transport does not route: any upgrade comes here). Returns nothing to
  // accept it, then keeps `sink` and pushes into it; or the response that
  // refuses it (401, 403, 404), sent as a plain HTTP answer. Messages pushed
  // before the handshake completes are sent right after it.
  virtual std::optional<HttpResponse> open_stream(const HttpRequest& request, std::shared_ptr<StreamSink> sink) = 0;
};

}  // namespace cadereau::server::http
