#include "connection_registry.h"

#include <vector>

namespace cadereau::server::http {

std::uint64_t ConnectionRegistry::add(const std::shared_ptr<Connection>& connection) {
  bool stopped = false;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    connections_.emplace(id, connection);
    stopped = stopped_;
  }
  if (stopped) connection->shutdown();
  return id;
}

void ConnectionRegistry::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  connections_.erase(id);
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

void ConnectionRegistry::shutdown_all() {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (auto& [id, weak] : connections_) {
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
    }
  }
  // Outside the lock: a connection's shutdown may end it, and its destructor
  // removes it from here.
  for (auto& connection : live) connection->shutdown();
}

}  // namespace cadereau::server::http
