#include "event_journal.h"

#include "cadereau/twin/error.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace cadereau::server::service {
namespace {

constexpr std::uint8_t kStaffOnly = 0x80;

std::uint8_t cell_bit(Cell cell) { return static_cast<std::uint8_t>(1u << static_cast<unsigned>(cell)); }

std::uint8_t audience_of(const nlohmann::json& event) {
  if (event.value("staff_only", false)) return kStaffOnly;
  const auto to = event.find("to");
  if (to == event.end() || !to->is_array()) return 0;
  std::uint8_t mask = kStaffOnly;
  for (const auto& c : *to) {
    if (!c.is_string()) continue;
    if (c == "all") return 0;
    try {
      mask |= cell_bit(parse_cell(c.get<std::string>()));
    } catch (const Error&) {
    }
  }
  return mask;
}

bool sees(const Viewer& viewer, std::uint8_t audience) {
  if (viewer.staff || audience == 0) return true;
  return viewer.cell && (audience & cell_bit(*viewer.cell)) != 0;
}

}  // namespace

Viewer viewer_of(const Principal& who) {
  if (who.role != Role::player) return {true, std::nullopt};
  return {false, who.cell};
}

EventJournal::EventJournal(std::filesystem::path file) : file_(std::move(file)) {
  std::ifstream in(file_, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t start = 0, line_number = 0, kept_bytes = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos) break;  // torn by a crash: dropped below
    ++line_number;
    std::string line = text.substr(start, end - start);
    const auto event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_object() || event.value("seq", std::uint64_t{0}) != lines_.size() + 1)
      fail_as(ErrorCategory::internal, fmt::format("{}:{}", file_.string(), line_number),
              "not event {} of the journal", lines_.size() + 1);
    t_s_.push_back(event.value("t_s", 0.0));
    audience_.push_back(audience_of(event));
    lines_.push_back(std::move(line));
    start = end + 1;
    kept_bytes = start;
  }
  fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0 || ::ftruncate(fd_, static_cast<off_t>(kept_bytes)) != 0 ||
      ::lseek(fd_, 0, SEEK_END) < 0)
    fail_as(ErrorCategory::unavailable, file_.string(), "cannot open for writing: {}", std::strerror(errno));
}

EventJournal::~EventJournal() {
  if (fd_ >= 0) ::close(fd_);
}

std::uint64_t EventJournal::append(nlohmann::json event) {
  std::vector<nlohmann::json> one;
  one.push_back(std::move(event));
  return append_all(std::move(one));
}

std::uint64_t EventJournal::append_all(std::vector<nlohmann::json> events) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> lines;
  std::string text;
  for (auto& event : events) {
    event["seq"] = lines_.size() + lines.size() + 1;
    lines.push_back(event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    text += lines.back();
    text += '\n';
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_as(ErrorCategory::unavailable, file_.string(), "cannot append: {}", std::strerror(errno));
    written += static_cast<std::size_t>(n);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    t_s_.push_back(events[i].value("t_s", 0.0));
    audience_.push_back(audience_of(events[i]));
    lines_.push_back(std::move(lines[i]));
  }
  return lines_.size();
}

std::uint64_t EventJournal::last_seq() const {
  std::lock_guard lock(mutex_);
  return lines_.size();
}

std::vector<std::string> EventJournal::after(std::uint64_t after_seq, std::size_t limit, const Viewer& viewer,
                                            std::uint64_t up_to_seq, std::uint64_t* next_seq) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  const std::uint64_t end = std::min<std::uint64_t>(lines_.size(), up_to_seq);
  std::uint64_t i = after_seq;
  for (; i < end && out.size() < limit; ++i)
    if (sees(viewer, audience_[i])) out.push_back(lines_[i]);
  if (next_seq) *next_seq = i + 1;
  return out;
}

std::uint64_t EventJournal::last_seq_until(double t_s) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::uint64_t>(std::upper_bound(t_s_.begin(), t_s_.end(), t_s) - t_s_.begin());
}

double EventJournal::last_t_s() const {
  std::lock_guard lock(mutex_);
  return t_s_.empty() ? 0.0 : t_s_.back();
}

}  // namespace cadereau::server::service
