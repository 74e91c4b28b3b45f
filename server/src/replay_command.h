#pragma once
// `cadereau replay`: reads a session recording (twin/recording.h) to verify
// it, export a depth frame or the event log, or re-drive the recorded flood
// run from a keyframe, as a replay or as a what-if fork with its own recording.

#include <iosfwd>
#include <string>
#include <vector>

namespace cadereau::server {

// The usage lines of the command, for the CLI's help text.
extern const char* const kReplayUsage;

// args: the words after "replay". Returns 0 ok, 1 when --verify finds the
// file inconsistent or --export-events exported a log whose hash chain is
// broken (said on err), 2 on a usage error (told on err). cadereau::Error (a
// missing, truncated or corrupt recording, a failing run) propagates.
int replay_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cadereau::server
