#include "throttle.h"

#include <algorithm>

namespace cadereau::server::service {

namespace {

// Login names longer than any valid one are still throttled, under their
// first bytes, so a key never costs more than this.
constexpr std::size_t kMaxKeyBytes = 128;

std::string key_of(std::string_view text) { return std::string(text.substr(0, kMaxKeyBytes)); }

}  // namespace

LoginThrottle::LoginThrottle(ThrottleLimits limits) : limits_(limits) {
  limits_.max_failures = std::max(limits_.max_failures, 1);
  limits_.max_keys = std::max<std::size_t>(limits_.max_keys, 1);
}

std::chrono::seconds LoginThrottle::retry_after(std::string_view user, std::string_view address,
                                                Clock::time_point now) {
  std::lock_guard lock(mutex_);
  return std::max(wait(users_, user, now), wait(addresses_, address, now));
}

void LoginThrottle::record_failure(std::string_view user, std::string_view address, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  fail(users_, user, now);
  fail(addresses_, address, now);
}

void LoginThrottle::record_success(std::string_view user) {
  std::lock_guard lock(mutex_);
  const auto it = users_.records.find(key_of(user));
  if (it == users_.records.end()) return;
  users_.order.erase(it->second.lru);
  users_.records.erase(it);
}

std::size_t LoginThrottle::tracked_keys() const {
  std::lock_guard lock(mutex_);
  return users_.records.size() + addresses_.records.size();
}

std::chrono::seconds LoginThrottle::wait(const Table& table, std::string_view key, Clock::time_point now) const {
  const auto it = table.records.find(key_of(key));
  if (it == table.records.end() || it->second.locked_until <= now) return std::chrono::seconds(0);
  return std::chrono::ceil<std::chrono::seconds>(it->second.locked_until - now);
}

void LoginThrottle::fail(Table& table, std::string_view key_text, Clock::time_point now) {
  forget_stale(table, now);
  const std::string key = key_of(key_text);
  auto it = table.records.find(key);
  if (it == table.records.end()) {
    if (table.records.size() >= limits_.max_keys) {
      table.records.erase(table.order.front());
      table.order.pop_front();
    }
    it = table.records.emplace(key, Record{}).first;
    it->second.lru = table.order.insert(table.order.end(), key);
  } else {
    table.order.splice(table.order.end(), table.order, it->second.lru);
  }
  Record& r = it->second;
  if (stale(r, now)) r = Record{{}, {}, 0, r.lru};
  std::erase_if(r.failures, [&](Clock::time_point t) { return t <= now - limits_.window; });
  r.failures.push_back(now);
  if (r.failures.size() > static_cast<std::size_t>(limits_.max_failures)) r.failures.erase(r.failures.begin());
  // Once locked, every failure until the key is forgotten locks it again,
  // for twice as long: the back-offs soon outlast the window, so counting
  // failures inside it would never reach the longest back-off.
  if (r.lockouts > 0 || r.failures.size() == static_cast<std::size_t>(limits_.max_failures)) {
    ++r.lockouts;
    r.locked_until = now + backoff(r.lockouts);
  }
}

bool LoginThrottle::stale(const Record& r, Clock::time_point now) const {
  return r.locked_until + limits_.window <= now && (r.failures.empty() || r.failures.back() + limits_.window <= now);
}

void LoginThrottle::forget_stale(Table& table, Clock::time_point now) {
  // The least recently failed keys come first: stop at the first live one.
  while (!table.order.empty()) {
    const auto it = table.records.find(table.order.front());
    if (!stale(it->second, now)) break;
    table.records.erase(it);
    table.order.pop_front();
  }
}

std::chrono::seconds LoginThrottle::backoff(int lockouts) const {
  std::chrono::seconds b = limits_.first_backoff;
  for (int i = 1; i < lockouts && b < limits_.max_backoff; ++i) b *= 2;
  return std::min(b, limits_.max_backoff);
}

}  // namespace cadereau::server::service
