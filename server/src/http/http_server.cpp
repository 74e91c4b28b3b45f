#include "http_server.h"

#include "connection_registry.h"
#include "listener.h"
#include "server_context.h"
#include "tls_context.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace cadereau::server::http {

namespace net = boost::asio;

namespace {
// How long stop() lets the io threads finish closing connections before it
// abandons what is left (destroyed with the io_context).
constexpr auto kStopGrace = std::chrono::seconds(1);
}  // namespace

// Members are destroyed bottom-up: sessions left in the io_context or the
// handler pool refer to the context, the registry and the TLS context, which
// therefore come first.
struct HttpServer::Impl {
  Impl(HttpServerOptions options_in, Handler& handler_in)
      : options(std::move(options_in)),
        handler(handler_in),
        handler_pool(static_cast<std::size_t>(std::max(1, options.handler_threads))) {}

  HttpServerOptions options;
  Handler& handler;
  ConnectionRegistry registry;
  std::unique_ptr<net::ssl::context> tls;
  std::unique_ptr<ServerContext> context;
  net::io_context io{std::max(1, options.io_threads)};
  net::thread_pool handler_pool;
  std::shared_ptr<Listener> listener;
  std::vector<std::thread> threads;

  std::mutex mutex;
  std::condition_variable all_returned;
  int running = 0;
  bool started = false;
  bool stopped = false;
};

HttpServer::HttpServer(HttpServerOptions options, Handler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::start() {
  Impl& s = *impl_;
  if (s.started) fail_as(ErrorCategory::conflict, "http server", "already started");
  if (!s.options.plain_http) s.tls = make_tls_context(s.options.tls_certificate_file, s.options.tls_key_file);
  s.context = std::make_unique<ServerContext>(
      ServerContext{s.options, s.handler, s.handler_pool, s.tls.get(), s.registry});
  boost::system::error_code ec;
  const auto address = net::ip::make_address(s.options.address, ec);
  if (ec) fail(s.options.address, "not an IP address");
  s.listener = std::make_shared<Listener>(s.io, net::ip::tcp::endpoint(address, s.options.port), *s.context);
  s.listener->run();
  s.started = true;
  s.running = std::max(1, s.options.io_threads);
  for (int i = 0; i < s.running; ++i) {
    s.threads.emplace_back([&s] {
      s.io.run();
      std::lock_guard lock(s.mutex);
      --s.running;
      s.all_returned.notify_all();
    });
  }
  return s.listener->port();
}

void HttpServer::stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.listener->stop();
  // Closes WebSocket queues now, so no pusher posts into the io_context
  // from here on, and posts the closing of every socket.
  s.registry.shutdown_all();
  // A handler call under way finishes; queued ones are dropped.
  s.handler_pool.stop();
  s.handler_pool.join();
  {
    std::unique_lock lock(s.mutex);
    s.all_returned.wait_for(lock, kStopGrace, [&s] { return s.running == 0; });
  }
  s.io.stop();
  for (auto& thread : s.threads) thread.join();
  s.threads.clear();
}

}  // namespace cadereau::server::http
