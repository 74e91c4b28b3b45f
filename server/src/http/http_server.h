#pragma once
// The HTTP/WebSocket server: Beast on an io_context, in the shape of Beast's
// advanced_server_flex example (a listener, an HTTP session per connection,
// upgraded to a WebSocket session), over TLS or, when asked, plain HTTP.
//
// Threads: `io_threads` threads run every socket; `handler_threads` further
// threads call the Handler (see transport.h), so a slow handler delays only
// its own connection's next answer. Every HTTP read and write has a time
// limit; a WebSocket is bounded by its idle pings and its queue (see
// OutgoingQueue and websocket_close_timeout).
//
// Refusals, all JSON errors: a body over `max_body_bytes` 413, headers over
// `max_header_bytes` 431, malformed HTTP 400, more than `max_connections`
// connections 503. Each closes the connection after the answer. A request
// not complete within `request_timeout` (slowloris) and a TLS handshake that
// fails or is too slow get no answer: the connection is closed.

#include "transport.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace cadereau::server::http {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port, start() says which
  // TLS (1.2 at least) with this PEM certificate chain and key, unless
  // plain_http. Both files are read by start().
  std::filesystem::path tls_certificate_file;
  std::filesystem::path tls_key_file;
  bool plain_http = false;

  int io_threads = 2;
  int handler_threads = 2;

  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 8 << 10;
  // A whole request (headers and body), and a TLS handshake, must arrive
  // within this time once its first byte has: a client trickling bytes
  // (slowloris) is cut off. Writes of an answer have the same limit.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
  // A connection that says nothing for this long is closed (before its first
  // request, and between keep-alive requests).
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  std::size_t max_connections = 512;

  std::size_t max_websocket_message_bytes = 64 << 10;  // from the client
  std::size_t websocket_queue_messages = 256;          // to the client, see OutgoingQueue
  // A WebSocket client that neither reads nor answers pings for this long is
  // dropped; so is one being closed (too slow) that does not take the close.
  std::chrono::milliseconds websocket_idle_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds websocket_close_timeout = std::chrono::seconds(5);
};

class HttpServer {
 public:
  // `handler` must outlive the server.
  HttpServer(HttpServerOptions options, Handler& handler);
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens and starts the threads; returns the bound port. Throws Error:
  // bad_input for unreadable TLS files or a bad address, unavailable when the
  // port cannot be bound.
  std::uint16_t start();
  // Closes the listener and every connection (open WebSocket sinks stop
  // taking messages), waits for a running handler call to return and joins
  // the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cadereau::server::http
