#pragma once
// What every session of one server shares. Owned by HttpServer, which
// outlives its sessions (it joins its threads before destroying this).

#include "connection_registry.h"
#include "http_server.h"
#include "transport.h"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

namespace cadereau::server::http {

struct ServerContext {
  const HttpServerOptions& options;
  Handler& handler;
  boost::asio::thread_pool& handler_pool;
  boost::asio::ssl::context* tls;  // null when serving plain HTTP
  ConnectionRegistry& registry;
};

}  // namespace cadereau::server::http
