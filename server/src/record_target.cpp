#include "record_target.h"

#include "cadereau/twin/error.h"
#include "cadereau/twin/recording.h"

#include <fmt/format.h>

#include <ctime>

namespace cadereau::server {

namespace {

std::string utc(double unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace

void check_record_target(const std::filesystem::path& file, bool overwrite) {
  const std::string where = "--record " + file.string();
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) fail(where, "is a folder; give a file name (NAME.h5)");
  if (!std::filesystem::exists(file, ec) || overwrite) return;
  std::string holds;
  try {
    const twin::RecordingReader existing(file);
    const auto& meta = existing.meta();
    holds = fmt::format("already holds a recording ({}{}, {} events)", meta.scenario.empty() ? "unnamed" : meta.scenario,
                        meta.created_wall_s > 0.0 ? ", made " + utc(meta.created_wall_s) : std::string(),
                        existing.event_count());
  } catch (const Error&) {
    holds = "exists and is not a Cadereau recording";
  }
  fail_as(ErrorCategory::conflict, where, "{}: give --overwrite to replace it, or another file name", holds);
}

}  // namespace cadereau::server
