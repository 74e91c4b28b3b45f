// The transport's pieces that need no socket: a WebSocket client's outgoing
// queue, the error responses and the query decoding.

#include "http/beast_messages.h"
#include "http/outgoing_queue.h"
#include "http/transport.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>
#include <vector>

using namespace cadereau;
using namespace cadereau::server::http;

namespace {

std::vector<std::string> drain(OutgoingQueue& queue) {
  std::vector<std::string> out;
  while (auto message = queue.pop()) out.push_back(*message);
  return out;
}

}  // namespace

TEST_CASE("Messages without key keep their order and never coalesce", "[unit][http]") {
  OutgoingQueue queue(8);
  CHECK(queue.push("e1"));
  CHECK(queue.push("e2"));
  CHECK(queue.push("e3"));
  CHECK(drain(queue) == std::vector<std::string>{"e1", "e2", "e3"});
  CHECK(queue.size() == 0);
}

TEST_CASE("A keyed message replaces the queued one with its key and moves to the back", "[unit][http]") {
  OutgoingQueue queue(8);
  queue.push("clock 1", "clock");
  queue.push("event a");
  queue.push("kpi 1", "kpi");
  queue.push("clock 2", "clock");
  queue.push("event b");
  queue.push("clock 3", "clock");
  CHECK(queue.size() == 4);
  CHECK(drain(queue) == std::vector<std::string>{"event a", "kpi 1", "event b", "clock 3"});
  // Once sent, a key no longer coalesces with anything.
  queue.push("clock 4", "clock");
  CHECK(drain(queue) == std::vector<std::string>{"clock 4"});
}

TEST_CASE("Coalescing keeps a fast stream of state within one slot", "[unit][http]") {
  OutgoingQueue queue(4);
  for (int i = 0; i < 10'000; ++i) REQUIRE(queue.push("clock " + std::to_string(i), "clock"));
  CHECK(queue.is_open());
  CHECK(drain(queue) == std::vector<std::string>{"clock 9999"});
}

TEST_CASE("An overflowing queue closes with how far behind the client was and frees its messages", "[unit][http]") {
  OutgoingQueue queue(3);
  int wakes = 0;
  queue.set_wake([&] { ++wakes; });
  CHECK(queue.push("e1"));
  CHECK(wakes == 1);  // empty to non-empty
  CHECK(queue.push("e2", "kpi"));
  CHECK(queue.push("e3"));
  CHECK(wakes == 1);
  CHECK_FALSE(queue.close_reason());
  CHECK_FALSE(queue.push("e4"));
  CHECK(wakes == 2);  // the session is told to close
  CHECK_FALSE(queue.is_open());
  CHECK(queue.size() == 0);
  CHECK(queue.close_reason() == std::optional<std::string>("too slow: 4 messages behind"));
  CHECK_FALSE(queue.push("e5"));
  CHECK_FALSE(queue.pop());
}

TEST_CASE("A wake set after pushes fires at once and a closed queue refuses pushes", "[unit][http]") {
  OutgoingQueue queue(3);
  queue.push("early");
  int wakes = 0;
  queue.set_wake([&] { ++wakes; });
  CHECK(wakes == 1);
  queue.close();
  CHECK_FALSE(queue.push("late"));
  CHECK(queue.size() == 0);
  CHECK_FALSE(queue.close_reason());
  CHECK(wakes == 1);
}

TEST_CASE("Pushing from several threads while one pops loses and duplicates nothing", "[unit][http]") {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  OutgoingQueue queue(kThreads * kPerThread);
  std::atomic<bool> done{false};
  std::vector<int> next(kThreads, 0);
  bool ordered = true;
  std::size_t popped = 0;
  std::thread consumer([&] {
    while (true) {
      const bool finished = done.load();
      while (auto message = queue.pop()) {
        const int producer = message->at(0) - '0';
        const int seq = std::stoi(message->substr(2));
        ordered = ordered && seq == next[producer];
        next[producer] = seq + 1;
        ++popped;
      }
      if (finished) break;
    }
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < kThreads; ++p) {
    producers.emplace_back([&queue, p] {
      for (int i = 0; i < kPerThread; ++i) queue.push(std::to_string(p) + ":" + std::to_string(i));
    });
  }
  for (auto& t : producers) t.join();
  done = true;
  consumer.join();
  CHECK(ordered);
  CHECK(popped == kThreads * kPerThread);
}

TEST_CASE("Each error category has one HTTP status and a JSON body", "[unit][http]") {
  CHECK(http_status(ErrorCategory::bad_input) == 400);
  CHECK(http_status(ErrorCategory::unauthenticated) == 401);
  CHECK(http_status(ErrorCategory::forbidden) == 403);
  CHECK(http_status(ErrorCategory::not_found) == 404);
  CHECK(http_status(ErrorCategory::conflict) == 409);
  CHECK(http_status(ErrorCategory::too_large) == 413);
  CHECK(http_status(ErrorCategory::rate_limited) == 429);
  CHECK(http_status(ErrorCategory::unavailable) == 503);
  CHECK(http_status(ErrorCategory::internal) == 500);

  const HttpResponse response = error_response(Error("sessions/x", "no such session", ErrorCategory::not_found));
  CHECK(response.status == 404);
  CHECK(response.content_type == "application/json");
  const auto body = nlohmann::json::parse(response.body);
  CHECK(body["error"]["code"] == "not_found");
  CHECK(body["error"]["message"].get<std::string>().find("no such session") != std::string::npos);
  // Bytes that are not UTF-8 (quoted from a malformed request) do not throw.
  CHECK(error_response(ErrorCategory::bad_input, "bad \xff byte").status == 400);
}

TEST_CASE("Queries are percent-decoded", "[unit][http]") {
  const auto query = decode_query("after=12&name=a%20b+c&flag&x=%zz&after=13");
  CHECK(query.at("after") == "13");
  CHECK(query.at("name") == "a b c");
  CHECK(query.at("flag").empty());
  CHECK(query.at("x") == "%zz");
}

TEST_CASE("Every answer carries the security headers", "[unit][http]") {
  const BeastResponse tls = to_beast_response(json_response(200, "{}"), 11, true, true);
  CHECK(tls["X-Content-Type-Options"] == "nosniff");
  CHECK(tls["Cache-Control"] == "no-store");
  CHECK(tls["Strict-Transport-Security"].starts_with("max-age="));
  HttpResponse cached = json_response(200, "{}");
  cached.headers.emplace_back("Cache-Control", "max-age=60");
  const BeastResponse plain = to_beast_response(cached, 11, true, false);
  CHECK(plain["Cache-Control"] == "max-age=60");
  CHECK(plain.count("Strict-Transport-Security") == 0);
}
