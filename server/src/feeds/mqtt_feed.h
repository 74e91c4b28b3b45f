#pragma once
// The server's MQTT subscription (Eclipse Paho, only here): ChirpStack v4
// uplinks, `application/+/device/+/event/up`, at QoS 1 in a persistent
// session (clean_session false, a client id stable for a data folder), so
// that the broker keeps what is published while the server is away, and
// subscribed again on every connection (a broker that lost its state after
// a restart). Reconnects by itself, from 1 s to 30 s apart.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace cadereau::server::feeds {

class MqttFeed {
 public:
  using Handler = std::function<void(const std::string& topic, const std::string& payload)>;
  // `broker`: HOST:PORT. Throws Error (bad_input) for one that does not read.
  MqttFeed(const std::string& broker, std::string client_id, Handler handler);
  ~MqttFeed();
  MqttFeed(const MqttFeed&) = delete;
  MqttFeed& operator=(const MqttFeed&) = delete;

  // Starts connecting (returns at once; the first connection may come later).
  void start();
  void stop();
  bool connected() const { return connected_; }
  long connections() const { return connections_; }
  long messages() const { return messages_; }
  const std::string& uri() const { return uri_; }

 private:
  struct Client;
  std::string uri_;
  std::string client_id_;
  Handler handler_;
  std::unique_ptr<Client> client_;
  std::atomic<bool> connected_{false};
  std::atomic<long> connections_{0};
  std::atomic<long> messages_{0};
  std::thread connector_;  // the first connection
  std::mutex stop_mutex_;
  std::condition_variable stopped_;
  bool stopping_ = false;
};

// "tcp://HOST:PORT" for a broker given as HOST:PORT. Throws Error
// (bad_input, naming `option`) for one that does not read.
std::string mqtt_broker_uri(const std::string& broker, const std::string& option = "--mqtt");

// The uplink topic filter.
inline constexpr const char* kUplinkTopics = "application/+/device/+/event/up";

}  // namespace cadereau::server::feeds
