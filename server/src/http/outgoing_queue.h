#pragma once
// One WebSocket client's outgoing messages: a bounded queue where state
// updates coalesce. Producers (the engine's side, any thread) push; the
// client's session pops on its strand. No sockets here.
//
// Coalescing: a message pushed with a key removes the queued message with the
// same key, if any, and joins the back of the queue. So the client never
// receives an older state after a newer one, nor a state before the events
// that were pushed ahead of it. Messages without key are never removed.
//
// Overflow: a push that would make the queue hold more than `capacity`
// messages closes it instead: its messages are freed at once, the push and
// every later one return false, and close_reason() says how far behind the
// client was, for the session to send as the WebSocket close reason.

#include "transport.h"

#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cadereau::server::http {

class OutgoingQueue final : public StreamSink {
 public:
  explicit OutgoingQueue(std::size_t capacity);

  bool push(std::string message, std::string_view coalesce_key) override;
  using StreamSink::push;
  bool is_open() const override;
  std::size_t queued() const override { return size(); }
  std::size_t capacity() const override { return capacity_; }
  // Closes with `reason` and wakes the session, which sends it as the
  // WebSocket close reason.
  void drop(std::string reason) override;

  // Called (under the queue's lock, so it must only post, never call back
  // into the queue) when a push makes an empty queue non-empty and when the
  // queue overflows. Until it is set, messages wait in the queue.
  void set_wake(std::function<void()> wake);

  // The oldest queued message, or nothing.
  std::optional<std::string> pop();
  // Set once the queue overflowed ("too slow: N messages behind") or was
  // closed by the server with a reason.
  std::optional<std::string> close_reason() const;
  // The stream is gone (the client left, the server stops): frees the
  // messages, drops the wake and refuses further pushes.
  void close(std::string reason = {});

  std::size_t size() const;

 private:
  struct Entry {
    std::string key;
    std::string message;
  };

  void close_locked(std::string reason);

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;
  std::unordered_map<std::string, std::list<Entry>::iterator> by_key_;
  std::function<void()> wake_;
  bool open_ = true;
  std::optional<std::string> close_reason_;
};

}  // namespace cadereau::server::http
