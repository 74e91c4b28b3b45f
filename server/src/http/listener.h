#pragma once
// Accepts connections and gives each to an HTTP session, each on its own
// strand. Past max_connections a connection is answered 503 and closed; past
// twice that it is closed unanswered, so a flood costs no handshakes.

#include "server_context.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>

namespace cadereau::server::http {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens; throws Error (unavailable) when it cannot.
  Listener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint, ServerContext& context);

  std::uint16_t port() const { return port_; }
  void run();
  // Closes the acceptor (on its strand); callable from any thread.
  void stop();

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  ServerContext& context_;
  std::uint16_t port_ = 0;
};

}  // namespace cadereau::server::http
