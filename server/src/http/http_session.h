#pragma once
// One HTTP connection, from the accepted socket to its close or its upgrade
// to a WebSocket session (plain or TLS, as in Beast's advanced_server_flex).
//
// Requests are answered one at a time, in order: the next request is parsed
// once the previous answer is written, so a client's pipelined requests wait
// in its own socket buffer and the server holds at most one request and one
// answer per connection.

#include "server_context.h"

#include <boost/asio/ip/tcp.hpp>

namespace cadereau::server::http {

// Serves the connection. With `over_capacity`, answers 503 at once (after
// the TLS handshake, so the client can read it) and closes.
void start_http_session(boost::asio::ip::tcp::socket socket, ServerContext& context, bool over_capacity);

}  // namespace cadereau::server::http
