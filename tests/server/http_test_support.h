#pragma once
// Clients and a server fixture for the HTTP transport's tests: a self-signed
// certificate made by the openssl command in a temp dir, a handler that
// echoes, and Beast clients whose every operation is bounded in time.

#include "http/http_server.h"
#include "http/transport.h"
#include "test_support.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cadereau::testing::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using namespace std::chrono_literals;
using server::http::HttpRequest;
using server::http::HttpResponse;
using server::http::StreamSink;

// Runs one asynchronous operation started by `start(handler)` for at most
// `limit`; returns its error, or timed_out when it did not complete.
template <class Start>
beast::error_code run_bounded(net::io_context& io, Start&& start, std::chrono::milliseconds limit = 10s) {
  std::optional<beast::error_code> result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run_for(limit);
  return result ? *result : beast::error_code(net::error::timed_out);
}

// Echoes /api/v1/echo, says 404 otherwise; accepts streams on
// /api/v1/sessions/s1/stream with "Bearer good" and keeps their sinks.
class EchoHandler : public server::http::Handler {
 public:
  HttpResponse handle(const HttpRequest& request) override {
    if (request.path != "/api/v1/echo") {
      return server::http::error_response(ErrorCategory::not_found, "no route " + request.path);
    }
    nlohmann::json body = {{"method", request.method}, {"body", request.body},   {"query", request.query},
                           {"client", request.client_address}, {"content_type", request.content_type}};
    return server::http::json_response(200, body.dump());
  }

  std::optional<HttpResponse> open_stream(const HttpRequest& request, std::shared_ptr<StreamSink> sink) override {
    if (request.path != "/api/v1/sessions/s1/stream") {
      return server::http::error_response(ErrorCategory::not_found, "no session");
    }
    if (request.authorization != "Bearer good") {
      return server::http::error_response(ErrorCategory::unauthenticated, "a token is needed");
    }
    std::lock_guard lock(mutex_);
    sinks_.push_back(std::move(sink));
    changed_.notify_all();
    return std::nullopt;
  }

  // The index-th accepted stream's sink, waiting up to 5 s.
  std::shared_ptr<StreamSink> sink(std::size_t index) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 5s, [&] { return sinks_.size() > index; });
    return sinks_.size() > index ? sinks_[index] : nullptr;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::shared_ptr<StreamSink>> sinks_;
};

// A certificate and key for 127.0.0.1, made once per call in `dir`.
inline void make_certificate(const std::filesystem::path& dir) {
  const std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                              "-subj /CN=127.0.0.1 -keyout '" + (dir / "key.pem").string() + "' -out '" +
                              (dir / "cert.pem").string() + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
}

struct TestServer {
  explicit TestServer(bool tls = true, std::function<void(server::http::HttpServerOptions&)> tune = {}) {
    make_certificate(dir.path());
    server::http::HttpServerOptions options;
    options.plain_http = !tls;
    options.tls_certificate_file = dir / "cert.pem";
    options.tls_key_file = dir / "key.pem";
    options.request_timeout = 2s;
    options.idle_timeout = 5s;
    if (tune) tune(options);
    server.emplace(options, handler);
    port = server->start();
  }

  TempDir dir;
  EchoHandler handler;
  std::optional<server::http::HttpServer> server;
  std::uint16_t port = 0;
};

// One client connection, TLS or plain, to 127.0.0.1.
class Client {
 public:
  Client(const TestServer& server, bool tls = true) : port_(server.port), tls_(tls) {
    context_.load_verify_file((server.dir / "cert.pem").string());
    context_.set_verify_mode(net::ssl::verify_peer);
  }

  net::ssl::context& tls_context() { return context_; }
  net::io_context& io() { return io_; }
  beast::ssl_stream<beast::tcp_stream>& stream() { return make_stream(); }
  net::ip::tcp::socket& socket() { return beast::get_lowest_layer(make_stream()).socket(); }

  // Configure tls_context() before the first call.
  beast::error_code connect() {
    auto& s = make_stream();
    auto ec = run_bounded(io_, [&](auto handler) {
      beast::get_lowest_layer(s).async_connect(
          net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), handler);
    });
    if (ec || !tls_) return ec;
    return run_bounded(io_, [&](auto handler) { s.async_handshake(net::ssl::stream_base::client, handler); });
  }

  beast::error_code write_raw(const std::string& bytes) {
    auto& s = make_stream();
    return tls_ ? run_bounded(io_, [&](auto h) { net::async_write(s, net::buffer(bytes), h); })
                : run_bounded(io_, [&](auto h) { net::async_write(s.next_layer(), net::buffer(bytes), h); });
  }

  template <class Message>
  beast::error_code write(Message& message) {
    auto& s = make_stream();
    return tls_ ? run_bounded(io_, [&](auto h) { beast_http::async_write(s, message, h); })
                : run_bounded(io_, [&](auto h) { beast_http::async_write(s.next_layer(), message, h); });
  }

  beast::error_code read(beast_http::response<beast_http::string_body>& response) {
    auto& s = make_stream();
    return tls_ ? run_bounded(io_, [&](auto h) { beast_http::async_read(s, buffer_, response, h); })
                : run_bounded(io_, [&](auto h) { beast_http::async_read(s.next_layer(), buffer_, response, h); });
  }

  // Sends a request and reads its answer; throws on a transport error.
  beast_http::response<beast_http::string_body> request(beast_http::verb verb, const std::string& target,
                                                        const std::string& body = {}) {
    beast_http::request<beast_http::string_body> request{verb, target, 11};
    request.set(beast_http::field::host, "127.0.0.1");
    if (!body.empty()) request.set(beast_http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
    if (auto ec = write(request)) throw std::runtime_error("write: " + ec.message());
    beast_http::response<beast_http::string_body> response;
    if (auto ec = read(response)) throw std::runtime_error("read: " + ec.message());
    return response;
  }

 private:
  std::uint16_t port_;
  bool tls_;
  net::io_context io_;
  net::ssl::context context_{net::ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;

  beast::ssl_stream<beast::tcp_stream>& make_stream() {
    if (!stream_) stream_.emplace(io_, context_);
    return *stream_;
  }
};

// A WebSocket client over TLS.
class WsClient {
 public:
  explicit WsClient(const TestServer& server) : port_(server.port) {
    context_.load_verify_file((server.dir / "cert.pem").string());
    context_.set_verify_mode(net::ssl::verify_peer);
  }

  // A small receive buffer keeps the kernel from absorbing megabytes for a
  // client that does not read.
  void set_receive_buffer(int bytes) { receive_buffer_ = bytes; }

  // Connects and upgrades; the server's answer to the upgrade in `response`.
  beast::error_code open(const std::string& target, const std::string& authorization,
                         websocket::response_type& response) {
    auto& tcp = beast::get_lowest_layer(ws_);
    tcp.socket().open(net::ip::tcp::v4());
    if (receive_buffer_ > 0) tcp.socket().set_option(net::socket_base::receive_buffer_size(receive_buffer_));
    auto ec = run_bounded(io_, [&](auto h) {
      tcp.async_connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), h);
    });
    if (!ec) ec = run_bounded(io_, [&](auto h) { ws_.next_layer().async_handshake(net::ssl::stream_base::client, h); });
    if (ec) return ec;
    tcp.expires_never();
    ws_.set_option(websocket::stream_base::decorator(
        [authorization](websocket::request_type& request) { request.set("Authorization", authorization); }));
    return run_bounded(io_, [&](auto h) { ws_.async_handshake(response, "127.0.0.1", target, h); });
  }

  beast::error_code read(std::string& message, std::chrono::milliseconds limit = 10s) {
    buffer_.consume(buffer_.size());
    auto ec = run_bounded(io_, [&](auto h) { ws_.async_read(buffer_, h); }, limit);
    message = beast::buffers_to_string(buffer_.data());
    return ec;
  }

  websocket::stream<beast::ssl_stream<beast::tcp_stream>>& ws() { return ws_; }

 private:
  std::uint16_t port_;
  int receive_buffer_ = 0;
  net::io_context io_;
  net::ssl::context context_{net::ssl::context::tls_client};
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_{io_, context_};
  beast::flat_buffer buffer_;
};

inline std::string error_code_of(const std::string& body) {
  return nlohmann::json::parse(body).at("error").at("code").get<std::string>();
}

}  // namespace cadereau::testing::http
