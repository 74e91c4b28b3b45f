#include "mqtt_feed.h"

#include "cadereau/twin/error.h"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <regex>

namespace cadereau::server::feeds {

struct MqttFeed::Client {
  mqtt::async_client client;
  Client(const std::string& uri, const std::string& id) : client(uri, id, nullptr) {}
};

std::string mqtt_broker_uri(const std::string& broker, const std::string& option) {
  static const std::regex host_port(R"(([A-Za-z0-9.\-]{1,253}|\[[0-9A-Fa-f:]+\]):([0-9]{1,5}))");
  std::smatch m;
  if (!std::regex_match(broker, m, host_port) || std::stoi(m[2].str()) == 0 || std::stoi(m[2].str()) > 65535)
    fail(option, "'{}' is not HOST:PORT (127.0.0.1:1883)", broker);
  return "tcp://" + broker;
}

MqttFeed::MqttFeed(const std::string& broker, std::string client_id, Handler handler)
    : client_id_(std::move(client_id)), handler_(std::move(handler)) {
  uri_ = mqtt_broker_uri(broker);
  try {
    client_ = std::make_unique<Client>(uri_, client_id_);
  } catch (const mqtt::exception& e) {
    fail("--mqtt", "cannot make an MQTT client for {}: {}", uri_, e.what());
  }
  auto& c = client_->client;
  c.set_connected_handler([this](const std::string&) {
    connected_ = true;
    ++connections_;
    spdlog::info("mqtt: connected to {}, subscribing to {} (QoS 1)", uri_, kUplinkTopics);
    try {
      client_->client.subscribe(kUplinkTopics, 1);
    } catch (const mqtt::exception& e) {
      spdlog::error("mqtt: cannot subscribe: {}", e.what());
    }
  });
  c.set_connection_lost_handler([this](const std::string& cause) {
    connected_ = false;
    spdlog::warn("mqtt: connection to {} lost{}; reconnecting", uri_, cause.empty() ? "" : ": " + cause);
  });
  c.set_message_callback([this](mqtt::const_message_ptr message) {
    ++messages_;
    // A handler never throws out here: Paho would drop the connection.
    try {
      handler_(message->get_topic(), message->get_payload_str());
    } catch (const std::exception& e) {
      spdlog::error("mqtt: a message on {} could not be handled: {}", message->get_topic(), e.what());
    }
  });
}

MqttFeed::~MqttFeed() { stop(); }

void MqttFeed::start() {
  // Paho reconnects by itself once connected; the first connection is
  // tried here until the broker answers (it may start after the server).
  connector_ = std::thread([this] {
    mqtt::connect_options options;
    options.set_clean_session(false);
    options.set_keep_alive_interval(std::chrono::seconds(20));
    options.set_automatic_reconnect(1, 30);
    options.set_connect_timeout(std::chrono::seconds(5));
    bool warned = false;
    std::unique_lock lock(stop_mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        if (client_->client.connect(options)->wait_for(std::chrono::seconds(6))) return;
      } catch (const mqtt::exception& e) {
        if (!warned) spdlog::warn("mqtt: cannot connect to {} yet ({}); trying again every 2 s", uri_, e.what());
        warned = true;
      }
      lock.lock();
      stopped_.wait_for(lock, std::chrono::seconds(2), [this] { return stopping_; });
    }
  });
}

void MqttFeed::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stopped_.notify_all();
  if (connector_.joinable()) connector_.join();
  if (!client_) return;
  try {
    if (client_->client.is_connected()) client_->client.disconnect()->wait_for(std::chrono::seconds(5));
  } catch (const mqtt::exception&) {
  }
  connected_ = false;
}

}  // namespace cadereau::server::feeds
