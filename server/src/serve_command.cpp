#include "serve_command.h"

#include "api/api_handler.h"
#include "feeds/mqtt_feed.h"
#include "http/http_server.h"
#include "service/audit_log.h"
#include "service/crypto.h"
#include "service/feed_hub.h"
#include "service/data_files.h"
#include "service/session_registry.h"
#include "service/throttle.h"
#include "service/tokens.h"
#include "service/users.h"
#include "worker/supervisor.h"

#include "cadereau/scenarios/procedures.h"
#include "cadereau/twin/error.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <ostream>
#include <thread>

namespace cadereau::server {
namespace {

std::pair<std::string, std::uint16_t> parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw UsageError{"--listen " + text + ": expected ADDR:PORT (127.0.0.1:8443)"};
  const auto port = parse_integer("listen", text.substr(colon + 1), 0, 65535);
  std::string address = text.substr(0, colon);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
  return {address, static_cast<std::uint16_t>(port)};
}

}  // namespace

ServeSettings serve_listen(const std::filesystem::path& data, const std::string& listen) {
  const auto [address, port] = parse_listen(listen);
  ServeSettings settings;
  settings.data = data;
  settings.options.address = address;
  settings.options.port = port;
  return settings;
}

int serve_command(Args& args, std::ostream& out, std::ostream& err) {
  const auto data = args.take("data");
  if (!data) throw UsageError{"serve needs --data DIR (users, sessions, audit log)"};
  ServeSettings settings = serve_listen(*data, args.take("listen").value_or("127.0.0.1:8443"));
  auto& options = settings.options;
  options.plain_http = args.take_flag("plain-http");
  const auto cert = args.take("tls-cert");
  const auto key = args.take("tls-key");
  if (options.plain_http && (cert || key)) throw UsageError{"--plain-http and --tls-cert/--tls-key exclude each other"};
  if (!options.plain_http && (!cert || !key))
    throw UsageError{"serve needs --tls-cert FILE and --tls-key FILE (or --plain-http, only on a trusted network)"};
  if (cert) options.tls_certificate_file = *cert;
  if (key) options.tls_key_file = *key;
  settings.mqtt = args.take("mqtt");
  args.finish();
  return run_serve(settings, out, err);
}

int run_serve(const ServeSettings& settings, std::ostream& out, std::ostream& err, const ServePrepare& prepare) {
  const auto& options = settings.options;
  const auto& mqtt = settings.mqtt;
  const auto& address = options.address;
  // SIGTERM and SIGINT are taken by sigwait() below: blocked in every thread
  // made from here on (the workers unblock them after fork).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const std::filesystem::path dir = settings.data;
  service::ensure_private_dir(dir);
  service::UserStore users(dir);
  service::TokenStore tokens(dir, std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  service::LoginThrottle throttle;
  service::AuditLog audit(dir);
  if (users.list().empty())
    err << "cadereau serve: no users yet in " << dir.string() << ": add one with `cadereau user add NAME --role admin --data "
        << dir.string() << "`\n";
  worker::Supervisor supervisor(worker::current_executable());
  // The site's own procedures (DATA/procedures/*.yaml) are checked now: a
  // broken one stops the start, not a session later.
  if (std::filesystem::is_directory(dir / "procedures")) {
    const auto site = scenarios::read_procedures(dir / "procedures");
    spdlog::info("{} procedures of the site in {}", site.size(), (dir / "procedures").string());
  }
  service::SessionRegistry sessions(dir, supervisor);
  sessions.demo_territory();
  sessions.load();
  if (prepare) prepare(users, sessions);
  supervisor.every(std::chrono::milliseconds(200), [&sessions] { sessions.tick(); });
  service::FeedHub feeds(sessions);
  std::unique_ptr<feeds::MqttFeed> subscription;
  if (mqtt) {
    // One client id per data folder: the broker keeps its persistent session across restarts.
    const std::string client_id = "cadereau-" + service::sha256_hex(std::filesystem::absolute(dir).string()).substr(0, 12);
    subscription = std::make_unique<feeds::MqttFeed>(
        *mqtt, client_id, [&feeds](const std::string& topic, const std::string& payload) { feeds.uplink(topic, payload); });
    feeds.set_broker_status([s = subscription.get()] {
      return nlohmann::json{{"configured", true}, {"uri", s->uri()}, {"connected", s->connected()},
                            {"connections", s->connections()}, {"messages", s->messages()}};
    });
    subscription->start();
  }
  web::MapCache maps;
  service::GreenwaveJobs greenwave(supervisor);
  std::string no_viewer;
  auto viewer = service::ViewSnapshots::find_viewer_command(&no_viewer);
  if (viewer.empty()) spdlog::warn("no 3D views: {}", no_viewer);
  service::ViewSnapshots views(supervisor, std::move(viewer), no_viewer);
  api::ApiHandler handler({users, tokens, throttle, audit, sessions, !options.plain_http, &feeds, &maps, &greenwave, &views});
  http::HttpServer server(options, handler);
  const auto bound = server.start();
  const std::string url = fmt::format("{}://{}:{}", options.plain_http ? "http" : "https",
                                      address.find(':') != std::string::npos ? "[" + address + "]" : address, bound);
  spdlog::info("serving {} sessions from {} on {}", sessions.list().size(), dir.string(), url);
  out << "listening on " << url << std::endl;

  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("{}: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
  server.stop();
  if (subscription) subscription->stop();
  sessions.close_all();
  greenwave.stop();
  views.stop();
  sessions.wait_for_workers(std::chrono::seconds(20));
  supervisor.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace cadereau::server
