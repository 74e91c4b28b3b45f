#include "session_client.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/raster.h"

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

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>

namespace cadereau::viewer::detail {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;

namespace {

constexpr auto kTimeout = std::chrono::seconds(30);
constexpr std::uint64_t kPage = 1000;

std::string message_of(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
      j["error"]["message"].is_string())
    return j["error"]["message"].get<std::string>();
  return body.substr(0, 200);
}

}  // namespace

std::string read_token_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) fail(file.string(), "cannot read the token file");
  std::string line;
  std::getline(in, line);
  line.erase(std::remove_if(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c); }), line.end());
  if (line.empty()) fail(file.string(), "the token file is empty: put the token of POST /api/v1/login in it");
  return line;
}

struct SessionClient::Impl {
  ServerSession server;
  std::string host, port;
  net::io_context io;
  ssl::context tls{ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;  // the HTTPS connection, kept alive

  std::string where() const { return server.url; }

  void set_up_tls() {
    tls.set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (server.ca_file) {
      tls.load_verify_file(server.ca_file->string(), ec);
      if (ec) fail(server.ca_file->string(), "cannot read it as PEM certificates: {}", ec.message());
    } else {
      tls.set_default_verify_paths(ec);
    }
  }

  template <class Stream>
  void handshake(Stream& s) {
    if (!SSL_set_tlsext_host_name(s.native_handle(), host.c_str()))
      fail(where(), "cannot name the server for TLS");
    s.set_verify_callback(ssl::host_name_verification(host));
    beast::get_lowest_layer(s).expires_after(kTimeout);
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    const auto addresses = resolver.resolve(host, port, ec);
    if (ec) fail_as(ErrorCategory::unavailable, where(), "cannot resolve {}: {}", host, ec.message());
    beast::get_lowest_layer(s).connect(addresses, ec);
    if (ec) fail_as(ErrorCategory::unavailable, where(), "cannot connect: {}", ec.message());
    s.handshake(ssl::stream_base::client, ec);
    if (ec)
      fail_as(ErrorCategory::unavailable, where(), "TLS refused: {}{}", ec.message(),
              server.ca_file ? "" : " (a self-signed server: give its certificate with --ca-file)");
  }

  // GET path; the body, or nothing for a 404 when `missing_ok`.
  std::optional<std::string> get(const std::string& path, bool missing_ok = false, std::string* frame_time = nullptr) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!stream) {
        stream.emplace(io, tls);
        handshake(*stream);
      }
      http::request<http::empty_body> request{http::verb::get, path, 11};
      request.set(http::field::host, host);
      request.set(http::field::authorization, "Bearer " + server.token);
      request.set(http::field::user_agent, "cadereau-viewer");
      beast::get_lowest_layer(*stream).expires_after(kTimeout);
      boost::system::error_code ec;
      http::write(*stream, request, ec);
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(512u << 20);
      if (!ec) http::read(*stream, buffer, parser, ec);
      if (ec) {
        stream.reset();  // a kept-alive connection the server closed: once more on a new one
        if (attempt == 0) continue;
        fail_as(ErrorCategory::unavailable, where(), "GET {}: {}", path, ec.message());
      }
      auto response = parser.release();
      if (!response.keep_alive()) stream.reset();
      const unsigned status = response.result_int();
      if (status == 404 && missing_ok) return std::nullopt;
      if (status != 200)
        fail_as(status == 401 ? ErrorCategory::unauthenticated : status == 403 ? ErrorCategory::forbidden
                : status == 404                                 ? ErrorCategory::not_found
                                                                : ErrorCategory::unavailable,
                where(), "GET {}: {} {}", path, status, message_of(response.body()));
      if (frame_time) *frame_time = std::string(response["X-Frame-Time-S"]);
      return std::move(response.body());
    }
    return std::nullopt;
  }

  json get_json(const std::string& path) {
    const json j = json::parse(*get(path), nullptr, false);
    if (j.is_discarded()) fail(where(), "GET {}: the server's answer is not JSON", path);
    return j;
  }

  std::string base() const { return "/api/v1/sessions/" + server.session; }

  void water(RecordedState& state) {
    std::string frame_time;
    const auto tif = get(base() + "/water.tif", true, &frame_time);
    if (!tif) return;  // no frame yet
    state.depth_m = twin::read_raster_bytes(*tif, where() + " water.tif");
    state.frame_time_s = frame_time.empty() ? state.at_s : std::strtod(frame_time.c_str(), nullptr);
  }
};

SessionClient::SessionClient(ServerSession server) : impl_(std::make_unique<Impl>()) {
  static const std::regex url(R"((https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::([0-9]{1,5}))?/?)");
  std::smatch m;
  if (!std::regex_match(server.url, m, url)) fail("--server", "'{}' is not https://HOST[:PORT]", server.url);
  if (m[1] == "http")
    fail("--server", "{}: the viewer talks to servers over TLS only (https://)", server.url);
  static const std::regex id(R"([A-Za-z0-9_-]{1,64})");
  if (!std::regex_match(server.session, id)) fail("--session", "'{}' is not a session id", server.session);
  impl_->host = m[2].str();
  if (!impl_->host.empty() && impl_->host.front() == '[') impl_->host = impl_->host.substr(1, impl_->host.size() - 2);
  impl_->port = m[3].matched ? m[3].str() : "443";
  impl_->server = std::move(server);
  impl_->set_up_tls();
}

SessionClient::~SessionClient() = default;

RecordedState SessionClient::state_now() {
  Impl& m = *impl_;
  const json described = m.get_json(m.base());
  RecordedState state;
  const json clock = described.value("clock", json::object());
  state.start_time_iso = clock.value("start", std::string());
  state.at_s = clock.value("sim_time_s", 0.0);
  state.end_s = state.at_s;
  const std::uint64_t last = described.value("last_seq", std::uint64_t{0});
  std::uint64_t after = 0;
  while (after < last) {
    const json page = m.get_json(m.base() + "/events?after=" + std::to_string(after) + "&limit=" + std::to_string(kPage));
    if (!page.is_array() || page.empty()) break;
    for (const json& e : page) {
      after = std::max(after, e.value("seq", after));
      if (e.contains("kind") && e["kind"].is_string() && e.contains("target") && e["target"].is_string()) {
        apply_record(state, e["kind"].get<std::string>(), e["target"].get<std::string>());
        ++state.records;
      }
    }
  }
  last_seq_ = after;
  m.water(state);
  return state;
}

void SessionClient::follow(RecordedState state, std::uint64_t after_seq,
                           const std::function<void(const RecordedState&)>& on_change,
                           const std::function<bool()>& keep_going, int every_ms) {
  Impl& m = *impl_;
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(m.io, m.tls);
  m.handshake(ws.next_layer());
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& r) {
    r.set(http::field::authorization, "Bearer " + m.server.token);
    r.set(http::field::user_agent, "cadereau-viewer");
  }));
  boost::system::error_code ec;
  ws.handshake(m.host, m.base() + "/stream?after=" + std::to_string(after_seq), ec);
  if (ec) fail_as(ErrorCategory::unavailable, m.where(), "cannot open the session's stream: {}", ec.message());

  bool changed = false, new_frame = false, ended = false;
  beast::flat_buffer buffer;
  std::function<void(boost::system::error_code, std::size_t)> on_read = [&](boost::system::error_code error, std::size_t) {
    if (error) {
      ended = true;
      return;
    }
    const json j = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
    buffer.consume(buffer.size());
    if (j.is_object()) {
      const std::string type = j.value("type", std::string());
      if (type == "clock" || type == "kpi") {
        const double t = j.value(type == "clock" ? "sim_time_s" : "t_s", state.at_s);
        if (t != state.at_s) changed = true;
        state.at_s = state.end_s = t;
      } else if (type == "frame" || type == "seek") {
        new_frame = changed = true;
      } else if (j.contains("kind") && j["kind"].is_string() && j.contains("target") && j["target"].is_string()) {
        apply_record(state, j["kind"].get<std::string>(), j["target"].get<std::string>());
        ++state.records;
        last_seq_ = std::max(last_seq_, j.value("seq", last_seq_));
        changed = true;
      }
    }
    ws.async_read(buffer, on_read);
  };
  ws.async_read(buffer, on_read);
  auto last_call = std::chrono::steady_clock::now() - std::chrono::milliseconds(every_ms);
  while (!ended && keep_going()) {
    m.io.restart();
    m.io.run_for(std::chrono::milliseconds(100));
    if (!changed || std::chrono::steady_clock::now() - last_call < std::chrono::milliseconds(every_ms)) continue;
    if (new_frame) {
      m.stream.reset();  // the HTTPS connection is made anew on the same io_context
      m.io.restart();
      try {
        m.water(state);
      } catch (const Error&) {
        // A frame being written: the next one will do.
      }
      new_frame = false;
    }
    on_change(state);
    changed = false;
    last_call = std::chrono::steady_clock::now();
  }
  ws.next_layer().next_layer().socket().close(ec);
}

}  // namespace cadereau::viewer::detail
