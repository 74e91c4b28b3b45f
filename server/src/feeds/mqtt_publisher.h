#pragma once
// A publishing MQTT client (Eclipse Paho, only in its .cpp): QoS 1, a clean
// session, messages acknowledged by the broker before they count as sent.
// Not thread-safe: one thread publishes.

#include <chrono>
#include <deque>
#include <memory>
#include <string>

namespace cadereau::server::feeds {

class MqttPublisher {
 public:
  // Connects to `broker` (HOST:PORT), trying again every second until
  // `connect_within` has passed. Throws Error: bad_input for a broker that
  // does not read as HOST:PORT, unavailable for one that does not answer.
  MqttPublisher(const std::string& broker, const std::string& client_id, std::chrono::seconds connect_within);
  ~MqttPublisher();  // disconnects; never throws
  MqttPublisher(const MqttPublisher&) = delete;
  MqttPublisher& operator=(const MqttPublisher&) = delete;

  // Publishes at QoS 1 without waiting for the broker's acknowledgement,
  // unless `kMaxInFlight` messages are waiting for theirs: then waits for
  // the oldest. Throws Error (unavailable) when the connection is lost or
  // an acknowledgement does not come within 10 s.
  void publish(const std::string& topic, const std::string& payload);
  // Waits for every acknowledgement (at most `within`). Throws Error
  // (unavailable) naming how many are missing.
  void flush(std::chrono::seconds within);
  long acknowledged() const { return acknowledged_; }

  static constexpr std::size_t kMaxInFlight = 1000;

 private:
  struct Client;
  void wait_oldest(std::chrono::milliseconds within);
  std::string uri_;
  std::unique_ptr<Client> client_;
  long acknowledged_ = 0;
};

}  // namespace cadereau::server::feeds
