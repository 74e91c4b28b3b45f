#include "listener.h"

#include "http_session.h"

#include "cadereau/twin/error.h"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

namespace cadereau::server::http {

namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

Listener::Listener(net::io_context& io, const tcp::endpoint& endpoint, ServerContext& context)
    : io_(io), acceptor_(net::make_strand(io)), retry_timer_(acceptor_.get_executor()), context_(context) {
  boost::system::error_code ec;
  const auto where = fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) fail_as(ErrorCategory::unavailable, where, "cannot listen: {}", ec.message());
  port_ = acceptor_.local_endpoint().port();
}

void Listener::run() { do_accept(); }

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::do_accept() {
  acceptor_.async_accept(net::make_strand(io_),
                         [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

void Listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open()) return;
  if (ec) {
    // Out of file descriptors, most likely: accepting again at once would
    // spin, so wait a little for connections to end.
    spdlog::warn("http: accept failed: {}", ec.message());
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) self->do_accept();
    });
    return;
  }
  const std::size_t open = context_.registry.size();
  if (open < 2 * context_.options.max_connections) {
    start_http_session(std::move(socket), context_, open >= context_.options.max_connections);
  }
  do_accept();
}

}  // namespace cadereau::server::http
