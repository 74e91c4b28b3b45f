#pragma once
// A session's events as its clients see them (DATA/sessions/ID/events.jsonl):
// one JSON object per line, each with its "seq" (1, 2, ... without gaps) and
// its sim time "t_s". Appended and written through before append() returns,
// so an event whose seq a client was given survives a killed server. A line
// torn by a crash is dropped when the journal is opened again.
//
// Some events are not for everyone: an inject delivered to the police cell
// ("to": ["police"]) is seen by the police players and the exercise staff
// only, and the staff's own notes ("staff_only": true) by the staff only.

#include "roles.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cadereau::server::service {

// Who reads: the staff (admin, director, observer, operator) see every
// event, a player those for everyone and those addressed to their cell.
struct Viewer {
  bool staff = true;
  std::optional<Cell> cell;
};
Viewer viewer_of(const Principal& who);

class EventJournal {
 public:
  // Opens (creating it) and reads back what it holds. Throws Error
  // (unavailable) when the file cannot be opened, (internal) naming the line
  // when a complete line is not an event.
  explicit EventJournal(std::filesystem::path file);
  ~EventJournal();
  EventJournal(const EventJournal&) = delete;
  EventJournal& operator=(const EventJournal&) = delete;

  // Gives `event` the next seq, writes it and returns the seq. Thread-safe.
  std::uint64_t append(nlohmann::json event);
  // The same for several events in one write, so that a killed server
  // leaves all of them or none (an engine's exchange step). Returns the
  // last seq.
  std::uint64_t append_all(std::vector<nlohmann::json> events);
  std::uint64_t last_seq() const;
  // The events with seq > after_seq and <= up_to_seq that `viewer` may see,
  // at most `limit`, as JSON text; `next_seq` (when given) is set past the
  // last event looked at.
  std::vector<std::string> after(std::uint64_t after_seq, std::size_t limit, const Viewer& viewer = {},
                                 std::uint64_t up_to_seq = UINT64_MAX, std::uint64_t* next_seq = nullptr) const;
  // The seq of the last event with t_s <= t_s (0 when none).
  std::uint64_t last_seq_until(double t_s) const;
  // Sim time of the last event (0 when none).
  double last_t_s() const;

 private:
  std::filesystem::path file_;
  int fd_ = -1;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::vector<double> t_s_;
  std::vector<std::uint8_t> audience_;  // 0: everyone; cell bits; kStaffOnly
};

}  // namespace cadereau::server::service
