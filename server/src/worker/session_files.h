#pragma once
// A session's folder in the server's data folder (DATA/sessions/ID/):
//   reached_s        how far its engine got (rewritten at every step)
//   session.json     what the session is (mode, scenario, territory) and where
//                    its clock stood; replaced atomically
//   events.jsonl     the session's events as its clients saw them, one JSON
//                    per line with its seq: the server's journal, appended
//   commands.jsonl   every command sent to the engine and its outcome, so a
//                    restarted worker can be re-fed
//   recording-NNN.h5 the engine's HDF5 recordings, one per worker run
//                    (001 first; a restarted worker starts the next one from
//                    the last keyframe, its parent named in its meta)

#include <filesystem>
#include <string>
#include <vector>

namespace cadereau::server::worker {

inline constexpr const char* kSessionFile = "session.json";
inline constexpr const char* kEventsFile = "events.jsonl";
inline constexpr const char* kCommandsFile = "commands.jsonl";

// The session's recordings, oldest first.
std::vector<std::filesystem::path> session_recordings(const std::filesystem::path& session_dir);
// The name of the next one.
std::filesystem::path next_recording(const std::filesystem::path& session_dir);

}  // namespace cadereau::server::worker
