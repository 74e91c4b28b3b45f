#pragma once
// Running SUMO's command-line tools (netconvert, duarouter) as child processes.

#include <filesystem>
#include <string>
#include <vector>

namespace cadereau::data::detail {

// Runs `program` (looked up on PATH) with `args` in `working_dir`, stdout and
// stderr going to `log_file`; running in the territory folder with relative
// file names keeps absolute paths out of the headers SUMO writes. SUMO_HOME is set in the child's environment when the parent has
// none, so the tools validate their XML against the installed schemas instead
// of fetching them from the web. Throws cadereau::Error naming `step` when the
// tool is missing or fails, with the last lines of its log.
void run_tool(const std::string& step, const std::string& program, const std::vector<std::string>& args,
              const std::filesystem::path& working_dir, const std::filesystem::path& log_file);

// Removes the schema reference (xsi:noNamespaceSchemaLocation) that SUMO's
// tools write on the root element of their output. Plain `sumo` validates a
// routes file that names a schema, and without SUMO_HOME it looks for the
// schema on the web: offline it fails ("invalid document structure"). Without
// the reference, `sumo -n NET -r ROUTES` reads the files with SUMO_HOME unset.
// Throws cadereau::Error naming the file when it cannot be read or written.
void drop_schema_reference(const std::filesystem::path& xml_file);

// The last `count` lines of a text file (empty when it cannot be read).
std::string last_lines(const std::filesystem::path& file, int count);

}  // namespace cadereau::data::detail
