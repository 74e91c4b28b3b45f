#include "outgoing_queue.h"

#include <fmt/format.h>

namespace cadereau::server::http {

OutgoingQueue::OutgoingQueue(std::size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

bool OutgoingQueue::push(std::string message, std::string_view coalesce_key) {
  std::lock_guard lock(mutex_);
  if (!open_) return false;
  const bool was_empty = entries_.empty();
  if (!coalesce_key.empty()) {
    auto found = by_key_.find(std::string(coalesce_key));
    if (found != by_key_.end()) {
      entries_.erase(found->second);
      by_key_.erase(found);
    }
  }
  if (entries_.size() >= capacity_) {
    close_locked(fmt::format("too slow: {} messages behind", entries_.size() + 1));
    if (wake_) wake_();
    return false;
  }
  entries_.push_back(Entry{std::string(coalesce_key), std::move(message)});
  if (!coalesce_key.empty()) by_key_.emplace(entries_.back().key, std::prev(entries_.end()));
  if (was_empty && wake_) wake_();
  return true;
}

bool OutgoingQueue::is_open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

void OutgoingQueue::set_wake(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  if (!open_ && !close_reason_) return;
  wake_ = std::move(wake);
  if (wake_ && (!entries_.empty() || close_reason_)) wake_();
}

std::optional<std::string> OutgoingQueue::pop() {
  std::lock_guard lock(mutex_);
  if (entries_.empty()) return std::nullopt;
  Entry front = std::move(entries_.front());
  entries_.pop_front();
  if (!front.key.empty()) by_key_.erase(front.key);
  return std::move(front.message);
}

std::optional<std::string> OutgoingQueue::close_reason() const {
  std::lock_guard lock(mutex_);
  return close_reason_;
}

std::size_t OutgoingQueue::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void OutgoingQueue::close(std::string reason) {
  std::lock_guard lock(mutex_);
  close_locked(std::move(reason));
  wake_ = nullptr;
}

void OutgoingQueue::drop(std::string reason) {
  std::lock_guard lock(mutex_);
  if (!open_) return;
  close_locked(std::move(reason));
  if (wake_) wake_();
}

void OutgoingQueue::close_locked(std::string reason) {
  open_ = false;
  if (!close_reason_ && !reason.empty()) close_reason_ = std::move(reason);
  // Swapping with empty containers gives the memory back now, not when the
  // session ends.
  std::list<Entry>().swap(entries_);
  std::unordered_map<std::string, std::list<Entry>::iterator>().swap(by_key_);
}

}  // namespace cadereau::server::http
