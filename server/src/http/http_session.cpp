#include "http_session.h"

#include "beast_messages.h"
#include "outgoing_queue.h"
#include "websocket_session.h"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace cadereau::server::http {

namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

namespace {

// A request answered later than this is logged with where its time went.
constexpr auto kSlowRequest = std::chrono::seconds(2);

constexpr std::size_t kFirstReadBytes = 4096;
// After a refusal the client may still be sending its request: read and drop
// it for a while, so that closing does not reset the connection before the
// client has read the answer.
constexpr auto kDrainTime = std::chrono::seconds(2);
constexpr std::size_t kMaxDrainBytes = 16 << 20;

// Runs a handler call; its exceptions become the JSON error the client gets.
template <class Call>
auto guarded(Call&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const Error& e) {
    return error_response(e);
  } catch (const std::exception& e) {
    spdlog::error("http handler failed: {}", e.what());
    return error_response(ErrorCategory::internal, "internal error");
  }
}

bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == beast_http::make_error_code(beast_http::error::bad_target).category();
}

template <class Derived>
class HttpSession : public Connection {
 public:
  ~HttpSession() override {
    if (registry_id_ != 0) context_.registry.remove(registry_id_);
  }

  void shutdown() override {
    net::post(executor_, [self = derived().shared_from_this()] {
      // Upgraded: the stream now belongs to the WebSocket session.
      if (!self->upgraded_) beast::get_lowest_layer(self->stream()).close();
    });
  }

  // Once the stream is ready (after the TLS handshake).
  void begin() {
    if (over_capacity_) {
      return refuse(error_response(ErrorCategory::unavailable,
                                   fmt::format("the server is at its limit of {} connections, retry later",
                                               context_.options.max_connections)));
    }
    do_read();
  }

 protected:
  HttpSession(net::any_io_executor executor, ServerContext& context, std::string client_address, bool over_capacity)
      : context_(context),
        executor_(std::move(executor)),
        client_address_(std::move(client_address)),
        over_capacity_(over_capacity) {}

  Derived& derived() { return static_cast<Derived&>(*this); }
  auto& stream() { return derived().stream(); }

  void register_self() { registry_id_ = context_.registry.add(derived().shared_from_this()); }

  ServerContext& context_;
  net::any_io_executor executor_;
  beast::flat_buffer buffer_;

 private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(context_.options.max_header_bytes));
    parser_->body_limit(context_.options.max_body_bytes);
    if (buffer_.size() > 0) return do_read_request();
    // Waiting for a request: the idle limit. Its first bytes start the
    // request limit.
    beast::get_lowest_layer(stream()).expires_after(context_.options.idle_timeout);
    stream().async_read_some(buffer_.prepare(kFirstReadBytes),
                             [self = derived().shared_from_this()](beast::error_code ec, std::size_t bytes) {
                               if (ec) return self->on_quiet_end(ec);
                               self->buffer_.commit(bytes);
                               self->do_read_request();
                             });
  }

  void do_read_request() {
    beast::get_lowest_layer(stream()).expires_after(context_.options.request_timeout);
    beast_http::async_read(stream(), buffer_, *parser_,
                           [self = derived().shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_read(ec);
                           });
  }

  void on_read(beast::error_code ec) {
    if (ec == beast_http::error::end_of_stream) return derived().do_eof();
    if (ec == beast_http::error::body_limit) {
      return refuse(error_response(ErrorCategory::too_large,
                                   fmt::format("request body over {} bytes", context_.options.max_body_bytes)));
    }
    if (ec == beast_http::error::header_limit) {
      return refuse(error_response(431, ErrorCategory::too_large,
                                   fmt::format("request headers over {} bytes", context_.options.max_header_bytes)));
    }
    if (ec == beast_http::error::partial_message) return;  // the client left mid-request
    if (ec && is_parse_error(ec)) {
      return refuse(error_response(ErrorCategory::bad_input, fmt::format("malformed HTTP request: {}", ec.message())));
    }
    // A timeout has closed the socket already: nothing can be answered.
    if (ec) return;

    BeastRequest request = parser_->release();
    if (beast::websocket::is_upgrade(request)) return open_stream(std::move(request));
    HttpRequest plain = to_http_request(request, client_address_);
    const unsigned version = request.version();
    const bool keep_alive = request.keep_alive();
    const auto queued = std::chrono::steady_clock::now();
    net::post(context_.handler_pool,
              [self = derived().shared_from_this(), plain = std::move(plain), version, keep_alive, queued]() mutable {
                const auto started = std::chrono::steady_clock::now();
                HttpResponse response = guarded([&] { return self->context_.handler.handle(plain); });
                // A request that kept a client waiting says so, with where the time went (the handler
                // threads are few: a slow handler makes the others queue).
                const auto done = std::chrono::steady_clock::now();
                if (done - queued > kSlowRequest)
                  spdlog::warn("slow request: {} {} waited {:.1f} s for a handler thread and took {:.1f} s", plain.method,
                               plain.path, std::chrono::duration<double>(started - queued).count(),
                               std::chrono::duration<double>(done - started).count());
                net::post(self->executor_, [self, response = std::move(response), version, keep_alive]() mutable {
                  self->send(std::move(response), version, keep_alive, false);
                });
              });
  }

  void open_stream(BeastRequest request) {
    auto queue = std::make_shared<OutgoingQueue>(context_.options.websocket_queue_messages);
    HttpRequest plain = to_http_request(request, client_address_);
    net::post(context_.handler_pool, [self = derived().shared_from_this(), plain = std::move(plain), queue,
                                      request = std::move(request)]() mutable {
      std::optional<HttpResponse> refusal =
          guarded([&]() -> std::optional<HttpResponse> { return self->context_.handler.open_stream(plain, queue); });
      net::post(self->executor_,
                [self, refusal = std::move(refusal), queue, request = std::move(request)]() mutable {
                  if (!refusal) {
                    self->upgraded_ = true;
                    self->context_.registry.remove(self->registry_id_);
                    self->registry_id_ = 0;
                    return self->derived().upgrade(std::move(request), queue);
                  }
                  queue->close();
                  self->send(std::move(*refusal), request.version(), false, true);
                });
    });
  }

  // Answers with `response` and closes the connection.
  void refuse(HttpResponse response) { send(std::move(response), 11, false, true); }

  void send(HttpResponse response, unsigned version, bool keep_alive, bool drain_after) {
    auto message = std::make_shared<BeastResponse>(
        to_beast_response(std::move(response), version, keep_alive, context_.tls != nullptr));
    const bool close = message->need_eof();
    beast::get_lowest_layer(stream()).expires_after(context_.options.request_timeout);
    beast_http::async_write(stream(), *message,
                            [self = derived().shared_from_this(), message, close, drain_after](beast::error_code ec,
                                                                                             std::size_t) {
                              if (ec) return;
                              if (drain_after) return self->drain();
                              if (close) return self->derived().do_eof();
                              self->do_read();
                            });
  }

  void drain() {
    buffer_.consume(buffer_.size());
    beast::get_lowest_layer(stream()).expires_after(
        std::min<std::chrono::steady_clock::duration>(context_.options.request_timeout, kDrainTime));
    drain_more();
  }

  void drain_more() {
    stream().async_read_some(buffer_.prepare(kFirstReadBytes),
                             [self = derived().shared_from_this()](beast::error_code ec, std::size_t bytes) {
                               self->drained_bytes_ += bytes;
                               if (ec || self->drained_bytes_ > kMaxDrainBytes) {
                                 beast::get_lowest_layer(self->stream()).close();
                                 return;
                               }
                               self->drain_more();
                             });
  }

  // The connection ended between requests (the client left, or was idle).
  void on_quiet_end(beast::error_code ec) {
    if (ec == net::error::eof) derived().do_eof();
  }

  std::string client_address_;
  bool over_capacity_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  std::uint64_t registry_id_ = 0;
  std::size_t drained_bytes_ = 0;
  bool upgraded_ = false;
};

class PlainHttpSession : public HttpSession<PlainHttpSession>,
                         public std::enable_shared_from_this<PlainHttpSession> {
 public:
  PlainHttpSession(tcp::socket&& socket, ServerContext& context, std::string client_address, bool over_capacity)
      : HttpSession(socket.get_executor(), context, std::move(client_address), over_capacity),
        stream_(std::move(socket)) {}

  void run() {
    register_self();
    begin();
  }

  beast::tcp_stream& stream() { return stream_; }

  void do_eof() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  void upgrade(BeastRequest request, std::shared_ptr<OutgoingQueue> queue) {
    std::make_shared<PlainWebSocketSession>(std::move(stream_), context_)->run(std::move(request), std::move(queue));
  }

 private:
  beast::tcp_stream stream_;
};

class TlsHttpSession : public HttpSession<TlsHttpSession>, public std::enable_shared_from_this<TlsHttpSession> {
 public:
  TlsHttpSession(tcp::socket&& socket, ServerContext& context, std::string client_address, bool over_capacity)
      : HttpSession(socket.get_executor(), context, std::move(client_address), over_capacity),
        stream_(std::move(socket), *context.tls) {}

  void run() {
    register_self();
    beast::get_lowest_layer(stream_).expires_after(context_.options.request_timeout);
    stream_.async_handshake(net::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // not TLS, an old protocol, or too slow: nothing to answer
      self->begin();
    });
  }

  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }

  void do_eof() {
    beast::get_lowest_layer(stream_).expires_after(context_.options.request_timeout);
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  void upgrade(BeastRequest request, std::shared_ptr<OutgoingQueue> queue) {
    std::make_shared<TlsWebSocketSession>(std::move(stream_), context_)->run(std::move(request), std::move(queue));
  }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

void start_http_session(tcp::socket socket, ServerContext& context, bool over_capacity) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  std::string address = peer.address().to_string();
  if (context.tls != nullptr) {
    std::make_shared<TlsHttpSession>(std::move(socket), context, std::move(address), over_capacity)->run();
  } else {
    std::make_shared<PlainHttpSession>(std::move(socket), context, std::move(address), over_capacity)->run();
  }
}

}  // namespace cadereau::server::http
