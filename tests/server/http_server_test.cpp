// The HTTP/WebSocket transport against real Beast clients on 127.0.0.1:
// answers, refusals, time limits, TLS versions, streams and stopping.

#include "http_test_support.h"

#include <catch2/catch.hpp>
#include <openssl/ssl.h>

#include <thread>

using namespace cadereau;
using namespace cadereau::testing::http;
using Clock = std::chrono::steady_clock;

TEST_CASE("GET and POST reach the handler over TLS on one keep-alive connection", "[integration][http]") {
  TestServer server;
  Client client(server);
  REQUIRE_FALSE(client.connect());

  auto get = client.request(beast_http::verb::get, "/api/v1/echo?after=12&name=a%20b");
  CHECK(get.result_int() == 200);
  auto body = nlohmann::json::parse(get.body());
  CHECK(body["method"] == "GET");
  CHECK(body["query"]["after"] == "12");
  CHECK(body["query"]["name"] == "a b");
  CHECK(body["client"] == "127.0.0.1");
  CHECK(get["X-Content-Type-Options"] == "nosniff");
  CHECK(get["Cache-Control"] == "no-store");
  CHECK(get["Strict-Transport-Security"].starts_with("max-age="));
  CHECK(get.keep_alive());

  auto post = client.request(beast_http::verb::post, "/api/v1/echo", R"({"verb":"close"})");
  CHECK(post.result_int() == 200);
  body = nlohmann::json::parse(post.body());
  CHECK(body["method"] == "POST");
  CHECK(body["body"] == R"({"verb":"close"})");
  CHECK(body["content_type"] == "application/json");
}

TEST_CASE("An unknown path gets the handler's 404 JSON error", "[integration][http]") {
  TestServer server;
  Client client(server);
  REQUIRE_FALSE(client.connect());
  auto response = client.request(beast_http::verb::get, "/api/v1/nothing");
  CHECK(response.result_int() == 404);
  CHECK(response[beast_http::field::content_type] == "application/json");
  CHECK(error_code_of(response.body()) == "not_found");
}

TEST_CASE("A body over the limit is refused with 413", "[integration][http]") {
  TestServer server;
  Client client(server);
  REQUIRE_FALSE(client.connect());
  beast_http::request<beast_http::string_body> request{beast_http::verb::post, "/api/v1/echo", 11};
  request.set(beast_http::field::host, "127.0.0.1");
  request.body() = std::string(2 << 20, 'x');
  request.prepare_payload();
  client.write(request);  // the server may answer before all of it is sent
  beast_http::response<beast_http::string_body> response;
  REQUIRE_FALSE(client.read(response));
  CHECK(response.result_int() == 413);
  CHECK(error_code_of(response.body()) == "too_large");
}

TEST_CASE("Headers over the limit are refused with 431", "[integration][http]") {
  TestServer server;
  Client client(server);
  REQUIRE_FALSE(client.connect());
  client.write_raw("GET /api/v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(20 << 10, 'a') +
                   "\r\n\r\n");
  beast_http::response<beast_http::string_body> response;
  REQUIRE_FALSE(client.read(response));
  CHECK(response.result_int() == 431);
  CHECK(error_code_of(response.body()) == "too_large");
}

TEST_CASE("A client trickling its request is cut off after the request timeout", "[integration][http]") {
  TestServer server(true, [](auto& options) { options.request_timeout = 1s; });
  Client client(server);
  REQUIRE_FALSE(client.connect());
  REQUIRE_FALSE(client.write_raw("GET /api/v1/echo HTTP/1.1\r\n"));
  const auto start = Clock::now();
  // One header byte every 200 ms, for at most 8 s: a connection cut makes a
  // read end, or a write fail.
  std::optional<beast::error_code> read_end;
  char byte = 0;
  client.stream().async_read_some(net::buffer(&byte, 1), [&](beast::error_code ec, std::size_t) { read_end = ec; });
  bool cut = false;
  for (int i = 0; i < 40 && !cut; ++i) {
    client.io().restart();
    client.io().run_for(200ms);
    if (read_end) {
      cut = true;
      break;
    }
    bool write_failed = false;
    net::async_write(client.stream(), net::buffer("X", 1),
                     [&](beast::error_code ec, std::size_t) { write_failed = static_cast<bool>(ec); });
    client.io().restart();
    client.io().run_for(50ms);
    cut = write_failed;
  }
  const auto elapsed = Clock::now() - start;
  CHECK(cut);
  CHECK(elapsed < 3s);
  CHECK(elapsed > 800ms);
}

TEST_CASE("TLS 1.1 is refused, TLS 1.2 accepted", "[integration][http]") {
  TestServer server;
  // A client that would speak any version, so only the server can refuse.
  auto permissive = [](Client& client, int max_version) {
    SSL_CTX* ctx = client.tls_context().native_handle();
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_version);
  };
  Client old_client(server);
  permissive(old_client, TLS1_1_VERSION);
  CHECK(old_client.connect());

  Client new_client(server);
  permissive(new_client, TLS1_2_VERSION);
  REQUIRE_FALSE(new_client.connect());
  CHECK(new_client.request(beast_http::verb::get, "/api/v1/echo").result_int() == 200);
}

TEST_CASE("Plain HTTP mode answers without TLS", "[integration][http]") {
  TestServer server(false);
  Client client(server, false);
  REQUIRE_FALSE(client.connect());
  auto response = client.request(beast_http::verb::get, "/api/v1/echo");
  CHECK(response.result_int() == 200);
  CHECK(response.count("Strict-Transport-Security") == 0);
}

TEST_CASE("Garbage is answered 400 and the server answers the next client", "[integration][http]") {
  TestServer server;
  {
    Client client(server);
    REQUIRE_FALSE(client.connect());
    client.write_raw(std::string("\x01\x02\x03 not http at all\r\n\r\n", 24));
    beast_http::response<beast_http::string_body> response;
    REQUIRE_FALSE(client.read(response));
    CHECK(response.result_int() == 400);
    CHECK(error_code_of(response.body()) == "bad_input");
  }
  Client next(server);
  REQUIRE_FALSE(next.connect());
  CHECK(next.request(beast_http::verb::get, "/api/v1/echo").result_int() == 200);
}

TEST_CASE("Connections past the limit get 503", "[integration][http]") {
  TestServer server(true, [](auto& options) { options.max_connections = 2; });
  Client a(server), b(server), c(server);
  REQUIRE_FALSE(a.connect());
  REQUIRE_FALSE(b.connect());
  REQUIRE_FALSE(c.connect());
  beast_http::response<beast_http::string_body> response;
  REQUIRE_FALSE(c.read(response));
  CHECK(response.result_int() == 503);
  CHECK(error_code_of(response.body()) == "unavailable");
  CHECK(a.request(beast_http::verb::get, "/api/v1/echo").result_int() == 200);
}

TEST_CASE("A WebSocket upgrade goes through the handler and receives pushes in order", "[integration][http]") {
  TestServer server;
  WsClient refused(server);
  websocket::response_type refusal;
  CHECK(refused.open("/api/v1/sessions/s1/stream", "Bearer bad", refusal));
  CHECK(refusal.result_int() == 401);
  CHECK(error_code_of(refusal.body()) == "unauthenticated");

  WsClient client(server);
  websocket::response_type accepted;
  REQUIRE_FALSE(client.open("/api/v1/sessions/s1/stream?after=3", "Bearer good", accepted));
  auto sink = server.handler.sink(0);
  REQUIRE(sink);
  for (int i = 0; i < 100; ++i) REQUIRE(sink->push(nlohmann::json{{"type", "event"}, {"seq", i}}.dump()));
  for (int i = 0; i < 100; ++i) {
    std::string message;
    REQUIRE_FALSE(client.read(message));
    CHECK(nlohmann::json::parse(message)["seq"] == i);
  }
  client.ws().next_layer().next_layer().close();
  // The server sees the client leave and the sink says so.
  for (int i = 0; i < 50 && sink->is_open(); ++i) std::this_thread::sleep_for(20ms);
  CHECK_FALSE(sink->is_open());
}

TEST_CASE("A WebSocket client that does not read is dropped, a fast one keeps up and pushing never waits",
          "[integration][http]") {
  TestServer server(true, [](auto& options) {
    options.websocket_queue_messages = 64;
    options.websocket_close_timeout = 5s;
  });
  WsClient slow(server);
  slow.set_receive_buffer(64 << 10);
  websocket::response_type response;
  REQUIRE_FALSE(slow.open("/api/v1/sessions/s1/stream", "Bearer good", response));
  WsClient fast(server);
  REQUIRE_FALSE(fast.open("/api/v1/sessions/s1/stream", "Bearer good", response));
  auto slow_sink = server.handler.sink(0);
  auto fast_sink = server.handler.sink(1);
  REQUIRE(slow_sink);
  REQUIRE(fast_sink);

  constexpr int kMessages = 600;
  const std::string padding(32 << 10, 'p');
  int fast_received = 0;
  bool fast_in_order = true;
  std::thread reader([&] {
    for (int i = 0; i < kMessages; ++i) {
      std::string message;
      if (fast.read(message)) return;
      fast_in_order = fast_in_order && nlohmann::json::parse(message)["seq"] == i;
      ++fast_received;
    }
  });
  Clock::duration longest_push{};
  int slow_accepted = 0;
  bool fast_all_accepted = true;
  for (int i = 0; i < kMessages; ++i) {
    const std::string message = nlohmann::json{{"type", "event"}, {"seq", i}, {"pad", padding}}.dump();
    const auto before = Clock::now();
    slow_accepted += slow_sink->push(message) ? 1 : 0;
    fast_all_accepted = fast_sink->push(message) && fast_all_accepted;
    longest_push = std::max(longest_push, Clock::now() - before);
    std::this_thread::sleep_for(1ms);
  }
  reader.join();
  CHECK(fast_all_accepted);
  CHECK(fast_received == kMessages);
  CHECK(fast_in_order);
  CHECK(slow_accepted < kMessages);
  CHECK_FALSE(slow_sink->is_open());
  const double longest_push_ms = std::chrono::duration<double, std::milli>(longest_push).count();
  INFO("longest pair of pushes: " << longest_push_ms << " ms");
  CHECK(longest_push < 50ms);
  WARN("longest pair of pushes: " << longest_push_ms << " ms");

  // Reading now, the slow client finds what got through, then the close.
  beast::error_code ec;
  int slow_read = 0;
  for (int i = 0; i < kMessages && !ec; ++i) {
    std::string message;
    ec = slow.read(message, 5s);
    if (!ec) ++slow_read;
  }
  CHECK(ec == websocket::error::closed);
  const auto& reason = slow.ws().reason().reason;
  CHECK(std::string(reason.data(), reason.size()).starts_with("too slow: "));
  CHECK(slow_read < slow_accepted + 1);
}

TEST_CASE("stop() returns promptly with clients connected", "[integration][http]") {
  TestServer server;
  Client idle(server);
  REQUIRE_FALSE(idle.connect());
  Client halfway(server);
  REQUIRE_FALSE(halfway.connect());
  halfway.write_raw("GET /api/v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  WsClient stream(server);
  websocket::response_type response;
  REQUIRE_FALSE(stream.open("/api/v1/sessions/s1/stream", "Bearer good", response));
  auto sink = server.handler.sink(0);
  REQUIRE(sink);

  const auto start = Clock::now();
  server.server->stop();
  CHECK(Clock::now() - start < 2s);
  CHECK_FALSE(sink->push("{}"));
  beast_http::response<beast_http::string_body> answer;
  CHECK(idle.read(answer));  // closed, not answered
  std::string message;
  CHECK(stream.read(message, 3s));
}
