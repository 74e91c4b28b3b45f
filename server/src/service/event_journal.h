#pragma once
// A session's events as its clients see them (DATA/sessions/ID/events.jsonl):
// one JSON object per line, each with its "seq" (1, 2, ... without gaps) and
// its sim time "t_s". Appended and written through before append() returns,
// so an event whose seq a client was given survives a killed server. A line
// torn by a crash is dropped when the journal is opened again.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace cadereau::server::service {

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
  // The events with seq > after, at most `limit`, as JSON text.
  std::vector<std::string> after(std::uint64_t after_seq, std::size_t limit) const;
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
};

}  // namespace cadereau::server::service
