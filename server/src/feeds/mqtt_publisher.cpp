#include "mqtt_publisher.h"

#include "mqtt_feed.h"

#include "cadereau/twin/error.h"

#include <mqtt/async_client.h>

#include <thread>

namespace cadereau::server::feeds {

struct MqttPublisher::Client {
  mqtt::async_client client;
  std::deque<mqtt::delivery_token_ptr> in_flight;  // the oldest first
  Client(const std::string& uri, const std::string& id) : client(uri, id, nullptr) {}
};

MqttPublisher::MqttPublisher(const std::string& broker, const std::string& client_id,
                             std::chrono::seconds connect_within)
    : uri_(mqtt_broker_uri(broker)) {
  try {
    client_ = std::make_unique<Client>(uri_, client_id);
  } catch (const mqtt::exception& e) {
    fail("--mqtt", "cannot make an MQTT client for {}: {}", uri_, e.what());
  }
  mqtt::connect_options options;
  options.set_clean_session(true);
  options.set_keep_alive_interval(std::chrono::seconds(20));
  options.set_connect_timeout(std::chrono::seconds(2));
  options.set_max_inflight(static_cast<int>(kMaxInFlight));
  const auto deadline = std::chrono::steady_clock::now() + connect_within;
  std::string problem = "no answer";
  while (true) {
    try {
      if (client_->client.connect(options)->wait_for(std::chrono::seconds(3))) return;
    } catch (const mqtt::exception& e) {
      problem = e.what();
    }
    if (std::chrono::steady_clock::now() + std::chrono::seconds(1) >= deadline) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  fail_as(ErrorCategory::unavailable, "--mqtt", "the broker at {} does not answer after {} s ({})", uri_,
          connect_within.count(), problem);
}

MqttPublisher::~MqttPublisher() {
  if (!client_) return;
  try {
    if (client_->client.is_connected()) client_->client.disconnect()->wait_for(std::chrono::seconds(5));
  } catch (const mqtt::exception&) {
  }
}

void MqttPublisher::wait_oldest(std::chrono::milliseconds within) {
  auto token = client_->in_flight.front();
  bool done = false;
  try {
    done = token->wait_for(within);
  } catch (const mqtt::exception& e) {
    fail_as(ErrorCategory::unavailable, uri_, "a message was not delivered: {}", e.what());
  }
  if (!done) fail_as(ErrorCategory::unavailable, uri_, "the broker has not acknowledged a message in {} ms", within.count());
  client_->in_flight.pop_front();
  ++acknowledged_;
}

void MqttPublisher::publish(const std::string& topic, const std::string& payload) {
  while (client_->in_flight.size() >= kMaxInFlight) wait_oldest(std::chrono::seconds(10));
  // Tokens already acknowledged are counted as they come, so the queue stays short.
  while (!client_->in_flight.empty() && client_->in_flight.front()->is_complete()) wait_oldest(std::chrono::seconds(1));
  try {
    client_->in_flight.push_back(client_->client.publish(topic, payload.data(), payload.size(), 1, false));
  } catch (const mqtt::exception& e) {
    fail_as(ErrorCategory::unavailable, uri_, "cannot publish on {}: {}", topic, e.what());
  }
}

void MqttPublisher::flush(std::chrono::seconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!client_->in_flight.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      fail_as(ErrorCategory::unavailable, uri_, "{} messages not acknowledged after {} s", client_->in_flight.size(),
              within.count());
    wait_oldest(left);
  }
}

}  // namespace cadereau::server::feeds
