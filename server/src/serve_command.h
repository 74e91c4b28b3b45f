#pragma once
// `cadereau serve --data DIR [--listen ADDR:PORT] (--tls-cert F --tls-key F
// | --plain-http)`: the crisis server (DESIGN.md, "The server").

#include "command_args.h"
#include "http/http_server.h"
#include "service/session_registry.h"
#include "service/users.h"

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

namespace cadereau::server {

// Runs until SIGTERM or SIGINT, then stops the workers (recordings closed),
// saves the clocks and returns 0. Prints "listening on URL" once it takes
// requests.
int serve_command(Args& args, std::ostream& out, std::ostream& err);

struct ServeSettings {
  std::filesystem::path data;
  http::HttpServerOptions options;
  std::optional<std::string> mqtt;  // HOST:PORT
};
// Settings for DATA listening on ADDR:PORT (TLS, no certificate yet). Throws
// UsageError for a bad ADDR:PORT.
ServeSettings serve_listen(const std::filesystem::path& data, const std::string& listen);

// What to do once the users and sessions are loaded, before the server
// listens (the demo's users and exercise).
using ServePrepare = std::function<void(service::UserStore& users, service::SessionRegistry& sessions)>;
// The server as `serve` runs it, with these settings.
int run_serve(const ServeSettings& settings, std::ostream& out, std::ostream& err, const ServePrepare& prepare = {});

}  // namespace cadereau::server
