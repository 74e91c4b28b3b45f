#pragma once
// Login throttling against password guessing. Failures are counted per user
// name and per client address: once one of them has `max_failures` failures
// within `window`, logins for it are refused for a back-off that starts at
// `first_backoff`; each further failure locks it again for twice as long, up
// to `max_backoff`. A key with no failure for a window after its back-off
// ends is forgotten, and counting starts over. With the defaults: 5 tries,
// then one try after 1, 2, 4, 8 and then every 15 minutes.
//
// A refused attempt is not checked and not counted (so waiting is enough to
// get back in). A success clears the user name's record but not the
// address's: otherwise one valid account would reset an address that guesses
// at the others.
//
// Memory is bounded: each of the two tables keeps at most `max_keys` keys,
// dropping the least recently failed one when full, so a flood of random
// names or addresses cannot grow it. Such a flood can push out a real
// record, but only by failing from many addresses, each throttled itself.
//
// Time is passed in (a monotonic clock), so tests need not sleep. The class
// is thread-safe.

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cadereau::server::service {

struct ThrottleLimits {
  int max_failures = 5;
  std::chrono::seconds window = std::chrono::minutes(15);
  std::chrono::seconds first_backoff = std::chrono::minutes(1);
  std::chrono::seconds max_backoff = std::chrono::minutes(15);
  std::size_t max_keys = 10'000;  // per table (user names, addresses)
};

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LoginThrottle(ThrottleLimits limits = {});

  // How long the caller must wait before a login for `user` from `address`
  // is checked: zero to go ahead, else whole seconds rounded up (the HTTP
  // layer's 429 Retry-After).
  std::chrono::seconds retry_after(std::string_view user, std::string_view address, Clock::time_point now);

  // A login that was checked and failed (unknown user or wrong password).
  void record_failure(std::string_view user, std::string_view address, Clock::time_point now);
  // A login that succeeded.
  void record_success(std::string_view user);

  // Keys held in the user-name and address tables together.
  std::size_t tracked_keys() const;

 private:
  struct Record {
    std::vector<Clock::time_point> failures;  // within the window, oldest first
    Clock::time_point locked_until{};
    int lockouts = 0;
    std::list<std::string>::iterator lru;  // position in Table::order
  };
  // Records by key, and their keys from least to most recently failed.
  struct Table {
    std::unordered_map<std::string, Record> records;
    std::list<std::string> order;
  };

  void fail(Table& table, std::string_view key, Clock::time_point now);
  std::chrono::seconds wait(const Table& table, std::string_view key, Clock::time_point now) const;
  void forget_stale(Table& table, Clock::time_point now);
  bool stale(const Record& r, Clock::time_point now) const;
  std::chrono::seconds backoff(int lockouts) const;

  ThrottleLimits limits_;
  mutable std::mutex mutex_;
  Table users_;
  Table addresses_;
};

}  // namespace cadereau::server::service
