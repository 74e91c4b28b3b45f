#pragma once
// A ChirpStack v4 uplink as published on MQTT
// (application/{applicationId}/device/{devEui}/event/up): the fields a
// sensor's reading needs, read from its JSON (protobuf JSON mapping,
// camelCase). The decoded `object` holds the reading: water_level_m (a level
// gauge, above its datum), rain_mm (a rain gauge, since its previous
// uplink), vehicles and interval_s (a traffic counter).

#include <optional>
#include <string>
#include <string_view>

namespace cadereau::server::feeds {

struct Uplink {
  std::string deduplication_id;  // ChirpStack's: one per uplink, whatever the gateways
  std::string dev_eui;           // 16 hex digits, upper case
  double time_epoch_s = 0.0;     // when it was received by the network (the measurement's time)
  std::optional<double> water_level_m;
  std::optional<double> rain_mm;
  std::optional<double> vehicles;
  std::optional<double> interval_s;
  std::string digest;  // SHA-256 of the payload as received (hex)
};

// Reads an uplink. Throws Error (bad_input) saying what is wrong: not JSON,
// no deduplicationId, no devEui (or one that is not 16 hex digits, or that
// differs from the topic's), no time or one that is not RFC 3339, no decoded
// object, no reading in it, a reading that is not a finite number.
Uplink parse_uplink(std::string_view topic, std::string_view payload);

// The payload ChirpStack v4 publishes for `u` (its digest is not used) from
// application `application_id`: what parse_uplink reads back, with the
// usual fields of a real uplink around it (fCnt, fPort, raw data).
std::string uplink_payload(const Uplink& u, const std::string& application_id, long frame_counter);

// "2026-12-01T04:40:00.123Z" for seconds since the epoch (UTC, milliseconds).
std::string rfc3339_utc(double epoch_s);

// "2026-12-01T04:40:00.123Z" or with an offset ("+01:00") to seconds since
// the epoch; nothing when it does not read.
std::optional<double> rfc3339_epoch_s(std::string_view text);

}  // namespace cadereau::server::feeds
