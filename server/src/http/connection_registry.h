#pragma once
// The server's open connections: counted for the connection limit, and closed
// all at once when the server stops. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace cadereau::server::http {

class Connection {
 public:
  virtual ~Connection() = default;
  // Closes the connection soon; callable from any thread.
  virtual void shutdown() = 0;
};

class ConnectionRegistry {
 public:
  // Registers a live connection; a connection added after shutdown_all() is
  // shut down at once. Returns the id to remove() it with.
  std::uint64_t add(const std::shared_ptr<Connection>& connection);
  void remove(std::uint64_t id);
  std::size_t size() const;
  // Shuts every connection down, now and from now on.
  void shutdown_all();

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections_;
  std::uint64_t next_id_ = 1;
  bool stopped_ = false;
};

}  // namespace cadereau::server::http
