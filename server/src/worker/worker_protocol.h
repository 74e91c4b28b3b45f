#pragma once
// The conversation between `cadereau serve` and a session's engine worker
// (`cadereau worker`), one JSON object per line over a local stream socket
// the server hands the worker as a file descriptor.
//
// Server to worker:
//   {"type":"clock","state":"running"|"paused","speed":X}  run paced at X times the wall clock, or hold
//   {"type":"submit","ticket":N,"command":{...}}            a command (sim/engine/command.h JSON); answered
//                                                            by "ack" or "refused"
//   {"type":"submit","ticket":N,"command":{...},"at_s":T}   a command re-fed after a restart: submitted
//                                                            when the engine's time reaches T, no answer
//   {"type":"catch_up","to_s":T}                            run unpaced to T (after a restart)
//   {"type":"note","source":WHO,"payload":{...}}            an audit note for the recording
//   {"type":"checkpoint","ticket":N,"dir":DIR}              save the engine's state in DIR (a forecast
//                                                            starts from it) once the commands sent before
//                                                            are taken: after the next step, or now when
//                                                            the clock holds
//   {"type":"stop"}                                         close the recording and exit 0
// End of file on the socket (the server died) is a stop.
//
// Worker to server:
//   {"type":"ready","sim_time_s","duration_s","exchange_s","start","resumed_from_s"|null,"recording"}
//   {"type":"ack","ticket":N,"at_s":T}       taken while the engine stood at T: it applies at the
//                                             exchange step that starts at T
//   {"type":"refused","ticket":N,"code":CATEGORY,"message":TEXT}
//   {"type":"exchange","sim_time_s","records":[...],"kpis":{...},"gauges":[...],"frame":bool,
//    "lagging":bool,"achieved_speed":X}      after every exchange step
//   {"type":"ended","sim_time_s"}            the scenario's end is reached
//   {"type":"checkpoint","ticket":N,"dir","sim_time_s"}  the state is saved
//   {"type":"checkpoint_failed","ticket":N,"message"}
//   {"type":"failed","message"}              the worker stops on an error (its exit code says which)
// A record: {"id","t_s","kind","target","detail","x_m","y_m","people","causes":[ids],"by","command"?}.
//
// The engine is deterministic given its commands and the times they were
// taken, so a worker restarted from a keyframe at time K and re-fed every
// command acked at T >= K takes the course the dead one took.

#include <mutex>
#include <string>
#include <string_view>

namespace cadereau::server::worker {

// The worker's end of the socket: blocking, whole lines. Writes are
// serialised (the reader thread and the engine thread both answer).
class LineChannel {
 public:
  explicit LineChannel(int fd) : fd_(fd) {}
  // The next line without its newline; false at end of file or on an error.
  // Lines longer than max_bytes are an error.
  bool read_line(std::string& line, std::size_t max_bytes = 16u << 20);
  // Writes `line` and a newline; false when the other end is gone.
  bool write_line(std::string_view line);

 private:
  int fd_;
  std::string buffer_;
  std::mutex write_mutex_;
};

}  // namespace cadereau::server::worker
