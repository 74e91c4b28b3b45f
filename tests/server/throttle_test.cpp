// Login throttling: counts, back-off, the two keys, and bounded memory, on
// a clock the test moves.

#include "service/throttle.h"

#include <catch2/catch.hpp>

#include <string>

using namespace cadereau::server::service;
using namespace std::chrono_literals;

namespace {

using Time = LoginThrottle::Clock::time_point;
const Time t0 = Time{} + 1000h;

}  // namespace

TEST_CASE("Five failures in a window lock a user out for a back-off that doubles to 15 min", "[unit][auth]") {
  LoginThrottle throttle;
  Time t = t0;
  for (int i = 0; i < 4; ++i) {
    throttle.record_failure("bob", "10.0.0.1", t);
    t += 10s;
    CHECK(throttle.retry_after("bob", "10.0.0.1", t) == 0s);
  }
  throttle.record_failure("bob", "10.0.0.1", t);
  CHECK(throttle.retry_after("bob", "10.0.0.1", t) == 60s);
  CHECK(throttle.retry_after("bob", "10.0.0.2", t + 59s) == 1s);  // the user, from anywhere
  CHECK(throttle.retry_after("bob", "10.0.0.1", t + 60s) == 0s);
  // Each further failure doubles the wait, up to 15 min, though the waits
  // soon outlast the 15-min window.
  for (const auto expected : {120s, 240s, 480s, 900s, 900s}) {
    t += std::chrono::seconds(throttle.retry_after("bob", "10.0.0.1", t));
    REQUIRE(throttle.retry_after("bob", "10.0.0.1", t) == 0s);
    throttle.record_failure("bob", "10.0.0.1", t);
    CHECK(throttle.retry_after("bob", "10.0.0.1", t) == expected);
  }
  // Quiet for a window after the last back-off: forgotten, and a single
  // failure no longer locks.
  t += 900s + 15min;
  throttle.record_failure("bob", "10.0.0.1", t);
  CHECK(throttle.retry_after("bob", "10.0.0.1", t) == 0s);
  for (int i = 0; i < 4; ++i) throttle.record_failure("bob", "10.0.0.1", t);
  CHECK(throttle.retry_after("bob", "10.0.0.1", t) == 60s);
}

TEST_CASE("A key is forgotten only after a quiet window past its back-off", "[unit][auth]") {
  LoginThrottle throttle;
  for (int i = 0; i < 5; ++i) throttle.record_failure("bob", "10.0.0.1", t0);
  // 14 min after the 1-min back-off ended, a failure still doubles it.
  throttle.record_failure("bob", "10.0.0.1", t0 + 15min);
  CHECK(throttle.retry_after("bob", "10.0.0.1", t0 + 15min) == 120s);
  // 15 min after the 2-min back-off ended: forgotten.
  throttle.record_failure("bob", "10.0.0.1", t0 + 17min + 15min);
  CHECK(throttle.retry_after("bob", "10.0.0.1", t0 + 17min + 15min) == 0s);
}

TEST_CASE("Failures spread wider than the window never lock", "[unit][auth]") {
  LoginThrottle throttle;
  for (int i = 0; i < 10; ++i) {
    const Time t = t0 + i * 4min;  // five failures span 16 min
    throttle.record_failure("bob", "10.0.0.1", t);
    CHECK(throttle.retry_after("bob", "10.0.0.1", t) == 0s);
  }
}

TEST_CASE("An address that tries many names is locked, and so is a name tried from many addresses",
          "[unit][auth]") {
  LoginThrottle throttle;
  for (int i = 0; i < 5; ++i) throttle.record_failure("user" + std::to_string(i), "192.0.2.7", t0);
  CHECK(throttle.retry_after("someone-else", "192.0.2.7", t0) == 60s);
  CHECK(throttle.retry_after("someone-else", "192.0.2.8", t0) == 0s);
  CHECK(throttle.retry_after("user1", "192.0.2.8", t0) == 0s);

  for (int i = 0; i < 5; ++i) throttle.record_failure("carol", "198.51.100." + std::to_string(i), t0);
  CHECK(throttle.retry_after("carol", "203.0.113.1", t0) == 60s);
}

TEST_CASE("A success clears the user's record but not the address's", "[unit][auth]") {
  LoginThrottle throttle;
  for (int i = 0; i < 4; ++i) throttle.record_failure("dave", "10.0.0.9", t0);
  throttle.record_success("dave");
  throttle.record_failure("dave", "10.0.0.8", t0);
  CHECK(throttle.retry_after("dave", "10.0.0.8", t0) == 0s);  // the user's count started over
  throttle.record_failure("erin", "10.0.0.9", t0);             // the address's fifth
  CHECK(throttle.retry_after("frank", "10.0.0.9", t0) == 60s);
}

TEST_CASE("Retry-After is rounded up to whole seconds", "[unit][auth]") {
  LoginThrottle throttle;
  for (int i = 0; i < 5; ++i) throttle.record_failure("gina", "10.0.0.1", t0);
  CHECK(throttle.retry_after("gina", "10.0.0.1", t0 + 500ms) == 60s);
  CHECK(throttle.retry_after("gina", "10.0.0.1", t0 + 59500ms) == 1s);
}

TEST_CASE("A flood of random names cannot grow the throttle without limit", "[unit][auth]") {
  ThrottleLimits limits;
  limits.max_keys = 1000;
  LoginThrottle throttle(limits);
  // Random names from one address: the names are bounded, the address stays
  // locked (it is always the most recent key, never the one evicted).
  for (int i = 0; i < 20'000; ++i) throttle.record_failure("random-" + std::to_string(i), "10.66.0.1", t0 + i * 1ms);
  CHECK(throttle.tracked_keys() <= limits.max_keys + 1);
  CHECK(throttle.retry_after("anyone", "10.66.0.1", t0 + 20s) == 900s);
  // Random names from random addresses: both tables are bounded.
  for (int i = 0; i < 20'000; ++i)
    throttle.record_failure("name-" + std::to_string(i), "addr-" + std::to_string(i), t0 + 20s + i * 1ms);
  CHECK(throttle.tracked_keys() <= 2 * limits.max_keys);

  // Keys longer than any name cost no more than a bounded key.
  LoginThrottle other;
  const std::string huge(1 << 20, 'a');
  for (int i = 0; i < 5; ++i) other.record_failure(huge, "10.0.0.1", t0);
  CHECK(other.retry_after(huge, "10.0.0.2", t0) == 60s);
  CHECK(other.tracked_keys() == 2);
}
