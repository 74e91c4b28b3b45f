#pragma once
// A WebSocket connection after the upgrade: sends what the service pushed
// into its OutgoingQueue, one message at a time, on the connection's strand.
// Messages from the client are read (to answer pings and see the close) and
// ignored. A queue that overflowed closes the connection with its reason; a
// client that does not take the close frame within websocket_close_timeout
// loses its socket. Plain and TLS streams share this code (CRTP), as in
// Beast's advanced_server_flex.

#include "beast_messages.h"
#include "connection_registry.h"
#include "outgoing_queue.h"
#include "server_context.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <memory>
#include <optional>
#include <string>

namespace cadereau::server::http {

template <class Derived>
class WebSocketSession : public Connection {
 public:
  ~WebSocketSession() override {
    if (queue_) queue_->close();
    if (registry_id_ != 0) context_.registry.remove(registry_id_);
  }

  void run(BeastRequest request, std::shared_ptr<OutgoingQueue> queue) {
    namespace websocket = boost::beast::websocket;
    auto& ws = derived().ws();
    queue_ = std::move(queue);
    upgrade_request_ = std::move(request);
    close_timer_.emplace(ws.get_executor());
    // The websocket stream keeps its own time limits; the TCP stream's would
    // cut a quiet but healthy client.
    boost::beast::get_lowest_layer(ws).expires_never();
    auto timeout = websocket::stream_base::timeout::suggested(boost::beast::role_type::server);
    timeout.handshake_timeout = context_.options.request_timeout;
    timeout.idle_timeout = context_.options.websocket_idle_timeout;
    timeout.keep_alive_pings = true;
    ws.set_option(timeout);
    ws.read_message_max(context_.options.max_websocket_message_bytes);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& response) { response.set("X-Content-Type-Options", "nosniff"); }));
    registry_id_ = context_.registry.add(derived().shared_from_this());
    ws.async_accept(upgrade_request_,
                    [self = derived().shared_from_this()](boost::beast::error_code ec) { self->on_accept(ec); });
  }

  void shutdown() override {
    if (queue_) queue_->close();
    boost::asio::post(derived().ws().get_executor(), [self = derived().shared_from_this()] {
      self->finish();
      boost::beast::get_lowest_layer(self->ws()).close();
    });
  }

  void on_accept(boost::beast::error_code ec) {
    if (ec) return finish();
    upgrade_request_ = {};
    auto executor = derived().ws().get_executor();
    std::weak_ptr<Derived> weak = derived().shared_from_this();
    // The wake runs on the pushing thread under the queue's lock: it only
    // posts, and holds no strong reference, so the session never ends there.
    queue_->set_wake([executor, weak] {
      boost::asio::post(executor, [weak] {
        if (auto self = weak.lock()) self->on_wake();
      });
    });
    do_read();
  }

  void do_read() {
    derived().ws().async_read(read_buffer_,
                              [self = derived().shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                if (ec) return self->finish();
                                self->read_buffer_.consume(self->read_buffer_.size());
                                self->do_read();
                              });
  }

  void on_wake() {
    if (closing_ || finished_) return;
    if (auto reason = queue_->close_reason()) return begin_close(*reason);
    if (writing_) return;
    auto message = queue_->pop();
    if (!message) return;
    writing_ = true;
    current_ = std::move(*message);
    derived().ws().text(true);
    derived().ws().async_write(boost::asio::buffer(current_),
                               [self = derived().shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                 self->writing_ = false;
                                 self->current_ = {};
                                 if (ec) return self->finish();
                                 self->on_wake();
                               });
  }

  void begin_close(const std::string& reason) {
    namespace websocket = boost::beast::websocket;
    if (!close_timer_armed_) {
      close_timer_armed_ = true;
      close_timer_->expires_after(context_.options.websocket_close_timeout);
      close_timer_->async_wait([self = derived().shared_from_this()](boost::beast::error_code ec) {
        if (!ec) boost::beast::get_lowest_layer(self->ws()).close();
      });
    }
    // A write that the client does not take stalls here; the timer ends it.
    if (writing_) return;
    closing_ = true;
    derived().ws().async_close(websocket::close_reason(websocket::close_code::policy_error, reason),
                               [self = derived().shared_from_this()](boost::beast::error_code) { self->finish(); });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    queue_->close();
    if (close_timer_) close_timer_->cancel();
  }

 protected:
  explicit WebSocketSession(ServerContext& context) : context_(context) {}

  Derived& derived() { return static_cast<Derived&>(*this); }

  ServerContext& context_;
  std::shared_ptr<OutgoingQueue> queue_;
  BeastRequest upgrade_request_;
  boost::beast::flat_buffer read_buffer_;
  std::string current_;
  std::optional<boost::asio::steady_timer> close_timer_;
  std::uint64_t registry_id_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool close_timer_armed_ = false;
  bool finished_ = false;
};

class PlainWebSocketSession : public WebSocketSession<PlainWebSocketSession>,
                              public std::enable_shared_from_this<PlainWebSocketSession> {
 public:
  PlainWebSocketSession(boost::beast::tcp_stream&& stream, ServerContext& context)
      : WebSocketSession(context), ws_(std::move(stream)) {}
  boost::beast::websocket::stream<boost::beast::tcp_stream>& ws() { return ws_; }

 private:
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
};

class TlsWebSocketSession : public WebSocketSession<TlsWebSocketSession>,
                            public std::enable_shared_from_this<TlsWebSocketSession> {
 public:
  TlsWebSocketSession(boost::beast::ssl_stream<boost::beast::tcp_stream>&& stream, ServerContext& context)
      : WebSocketSession(context), ws_(std::move(stream)) {}
  boost::beast::websocket::stream<boost::beast::ssl_stream<boost::beast::tcp_stream>>& ws() { return ws_; }

 private:
  boost::beast::websocket::stream<boost::beast::ssl_stream<boost::beast::tcp_stream>> ws_;
};

}  // namespace cadereau::server::http
