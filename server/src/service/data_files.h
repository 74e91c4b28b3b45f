#pragma once
// The server's own files in its data folder (users.json, tokens.json): kept
// private to the server's user, replaced atomically so that a crash leaves
// either the old or the new file, and refused with the file and line when
// they do not parse.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cadereau::server::service {

// Creates `dir` (mode 0700) if it does not exist. Throws Error (unavailable)
// when it cannot.
void ensure_private_dir(const std::filesystem::path& dir);

// Replaces `file` with `text`: written to a temporary file in the same
// folder with mode 0600, flushed to disk, renamed over `file`, and the folder
// flushed. Throws Error (unavailable) naming the file on failure; `file` is
// then unchanged.
void write_private_file(const std::filesystem::path& file, std::string_view text);

// The JSON object in `file`; an empty object when the file is missing or
// holds anything else (a state file being replaced, or never written).
nlohmann::json read_json_object(const std::filesystem::path& file);

// Jobs kept in numbered folders (PARENT/1, PARENT/2...: green-wave plans, 3D
// views): the next number, 1 when PARENT is empty or missing.
int next_numbered_dir(const std::filesystem::path& parent);

// Now, as UTC ISO 8601 to the second ("2026-12-02T06:10:00Z"), and as Unix
// seconds: a job's start and end.
std::string utc_now_iso();
double unix_now_s();

// A JSON document of the form {"version": 1, KEY: [OBJECT, ...]} and, for
// each object of the array, the line of the file where it starts, so that a
// bad entry can be named by its line.
struct JsonListFile {
  nlohmann::json document;
  std::vector<std::size_t> entry_lines;  // 1-based, one per element of document[key]
};

// Reads `file` as above. Returns nothing when the file does not exist.
// Throws Error (internal) "FILE:LINE: ..." when it is not JSON, not an
// object with `key` an array of objects, or of another version.
std::optional<JsonListFile> read_json_list_file(const std::filesystem::path& file, std::string_view key);

// The text of {"version": 1, KEY: [entries]} with one entry per line, the
// form read_json_list_file() locates.
std::string json_list_text(std::string_view key, const std::vector<nlohmann::json>& entries);

// Throws Error (internal) "FILE:LINE: what".
[[noreturn]] void fail_at_line(const std::filesystem::path& file, std::size_t line, std::string_view what);

}  // namespace cadereau::server::service
